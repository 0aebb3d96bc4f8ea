/* One client access to a region, shared by REGION_READ, REGION_WRITE and
 * REGION_WRITE_MULTI: bounds, then config space, MSI-X, callback or memory. */
#include <errno.h>
#include <string.h>

#include "internal.h"

static bool
is_msix_bar(const struct vdev_dev *dev, uint32_t index)
{
    const struct vdev_msix *m = &dev->irqs.msix;

    return index < VDEV_NR_BARS && m->table &&
           (index == m->table_bar || index == m->pba_bar);
}

/* Config space, MSI-X space and backing memory; kept out of line so the
 * register path below saves no registers for them. */
static __attribute__((noinline)) int
access_special(struct vdev_dev *dev, struct vdev_region *r, uint32_t index,
               uint64_t offset, void *buf, uint32_t count, bool is_write)
{
    int rc;

    if (index == VDEV_CONFIG_INDEX)
        return vdev_config_access(dev, offset, buf, count, is_write);
    if (is_msix_bar(dev, index)) {
        rc = vdev_msix_access(dev, index, offset, buf, count, is_write);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    if (r->access)
        return r->access(dev, r->opaque, offset, buf, count, is_write);
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

    if (index >= dev->nr_regions || !dev->regions[index].present)
        return -EINVAL;
    r = &dev->regions[index];
    if (!count || offset > r->size || count > r->size - offset)
        return -EINVAL;
    if (!(r->flags & (is_write ? VFIO_REGION_INFO_FLAG_WRITE
                               : VFIO_REGION_INFO_FLAG_READ)))
        return -EINVAL;
    /* Device registers: the common case, straight to the callback. */
    if (r->access && index != VDEV_CONFIG_INDEX && !is_msix_bar(dev, index))
        return r->access(dev, r->opaque, offset, buf, count, is_write);
    return access_special(dev, r, index, offset, buf, count, is_write);
}
