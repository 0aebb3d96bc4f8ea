/* Semantic checks of the register map: BARs, block instantiation,
 * registers, fields and memory areas; overlaps are found by sorting. */
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "suggest.h"
#include "vdevc.h"

/* ------------------------------------------------------------ blocks */

struct binding {
    struct vdevc_vec *params; /* struct vdevc_param */
    uint64_t *values;
};

static void subst_stmt(struct vdevc_stmt *s, const struct binding *b);

static void
subst_expr(struct vdevc_expr *e, const struct binding *b)
{
    if (!e)
        return;
    if (e->kind == E_NAME) {
        for (unsigned i = 0; i < b->params->n; i++) {
            struct vdevc_param *p = b->params->v[i];
            if (strcmp(p->name, e->name) == 0) {
                e->kind = E_NUM;
                e->num = b->values[i];
                return;
            }
        }
        return;
    }
    if (e->kind != E_MEMBER)
        subst_expr(e->lhs, b);
    else if (e->lhs->kind != E_NAME)
        subst_expr(e->lhs, b);
    subst_expr(e->rhs, b);
    for (unsigned i = 0; i < e->args.n; i++)
        subst_expr(e->args.v[i], b);
}

static void
subst_stmt(struct vdevc_stmt *s, const struct binding *b)
{
    if (!s)
        return;
    subst_expr(s->lhs, b);
    subst_expr(s->rhs, b);
    subst_expr(s->third, b);
    subst_stmt(s->then_s, b);
    subst_stmt(s->else_s, b);
    for (unsigned i = 0; i < s->body.n; i++)
        subst_stmt(s->body.v[i], b);
}

static void
subst_attrs(struct vdevc_vec *attrs, const struct binding *b)
{
    for (unsigned i = 0; i < attrs->n; i++)
        subst_expr(((struct vdevc_attr *)attrs->v[i])->expr, b);
}

static void
subst_node(struct vdevc_node *n, const struct binding *b)
{
    switch (n->kind) {
    case N_REG: {
        struct vdevc_reg *r = (void *)n;
        subst_expr(r->count, b);
        subst_expr(r->offset, b);
        subst_attrs(&r->attrs, b);
        for (unsigned i = 0; i < r->items.n; i++)
            subst_node(r->items.v[i], b);
        break;
    }
    case N_FIELD: {
        struct vdevc_field *f = (void *)n;
        subst_expr(f->hi, b);
        if (f->lo != f->hi)
            subst_expr(f->lo, b);
        subst_attrs(&f->attrs, b);
        for (unsigned i = 0; i < f->hooks.n; i++)
            subst_node(f->hooks.v[i], b);
        break;
    }
    case N_HOOK:
        subst_stmt(((struct vdevc_hook *)n)->body, b);
        break;
    case N_MEMORY:
        subst_expr(((struct vdevc_memory *)n)->offset, b);
        subst_attrs(&((struct vdevc_memory *)n)->attrs, b);
        break;
    case N_USE: {
        struct vdevc_use *use = (void *)n;
        subst_expr(use->offset, b);
        for (unsigned i = 0; i < use->args.n; i++)
            subst_expr(use->args.v[i], b);
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------------ fields */

static void
check_field_hooks(struct vdevc_unit *u, struct vdevc_vec *hooks,
                  struct vdevc_hook **on_read, struct vdevc_hook **on_write)
{
    for (unsigned i = 0; i < hooks->n; i++) {
        struct vdevc_hook *h = hooks->v[i];
        if (!h)
            continue;
        struct vdevc_hook **slot = strcmp(h->when, "read") == 0    ? on_read
                                   : strcmp(h->when, "write") == 0 ? on_write
                                                                   : NULL;
        if (!slot) {
            static const char *const whens[] = {"read", "write", NULL};
            vdevc_error_unknown(u->diag, h->hdr.loc, "bad-hook",
                                vdevc_suggest_list(h->when, whens),
                                "unknown hook 'on %s' (read or write)",
                                h->when);
        } else {
            vdevc_hook_place(u, h, slot);
        }
    }
}

static bool
check_field(struct vdevc_unit *u, struct vdevc_reg *r, struct vdevc_field *f)
{
    f->reg = r;
    char *q = vdevc_join(f, r->qname, ".", f->name);
    vdevc_sym_define(u, q, SYM_FIELD, f, f->hdr.loc, "field");
    uint64_t hi = 0, lo = 0;
    bool ok =
        vdevc_const_eval(u, f->hi, &hi) && vdevc_const_eval(u, f->lo, &lo);
    if (ok && hi < lo) {
        vdevc_error(u->diag, f->hi->loc, "bad-bit-range",
                    "bit range [%llu:%llu] is reversed: write [high:low]",
                    (unsigned long long)hi, (unsigned long long)lo);
        ok = false;
    }
    if (ok && hi >= r->width) {
        vdevc_error(u->diag, f->hi->loc, "field-outside-register",
                    "field '%s' bit %llu is outside %u-bit register '%s'",
                    f->name, (unsigned long long)hi, r->width, r->qname);
        vdevc_note(u->diag, r->hdr.loc, "'%s' declared here", r->qname);
        ok = false;
    }
    if (!ok)
        hi = lo = 0;
    f->hi_v = (unsigned)hi;
    f->lo_v = (unsigned)lo;
    unsigned w = f->hi_v - f->lo_v + 1;
    f->access = vdevc_attr_access(u, &f->attrs);
    if (f->access == ACC_NONE)
        f->access = r->access != ACC_NONE ? r->access : ACC_RW;
    f->doc = vdevc_attr_doc(f, &f->attrs);
    f->nomigrate = vdevc_attr_flag(&f->attrs, "nomigrate");
    f->external = vdevc_attr_flag(&f->attrs, "external");
    u->dev->nr_external += f->external;
    f->sticky = vdevc_attr_flag(&f->attrs, "sticky") || r->sticky;
    vdevc_attr_width(u, &f->attrs, &f->etype);
    f->reset = (r->reset >> f->lo_v) & vdevc_mask(w);
    vdevc_check_reset(u, &f->attrs, w, f->etype, &f->reset, "field");
    vdevc_attr_check(u, &f->attrs, "a field");
    check_field_hooks(u, &f->hooks, &f->on_read, &f->on_write);
    return ok;
}

static int
cmp_field(const void *a, const void *b)
{
    const struct vdevc_field *x = *(void *const *)a, *y = *(void *const *)b;
    return x->lo_v < y->lo_v ? -1 : x->lo_v > y->lo_v;
}

static void
compute_masks(struct vdevc_reg *r)
{
    r->all = vdevc_mask(r->width);
    r->reset = 0;
    for (unsigned i = 0; i < r->fields.n; i++) {
        struct vdevc_field *f = r->fields.v[i];
        uint64_t m = vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
        r->reset |= f->reset << f->lo_v;
        switch (f->access) {
        case ACC_RW:
            r->rw |= m;
            r->rmask |= m;
            r->hw |= m;
            break;
        case ACC_RO:
            r->rmask |= m;
            r->hw |= m;
            break;
        case ACC_WO:
            r->rw |= m;
            r->hw |= m;
            break;
        case ACC_W1C:
            r->w1c |= m;
            r->rmask |= m;
            r->hw |= m;
            break;
        case ACC_W1S:
            r->w1s |= m;
            r->rmask |= m;
            r->hw |= m;
            break;
        case ACC_RC:
            r->rc |= m;
            r->rmask |= m;
            r->hw |= m;
            break;
        case ACC_RS:
            r->rs |= m;
            r->rmask |= m;
            r->hw |= m;
            break;
        case ACC_CONST:
            r->rmask |= m;
            break;
        default:
            break;
        }
    }
}

static void
check_fields(struct vdevc_unit *u, struct vdevc_reg *r)
{
    for (unsigned i = 0; i < r->items.n; i++) {
        struct vdevc_node *n = r->items.v[i];
        if (n && n->kind == N_FIELD && check_field(u, r, (void *)n))
            vdevc_vec_push(r, &r->fields, n);
    }
    if (r->fields.n == 0) {
        /* A plain register is one field covering all its bits (from the
         * slab: a large device has one per register). */
        struct vdevc_field *f =
            vdevc_slab_zero(u->dev->slab, sizeof(struct vdevc_field));
        f->hdr.kind = N_FIELD;
        f->hdr.loc = r->hdr.loc;
        f->name = r->name;
        f->reg = r;
        f->hi_v = r->width - 1;
        f->access = r->access != ACC_NONE ? r->access : ACC_RW;
        f->reset = r->reset;
        f->implicit = true;
        vdevc_vec_push(r, &r->fields, f);
    }
    vdevc_vec_sort(&r->fields, cmp_field);
    for (unsigned i = 1; i < r->fields.n; i++) {
        struct vdevc_field *a = r->fields.v[i - 1], *b = r->fields.v[i];
        if (b->lo_v <= a->hi_v) {
            vdevc_error(u->diag, b->hdr.loc, "field-overlap",
                        "field '%s' [%u:%u] overlaps field '%s' [%u:%u]",
                        b->name, b->hi_v, b->lo_v, a->name, a->hi_v, a->lo_v);
            vdevc_note(u->diag, a->hdr.loc, "'%s' declared here", a->name);
        }
    }
    compute_masks(r);
}

/* ------------------------------------------------------------ registers */

struct expand {
    struct vdevc_unit *u;
    struct vdevc_bar *bar;
    unsigned depth; /* block instances inside block instances */
};

static void
check_reg_attrs(struct vdevc_unit *u, struct vdevc_reg *r)
{
    struct vdevc_enum *etype;
    unsigned w = vdevc_attr_width(u, &r->attrs, &etype);
    if (etype)
        vdevc_error(u->diag, r->hdr.loc, "type-mismatch",
                    "give the enum type to a field, not a register");
    if (w == 0)
        w = 32;
    if (w != 8 && w != 16 && w != 32 && w != 64) {
        vdevc_error(u->diag, r->hdr.loc, "bad-width",
                    "register width must be 8, 16, 32 or 64, not %u", w);
        w = 32;
    }
    r->width = w;
    r->access = vdevc_attr_access(u, &r->attrs);
    r->doc = vdevc_attr_doc(r, &r->attrs);
    r->since = vdevc_attr_since(u, &r->attrs);
    r->nomigrate = vdevc_attr_flag(&r->attrs, "nomigrate");
    r->external = vdevc_attr_flag(&r->attrs, "external");
    u->dev->nr_external += r->external;
    r->sticky = vdevc_attr_flag(&r->attrs, "sticky");
    struct vdevc_attr *a = vdevc_attr_find(&r->attrs, A_EXPR, "when");
    r->when = a ? a->expr : NULL;
    a = vdevc_attr_find(&r->attrs, A_EXPR, "select");
    r->select = a ? a->expr : NULL;
    if (r->select && !r->count)
        vdevc_error(u->diag, a->loc, "bad-array",
                    "'select' picks an element of an array register: "
                    "NAME[count]");
    vdevc_check_reset(u, &r->attrs, w, NULL, &r->reset, "register");
    r->stride = w / 8;
    uint64_t stride;
    if (vdevc_attr_value(u, &r->attrs, "stride", &stride)) {
        if (!r->count)
            vdevc_error(u->diag, r->hdr.loc, "bad-array",
                        "'stride' needs an array register: NAME[count]");
        else if (r->select)
            vdevc_error(u->diag, r->hdr.loc, "bad-array",
                        "an index/data array ('select') has all its "
                        "elements at one offset: no stride");
        else if (stride < w / 8 || stride > (1u << 20))
            vdevc_error(u->diag, r->hdr.loc, "bad-array",
                        "stride %llu is smaller than the register (%u "
                        "bytes) or too large",
                        (unsigned long long)stride, w / 8);
        else
            r->stride = stride;
    }
    if (r->select)
        r->stride = 0;
    vdevc_attr_check(u, &r->attrs, "a register");
}

static void
check_reg(struct expand *x, struct vdevc_reg *r, const char *prefix,
          uint64_t base)
{
    struct vdevc_unit *u = x->u;
    r->bar = x->bar;
    r->scope = prefix;
    r->qname = *prefix ? vdevc_join(r, prefix, "", r->name) : r->name;
    r->cname = *prefix ? vdevc_cname(r, r->qname) : r->name;
    if (vdevc_sym_define(u, r->qname, SYM_REG, r, r->hdr.loc, "register") &&
        strcmp(r->cname, r->qname) != 0)
        vdevc_sym_define(u, r->cname, SYM_CNAME, r, r->hdr.loc, "register");
    uint64_t off = 0, n = 1;
    vdevc_const_eval(u, r->offset, &off);
    r->off = base + off;
    if (r->count && vdevc_const_eval(u, r->count, &n) &&
        (n < 1 || n > VDEVC_MAX_ARRAY)) {
        vdevc_error(u->diag, r->count->loc, "bad-array",
                    "array length must be 1..%u", VDEVC_MAX_ARRAY);
        n = 1;
    }
    r->n = (unsigned)n;
    check_reg_attrs(u, r);
    if (r->off % (r->width / 8) != 0)
        vdevc_error(u->diag, r->offset->loc, "misaligned-register",
                    "%u-bit register '%s' at 0x%llx is not aligned", r->width,
                    r->qname, (unsigned long long)r->off);
    check_fields(u, r);
    struct vdevc_vec hooks = {0};
    for (unsigned i = 0; i < r->items.n; i++) {
        struct vdevc_node *nd = r->items.v[i];
        if (nd && nd->kind == N_HOOK)
            vdevc_vec_push(r, &hooks, nd);
    }
    check_field_hooks(u, &hooks, &r->on_read, &r->on_write);
    r->hooked_read = !!r->on_read;
    r->hooked_write = !!r->on_write;
    for (unsigned i = 0; i < r->fields.n; i++) {
        const struct vdevc_field *f = r->fields.v[i];
        r->hooked_read |= !!f->on_read;
        r->hooked_write |= !!f->on_write;
    }
    r->id = u->dev->regs.n;
    vdevc_vec_push(u->dev, &u->dev->regs, r);
    vdevc_vec_push(x->bar, &x->bar->regs, r);
}

static void
check_memory(struct expand *x, struct vdevc_memory *m, const char *prefix,
             uint64_t base)
{
    struct vdevc_unit *u = x->u;
    m->bar = x->bar;
    char *q = talloc_asprintf(m, "%s%s", prefix, m->name);
    vdevc_sym_define(u, q, SYM_INSTANCE, m, m->hdr.loc, "memory");
    m->name = q;
    uint64_t off = 0;
    vdevc_const_eval(u, m->offset, &off);
    m->off = base + off;
    if (!vdevc_attr_value(u, &m->attrs, "size", &m->size) || m->size == 0) {
        vdevc_error(u->diag, m->hdr.loc, "bad-size",
                    "memory '%s' needs 'size N' (N > 0)", m->name);
        m->size = 1;
    }
    m->mmap = vdevc_attr_flag(&m->attrs, "mmap");
    m->doc = vdevc_attr_doc(m, &m->attrs);
    if (m->mmap && (m->off % 4096 != 0 || m->size % 4096 != 0))
        vdevc_error(u->diag, m->hdr.loc, "mmap-alignment",
                    "mmap area must start and end on 4K boundaries");
    vdevc_attr_check(u, &m->attrs, "a memory area");
    vdevc_vec_push(x->bar, &x->bar->mems, m);
}

static void expand_items(struct expand *x, struct vdevc_vec *items,
                         const char *prefix, uint64_t base);

static void
instantiate(struct expand *x, struct vdevc_use *use, const char *prefix,
            uint64_t base)
{
    struct vdevc_unit *u = x->u;
    struct vdevc_sym *s = vdevc_sym_get(u->syms, use->block);
    if (!s || s->kind != SYM_BLOCK) {
        vdevc_error_unknown(
            u->diag, use->hdr.loc, "unknown-name",
            vdevc_sym_nearest(u->syms, use->block, "", 1u << SYM_BLOCK, NULL),
            "unknown block '%s'", use->block);
        return;
    }
    struct vdevc_block *blk = s->ptr;
    if (x->depth >= 32) {
        vdevc_error(u->diag, use->hdr.loc, "recursive-block",
                    "blocks instantiated more than 32 levels deep");
        return;
    }
    if (blk->expanding) {
        vdevc_error(u->diag, use->hdr.loc, "recursive-block",
                    "block '%s' instantiates itself", blk->name);
        return;
    }
    if (use->args.n != blk->params.n) {
        vdevc_error(u->diag, use->hdr.loc, "call-arguments",
                    "block '%s' takes %u argument%s, not %u", blk->name,
                    blk->params.n, blk->params.n == 1 ? "" : "s", use->args.n);
        vdevc_note(u->diag, blk->hdr.loc, "'%s' declared here", blk->name);
        return;
    }
    char *q = talloc_asprintf(use, "%s%s", prefix, use->as);
    if (!vdevc_sym_define(u, q, SYM_INSTANCE, use, use->as_loc, "instance"))
        return;
    uint64_t off = 0;
    vdevc_const_eval(u, use->offset, &off);
    struct binding b = {&blk->params,
                        talloc_zero_array(use, uint64_t, blk->params.n + 1)};
    for (unsigned i = 0; i < use->args.n; i++)
        vdevc_const_eval(u, use->args.v[i], &b.values[i]);
    struct vdevc_vec items = {0};
    for (unsigned i = 0; i < blk->items.n; i++) {
        if (!blk->items.v[i])
            continue;
        struct vdevc_node *c = vdevc_node_clone(use, blk->items.v[i]);
        subst_node(c, &b);
        vdevc_vec_push(use, &items, c);
    }
    blk->expanding = true;
    x->depth++;
    expand_items(x, &items, talloc_asprintf(use, "%s.", q), base + off);
    x->depth--;
    blk->expanding = false;
}

static void
expand_items(struct expand *x, struct vdevc_vec *items, const char *prefix,
             uint64_t base)
{
    for (unsigned i = 0; i < items->n; i++) {
        struct vdevc_node *n = items->v[i];
        if (!n)
            continue;
        if (n->kind == N_REG)
            check_reg(x, (void *)n, prefix, base);
        else if (n->kind == N_MEMORY)
            check_memory(x, (void *)n, prefix, base);
        else if (n->kind == N_USE)
            instantiate(x, (void *)n, prefix, base);
    }
}

/* ------------------------------------------------------------ overlaps */

struct span {
    uint64_t start, end; /* [start, end) */
    const char *name;
    struct vdevc_loc loc;
    bool reg;
};

static int
cmp_span(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static struct span *
bar_spans(struct vdevc_bar *b, size_t *_n)
{
    size_t n = b->mems.n;
    for (unsigned i = 0; i < b->regs.n; i++)
        n += ((struct vdevc_reg *)b->regs.v[i])->n;
    struct span *s = talloc_array(b, struct span, n + 2);
    size_t k = 0;
    for (unsigned i = 0; i < b->regs.n; i++) {
        struct vdevc_reg *r = b->regs.v[i];
        /* An index/data array is one place, whatever its length. */
        unsigned places = r->select ? 1 : r->n;
        for (unsigned e = 0; e < places; e++) {
            s[k].start = r->off + e * r->stride;
            s[k].end = s[k].start + r->width / 8;
            s[k].name = r->qname;
            s[k].reg = true;
            s[k++].loc = r->hdr.loc;
        }
    }
    for (unsigned i = 0; i < b->mems.n; i++) {
        struct vdevc_memory *m = b->mems.v[i];
        s[k].start = m->off;
        s[k].end = m->off + m->size;
        s[k].name = m->name;
        s[k].reg = false;
        s[k++].loc = m->hdr.loc;
    }
    *_n = k;
    return s;
}

/* Registers at exactly one place are a bank, a ro/wo pair or a mistake:
 * sema_bank.c tells which. */
static bool
same_place(const struct span *a, const struct span *b)
{
    return a->reg && b->reg && a->start == b->start && a->end == b->end;
}

static void
past_end(struct vdevc_unit *u, struct vdevc_bar *b, const struct span *s)
{
    if (b->config) {
        vdevc_error(u->diag, s->loc, "config-space-full",
                    "'%s' ends at 0x%llx, past the end of config space "
                    "(0x%llx bytes%s)",
                    s->name, (unsigned long long)s->end,
                    (unsigned long long)b->size,
                    b->size < 0x1000 ? "; 0x1000 with a PCIe capability" : "");
        return;
    }
    vdevc_error(u->diag, s->loc, "register-past-bar-end",
                "'%s' ends at 0x%llx, past the end of BAR %u (0x%llx bytes)",
                s->name, (unsigned long long)s->end, b->idx,
                (unsigned long long)b->size);
    vdevc_note(u->diag, b->hdr.loc, "BAR %u declared here", b->idx);
}

static void
check_overlaps(struct vdevc_unit *u, struct vdevc_bar *b)
{
    size_t n;
    struct span *s = bar_spans(b, &n);
    if (n > 1)
        vdevc_sort(s, n, sizeof *s, cmp_span);
    const char *last_reported = NULL;
    const char *code = b->config ? "config-overlap" : "register-overlap";
    for (size_t i = 0; i < n; i++) {
        if (b->config && s[i].start < 0x40) {
            vdevc_error(u->diag, s[i].loc, code,
                        "'%s' at 0x%llx overlaps the standard config "
                        "header (0x00-0x3f)",
                        s[i].name, (unsigned long long)s[i].start);
            continue;
        }
        if (i > 0 && s[i].start < s[i - 1].end && s[i].name != last_reported &&
            !same_place(&s[i], &s[i - 1])) {
            vdevc_error(u->diag, s[i].loc, code, "'%s' at 0x%llx overlaps '%s'",
                        s[i].name, (unsigned long long)s[i].start,
                        s[i - 1].name);
            vdevc_note(u->diag, s[i - 1].loc, "'%s' declared here",
                       s[i - 1].name);
            last_reported = s[i].name;
        }
        if (s[i].end > b->size && s[i].end > s[i].start) {
            past_end(u, b, &s[i]);
            break;
        }
    }
    talloc_free(s);
}

/* ------------------------------------------------------------ BARs */

/* By offset; registers sharing one (a bank) in declaration order. */
static int
cmp_reg(const void *a, const void *b)
{
    const struct vdevc_reg *x = *(void *const *)a, *y = *(void *const *)b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int
cmp_mem(const void *a, const void *b)
{
    const struct vdevc_memory *x = *(void *const *)a, *y = *(void *const *)b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* `fill N`, `access MIN..MAX`, `exact`: how the BAR's registers decode
 * (vdev_model.h, struct vdev_model_bar). */
static void
check_bar_decode(struct vdevc_unit *u, struct vdevc_bar *b, bool io)
{
    uint64_t fill = 0;
    if (vdevc_attr_value(u, &b->attrs, "fill", &fill) && fill > 0xff) {
        struct vdevc_attr *a = vdevc_attr_find(&b->attrs, A_VALUE, "fill");
        vdevc_error(u->diag, a->loc, "bad-bar",
                    "fill 0x%llx: undecoded bytes read a byte value, "
                    "0..0xff",
                    (unsigned long long)fill);
    }
    b->fill = (uint8_t)fill;
    b->exact = vdevc_attr_flag(&b->attrs, "exact");
    struct vdevc_attr *a = vdevc_attr_find(&b->attrs, A_RANGE, "access");
    if (!a) {
        a = vdevc_attr_find(&b->attrs, A_VALUE, "access");
        if (a)
            vdevc_error(u->diag, a->loc, "bad-bar",
                        "access takes the valid sizes as MIN .. MAX bytes, "
                        "e.g. access 4 .. 8");
        return;
    }
    uint64_t max = io ? 4 : 8;
    if (!vdevc_is_pow2(a->v1) || !vdevc_is_pow2(a->v2) || a->v1 > a->v2 ||
        a->v2 > max) {
        vdevc_error(u->diag, a->loc, "bad-bar",
                    "access %llu .. %llu: the sizes are 1, 2, 4%s bytes, the "
                    "smaller first",
                    (unsigned long long)a->v1, (unsigned long long)a->v2,
                    io ? " (an io BAR: up to 4)" : " or 8");
        return;
    }
    b->min_access = (uint8_t)a->v1;
    b->max_access = (uint8_t)a->v2;
}

static void
check_bar_attrs(struct vdevc_unit *u, struct vdevc_bar *b)
{
    bool m32 = vdevc_attr_flag(&b->attrs, "mem32");
    bool m64 = vdevc_attr_flag(&b->attrs, "mem64");
    bool io = vdevc_attr_flag(&b->attrs, "io");
    if (m32 + m64 + io > 1)
        vdevc_error(u->diag, b->hdr.loc, "conflicting-access",
                    "a BAR is one of mem32, mem64 or io");
    b->kind = m64 ? BAR_MEM64 : io ? BAR_IO : BAR_MEM32;
    b->prefetchable = vdevc_attr_flag(&b->attrs, "prefetchable");
    b->memory = vdevc_attr_flag(&b->attrs, "memory");
    b->doc = vdevc_attr_doc(b, &b->attrs);
    if (io && b->prefetchable)
        vdevc_error(u->diag, b->hdr.loc, "bad-bar",
                    "an io BAR cannot be prefetchable");
    uint64_t min = io ? 4 : 16;
    if (!vdevc_attr_value(u, &b->attrs, "size", &b->size)) {
        vdevc_error(u->diag, b->hdr.loc, "bad-bar-size",
                    "BAR %u needs 'size N'", b->idx);
        b->size = UINT64_MAX;
    } else if (!vdevc_is_pow2(b->size) || b->size < min ||
               (io && b->size > 256) || (!m64 && b->size > (1ull << 31))) {
        struct vdevc_attr *a = vdevc_attr_find(&b->attrs, A_VALUE, "size");
        vdevc_error(u->diag, a->loc, "bad-bar-size",
                    "BAR size 0x%llx must be a power of two, %llu..%s bytes",
                    (unsigned long long)b->size, (unsigned long long)min,
                    io    ? "256"
                    : m64 ? "2^63"
                          : "2G");
        b->size = UINT64_MAX; /* unknown: no "past the end" cascade */
    }
    if (b->memory && b->has_body)
        vdevc_error(u->diag, b->hdr.loc, "bad-bar",
                    "a 'memory' BAR has no body; use memory areas instead");
    check_bar_decode(u, b, io);
    vdevc_attr_check(u, &b->attrs, "a BAR");
}

static void
check_bar(struct vdevc_unit *u, struct vdevc_bar *b, struct vdevc_bar **used)
{
    uint64_t idx = 0;
    vdevc_const_eval(u, b->index, &idx);
    if (idx > 5) {
        vdevc_error(u->diag, b->index->loc, "bad-bar",
                    "BAR index must be 0..5");
        return;
    }
    b->idx = (unsigned)idx;
    check_bar_attrs(u, b);
    unsigned last = b->idx + (b->kind == BAR_MEM64);
    if (last > 5) {
        vdevc_error(u->diag, b->index->loc, "bad-bar",
                    "a 64-bit BAR takes two slots: BAR 5 cannot be mem64");
        last = 5;
    }
    for (unsigned i = b->idx; i <= last; i++) {
        if (used[i] && used[i] != b) {
            vdevc_error(u->diag, b->hdr.loc, "duplicate-name",
                        "BAR %u is already taken", i);
            vdevc_note(u->diag, used[i]->hdr.loc, "by this BAR");
            return;
        }
        used[i] = b;
    }
    if (!b->memory && !b->has_body)
        vdevc_error(u->diag, b->hdr.loc, "bad-bar",
                    "BAR %u has neither registers nor memory: add a body "
                    "or 'memory'",
                    b->idx);
    struct expand x = {u, b, 0};
    expand_items(&x, &b->items, "", 0);
    for (unsigned k = 0; b->max_access && k < b->regs.n; k++) {
        struct vdevc_reg *r = b->regs.v[k];
        if (r->width / 8 >= b->min_access && r->width / 8 <= b->max_access)
            continue;
        vdevc_error(u->diag, r->hdr.loc, "bad-bar",
                    "'%s' is %u bytes wide, but BAR %u takes accesses of "
                    "%u..%u bytes only",
                    r->qname, r->width / 8, b->idx, b->min_access,
                    b->max_access);
        vdevc_note(u->diag, b->hdr.loc, "BAR %u declared here", b->idx);
    }
    vdevc_vec_sort(&b->regs, cmp_reg);
    vdevc_vec_sort(&b->mems, cmp_mem);
    check_overlaps(u, b);
}

static int
cmp_bar(const void *a, const void *b)
{
    const struct vdevc_bar *x = *(void *const *)a, *y = *(void *const *)b;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* config { ... } blocks (any number) make one register map of config
 * space: 0x40..0xff, and up to 0xfff with a PCIe capability. */
static bool
has_pcie(const struct vdevc_device *d)
{
    for (unsigned i = 0; i < d->caps.n; i++)
        if (strcmp(vdevc_cap_at(&d->caps, i)->name, "pcie") == 0)
            return true;
    return false;
}

static void
config_items(struct vdevc_unit *u, struct vdevc_config *c, struct vdevc_bar *cb)
{
    if (strcmp(c->word, "config") != 0) {
        static const char *const words[] = {"config", NULL};
        vdevc_error_unknown(u->diag, c->hdr.loc, "unknown-property",
                            vdevc_suggest_list(c->word, words),
                            "'%s { ... }' is not a device item (config "
                            "registers go in 'config { ... }')",
                            c->word);
        return;
    }
    for (unsigned i = 0; i < c->items.n; i++) {
        struct vdevc_node *n = c->items.v[i];
        if (!n)
            continue;
        if (n->kind == N_REG)
            vdevc_vec_push(cb, &cb->items, n);
        else
            vdevc_error(u->diag, n->loc, "bad-config",
                        "config space holds registers only (no memory "
                        "areas or block instances)");
    }
}

static void
check_config(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    struct vdevc_bar *cb = NULL;
    for (unsigned i = 0; i < d->items.n; i++) {
        struct vdevc_node *n = d->items.v[i];
        if (n->kind != N_CONFIG)
            continue;
        if (!cb) {
            cb = talloc_zero(d, struct vdevc_bar);
            cb->hdr = *n;
            cb->hdr.kind = N_BAR;
            cb->config = true;
            cb->has_body = true;
            cb->size = has_pcie(d) ? 0x1000 : 0x100;
        }
        config_items(u, (struct vdevc_config *)n, cb);
    }
    if (!cb)
        return;
    d->config = cb;
    struct expand x = {u, cb, 0};
    expand_items(&x, &cb->items, "", 0);
    vdevc_vec_sort(&cb->regs, cmp_reg);
    check_overlaps(u, cb);
}

void
vdevc_sema_bars(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->blocks.n; i++) {
        struct vdevc_block *b = d->blocks.v[i];
        vdevc_sym_define(u, b->name, SYM_BLOCK, b, b->hdr.loc, "block");
    }
    struct vdevc_bar *used[6] = {0};
    for (unsigned i = 0; i < d->bars.n; i++)
        check_bar(u, d->bars.v[i], used);
    vdevc_vec_sort(&d->bars, cmp_bar);
    check_config(u);
}
