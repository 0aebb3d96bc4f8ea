/* The compilation unit and the semantic pass driver: the passes run in the
 * order below, each reporting what it finds and going on. */
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "parse.h"
#include "suggest.h"
#include "vdevc.h"

struct vdevc_unit *
vdevc_unit_new(void *mem_ctx, const char *file, const char *src, size_t len,
               FILE *diag_out)
{
    struct vdevc_unit *u = talloc_zero(mem_ctx, struct vdevc_unit);
    if (!u)
        return NULL;
    u->file = talloc_strdup(u, file);
    char *copy = talloc_size(u, len + 1);
    if (!copy) {
        talloc_free(u);
        return NULL;
    }
    memcpy(copy, src, len);
    copy[len] = '\0';
    u->src = copy;
    u->len = len;
    u->diag =
        vdevc_diag_new(u, vdevc_display_name(file), u->src, len, diag_out);
    u->syms = vdevc_symtab_new(u);
    if (!u->diag || !u->syms) {
        talloc_free(u);
        return NULL;
    }
    return u;
}

int
vdevc_compile(struct vdevc_unit *u)
{
    if (u->len > VDEVC_MAX_SOURCE) {
        struct vdevc_loc loc = {1, 1, 1, 1};
        vdevc_error(u->diag, loc, "file-too-large",
                    "source is larger than %u bytes", VDEVC_MAX_SOURCE);
        return -EINVAL;
    }
    int rc = vdevc_parse(u, u->diag, u->src, u->len, &u->dev);
    if (rc != 0)
        return rc;
    return vdevc_sema(u);
}

/* About as many names as the register map declares (registers, fields,
 * hooks; blocks add theirs as they are instantiated). */
static size_t
map_names(const struct vdevc_bar *b)
{
    if (!b)
        return 0;
    size_t n = b->items.n;
    for (unsigned i = 0; i < b->items.n; i++) {
        const struct vdevc_node *x = b->items.v[i];
        if (x && x->kind == N_REG)
            n += ((const struct vdevc_reg *)x)->items.n;
    }
    return n;
}

/* Declarations first (names everything refers to), then the register map,
 * then interrupts and capabilities, then behaviour over all of it. */
int
vdevc_sema(struct vdevc_unit *u)
{
    if (!vdevc_sema_depth(u))
        return -EINVAL;
    size_t names = 0;
    for (unsigned i = 0; i < u->dev->bars.n; i++)
        names += map_names(u->dev->bars.v[i]);
    if (u->dev->config)
        names += map_names(u->dev->config);
    vdevc_symtab_reserve(u->syms, names);
    vdevc_sema_decls(u);
    vdevc_sema_bars(u);
    vdevc_sema_caps(u);
    vdevc_sema_behaviour(u);
    vdevc_sema_names(u);
    /* After real errors "unused" is often a consequence; after -Werror
     * warnings the rest are still wanted. */
    if (u->diag->errors == u->diag->werrors)
        vdevc_sema_warnings(u);
    if (!vdevc_diag_failed(u->diag))
        vdevc_layout(u);
    return vdevc_diag_failed(u->diag) ? -EINVAL : 0;
}

/* ------------------------------------------------------------ constants */

static bool
fold(struct vdevc_unit *u, struct vdevc_expr *e, uint64_t l, uint64_t r,
     uint64_t *out)
{
    if ((e->op == '/' || e->op == '%') && r == 0) {
        vdevc_error(u->diag, e->loc, "division-by-zero",
                    "division by zero in a constant expression");
        return false;
    }
    return vdevc_op_eval(e->op, l, r, out);
}

bool
vdevc_const_eval(struct vdevc_unit *u, struct vdevc_expr *e, uint64_t *out)
{
    uint64_t l, r;
    switch (e->kind) {
    case E_NUM:
        *out = e->num;
        return true;
    case E_UNARY:
        if (!vdevc_const_eval(u, e->lhs, &l))
            return false;
        *out = vdevc_op_eval_unary(e->op, l);
        return true;
    case E_BINARY:
        if (!vdevc_const_eval(u, e->lhs, &l) ||
            !vdevc_const_eval(u, e->rhs, &r))
            return false;
        return fold(u, e, l, r, out);
    case E_MEMBER:
        if (e->lhs->kind == E_NAME) {
            char *n = talloc_asprintf(u, "%s.%s", e->lhs->name, e->name);
            struct vdevc_sym *s = vdevc_sym_get(u->syms, n);
            talloc_free(n);
            if (s && s->kind == SYM_ENUMC) {
                *out = ((struct vdevc_enum_member *)s->ptr)->v;
                return true;
            }
        }
        break;
    default:
        break;
    }
    vdevc_error(u->diag, e->loc, "not-constant",
                "expected a constant expression");
    return false;
}

/* ------------------------------------------------------------ hooks */

/* h in *slot, or a duplicate-name error when a hook is there already. */
void
vdevc_hook_place(struct vdevc_unit *u, struct vdevc_hook *h,
                 struct vdevc_hook **slot)
{
    if (*slot) {
        vdevc_error(u->diag, h->hdr.loc, "duplicate-name",
                    "second 'on %s' hook", h->when);
        vdevc_note(u->diag, (*slot)->hdr.loc, "first one here");
        return;
    }
    *slot = h;
}

/* ------------------------------------------------------------ attributes */

struct vdevc_attr *
vdevc_attr_find(struct vdevc_vec *attrs, enum vdevc_attr_kind kind,
                const char *name)
{
    for (unsigned i = 0; i < attrs->n; i++) {
        struct vdevc_attr *a = attrs->v[i];
        /* The first byte first: most attributes of a list differ there. */
        if (a->kind == kind &&
            (!name || (a->name[0] == name[0] && strcmp(a->name, name) == 0))) {
            a->used = true;
            return a;
        }
    }
    return NULL;
}

bool
vdevc_attr_flag(struct vdevc_vec *attrs, const char *name)
{
    return !!vdevc_attr_find(attrs, A_FLAG, name);
}

bool
vdevc_attr_value(struct vdevc_unit *u, struct vdevc_vec *attrs,
                 const char *name, uint64_t *out)
{
    struct vdevc_attr *a = vdevc_attr_find(attrs, A_VALUE, name);
    if (a) {
        *out = a->v1;
        return true;
    }
    a = vdevc_attr_find(attrs, A_FLAG, name);
    if (a)
        vdevc_error(u->diag, a->loc, "missing-value", "'%s' needs a number",
                    name);
    return false;
}

/* One string is the attribute's own (it lives as long as the unit);
 * several are joined. */
const char *
vdevc_attr_doc(void *ctx, struct vdevc_vec *attrs)
{
    const char *doc = NULL;
    for (unsigned i = 0; i < attrs->n; i++) {
        struct vdevc_attr *a = attrs->v[i];
        if (a->kind != A_DOC)
            continue;
        a->used = true;
        doc = doc ? vdevc_join(ctx, doc, " ", a->name) : a->name;
    }
    return doc;
}

static const char *const access_names[] = {
    [ACC_NONE] = "",       [ACC_RW] = "rw",
    [ACC_RO] = "ro",       [ACC_WO] = "wo",
    [ACC_W1C] = "w1c",     [ACC_W1S] = "w1s",
    [ACC_RC] = "rc",       [ACC_RS] = "rs",
    [ACC_CONST] = "const", [ACC_RESERVED] = "reserved",
};

const char *
vdevc_access_name(enum vdevc_access a)
{
    return access_names[a];
}

enum vdevc_access
vdevc_attr_access(struct vdevc_unit *u, struct vdevc_vec *attrs)
{
    enum vdevc_access found = ACC_NONE;
    struct vdevc_attr *first = NULL;
    for (unsigned i = 0; i < attrs->n; i++) {
        struct vdevc_attr *a = attrs->v[i];
        if (a->kind != A_FLAG)
            continue;
        /* Every access kind starts with r, w or c, and its second letter
         * tells most apart: one strcmp, not nine, per flag (a large device
         * has hundreds of thousands). */
        if (a->name[0] != 'r' && a->name[0] != 'w' && a->name[0] != 'c')
            continue;
        for (unsigned k = ACC_RW; k <= ACC_RESERVED; k++) {
            if (a->name[1] != access_names[k][1] ||
                strcmp(a->name, access_names[k]) != 0)
                continue;
            a->used = true;
            if (first) {
                vdevc_error(u->diag, a->loc, "conflicting-access",
                            "second access kind '%s'", a->name);
                vdevc_note(u->diag, first->loc, "access is already '%s'",
                           first->name);
            } else {
                first = a;
                found = k;
            }
        }
    }
    return found;
}

/* Every attribute word of the language, for "did you mean". */
static const char *const attr_words[] = {
    "rw",         "ro",    "wo",        "w1c",          "w1s",      "rc",
    "rs",         "const", "reserved",  "addr64",       "endpoint", "external",
    "integrated", "io",    "legacy",    "maskable",     "mem32",    "mem64",
    "memory",     "mmap",  "nomigrate", "prefetchable", "serial",   "since",
    "size",       "speed", "stride",    "vectors",      "width",    "table",
    "pba",        "fill",  "access",    "exact",        NULL,
};

static void
unknown_attr(struct vdevc_unit *u, const struct vdevc_attr *a, const char *what)
{
    /* The fix replaces the word, not the number after it. */
    struct vdevc_loc loc = a->loc;
    loc.last_line = loc.first_line;
    loc.last_column = loc.first_column + (int)strlen(a->name);
    vdevc_error_unknown(u->diag, loc, "unknown-attribute",
                        vdevc_suggest_list(a->name, attr_words),
                        "'%s' is not an attribute of %s", a->name, what);
}

void
vdevc_attr_check(struct vdevc_unit *u, struct vdevc_vec *attrs,
                 const char *what)
{
    for (unsigned i = 0; i < attrs->n; i++) {
        struct vdevc_attr *a = attrs->v[i];
        if (a->used)
            continue;
        switch (a->kind) {
        case A_RESET:
            vdevc_error(u->diag, a->loc, "unknown-attribute",
                        "%s takes no reset value", what);
            break;
        case A_WIDTH:
            vdevc_error(u->diag, a->loc, "unknown-attribute",
                        "%s takes no width", what);
            break;
        case A_TYPE:
            vdevc_error(u->diag, a->loc, "unknown-attribute",
                        "%s takes no enum type", what);
            break;
        case A_DOC:
            vdevc_error(u->diag, a->loc, "unknown-attribute",
                        "%s takes no documentation string", what);
            break;
        default:
            unknown_attr(u, a, what);
            break;
        }
        a->used = true;
    }
}
