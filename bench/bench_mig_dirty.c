/* Dirty-bitmap reports of a 1 TiB mapped range with 1 % of its pages dirty
 * through the DMA_LOGGING_REPORT handler, in messages of at most 1 MiB of
 * bitmap (32 of them), as a v2 client has to ask (bench_dma times dirty.c's
 * single-call report of the same range). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/dma.h"
#include "migration/migration.h"
#include "server/server.h"

#define PG 4096ull
#define RANGE (1ull << 40)
#define PAGES (RANGE / PG)

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
popcount(const uint8_t *p, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        k += (uint64_t)__builtin_popcountll(v);
    }
    return k;
}

/* Marks 1 % of the pages (a fixed pseudo-random pattern); returns how many
 * distinct pages were marked. */
static uint64_t
dirty_one_percent(struct vdev_dev *dev, uint8_t *seen)
{
    uint64_t x = 88172645463325252ull, n = 0;

    memset(seen, 0, PAGES / 8);
    for (uint64_t i = 0; i < PAGES / 100; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t pg = x % PAGES;
        if (!(seen[pg / 8] >> (pg % 8) & 1)) {
            seen[pg / 8] |= (uint8_t)(1u << (pg % 8));
            n++;
        }
        vdev_dma_mark_dirty(dev, pg * PG, 1);
    }
    return n;
}

static int
report_msg(struct vdev_conn *c, uint64_t iova, uint64_t len,
           struct vdev_reply *r)
{
    struct {
        struct vfio_user_device_feature h;
        struct vfio_user_dma_logging_report q;
    } __attribute__((packed)) req = {
        {sizeof(req) + VDEV_MIG_MAX_BITMAP,
         VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT},
        {iova, len, PG},
    };
    struct vfio_user_header hdr = {.msg_size = 16 + sizeof(req)};
    struct vdev_msg m = {&hdr, (const uint8_t *)&req, sizeof(req), NULL, 0};

    memset(r, 0, sizeof(*r));
    return vdev_handle_device_feature(c, &m, r);
}

int
main(void)
{
    static const struct vdev_pci_ident id = {.vendor_id = 0x1b36};
    static const struct vdev_mig_field f = {"x", 1, 1, 0, 4};
    static uint32_t state;
    void *ctx = talloc_new(NULL);
    struct vdev_dev *dev = vdev_dev_create(ctx, "bench", &id);
    struct vdev_mig_desc d = {.device = "bench",
                              .version = 1,
                              .fields = &f,
                              .nr_fields = 1,
                              .state = &state,
                              .state_size = sizeof(state)};
    struct vdev_conn *c;
    uint8_t *seen = malloc(PAGES / 8);
    uint64_t marked, got = 0;
    double t0, t_msgs;
    const struct vdev_log_range all = {0, RANGE};

    if (!dev || !seen || vdev_set_migration(dev, &d) < 0)
        return 1;
    c = talloc_zero(dev, struct vdev_conn);
    c->dev = dev;
    c->fd = c->twin_fd = -1;
    c->peer_max_data_xfer = VFIO_USER_DEF_MAX_DATA_XFER;
    vdev_dma_init(&c->dma, c, vdev_s2c_dma, c);
    dev->srv->conn = c;
    dev->dma = &c->dma;
    if (vdev_dma_add(&c->dma, 0, RANGE, -1, 0, 3) < 0 ||
        vdev_mig_log_start(dev, VDEV_MIG_V2, PG, &all, 1) < 0) {
        fprintf(stderr, "bench_mig_dirty: setup failed\n");
        return 1;
    }

    marked = dirty_one_percent(dev, seen);
    t_msgs = 0;
    for (uint64_t iova = 0; iova < RANGE;) {
        uint64_t len = (uint64_t)VDEV_MIG_MAX_BITMAP * 8 * PG;
        struct vdev_reply r;
        t0 = now();
        if (report_msg(c, iova, len, &r) < 0 ||
            r.len != 8 + 24 + VDEV_MIG_MAX_BITMAP)
            return 1;
        t_msgs += now() - t0; /* the check below is not the server's */
        got += popcount(r.payload + 32, VDEV_MIG_MAX_BITMAP);
        iova += len;
    }
    if (got != marked) {
        fprintf(stderr, "bench_mig_dirty: reports found %llu of %llu\n",
                (unsigned long long)got, (unsigned long long)marked);
        return 1;
    }
    printf("dirty report via DMA_LOGGING_REPORT, 1 TiB mapped, 1%% of "
           "4 KiB pages dirty (%llu): %u messages of 1 MiB bitmap, "
           "%.2f ms\n",
           (unsigned long long)marked,
           (unsigned)(RANGE / ((uint64_t)VDEV_MIG_MAX_BITMAP * 8 * PG)),
           t_msgs * 1e3);
    free(seen);
    talloc_free(ctx);
    return 0;
}
