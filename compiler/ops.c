/* The statement language's operators, once: spelling (the same in .vdev
 * and C), C precedence, and their value on constants (every value a
 * uint64_t; division by zero and shifts past 63 never trap). Used by the
 * constant folder in sema, the C expression printer and the source-text
 * printer. */
#include "vdevc.h"

/* C precedence: higher binds tighter (unary 14 ... || 4). */
static const struct vdevc_opinfo ops[] = {
    {'*', "*", 13, OPF_WRAPS | OPF_LOW},
    {'/', "/", 13, OPF_DIVIDES},
    {'%', "%", 13, OPF_DIVIDES},
    {'+', "+", 12, OPF_WRAPS | OPF_LOW},
    {'-', "-", 12, OPF_WRAPS | OPF_LOW},
    {OP_SHL, "<<", 11, OPF_SHIFT | OPF_LOW},
    {OP_SHR, ">>", 11, OPF_SHIFT},
    {'<', "<", 10, OPF_COMPARE},
    {'>', ">", 10, OPF_COMPARE},
    {OP_LE, "<=", 10, OPF_COMPARE},
    {OP_GE, ">=", 10, OPF_COMPARE},
    {OP_EQ, "==", 9, OPF_COMPARE},
    {OP_NE, "!=", 9, OPF_COMPARE},
    {'&', "&", 8, OPF_BITWISE | OPF_LOW},
    {'^', "^", 7, OPF_BITWISE | OPF_LOW},
    {'|', "|", 6, OPF_BITWISE | OPF_LOW},
    {OP_ANDAND, "&&", 5, OPF_LOGIC},
    {OP_OROR, "||", 4, OPF_LOGIC},
};

static const struct vdevc_opinfo unary_ops[] = {
    {'-', "-", 14, OPF_WRAPS | OPF_LOW},
    {'~', "~", 14, OPF_WRAPS | OPF_LOW},
    {'!', "!", 14, OPF_LOGIC},
};

static const struct vdevc_opinfo *
find(const struct vdevc_opinfo *t, size_t n, int op)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].op == op)
            return &t[i];
    return NULL;
}

const struct vdevc_opinfo *
vdevc_op(int op)
{
    return find(ops, sizeof ops / sizeof ops[0], op);
}

const struct vdevc_opinfo *
vdevc_unary_op(int op)
{
    return find(unary_ops, sizeof unary_ops / sizeof unary_ops[0], op);
}

bool
vdevc_op_eval(int op, uint64_t l, uint64_t r, uint64_t *out)
{
    switch (op) {
    case '*':
        *out = l * r;
        return true;
    case '/':
        *out = r != 0 ? l / r : 0;
        return r != 0;
    case '%':
        *out = r != 0 ? l % r : 0;
        return r != 0;
    case '+':
        *out = l + r;
        return true;
    case '-':
        *out = l - r;
        return true;
    case OP_SHL:
        *out = r >= 64 ? 0 : l << r;
        return true;
    case OP_SHR:
        *out = r >= 64 ? 0 : l >> r;
        return true;
    case '<':
        *out = l < r;
        return true;
    case '>':
        *out = l > r;
        return true;
    case OP_LE:
        *out = l <= r;
        return true;
    case OP_GE:
        *out = l >= r;
        return true;
    case OP_EQ:
        *out = l == r;
        return true;
    case OP_NE:
        *out = l != r;
        return true;
    case '&':
        *out = l & r;
        return true;
    case '^':
        *out = l ^ r;
        return true;
    case '|':
        *out = l | r;
        return true;
    case OP_ANDAND:
        *out = l && r;
        return true;
    case OP_OROR:
        *out = l || r;
        return true;
    default:
        *out = 0;
        return false;
    }
}

uint64_t
vdevc_op_eval_unary(int op, uint64_t v)
{
    return op == '-' ? -v : op == '~' ? ~v : !v;
}
