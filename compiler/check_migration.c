/* vdevc --check-migration, the part of the stream that is not migration
 * fields: the runtime section (libvdev's mig_stream.c) carries config space,
 * the MSI-X table and PBA and the memory of small backed BARs, and refuses a
 * stream whose PCI identity or whose sizes differ. Called by migcheck.c. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "vdevc.h"

/* libvdev carries the memory of backed BARs up to this size in the stream
 * (VDEV_MIG_BAR_MAX in its private headers). */
#define MIG_BAR_MAX (64u * 1024u)

/* Where NEW (or, failing that, OLD) sets a device property. */
static struct vdevc_loc
prop_loc(const struct vdevc_device *d, const char *name)
{
    for (unsigned i = 0; i < d->items.n; i++) {
        const struct vdevc_node *n = d->items.v[i];
        if (n->kind == N_PROP &&
            strcmp(((const struct vdevc_prop *)n)->name, name) == 0)
            return n->loc;
    }
    return d->loc;
}

static void
check_identity(struct vdevc_unit *old, struct vdevc_unit *new)
{
    static const struct {
        const char *name;
        size_t off;
    } ids[] = {
        {"vendor", offsetof(struct vdevc_device, vendor)},
        {"device", offsetof(struct vdevc_device, device)},
        {"subsystem_vendor", offsetof(struct vdevc_device, subsys_vendor)},
        {"subsystem", offsetof(struct vdevc_device, subsys)},
        {"class", offsetof(struct vdevc_device, class_code)},
        {"revision", offsetof(struct vdevc_device, revision)},
    };
    for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        uint64_t o, n;
        memcpy(&o, (const char *)old->dev + ids[i].off, sizeof o);
        memcpy(&n, (const char *)new->dev + ids[i].off, sizeof n);
        if (o != n)
            vdevc_error(
                new->diag, prop_loc(new->dev, ids[i].name), "mig-identity",
                "%s 0x%llx differs from the old revision's 0x%llx: "
                "the stream is refused as another PCI function",
                ids[i].name, (unsigned long long)n, (unsigned long long)o);
    }
}

static void
check_msix(struct vdevc_unit *old, struct vdevc_unit *new)
{
    const struct vdevc_cap *o = old->dev->msix, *n = new->dev->msix;
    if (!o && !n)
        return;
    if (o && n) {
        if (o->vectors != n->vectors)
            vdevc_error(new->diag, n->hdr.loc, "mig-msix",
                        "%u MSI-X vectors, the old revision had %u: the "
                        "stream's table and PBA do not fit",
                        n->vectors, o->vectors);
        return;
    }
    if (n)
        vdevc_error(new->diag, n->hdr.loc, "mig-msix",
                    "MSI-X is new: the old stream has no table or PBA for "
                    "it");
    else
        vdevc_error(old->diag, o->hdr.loc, "mig-msix",
                    "MSI-X is gone: the new device has no place for the "
                    "old stream's table and PBA");
}

static const struct vdevc_bar *
bar_at(const struct vdevc_device *d, unsigned idx)
{
    for (unsigned i = 0; i < d->bars.n; i++) {
        const struct vdevc_bar *b = d->bars.v[i];
        if (b->idx == idx)
            return b;
    }
    return NULL;
}

/* Backed BARs small enough that the runtime puts their memory in the
 * stream; 0 when this one does not travel. */
static uint64_t
bar_carried(const struct vdevc_bar *b)
{
    if (!b || !(b->memory || b->mems.n > 0) || b->size > MIG_BAR_MAX)
        return 0;
    return b->size;
}

static void
check_bars(struct vdevc_unit *old, struct vdevc_unit *new)
{
    for (unsigned idx = 0; idx < 6; idx++) {
        const struct vdevc_bar *ob = bar_at(old->dev, idx),
                               *nb = bar_at(new->dev, idx);
        uint64_t o = bar_carried(ob), n = bar_carried(nb);
        if (o == n)
            continue;
        if (nb)
            vdevc_error(new->diag, nb->hdr.loc, "mig-bar",
                        "BAR %u memory in the stream: %llu bytes, the old "
                        "revision's %llu",
                        idx, (unsigned long long)n, (unsigned long long)o);
        else
            vdevc_error(old->diag, ob->hdr.loc, "mig-bar",
                        "BAR %u is gone: the old stream carries its %llu "
                        "bytes of memory",
                        idx, (unsigned long long)o);
    }
}

/* The k-th capability of a kind, or NULL. */
static const struct vdevc_cap *
cap_nth(const struct vdevc_device *d, enum vdevc_cap_kind kind, unsigned k)
{
    for (unsigned i = 0; i < d->caps.n; i++) {
        const struct vdevc_cap *c = d->caps.v[i];
        if (c->kind == kind && k-- == 0)
            return c;
    }
    return NULL;
}

/* Capabilities with bytes the guest writes (control registers). */
static bool
guest_writable(const struct vdevc_cap *c)
{
    if (c->kind == CAP_PM || c->kind == CAP_MSI || c->kind == CAP_MSIX ||
        c->kind == CAP_PCIE)
        return true;
    for (unsigned i = 0; i < c->body_len && i < sizeof c->wmask; i++)
        if (c->wmask[i])
            return true;
    return false;
}

/* Config space travels as bytes: the guest-written ones (MSI address and
 * control, PM state...) land at the same offsets, so a capability that
 * moves or changes size would have them land in the wrong place. Read-only
 * ones are this device's own and may move. */
static void
check_caps(struct vdevc_unit *old, struct vdevc_unit *new)
{
    const struct vdevc_device *od = old->dev, *nd = new->dev;
    for (unsigned i = 0; i < od->caps.n; i++) {
        const struct vdevc_cap *o = od->caps.v[i], *n;
        unsigned k = 0;
        if (!guest_writable(o))
            continue;
        for (unsigned j = 0; j < i; j++)
            k += vdevc_cap_at(&od->caps, j)->kind == o->kind;
        n = cap_nth(nd, o->kind, k);
        if (!n)
            vdevc_error(old->diag, o->hdr.loc, "mig-config",
                        "capability '%s' is gone: the guest's settings in "
                        "it would be lost",
                        o->name);
        else if (n->offset != o->offset || n->size != o->size)
            vdevc_error(new->diag, n->hdr.loc, "mig-config",
                        "capability '%s' at config 0x%x (%u bytes) was at "
                        "0x%x (%u bytes): the guest's settings in it would "
                        "land elsewhere",
                        n->name, n->offset, n->size, o->offset, o->size);
    }
}

static const struct vdevc_timer *
timer_named(const struct vdevc_device *d, const char *name)
{
    for (unsigned i = 0; i < d->timers.n; i++)
        if (strcmp(vdevc_timer_at(&d->timers, i)->name, name) == 0)
            return d->timers.v[i];
    return NULL;
}

/* Timers travel by name in the clock section: one the new revision adds
 * starts stopped; one it lacks is refused only while it runs in the
 * stream, which a device saved at any moment may do. */
static void
check_timers(struct vdevc_unit *old, struct vdevc_unit *new)
{
    /* A timer only the new revision has may be a gone one renamed. */
    const struct vdevc_timer *added = NULL;
    for (unsigned i = 0; i < new->dev->timers.n && !added; i++)
        if (!timer_named(old->dev, vdevc_timer_at(&new->dev->timers, i)->name))
            added = new->dev->timers.v[i];
    for (unsigned i = 0; i < old->dev->timers.n; i++) {
        const struct vdevc_timer *t = old->dev->timers.v[i];
        if (timer_named(new->dev, t->name) ||
            !vdevc_warning(old->diag, t->hdr.loc, VDEVC_W_MIG_TIMER_REMOVED,
                           "timer '%s' is gone: a stream saved while it runs "
                           "is refused",
                           t->name))
            continue;
        if (added)
            vdevc_help(old->diag,
                       "timers are matched by name: if '%s' is '%s' renamed, "
                       "keep the old name; else stop '%s' (or let it expire) "
                       "before the state is saved",
                       added->name, t->name, t->name);
        else
            vdevc_help(old->diag, "stop it (or let it expire) before the "
                                  "state is saved, or keep the timer");
    }
}

void
vdevc_check_migration_runtime(struct vdevc_unit *old, struct vdevc_unit *new)
{
    check_identity(old, new);
    check_msix(old, new);
    check_bars(old, new);
    check_caps(old, new);
    check_timers(old, new);
}
