/* Config-space layout: capabilities get fixed offsets in declaration
 * order (standard ones from 0x40, extended ones from 0x100), each dword
 * aligned, so the same .vdev always gives the same config space. */
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

void
vdevc_layout(struct vdevc_unit *u)
{
    unsigned next = CAP_START, next_ext = EXT_CAP_START;
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->caps.n; i++) {
        struct vdevc_cap *c = d->caps.v[i];
        unsigned *at = is_extended(c) ? &next_ext : &next;
        unsigned end = is_extended(c) ? EXT_CAP_END : CAP_END;
        c->size = cap_size(c);
        if (*at + c->size > end) {
            vdevc_error(u->diag, c->hdr.loc, "config-space-full",
                        "capability '%s' does not fit in config space",
                        c->name);
            return;
        }
        c->offset = *at;
        *at = (*at + c->size + 3) & ~3u;
    }
}
