/* vdevctl info: gathers device, region, IRQ info and config space over the
 * client library and hands them to the decoder. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vdev_client.h"
#include "vdevctl.h"
#include "decode.h"

/* A hostile server's num_regions should not keep us asking forever. */
#define VDEVCTL_MAX_REGIONS 64

int
vdevctl_info(struct vdev_client *cl, FILE *f, const char **what)
{
    struct vfio_device_info di;
    struct vfio_region_info cfg_ri;
    static uint8_t cfg[4096];
    size_t cfg_size;
    int rc;

    *what = "device info";
    if ((rc = vdev_client_device_info(cl, &di)) < 0)
        return rc;
    if (!(di.flags & VFIO_DEVICE_FLAGS_PCI) ||
        di.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX)
        return -ENODEV;
    *what = "config region info";
    rc = vdev_client_region_info(cl, VFIO_PCI_CONFIG_REGION_INDEX, &cfg_ri,
                                 NULL, 0, NULL, NULL);
    if (rc < 0)
        return rc;
    cfg_size = cfg_ri.size >= 4096 ? 4096 : 256;
    if (cfg_ri.size < 256)
        return -EPROTO;
    *what = "config space read";
    memset(cfg, 0, sizeof(cfg));
    if ((rc = vdev_client_config_dump(cl, cfg, cfg_size)) < 0)
        return rc;

    vdevctl_print_header(f, cfg);
    for (unsigned i = VFIO_PCI_BAR0_REGION_INDEX;
         i <= VFIO_PCI_ROM_REGION_INDEX; i++) {
        struct vfio_region_info ri;
        uint8_t caps[1024];
        size_t caps_len = 0;
        int fd = -1;
        *what = "region info";
        rc = vdev_client_region_info(cl, i, &ri, caps, sizeof(caps), &caps_len,
                                     &fd);
        if (fd >= 0)
            close(fd);
        if (rc == -EINVAL || rc == -ENOENT)
            continue; /* absent region */
        if (rc < 0)
            return rc;
        if (caps_len > sizeof(caps))
            caps_len = sizeof(caps);
        vdevctl_print_bar(f, cfg, i, &ri, caps, caps_len);
    }
    for (unsigned i = VFIO_PCI_VGA_REGION_INDEX;
         i < di.num_regions && i < VDEVCTL_MAX_REGIONS; i++) {
        struct vfio_region_info ri;
        uint8_t caps[1024];
        size_t caps_len = 0;
        int fd = -1;
        *what = "region info";
        rc = vdev_client_region_info(cl, i, &ri, caps, sizeof(caps), &caps_len,
                                     &fd);
        if (fd >= 0)
            close(fd);
        if (rc == -EINVAL || rc == -ENOENT)
            continue;
        if (rc < 0)
            return rc;
        vdevctl_print_region(f, i, &ri, caps,
                             caps_len < sizeof(caps) ? caps_len : sizeof(caps));
    }
    vdevctl_print_caps(f, cfg, cfg_size);

    uint32_t counts[VDEVCTL_NR_IRQ_INDEXES] = {0};
    unsigned nr = di.num_irqs < VDEVCTL_NR_IRQ_INDEXES ? di.num_irqs
                                                       : VDEVCTL_NR_IRQ_INDEXES;
    for (unsigned i = 0; i < nr; i++) {
        struct vfio_irq_info ii;
        *what = "irq info";
        if ((rc = vdev_client_irq_info(cl, i, &ii)) < 0)
            return rc;
        counts[i] = ii.count;
    }
    vdevctl_print_irqs(f, counts, nr);
    return 0;
}
