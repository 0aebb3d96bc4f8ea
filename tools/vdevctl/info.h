/* vdevctl info: what the client library tells about a device, gathered
 * once and shown as lspci-style text, a hex dump or JSON. */
#ifndef VDEVCTL_INFO_H
#define VDEVCTL_INFO_H

#include "decode.h"

/* A hostile server's num_regions should not keep us asking forever. */
#define VDEVCTL_MAX_REGIONS 64
#define VDEVCTL_REGION_CAPS_MAX 1024

struct vdevctl_region {
    unsigned index;
    struct vfio_region_info ri;
    uint8_t caps[VDEVCTL_REGION_CAPS_MAX];
    size_t caps_len;
};

struct vdevctl_devinfo {
    struct vfio_device_info di;
    uint8_t cfg[4096];
    size_t cfg_size; /* 256 or 4096 */
    struct vdevctl_region regions[VDEVCTL_MAX_REGIONS];
    unsigned nr_regions; /* the present ones, by index */
    uint32_t irq_counts[VDEVCTL_NR_IRQ_INDEXES];
    unsigned nr_irqs;
};

struct json_object;
/* The device as a JSON object; hex_len bytes of config space as a hex
 * string under "config" when not 0. */
struct json_object *vdevctl_info_json(const struct vdevctl_devinfo *d,
                                      size_t hex_len);

#endif /* VDEVCTL_INFO_H */
