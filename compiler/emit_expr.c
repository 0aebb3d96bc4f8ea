/* Statement-language expressions as C. Every .vdev value is a uint64_t;
 * the C keeps that meaning while reading like hand-written code: an
 * expression becomes a small tree (struct cx) whose constructors fold
 * constants and drop operations that change nothing (`x | 0`, a mask over
 * bits the value cannot have, `b != 0` of a 0/1 value), tracking an upper
 * bound of each value; the printer then writes it with the fewest
 * parentheses C precedence (and GCC's -Wparentheses) allows, and casts to
 * uint64_t only where C's narrower arithmetic could give another result
 * in the bits the consumer uses. */
#include <string.h>
#include <talloc.h>

#include "emit.h"

enum cx_kind {
    CX_NUM,
    CX_LEAF,  /* a C primary expression: storage, local, hook argument */
    CX_UNARY, /* op a */
    CX_BIN,   /* a op b */
    CX_CALL,  /* text(dev, args...): a companion function */
    CX_INDEX, /* text[a] when a < n, else 0: array and buffer reads */
};

/* C type of a value after integer promotion. */
enum cx_type {
    T_INT, /* uint8_t, uint16_t, small literals: promoted to int */
    T_U32,
    T_U64,
};

struct cx {
    enum cx_kind kind;
    int op;
    uint64_t num;     /* CX_NUM: the value; CX_INDEX: element count */
    const char *text; /* LEAF: C text; CALL: function; INDEX: array */
    struct cx *a, *b; /* operands; CX_INDEX: a is the index */
    struct cx **args; /* CX_CALL */
    unsigned nargs;
    unsigned *arg_bits; /* CX_CALL: parameter widths (1: bool) */
    bool checked;       /* CX_INDEX: a may be out of range */
    enum cx_type type;  /* LEAF, CALL, INDEX: C type of the value */
    uint64_t min, max;  /* the value is in [min, max] */
    bool pure;          /* no side effects: may be dropped or repeated */
};

/* A printed subexpression and what the printer knows about it. */
struct ctext {
    char *s;
    int prec;          /* of the outermost operator; 16 primary */
    int op;            /* outermost binary or unary operator, 0 if none */
    bool unary;        /* op is a unary operator */
    enum cx_type type; /* C type of the value */
    bool exact;        /* the C value is the .vdev value (else only its
                        * bits below the consumer's width are) */
};

#define PREC_PRIMARY 16
#define PREC_UNARY 14
#define PREC_COND 3

/* ------------------------------------------------------------ bounds */

static unsigned
bits_of(uint64_t max)
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
        *max = vdevc_mask(bits_of(a->max > b->max ? a->max : b->max));
        break;
    case '^':
        /* Bits of k above what a can hold pass through unchanged. */
        if (k || a->kind == CX_NUM) {
            const struct cx *x = k ? a : b, *kk = k ? b : a;
            uint64_t low = vdevc_mask(bits_of(x->max));
            *min = kk->num & ~low;
            *max = *min | low;
        } else {
            *max = vdevc_mask(bits_of(a->max > b->max ? a->max : b->max));
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

static struct cx *
cx_num(struct vdevc_emit *e, uint64_t v)
{
    struct cx *c = cx_new(e, CX_NUM);
    c->num = v;
    c->min = c->max = v;
    return c;
}

static enum cx_type
storage_type(unsigned bits)
{
    return bits <= 16 ? T_INT : bits <= 32 ? T_U32 : T_U64;
}

static struct cx *
cx_leaf(struct vdevc_emit *e, const char *text, unsigned storage_bits,
        uint64_t max)
{
    struct cx *c = cx_new(e, CX_LEAF);
    c->text = text;
    c->type = storage_type(storage_bits);
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
static bool
known_nonzero(const struct cx *c)
{
    if (c->min > 0)
        return true;
    if (is_bin(c, '|'))
        return known_nonzero(c->a) || known_nonzero(c->b);
    if (is_bin(c, '^') && c->b->kind == CX_NUM)
        return (c->b->num & ~vdevc_mask(bits_of(c->a->max))) != 0;
    return false;
}

static struct cx *cx_bin(struct vdevc_emit *e, int op, struct cx *a,
                         struct cx *b);

static struct cx *
cx_unary(struct vdevc_emit *e, int op, struct cx *a)
{
    if (a->kind == CX_NUM)
        return cx_num(e, vdevc_op_eval_unary(op, a->num));
    if (op == '!' && a->kind == CX_BIN && inverted(a->op) != 0)
        return cx_bin(e, inverted(a->op), a->a, a->b);
    if (op == '!' && a->pure && known_nonzero(a))
        return cx_num(e, 0);
    /* GCC's -Wbool-operation takes ~ of a 0/1 value for a mistake. */
    if (op == '~' && a->max <= 1)
        return cx_bin(e, '^', a, cx_num(e, UINT64_MAX));
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
        return cx_num(e, 1);
    case OP_NE:
    case '<':
    case '>':
    case '-':
    case '^':
        return cx_num(e, 0);
    case '&':
    case '|':
        return a;
    case OP_ANDAND:
    case OP_OROR:
        return cx_bin(e, OP_NE, a, cx_num(e, 0));
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
        return cx_num(e, v);
    }
    if (a->pure && cx_equal(a, b) && same_operands(e, op, a))
        return same_operands(e, op, a);
    bool cmp = vdevc_op(op)->flags & OPF_COMPARE;
    if (cmp && a->pure && b->pure && cmp_known(op, a, b, &v))
        return cx_num(e, v);
    /* A 0/1 value compared with 0. */
    if ((op == OP_NE || op == OP_EQ) && is_num(b, 0) && a->max <= 1) {
        if (op == OP_NE)
            return a;
        if (a->kind == CX_BIN && inverted(a->op) != 0)
            return cx_bin(e, inverted(a->op), a->a, a->b);
    }
    /* A test of a value that cannot be 0. */
    if ((op == OP_ANDAND || op == OP_OROR) && b->pure && known_nonzero(b))
        return op == OP_OROR && a->pure ? cx_num(e, 1)
                                        : cx_bin(e, OP_NE, a, cx_num(e, 0));
    if ((op == OP_ANDAND || op == OP_OROR) && a->pure && known_nonzero(a))
        return op == OP_OROR && b->pure ? cx_num(e, 1)
                                        : cx_bin(e, OP_NE, b, cx_num(e, 0));
    if (op == OP_NE && is_num(b, 0) && a->pure && known_nonzero(a))
        return cx_num(e, 1);
    switch (op) {
    case '&':
        if ((is_num(a, 0) && b->pure) || (is_num(b, 0) && a->pure))
            return cx_num(e, 0);
        if (b->kind == CX_NUM && (vdevc_mask(bits_of(a->max)) & ~b->num) == 0)
            return a;
        if (a->kind == CX_NUM && (vdevc_mask(bits_of(b->max)) & ~a->num) == 0)
            return b;
        /* (x & k1) & k2, and (x & k) & y where y has no bits outside k. */
        if (is_bin(a, '&') && a->b->kind == CX_NUM) {
            if (b->kind == CX_NUM)
                return cx_bin(e, '&', a->a, cx_num(e, a->b->num & b->num));
            if ((vdevc_mask(bits_of(b->max)) & ~a->b->num) == 0)
                return cx_bin(e, '&', a->a, b);
        }
        if (is_bin(b, '&') && b->b->kind == CX_NUM &&
            (vdevc_mask(bits_of(a->max)) & ~b->b->num) == 0)
            return cx_bin(e, '&', a, b->a);
        break;
    case '|':
        /* (x & c) | k == x | k when every bit c clears, k sets. */
        if (is_bin(a, '&') && a->b->kind == CX_NUM && b->kind == CX_NUM &&
            (~a->b->num & ~b->num & vdevc_mask(bits_of(a->a->max))) == 0)
            return cx_bin(e, '|', a->a, b);
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
            return cx_num(e, 0);
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
            return cx_num(e, 0);
        if (op == OP_SHR && b->kind == CX_NUM && bits_of(a->max) <= b->num &&
            a->pure)
            return cx_num(e, 0);
        break;
    default:
        break;
    }
    return NULL;
}

static struct cx *
cx_bin(struct vdevc_emit *e, int op, struct cx *a, struct cx *b)
{
    struct cx *s = simplify(e, op, a, b);
    if (s != NULL)
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

static struct cx *cx_from(struct vdevc_emit *e, const struct vdevc_expr *x);

/* A register element or buffer byte: d->s.NAME or a bounds-checked
 * d->s.NAME[i]. */
static struct cx *
cx_storage(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    uint64_t n;
    unsigned bits;
    const char *name = state_name(x, &n, &bits);
    char *place = talloc_asprintf(e->tmp, "d->s.%s", name);
    if (x->idx == NULL)
        return cx_leaf(e, place, bits, vdevc_mask(bits));
    struct cx *i = cx_from(e, x->idx);
    uint64_t in_range;
    if (i->kind == CX_NUM)
        return i->num < n ? cx_leaf(e,
                                    talloc_asprintf(e->tmp, "%s[%llu]", place,
                                                    (unsigned long long)i->num),
                                    bits, vdevc_mask(bits))
                          : cx_num(e, 0);
    struct cx *c = cx_new(e, CX_INDEX);
    c->text = place;
    c->a = i;
    c->num = n;
    c->type = storage_type(bits);
    c->max = vdevc_mask(bits);
    c->pure = i->pure;
    /* Known in range (an array's own hook indexing it): no check. */
    c->checked = !(cmp_known('<', i, cx_num(e, n), &in_range) && in_range);
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
        c->args[i] = cx_from(e, x->args.v[i]);
        c->arg_bits[i] =
            vdevc_type_bits(((const struct vdevc_param *)f->params.v[i])->type);
    }
    unsigned rb = vdevc_type_bits(f->ret);
    c->type = storage_type(rb);
    c->max = vdevc_mask(rb);
    return c;
}

static struct cx *
cx_from(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    switch (x->kind) {
    case E_NUM:
        return cx_num(e, x->num);
    case E_CALL:
        return cx_call(e, x);
    case E_UNARY:
        return cx_unary(e, x->op, cx_from(e, x->lhs));
    case E_BINARY:
        return cx_bin(e, x->op, cx_from(e, x->lhs), cx_from(e, x->rhs));
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
        return cx_bin(e, '&', cx_bin(e, OP_SHR, r, cx_num(e, f->lo_v)),
                      cx_num(e, vdevc_mask(f->hi_v - f->lo_v + 1)));
    }
    case REF_VAR: {
        const struct vdevc_var *v = x->sym;
        return cx_leaf(e, talloc_asprintf(e->tmp, "d->s.%s", v->name), v->width,
                       vdevc_mask(v->width));
    }
    case REF_LOCAL:
        return cx_leaf(e, talloc_asprintf(e->tmp, "l_%s", x->name), 64,
                       UINT64_MAX);
    case REF_VALUE:
    case REF_OLD:
        return cx_leaf(e, x->ref == REF_VALUE ? e->value : e->old, 64,
                       vdevc_mask(e->value_bits));
    case REF_INDEX:
        return cx_leaf(e, e->index, 32, e->index_max);
    case REF_ENUMC:
    case REF_CONST:
        return cx_num(e, x->num);
    default:
        return cx_num(e, 0);
    }
}

/* ------------------------------------------------------------ printing */

static struct ctext print(struct vdevc_emit *e, const struct cx *c,
                          unsigned dem);
static struct ctext truth(struct vdevc_emit *e, const struct cx *c);

static struct ctext
primary(char *s, enum cx_type type)
{
    return (struct ctext){
        .s = s, .prec = PREC_PRIMARY, .type = type, .exact = true};
}

/* Mostly-ones masks read better as the complement of their zeros. */
static struct ctext
print_num(struct vdevc_emit *e, uint64_t v)
{
    uint64_t c32 = ~v & 0xffffffffu;
    if (v > 0xffffffffu && ~v != 0 && ~v < 0x10000u)
        return (struct ctext){.s = talloc_asprintf(e->tmp, "~(uint64_t)%s",
                                                   vdevc_hex(e->tmp, ~v)),
                              .prec = PREC_UNARY,
                              .op = '~',
                              .unary = true,
                              .type = T_U64,
                              .exact = true};
    if (v >= 0x10000u && v <= 0xffffffffu && c32 != 0 && c32 < 0x10000u)
        return (struct ctext){.s = talloc_asprintf(e->tmp, "~%s%s",
                                                   vdevc_hex(e->tmp, c32),
                                                   c32 < 10 ? "u" : ""),
                              .prec = PREC_UNARY,
                              .op = '~',
                              .unary = true,
                              .type = T_U32,
                              .exact = true};
    return primary(vdevc_hex(e->tmp, v), v < 10             ? T_INT
                                         : v <= 0xffffffffu ? T_U32
                                                            : T_U64);
}

static bool
is_additive(int op)
{
    return op == '+' || op == '-';
}

static bool
is_compare(int op)
{
    const struct vdevc_opinfo *oi = vdevc_op(op);
    return op != 0 && oi != NULL && (oi->flags & OPF_COMPARE);
}

/* Parentheses around an operand: by precedence, plus where GCC's
 * -Wparentheses and -Wlogical-not-parentheses ask for them. */
static bool
needs_parens(int parent, const struct ctext *k, bool right)
{
    int pp = vdevc_op(parent)->prec;
    if (k->prec < pp || (right && k->prec == pp))
        return true;
    if (k->unary) /* (!x) == y, (!x) & y */
        return k->op == '!' && ((is_compare(parent) && !right) ||
                                (vdevc_op(parent)->flags & OPF_BITWISE));
    int op = k->op;
    if (op == 0)
        return false;
    switch (parent) {
    case OP_SHL:
    case OP_SHR:
        return is_additive(op);
    case '&':
        return is_additive(op) || is_compare(op);
    case '^':
        return is_additive(op) || is_compare(op) || op == '&';
    case '|':
        return is_additive(op) || is_compare(op) || op == '&' || op == '^';
    case OP_OROR:
        return op == OP_ANDAND;
    default:
        return is_compare(parent) && is_compare(op);
    }
}

static char *
operand(struct vdevc_emit *e, int parent, const struct ctext *k, bool right)
{
    return needs_parens(parent, k, right)
               ? talloc_asprintf(e->tmp, "(%s)", k->s)
               : k->s;
}

static struct ctext
widen(struct vdevc_emit *e, struct ctext k)
{
    if (k.type == T_U64)
        return k;
    const char *s =
        k.prec >= PREC_PRIMARY ? k.s : talloc_asprintf(e->tmp, "(%s)", k.s);
    return (struct ctext){.s = talloc_asprintf(e->tmp, "(uint64_t)%s", s),
                          .prec = PREC_UNARY,
                          .type = T_U64,
                          .exact = k.exact};
}

static enum cx_type
common_type(enum cx_type a, enum cx_type b)
{
    return a > b ? a : b;
}

static unsigned
type_bits(enum cx_type t)
{
    return t == T_U64 ? 64 : t == T_U32 ? 32 : 31;
}

/* Does `a op b` in C's type give the value (exact), or at least its low
 * `dem` bits without undefined behaviour (ok)? */
static void
judge(const struct cx *c, const struct ctext *a, const struct ctext *b,
      unsigned dem, bool *exact, bool *ok)
{
    int op = c->op;
    enum cx_type t =
        op == OP_SHL || op == OP_SHR ? a->type : common_type(a->type, b->type);
    bool inputs = a->exact && (b == NULL || b->exact);
    if (t == T_U64) {
        *exact = inputs;
        *ok = true;
        return;
    }
    unsigned room = type_bits(t);
    switch (op) {
    case OP_SHL:
        if (c->b->num >= room) {
            *exact = *ok = false;
            return;
        }
        /* fall through */
    case '+':
    case '*':
        *exact = inputs && bits_of(c->max) <= room;
        break;
    case OP_SHR:
        *exact = inputs && c->b->num < room;
        *ok = *exact;
        return;
    case '-':
        *exact = false;
        break;
    default: /* & | ^ / % and comparisons never leave the range */
        *exact = inputs;
        break;
    }
    /* Unsigned wrap-around keeps the low bits; signed overflow is UB. */
    *ok = *exact || (t == T_U32 && dem <= 32);
}

static struct ctext
print_helper(struct vdevc_emit *e, const char *fn, const struct cx *c)
{
    struct ctext a = print(e, c->a, 64), b = print(e, c->b, 64);
    return primary(talloc_asprintf(e->tmp, "%s(%s, %s)", fn, a.s, b.s), T_U64);
}

static struct ctext
print_bin(struct vdevc_emit *e, const struct cx *c, unsigned dem)
{
    int op = c->op;
    const struct vdevc_opinfo *oi = vdevc_op(op);
    bool konst = c->b->kind == CX_NUM;
    if (op == OP_SHL && !konst)
        return print_helper(e, "vdev_shl", c);
    if (op == OP_SHR && !konst)
        return print_helper(e, "vdev_shr", c);
    if ((op == '/' || op == '%') && !(konst && c->b->num != 0))
        return print_helper(e, op == '/' ? "vdev_div" : "vdev_mod", c);
    struct ctext a, b;
    if (oi->flags & OPF_LOGIC) {
        a = truth(e, c->a);
        b = truth(e, c->b);
    } else {
        unsigned d = oi->flags & OPF_LOW ? dem : 64;
        a = print(e, c->a, d);
        b = print(e, c->b, op == OP_SHL ? 64 : d);
        if (oi->flags & OPF_SHIFT) /* a count, not a mask: decimal */
            b.s =
                talloc_asprintf(e->tmp, "%llu", (unsigned long long)c->b->num);
    }
    /* -Wsign-compare: an int-typed operand that is more than a promoted
     * leaf, compared with an unsigned one, is widened too. */
    if ((oi->flags & OPF_COMPARE) && (a.type == T_INT) != (b.type == T_INT)) {
        if (a.type == T_INT && a.prec < PREC_PRIMARY)
            a = widen(e, a);
        if (b.type == T_INT && b.prec < PREC_PRIMARY)
            b = widen(e, b);
    }
    bool exact = true, ok = true;
    if (!(oi->flags & OPF_LOGIC))
        judge(c, &a, &b, dem, &exact, &ok);
    if (!ok) {
        if (a.type != T_U64)
            a = widen(e, a);
        else
            b = widen(e, b);
        exact = a.exact && b.exact;
    }
    enum cx_type t = oi->flags & (OPF_COMPARE | OPF_LOGIC) ? T_INT
                     : op == OP_SHL || op == OP_SHR
                         ? a.type
                         : common_type(a.type, b.type);
    return (struct ctext){.s = talloc_asprintf(e->tmp, "%s %s %s",
                                               operand(e, op, &a, false), oi->c,
                                               operand(e, op, &b, true)),
                          .prec = oi->prec,
                          .op = op,
                          .type = t,
                          .exact = exact};
}

static struct ctext
print_unary(struct vdevc_emit *e, const struct cx *c, unsigned dem)
{
    struct ctext a = c->op == '!' ? truth(e, c->a) : print(e, c->a, dem);
    bool exact = c->op == '!' || (a.type == T_U64 && a.exact);
    if (c->op != '!' && a.type != T_U64 && !(a.type == T_U32 && dem <= 32)) {
        a = widen(e, a);
        exact = a.exact;
    }
    /* -(-x): not the decrement operator */
    bool paren = a.prec < PREC_UNARY || (c->op == '-' && a.s[0] == '-');
    const char *s = paren ? talloc_asprintf(e->tmp, "(%s)", a.s) : a.s;
    return (struct ctext){.s = talloc_asprintf(e->tmp, "%c%s", c->op, s),
                          .prec = PREC_UNARY,
                          .op = c->op,
                          .unary = true,
                          .type = c->op == '!' ? T_INT : a.type,
                          .exact = exact};
}

/* Arguments convert to the parameter types as a cast would. */
static struct ctext
print_call(struct vdevc_emit *e, const struct cx *c)
{
    char *s = talloc_asprintf(e->tmp, "%s(dev", c->text);
    for (unsigned i = 0; i < c->nargs; i++) {
        struct ctext a = c->arg_bits[i] == 1
                             ? truth(e, c->args[i])
                             : print(e, c->args[i], c->arg_bits[i]);
        s = talloc_asprintf_append(s, ", %s", a.s);
    }
    return primary(talloc_strdup_append(s, ")"), c->type);
}

static struct ctext
print_index(struct vdevc_emit *e, const struct cx *c)
{
    struct ctext i = print(e, c->a, 64);
    if (!c->checked)
        return primary(talloc_asprintf(e->tmp, "%s[%s]", c->text, i.s),
                       c->type);
    if (c->a->pure && c->a->kind == CX_LEAF)
        return (struct ctext){
            .s = talloc_asprintf(e->tmp, "%s < %llu ? %s[%s] : 0", i.s,
                                 (unsigned long long)c->num, c->text, i.s),
            .prec = PREC_COND,
            .type = c->type,
            .exact = true};
    unsigned k = ++e->temps;
    return primary(talloc_asprintf(e->tmp,
                                   "({ uint64_t t%u = %s; t%u < %llu ? "
                                   "%s[t%u] : 0; })",
                                   k, i.s, k, (unsigned long long)c->num,
                                   c->text, k),
                   c->type);
}

/* c as C whose low `dem` bits are the .vdev value's. */
static struct ctext
print(struct vdevc_emit *e, const struct cx *c, unsigned dem)
{
    switch (c->kind) {
    case CX_NUM:
        return print_num(e, c->num);
    case CX_LEAF:
        return primary(talloc_strdup(e->tmp, c->text), c->type);
    case CX_UNARY:
        return print_unary(e, c, dem);
    case CX_CALL:
        return print_call(e, c);
    case CX_INDEX:
        return print_index(e, c);
    case CX_BIN:
        break;
    }
    return print_bin(e, c, dem);
}

/* ------------------------------------------------------------ entry points */

static struct ctext
truth(struct vdevc_emit *e, const struct cx *c)
{
    if (c->pure && known_nonzero(c))
        return print_num(e, 1);
    struct ctext t = print(e, c, 64);
    /* GCC's -Wint-in-bool-context: say what a product or shift is tested
     * for. */
    if (!t.unary && (t.op == '*' || t.op == OP_SHL))
        return (struct ctext){.s = talloc_asprintf(e->tmp, "(%s) != 0", t.s),
                              .prec = 9,
                              .op = OP_NE,
                              .type = T_INT,
                              .exact = true};
    return t;
}

char *
vdevc_emit_expr(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    return print(e, cx_from(e, x), 64).s;
}

char *
vdevc_emit_arg(struct vdevc_emit *e, const struct vdevc_expr *x, unsigned bits)
{
    return print(e, cx_from(e, x), bits).s;
}

char *
vdevc_emit_cond(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    return truth(e, cx_from(e, x)).s;
}

/* x != 0 as C: interrupt levels. */
char *
vdevc_emit_level(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    return truth(e, cx_bin(e, OP_NE, cx_from(e, x), cx_num(e, 0))).s;
}

/* Bits [lo, lo + w) of a `storage`-bit value at C place. */
char *
vdevc_emit_bits(struct vdevc_emit *e, const char *place, unsigned storage,
                unsigned lo, unsigned w)
{
    struct cx *v = cx_leaf(e, place, storage, vdevc_mask(storage));
    return print(e,
                 cx_bin(e, '&', cx_bin(e, OP_SHR, v, cx_num(e, lo)),
                        cx_num(e, vdevc_mask(w))),
                 64)
        .s;
}

const char *
vdevc_emit_const(struct vdevc_emit *e, uint64_t v)
{
    return print_num(e, v).s;
}

/* ------------------------------------------------------------ stores */

/* `place = value` for storage `bits` wide, where value keeps `keep` of
 * the old bits: (place & keep) | new. Written as a compound assignment
 * when it reads as one. */
static void
store_cx(struct vdevc_emit *e, const char *place, unsigned bits, struct cx *val,
         int ind)
{
    if (val->kind == CX_BIN && val->a->kind == CX_LEAF &&
        strcmp(val->a->text, place) == 0) {
        const struct vdevc_opinfo *oi = vdevc_op(val->op);
        bool plain = (oi->flags & (OPF_LOW | OPF_SHIFT)) &&
                     (val->b->kind == CX_NUM || val->op != OP_SHL) &&
                     (val->b->kind == CX_NUM || val->op != OP_SHR);
        if (plain) {
            struct ctext a = print(e, val->a, bits);
            struct ctext b = print(e, val->b, oi->flags & OPF_LOW ? bits : 64);
            if (oi->flags & OPF_SHIFT)
                b.s = talloc_asprintf(e->tmp, "%llu",
                                      (unsigned long long)val->b->num);
            bool exact, ok;
            judge(val, &a, &b, bits, &exact, &ok);
            if (ok) {
                vdevc_out_line(e->o, ind, "%s %s= %s;", place, oi->c, b.s);
                return;
            }
        }
    }
    vdevc_out_line(e->o, ind, "%s = %s;", place, print(e, val, bits).s);
}

/* Stores x's value into target t (a register, field, variable or buffer
 * byte at `place`, a C lvalue), keeping the bits it does not own. */
void
vdevc_emit_store(struct vdevc_emit *e, const struct vdevc_expr *t,
                 const char *place, const struct vdevc_expr *op_rhs, int op,
                 int ind)
{
    struct cx *val = cx_from(e, op_rhs);
    unsigned bits;
    uint64_t keep = 0, own;
    struct cx *cur = NULL;
    switch (t->ref) {
    case REF_FIELD: {
        const struct vdevc_field *f = t->sym;
        unsigned w = f->hi_v - f->lo_v + 1;
        bits = f->reg->width;
        own = vdevc_mask(w) << f->lo_v;
        keep = vdevc_mask(bits) & ~own;
        cur = cx_leaf(e, place, bits, vdevc_mask(bits));
        if (op != 0) {
            struct cx *old =
                cx_bin(e, '&', cx_bin(e, OP_SHR, cur, cx_num(e, f->lo_v)),
                       cx_num(e, vdevc_mask(w)));
            val = cx_bin(e, op, old, val);
        }
        val = cx_bin(e, '&', cx_bin(e, OP_SHL, val, cx_num(e, f->lo_v)),
                     cx_num(e, own));
        break;
    }
    case REF_REG: {
        const struct vdevc_reg *r = t->sym;
        bits = r->width;
        own = r->hw;
        keep = r->all & ~r->hw;
        cur = cx_leaf(e, place, bits, vdevc_mask(bits));
        if (op != 0)
            val = cx_bin(e, op, cur, val);
        if (keep != 0)
            val = cx_bin(e, '&', val, cx_num(e, own));
        break;
    }
    case REF_VAR: {
        const struct vdevc_var *v = t->sym;
        bits = vdevc_storage_bits(v->width);
        cur = cx_leaf(e, place, bits, vdevc_mask(v->width));
        if (op != 0)
            val = cx_bin(e, op, cur, val);
        if (bits != v->width)
            val = cx_bin(e, '&', val, cx_num(e, vdevc_mask(v->width)));
        break;
    }
    case REF_LOCAL:
        bits = 64;
        if (op != 0)
            val = cx_bin(e, op, cx_leaf(e, place, 64, UINT64_MAX), val);
        break;
    default: /* a buffer byte */
        bits = 8;
        if (op != 0)
            val = cx_bin(e, op, cx_leaf(e, place, 8, 0xff), val);
        break;
    }
    if (keep != 0)
        val = cx_bin(e, '|', cx_bin(e, '&', cur, cx_num(e, keep)), val);
    store_cx(e, place, bits, val, ind);
}
