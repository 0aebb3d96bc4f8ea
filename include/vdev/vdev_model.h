/* Helpers every vdevc-generated device includes: the statement language's
 * never-trapping arithmetic, DMA between guest memory and state buffers, and
 * byte-lane access to registers. Part of libvdev's public headers so the
 * generated C carries only what is particular to its device. */
#ifndef VDEV_MODEL_H
#define VDEV_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vdev.h"

/* Arithmetic of the statement language: never traps. */
static inline uint64_t
vdevc_div(uint64_t a, uint64_t b)
{
    return b != 0 ? a / b : 0;
}

static inline uint64_t
vdevc_mod(uint64_t a, uint64_t b)
{
    return b != 0 ? a % b : 0;
}

static inline uint64_t
vdevc_shl(uint64_t a, uint64_t b)
{
    return b < 64 ? a << b : 0;
}

static inline uint64_t
vdevc_shr(uint64_t a, uint64_t b)
{
    return b < 64 ? a >> b : 0;
}

/* dma read/write between guest memory and a state buffer; an access
 * outside the buffer is dropped. */
static inline void
vdevc_dma(struct vdev_dev *dev, bool to_guest, uint8_t *buf, size_t size,
          uint64_t off, uint64_t iova, uint64_t len)
{
    if (off > size || len > size - off)
        return;
    if (to_guest)
        vdev_dma_write(dev, iova, buf + off, len);
    else
        vdev_dma_read(dev, iova, buf + off, len);
}

/* The byte lanes of one register an access covers. */
struct vdevc_span {
    uint64_t lane;
    uint32_t n;
    uint64_t mask;
};

static inline struct vdevc_span
vdevc_span(uint64_t lane, uint64_t size, uint32_t count)
{
    struct vdevc_span s = {.lane = lane};
    s.n = size - lane < count ? (uint32_t)(size - lane) : count;
    s.mask = s.n >= 8 ? ~(uint64_t)0
                      : (((uint64_t)1 << (8 * s.n)) - 1) << (8 * lane);
    return s;
}

static inline uint64_t
vdevc_load(const uint8_t *p, struct vdevc_span s)
{
    uint64_t v = 0;
    for (uint32_t k = 0; k < s.n; k++)
        v |= (uint64_t)p[k] << (8 * (s.lane + k));
    return v;
}

static inline void
vdevc_store(uint8_t *p, uint64_t v, struct vdevc_span s)
{
    for (uint32_t k = 0; k < s.n; k++)
        p[k] = (uint8_t)(v >> (8 * (s.lane + k)));
}

static inline void
vdevc_memory(uint8_t *mem, uint8_t *p, struct vdevc_span s, bool is_write)
{
    if (mem == NULL)
        memset(p, 0, is_write ? 0 : s.n);
    else if (is_write)
        memcpy(mem + s.lane, p, s.n);
    else
        memcpy(p, mem + s.lane, s.n);
}

static inline uint64_t
vdevc_get(const void *state, uint32_t at, uint32_t size)
{
    const uint8_t *p = (const uint8_t *)state + at;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (size) {
    case 1:
        memcpy(&v8, p, 1);
        return v8;
    case 2:
        memcpy(&v16, p, 2);
        return v16;
    case 4:
        memcpy(&v32, p, 4);
        return v32;
    default:
        memcpy(&v64, p, 8);
        return v64;
    }
}

static inline void
vdevc_set(void *state, uint32_t at, uint32_t size, uint64_t v)
{
    uint8_t *p = (uint8_t *)state + at;
    uint8_t v8 = (uint8_t)v;
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;
    switch (size) {
    case 1:
        memcpy(p, &v8, 1);
        break;
    case 2:
        memcpy(p, &v16, 2);
        break;
    case 4:
        memcpy(p, &v32, 4);
        break;
    default:
        memcpy(p, &v, 8);
        break;
    }
}

#endif /* VDEV_MODEL_H */
