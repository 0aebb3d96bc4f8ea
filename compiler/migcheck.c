/* vdevc --check-migration OLD NEW: can a device built from NEW load the
 * state stream of one built from OLD? Compares the two migration field
 * tables (the names, ids and sizes the generated code registers). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>

#include "vdevc.h"

struct mig_entry {
    const char *name; /* as in the stream: "reg", "inst.reg", "state.v" */
    uint64_t size;    /* bytes */
    unsigned since;
    const char *type; /* what the bytes mean, for "retyped" */
    struct vdevc_loc loc;
};

static const char *
reg_type(void *ctx, const struct vdevc_reg *r)
{
    char *t = talloc_asprintf(ctx, "reg:%u", r->width);
    for (unsigned i = 0; i < r->fields.n; i++) {
        const struct vdevc_field *f = r->fields.v[i];
        if (f->etype)
            t = talloc_asprintf_append(t, " %u:%u:%s", f->hi_v, f->lo_v,
                                       f->etype->name);
    }
    return t;
}

static struct mig_entry *
entries(void *ctx, const struct vdevc_device *d, unsigned *_n)
{
    struct mig_entry *m =
        talloc_zero_array(ctx, struct mig_entry, d->regs.n + d->vars.n + 1);
    unsigned n = 0;
    for (unsigned i = 0; i < d->regs.n; i++) {
        const struct vdevc_reg *r = d->regs.v[i];
        if (!r->nomigrate)
            m[n++] =
                (struct mig_entry){r->qname, (uint64_t)r->n * (r->width / 8),
                                   r->since, reg_type(ctx, r), r->hdr.loc};
    }
    for (unsigned i = 0; i < d->vars.n; i++) {
        const struct vdevc_var *v = d->vars.v[i];
        if (v->nomigrate)
            continue;
        uint64_t size = v->buffer        ? v->len
                        : v->width <= 8  ? 1
                        : v->width <= 16 ? 2
                        : v->width <= 32 ? 4
                                         : 8;
        const char *type =
            v->buffer ? "buffer"
                      : talloc_asprintf(ctx, "var:%u:%s", v->width,
                                        v->etype ? v->etype->name : "");
        m[n++] = (struct mig_entry){talloc_asprintf(ctx, "state.%s", v->name),
                                    size, v->since, type, v->hdr.loc};
    }
    *_n = n;
    return m;
}

static const struct mig_entry *
find(const struct mig_entry *m, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (strcmp(m[i].name, name) == 0)
            return &m[i];
    return NULL;
}

int
vdevc_check_migration(struct vdevc_unit *old, struct vdevc_unit *new, FILE *out)
{
    void *ctx = talloc_new(NULL);
    const struct vdevc_device *od = old->dev, *nd = new->dev;
    unsigned on, nn;
    struct mig_entry *om = entries(ctx, od, &on), *nm = entries(ctx, nd, &nn);
    struct vdevc_loc top = nd->loc;
    if (strcmp(od->name, nd->name) != 0)
        vdevc_error(new->diag, top, "mig-device",
                    "device '%s' cannot load a stream of device '%s'", nd->name,
                    od->name);
    if (nd->version < od->version)
        vdevc_error(new->diag, top, "mig-version",
                    "version %u is older than the old revision's %u",
                    nd->version, od->version);
    bool added = false;
    for (unsigned i = 0; i < on; i++) {
        const struct mig_entry *n = find(nm, nn, om[i].name);
        if (!n)
            vdevc_error(old->diag, om[i].loc, "mig-removed",
                        "'%s' is in the old stream but not in the new "
                        "device",
                        om[i].name);
        else if (n->size != om[i].size)
            vdevc_error(new->diag, n->loc, "mig-resized",
                        "'%s' was %llu bytes, now %llu", n->name,
                        (unsigned long long)om[i].size,
                        (unsigned long long)n->size);
        else if (strcmp(n->type, om[i].type) != 0)
            vdevc_error(new->diag, n->loc, "mig-retyped",
                        "'%s' changed type (%s, was %s)", n->name, n->type,
                        om[i].type);
        else if (n->since > od->version)
            vdevc_error(new->diag, n->loc, "mig-since",
                        "'%s' is in a version %u stream but now marked "
                        "since %u: the loader refuses it there",
                        n->name, od->version, n->since);
    }
    for (unsigned i = 0; i < nn; i++) {
        if (find(om, on, nm[i].name))
            continue;
        added = true;
        if (nm[i].since <= od->version)
            vdevc_error(new->diag, nm[i].loc, "mig-since",
                        "'%s' is new but marked since %u: the old revision "
                        "(version %u) has no value for it; use since %u",
                        nm[i].name, nm[i].since, od->version, od->version + 1);
    }
    if (added && nd->version <= od->version)
        vdevc_error(new->diag, top, "mig-version",
                    "fields were added but the version was not raised above "
                    "%u",
                    od->version);
    vdevc_check_migration_runtime(old, new); /* check_migration.c */
    unsigned errors = old->diag->errors + new->diag->errors;
    if (errors == 0)
        fprintf(out, "%s (version %u) can load the state of %s (version %u)\n",
                new->file, nd->version, old->file, od->version);
    talloc_free(ctx);
    return errors == 0 ? 0 : -EINVAL;
}
