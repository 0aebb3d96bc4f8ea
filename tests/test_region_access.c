/* vdev_region_access in-process: bounds, and the migration contract (a
 * stopped device's BAR register callbacks get -EBUSY; config space and
 * backing memory stay served until the session ends). */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <talloc.h>

#include "migration/migration.h"
#include "testdev.h"

static struct {
    uint32_t word;
} mig_state;

static const struct vdev_mig_field mig_fields[] = {
    {.name = "word", .id = 1, .since = 1, .offset = 0, .size = 4},
};

static struct vdev_dev *
migratable(struct testdev *td)
{
    const struct vdev_mig_desc d = {
        .device = "testdev",
        .version = 1,
        .fields = mig_fields,
        .nr_fields = 1,
        .state = &mig_state,
        .state_size = sizeof(mig_state),
    };
    struct vdev_dev *dev = testdev_create(NULL, td);

    cr_assert_not_null(dev);
    cr_assert_eq(vdev_set_migration(dev, &d), 0);
    return dev;
}

Test(region_access, stopped_device_refuses_register_callbacks)
{
    struct testdev td;
    struct vdev_dev *dev = migratable(&td);
    uint32_t v = 0;
    uint16_t vendor = 0;

    cr_assert_eq(vdev_region_access(dev, 0, TESTDEV_REG_ID, &v, 4, false), 0);
    cr_assert_eq(v, TESTDEV_ID_VALUE);
    cr_assert_eq(vdev_mig_set_state(dev, VFIO_DEVICE_STATE_STOP, VDEV_MIG_V2),
                 0);
    cr_assert_eq(vdev_region_access(dev, 0, TESTDEV_REG_ID, &v, 4, false),
                 -EBUSY);
    v = 9;
    cr_assert_eq(vdev_region_access(dev, 0, TESTDEV_REG_SCRATCH, &v, 4, true),
                 -EBUSY);
    cr_assert_eq(td.scratch, 0);
    /* config space and backing memory are still served */
    cr_assert_eq(vdev_region_access(dev, VDEV_CONFIG_INDEX, PCI_VENDOR_ID,
                                    &vendor, 2, false),
                 0);
    cr_assert_eq(vendor, TESTDEV_VENDOR);
    cr_assert_eq(vdev_region_access(dev, 2, 0, &v, 4, true), 0);
    /* so are device-specific regions (the legacy migration region is one) */
    cr_assert_eq(vdev_region_access(dev, TESTDEV_TYPED_INDEX, 0, &v, 4, true),
                 0);
    /* a device reset (a guest FLR too) leaves a migration session alone;
     * the client's DEVICE_RESET ends it as well (proto_device.c) */
    vdev_reset(dev);
    cr_assert(!dev->running);
    vdev_migration_reset(dev);
    cr_assert(dev->running);
    cr_assert_eq(vdev_region_access(dev, 0, TESTDEV_REG_SCRATCH, &v, 4, true),
                 0);
    cr_assert_eq(td.scratch, 9);
    talloc_free(dev);
}

Test(region_access, bounds_and_permissions)
{
    struct testdev td;
    struct vdev_dev *dev = testdev_create(NULL, &td);
    uint8_t b[8];

    cr_assert_not_null(dev);
    cr_assert_eq(vdev_region_access(dev, 0, 0, b, 0, false), -EINVAL);
    cr_assert_eq(vdev_region_access(dev, 0, TESTDEV_BAR0_SIZE - 3, b, 4, false),
                 -EINVAL);
    cr_assert_eq(vdev_region_access(dev, 4, 0, b, 4, false), -EINVAL);
    cr_assert_eq(vdev_region_access(dev, VDEV_MAX_REGIONS, 0, b, 4, false),
                 -EINVAL);
    cr_assert_eq(vdev_region_access(dev, 2, TESTDEV_BAR2_SIZE - 8, b, 8, true),
                 0);
    talloc_free(dev);
}
