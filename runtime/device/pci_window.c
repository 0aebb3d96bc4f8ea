/* Config-space windows served by device code (vdev_config_add): device-
 * specific registers at fixed offsets, placed clear of the header and the
 * capabilities; guest accesses that touch one are split at its edges. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "device/pci_priv.h"

const struct vdev_cfg_window *
vdev_config_window_at(const struct vdev_dev *dev, unsigned off, unsigned len)
{
    const struct vdev_config *c = &dev->cfg;

    for (unsigned i = 0; i < c->nr_windows; i++) {
        const struct vdev_cfg_window *w = &c->windows[i];
        if (off < (unsigned)w->offset + w->size && w->offset < off + len)
            return w;
    }
    return NULL;
}

int
vdev_config_add(struct vdev_dev *dev, uint16_t offset, uint16_t size,
                vdev_region_access_fn *access, void *opaque)
{
    struct vdev_config *c;
    unsigned i;

    if (!dev || !access || !size || offset >= VDEV_CONFIG_SIZE ||
        size > VDEV_CONFIG_SIZE - offset)
        return -EINVAL;
    c = &dev->cfg;
    if (offset < PCI_STD_HEADER_SIZEOF ||
        vdev_config_window_at(dev, offset, size) ||
        vdev_caps_overlap(dev, offset, size))
        return -EBUSY;
    if (c->nr_windows >= VDEV_MAX_CONFIG_WINDOWS)
        return -ENOSPC;
    if (!c->windows) {
        c->windows = talloc_zero_array(dev, struct vdev_cfg_window,
                                       VDEV_MAX_CONFIG_WINDOWS);
        if (!c->windows)
            return -ENOMEM;
    }
    for (i = c->nr_windows; i > 0 && c->windows[i - 1].offset > offset; i--)
        c->windows[i] = c->windows[i - 1];
    c->windows[i] = (struct vdev_cfg_window){
        .offset = offset, .size = size, .access = access, .opaque = opaque};
    c->nr_windows++;
    return 0;
}

/* The first window that starts at or after off, or NULL. */
static const struct vdev_cfg_window *
window_from(const struct vdev_config *c, unsigned off)
{
    for (unsigned i = 0; i < c->nr_windows; i++)
        if ((unsigned)c->windows[i].offset + c->windows[i].size > off)
            return &c->windows[i];
    return NULL;
}

int
vdev_config_window_access(struct vdev_dev *dev, uint64_t offset, void *buf,
                          uint32_t count, bool is_write)
{
    const struct vdev_config *c = &dev->cfg;
    unsigned off = (unsigned)offset, end = (unsigned)offset + count;
    uint8_t *p = buf;

    /* Stopped for migration: device registers hold still, as in BARs. */
    if (!dev->running)
        return -EBUSY;
    while (off < end) {
        const struct vdev_cfg_window *w = window_from(c, off);
        unsigned stop;
        int rc;

        if (w && w->offset <= off) {
            stop = (unsigned)w->offset + w->size;
            stop = stop < end ? stop : end;
            rc = w->access(dev, w->opaque, off, p, stop - off, is_write);
        } else {
            stop = w && w->offset < end ? w->offset : end;
            rc = vdev_config_access_plain(dev, off, p, stop - off, is_write);
        }
        if (rc < 0)
            return rc;
        p += stop - off;
        off = stop;
    }
    return 0;
}
