/* Semantic checks of behaviour: names, types and widths in hooks and
 * interrupt expressions, and which interrupts each access can change. */
#include <string.h>
#include <talloc.h>

#include "suggest.h"
#include "vdevc.h"

#define MAX_LOCALS 64

struct local {
    const char *name;
    unsigned width;
    int slot;
    struct vdevc_loc loc;
    unsigned reads;
    bool readonly; /* a loop variable */
};

struct scope {
    struct vdevc_unit *u;
    const char *prefix;      /* instance scope for name lookup */
    struct vdevc_hook *hook; /* NULL in an interrupt expression */
    struct vdevc_proc *proc; /* a proc's body (hook: its summary) */
    const char *what;        /* hook == NULL: "interrupt expressions" */
    bool has_value, has_old, has_index, has_width;
    unsigned loops; /* loops around the statement being checked */
    unsigned value_width;
    struct vdevc_enum *value_etype;
    struct local locals[MAX_LOCALS];
    unsigned nr_locals, nr_slots;
    uint64_t irq_bit; /* interrupt expression: its vector bit */
    bool target;      /* resolving what a plain '=' writes: not a read */
    bool plain;       /* a device-level hook: no value, old or index */
};

/* Where an expression is, for sema_host.c. */
static struct vdevc_host_ctx
host_ctx(const struct scope *s)
{
    return (struct vdevc_host_ctx){.hook = s->hook, .irq_bit = s->irq_bit};
}

static bool resolve(struct scope *s, struct vdevc_expr *e, bool value);

/* Looks a dotted name up from the innermost instance outwards. */
static struct vdevc_sym *
lookup(struct scope *s, const char *name)
{
    const char *prefix = s->prefix;
    size_t len = strlen(prefix);
    char *buf = talloc_size(s->u, len + strlen(name) + 1);
    struct vdevc_sym *sym = NULL;
    for (;;) {
        memcpy(buf, prefix, len);
        strcpy(buf + len, name);
        sym = vdevc_sym_get(s->u->syms, buf);
        if (sym || len == 0)
            break;
        /* "a.b." -> "a." -> "" */
        len--;
        while (len > 0 && prefix[len - 1] != '.')
            len--;
    }
    talloc_free(buf);
    return sym;
}

/* "a.b.c" for a chain of names and members, NULL otherwise. */
static char *
path_of(void *ctx, const struct vdevc_expr *e)
{
    if (e->kind == E_NAME)
        return talloc_strdup(ctx, e->name);
    if (e->kind != E_MEMBER)
        return NULL;
    char *base = path_of(ctx, e->lhs);
    return base ? talloc_asprintf(ctx, "%s.%s", base, e->name) : NULL;
}

static void
note_read(struct scope *s, struct vdevc_expr *e)
{
    if (s->irq_bit == 0)
        return;
    if (e->ref == REF_REG)
        ((struct vdevc_reg *)e->sym)->irqs |= s->irq_bit;
    else if (e->ref == REF_FIELD)
        ((struct vdevc_field *)e->sym)->reg->irqs |= s->irq_bit;
    else if (e->ref == REF_VAR)
        ((struct vdevc_var *)e->sym)->irqs |= s->irq_bit;
}

/* For the warnings: a variable is used when mentioned at all; a field
 * or register is read unless it is what a plain '=' writes. */
static void
note_use(struct scope *s, struct vdevc_expr *e)
{
    switch (e->ref) {
    case REF_VAR:
    case REF_BUFFER:
        ((struct vdevc_var *)e->sym)->used = true;
        break;
    case REF_FIELD:
        ((struct vdevc_field *)e->sym)->read |= !s->target;
        break;
    case REF_REG:
        ((struct vdevc_reg *)e->sym)->read |= !s->target;
        break;
    default:
        break;
    }
}

static bool
bind_sym(struct scope *s, struct vdevc_expr *e, struct vdevc_sym *sym,
         bool indexed)
{
    struct vdevc_unit *u = s->u;
    struct vdevc_reg *r = NULL;
    switch (sym->kind) {
    case SYM_REG:
        r = sym->ptr;
        e->ref = REF_REG;
        e->width = r->width;
        break;
    case SYM_FIELD: {
        struct vdevc_field *f = sym->ptr;
        r = f->reg;
        e->ref = REF_FIELD;
        e->width = f->hi_v - f->lo_v + 1;
        e->etype = f->etype;
        break;
    }
    case SYM_VAR: {
        struct vdevc_var *v = sym->ptr;
        e->ref = v->buffer ? REF_BUFFER : REF_VAR;
        e->width = v->buffer ? 8 : v->width;
        e->etype = v->etype;
        if (v->buffer != indexed && !(v->buffer && !indexed)) {
            vdevc_error(u->diag, e->loc, "type-mismatch",
                        "'%s' is not a buffer", sym->name);
            return false;
        }
        break;
    }
    case SYM_ENUMC: {
        struct vdevc_enum_member *m = sym->ptr;
        e->ref = REF_ENUMC;
        e->num = m->v;
        e->width = m->owner->width;
        e->etype = m->owner;
        if (indexed)
            goto not_value;
        return true;
    }
    default:
        goto not_value;
    }
    e->sym = sym->ptr;
    if (r && (r->n > 1) != indexed) {
        vdevc_error(u->diag, e->loc, "bad-array",
                    r->n > 1 ? "register array '%s' needs an index"
                             : "register '%s' is not an array",
                    r->qname);
        return false;
    }
    note_read(s, e);
    note_use(s, e);
    return true;
not_value:
    vdevc_error(u->diag, e->loc, "type-mismatch", "'%s' is not a value",
                sym->name);
    return false;
}

static bool
resolve_special(struct scope *s, struct vdevc_expr *e)
{
    for (unsigned i = s->nr_locals; i-- > 0;) {
        if (strcmp(s->locals[i].name, e->name) == 0) {
            e->ref = REF_LOCAL;
            e->local = s->locals[i].slot;
            s->locals[i].reads += !s->target;
            e->width = s->locals[i].width;
            return true;
        }
    }
    if (strcmp(e->name, "now") == 0) { /* a reserved word */
        struct vdevc_host_ctx c = host_ctx(s);
        vdevc_host_now(s->u, &c, e);
        return true;
    }
    if (!s->hook || s->plain)
        return false;
    if ((s->has_value && strcmp(e->name, "value") == 0) ||
        (s->has_old && strcmp(e->name, "old") == 0)) {
        e->ref = e->name[0] == 'v' ? REF_VALUE : REF_OLD;
        e->width = s->value_width;
        e->etype = s->value_etype;
        if (e->ref == REF_VALUE)
            s->hook->uses_value = true;
        else
            s->hook->uses_old = true;
        return true;
    }
    if (s->has_index && strcmp(e->name, "index") == 0) {
        e->ref = REF_INDEX;
        e->width = 32;
        s->hook->uses_index = true;
        return true;
    }
    if (s->has_width && strcmp(e->name, "width") == 0) {
        e->ref = REF_WIDTH;
        e->width = 32;
        s->hook->uses_width = true;
        return true;
    }
    return false;
}

/* ------------------------------------------------------------ unknown names
 * "did you mean": candidates come from where the name was looked up. */

#define VALUE_KINDS                                                            \
    (1u << SYM_REG | 1u << SYM_VAR | 1u << SYM_INSTANCE | 1u << SYM_ENUM |     \
     1u << SYM_TIMER | 1u << SYM_FIFO | 1u << SYM_STREAM)

static const char *
field_nearest(const struct vdevc_reg *r, const char *word)
{
    struct vdevc_suggest sg;
    vdevc_suggest_init(&sg, word);
    for (unsigned i = 0; i < r->fields.n; i++) {
        const struct vdevc_field *f = r->fields.v[i];
        if (!f->implicit)
            vdevc_suggest_add(&sg, f->name);
    }
    return vdevc_suggest_best(&sg);
}

static void
unknown_field(struct scope *s, const struct vdevc_reg *r,
              const struct vdevc_expr *e)
{
    vdevc_error_unknown(
        s->u->diag, e->loc, "unknown-name", field_nearest(r, e->name),
        "unknown field '%s' in register '%s'", e->name, r->qname);
}

/* A name on its own: locals, the hook's own names, and the device's
 * names seen from each enclosing instance. */
static void
unknown_root(struct scope *s, const struct vdevc_expr *e)
{
    struct vdevc_suggest sg;
    vdevc_suggest_init(&sg, e->name);
    for (unsigned i = 0; i < s->nr_locals; i++)
        vdevc_suggest_add(&sg, s->locals[i].name);
    if (s->hook && !s->plain) {
        vdevc_suggest_add(&sg, s->has_value ? "value" : NULL);
        vdevc_suggest_add(&sg, s->has_old ? "old" : NULL);
        vdevc_suggest_add(&sg, s->has_index ? "index" : NULL);
        vdevc_suggest_add(&sg, s->has_width ? "width" : NULL);
    }
    char *prefix = talloc_strdup(s->u, s->prefix);
    for (size_t len = strlen(prefix);;) {
        prefix[len] = '\0';
        vdevc_sym_nearest(s->u->syms, e->name, prefix, VALUE_KINDS, &sg);
        if (len == 0)
            break;
        len--;
        while (len > 0 && prefix[len - 1] != '.')
            len--;
    }
    talloc_free(prefix);
    vdevc_error_unknown(s->u->diag, e->loc, "unknown-name",
                        vdevc_suggest_best(&sg), "unknown name '%s'", e->name);
}

/* sym.name is not there: what sym is decides where to look. */
static void
unknown_member(struct scope *s, const struct vdevc_sym *sym,
               const struct vdevc_expr *e)
{
    struct vdevc_unit *u = s->u;
    switch (sym->kind) {
    case SYM_REG:
        unknown_field(s, sym->ptr, e);
        return;
    case SYM_ENUM: {
        const struct vdevc_enum *en = sym->ptr;
        struct vdevc_suggest sg;
        vdevc_suggest_init(&sg, e->name);
        for (unsigned i = 0; i < en->members.n; i++)
            vdevc_suggest_add(
                &sg, ((struct vdevc_enum_member *)en->members.v[i])->name);
        vdevc_error_unknown(
            u->diag, e->loc, "unknown-name", vdevc_suggest_best(&sg),
            "unknown value '%s' in enum '%s'", e->name, en->name);
        return;
    }
    case SYM_INSTANCE: {
        char *prefix = talloc_asprintf(u, "%s.", sym->name);
        const char *best = vdevc_sym_nearest(
            u->syms, e->name, prefix, 1u << SYM_REG | 1u << SYM_INSTANCE, NULL);
        vdevc_error_unknown(u->diag, e->loc, "unknown-name", best,
                            "unknown name '%s' in instance '%s'", e->name,
                            sym->name);
        talloc_free(prefix);
        return;
    }
    default:
        vdevc_error(u->diag, e->loc, "unknown-name", "'%s' has no member '%s'",
                    sym->name, e->name);
        return;
    }
}

/* Finds the first part of a dotted name that does not resolve and
 * reports it with the names that would. */
static void
report_unknown(struct scope *s, struct vdevc_expr *e)
{
    struct vdevc_expr *chain[64];
    unsigned n = 0;
    struct vdevc_expr *x = e;
    for (; x->kind == E_MEMBER && n < 64; x = x->lhs)
        chain[n++] = x;
    if (x->kind != E_NAME) {
        vdevc_error(s->u->diag, e->loc, "unknown-name", "unknown name");
        return;
    }
    struct vdevc_sym *sym = lookup(s, x->name);
    if (!sym && n > 0 && resolve_special(s, x)) {
        vdevc_error(s->u->diag, chain[n - 1]->loc, "unknown-name",
                    "'%s' has no member '%s'", x->name, chain[n - 1]->name);
        return;
    }
    if (!sym) {
        unknown_root(s, x);
        return;
    }
    while (n-- > 0) {
        char *next = talloc_asprintf(s->u, "%s.%s", sym->name, chain[n]->name);
        struct vdevc_sym *nsym = vdevc_sym_get(s->u->syms, next);
        talloc_free(next);
        if (!nsym) {
            unknown_member(s, sym, chain[n]);
            return;
        }
        sym = nsym;
    }
    vdevc_error(s->u->diag, e->loc, "unknown-name", "unknown name");
}

/* Names, members and indexes: everything that denotes a storage place or
 * a constant. */
static bool
resolve_place(struct scope *s, struct vdevc_expr *e, bool indexed)
{
    struct vdevc_unit *u = s->u;
    if (e->kind == E_NAME && resolve_special(s, e))
        return !indexed || e->ref != REF_LOCAL ? true : false;
    char *path = path_of(u, e);
    struct vdevc_sym *sym = path ? lookup(s, path) : NULL;
    if (sym)
        return bind_sym(s, e, sym, indexed);
    struct vdevc_sym *obj = NULL;
    if (e->kind == E_MEMBER && (path = path_of(u, e->lhs)))
        obj = lookup(s, path);
    if (obj && vdevc_host_object(obj->kind)) {
        struct vdevc_host_ctx c = host_ctx(s);
        if (!vdevc_host_member(u, &c, obj, e))
            return false;
        if (indexed)
            vdevc_error(u->diag, e->loc, "bad-array", "'%s.%s' is not an array",
                        obj->name, e->name);
        return !indexed;
    }
    if (e->kind == E_MEMBER && e->lhs->kind == E_INDEX) {
        /* data[i].field */
        struct vdevc_expr *base = e->lhs;
        if (!resolve(s, base, true))
            return false;
        if (base->ref != REF_REG) {
            vdevc_error(u->diag, e->loc, "unknown-name", "no field '%s' here",
                        e->name);
            return false;
        }
        struct vdevc_reg *r = base->sym;
        char *q = talloc_asprintf(u, "%s.%s", r->qname, e->name);
        sym = vdevc_sym_get(u->syms, q);
        if (!sym || sym->kind != SYM_FIELD) {
            unknown_field(s, r, e);
            return false;
        }
        struct vdevc_field *f = sym->ptr;
        e->ref = REF_FIELD;
        e->sym = f;
        e->idx = base->idx;
        e->width = f->hi_v - f->lo_v + 1;
        e->etype = f->etype;
        note_read(s, e);
        note_use(s, e);
        return true;
    }
    report_unknown(s, e);
    return false;
}

static bool
resolve_index(struct scope *s, struct vdevc_expr *e)
{
    struct vdevc_unit *u = s->u;
    if (e->lhs->kind != E_NAME && e->lhs->kind != E_MEMBER) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "only register arrays and buffers take an index");
        return false;
    }
    if (!resolve_place(s, e->lhs, true))
        return false;
    /* The index is read even in what '=' writes. */
    bool target = s->target;
    s->target = false;
    bool ok = resolve(s, e->rhs, true);
    s->target = target;
    if (!ok)
        return false;
    struct vdevc_expr *b = e->lhs;
    if (b->ref != REF_REG && b->ref != REF_BUFFER) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "only register arrays and buffers take an index");
        return false;
    }
    e->ref = b->ref;
    e->sym = b->sym;
    e->width = b->width;
    e->etype = b->etype;
    e->idx = e->rhs;
    uint64_t n = b->ref == REF_REG ? ((struct vdevc_reg *)b->sym)->n
                                   : ((struct vdevc_var *)b->sym)->len;
    if (e->rhs->kind == E_NUM && e->rhs->num >= n) {
        vdevc_error(u->diag, e->rhs->loc, "bad-index",
                    "index %llu is out of range (0..%llu)",
                    (unsigned long long)e->rhs->num,
                    (unsigned long long)(n - 1));
        return false;
    }
    if (s->irq_bit != 0 && e->ref == REF_BUFFER) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "interrupt expressions read registers and variables, "
                    "not buffers");
        return false;
    }
    if (!s->hook && s->irq_bit == 0) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "%s read registers, fields and variables, not array "
                    "elements or buffers",
                    s->what);
        return false;
    }
    return true;
}

static bool check_fits(struct scope *s, struct vdevc_expr *e, unsigned width,
                       struct vdevc_enum *etype, const char *what);

static bool resolve_proc_call(struct scope *s, struct vdevc_expr *e,
                              struct vdevc_proc *p, bool value);
/* obj.name(args): FIFO methods (sema_host.c). */
static bool
resolve_method(struct scope *s, struct vdevc_expr *e, bool value)
{
    char *path = path_of(s->u, e->lhs);
    struct vdevc_sym *obj = path ? lookup(s, path) : NULL;
    bool ok = true;
    for (unsigned i = 0; i < e->args.n; i++)
        ok &= resolve(s, e->args.v[i], true);
    struct vdevc_host_ctx c = host_ctx(s);
    return ok && vdevc_host_method(s->u, &c, obj, e, value);
}

static bool
resolve_call(struct scope *s, struct vdevc_expr *e, bool value)
{
    struct vdevc_unit *u = s->u;
    if (e->lhs)
        return resolve_method(s, e, value);
    struct vdevc_sym *sym = vdevc_sym_get(u->syms, e->name);
    if (!sym || (sym->kind != SYM_EXTERN && sym->kind != SYM_PROC)) {
        vdevc_error_unknown(u->diag, e->loc, "unknown-name",
                            vdevc_sym_nearest(u->syms, e->name, "",
                                              1u << SYM_EXTERN | 1u << SYM_PROC,
                                              NULL),
                            "unknown function '%s'", e->name);
        return false;
    }
    if (!s->hook) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "%s cannot call functions", s->what);
        return false;
    }
    if (sym->kind == SYM_PROC)
        return resolve_proc_call(s, e, sym->ptr, value);
    struct vdevc_extern *x = sym->ptr;
    x->used = true;
    s->hook->calls = true;
    e->sym = x;
    e->width = vdevc_type_bits(x->ret);
    if (value && e->width == 0) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "'%s' returns void, not a value", x->name);
        return false;
    }
    if (e->args.n != x->params.n) {
        vdevc_error(u->diag, e->loc, "call-arguments",
                    "'%s' takes %u argument%s, not %u", x->name, x->params.n,
                    x->params.n == 1 ? "" : "s", e->args.n);
        vdevc_note(u->diag, x->hdr.loc, "'%s' declared here", x->name);
        return false;
    }
    bool ok = true;
    for (unsigned i = 0; i < e->args.n; i++) {
        struct vdevc_param *p = x->params.v[i];
        ok &= resolve(s, e->args.v[i], true) &&
              check_fits(s, e->args.v[i], vdevc_type_bits(p->type), NULL,
                         p->name);
    }
    return ok;
}

/* A call edge of the proc being checked (once per callee). */
static void
note_callee(struct scope *s, struct vdevc_expr *e, struct vdevc_proc *p)
{
    struct vdevc_proc *self = s->proc;
    for (unsigned i = 0; i < self->callees.n; i++)
        if (((struct vdevc_expr *)self->callees.v[i])->sym == p)
            return;
    vdevc_vec_push(self, &self->callees, e);
}

/* A proc's arguments fit its parameters; a hook takes on what the proc
 * does (its callees included: sema_proc.c summed them up), a proc records
 * the call for the call graph. */
static bool
resolve_proc_call(struct scope *s, struct vdevc_expr *e, struct vdevc_proc *p,
                  bool value)
{
    struct vdevc_unit *u = s->u;
    e->ref = REF_PROC;
    e->sym = p;
    e->width = p->width;
    if (value && p->width == 0) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "proc '%s' returns no value", p->name);
        vdevc_note(u->diag, p->hdr.loc, "'%s' declared here", p->name);
        return false;
    }
    if (e->args.n != p->params.n) {
        vdevc_error(u->diag, e->loc, "call-arguments",
                    "'%s' takes %u argument%s, not %u", p->name, p->params.n,
                    p->params.n == 1 ? "" : "s", e->args.n);
        vdevc_note(u->diag, p->hdr.loc, "'%s' declared here", p->name);
        return false;
    }
    bool ok = true;
    for (unsigned i = 0; i < e->args.n; i++) {
        struct vdevc_param *a = p->params.v[i];
        ok &= resolve(s, e->args.v[i], true) &&
              check_fits(s, e->args.v[i], (unsigned)a->width, NULL, a->name);
    }
    if (s->proc) {
        note_callee(s, e, p);
    } else {
        p->used = true;
        s->hook->calls |= p->calls;
        s->hook->irqs |= p->irqs;
    }
    return ok;
}

static unsigned
binary_width(struct vdevc_expr *e)
{
    unsigned l = e->lhs->width, r = e->rhs->width;
    unsigned max = l > r ? l : r;
    switch (e->op) {
    case OP_EQ:
    case OP_NE:
    case '<':
    case '>':
    case OP_LE:
    case OP_GE:
    case OP_ANDAND:
    case OP_OROR:
        return 1;
    case '&':
        if (e->rhs->kind == E_NUM)
            r = vdevc_bits_needed(e->rhs->num);
        if (e->lhs->kind == E_NUM)
            l = vdevc_bits_needed(e->lhs->num);
        return l == 0 ? r : r == 0 ? l : l < r ? l : r;
    case OP_SHL:
        if (e->rhs->kind == E_NUM && l > 0)
            return l + e->rhs->num >= 64 ? 64 : l + (unsigned)e->rhs->num;
        return 64;
    case OP_SHR:
        if (e->rhs->kind == E_NUM)
            return e->rhs->num >= l ? 1 : l - (unsigned)e->rhs->num;
        return l;
    case '/':
        return l;
    case '%':
        return r == 0 ? l : r;
    default:
        return max;
    }
}

static bool
resolve_op(struct scope *s, struct vdevc_expr *e)
{
    struct vdevc_unit *u = s->u;
    if (!resolve(s, e->lhs, true))
        return false;
    if (e->kind == E_UNARY) {
        e->width = e->op == '!' ? 1 : e->lhs->width;
        if (e->lhs->kind == E_NUM && e->lhs->ref == REF_NONE) {
            uint64_t v;
            if (vdevc_const_eval(u, e, &v)) {
                e->kind = E_NUM;
                e->num = v;
                e->width = 0;
            }
        }
        return true;
    }
    if (!resolve(s, e->rhs, true))
        return false;
    bool cmp = e->op == OP_EQ || e->op == OP_NE || e->op == '<' ||
               e->op == '>' || e->op == OP_LE || e->op == OP_GE;
    if (cmp && e->lhs->etype && e->rhs->etype &&
        e->lhs->etype != e->rhs->etype) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "comparing enum '%s' with enum '%s'", e->lhs->etype->name,
                    e->rhs->etype->name);
        return false;
    }
    e->width = binary_width(e);
    bool lc = e->lhs->kind == E_NUM, rc = e->rhs->kind == E_NUM;
    if (lc && rc) {
        uint64_t v;
        if (!vdevc_const_eval(u, e, &v))
            return false;
        e->kind = E_NUM;
        e->num = v;
        e->width = 0;
        e->ref = REF_NONE;
    }
    return true;
}

static bool
resolve(struct scope *s, struct vdevc_expr *e, bool value)
{
    switch (e->kind) {
    case E_NUM:
        e->width = 0;
        return true;
    case E_NAME:
    case E_MEMBER:
        if (!resolve_place(s, e, false))
            return false;
        if (e->ref == REF_ENUMC) {
            /* A constant with a type: keep the enum for checks. */
            return true;
        }
        if (value && e->ref == REF_BUFFER) {
            vdevc_error(s->u->diag, e->loc, "type-mismatch",
                        "buffer '%s' is not a value: index it",
                        ((struct vdevc_var *)e->sym)->name);
            return false;
        }
        return true;
    case E_INDEX:
        return resolve_index(s, e);
    case E_CALL:
        return resolve_call(s, e, value);
    case E_UNARY:
    case E_BINARY:
        return resolve_op(s, e);
    }
    return false;
}

/* Does e fit a target of `width` bits (and enum type)? */
static bool
check_fits(struct scope *s, struct vdevc_expr *e, unsigned width,
           struct vdevc_enum *etype, const char *what)
{
    struct vdevc_unit *u = s->u;
    bool literal = e->kind == E_NUM && e->ref == REF_NONE;
    if (etype) {
        if (literal) {
            for (unsigned i = 0; i < etype->members.n; i++)
                if (((struct vdevc_enum_member *)etype->members.v[i])->v ==
                    e->num)
                    return true;
            vdevc_error(u->diag, e->loc, "type-mismatch",
                        "0x%llx is not a value of enum '%s' ('%s')",
                        (unsigned long long)e->num, etype->name, what);
            return false;
        }
        if (e->etype && e->etype != etype) {
            vdevc_error(u->diag, e->loc, "type-mismatch",
                        "enum '%s' value assigned to '%s' of enum '%s'",
                        e->etype->name, what, etype->name);
            return false;
        }
    }
    if (literal) {
        if (e->num > vdevc_mask(width)) {
            vdevc_error(u->diag, e->loc, "width-mismatch",
                        "0x%llx does not fit in %u-bit '%s'",
                        (unsigned long long)e->num, width, what);
            return false;
        }
        return true;
    }
    if (e->width > width) {
        vdevc_error(u->diag, e->loc, "width-mismatch",
                    "%u-bit value assigned to %u-bit '%s' (mask or shift "
                    "it to fit)",
                    e->width, width, what);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ statements */

static void check_stmt(struct scope *s, struct vdevc_stmt *st);

static void
note_write(struct scope *s, struct vdevc_expr *t)
{
    struct vdevc_hook *h = s->hook;
    if (t->ref == REF_REG)
        h->irqs |= ((struct vdevc_reg *)t->sym)->irqs;
    else if (t->ref == REF_FIELD)
        h->irqs |= ((struct vdevc_field *)t->sym)->reg->irqs;
    else if (t->ref == REF_VAR)
        h->irqs |= ((struct vdevc_var *)t->sym)->irqs;
}

static bool
check_target(struct scope *s, struct vdevc_expr *t, const char **_name)
{
    struct vdevc_unit *u = s->u;
    switch (t->ref) {
    case REF_FIELD: {
        struct vdevc_field *f = t->sym;
        *_name = talloc_asprintf(u, "%s.%s", f->reg->qname, f->name);
        if (f->access == ACC_CONST || f->access == ACC_RESERVED) {
            vdevc_error(u->diag, t->loc, "readonly-write",
                        "cannot write '%s': it is %s", *_name,
                        vdevc_access_name(f->access));
            vdevc_note(u->diag, f->hdr.loc, "'%s' declared here", *_name);
            return false;
        }
        return true;
    }
    case REF_REG: {
        struct vdevc_reg *r = t->sym;
        *_name = r->qname;
        if (r->hw == 0) {
            vdevc_error(u->diag, t->loc, "readonly-write",
                        "cannot write '%s': all its bits are const or "
                        "reserved",
                        r->qname);
            vdevc_note(u->diag, r->hdr.loc, "'%s' declared here", r->qname);
            return false;
        }
        return true;
    }
    case REF_VAR:
    case REF_BUFFER:
        *_name = ((struct vdevc_var *)t->sym)->name;
        if (t->ref == REF_BUFFER && !t->idx) {
            vdevc_error(u->diag, t->loc, "type-mismatch",
                        "assign to an element of buffer '%s'", *_name);
            return false;
        }
        return true;
    case REF_LOCAL:
        *_name = t->name;
        for (unsigned i = s->nr_locals; i-- > 0;)
            if (s->locals[i].slot == t->local && s->locals[i].readonly) {
                vdevc_error(u->diag, t->loc, "not-assignable",
                            "'%s' is a loop variable: it only counts", t->name);
                return false;
            }
        return true;
    default:
        vdevc_error(u->diag, t->loc, "not-assignable",
                    "this is not something a hook can assign to");
        return false;
    }
}

static void
check_assign(struct scope *s, struct vdevc_stmt *st)
{
    const char *name = NULL;
    s->target = st->op == 0;
    bool ok = resolve(s, st->lhs, false);
    s->target = false;
    if (!ok || !check_target(s, st->lhs, &name))
        return;
    if (!resolve(s, st->rhs, true))
        return;
    struct vdevc_expr *t = st->lhs;
    check_fits(s, st->rhs, t->ref == REF_LOCAL ? 64 : t->width,
               st->op == 0 ? t->etype : NULL, name);
    note_write(s, t);
}

static const char *
sym_what(enum vdevc_sym_kind k)
{
    switch (k) {
    case SYM_REG:
        return "register";
    case SYM_VAR:
        return "variable";
    case SYM_INSTANCE:
        return "instance";
    case SYM_ENUM:
        return "enum";
    default:
        return NULL;
    }
}

/* A local named like a device name hides it for the rest of the
 * block. */
static void
shadow(struct scope *s, const char *name, struct vdevc_loc loc)
{
    struct vdevc_unit *u = s->u;
    bool special = (s->has_value && strcmp(name, "value") == 0) ||
                   (s->has_old && strcmp(name, "old") == 0) ||
                   (s->has_index && strcmp(name, "index") == 0) ||
                   (s->has_width && strcmp(name, "width") == 0);
    if (special) {
        vdevc_warn_once(u, VDEVC_W_SHADOW, loc,
                        "local '%s' shadows the hook's '%s'", name, name);
        return;
    }
    struct vdevc_sym *sym = lookup(s, name);
    if (!sym || !sym_what(sym->kind))
        return;
    struct vdevc_loc at = sym->loc;
    if (vdevc_warn_once(u, VDEVC_W_SHADOW, loc, "local '%s' shadows %s '%s'",
                        name, sym_what(sym->kind), sym->name))
        vdevc_note(u->diag, at, "'%s' declared here", sym->name);
}

/* A new local (a let, a loop variable, a proc parameter): its slot, or
 * -1 (reported). */
static int
add_local(struct scope *s, const char *name, struct vdevc_loc loc,
          unsigned width)
{
    struct vdevc_unit *u = s->u;
    for (unsigned i = 0; i < s->nr_locals; i++)
        if (strcmp(s->locals[i].name, name) == 0) {
            vdevc_error(u->diag, loc, "duplicate-name",
                        "'%s' is already a local here", name);
            return -1;
        }
    if (s->nr_locals == MAX_LOCALS) {
        vdevc_error(u->diag, loc, "too-many-locals",
                    "more than %u locals in one hook", MAX_LOCALS);
        return -1;
    }
    shadow(s, name, loc);
    struct local *l = &s->locals[s->nr_locals++];
    l->name = name;
    l->loc = loc;
    l->reads = 0;
    l->readonly = false;
    l->width = width;
    l->slot = (int)s->nr_slots++;
    if (s->hook->nr_locals < s->nr_slots)
        s->hook->nr_locals = s->nr_slots;
    return l->slot;
}

static void
check_let(struct scope *s, struct vdevc_stmt *st)
{
    if (!resolve(s, st->rhs, true))
        return;
    int slot =
        add_local(s, st->name, st->loc, st->rhs->width ? st->rhs->width : 64);
    if (slot >= 0)
        st->local = slot;
}

static void
check_irq_stmt(struct scope *s, struct vdevc_stmt *st)
{
    struct vdevc_unit *u = s->u;
    if (!resolve(s, st->lhs, true))
        return;
    if (u->dev->nr_vectors == 0) {
        vdevc_error(u->diag, st->loc, "no-interrupts",
                    "the device declares no intx, msi or msix");
        return;
    }
    if (st->lhs->kind == E_NUM && st->lhs->num >= u->dev->nr_vectors)
        vdevc_error(u->diag, st->lhs->loc, "bad-vector",
                    "vector %llu is out of range (the device has %u)",
                    (unsigned long long)st->lhs->num, u->dev->nr_vectors);
}

static void
check_dma(struct scope *s, struct vdevc_stmt *st)
{
    struct vdevc_unit *u = s->u;
    bool rd = strcmp(st->name, "read") == 0;
    if (!rd && strcmp(st->name, "write") != 0) {
        static const char *const dirs[] = {"read", "write", NULL};
        vdevc_error_unknown(
            u->diag, st->loc, "bad-dma", vdevc_suggest_list(st->name, dirs),
            "'dma %s': write 'dma read' or 'dma write'", st->name);
        return;
    }
    struct vdevc_expr *buf = rd ? st->lhs : st->rhs;
    struct vdevc_expr *addr = rd ? st->rhs : st->lhs;
    bool ok = resolve(s, buf, false) & resolve(s, addr, true) &
              resolve(s, st->third, true);
    if (ok && buf->ref != REF_BUFFER)
        vdevc_error(u->diag, buf->loc, "type-mismatch",
                    "dma %s needs a buffer %s", st->name,
                    rd ? "first (destination)" : "second (source)");
}

static void
check_block(struct scope *s, struct vdevc_stmt *st)
{
    unsigned saved = s->nr_locals;
    for (unsigned i = 0; i < st->body.n; i++)
        if (st->body.v[i])
            check_stmt(s, st->body.v[i]);
    for (unsigned i = saved; i < s->nr_locals; i++)
        if (s->locals[i].reads == 0 && s->locals[i].name[0] != '_')
            vdevc_warn_once(s->u, VDEVC_W_UNUSED_LOCAL, s->locals[i].loc,
                            "local '%s' is never read", s->locals[i].name);
    s->nr_locals = saved;
}

/* The word the grammar took as a plain identifier ("in", "max"). */
static bool
loop_word(struct scope *s, const char *word, const char *want,
          struct vdevc_loc loc)
{
    if (strcmp(word, want) == 0)
        return true;
    vdevc_error_fix(s->u->diag, loc, "syntax-error", want,
                    "expected '%s' in a for loop, not '%s'", want, word);
    return false;
}

/* for VAR in FROM .. TO [max N]: at most N (or TO - FROM when both are
 * constants) iterations, never more than VDEVC_MAX_LOOP. */
static bool
loop_bound(struct scope *s, struct vdevc_stmt *st)
{
    struct vdevc_unit *u = s->u;
    struct vdevc_loop *l = st->loop;
    l->constant = st->lhs->kind == E_NUM && st->rhs->kind == E_NUM;
    uint64_t n = 0;
    if (l->constant)
        n = st->rhs->num > st->lhs->num ? st->rhs->num - st->lhs->num : 0;
    if (st->third) {
        uint64_t max;
        if (!loop_word(s, l->max, "max", l->max_loc) ||
            !vdevc_const_eval(u, st->third, &max))
            return false;
        if (max == 0 || max > VDEVC_MAX_LOOP) {
            vdevc_error(u->diag, st->third->loc, "loop-too-long",
                        "a loop runs 1..%u times, not %llu", VDEVC_MAX_LOOP,
                        (unsigned long long)max);
            return false;
        }
        n = l->constant && n < max ? n : max;
    } else if (!l->constant) {
        vdevc_error(u->diag, st->rhs->loc, "unbounded-loop",
                    "the loop's end is not a constant: bound it with "
                    "'max N'");
        vdevc_help(u->diag,
                   "write 'for %s in ... .. ... max N { }', N the "
                   "most iterations it may take",
                   l->var);
        return false;
    } else if (n > VDEVC_MAX_LOOP) {
        vdevc_error(u->diag, st->rhs->loc, "loop-too-long",
                    "a loop runs at most %u times, this one %llu",
                    VDEVC_MAX_LOOP, (unsigned long long)n);
        return false;
    }
    l->bound = n;
    return true;
}

static void
check_for(struct scope *s, struct vdevc_stmt *st)
{
    struct vdevc_loop *l = st->loop;
    bool ok = loop_word(s, l->in, "in", l->in_loc);
    ok &= resolve(s, st->lhs, true);
    ok &= resolve(s, st->rhs, true);
    if (!ok || !loop_bound(s, st))
        return;
    unsigned saved = s->nr_locals;
    unsigned width = 64;
    if (l->constant)
        width = vdevc_bits_needed(st->rhs->num ? st->rhs->num - 1 : 0);
    int slot = add_local(s, l->var, l->var_loc, width ? width : 1);
    if (slot < 0)
        return;
    l->slot = slot;
    s->locals[s->nr_locals - 1].readonly = true;
    /* The loop variable counts as read: the loop is its use. */
    s->locals[s->nr_locals - 1].reads = 1;
    s->loops++;
    check_block(s, st->then_s);
    s->loops--;
    s->nr_locals = saved;
}

static void
check_return(struct scope *s, struct vdevc_stmt *st)
{
    struct vdevc_unit *u = s->u;
    struct vdevc_proc *p = s->proc;
    if (!p) {
        vdevc_error(u->diag, st->loc, "bad-return",
                    "'return' belongs in a proc; a hook ends at its '}'");
        return;
    }
    if (!st->lhs && p->width != 0) {
        vdevc_error(u->diag, st->loc, "bad-return",
                    "proc '%s' returns a value (%u bits): 'return EXPR;'",
                    p->name, p->width);
        return;
    }
    if (st->lhs && p->width == 0) {
        vdevc_error(u->diag, st->lhs->loc, "bad-return",
                    "proc '%s' returns no value (declare one: '%s(...) : "
                    "WIDTH')",
                    p->name, p->name);
        return;
    }
    if (!st->lhs || !resolve(s, st->lhs, true))
        return;
    bool literal = st->lhs->kind == E_NUM && st->lhs->ref == REF_NONE;
    if (literal ? st->lhs->num > vdevc_mask(p->width)
                : st->lhs->width > p->width)
        vdevc_error(
            u->diag, st->lhs->loc, "width-mismatch",
            "%s returned from proc '%s', whose result has %u bits "
            "(mask or shift it to fit)",
            literal
                ? talloc_asprintf(u, "0x%llx", (unsigned long long)st->lhs->num)
                : talloc_asprintf(u, "%u-bit value", st->lhs->width),
            p->name, p->width);
}

/* In a block instance a condition may be constant by design (a block
 * parameter): only the device's own hooks are warned about. */
static void
constant_condition(struct scope *s, const struct vdevc_expr *e)
{
    if (s->prefix[0] != '\0')
        return;
    bool num = e->kind == E_NUM, enumc = e->ref == REF_ENUMC;
    if (!num && !enumc)
        return;
    vdevc_warn_once(s->u, VDEVC_W_CONSTANT_CONDITION, e->loc,
                    "condition is always %s", e->num ? "true" : "false");
}

static void
check_stmt(struct scope *s, struct vdevc_stmt *st)
{
    switch (st->kind) {
    case S_ASSIGN:
        check_assign(s, st);
        break;
    case S_IF:
        if (resolve(s, st->lhs, true))
            constant_condition(s, st->lhs);
        check_block(s, st->then_s);
        if (st->else_s)
            check_stmt(s, st->else_s);
        break;
    case S_LET:
        check_let(s, st);
        break;
    case S_RAISE:
    case S_LOWER:
    case S_NOTIFY:
        check_irq_stmt(s, st);
        break;
    case S_DMA:
        check_dma(s, st);
        break;
    case S_CALL:
        if (st->lhs->kind == E_NAME && strcmp(st->lhs->name, "reset") == 0)
            st->kind = S_RESET;
        else if (st->lhs->kind != E_CALL)
            vdevc_error(s->u->diag, st->loc, "not-a-call",
                        "a statement on its own must be a function call "
                        "(or 'reset;')");
        else
            resolve(s, st->lhs, false);
        break;
    case S_BLOCK:
        check_block(s, st);
        break;
    case S_FOR:
        check_for(s, st);
        break;
    case S_RETURN:
        check_return(s, st);
        break;
    case S_BREAK:
    case S_CONTINUE:
        if (s->loops == 0)
            vdevc_error(s->u->diag, st->loc, "bad-loop", "'%s' outside a loop",
                        st->kind == S_BREAK ? "break" : "continue");
        break;
    case S_RESET:
        break;
    case S_START:
    case S_STOP:
    case S_EMIT:
    case S_WORD:
        if (!st->rhs || resolve(s, st->rhs, true))
            vdevc_host_stmt(s->u, st);
        break;
    }
}

/* A register's, field's or variable's hook (`value`, `old` when it is
 * a write, `index` in an array, `width` of a guest access). */
static void
check_hook(struct vdevc_unit *u, struct vdevc_hook *h, const char *prefix,
           unsigned width, struct vdevc_enum *etype, bool has_index,
           bool has_width)
{
    if (!h)
        return;
    struct scope s = {
        .u = u,
        .prefix = prefix,
        .hook = h,
        .has_value = true,
        .has_old = strcmp(h->when, "write") == 0,
        .has_index = has_index,
        .has_width = has_width,
        .value_width = width,
        .value_etype = etype,
    };
    check_stmt(&s, h->body);
}

void
vdevc_sema_proc_body(struct vdevc_unit *u, struct vdevc_proc *p)
{
    struct vdevc_hook *h = talloc_zero(p, struct vdevc_hook);
    h->hdr = p->hdr;
    h->body = p->body;
    struct scope s = {.u = u, .prefix = "", .hook = h, .proc = p};
    for (unsigned i = 0; i < p->params.n; i++) {
        struct vdevc_param *a = p->params.v[i];
        if (add_local(&s, a->name, a->loc, (unsigned)a->width) < 0)
            return;
        /* A parameter nobody reads is the caller's business. */
        s.locals[s.nr_locals - 1].reads = 1;
    }
    check_stmt(&s, p->body);
    p->nr_locals = h->nr_locals;
    p->calls |= h->calls;
    p->irqs |= h->irqs;
    talloc_free(h);
}

bool
vdevc_sema_cond(struct vdevc_unit *u, struct vdevc_expr *e, const char *prefix,
                const char *what)
{
    struct scope s = {.u = u, .prefix = prefix, .what = what};
    return resolve(&s, e, true);
}

void
vdevc_check_device_hook(struct vdevc_unit *u, struct vdevc_hook *h)
{
    struct scope s = {.u = u, .prefix = "", .hook = h, .plain = true};
    check_stmt(&s, h->body);
}

bool
vdevc_expr_fits(struct vdevc_unit *u, struct vdevc_expr *e, unsigned width,
                const char *what)
{
    struct scope s = {.u = u};
    return check_fits(&s, e, width, NULL, what);
}

/* ------------------------------------------------------------ interrupts */

static void
check_interrupt(struct vdevc_unit *u, struct vdevc_interrupt *irq,
                uint64_t *seen)
{
    uint64_t v = 0;
    if (!vdevc_const_eval(u, irq->vector, &v))
        return;
    if (u->dev->nr_vectors == 0) {
        vdevc_error(u->diag, irq->vector->loc, "no-interrupts",
                    "the device declares no intx, msi or msix");
        return;
    }
    if (v >= u->dev->nr_vectors || v >= VDEVC_MAX_IRQS) {
        vdevc_error(u->diag, irq->vector->loc, "bad-vector",
                    "vector %llu is out of range (the device has %u)",
                    (unsigned long long)v, u->dev->nr_vectors);
        return;
    }
    if (*seen & (UINT64_C(1) << v)) {
        vdevc_error(u->diag, irq->vector->loc, "duplicate-name",
                    "interrupt %llu is declared twice", (unsigned long long)v);
        return;
    }
    *seen |= UINT64_C(1) << v;
    irq->vec = (unsigned)v;
    struct scope s = {.u = u,
                      .prefix = "",
                      .what = "interrupt expressions",
                      .irq_bit = UINT64_C(1) << v};
    if (resolve(&s, irq->expr, true) && irq->expr->kind == E_NUM)
        vdevc_warn_once(u, VDEVC_W_CONSTANT_CONDITION, irq->expr->loc,
                        "interrupt %llu is %s asserted", (unsigned long long)v,
                        irq->expr->num ? "always" : "never");
}

static uint64_t
hook_irqs(const struct vdevc_hook *h, uint64_t all)
{
    if (!h)
        return 0;
    return h->calls ? all : h->irqs;
}

static void
check_reg_hooks(struct vdevc_unit *u, struct vdevc_reg *r, uint64_t all)
{
    bool arr = r->n > 1;
    for (unsigned i = 0; i < r->fields.n; i++) {
        struct vdevc_field *f = r->fields.v[i];
        unsigned w = f->hi_v - f->lo_v + 1;
        check_hook(u, f->on_read, r->scope, w, f->etype, arr, true);
        check_hook(u, f->on_write, r->scope, w, f->etype, arr, true);
        r->irqs_read |= hook_irqs(f->on_read, all);
        r->irqs_write |= hook_irqs(f->on_write, all);
    }
    check_hook(u, r->on_read, r->scope, r->width, NULL, arr, true);
    check_hook(u, r->on_write, r->scope, r->width, NULL, arr, true);
    r->irqs_read |= hook_irqs(r->on_read, all);
    r->irqs_write |= hook_irqs(r->on_write, all);
    if (r->rc | r->rs)
        r->irqs_read |= r->irqs;
    if (r->rw | r->w1c | r->w1s)
        r->irqs_write |= r->irqs;
}

void
vdevc_sema_behaviour(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    uint64_t seen = 0;
    for (unsigned i = 0; i < d->interrupts.n; i++)
        check_interrupt(u, d->interrupts.v[i], &seen);
    vdevc_sema_proc_bodies(u);
    for (unsigned i = 0; i < d->regs.n; i++)
        check_reg_hooks(u, d->regs.v[i], seen);
    for (unsigned i = 0; i < d->vars.n; i++) {
        struct vdevc_var *v = d->vars.v[i];
        check_hook(u, v->on_write, "", v->width, v->etype, false, false);
    }
    /* on init, on reset: statements without an access. */
    if (d->on_init)
        vdevc_check_device_hook(u, d->on_init);
    if (d->on_reset)
        vdevc_check_device_hook(u, d->on_reset);
    vdevc_sema_host_behaviour(u);
    vdevc_sema_proc_usage(u);
    vdevc_sema_banks(u);
}
