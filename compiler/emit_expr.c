/* The C expression tree (cexpr.h, emit_fold.c) as C that computes each
 * .vdev value (a uint64_t) while reading like hand-written code: the
 * fewest parentheses C precedence (and GCC's -Wparentheses) allows, and a
 * cast to uint64_t only where C's narrower arithmetic could give another
 * result in the bits the consumer uses; then the entry points for
 * expressions, conditions and stores. */
#include <string.h>
#include <talloc.h>

#include "cexpr.h"

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
        return (struct ctext){
            .s = vdevc_emit_strf(e, "~(uint64_t)%s", vdevc_hex(e->tmp, ~v)),
            .prec = PREC_UNARY,
            .op = '~',
            .unary = true,
            .type = T_U64,
            .exact = true};
    if (v >= 0x10000u && v <= 0xffffffffu && c32 != 0 && c32 < 0x10000u)
        return (struct ctext){.s = vdevc_emit_strf(e, "~%s%s",
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
    return op != 0 && oi && (oi->flags & OPF_COMPARE);
}

/* Parentheses around an operand: by precedence, plus where GCC's
 * -Wparentheses and -Wlogical-not-parentheses ask for them. */
static bool
needs_parens(int parent, const struct ctext *k, bool right)
{
    int pp = vdevc_op(parent)->prec;
    /* a & (b & c) is a & b & c: & | ^ group either way */
    bool regroups =
        k->op == parent && !k->unary && (vdevc_op(parent)->flags & OPF_BITWISE);
    if (k->prec < pp || (right && k->prec == pp && !regroups))
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
    return needs_parens(parent, k, right) ? vdevc_emit_strf(e, "(%s)", k->s)
                                          : k->s;
}

static struct ctext
widen(struct vdevc_emit *e, struct ctext k)
{
    if (k.type == T_U64)
        return k;
    const char *s =
        k.prec >= PREC_PRIMARY ? k.s : vdevc_emit_strf(e, "(%s)", k.s);
    return (struct ctext){.s = vdevc_emit_strf(e, "(uint64_t)%s", s),
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
    bool inputs = a->exact && (!b || b->exact);
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
        *exact = inputs && vdevc_bits_of(c->max) <= room;
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
    return primary(vdevc_emit_strf(e, "%s(%s, %s)", fn, a.s, b.s), T_U64);
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
            b.s = vdevc_emit_strf(e, "%llu", (unsigned long long)c->b->num);
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
    return (struct ctext){.s = vdevc_emit_strf(e, "%s %s %s",
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
    const char *s = paren ? vdevc_emit_strf(e, "(%s)", a.s) : a.s;
    return (struct ctext){.s = vdevc_emit_strf(e, "%c%s", c->op, s),
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
    char *s = vdevc_emit_strf(e, "%s(dev", c->text);
    for (unsigned i = 0; i < c->nargs; i++) {
        struct ctext a = c->arg_bits[i] == 1
                             ? truth(e, c->args[i])
                             : print(e, c->args[i], c->arg_bits[i]);
        s = vdevc_emit_strf(e, "%s, %s", s, a.s);
    }
    return primary(vdevc_emit_strf(e, "%s)", s), c->type);
}

static struct ctext
print_index(struct vdevc_emit *e, const struct cx *c)
{
    struct ctext i = print(e, c->a, 64);
    if (!c->checked)
        return primary(vdevc_emit_strf(e, "%s[%s]", c->text, i.s), c->type);
    if (c->a->pure && c->a->kind == CX_LEAF)
        return (struct ctext){
            .s = vdevc_emit_strf(e, "%s < %llu ? %s[%s] : 0", i.s,
                                 (unsigned long long)c->num, c->text, i.s),
            .prec = PREC_COND,
            .type = c->type,
            .exact = true};
    unsigned k = ++e->temps;
    return primary(vdevc_emit_strf(e,
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
        return primary(vdevc_emit_strf(e, "%s", c->text), c->type);
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
    if (c->pure && vdevc_known_nonzero(c))
        return print_num(e, 1);
    struct ctext t = print(e, c, 64);
    /* GCC's -Wint-in-bool-context: say what a product or shift is tested
     * for. */
    if (!t.unary && (t.op == '*' || t.op == OP_SHL))
        return (struct ctext){.s = vdevc_emit_strf(e, "(%s) != 0", t.s),
                              .prec = 9,
                              .op = OP_NE,
                              .type = T_INT,
                              .exact = true};
    return t;
}

char *
vdevc_emit_expr(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    return print(e, vdevc_cx_from(e, x), 64).s;
}

char *
vdevc_emit_arg(struct vdevc_emit *e, const struct vdevc_expr *x, unsigned bits)
{
    return print(e, vdevc_cx_from(e, x), bits).s;
}

char *
vdevc_emit_cond(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    return truth(e, vdevc_cx_from(e, x)).s;
}

/* x != 0 as C: interrupt levels. */
char *
vdevc_emit_level(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    return truth(e, vdevc_cx_bin(e, OP_NE, vdevc_cx_from(e, x),
                                 vdevc_cx_num(e, 0)))
        .s;
}

/* Bits [lo, lo + w) of a `storage`-bit value at C place. */
char *
vdevc_emit_bits(struct vdevc_emit *e, const char *place, unsigned storage,
                unsigned lo, unsigned w)
{
    /* What print() makes of (place >> lo) & mask, written at once (every
     * field of a large device asks): a shift by 0 and a mask covering
     * what is left fold away, a low mask prints plainly, and neither
     * operator needs parentheses or a cast here. */
    if (lo + w >= storage)
        return lo == 0 ? vdevc_emit_strf(e, "%s", place)
                       : vdevc_emit_strf(e, "%s >> %u", place, lo);
    const char *m = vdevc_hex(e->tmp, vdevc_mask(w));
    return lo == 0 ? vdevc_emit_strf(e, "%s & %s", place, m)
                   : vdevc_emit_strf(e, "%s >> %u & %s", place, lo, m);
}

const char *
vdevc_emit_const(struct vdevc_emit *e, uint64_t v)
{
    /* print_num's masks of mostly ones ("~0xfu"), else plain hex. */
    uint64_t c32 = ~v & 0xffffffffu;
    bool mostly_ones =
        (v > 0xffffffffu && ~v != 0 && ~v < 0x10000u) ||
        (v >= 0x10000u && v <= 0xffffffffu && c32 != 0 && c32 < 0x10000u);
    return mostly_ones ? print_num(e, v).s : vdevc_hex(e->tmp, v);
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
                b.s =
                    vdevc_emit_strf(e, "%llu", (unsigned long long)val->b->num);
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
    struct cx *val = vdevc_cx_from(e, op_rhs);
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
        cur = vdevc_cx_leaf(e, place, bits, vdevc_mask(bits));
        if (op != 0) {
            struct cx *old = vdevc_cx_bin(
                e, '&', vdevc_cx_bin(e, OP_SHR, cur, vdevc_cx_num(e, f->lo_v)),
                vdevc_cx_num(e, vdevc_mask(w)));
            val = vdevc_cx_bin(e, op, old, val);
        }
        val = vdevc_cx_bin(
            e, '&', vdevc_cx_bin(e, OP_SHL, val, vdevc_cx_num(e, f->lo_v)),
            vdevc_cx_num(e, own));
        break;
    }
    case REF_REG: {
        const struct vdevc_reg *r = t->sym;
        bits = r->width;
        own = r->hw;
        keep = r->all & ~r->hw;
        cur = vdevc_cx_leaf(e, place, bits, vdevc_mask(bits));
        if (op != 0)
            val = vdevc_cx_bin(e, op, cur, val);
        if (keep != 0)
            val = vdevc_cx_bin(e, '&', val, vdevc_cx_num(e, own));
        break;
    }
    case REF_VAR: {
        const struct vdevc_var *v = t->sym;
        bits = vdevc_storage_bits(v->width);
        cur = vdevc_cx_leaf(e, place, bits, vdevc_mask(v->width));
        if (op != 0)
            val = vdevc_cx_bin(e, op, cur, val);
        if (bits != v->width)
            val = vdevc_cx_bin(e, '&', val,
                               vdevc_cx_num(e, vdevc_mask(v->width)));
        break;
    }
    case REF_LOCAL:
        bits = 64;
        if (op != 0)
            val = vdevc_cx_bin(e, op, vdevc_cx_leaf(e, place, 64, UINT64_MAX),
                               val);
        break;
    default: /* a buffer byte */
        bits = 8;
        if (op != 0)
            val = vdevc_cx_bin(e, op, vdevc_cx_leaf(e, place, 8, 0xff), val);
        break;
    }
    if (keep != 0)
        val = vdevc_cx_bin(
            e, '|', vdevc_cx_bin(e, '&', cur, vdevc_cx_num(e, keep)), val);
    store_cx(e, place, bits, val, ind);
}
