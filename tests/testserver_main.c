/* vdev-testserver: the smallest standalone server, spawned by
 * test_server_main.c to check vdev_server_main()'s program conventions. */
#include <talloc.h>

#include "vdev.h"

struct ts_state {
    uint64_t pins;
    uint64_t writes;
};

static uint64_t
pins_get(struct vdev_dev *dev)
{
    return ((struct ts_state *)vdev_private(dev))->pins;
}

static int
pins_set(struct vdev_dev *dev, uint64_t value)
{
    struct ts_state *s = vdev_private(dev);

    s->pins = value;
    s->writes++;
    return 0;
}

static uint64_t
writes_get(struct vdev_dev *dev)
{
    return ((struct ts_state *)vdev_private(dev))->writes;
}

static const struct vdev_var ts_vars[] = {
    {.name = "pins",
     .bits = 16,
     .external = true,
     .get = pins_get,
     .set = pins_set,
     .doc = "input pins"},
    {.name = "writes", .bits = 32, .get = writes_get},
};

static struct vdev_dev *
ts_create(void *mem_ctx)
{
    static const struct vdev_pci_ident ident = {
        .vendor_id = 0x1af4,
        .device_id = 0x10f0,
        .class_code = 0xff0000,
    };
    struct vdev_dev *dev = vdev_dev_create(mem_ctx, "testserver", &ident);
    struct ts_state *s;

    if (!dev)
        return NULL;
    s = talloc_zero(dev, struct ts_state);
    if (!s || vdev_register_vars(dev, ts_vars, 2) < 0) {
        talloc_free(dev);
        return NULL;
    }
    vdev_set_private(dev, s);
    return dev;
}

int
main(int argc, char **argv)
{
    static const struct vdev_server_info info = {
        .name = "vdev-testserver",
        .description = "A test device for the standalone server tests.",
    };

    return vdev_server_main(argc, argv, &info, ts_create);
}
