/* Names the generated C must be able to use: no C keywords where a name
 * becomes a C identifier, and migration ids (FNV-1a of the qualified name)
 * unique across the device. */
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "vdevc.h"

static const char *const c_words[] = {
    "_Alignas",      "_Alignof",  "_Atomic",
    "_Bool",         "_Complex",  "_Generic",
    "_Imaginary",    "_Noreturn", "_Static_assert",
    "_Thread_local", "asm",       "auto",
    "bool",          "break",     "case",
    "char",          "const",     "continue",
    "default",       "do",        "double",
    "else",          "enum",      "extern",
    "false",         "float",     "for",
    "goto",          "if",        "inline",
    "int",           "long",      "register",
    "restrict",      "return",    "short",
    "signed",        "sizeof",    "static",
    "struct",        "switch",    "true",
    "typedef",       "typeof",    "union",
    "unsigned",      "void",      "volatile",
    "while",
};

static int
cmp_word(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
check_word(struct vdevc_unit *u, const char *name, struct vdevc_loc loc)
{
    if (bsearch(&name, c_words, sizeof c_words / sizeof c_words[0],
                sizeof c_words[0], cmp_word))
        vdevc_error(u->diag, loc, "reserved-name",
                    "'%s' is a C keyword and cannot name this", name);
}

struct mig_name {
    uint32_t id;
    const char *name;
    struct vdevc_loc loc;
};

static int
cmp_id(const void *a, const void *b)
{
    const struct mig_name *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* m[0..n) sorted as cmp_id sorts it: by id in two stable 16-bit counting
 * passes (a 100,000-register device has as many names), then each run of
 * equal ids (a collision: rare and short) by name. */
static void
sort_ids(void *ctx, struct mig_name *m, size_t n)
{
    struct mig_name *tmp = talloc_array(ctx, struct mig_name, n);
    size_t *count = talloc_array(ctx, size_t, 1u << 16);
    struct mig_name *from = m, *to = tmp;
    for (unsigned shift = 0; shift < 32; shift += 16) {
        memset(count, 0, sizeof(size_t) << 16);
        for (size_t i = 0; i < n; i++)
            count[(from[i].id >> shift) & 0xffff]++;
        size_t at = 0;
        for (size_t k = 0; k < 1u << 16; k++) {
            size_t c = count[k];
            count[k] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            to[count[(from[i].id >> shift) & 0xffff]++] = from[i];
        struct mig_name *t = from;
        from = to;
        to = t;
    }
    /* Two passes: the result is back in m. */
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && m[j].id == m[i].id; j++)
            ;
        if (j - i > 1)
            qsort(m + i, j - i, sizeof *m, cmp_id);
    }
    talloc_free(tmp);
    talloc_free(count);
}

static void
check_ids(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    struct mig_name *m = talloc_array(u, struct mig_name,
                                      d->regs.n + d->vars.n + d->fifos.n + 1);
    size_t n = 0;
    for (unsigned i = 0; i < d->regs.n; i++) {
        struct vdevc_reg *r = d->regs.v[i];
        if (!r->nomigrate)
            m[n++] =
                (struct mig_name){vdevc_fnv1a(r->qname), r->qname, r->hdr.loc};
    }
    for (unsigned i = 0; i < d->vars.n; i++) {
        struct vdevc_var *v = d->vars.v[i];
        if (v->nomigrate)
            continue;
        char *q = talloc_asprintf(m, "state.%s", v->name);
        m[n++] = (struct mig_name){vdevc_fnv1a(q), q, v->hdr.loc};
    }
    for (unsigned i = 0; i < d->fifos.n; i++) {
        struct vdevc_fifo *f = d->fifos.v[i];
        if (f->nomigrate)
            continue;
        char *q = talloc_asprintf(m, "state.%s", f->qname);
        m[n++] = (struct mig_name){vdevc_fnv1a(q), q, f->hdr.loc};
    }
    if (n > 4096)
        sort_ids(m, m, n);
    else if (n > 1)
        qsort(m, n, sizeof *m, cmp_id);
    for (size_t i = 1; i < n; i++) {
        /* Equal names are duplicates, reported as such already. */
        if (m[i].id != m[i - 1].id || strcmp(m[i].name, m[i - 1].name) == 0)
            continue;
        vdevc_error(u->diag, m[i].loc, "mig-id-collision",
                    "migration id 0x%08x of '%s' is also the id of '%s': "
                    "rename one",
                    m[i].id, m[i].name, m[i - 1].name);
        vdevc_note(u->diag, m[i - 1].loc, "'%s' declared here", m[i - 1].name);
    }
    talloc_free(m);
}

void
vdevc_sema_names(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    check_word(u, d->name, d->loc);
    for (unsigned i = 0; i < d->regs.n; i++) {
        struct vdevc_reg *r = d->regs.v[i];
        check_word(u, r->name, r->hdr.loc);
    }
    for (unsigned i = 0; i < d->vars.n; i++) {
        struct vdevc_var *v = d->vars.v[i];
        check_word(u, v->name, v->hdr.loc);
    }
    /* A FIFO is a state member, a timer a member of the device struct. */
    for (unsigned i = 0; i < d->fifos.n; i++) {
        struct vdevc_fifo *f = d->fifos.v[i];
        if (!f->stream)
            check_word(u, f->name, f->hdr.loc);
    }
    for (unsigned i = 0; i < d->timers.n; i++) {
        struct vdevc_timer *t = d->timers.v[i];
        check_word(u, t->name, t->hdr.loc);
    }
    for (unsigned i = 0; i < d->externs.n; i++) {
        struct vdevc_extern *x = d->externs.v[i];
        check_word(u, x->name, x->hdr.loc);
        for (unsigned k = 0; k < x->params.n; k++) {
            struct vdevc_param *p = x->params.v[k];
            check_word(u, p->name, p->loc);
        }
    }
    check_ids(u);
}
