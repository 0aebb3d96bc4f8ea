/* vdevctl: lspci-style decoding of a PCI config-space image and of the
 * vfio-user region/IRQ information, printed to a FILE*. No I/O here. */
#ifndef VDEVCTL_DECODE_H
#define VDEVCTL_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vdev_proto.h"

#define VDEVCTL_NR_IRQ_INDEXES 5

/* Config space is little-endian whatever the host is. */
static inline uint16_t
rd16(const uint8_t *p, size_t off)
{
    return (uint16_t)(p[off] | p[off + 1] << 8);
}

static inline uint32_t
rd32(const uint8_t *p, size_t off)
{
    return (uint32_t)rd16(p, off) | (uint32_t)rd16(p, off + 2) << 16;
}

/* lspci's "+"/"-" for one bit. */
static inline char
flag(uint32_t v, uint32_t bit)
{
    return (v & bit) ? '+' : '-';
}

/* "Ethernet controller", "Unclassified device", ...: base/sub class of a
 * 24-bit class code (prog-if ignored); never NULL. */
const char *vdevctl_class_name(uint32_t class_code);
/* IDs, class, subsystem, revision, Control, Status, interrupt pin.
 * cfg holds at least 64 bytes. */
void vdevctl_print_header(FILE *f, const uint8_t *cfg);
/* One BAR (index 0-5) or the expansion ROM (6): address and type from
 * config space, size and flags from the region info, sparse mmap areas
 * from its capability chain (caps: the bytes after the fixed part).
 * Prints nothing for an absent region or the upper half of a 64-bit BAR. */
void vdevctl_print_bar(FILE *f, const uint8_t *cfg, unsigned index,
                       const struct vfio_region_info *ri, const void *caps,
                       size_t caps_len);
/* A region past the PCI ones (VGA at 8, device-specific from 9): size,
 * flags and its TYPE / sparse-mmap capabilities. */
void vdevctl_print_region(FILE *f, unsigned index,
                          const struct vfio_region_info *ri, const void *caps,
                          size_t caps_len);
/* Walks the capability list and, when size is 4096, the extended list. */
void vdevctl_print_caps(FILE *f, const uint8_t *cfg, size_t size);
/* counts[i] for INTx, MSI, MSI-X, ERR, REQ; nr: how many the device has. */
void vdevctl_print_irqs(FILE *f, const uint32_t *counts, unsigned nr);
/* "4K", "1M", "24" (bytes), as lspci writes sizes. */
void vdevctl_format_size(char *buf, size_t len, uint64_t size);

#endif /* VDEVCTL_DECODE_H */
