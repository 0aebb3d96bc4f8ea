/* State-stream throughput: save + load of a device with 1 MiB of migration
 * state (checksummed, validated, installed), next to a plain memcpy of the
 * same bytes in the same run. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "migration/migration.h"

#define STATE_BYTES (1u << 20)
#define ROUNDS 300

struct bstate {
    uint32_t ctrl;
    uint32_t mode;
    uint8_t blob[STATE_BYTES - 8];
};

static const struct vdev_mig_field fields[] = {
    {"ctrl", 0x1001u, 1, offsetof(struct bstate, ctrl), 4},
    {"mode", 0x1002u, 1, offsetof(struct bstate, mode), 4},
    {"blob", 0x1003u, 1, offsetof(struct bstate, blob), STATE_BYTES - 8},
};

static int
check(struct vdev_dev *dev, const void *cand)
{
    return ((const struct bstate *)cand)->mode <= 3 ? 0 : -22;
}

static struct vdev_dev *
make(void *ctx, struct bstate *st)
{
    static const struct vdev_pci_ident id = {.vendor_id = 0x1b36,
                                             .device_id = 0x11};
    struct vdev_dev *dev = vdev_dev_create(ctx, "bench", &id);
    struct vdev_mig_desc d = {
        .device = "bench",
        .version = 1,
        .fields = fields,
        .nr_fields = 3,
        .state = st,
        .state_size = sizeof(*st),
        .validate = check,
    };
    if (!dev || vdev_set_migration(dev, &d) < 0)
        return NULL;
    return dev;
}

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int
main(void)
{
    void *ctx = talloc_new(NULL);
    static struct bstate a, b;
    static uint8_t copy[sizeof(a)];
    struct vdev_dev *src = make(ctx, &a), *dst = make(ctx, &b);
    double t0, t_stream, t_copy;
    volatile uint8_t sink = 0;

    if (!src || !dst) {
        fprintf(stderr, "bench_mig: device setup failed\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof(a.blob); i++)
        a.blob[i] = (uint8_t)(i * 31);
    t0 = now();
    for (int r = 0; r < ROUNDS; r++) {
        uint8_t *buf;
        size_t len;
        a.ctrl = (uint32_t)r;
        if (vdev_mig_stream_save(src, ctx, &buf, &len) < 0 ||
            vdev_mig_stream_load(dst, buf, len) < 0) {
            fprintf(stderr, "bench_mig: save/load failed\n");
            return 1;
        }
        talloc_free(buf);
    }
    t_stream = (now() - t0) / ROUNDS;
    if (memcmp(&a, &b, sizeof(a)) != 0) {
        fprintf(stderr, "bench_mig: loaded state differs\n");
        return 1;
    }
    /* The floor: the same bytes copied out and back in. */
    t0 = now();
    for (int r = 0; r < ROUNDS; r++) {
        a.ctrl = (uint32_t)r;
        memcpy(copy, &a, sizeof(a));
        __asm__ volatile("" ::: "memory");
        memcpy(&b, copy, sizeof(a));
        __asm__ volatile("" ::: "memory");
        sink ^= b.blob[r];
    }
    t_copy = (now() - t0) / ROUNDS;
    printf("state stream save+load, 1 MiB state: %.1f us per round trip, "
           "%.2f GiB/s\n",
           t_stream * 1e6, (double)STATE_BYTES / t_stream / (1 << 30));
    printf("plain memcpy out+in of the same bytes: %.1f us, %.2f GiB/s "
           "(stream/memcpy time ratio %.2f)\n",
           t_copy * 1e6, (double)STATE_BYTES / t_copy / (1 << 30),
           t_stream / t_copy);
    talloc_free(ctx);
    return sink == 0xff ? 0 : 0;
}
