/* Little-endian config-space accessors shared by pci_config.c, pci_caps.c
 * and irq.c. Private to device/. */
#ifndef VDEV_DEVICE_PCI_PRIV_H
#define VDEV_DEVICE_PCI_PRIV_H

#include <stdint.h>

#include "device/device.h"

static inline uint16_t
vdev_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
vdev_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline void
vdev_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void
vdev_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Device-defined values: they are the power-on state as well. */
static inline void
vdev_cfg_set8(struct vdev_config *c, unsigned off, uint8_t v)
{
    c->data[off] = c->poweron[off] = v;
}

static inline void
vdev_cfg_set16(struct vdev_config *c, unsigned off, uint16_t v)
{
    vdev_put16(c->data + off, v);
    vdev_put16(c->poweron + off, v);
}

static inline void
vdev_cfg_set32(struct vdev_config *c, unsigned off, uint32_t v)
{
    vdev_put32(c->data + off, v);
    vdev_put32(c->poweron + off, v);
}

static inline void
vdev_cfg_wmask16(struct vdev_config *c, unsigned off, uint16_t m)
{
    vdev_put16(c->wmask + off, m);
}

static inline void
vdev_cfg_wmask32(struct vdev_config *c, unsigned off, uint32_t m)
{
    vdev_put32(c->wmask + off, m);
}

/* pci_caps.c: whether [off, off+len) overlaps a capability. */
bool vdev_caps_overlap(const struct vdev_dev *dev, unsigned off, unsigned len);

#endif /* VDEV_DEVICE_PCI_PRIV_H */
