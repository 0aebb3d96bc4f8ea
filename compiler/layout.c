/* Config-space layout: capabilities get fixed offsets in declaration
 * order (standard ones from 0x40, extended ones from 0x100), each dword
 * aligned, so the same .vdev always gives the same config space. */
#include <talloc.h>

#include "vdevc.h"

#define CAP_START 0x40u
#define CAP_END 0x100u
#define EXT_CAP_START 0x100u
#define EXT_CAP_END 0x1000u

/* Sizes as in <linux/pci_regs.h>. */
static unsigned
cap_size(const struct vdevc_cap *c)
{
    switch (c->kind) {
    case CAP_PM:
        return 8; /* PCI_PM_SIZEOF */
    case CAP_MSI:
        return 10 + (c->addr64 ? 4 : 0) + (c->maskable ? 10 : 0);
    case CAP_MSIX:
        return 12; /* PCI_CAP_MSIX_SIZEOF */
    case CAP_PCIE:
        return 0x3c; /* PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 */
    case CAP_VENDOR:
        return 3 + c->body_len;
    case CAP_DSN:
        return 12; /* PCI_EXT_CAP_DSN_SIZEOF */
    default:
        return 0;
    }
}

static bool
is_extended(const struct vdevc_cap *c)
{
    return c->kind == CAP_DSN;
}

/* Where config-space registers are: [start, end) pairs in offset order
 * (an index/data array is one place), under ctx. */
static uint64_t (*config_spans(void *ctx, const struct vdevc_device *d,
                               unsigned *_n))[2]
{
    *_n = 0;
    if (!d->config)
        return NULL;
    const struct vdevc_vec *regs = &d->config->regs;
    unsigned n = 0;
    for (unsigned i = 0; i < regs->n; i++) {
        const struct vdevc_reg *r = regs->v[i];
        n += r->select ? 1 : r->n;
    }
    uint64_t(*sp)[2] = talloc_array_size(ctx, sizeof(*sp), n + 1);
    unsigned k = 0;
    for (unsigned i = 0; i < regs->n; i++) {
        const struct vdevc_reg *r = regs->v[i];
        for (unsigned e = 0; e < (r->select ? 1 : r->n); e++) {
            sp[k][0] = r->off + e * r->stride;
            sp[k++][1] = r->off + e * r->stride + r->width / 8;
        }
    }
    /* Elements of interleaved arrays come out of order: insertion sort
     * (config space is small). */
    for (unsigned i = 1; i < k; i++)
        for (unsigned j = i; j > 0 && sp[j][0] < sp[j - 1][0]; j--) {
            uint64_t t0 = sp[j][0], t1 = sp[j][1];
            sp[j][0] = sp[j - 1][0];
            sp[j][1] = sp[j - 1][1];
            sp[j - 1][0] = t0;
            sp[j - 1][1] = t1;
        }
    *_n = k;
    return sp;
}

/* First fit at or after `at`: clear of every config register. */
static unsigned
fit(uint64_t (*sp)[2], unsigned n, unsigned at, unsigned size)
{
    for (bool moved = true; moved;) {
        moved = false;
        for (unsigned i = 0; i < n; i++)
            if (sp[i][0] < at + size && at < sp[i][1]) {
                at = ((unsigned)sp[i][1] + 3) & ~3u;
                moved = true;
            }
    }
    return at;
}

/* The config register with a byte in [at, at + size), or NULL. */
static const struct vdevc_reg *
config_reg_over(const struct vdevc_device *d, unsigned at, unsigned size)
{
    const struct vdevc_vec *regs = &d->config->regs;
    for (unsigned i = 0; i < regs->n; i++) {
        const struct vdevc_reg *r = regs->v[i];
        for (unsigned e = 0; e < (r->select ? 1 : r->n); e++) {
            uint64_t start = r->off + e * r->stride;
            if (start < at + size && at < start + r->width / 8)
                return r;
        }
    }
    return NULL;
}

static bool
cap_between(const struct vdevc_device *d, uint64_t from, uint64_t to)
{
    for (unsigned i = 0; i < d->caps.n; i++) {
        const struct vdevc_cap *c = d->caps.v[i];
        if (c->offset < to && from < c->offset + c->size)
            return true;
    }
    return false;
}

/* May write more than VDEVC_MAX_CONFIG_WINDOWS entries' worth of count,
 * but only that many entries. */
static unsigned
windows(const struct vdevc_device *d, uint64_t (*win)[2])
{
    void *tmp = talloc_new(NULL);
    unsigned n, w = 0;
    uint64_t(*sp)[2] = config_spans(tmp, d, &n);
    uint64_t start = 0, end = 0;
    for (unsigned i = 0; i < n; i++) {
        if (i > 0 && (sp[i][0] <= end || !cap_between(d, end, sp[i][0]))) {
            end = sp[i][1] > end ? sp[i][1] : end;
            continue;
        }
        if (i > 0 && w++ < VDEVC_MAX_CONFIG_WINDOWS) {
            win[w - 1][0] = start;
            win[w - 1][1] = end - start;
        }
        start = sp[i][0];
        end = sp[i][1];
    }
    if (n > 0 && w++ < VDEVC_MAX_CONFIG_WINDOWS) {
        win[w - 1][0] = start;
        win[w - 1][1] = end - start;
    }
    talloc_free(tmp);
    return w;
}

unsigned
vdevc_config_windows(const struct vdevc_device *d, uint64_t (*win)[2])
{
    unsigned n = windows(d, win);
    return n < VDEVC_MAX_CONFIG_WINDOWS ? n : VDEVC_MAX_CONFIG_WINDOWS;
}

void
vdevc_layout(struct vdevc_unit *u)
{
    unsigned next = CAP_START, next_ext = EXT_CAP_START, n;
    struct vdevc_device *d = u->dev;
    uint64_t(*sp)[2] = config_spans(u, d, &n);
    for (unsigned i = 0; i < d->caps.n; i++) {
        struct vdevc_cap *c = d->caps.v[i];
        unsigned *at = is_extended(c) ? &next_ext : &next;
        unsigned end = is_extended(c) ? EXT_CAP_END : CAP_END;
        c->size = cap_size(c);
        unsigned want = *at;
        *at = fit(sp, n, *at, c->size);
        /* The extended list has no pointer to its head: it is 0x100. */
        if (want == EXT_CAP_START && *at != want) {
            const struct vdevc_reg *r = config_reg_over(d, want, c->size);
            vdevc_error(u->diag, r->hdr.loc, "config-overlap",
                        "'%s' at 0x%llx covers 0x100, the head of the "
                        "extended capability list, where '%s' goes",
                        r->qname, (unsigned long long)r->off, c->name);
            vdevc_note(u->diag, c->hdr.loc, "'%s' declared here", c->name);
            talloc_free(sp);
            return;
        }
        if (*at + c->size > end) {
            vdevc_error(u->diag, c->hdr.loc, "config-space-full",
                        "capability '%s' does not fit in config space%s",
                        c->name, n ? " beside the config registers" : "");
            talloc_free(sp);
            return;
        }
        c->offset = *at;
        *at = (*at + c->size + 3) & ~3u;
    }
    talloc_free(sp);
    uint64_t win[VDEVC_MAX_CONFIG_WINDOWS][2];
    if (windows(d, win) > VDEVC_MAX_CONFIG_WINDOWS)
        vdevc_error(u->diag, d->config->hdr.loc, "config-space-full",
                    "config registers need more than %u windows between "
                    "the capabilities",
                    VDEVC_MAX_CONFIG_WINDOWS);
}
