/* One client access to a region, shared by REGION_READ, REGION_WRITE and
 * REGION_WRITE_MULTI: bounds, then config space, MSI-X, callback or memory. */
#include <errno.h>
#include <string.h>

#include "internal.h"

int
vdev_region_access(struct vdev_dev *dev, uint32_t index, uint64_t offset,
                   void *buf, uint32_t count, bool is_write)
{
    struct vdev_region *r;
    int rc;

    if (index >= dev->nr_regions || !dev->regions[index].present)
        return -EINVAL;
    r = &dev->regions[index];
    if (!count || offset > r->size || count > r->size - offset)
        return -EINVAL;
    if (!(r->flags & (is_write ? VFIO_REGION_INFO_FLAG_WRITE
                               : VFIO_REGION_INFO_FLAG_READ)))
        return -EINVAL;
    if (index == VDEV_CONFIG_INDEX)
        return vdev_config_access(dev, offset, buf, count, is_write);
    /* Only the BARs holding the MSI-X table or PBA need the MSI-X check. */
    if (index < VDEV_NR_BARS && dev->irqs.msix.table &&
        (index == dev->irqs.msix.table_bar ||
         index == dev->irqs.msix.pba_bar)) {
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
