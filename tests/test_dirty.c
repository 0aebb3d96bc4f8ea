/* Dirty-page logging: bits set by DMA writes and mark_dirty, reports that
 * copy and clear, word-boundary cases, and a randomized check against a
 * one-bool-per-page model. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "dma_fixture.h"

static bool
bit(const uint8_t *bm, uint64_t i)
{
    return bm[i / 8] >> (i % 8) & 1;
}

static unsigned
popcount_bytes(const uint8_t *bm, size_t n)
{
    unsigned k = 0;

    for (size_t i = 0; i < n; i++)
        k += (unsigned)__builtin_popcount(bm[i]);
    return k;
}

Test(dirty, write_and_mark_set_bits_report_clears)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    int fd = dma_fixture_memfd(16 * PG);
    uint8_t data[10] = {0}, bm[2];

    cr_assert_eq(vdev_dma_add(dma, 0x100000, 16 * PG, fd, 0, 3), 0);
    /* not logging: writes mark nothing and there is nothing to report */
    cr_assert_eq(vdev_dma_write(dev, 0x100000, data, 10), 0);
    cr_assert_eq(vdev_dirty_report(dma, 0x100000, 16 * PG, PG, bm, 2), -EINVAL);
    cr_assert_eq(vdev_dirty_start(dma, PG), 0);
    cr_assert_eq(vdev_dirty_start(dma, PG), -EBUSY);

    cr_assert_eq(vdev_dma_write(dev, 0x100000 + 2 * PG - 5, data, 10), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0x100000 + 9 * PG, 3 * PG), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0x100000 + 15 * PG + 1, 0), 0);
    /* reads do not dirty */
    cr_assert_eq(vdev_dma_read(dev, 0x100000 + 14 * PG, data, 10), 0);
    cr_assert_eq(vdev_dirty_report(dma, 0x100000, 16 * PG, PG, bm, 2), 0);
    cr_assert_eq(bm[0], 0x06); /* pages 1, 2 */
    cr_assert_eq(bm[1], 0x0e); /* pages 9, 10, 11 */
    cr_assert_eq(vdev_dirty_report(dma, 0x100000, 16 * PG, PG, bm, 2), 0);
    cr_assert_eq(bm[0] | bm[1], 0);

    /* argument checks */
    cr_assert_eq(vdev_dirty_report(dma, 0x100000, 16 * PG, 2 * PG, bm, 2),
                 -EINVAL);
    cr_assert_eq(vdev_dirty_report(dma, 0x100000, 16 * PG, PG, bm, 1), -EINVAL);
    cr_assert_eq(vdev_dirty_report(dma, 0x100001, PG, PG, bm, 2), -EINVAL);
    cr_assert_eq(vdev_dirty_report(dma, 0x100000, 0, PG, bm, 2), -EINVAL);

    vdev_dirty_stop(dma);
    cr_assert_null(dma->maps[0]->dirty);
    cr_assert_eq(vdev_dma_write(dev, 0x100000, data, 10), 0);
    cr_assert_eq(vdev_dirty_start(dma, 3 * PG), -EINVAL);
    cr_assert_eq(vdev_dirty_start(dma, 2048), -EINVAL);
    talloc_free(dev);
}

Test(dirty, maps_added_while_logging_are_tracked)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    uint8_t bm[1];

    cr_assert_eq(vdev_dirty_start(dma, PG), 0);
    cr_assert_eq(vdev_dma_add(dma, 0, 8 * PG, -1, 0, 3), 0);
    cr_assert_not_null(dma->maps[0]->dirty);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 7 * PG, 1), 0);
    cr_assert_eq(vdev_dirty_report(dma, 0, 8 * PG, PG, bm, 1), 0);
    cr_assert_eq(bm[0], 0x80);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 8 * PG, 1), -ENOENT);
    talloc_free(dev);
}

Test(dirty, word_boundaries_of_mark)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    uint64_t *w;

    cr_assert_eq(vdev_dma_add(dma, 0, 300 * PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dirty_start(dma, PG), 0);
    w = dma->maps[0]->dirty;
    /* pages 60..200: a partial word, two whole words, a partial word */
    cr_assert_eq(vdev_dma_mark_dirty(dev, 60 * PG + 100, 140 * PG + 1), 0);
    cr_assert_eq(w[0], ~0ull << 60);
    cr_assert_eq(w[1], ~0ull);
    cr_assert_eq(w[2], ~0ull);
    cr_assert_eq(w[3], (1ull << 9) - 1); /* 192..200 */
    cr_assert_eq(w[4], 0);
    /* inside one word */
    cr_assert_eq(vdev_dma_mark_dirty(dev, 260 * PG, 3 * PG), 0);
    cr_assert_eq(w[4], 7ull << 4);
    /* exactly one word */
    vdev_dirty_stop(dma);
    cr_assert_eq(vdev_dirty_start(dma, PG), 0);
    w = dma->maps[0]->dirty;
    cr_assert_eq(vdev_dma_mark_dirty(dev, 64 * PG, 64 * PG), 0);
    cr_assert_eq(w[0], 0);
    cr_assert_eq(w[1], ~0ull);
    cr_assert_eq(w[2], 0);
    talloc_free(dev);
}

Test(dirty, unaligned_report_start_and_end)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    uint8_t bm[32];
    uint64_t *w;

    cr_assert_eq(vdev_dma_add(dma, 0x10000000, 256 * PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dirty_start(dma, PG), 0);
    w = dma->maps[0]->dirty;
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0x10000000 + 60 * PG, 11 * PG), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0x10000000 + 120 * PG, 20 * PG), 0);
    /* pages 61..160 (100 pages): bit 0 = page 61 */
    memset(bm, 0xee, sizeof(bm));
    cr_assert_eq(vdev_dirty_report(dma, 0x10000000 + 61 * PG, 100 * PG, PG, bm,
                                   sizeof(bm)),
                 0);
    for (unsigned i = 0; i < 100; i++) {
        unsigned pg = 61 + i;
        bool want = (pg >= 60 && pg <= 70) || (pg >= 120 && pg < 140);

        cr_assert_eq(bit(bm, i), want, "bit %u", i);
    }
    for (unsigned i = 13; i < sizeof(bm); i++)
        cr_assert_eq(bm[i], 0, "slack byte %u", i);
    /* page 60 lies before the range and stays dirty; nothing else does */
    cr_assert_eq(w[0], 1ull << 60);
    cr_assert_eq(w[1], 0);
    cr_assert_eq(w[2], 0);
    cr_assert_eq(w[3], 0);

    /* a range ending mid-word leaves the bits after it alone */
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0x10000000 + 64 * PG, 64 * PG), 0);
    cr_assert_eq(
        vdev_dirty_report(dma, 0x10000000 + 64 * PG, 10 * PG, PG, bm, 2), 0);
    cr_assert_eq(bm[0], 0xff);
    cr_assert_eq(bm[1], 0x03);
    cr_assert_eq(w[1], ~0ull << 10);
    talloc_free(dev);
}

Test(dirty, report_spans_maps_and_gaps_into_unaligned_buffer)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    uint8_t raw[64];
    uint8_t *bm = raw + 3; /* payloads need not be 8-aligned */

    /* maps at pages [0,10) and [40,140); [10,40) unmapped */
    cr_assert_eq(vdev_dma_add(dma, 0, 10 * PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(dma, 40 * PG, 100 * PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dirty_start(dma, PG), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0, 10 * PG), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 40 * PG, 100 * PG), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 9 * PG, 2 * PG), -ENOENT);
    memset(raw, 0xff, sizeof(raw));
    cr_assert_eq(vdev_dirty_report(dma, 5 * PG, 130 * PG, PG, bm, 17), 0);
    for (unsigned i = 0; i < 130; i++) {
        unsigned pg = 5 + i;

        cr_assert_eq(bit(bm, i), pg < 10 || pg >= 40, "bit %u", i);
    }
    cr_assert_eq(bm[16] & ~0x03, 0);
    cr_assert_eq(raw[2], 0xff);
    cr_assert_eq(raw[3 + 17], 0xff); /* nothing past the buffer */
    /* cleared within the range only */
    cr_assert_eq(vdev_dirty_report(dma, 0, 140 * PG, PG, bm, 18), 0);
    cr_assert_eq(popcount_bytes(bm, 18), 5 + 5);
    for (unsigned i = 0; i < 5; i++)
        cr_assert(bit(bm, i));
    for (unsigned i = 135; i < 140; i++)
        cr_assert(bit(bm, i));
    talloc_free(dev);
}

Test(dirty, larger_page_size_and_unaligned_fdless_map)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    const uint64_t big = 64 * 1024;
    uint8_t bm[2];

    /* bytes [0x18000, 0x48800): 64 KiB pages 1..4 */
    cr_assert_eq(vdev_dma_add(dma, 0x18000, 0x30800, -1, 0, 3), 0);
    cr_assert_eq(vdev_dirty_start(dma, big), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0x18000, 1), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0x48000, 0x800), 0);
    cr_assert_eq(vdev_dirty_report(dma, 0, 8 * big, big, bm, 1), 0);
    cr_assert_eq(bm[0], 0x12); /* pages 1 and 4 */
    talloc_free(dev);
}

/* Random marks and reports against a model with one bool per page. */
Test(dirty, randomized_against_model)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    enum { PAGES = 2000 };
    static bool model[PAGES];
    static bool mapped[PAGES];
    uint8_t bm[PAGES / 8 + 16];

    /* a few maps with gaps, including adjacent ones */
    const unsigned maps[][2] = {
        {0, 130}, {130, 70}, {260, 500}, {900, 1}, {901, 1099},
    };
    for (unsigned i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        cr_assert_eq(
            vdev_dma_add(dma, maps[i][0] * PG, maps[i][1] * PG, -1, 0, 3), 0);
        for (unsigned p = maps[i][0]; p < maps[i][0] + maps[i][1]; p++)
            mapped[p] = true;
    }
    cr_assert_eq(vdev_dirty_start(dma, PG), 0);
    srand(11);
    for (int round = 0; round < 3000; round++) {
        unsigned a = (unsigned)rand() % PAGES;
        unsigned n = 1 + (unsigned)rand() % (rand() % 4 ? 70 : 400);

        if (a + n > PAGES)
            n = PAGES - a;
        if (rand() % 3) {
            bool ok = true;

            for (unsigned p = a; p < a + n; p++)
                ok = ok && mapped[p];
            cr_assert_eq(vdev_dma_mark_dirty(dev, a * PG + 7, n * PG - 7),
                         ok ? 0 : -ENOENT);
            for (unsigned p = a; ok && p < a + n; p++)
                model[p] = true;
        } else {
            memset(bm, 0xaa, sizeof(bm));
            cr_assert_eq(
                vdev_dirty_report(dma, a * PG, n * PG, PG, bm, (n + 7) / 8), 0);
            for (unsigned i = 0; i < n; i++) {
                cr_assert_eq(bit(bm, i), model[a + i], "round %d page %u",
                             round, a + i);
                model[a + i] = false;
            }
            for (unsigned i = n; i < ((n + 7) / 8) * 8; i++)
                cr_assert_not(bit(bm, i));
            cr_assert_eq(bm[(n + 7) / 8], 0xaa);
        }
    }
    talloc_free(dev);
}

Test(dirty, many_maps_and_the_bitmap_budget)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    uint8_t bm[1];

    for (unsigned i = 0; i < VDEV_MAX_DMA_MAPS; i++)
        cr_assert_eq(vdev_dma_add(dma, (uint64_t)i * 2 * PG, PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dirty_start(dma, PG), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 65534ull * 2 * PG, 1), 0);
    cr_assert_eq(vdev_dirty_report(dma, 65534ull * 2 * PG, PG, PG, bm, 1), 0);
    cr_assert_eq(bm[0], 1);
    vdev_dirty_stop(dma);
    vdev_dma_remove_all(dma);

    /* fd-less maps cost nothing, their bitmaps do: 2 x 6 TiB at 4 KiB
     * pages is 384 MiB of bitmap, over the budget; nothing is left behind */
    cr_assert_eq(vdev_dma_add(dma, 0, 6ull << 40, -1, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(dma, 8ull << 40, 6ull << 40, -1, 0, 3), 0);
    cr_assert_eq(vdev_dirty_start(dma, PG), -ENOMEM);
    cr_assert_not(dma->logging);
    cr_assert_null(dma->maps[0]->dirty);
    cr_assert_eq(vdev_dirty_start(dma, 1ull << 20), 0);
    talloc_free(dev);
}
