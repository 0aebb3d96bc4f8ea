/* vdevctl: lspci-style decoding of a PCI config-space image and of the
 * vfio-user region/IRQ information, printed to a FILE*. No I/O here. */
#ifndef VDEVCTL_DECODE_H
#define VDEVCTL_DECODE_H

#include <stdbool.h>
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

/* One entry of the capability lists, in list order. */
struct vdevctl_cap {
    unsigned offset;
    unsigned id;
    unsigned version; /* extended capabilities only */
    bool extended;
};

/* Walks the capability list and, when size is 4096, the extended list
 * (guarding against loops); fills up to max entries, returns how many. */
unsigned vdevctl_list_caps(const uint8_t *cfg, size_t size,
                           struct vdevctl_cap *out, unsigned max);
/* "MSI-X", "Power Management", "Device Serial Number", ... or NULL. */
const char *vdevctl_cap_name(const struct vdevctl_cap *cap);

/* A BAR as config space describes it. */
struct vdevctl_bar {
    bool io;
    bool is64;
    bool prefetch;
    bool upper_half; /* the high dword of the 64-bit BAR below */
    uint64_t addr;
};
void vdevctl_decode_bar(const uint8_t *cfg, unsigned index,
                        struct vdevctl_bar *out);

#define VDEVCTL_MAX_AREAS 16

/* What a region-info capability chain says. */
struct vdevctl_region_caps {
    bool sparse;
    uint32_t nr_areas;   /* as the chain says */
    unsigned areas_read; /* those that fit in the buffer (at most 16) */
    struct vfio_region_sparse_mmap_area areas[VDEVCTL_MAX_AREAS];
    bool typed;
    uint32_t type, subtype;
};
/* caps: the bytes after the fixed part of the region info. */
void vdevctl_region_caps(const struct vfio_region_info *ri, const void *caps,
                         size_t caps_len, struct vdevctl_region_caps *out);

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
/* lspci -x's layout, which lspci -F reads back: a "00:00.0 Class: Device
 * vvvv:dddd" line, then len bytes (64, 256 or 4096) 16 to a line. */
void vdevctl_print_hex(FILE *f, const uint8_t *cfg, size_t len);

#endif /* VDEVCTL_DECODE_H */
