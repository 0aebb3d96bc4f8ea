/* vdevctl info: gathers device, region, IRQ info and config space over the
 * client library and prints it as lspci -vv would, as lspci -x would
 * (-x, -xxx, -xxxx) or as JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vdev_client.h"
#include "vdevctl.h"
#include "info.h"

/* One region's info; absent regions (size 0, or refused) are skipped. */
static int
gather_region(struct vdev_client *cl, struct vdevctl_devinfo *d, unsigned i)
{
    struct vdevctl_region *r = &d->regions[d->nr_regions];
    int fd = -1;
    int rc = vdev_client_region_info(cl, i, &r->ri, r->caps, sizeof(r->caps),
                                     &r->caps_len, &fd);

    if (fd >= 0)
        close(fd);
    if (rc == -EINVAL || rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    if (r->ri.size == 0)
        return 0;
    if (r->caps_len > sizeof(r->caps))
        r->caps_len = sizeof(r->caps);
    r->index = i;
    d->nr_regions++;
    return 0;
}

static int
gather(struct vdev_client *cl, struct vdevctl_devinfo *d, const char **what)
{
    struct vfio_region_info cfg_ri;
    int rc;

    *what = "device info";
    if ((rc = vdev_client_device_info(cl, &d->di)) < 0)
        return rc;
    if (!(d->di.flags & VFIO_DEVICE_FLAGS_PCI) ||
        d->di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
        return -ENODEV;
    *what = "config region info";
    rc = vdev_client_region_info(cl, VFIO_PCI_CONFIG_REGION_INDEX, &cfg_ri,
                                 NULL, 0, NULL, NULL);
    if (rc < 0)
        return rc;
    if (cfg_ri.size < 256)
        return -EPROTO;
    d->cfg_size = cfg_ri.size >= 4096 ? 4096 : 256;
    *what = "config space read";
    if ((rc = vdev_client_config_dump(cl, d->cfg, d->cfg_size)) < 0)
        return rc;
    *what = "region info";
    for (unsigned i = 0; i < d->di.num_regions && i < VDEVCTL_MAX_REGIONS; i++)
        if (i != VFIO_PCI_CONFIG_REGION_INDEX &&
            (rc = gather_region(cl, d, i)) < 0)
            return rc;
    d->nr_irqs = d->di.num_irqs < VDEVCTL_NR_IRQ_INDEXES
                     ? d->di.num_irqs
                     : VDEVCTL_NR_IRQ_INDEXES;
    *what = "irq info";
    for (unsigned i = 0; i < d->nr_irqs; i++) {
        struct vfio_irq_info ii;
        /* As vfio-pci, a server has no ERR interrupt on a device that is
         * not PCI Express: EINVAL there means none (QEMU reads it so). */
        rc = vdev_client_irq_info(cl, i, &ii);
        if (rc == -EINVAL && i == VFIO_PCI_ERR_IRQ_INDEX) {
            d->irq_counts[i] = 0;
            continue;
        }
        if (rc < 0)
            return rc;
        d->irq_counts[i] = ii.count;
    }
    return 0;
}

static void
print_text(FILE *f, const struct vdevctl_devinfo *d)
{
    vdevctl_print_header(f, d->cfg);
    for (unsigned i = 0; i < d->nr_regions; i++) {
        const struct vdevctl_region *r = &d->regions[i];
        if (r->index <= VFIO_PCI_ROM_REGION_INDEX)
            vdevctl_print_bar(f, d->cfg, r->index, &r->ri, r->caps,
                              r->caps_len);
        else
            vdevctl_print_region(f, r->index, &r->ri, r->caps, r->caps_len);
    }
    vdevctl_print_caps(f, d->cfg, d->cfg_size);
    vdevctl_print_irqs(f, d->irq_counts, d->nr_irqs);
}

/* lspci's -x levels: 64 bytes, -xxx the whole 256, -xxxx 4 KiB when the
 * device has it. */
static size_t
hex_len(const struct vdevctl *c, const struct vdevctl_devinfo *d)
{
    if (c->hex >= 4)
        return d->cfg_size;
    return c->hex == 3 ? 256 : c->hex ? 64 : 0;
}

int
vdevctl_info(struct vdevctl *c, struct vdev_client *cl)
{
    struct vdevctl_devinfo *d = calloc(1, sizeof(*d));
    const char *what;
    int rc;

    if (!d)
        return vdevctl_fail_errno(c, "info", -ENOMEM);
    rc = gather(cl, d, &what);
    if (rc < 0) {
        free(d);
        return vdevctl_fail_errno(c, what, rc);
    }
    if (c->json)
        vdevctl_json_print(vdevctl_info_json(d, hex_len(c, d)));
    else if (c->hex)
        vdevctl_print_hex(stdout, d->cfg, hex_len(c, d));
    else
        print_text(stdout, d);
    free(d);
    return 0;
}
