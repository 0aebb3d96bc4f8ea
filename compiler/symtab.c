/* The symbol table: one flat namespace of dotted names ("ctrl",
 * "ctrl.irq_en", "ch0.src", "dir.to_device") in an open-addressing hash
 * table, so lookups stay O(1) for 100,000-register devices. */
#include <string.h>
#include <talloc.h>

#include "suggest.h"
#include "vdevc.h"

/* Symbols live in the slots by value and keep the caller's name pointer
 * (names live as long as the unit): no allocation per symbol. Slots move
 * when the table grows, so a returned symbol is valid until the next add.
 * Each slot keeps its name's hash beside it: a probe compares strings only
 * when the hashes match, and growing rehashes no string. */
struct slot {
    struct vdevc_sym sym;
    uint32_t hash;
};

struct vdevc_symtab {
    struct slot *slots;
    size_t cap, used;
};

struct vdevc_symtab *
vdevc_symtab_new(void *mem_ctx)
{
    struct vdevc_symtab *t = talloc_zero(mem_ctx, struct vdevc_symtab);
    if (!t)
        return NULL;
    t->cap = 256;
    t->slots = talloc_zero_array(t, struct slot, t->cap);
    return t;
}

/* Room for n more symbols without growing: a large device's names are
 * placed once instead of being rehashed at every doubling. */
void
vdevc_symtab_reserve(struct vdevc_symtab *t, size_t n)
{
    size_t cap = t->cap;
    while ((t->used + n) * 2 > cap)
        cap *= 2;
    if (cap == t->cap)
        return;
    struct slot *old = t->slots;
    size_t old_cap = t->cap;
    t->cap = cap;
    t->slots = talloc_zero_array(t, struct slot, t->cap);
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].sym.name)
            continue;
        size_t k = old[i].hash & (t->cap - 1);
        while (t->slots[k].sym.name)
            k = (k + 1) & (t->cap - 1);
        t->slots[k] = old[i];
    }
    talloc_free(old);
}

static size_t
probe(const struct vdevc_symtab *t, const char *name, uint32_t h)
{
    size_t i = h & (t->cap - 1);
    while (t->slots[i].sym.name &&
           (t->slots[i].hash != h || strcmp(t->slots[i].sym.name, name) != 0))
        i = (i + 1) & (t->cap - 1);
    return i;
}

struct vdevc_sym *
vdevc_sym_get(struct vdevc_symtab *t, const char *name)
{
    struct slot *s = &t->slots[probe(t, name, vdevc_fnv1a(name))];
    return s->sym.name ? &s->sym : NULL;
}

struct vdevc_sym *
vdevc_sym_add(struct vdevc_symtab *t, const char *name,
              enum vdevc_sym_kind kind, void *ptr, struct vdevc_loc loc)
{
    uint32_t h = vdevc_fnv1a(name);
    size_t i = probe(t, name, h);
    if (t->slots[i].sym.name)
        return &t->slots[i].sym;
    t->slots[i] = (struct slot){{name, kind, ptr, loc}, h};
    if (++t->used * 2 > t->cap)
        vdevc_symtab_reserve(t, 0); /* double */
    return NULL;
}

bool
vdevc_sym_define(struct vdevc_unit *u, const char *name,
                 enum vdevc_sym_kind kind, void *ptr, struct vdevc_loc loc,
                 const char *what)
{
    struct vdevc_sym *old = vdevc_sym_add(u->syms, name, kind, ptr, loc);
    if (!old)
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
    if (!s) {
        vdevc_suggest_init(&local, word);
        s = &local;
    }
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < t->cap; i++) {
        const struct vdevc_sym *sym = &t->slots[i].sym;
        if (!sym->name || !(kinds & (1u << sym->kind)) ||
            strncmp(sym->name, prefix, plen) != 0 ||
            strchr(sym->name + plen, '.'))
            continue;
        vdevc_suggest_add(s, sym->name + plen);
    }
    return vdevc_suggest_best(s);
}
