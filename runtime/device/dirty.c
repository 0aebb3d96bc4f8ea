/* Dirty-page logging: one bitmap per DMA map while logging is on, set by
 * device writes, copied out and cleared by reports. Word-at-a-time. */
#include <errno.h>
#include <string.h>

#include "base/mem.h"
#include "device/device.h"
#include "device/dma.h"

/* Bitmaps of all maps together may not exceed this (8 TiB of guest memory
 * at 4 KiB pages): fd-less maps cost nothing, so their size alone must not
 * make us allocate without bound. The fuzz build's is smaller
 * (fuzz/build.mk). */
#ifndef DIRTY_MAX_TOTAL_BYTES
#define DIRTY_MAX_TOTAL_BYTES (256ull << 20)
#endif

static unsigned
log_shift(const struct vdev_dma *dma)
{
    return (unsigned)__builtin_ctzll(dma->log_pgsize);
}

/* A map's pages: from the page holding its first byte to the page holding
 * its last (maps without an fd need not be page-aligned). */
static uint64_t
map_nbits(const struct vdev_dma_map *m, unsigned shift)
{
    return ((m->iova + (m->size - 1)) >> shift) - (m->iova >> shift) + 1;
}

static uint64_t
map_bytes(const struct vdev_dma_map *m, unsigned shift)
{
    return ((map_nbits(m, shift) + 63) / 64) * 8;
}

static uint64_t
total_bytes(const struct vdev_dma *dma, unsigned shift)
{
    uint64_t t = 0;

    for (unsigned i = 0; i < dma->nr_maps; i++)
        if (dma->maps[i]->dirty)
            t += map_bytes(dma->maps[i], shift);
    return t;
}

static int
alloc_one(struct vdev_dma_map *m, unsigned shift, uint64_t *total)
{
    uint64_t bytes = map_bytes(m, shift);

    if (m->dirty)
        return 0;
    if (bytes > DIRTY_MAX_TOTAL_BYTES || *total + bytes > DIRTY_MAX_TOTAL_BYTES)
        return -ENOMEM;
    m->dirty = talloc_zero_array(m, uint64_t, (size_t)(bytes / 8));
    if (!m->dirty)
        return -ENOMEM;
    *total += bytes;
    return 0;
}

int
vdev_dirty_map_alloc(struct vdev_dma *dma, struct vdev_dma_map *m)
{
    unsigned shift = log_shift(dma);
    uint64_t total = total_bytes(dma, shift);

    return alloc_one(m, shift, &total);
}

int
vdev_dirty_start(struct vdev_dma *dma, uint64_t pgsize)
{
    uint64_t total = 0;
    int ret = 0;

    if (dma->logging)
        return -EBUSY;
    if (pgsize < 4096 || (pgsize & (pgsize - 1)))
        return -EINVAL;
    dma->log_pgsize = pgsize;
    /* Refuse before allocating (and touching) anything. */
    for (unsigned i = 0; i < dma->nr_maps && total <= DIRTY_MAX_TOTAL_BYTES;
         i++)
        total += map_bytes(dma->maps[i], log_shift(dma));
    if (total > DIRTY_MAX_TOTAL_BYTES)
        ret = -ENOMEM;
    total = 0;
    for (unsigned i = 0; i < dma->nr_maps && ret == 0; i++)
        ret = alloc_one(dma->maps[i], log_shift(dma), &total);
    if (ret < 0) {
        for (unsigned i = 0; i < dma->nr_maps; i++) {
            talloc_free(dma->maps[i]->dirty);
            dma->maps[i]->dirty = NULL;
        }
        dma->log_pgsize = 0;
        return ret;
    }
    dma->logging = true;
    return 0;
}

void
vdev_dirty_stop(struct vdev_dma *dma)
{
    size_t freed = 0;

    for (unsigned i = 0; i < dma->nr_maps; i++) {
        if (dma->maps[i]->dirty)
            freed += talloc_get_size(dma->maps[i]->dirty);
        talloc_free(dma->maps[i]->dirty);
        dma->maps[i]->dirty = NULL;
    }
    vdev_mem_released(freed);
    dma->logging = false;
    dma->log_pgsize = 0;
}

static uint64_t
low_mask(unsigned n)
{
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

/* Sets n bits from bit `start`: masked edge words, whole words between. */
static void
bits_set(uint64_t *bm, uint64_t start, uint64_t n)
{
    uint64_t w = start / 64, last = (start + n - 1) / 64;
    unsigned s = start % 64, e = (unsigned)((start + n - 1) % 64);

    if (w == last) {
        bm[w] |= low_mask(e - s + 1) << s;
        return;
    }
    bm[w] |= ~0ull << s;
    for (uint64_t i = w + 1; i < last; i++)
        bm[i] = ~0ull;
    bm[last] |= low_mask(e + 1);
}

static void
bits_clear(uint64_t *bm, uint64_t start, uint64_t n)
{
    uint64_t w = start / 64, last = (start + n - 1) / 64;
    unsigned s = start % 64, e = (unsigned)((start + n - 1) % 64);

    if (w == last) {
        bm[w] &= ~(low_mask(e - s + 1) << s);
        return;
    }
    bm[w] &= ~(~0ull << s);
    if (last > w + 1)
        memset(&bm[w + 1], 0, (last - w - 1) * 8);
    bm[last] &= ~low_mask(e + 1);
}

/* n (1..64) bits of bm from bit `pos`, in the low bits of the result. */
static uint64_t
bits_get(const uint64_t *bm, uint64_t pos, unsigned n)
{
    uint64_t w = pos / 64;
    unsigned s = pos % 64;
    uint64_t v = bm[w] >> s;

    if (s && s + n > 64)
        v |= bm[w + 1] << (64 - s);
    return v & low_mask(n);
}

void
vdev_dirty_mark(struct vdev_dma *dma, struct vdev_dma_map *m, uint64_t iova,
                uint64_t len)
{
    unsigned shift;
    uint64_t base, first, last;

    if (!m->dirty || len == 0)
        return;
    shift = log_shift(dma);
    base = m->iova >> shift;
    first = (iova >> shift) - base;
    last = ((iova + (len - 1)) >> shift) - base;
    bits_set(m->dirty, first, last - first + 1);
}

uint64_t
vdev_dirty_bitmap_bytes(uint64_t size, uint64_t pgsize)
{
    uint64_t nbits = size / pgsize + (size % pgsize != 0);

    return nbits / 8 + (nbits % 8 != 0);
}

/* The caller's buffer is bytes (message payloads need not be 8-aligned);
 * these move 64-bit words through it without alignment assumptions and
 * without touching bytes past its end. */
static uint64_t
out_load(const uint8_t *out, uint64_t out_len, uint64_t w)
{
    uint64_t v = 0, off = w * 8;
    size_t n = out_len - off < 8 ? (size_t)(out_len - off) : 8;

    memcpy(&v, out + off, n);
    return v;
}

static void
out_store(uint8_t *out, uint64_t out_len, uint64_t w, uint64_t v)
{
    uint64_t off = w * 8;
    size_t n = out_len - off < 8 ? (size_t)(out_len - off) : 8;

    memcpy(out + off, &v, n);
}

static void
out_or(uint8_t *out, uint64_t out_len, uint64_t w, uint64_t v)
{
    if (v)
        out_store(out, out_len, w, out_load(out, out_len, w) | v);
}

/* ORs n bits of src (from bit p) into out at bit q, 64 at a time. */
static void
blit_or(uint8_t *out, uint64_t out_len, uint64_t q, const uint64_t *src,
        uint64_t p, uint64_t n)
{
    while (n) {
        unsigned s = q % 64;
        unsigned take = 64 - s < n ? 64 - s : (unsigned)n;
        uint64_t v = bits_get(src, p, take);

        out_or(out, out_len, q / 64, v << s);
        q += take;
        p += take;
        n -= take;
    }
}

/* The common case: the range starts the output at word 0 and lies in one
 * map. Plain stores; when the map's bit p is word-aligned the copy and the
 * clear are one pass over memory (the traffic is the cost: a 32 MiB bitmap
 * per TiB at 4 KiB pages). */
static void
blit_store_clear(uint8_t *out, uint64_t out_len, uint64_t *src, uint64_t p,
                 uint64_t n)
{
    uint64_t words = n / 64, w0 = p / 64;
    unsigned s = p % 64;
    uint64_t k;

    if (s == 0) {
        /* Copy then clear a block at a time: the block is still in L1
         * when it is cleared, and memcpy/memset beat a fused loop. */
        for (k = 0; k < words; k += 512) {
            uint64_t m = words - k < 512 ? words - k : 512;

            memcpy(out + k * 8, &src[w0 + k], m * 8);
            memset(&src[w0 + k], 0, m * 8);
        }
    } else {
        for (k = 0; k < words; k++) {
            uint64_t v = (src[w0 + k] >> s) | (src[w0 + k + 1] << (64 - s));

            memcpy(out + k * 8, &v, 8);
        }
        if (words)
            bits_clear(src, p, words * 64);
    }
    if (n % 64) {
        out_store(out, out_len, words,
                  bits_get(src, p + words * 64, (unsigned)(n % 64)));
        bits_clear(src, p + words * 64, n % 64);
    }
}

int
vdev_dirty_report(struct vdev_dma *dma, uint64_t iova, uint64_t size,
                  uint64_t pgsize, void *bitmap, uint64_t bitmap_len)
{
    uint8_t *out = bitmap;
    uint64_t end, nbits, need, first_pg;
    unsigned shift, i;

    if (!dma->logging || pgsize != dma->log_pgsize)
        return -EINVAL;
    if (size == 0 || (iova & (pgsize - 1)) || size - 1 > UINT64_MAX - iova)
        return -EINVAL;
    need = vdev_dirty_bitmap_bytes(size, pgsize);
    if (bitmap_len < need)
        return -EINVAL;
    shift = log_shift(dma);
    nbits = (size >> shift) + ((size & (pgsize - 1)) != 0);
    end = iova + (size - 1); /* inclusive: the range may end at 2^64 */
    first_pg = iova >> shift;

    i = vdev_dma_index_from(dma, iova);
    if (i < dma->nr_maps && dma->maps[i]->dirty && dma->maps[i]->iova <= iova &&
        end - dma->maps[i]->iova <= dma->maps[i]->size - 1 &&
        ((dma->maps[i]->iova | dma->maps[i]->size) & (pgsize - 1)) == 0) {
        /* Fast path: one map holds the whole range and shares none of its
         * pages with a neighbour. */
        struct vdev_dma_map *m = dma->maps[i];
        uint64_t p = first_pg - (m->iova >> shift);

        blit_store_clear(out, need, m->dirty, p, nbits);
        memset(out + need, 0, bitmap_len - need);
        return 0;
    }

    memset(out, 0, bitmap_len);
    for (; i < dma->nr_maps && dma->maps[i]->iova <= end; i++) {
        struct vdev_dma_map *m = dma->maps[i];
        uint64_t m_last = m->iova + (m->size - 1);
        uint64_t a = m->iova > iova ? m->iova : iova;
        uint64_t b = m_last < end ? m_last : end; /* inclusive */
        uint64_t q = (a >> shift) - first_pg;
        uint64_t p = (a >> shift) - (m->iova >> shift);
        uint64_t n = (b >> shift) - (a >> shift) + 1;

        if (!m->dirty)
            continue;
        blit_or(out, need, q, m->dirty, p, n);
        bits_clear(m->dirty, p, n);
    }
    return 0;
}
