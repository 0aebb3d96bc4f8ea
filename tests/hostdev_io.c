/* Guest-like BAR0 accesses to hostdev for in-process tests, through the
 * runtime's own access path (so deferred resets run as they would). */
#include <string.h>

#include "device/device.h"
#include "hostdev.h"

uint32_t
hostdev_read(struct vdev_dev *dev, unsigned reg)
{
    uint32_t v = 0;

    if (vdev_region_access(dev, 0, reg, &v, 4, false) < 0)
        return 0xffffffffu;
    return v;
}

void
hostdev_write(struct vdev_dev *dev, unsigned reg, uint32_t value)
{
    vdev_region_access(dev, 0, reg, &value, 4, true);
}
