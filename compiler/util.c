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
        return talloc_asprintf(ctx, "%s%s", vdevc_unary_op(e->op)->c,
                               vdevc_expr_text(ctx, e->lhs));
    case E_BINARY: {
        const char *l = vdevc_expr_text(ctx, e->lhs);
        return talloc_asprintf(ctx, "(%s %s %s)", l, vdevc_op(e->op)->c,
                               vdevc_expr_text(ctx, e->rhs));
    }
    }
    return talloc_strdup(ctx, "?");
}

struct vdevc_reg *
vdevc_ref_reg(const struct vdevc_expr *x)
{
    if (x->ref == REF_REG)
        return x->sym;
    if (x->ref == REF_FIELD)
        return ((struct vdevc_field *)x->sym)->reg;
    return NULL;
}

char *
vdevc_c_string(void *ctx, const char *s)
{
    /* Each byte takes at most 4 ("\\ooo"), plus the quotes. */
    char *out = talloc_size(ctx, 4 * strlen(s) + 3), *q = out;
    if (!out)
        return NULL;
    *q++ = '"';
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            *q++ = '\\';
            *q++ = (char)ch;
        } else if (ch == '\n') {
            *q++ = '\\';
            *q++ = 'n';
        } else if (ch < ' ' || ch == 0x7f) {
            *q++ = '\\';
            *q++ = (char)('0' + (ch >> 6));
            *q++ = (char)('0' + (ch >> 3 & 7));
            *q++ = (char)('0' + (ch & 7));
        } else {
            *q++ = (char)ch;
        }
    }
    *q++ = '"';
    *q = '\0';
    return out;
}

struct vdevc_var *
vdevc_ref_var(const struct vdevc_expr *x)
{
    return x->ref == REF_VAR || x->ref == REF_BUFFER ? x->sym : NULL;
}

unsigned
vdevc_type_bits(const char *type)
{
    static const struct {
        const char *name;
        unsigned bits;
    } types[] = {{"bool", 1}, {"u8", 8}, {"u16", 16}, {"u32", 32}, {"u64", 64}};
    for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, type) == 0)
            return types[i].bits;
    return 0;
}

unsigned
vdevc_storage_bits(unsigned bits)
{
    return bits <= 8 ? 8 : bits <= 16 ? 16 : bits <= 32 ? 32 : 64;
}

const char *
vdevc_ctype(unsigned bits)
{
    switch (vdevc_storage_bits(bits)) {
    case 8:
        return "uint8_t";
    case 16:
        return "uint16_t";
    case 32:
        return "uint32_t";
    default:
        return "uint64_t";
    }
}

void
vdevc_vec_sort(struct vdevc_vec *v, int (*cmp)(const void *, const void *))
{
    vdevc_sort(v->v, v->n, sizeof(void *), cmp);
}

/* Declarations usually come in order: a linear look first. */
void
vdevc_sort(void *base, size_t n, size_t size,
           int (*cmp)(const void *, const void *))
{
    char *b = base;
    size_t i = 1;
    while (i < n && cmp(b + (i - 1) * size, b + i * size) <= 0)
        i++;
    if (i < n)
        qsort(base, n, size, cmp);
}

char *
vdevc_join(void *ctx, const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *s = talloc_size(ctx, la + ls + lb + 1);
    if (!s)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, sep, ls);
    memcpy(s + la + ls, b, lb + 1);
    return s;
}
