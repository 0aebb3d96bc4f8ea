/* Writes seeds for fuzz_migstream: edu streams saved by the runtime, one in
 * its reset state and one with state set, each as it is (mode byte 0) and
 * with the length/CRC fix-up mode (1).   seed_migstream DIR */
#include <stdio.h>
#include <string.h>

#include "edu.h"
#include "migration/migration.h"

static int
write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *p,
           size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(&mode, 1, 1, f) != 1 || fwrite(p, 1, len, f) != len) {
        perror(path);
        return 1;
    }
    return fclose(f) != 0;
}

int
main(int argc, char **argv)
{
    void *ctx = talloc_new(NULL);
    struct vdev_dev *dev;
    struct edu *d;
    uint8_t *out;
    size_t len;
    int rc = 0;

    if (argc != 2 || !(dev = edu_create(ctx)))
        return 2;
    d = vdev_private(dev);
    if (vdev_mig_stream_save(dev, ctx, &out, &len) < 0)
        return 1;
    rc |= write_seed(argv[1], "reset", 0, out, len);
    rc |= write_seed(argv[1], "reset-fixup", 1, out, len);
    d->s.fact = 120;
    d->s.irq_status = 0x101;
    d->s.dma_src = 0x40000;
    d->s.dma_count = 64;
    memset(d->s.dma_buf, 0x5a, 64);
    dev->cfg.data[4] = 0x06;
    if (vdev_mig_stream_save(dev, ctx, &out, &len) < 0)
        return 1;
    rc |= write_seed(argv[1], "state", 0, out, len);
    rc |= write_seed(argv[1], "state-fixup", 1, out, len);
    talloc_free(ctx);
    return rc;
}
