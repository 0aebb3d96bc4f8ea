/* Dirty reports at the page size a client asks for: dirty.c reports at its
 * logging granularity; this coarsens (one bit per larger page) or replicates
 * (several bits per logged page) in bounded chunks, one set bit at a time,
 * over the mapped parts only, so the cost follows the maps and dirty pages,
 * not the range. */
#include <errno.h>
#include <string.h>

#include "device/device.h"
#include "device/dma.h"

#define CHUNK_WORDS 4096u /* logged pages per dirty.c call: 256 Ki */

static void
set_bits(uint8_t *out, uint64_t b, uint64_t n)
{
    for (; n && b % 8; b++, n--)
        out[b / 8] |= (uint8_t)(1u << (b % 8));
    if (n >= 8) {
        memset(out + b / 8, 0xff, n / 8);
        b += n / 8 * 8;
        n %= 8;
    }
    for (; n; b++, n--)
        out[b / 8] |= (uint8_t)(1u << (b % 8));
}

int
vdev_dirty_bits(struct vdev_dma *dma, uint64_t iova, uint64_t len,
                uint64_t pgsize, uint8_t *out, uint64_t out_len)
{
    uint64_t lp = dma->log_pgsize, last, a, last_pg, *tmp;
    unsigned ls, ps;
    int rc = 0;

    if (!dma->logging || !lp)
        return -EINVAL;
    if (pgsize == lp)
        return vdev_dirty_report(dma, iova, len, pgsize, out, out_len);
    if (!pgsize || (pgsize & (pgsize - 1)) || !len || iova % pgsize ||
        len - 1 > UINT64_MAX - iova ||
        out_len < vdev_dirty_bitmap_bytes(len, pgsize))
        return -EINVAL;
    ls = (unsigned)__builtin_ctzll(lp);
    ps = (unsigned)__builtin_ctzll(pgsize);
    last = iova + (len - 1);
    a = iova & ~(lp - 1);
    last_pg = last >> ls;
    tmp = talloc_array(NULL, uint64_t, CHUNK_WORDS);
    if (!tmp)
        return -ENOMEM;
    memset(out, 0, out_len);
    for (;;) {
        unsigned k = vdev_dma_index_from(dma, a);
        uint64_t left, n;

        /* Pages no map covers are clean: go straight to the next map, so
         * a huge range over few maps costs no more than the maps. */
        if (k == dma->nr_maps || dma->maps[k]->iova > last)
            break;
        if (dma->maps[k]->iova > a)
            a = dma->maps[k]->iova & ~(lp - 1);
        left = last_pg - (a >> ls) + 1;
        n = left < CHUNK_WORDS * 64ull ? left : CHUNK_WORDS * 64ull;

        rc = vdev_dirty_report(dma, a, n << ls, lp, tmp, CHUNK_WORDS * 8ull);
        if (rc < 0)
            break;
        for (uint64_t w = 0; w < (n + 63) / 64; w++) {
            for (uint64_t v = tmp[w]; v; v &= v - 1) {
                uint64_t pa =
                    a + ((w * 64 + (unsigned)__builtin_ctzll(v)) << ls);
                uint64_t lo = pa < iova ? iova : pa;
                uint64_t hi = pa + (lp - 1) > last ? last : pa + (lp - 1);
                uint64_t b0 = (lo - iova) >> ps, b1 = (hi - iova) >> ps;
                set_bits(out, b0, b1 - b0 + 1);
            }
        }
        if (n == left)
            break;
        a += n << ls;
    }
    talloc_free(tmp);
    return rc;
}
