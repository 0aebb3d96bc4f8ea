/* DMA benchmarks on the runtime's internals: map lookups per second with 1
 * and with 65,535 maps, and dirty-bitmap report+clear of a 1 TiB range. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/dma.h"
#include "server/server.h"

#define PG 4096ull
#define NR_PROBES (1u << 20)

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
rng(uint64_t *s)
{
    /* xorshift64*: cheap, and good enough to scatter probes */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static struct vdev_conn *
make_conn(void *ctx)
{
    struct vdev_dev *dev = talloc_zero(ctx, struct vdev_dev);
    struct vdev_conn *c = talloc_zero(dev, struct vdev_conn);

    if (!dev || !c)
        return NULL;
    c->dev = dev;
    c->fd = c->twin_fd = -1;
    vdev_dma_init(&c->dma, c, NULL, NULL);
    dev->dma = &c->dma;
    dev->running = true;
    return c;
}

/* Maps of 2 MiB with 2 MiB gaps; probes land anywhere inside maps. */
static double
lookup_rate(unsigned nr_maps)
{
    void *ctx = talloc_new(NULL);
    struct vdev_conn *c = make_conn(ctx);
    uint64_t *probes = talloc_array(ctx, uint64_t, NR_PROBES);
    const uint64_t span = 2ull << 20;
    uint64_t seed = 0x9e3779b97f4a7c15ull, hits = 0;
    double best = 0;

    if (!c || !probes) {
        fprintf(stderr, "bench_dma: out of memory\n");
        exit(1);
    }
    for (unsigned i = 0; i < nr_maps; i++)
        if (vdev_dma_add(&c->dma, (uint64_t)i * 2 * span, span, -1, 0, 3) < 0) {
            fprintf(stderr, "bench_dma: map %u failed\n", i);
            exit(1);
        }
    for (unsigned i = 0; i < NR_PROBES; i++)
        probes[i] = (rng(&seed) % nr_maps) * 2 * span + rng(&seed) % span;

    for (int round = 0; round < 5; round++) {
        double t0 = now_s(), dt;

        for (unsigned i = 0; i < NR_PROBES; i++)
            hits += vdev_dma_lookup(&c->dma, probes[i]) != NULL;
        dt = now_s() - t0;
        if (NR_PROBES / dt > best)
            best = NR_PROBES / dt;
    }
    if (hits != 5ull * NR_PROBES) {
        fprintf(stderr, "bench_dma: lookups missed\n");
        exit(1);
    }
    talloc_free(ctx);
    return best;
}

/* The floor for the report: copying the same bytes once, same run. */
static double
memcpy_ms(uint64_t bytes)
{
    uint8_t *a = malloc(bytes), *b = malloc(bytes);
    double best = 1e9;

    if (!a || !b) {
        fprintf(stderr, "bench_dma: out of memory\n");
        exit(1);
    }
    memset(a, 1, bytes);
    memset(b, 2, bytes);
    for (int round = 0; round < 5; round++) {
        double t0 = now_s(), dt;

        memcpy(b, a, bytes);
        dt = (now_s() - t0) * 1e3;
        if (dt < best)
            best = dt;
        a[round] = b[bytes - 1 - (uint64_t)round];
    }
    free(a);
    free(b);
    return best;
}

static double
dirty_report_ms(void)
{
    const uint64_t range = 1ull << 40, iova = 1ull << 40;
    const uint64_t pages = range / PG;
    void *ctx = talloc_new(NULL);
    struct vdev_conn *c = make_conn(ctx);
    uint64_t bytes = vdev_dirty_bitmap_bytes(range, PG);
    uint8_t *out = talloc_size(ctx, bytes);
    uint64_t seed = 12345, marked = 0;
    double best = 1e9;

    if (!c || !out) {
        fprintf(stderr, "bench_dma: out of memory\n");
        exit(1);
    }
    /* No fd: nothing is mapped, only the 32 MiB bitmap exists. */
    if (vdev_dma_add(&c->dma, iova, range, -1, 0, 3) < 0 ||
        vdev_dirty_start(&c->dma, PG) < 0) {
        fprintf(stderr, "bench_dma: map/logging failed\n");
        exit(1);
    }
    memset(out, 0, bytes);
    for (int round = 0; round < 5; round++) {
        double t0, dt;
        uint64_t set = 0;

        for (uint64_t i = 0; i < pages / 100; i++)
            vdev_dma_mark_dirty(c->dev, iova + (rng(&seed) % pages) * PG, 1);
        t0 = now_s();
        if (vdev_dirty_report(&c->dma, iova, range, PG, out, bytes) < 0) {
            fprintf(stderr, "bench_dma: report failed\n");
            exit(1);
        }
        dt = (now_s() - t0) * 1e3;
        if (dt < best)
            best = dt;
        for (uint64_t w = 0; w < bytes / 8; w++) {
            uint64_t v;

            memcpy(&v, out + w * 8, 8);
            set += (uint64_t)__builtin_popcountll(v);
        }
        marked += set;
        if (set == 0 || set > pages / 100) {
            fprintf(stderr, "bench_dma: report returned %llu pages\n",
                    (unsigned long long)set);
            exit(1);
        }
    }
    talloc_free(ctx);
    (void)marked;
    return best;
}

int
main(void)
{
    double one = lookup_rate(1);
    double many = lookup_rate(VDEV_MAX_DMA_MAPS);

    printf("dma_lookup maps=1 lookups_per_s=%.0f\n", one);
    printf("dma_lookup maps=%u lookups_per_s=%.0f\n", VDEV_MAX_DMA_MAPS, many);
    printf("dma_lookup ratio_65535_to_1=%.3f\n", many / one);
    printf("dirty_report range=1TiB dirty=1%% ms=%.3f\n", dirty_report_ms());
    printf("dirty_report_floor memcpy_32MiB_ms=%.3f\n",
           memcpy_ms(vdev_dirty_bitmap_bytes(1ull << 40, PG)));
    return 0;
}
