/* Registers sharing a place: banks (`when (COND)`), a read-only and a
 * write-only register at one offset (IIR/FCR), index/data arrays
 * (`select (EXPR)`). Per direction, the registers a guest access can
 * reach at a place must be selected by disjoint conditions: the proof
 * enumerates every value of the bits the two conditions read (at most
 * VDEVC_BANK_BITS of them) and reports an assignment that selects both. */
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "vdevc.h"

#define VDEVC_BANK_BITS 20u
/* Assignments tried in one compile, all proofs together: a device with
 * thousands of wide conditions at one offset must not take hours. */
#define VDEVC_BANK_WORK (UINT64_C(1) << 28)

bool
vdevc_reg_readable(const struct vdevc_reg *r)
{
    return r->rmask != 0 || r->hooked_read;
}

bool
vdevc_reg_writable(const struct vdevc_reg *r)
{
    return (r->rw | r->w1c | r->w1s) != 0 || r->hooked_write;
}

/* ------------------------------------------------------------ the bits */

/* What one or two conditions read: per storage object (a register or a
 * variable) the bits that matter. */
struct cbits {
    struct vdevc_assign *obj;
    unsigned n, cap;
    unsigned total; /* bits in all masks */
};

static struct vdevc_assign *
obj_of(void *ctx, struct cbits *b, struct vdevc_reg *r, struct vdevc_var *v)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->obj[i].reg == r && b->obj[i].var == v)
            return &b->obj[i];
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 4;
        b->obj = talloc_realloc(ctx, b->obj, struct vdevc_assign, b->cap);
    }
    b->obj[b->n] = (struct vdevc_assign){.reg = r, .var = v};
    return &b->obj[b->n++];
}

static uint64_t
low_mask(uint64_t demand)
{
    return vdevc_mask(vdevc_bits_needed(demand));
}

/* Which bits of its inputs e's `demand` bits depend on: all of them in
 * general; fewer under a constant mask or shift, and only the low ones
 * for the operators whose low result bits need only low operand bits. */
static void
collect(void *ctx, struct cbits *b, const struct vdevc_expr *e, uint64_t demand)
{
    if (demand == 0)
        return;
    switch (e->kind) {
    case E_NUM:
        return;
    case E_UNARY: {
        const struct vdevc_opinfo *oi = vdevc_unary_op(e->op);
        uint64_t d = e->op == '~'                    ? demand
                     : oi && (oi->flags & OPF_WRAPS) ? low_mask(demand)
                                                     : UINT64_MAX;
        collect(ctx, b, e->lhs, d);
        return;
    }
    case E_BINARY: {
        const struct vdevc_opinfo *oi = vdevc_op(e->op);
        uint64_t dl = UINT64_MAX, dr = UINT64_MAX;
        bool kr = e->rhs->kind == E_NUM, kl = e->lhs->kind == E_NUM;
        if (e->op == '&') {
            dl = demand & (kr ? e->rhs->num : UINT64_MAX);
            dr = demand & (kl ? e->lhs->num : UINT64_MAX);
        } else if (e->op == '|' || e->op == '^') {
            dl = dr = demand;
        } else if (e->op == OP_SHR && kr) {
            dl = e->rhs->num < 64 ? demand << e->rhs->num : 0;
        } else if (e->op == OP_SHL && kr) {
            dl = e->rhs->num < 64 ? demand >> e->rhs->num : 0;
        } else if (oi && (oi->flags & OPF_LOW)) {
            dl = dr = low_mask(demand);
        }
        collect(ctx, b, e->lhs, dl);
        collect(ctx, b, e->rhs, dr);
        return;
    }
    default:
        break;
    }
    struct vdevc_assign *o = NULL;
    uint64_t m = 0;
    switch (e->ref) {
    case REF_REG: {
        struct vdevc_reg *r = e->sym;
        o = obj_of(ctx, b, r, NULL);
        m = demand & vdevc_mask(r->width);
        break;
    }
    case REF_FIELD: {
        const struct vdevc_field *f = e->sym;
        o = obj_of(ctx, b, f->reg, NULL);
        m = (demand & vdevc_mask(f->hi_v - f->lo_v + 1)) << f->lo_v;
        break;
    }
    case REF_VAR: {
        struct vdevc_var *v = e->sym;
        o = obj_of(ctx, b, NULL, v);
        m = demand & vdevc_mask(v->width);
        break;
    }
    default:
        return;
    }
    b->total += (unsigned)__builtin_popcountll(m & ~o->mask);
    o->mask |= m;
}

/* Spreads the bits of k over the objects' masks, low bits first. */
static void
assign(struct cbits *b, uint64_t k)
{
    for (unsigned i = 0; i < b->n; i++) {
        uint64_t v = 0;
        for (uint64_t m = b->obj[i].mask; m != 0; m &= m - 1) {
            if (k & 1)
                v |= m & -m;
            k >>= 1;
        }
        b->obj[i].value = v;
    }
}

static uint64_t
value_of(const struct cbits *b, const struct vdevc_reg *r,
         const struct vdevc_var *v)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->obj[i].reg == r && b->obj[i].var == v)
            return b->obj[i].value;
    return 0;
}

/* e under the assignment in b, as the generated C computes it. */
static uint64_t
eval(const struct cbits *b, const struct vdevc_expr *e)
{
    uint64_t l, r, out = 0;
    switch (e->kind) {
    case E_NUM:
        return e->num;
    case E_UNARY:
        return vdevc_op_eval_unary(e->op, eval(b, e->lhs));
    case E_BINARY:
        l = eval(b, e->lhs);
        r = eval(b, e->rhs);
        vdevc_op_eval(e->op, l, r, &out);
        return out;
    default:
        break;
    }
    switch (e->ref) {
    case REF_REG:
        return value_of(b, e->sym, NULL);
    case REF_FIELD: {
        const struct vdevc_field *f = e->sym;
        return value_of(b, f->reg, NULL) >> f->lo_v &
               vdevc_mask(f->hi_v - f->lo_v + 1);
    }
    case REF_VAR:
        return value_of(b, NULL, e->sym);
    case REF_ENUMC:
    case REF_CONST:
        return e->num;
    default:
        return 0;
    }
}

/* The first assignment (low values first) under which both a and b (b
 * may be NULL) are true: 1, 0 when there is none, -1 when they read too
 * many bits to try them all, -2 when the compile's budget is spent. */
static int
solve(struct cbits *bits, const struct vdevc_expr *a,
      const struct vdevc_expr *b, uint64_t *work)
{
    if (bits->total > VDEVC_BANK_BITS)
        return -1;
    if (work) {
        *work += UINT64_C(1) << bits->total;
        if (*work > VDEVC_BANK_WORK)
            return -2;
    }
    for (uint64_t k = 0; k < (UINT64_C(1) << bits->total); k++) {
        assign(bits, k);
        if ((!a || eval(bits, a) != 0) && (!b || eval(bits, b) != 0))
            return 1;
    }
    return 0;
}

int
vdevc_cond_witness(void *ctx, const struct vdevc_expr *cond, uint64_t *work,
                   struct vdevc_assign **_out)
{
    struct cbits b = {0};
    collect(ctx, &b, cond, UINT64_MAX);
    int rc = solve(&b, cond, NULL, work);
    if (rc <= 0) {
        talloc_free(b.obj);
        return -1;
    }
    *_out = b.obj;
    return (int)b.n;
}

/* ------------------------------------------------------------ reports */

/* "lcr.dlab = 1 and mode = 0x2": every name the conditions read, as
 * written, with its value under the assignment. */
struct names {
    const struct vdevc_expr **v;
    unsigned n, cap;
};

static void
names_of(void *ctx, struct names *ns, const struct vdevc_expr *e)
{
    if (!e)
        return;
    if (e->kind == E_UNARY || e->kind == E_BINARY) {
        names_of(ctx, ns, e->lhs);
        names_of(ctx, ns, e->rhs);
        return;
    }
    if (e->ref != REF_REG && e->ref != REF_FIELD && e->ref != REF_VAR)
        return;
    for (unsigned i = 0; i < ns->n; i++)
        if (ns->v[i]->sym == e->sym)
            return;
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 4;
        ns->v = talloc_realloc(ctx, ns->v, const struct vdevc_expr *, ns->cap);
    }
    ns->v[ns->n++] = e;
}

static char *
witness_text(void *ctx, const struct cbits *b, const struct vdevc_expr *x,
             const struct vdevc_expr *y)
{
    struct names ns = {0};
    names_of(ctx, &ns, x);
    names_of(ctx, &ns, y);
    if (ns.n == 0)
        return talloc_strdup(ctx, "always");
    char *s = talloc_strdup(ctx, "when ");
    for (unsigned i = 0; i < ns.n; i++) {
        uint64_t v = eval(b, ns.v[i]);
        s = talloc_asprintf_append(
            s, v < 10 ? "%s%s = %llu" : "%s%s = 0x%llx", i ? " and " : "",
            vdevc_expr_text(ctx, ns.v[i]), (unsigned long long)v);
    }
    talloc_free(ns.v);
    return s;
}

static struct vdevc_loc
reg_where(const struct vdevc_reg *r)
{
    return r->when ? r->when->loc : r->hdr.loc;
}

/* a and b share a place and both take reads (or writes): their
 * conditions must never hold together. */
static void
prove(struct vdevc_unit *u, struct vdevc_reg *a, struct vdevc_reg *b,
      const char *dir)
{
    if (!a->when && !b->when) {
        vdevc_error(u->diag, b->hdr.loc,
                    b->bar->config ? "config-overlap" : "register-overlap",
                    "'%s' at 0x%llx overlaps '%s'", b->qname,
                    (unsigned long long)b->off, a->qname);
        vdevc_note(u->diag, a->hdr.loc, "'%s' declared here", a->qname);
        vdevc_help(u->diag, "registers may share an offset when 'when "
                            "(COND)' selects one at a time, or when one is "
                            "read-only and the other write-only");
        return;
    }
    struct cbits bits = {0};
    if (a->when)
        collect(u, &bits, a->when, UINT64_MAX);
    if (b->when)
        collect(u, &bits, b->when, UINT64_MAX);
    int rc = solve(&bits, a->when, b->when, &u->bank_work);
    if (rc == -1) {
        vdevc_error(u->diag, reg_where(b), "bank-undecidable",
                    "the conditions of '%s' and '%s' read %u bits: more "
                    "than the %u the compiler tries to prove them "
                    "disjoint",
                    b->qname, a->qname, bits.total, VDEVC_BANK_BITS);
        vdevc_help(u->diag, "test fields, or mask what a condition reads "
                            "('(mode & 3) == 2')");
    } else if (rc == -2) {
        vdevc_error(u->diag, reg_where(b), "bank-undecidable",
                    "'%s' and '%s': the device's bank conditions together "
                    "take more than 2^28 assignments to prove disjoint",
                    b->qname, a->qname);
    } else if (rc > 0) {
        char *w = witness_text(u, &bits, a->when, b->when);
        vdevc_error(u->diag, reg_where(b), "bank-overlap",
                    "'%s' and '%s' at 0x%llx both take %s %s", b->qname,
                    a->qname, (unsigned long long)b->off, dir, w);
        vdevc_note(u->diag, reg_where(a), "'%s' declared here", a->qname);
        talloc_free(w);
    }
    talloc_free(bits.obj);
}

/* Can both be selected at once (both conditions true)? Undecidable
 * counts as yes. */
static bool
together(struct vdevc_unit *u, const struct vdevc_reg *a,
         const struct vdevc_reg *b)
{
    if (!a->when || !b->when)
        return true;
    struct cbits bits = {0};
    collect(u, &bits, a->when, UINT64_MAX);
    collect(u, &bits, b->when, UINT64_MAX);
    int rc = solve(&bits, a->when, b->when, &u->bank_work);
    talloc_free(bits.obj);
    return rc != 0;
}

static void
check_pair(struct vdevc_unit *u, struct vdevc_reg *a, struct vdevc_reg *b)
{
    bool ra = vdevc_reg_readable(a), rb = vdevc_reg_readable(b);
    bool wa = vdevc_reg_writable(a), wb = vdevc_reg_writable(b);
    a->banked = b->banked = true;
    /* One condition pair: one proof for both directions. */
    const char *dir = ra && rb && wa && wb ? "reads and writes"
                      : ra && rb           ? "reads"
                      : wa && wb           ? "writes"
                                           : NULL;
    if (dir)
        prove(u, a, b, dir);
    /* A write-only register's reads (a read-only one's writes) reach its
     * partner when both can be selected at once. */
    if ((ra != rb || wa != wb) && together(u, a, b)) {
        a->reads_elsewhere |= !ra && rb;
        b->reads_elsewhere |= !rb && ra;
        a->writes_elsewhere |= !wa && wb;
        b->writes_elsewhere |= !wb && wa;
    }
}

/* ------------------------------------------------------------ places */

struct place {
    uint64_t start;
    unsigned size;
    struct vdevc_reg *r;
};

static int
cmp_place(const void *x, const void *y)
{
    const struct place *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->size != b->size)
        return a->size < b->size ? -1 : 1;
    return a->r->id < b->r->id ? -1 : a->r->id > b->r->id;
}

/* Pairs already checked (arrays meet element by element). */
struct seen {
    uint64_t *v;
    size_t cap, n;
};

static bool
seen_add(void *ctx, struct seen *s, uint64_t key)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint64_t *v = talloc_zero_array(ctx, uint64_t, cap);
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i] != 0) {
                size_t k = (s->v[i] * 0x9e3779b97f4a7c15ull) >> 20 & (cap - 1);
                while (v[k] != 0)
                    k = (k + 1) & (cap - 1);
                v[k] = s->v[i];
            }
        talloc_free(s->v);
        s->v = v;
        s->cap = cap;
    }
    size_t k = (key * 0x9e3779b97f4a7c15ull) >> 20 & (s->cap - 1);
    for (; s->v[k] != 0; k = (k + 1) & (s->cap - 1))
        if (s->v[k] == key)
            return false;
    s->v[k] = key;
    s->n++;
    return true;
}

static void
check_places(struct vdevc_unit *u, struct vdevc_bar *b, struct seen *seen)
{
    size_t n = 0;
    for (unsigned i = 0; i < b->regs.n; i++) {
        struct vdevc_reg *r = b->regs.v[i];
        n += r->select ? 1 : r->n;
    }
    struct place *p = talloc_array(u, struct place, n + 1);
    size_t k = 0;
    for (unsigned i = 0; i < b->regs.n; i++) {
        struct vdevc_reg *r = b->regs.v[i];
        for (unsigned e = 0; e < (r->select ? 1 : r->n); e++)
            p[k++] = (struct place){r->off + e * r->stride, r->width / 8, r};
    }
    if (n > 1)
        vdevc_sort(p, n, sizeof *p, cmp_place);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && p[j].start == p[i].start && p[j].size == p[i].size)
            j++;
        for (size_t x = i; x < j; x++)
            for (size_t y = x + 1; y < j; y++) {
                struct vdevc_reg *a = p[x].r, *c = p[y].r;
                /* ids fit 32 bits: arrays are counted once */
                uint64_t key = (uint64_t)(a->id + 1) << 32 | (c->id + 1);
                if (a != c && seen_add(u, seen, key))
                    check_pair(u, a, c);
            }
        i = j;
    }
    talloc_free(p);
}

/* ------------------------------------------------------------ conditions */

static void
check_when(struct vdevc_unit *u, struct vdevc_reg *r)
{
    if (!vdevc_sema_cond(u, r->when, r->scope, "'when' conditions")) {
        /* Reported: never selected, so nothing more is said about it. */
        r->when = vdevc_expr_num(r, r->when->loc, 0);
        return;
    }
    struct cbits bits = {0};
    collect(u, &bits, r->when, UINT64_MAX);
    if (solve(&bits, r->when, NULL, &u->bank_work) == 0)
        vdevc_warn_once(u, VDEVC_W_BANK_UNSELECTABLE, r->when->loc,
                        "'%s' is never selected: its condition is never "
                        "true",
                        r->qname);
    talloc_free(bits.obj);
}

static void
check_select(struct vdevc_unit *u, struct vdevc_reg *r)
{
    if (!vdevc_sema_cond(u, r->select, r->scope, "'select' expressions")) {
        r->select = vdevc_expr_num(r, r->select->loc, 0);
        return;
    }
    unsigned w = r->select->width;
    if (r->select->kind == E_NUM)
        vdevc_warn_once(u, VDEVC_W_CONSTANT_CONDITION, r->select->loc,
                        "'%s' always selects element %llu", r->qname,
                        (unsigned long long)r->select->num);
    else if (w < 32 && r->n > (1u << w))
        vdevc_warn_once(u, VDEVC_W_BANK_UNSELECTABLE, r->select->loc,
                        "elements %u..%u of '%s' are never selected: the "
                        "index has %u bit%s",
                        1u << w, r->n - 1, r->qname, w, w == 1 ? "" : "s");
}

void
vdevc_sema_banks(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->regs.n; i++) {
        struct vdevc_reg *r = d->regs.v[i];
        if (r->when)
            check_when(u, r);
        if (r->select)
            check_select(u, r);
    }
    struct seen seen = {0};
    for (unsigned i = 0; i < d->bars.n; i++)
        check_places(u, d->bars.v[i], &seen);
    if (d->config)
        check_places(u, d->config, &seen);
    talloc_free(seen.v);
}
