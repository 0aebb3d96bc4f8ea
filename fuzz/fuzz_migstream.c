/* libFuzzer harness: arbitrary migration streams into the edu model's
 * loader. A refused stream must leave the device exactly as it was (state
 * block, config space, interrupt state); an accepted one must save again
 * and reload to the same bytes.
 * Byte 0, bit 0: fix up the rest's length and CRC-32C first, so mutations
 * reach the field parser instead of dying at the checksum. */
#include <endian.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edu.h"
#include "migration/migration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct snap {
    struct edu_state s;
    uint8_t cfg[VDEV_CONFIG_SIZE];
    bool intx;
    uint32_t levels, msi_pending;
};

static void
take(struct vdev_dev *dev, struct snap *sn)
{
    const struct edu *d = vdev_private(dev);

    memset(sn, 0, sizeof(*sn));
    memcpy(&sn->s, &d->s, sizeof(sn->s));
    memcpy(sn->cfg, dev->cfg.data, sizeof(sn->cfg));
    sn->intx = dev->irqs.intx_level;
    sn->levels = dev->irqs.levels;
    sn->msi_pending = dev->irqs.msi_pending;
}

static void
quiet_log(void *opaque, enum vdev_log_level level, const char *msg)
{
    (void)opaque;
    (void)level;
    (void)msg;
}

static uint32_t
crc32c(const uint8_t *p, size_t len)
{
    uint32_t crc = ~0u;

    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void
fail(const char *what, int rc)
{
    fprintf(stderr, "fuzz_migstream: %s (%d)\n", what, rc);
    abort();
}

/* One device for every input, reset in between (creating one cost more
 * than most loads); the reset must bring back a fresh device's state. */
static struct vdev_dev *
device(void)
{
    static struct vdev_dev *dev;
    static struct snap fresh;
    struct snap now;

    if (!dev) {
        if (!(dev = edu_create(NULL)))
            abort();
        vdev_set_log(dev, quiet_log, NULL, VDEV_LOG_DEBUG);
        /* edu keeps time (its factorial takes some): on the real clock the
         * stream's device time moves between two saves. */
        if (vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL) < 0)
            abort();
        take(dev, &fresh);
        return dev;
    }
    vdev_reset(dev);
    vdev_migration_reset(dev);
    take(dev, &now);
    if (memcmp(&now, &fresh, sizeof(now)))
        fail("a reset did not bring back a fresh device", 0);
    return dev;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *ctx;
    struct vdev_dev *dev;
    struct snap before, after, loaded;
    uint8_t *buf, *out1, *out2;
    size_t len, len1, len2;
    int rc;

    if (size < 1)
        return 0;
    ctx = talloc_new(NULL);
    dev = device();
    len = size - 1;
    /* An exact-size copy, so reads past the end are caught. */
    buf = talloc_size(ctx, len ? len : 1);
    if (len)
        memcpy(buf, data + 1, len);
    if ((data[0] & 1) && len >= 16) {
        uint32_t total = htole32((uint32_t)len), crc;

        memcpy(buf + 8, &total, 4);
        crc = htole32(crc32c(buf, len - 4));
        memcpy(buf + len - 4, &crc, 4);
    }

    take(dev, &before);
    rc = vdev_mig_stream_load(dev, buf, len);
    take(dev, &after);
    if (rc < 0) {
        if (memcmp(&before, &after, sizeof(before)))
            fail("a refused stream changed the device", rc);
    } else {
        if ((rc = vdev_mig_stream_save(dev, ctx, &out1, &len1)) < 0)
            fail("cannot save an accepted state", rc);
        if ((rc = vdev_mig_stream_load(dev, out1, len1)) < 0)
            fail("a saved accepted state does not reload", rc);
        take(dev, &loaded);
        if (memcmp(&after, &loaded, sizeof(after)))
            fail("reloading a saved state changed it", 0);
        if ((rc = vdev_mig_stream_save(dev, ctx, &out2, &len2)) < 0)
            fail("cannot save a reloaded state", rc);
        if (len1 != len2 || memcmp(out1, out2, len1))
            fail("save, load, save is not stable", 0);
    }
    talloc_free(ctx);
    return 0;
}
