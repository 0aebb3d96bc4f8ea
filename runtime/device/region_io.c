/* One client access to a region, shared by REGION_READ, REGION_WRITE and
 * REGION_WRITE_MULTI: bounds, then config space, MSI-X, callback or memory.
 * While migration holds the device stopped, config space, the MSI-X table
 * and PBA, backing memory and device-specific regions stay served; BAR
 * register callbacks get -EBUSY. */
#include <errno.h>
#include <string.h>

#include "device/device.h"
#include "device/irq.h"

/* Everything but a plain callback of a running device: config space,
 * MSI-X, backing memory, and callbacks while migration has it stopped. */
__attribute__((noinline)) int
vdev_region_access_other(struct vdev_dev *dev, uint32_t index, uint64_t offset,
                         void *buf, uint32_t count, bool is_write)
{
    struct vdev_region *r = &dev->regions[index];
    int rc;

    if (index == VDEV_CONFIG_INDEX)
        return vdev_config_access(dev, offset, buf, count, is_write);
    if (index < VDEV_NR_BARS && dev->cfg.msix_cap) {
        rc = vdev_msix_access(dev, index, offset, buf, count, is_write);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    if (r->access) {
        /* Stopped for migration: BAR registers hold still. Device-specific
         * regions (the legacy migration region among them) stay served. */
        if (index <= VDEV_ROM_INDEX && !dev->running)
            return -EBUSY;
        return r->access(dev, r->opaque, offset, buf, count, is_write);
    }
    if (!r->mem)
        return -EINVAL;
    if (is_write)
        memcpy((uint8_t *)r->mem + offset, buf, count);
    else
        memcpy(buf, (const uint8_t *)r->mem + offset, count);
    return 0;
}

int
vdev_region_access(struct vdev_dev *dev, uint32_t index, uint64_t offset,
                   void *buf, uint32_t count, bool is_write)
{
    struct vdev_region *r;

    if (index >= dev->nr_regions)
        return -EINVAL;
    r = &dev->regions[index];
    if (!r->present || !count || offset > r->size || count > r->size - offset)
        return -EINVAL;
    return vdev_region_access_in(dev, index, offset, buf, count, is_write);
}
