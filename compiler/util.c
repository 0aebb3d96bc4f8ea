/* Small helpers the passes share: masks, hashes, names, expression text. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "vdevc.h"

uint64_t
vdevc_mask(unsigned bits)
{
    return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

unsigned
vdevc_bits_needed(uint64_t v)
{
    unsigned n = 1;
    while (n < 64 && (v >> n) != 0)
        n++;
    return n;
}

uint32_t
vdevc_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

bool
vdevc_is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

char *
vdevc_cname(void *ctx, const char *qname)
{
    char *s = talloc_strdup(ctx, qname);
    for (char *p = s; *p; p++)
        if (*p == '.')
            *p = '_';
    return s;
}

char *
vdevc_upper(void *ctx, const char *s)
{
    char *u = talloc_strdup(ctx, s);
    for (char *p = u; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return u;
}

const char *
vdevc_display_name(const char *path)
{
    if (path[0] != '/')
        return path;
    const char *slash = strrchr(path, '/');
    return slash + 1;
}

static const char *
op_text(int op)
{
    static char one[256][2];
    switch (op) {
    case OP_SHL:
        return "<<";
    case OP_SHR:
        return ">>";
    case OP_EQ:
        return "==";
    case OP_NE:
        return "!=";
    case OP_LE:
        return "<=";
    case OP_GE:
        return ">=";
    case OP_ANDAND:
        return "&&";
    case OP_OROR:
        return "||";
    default:
        one[op & 0xff][0] = (char)op;
        return one[op & 0xff];
    }
}

char *
vdevc_expr_text(void *ctx, const struct vdevc_expr *e)
{
    switch (e->kind) {
    case E_NUM:
        return e->num < 10
                   ? talloc_asprintf(ctx, "%llu", (unsigned long long)e->num)
                   : talloc_asprintf(ctx, "0x%llx", (unsigned long long)e->num);
    case E_NAME:
        return talloc_strdup(ctx, e->name);
    case E_MEMBER:
        return talloc_asprintf(ctx, "%s.%s", vdevc_expr_text(ctx, e->lhs),
                               e->name);
    case E_INDEX:
        return talloc_asprintf(ctx, "%s[%s]", vdevc_expr_text(ctx, e->lhs),
                               vdevc_expr_text(ctx, e->rhs));
    case E_CALL: {
        char *s = talloc_asprintf(ctx, "%s(", e->name);
        for (unsigned i = 0; i < e->args.n; i++)
            s = talloc_asprintf_append(s, "%s%s", i ? ", " : "",
                                       vdevc_expr_text(ctx, e->args.v[i]));
        return talloc_strdup_append(s, ")");
    }
    case E_UNARY:
        return talloc_asprintf(ctx, "%s%s", op_text(e->op),
                               vdevc_expr_text(ctx, e->lhs));
    case E_BINARY: {
        const char *l = vdevc_expr_text(ctx, e->lhs);
        const char *o = talloc_strdup(ctx, op_text(e->op));
        return talloc_asprintf(ctx, "(%s %s %s)", l, o,
                               vdevc_expr_text(ctx, e->rhs));
    }
    }
    return talloc_strdup(ctx, "?");
}

void
vdevc_vec_sort(struct vdevc_vec *v, int (*cmp)(const void *, const void *))
{
    if (v->n > 1)
        qsort(v->v, v->n, sizeof(void *), cmp);
}
