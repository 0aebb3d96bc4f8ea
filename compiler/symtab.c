/* The symbol table: one flat namespace of dotted names ("ctrl",
 * "ctrl.irq_en", "ch0.src", "dir.to_device") in an open-addressing hash
 * table, so lookups stay O(1) for 100,000-register devices. */
#include <string.h>
#include <talloc.h>

#include "suggest.h"
#include "vdevc.h"

/* Symbols live in the slots by value and keep the caller's name pointer
 * (names live as long as the unit): no allocation per symbol. Slots move
 * when the table grows, so a returned symbol is valid until the next add. */
struct vdevc_symtab {
    struct vdevc_sym *slots;
    size_t cap, used;
};

struct vdevc_symtab *
vdevc_symtab_new(void *mem_ctx)
{
    struct vdevc_symtab *t = talloc_zero(mem_ctx, struct vdevc_symtab);
    if (t == NULL)
        return NULL;
    t->cap = 256;
    t->slots = talloc_zero_array(t, struct vdevc_sym, t->cap);
    return t;
}

static size_t
probe(const struct vdevc_symtab *t, const char *name)
{
    size_t i = vdevc_fnv1a(name) & (t->cap - 1);
    while (t->slots[i].name != NULL && strcmp(t->slots[i].name, name) != 0)
        i = (i + 1) & (t->cap - 1);
    return i;
}

static void
grow(struct vdevc_symtab *t)
{
    struct vdevc_sym *old = t->slots;
    size_t old_cap = t->cap;
    t->cap *= 2;
    t->slots = talloc_zero_array(t, struct vdevc_sym, t->cap);
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].name != NULL)
            t->slots[probe(t, old[i].name)] = old[i];
    talloc_free(old);
}

struct vdevc_sym *
vdevc_sym_get(struct vdevc_symtab *t, const char *name)
{
    struct vdevc_sym *s = &t->slots[probe(t, name)];
    return s->name != NULL ? s : NULL;
}

struct vdevc_sym *
vdevc_sym_add(struct vdevc_symtab *t, const char *name,
              enum vdevc_sym_kind kind, void *ptr, struct vdevc_loc loc)
{
    size_t i = probe(t, name);
    if (t->slots[i].name != NULL)
        return &t->slots[i];
    t->slots[i] = (struct vdevc_sym){name, kind, ptr, loc};
    if (++t->used * 2 > t->cap)
        grow(t);
    return NULL;
}

bool
vdevc_sym_define(struct vdevc_unit *u, const char *name,
                 enum vdevc_sym_kind kind, void *ptr, struct vdevc_loc loc,
                 const char *what)
{
    struct vdevc_sym *old = vdevc_sym_add(u->syms, name, kind, ptr, loc);
    if (old == NULL)
        return true;
    vdevc_error(u->diag, loc, "duplicate-name", "redefinition of '%s'", name);
    vdevc_note(u->diag, old->loc, "'%s' was first defined here", name);
    (void)what;
    return false;
}

const char *
vdevc_sym_nearest(struct vdevc_symtab *t, const char *word, const char *prefix,
                  unsigned kinds, struct vdevc_suggest *more)
{
    struct vdevc_suggest local, *s = more;
    if (s == NULL) {
        vdevc_suggest_init(&local, word);
        s = &local;
    }
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < t->cap; i++) {
        const struct vdevc_sym *sym = &t->slots[i];
        if (sym->name == NULL || !(kinds & (1u << sym->kind)) ||
            strncmp(sym->name, prefix, plen) != 0 ||
            strchr(sym->name + plen, '.') != NULL)
            continue;
        vdevc_suggest_add(s, sym->name + plen);
    }
    return vdevc_suggest_best(s);
}
