/* The client's DMA maps (dma.c) and their dirty-page logging (dirty.c,
 * dirty_pgsize.c). The table lives in the connection; dev->dma points at
 * it while there is one. */
#ifndef VDEV_DEVICE_DMA_H
#define VDEV_DEVICE_DMA_H

#include <stdbool.h>
#include <stdint.h>

#include "device/device.h"

/* dma.c */
/* An empty table whose maps are talloc children of mem_ctx; msg (with
 * peer) reaches memory mapped without an fd. */
void vdev_dma_init(struct vdev_dma *dma, void *mem_ctx, vdev_dma_msg_fn *msg,
                   void *peer);
int vdev_dma_add(struct vdev_dma *dma, uint64_t iova, uint64_t size, int fd,
                 uint64_t offset, uint32_t prot);
int vdev_dma_remove(struct vdev_dma *dma, uint64_t iova, uint64_t size);
void vdev_dma_remove_all(struct vdev_dma *dma);
struct vdev_dma_map *vdev_dma_lookup(struct vdev_dma *dma, uint64_t iova);
/* Index of the first map that ends at or after iova (nr_maps if none). */
unsigned vdev_dma_index_from(const struct vdev_dma *dma, uint64_t iova);

/* dirty.c: dirty-page logging over the DMA maps (DMA_LOGGING_*, legacy
 * DIRTY_PAGES and DMA_UNMAP with a bitmap). Bit i of a report is the page
 * at iova + i * pgsize, least significant bit first. */
/* pgsize: a power of two >= 4096. -EBUSY if already logging. */
int vdev_dirty_start(struct vdev_dma *dma, uint64_t pgsize);
void vdev_dirty_stop(struct vdev_dma *dma);
/* Bytes of bitmap for size bytes at pgsize (one bit per page, rounded). */
uint64_t vdev_dirty_bitmap_bytes(uint64_t size, uint64_t pgsize);
/* Copies the bits of [iova, iova+size) into bitmap and clears them. pgsize
 * must be the logging page size and iova aligned to it; bitmap_len at least
 * vdev_dirty_bitmap_bytes() (the rest is zeroed). Pages no map covers read
 * as clean. -EINVAL if logging is off or the arguments do not fit. */
int vdev_dirty_report(struct vdev_dma *dma, uint64_t iova, uint64_t size,
                      uint64_t pgsize, void *bitmap, uint64_t bitmap_len);
/* The same at any page size (a power of two, iova aligned to it; larger
 * or smaller than the logging page size), into out_len bytes (at least
 * vdev_dirty_bitmap_bytes(len, pgsize); the rest zeroed) (dirty_pgsize.c).
 * Reads and clears the log. Returns 0 or -errno. */
int vdev_dirty_bits(struct vdev_dma *dma, uint64_t iova, uint64_t len,
                    uint64_t pgsize, uint8_t *out, uint64_t out_len);
/* Used by dma.c: a map added while logging, and device writes. */
int vdev_dirty_map_alloc(struct vdev_dma *dma, struct vdev_dma_map *m);
void vdev_dirty_mark(struct vdev_dma *dma, struct vdev_dma_map *m,
                     uint64_t iova, uint64_t len);

#endif /* VDEV_DEVICE_DMA_H */
