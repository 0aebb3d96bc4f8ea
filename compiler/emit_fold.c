/* Statement-language expressions as a C expression tree (cexpr.h) whose
 * constructors fold constants and drop operations that change nothing
 * (`x | 0`, a mask over bits the value cannot have, `b != 0` of a 0/1
 * value, a comparison the operands' ranges decide), tracking the range
 * [min, max] of every value. emit_expr.c prints the tree. */
#include <string.h>
#include <talloc.h>

#include "cexpr.h"

/* ------------------------------------------------------------ bounds */

unsigned
vdevc_bits_of(uint64_t max)
{
    return max == 0 ? 0 : 64 - (unsigned)__builtin_clzll(max);
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t
sat_mul(uint64_t a, uint64_t b)
{
    if (a == 0 || b == 0)
        return 0;
    return a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* The range of a op b from its operands' (b a constant where the
 * operator needs one to say more than "anything"). */
static void
bin_range(int op, const struct cx *a, const struct cx *b, uint64_t *min,
          uint64_t *max)
{
    const struct vdevc_opinfo *oi = vdevc_op(op);
    bool k = b->kind == CX_NUM;
    *min = 0;
    *max = UINT64_MAX;
    if (oi->flags & (OPF_COMPARE | OPF_LOGIC)) {
        *max = 1;
        return;
    }
    switch (op) {
    case '&':
        *max = a->max < b->max ? a->max : b->max;
        break;
    case '|':
        *min = a->min > b->min ? a->min : b->min;
        *max = vdevc_mask(vdevc_bits_of(a->max > b->max ? a->max : b->max));
        break;
    case '^':
        /* Bits of k above what a can hold pass through unchanged. */
        if (k || a->kind == CX_NUM) {
            const struct cx *x = k ? a : b, *kk = k ? b : a;
            uint64_t low = vdevc_mask(vdevc_bits_of(x->max));
            *min = kk->num & ~low;
            *max = *min | low;
        } else {
            *max = vdevc_mask(vdevc_bits_of(a->max > b->max ? a->max : b->max));
        }
        break;
    case '+':
        if (sat_add(a->max, b->max) != UINT64_MAX) {
            *min = a->min + b->min;
            *max = a->max + b->max;
        }
        break;
    case '-':
        if (a->min >= b->max) {
            *min = a->min - b->max;
            *max = a->max - b->min;
        }
        break;
    case '*':
        if (sat_mul(a->max, b->max) != UINT64_MAX) {
            *min = a->min * b->min;
            *max = a->max * b->max;
        }
        break;
    case OP_SHL:
        if (k && a->max <= (UINT64_MAX >> b->num)) {
            *min = a->min << b->num;
            *max = a->max << b->num;
        }
        break;
    case OP_SHR:
        *min = k ? a->min >> b->num : 0;
        *max = k ? a->max >> b->num : a->max;
        break;
    case '/':
        *min = k && b->num ? a->min / b->num : 0;
        *max = k && b->num ? a->max / b->num : a->max;
        break;
    case '%':
        *max = k && b->num && a->max > b->num - 1 ? b->num - 1 : a->max;
        break;
    }
}

/* ------------------------------------------------------------ building */

static struct cx *
cx_new(struct vdevc_emit *e, enum cx_kind kind)
{
    struct cx *c = talloc_zero(e->tmp, struct cx);
    c->kind = kind;
    c->pure = true;
    return c;
}

struct cx *
vdevc_cx_num(struct vdevc_emit *e, uint64_t v)
{
    struct cx *c = cx_new(e, CX_NUM);
    c->num = v;
    c->min = c->max = v;
    return c;
}

enum cx_type
vdevc_storage_type(unsigned bits)
{
    return bits <= 16 ? T_INT : bits <= 32 ? T_U32 : T_U64;
}

struct cx *
vdevc_cx_leaf(struct vdevc_emit *e, const char *text, unsigned storage_bits,
              uint64_t max)
{
    struct cx *c = cx_new(e, CX_LEAF);
    c->text = text;
    c->type = vdevc_storage_type(storage_bits);
    c->max = max;
    return c;
}

static bool
is_num(const struct cx *c, uint64_t v)
{
    return c->kind == CX_NUM && c->num == v;
}

static bool
is_bin(const struct cx *c, int op)
{
    return c->kind == CX_BIN && c->op == op;
}

static const int inverse_cmp[][2] = {
    {OP_EQ, OP_NE}, {OP_NE, OP_EQ}, {'<', OP_GE},
    {OP_GE, '<'},   {'>', OP_LE},   {OP_LE, '>'},
};

static int
inverted(int op)
{
    for (unsigned i = 0; i < 6; i++)
        if (inverse_cmp[i][0] == op)
            return inverse_cmp[i][1];
    return 0;
}

/* Values that cannot be 0: a nonzero constant, x | k with k nonzero,
 * x ^ k with k setting bits x cannot have. */
bool
vdevc_known_nonzero(const struct cx *c)
{
    if (c->min > 0)
        return true;
    if (is_bin(c, '|'))
        return vdevc_known_nonzero(c->a) || vdevc_known_nonzero(c->b);
    if (is_bin(c, '^') && c->b->kind == CX_NUM)
        return (c->b->num & ~vdevc_mask(vdevc_bits_of(c->a->max))) != 0;
    return false;
}

static struct cx *
cx_unary(struct vdevc_emit *e, int op, struct cx *a)
{
    if (a->kind == CX_NUM)
        return vdevc_cx_num(e, vdevc_op_eval_unary(op, a->num));
    if (op == '!' && a->kind == CX_BIN && inverted(a->op) != 0)
        return vdevc_cx_bin(e, inverted(a->op), a->a, a->b);
    if (op == '!' && a->pure && vdevc_known_nonzero(a))
        return vdevc_cx_num(e, 0);
    /* GCC's -Wbool-operation takes ~ of a 0/1 value for a mistake. */
    if (op == '~' && a->max <= 1)
        return vdevc_cx_bin(e, '^', a, vdevc_cx_num(e, UINT64_MAX));
    struct cx *c = cx_new(e, CX_UNARY);
    c->op = op;
    c->a = a;
    c->pure = a->pure;
    c->max = op == '!' ? 1 : UINT64_MAX;
    if (op == '~') {
        c->min = ~a->max;
        c->max = ~a->min;
    }
    return c;
}

/* a op b from the operands' ranges alone, when they decide it. */
static bool
cmp_known(int op, const struct cx *a, const struct cx *b, uint64_t *out)
{
    bool lt = a->max<b->min, gt = a->min> b->max;
    bool le = a->max <= b->min, ge = a->min >= b->max;
    switch (op) {
    case '<':
        return lt ? (*out = 1, true) : ge ? (*out = 0, true) : false;
    case OP_GE:
        return ge ? (*out = 1, true) : lt ? (*out = 0, true) : false;
    case OP_LE:
        return le ? (*out = 1, true) : gt ? (*out = 0, true) : false;
    case '>':
        return gt ? (*out = 1, true) : le ? (*out = 0, true) : false;
    case OP_EQ:
        return lt || gt ? (*out = 0, true) : false;
    case OP_NE:
        return lt || gt ? (*out = 1, true) : false;
    default:
        return false;
    }
}

static bool
cx_equal(const struct cx *a, const struct cx *b)
{
    if (a->kind != b->kind || a->op != b->op || a->num != b->num)
        return false;
    switch (a->kind) {
    case CX_NUM:
        return true;
    case CX_LEAF:
        return strcmp(a->text, b->text) == 0;
    case CX_UNARY:
        return cx_equal(a->a, b->a);
    case CX_BIN:
        return cx_equal(a->a, b->a) && cx_equal(a->b, b->b);
    case CX_INDEX:
        return strcmp(a->text, b->text) == 0 && cx_equal(a->a, b->a);
    default: /* calls may differ each time */
        return false;
    }
}

/* x op x: known for comparisons, - and ^; x for & and |. */
static struct cx *
same_operands(struct vdevc_emit *e, int op, struct cx *a)
{
    switch (op) {
    case OP_EQ:
    case OP_LE:
    case OP_GE:
        return vdevc_cx_num(e, 1);
    case OP_NE:
    case '<':
    case '>':
    case '-':
    case '^':
        return vdevc_cx_num(e, 0);
    case '&':
    case '|':
        return a;
    case OP_ANDAND:
    case OP_OROR:
        return vdevc_cx_bin(e, OP_NE, a, vdevc_cx_num(e, 0));
    default:
        return NULL;
    }
}

/* Value-preserving rewrites of `a op b`; NULL when none applies. */
static struct cx *
simplify(struct vdevc_emit *e, int op, struct cx *a, struct cx *b)
{
    uint64_t v;
    if (a->kind == CX_NUM && b->kind == CX_NUM) {
        vdevc_op_eval(op, a->num, b->num, &v);
        return vdevc_cx_num(e, v);
    }
    if (a->pure && cx_equal(a, b) && same_operands(e, op, a))
        return same_operands(e, op, a);
    bool cmp = vdevc_op(op)->flags & OPF_COMPARE;
    if (cmp && a->pure && b->pure && cmp_known(op, a, b, &v))
        return vdevc_cx_num(e, v);
    /* A 0/1 value compared with 0. */
    if ((op == OP_NE || op == OP_EQ) && is_num(b, 0) && a->max <= 1) {
        if (op == OP_NE)
            return a;
        if (a->kind == CX_BIN && inverted(a->op) != 0)
            return vdevc_cx_bin(e, inverted(a->op), a->a, a->b);
    }
    /* A test of a value that cannot be 0. */
    if ((op == OP_ANDAND || op == OP_OROR) && b->pure && vdevc_known_nonzero(b))
        return op == OP_OROR && a->pure
                   ? vdevc_cx_num(e, 1)
                   : vdevc_cx_bin(e, OP_NE, a, vdevc_cx_num(e, 0));
    if ((op == OP_ANDAND || op == OP_OROR) && a->pure && vdevc_known_nonzero(a))
        return op == OP_OROR && b->pure
                   ? vdevc_cx_num(e, 1)
                   : vdevc_cx_bin(e, OP_NE, b, vdevc_cx_num(e, 0));
    if (op == OP_NE && is_num(b, 0) && a->pure && vdevc_known_nonzero(a))
        return vdevc_cx_num(e, 1);
    switch (op) {
    case '&':
        if ((is_num(a, 0) && b->pure) || (is_num(b, 0) && a->pure))
            return vdevc_cx_num(e, 0);
        if (b->kind == CX_NUM &&
            (vdevc_mask(vdevc_bits_of(a->max)) & ~b->num) == 0)
            return a;
        if (a->kind == CX_NUM &&
            (vdevc_mask(vdevc_bits_of(b->max)) & ~a->num) == 0)
            return b;
        /* (x & k1) & k2, and (x & k) & y where y has no bits outside k. */
        if (is_bin(a, '&') && a->b->kind == CX_NUM) {
            if (b->kind == CX_NUM)
                return vdevc_cx_bin(e, '&', a->a,
                                    vdevc_cx_num(e, a->b->num & b->num));
            if ((vdevc_mask(vdevc_bits_of(b->max)) & ~a->b->num) == 0)
                return vdevc_cx_bin(e, '&', a->a, b);
        }
        if (is_bin(b, '&') && b->b->kind == CX_NUM &&
            (vdevc_mask(vdevc_bits_of(a->max)) & ~b->b->num) == 0)
            return vdevc_cx_bin(e, '&', a, b->a);
        break;
    case '|':
        /* (x & c) | k == x | k when every bit c clears, k sets. */
        if (is_bin(a, '&') && a->b->kind == CX_NUM && b->kind == CX_NUM &&
            (~a->b->num & ~b->num & vdevc_mask(vdevc_bits_of(a->a->max))) == 0)
            return vdevc_cx_bin(e, '|', a->a, b);
        /* fall through */
    case '^':
    case '+':
        if (is_num(a, 0))
            return b;
        /* fall through */
    case '-':
        if (is_num(b, 0))
            return a;
        break;
    case '*':
        if (is_num(a, 1))
            return b;
        if (is_num(b, 1))
            return a;
        if ((is_num(a, 0) && b->pure) || (is_num(b, 0) && a->pure))
            return vdevc_cx_num(e, 0);
        break;
    case '/':
        if (is_num(b, 1))
            return a;
        break;
    case OP_SHL:
    case OP_SHR:
        if (is_num(b, 0))
            return a;
        if ((is_num(a, 0) && b->pure) ||
            (b->kind == CX_NUM && b->num >= 64 && a->pure))
            return vdevc_cx_num(e, 0);
        if (op == OP_SHR && b->kind == CX_NUM &&
            vdevc_bits_of(a->max) <= b->num && a->pure)
            return vdevc_cx_num(e, 0);
        break;
    default:
        break;
    }
    return NULL;
}

struct cx *
vdevc_cx_bin(struct vdevc_emit *e, int op, struct cx *a, struct cx *b)
{
    struct cx *s = simplify(e, op, a, b);
    if (s)
        return s;
    struct cx *c = cx_new(e, CX_BIN);
    c->op = op;
    c->a = a;
    c->b = b;
    c->pure = a->pure && b->pure;
    bin_range(op, a, b, &c->min, &c->max);
    return c;
}

/* ------------------------------------------------------------ from .vdev */

static const char *
state_name(const struct vdevc_expr *x, uint64_t *n, unsigned *bits)
{
    if (x->ref == REF_BUFFER) {
        const struct vdevc_var *v = x->sym;
        *n = v->len;
        *bits = 8;
        return v->name;
    }
    const struct vdevc_reg *r = vdevc_ref_reg(x);
    *n = r->n;
    *bits = r->width;
    return r->cname;
}

/* A register element or buffer byte: d->s.NAME or a bounds-checked
 * d->s.NAME[i]. */
static struct cx *
cx_storage(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    uint64_t n;
    unsigned bits;
    const char *name = state_name(x, &n, &bits);
    char *place = talloc_asprintf(e->tmp, "d->s.%s", name);
    if (!x->idx)
        return vdevc_cx_leaf(e, place, bits, vdevc_mask(bits));
    struct cx *i = vdevc_cx_from(e, x->idx);
    uint64_t in_range;
    if (i->kind == CX_NUM)
        return i->num < n
                   ? vdevc_cx_leaf(e,
                                   talloc_asprintf(e->tmp, "%s[%llu]", place,
                                                   (unsigned long long)i->num),
                                   bits, vdevc_mask(bits))
                   : vdevc_cx_num(e, 0);
    struct cx *c = cx_new(e, CX_INDEX);
    c->text = place;
    c->a = i;
    c->num = n;
    c->type = vdevc_storage_type(bits);
    c->max = vdevc_mask(bits);
    c->pure = i->pure;
    /* Known in range (an array's own hook indexing it): no check. */
    c->checked =
        !(cmp_known('<', i, vdevc_cx_num(e, n), &in_range) && in_range);
    return c;
}

static struct cx *
cx_call(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    const struct vdevc_extern *f = x->sym;
    struct cx *c = cx_new(e, CX_CALL);
    c->text = f->name;
    c->pure = false;
    c->nargs = x->args.n;
    c->args = talloc_array(c, struct cx *, x->args.n ? x->args.n : 1);
    c->arg_bits = talloc_array(c, unsigned, x->args.n ? x->args.n : 1);
    for (unsigned i = 0; i < x->args.n; i++) {
        c->args[i] = vdevc_cx_from(e, x->args.v[i]);
        c->arg_bits[i] = vdevc_type_bits(vdevc_param_at(&f->params, i)->type);
    }
    unsigned rb = vdevc_type_bits(f->ret);
    c->type = vdevc_storage_type(rb);
    c->max = vdevc_mask(rb);
    return c;
}

struct cx *
vdevc_cx_from(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    switch (x->kind) {
    case E_NUM:
        return vdevc_cx_num(e, x->num);
    case E_CALL:
        return cx_call(e, x);
    case E_UNARY:
        return cx_unary(e, x->op, vdevc_cx_from(e, x->lhs));
    case E_BINARY:
        return vdevc_cx_bin(e, x->op, vdevc_cx_from(e, x->lhs),
                            vdevc_cx_from(e, x->rhs));
    default:
        break;
    }
    switch (x->ref) {
    case REF_REG:
    case REF_BUFFER:
        return cx_storage(e, x);
    case REF_FIELD: {
        const struct vdevc_field *f = x->sym;
        struct cx *r = cx_storage(e, x);
        return vdevc_cx_bin(
            e, '&', vdevc_cx_bin(e, OP_SHR, r, vdevc_cx_num(e, f->lo_v)),
            vdevc_cx_num(e, vdevc_mask(f->hi_v - f->lo_v + 1)));
    }
    case REF_VAR: {
        const struct vdevc_var *v = x->sym;
        return vdevc_cx_leaf(e, talloc_asprintf(e->tmp, "d->s.%s", v->name),
                             v->width, vdevc_mask(v->width));
    }
    case REF_LOCAL:
        return vdevc_cx_leaf(e, talloc_asprintf(e->tmp, "l_%s", x->name), 64,
                             UINT64_MAX);
    case REF_VALUE:
    case REF_OLD:
        return vdevc_cx_leaf(e, x->ref == REF_VALUE ? e->value : e->old, 64,
                             vdevc_mask(e->value_bits));
    case REF_INDEX:
        return vdevc_cx_leaf(e, e->index, 32, e->index_max);
    case REF_ENUMC:
    case REF_CONST:
        return vdevc_cx_num(e, x->num);
    default:
        return vdevc_cx_num(e, 0);
    }
}
