/* The test device (see testdev.h) and the in-process server around it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "testdev.h"

/* Byte-granular registers: any width and alignment works. */
static int
bar0_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
            uint32_t count, bool is_write)
{
    struct testdev *td = opaque;
    uint8_t *b = buf;

    for (uint32_t i = 0; i < count; i++) {
        uint64_t o = offset + i;
        if (o < 4) {
            if (!is_write)
                b[i] = (uint8_t)(TESTDEV_ID_VALUE >> (8 * o));
        } else if (o < 8) {
            unsigned sh = 8 * (unsigned)(o - 4);
            if (is_write)
                td->scratch =
                    (td->scratch & ~(0xffu << sh)) | ((uint32_t)b[i] << sh);
            else
                b[i] = (uint8_t)(td->scratch >> sh);
        } else if (!is_write) {
            b[i] = 0;
        }
    }
    return 0;
}

static int
typed_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
             uint32_t count, bool is_write)
{
    struct testdev *td = opaque;

    if (is_write)
        memcpy(td->typed + offset, buf, count);
    else
        memcpy(buf, td->typed + offset, count);
    return 0;
}

static void
testdev_reset(struct vdev_dev *dev, void *opaque)
{
    struct testdev *td = opaque;

    td->scratch = 0;
    td->resets++;
}

int
testdev_add_caps(struct vdev_dev *dev)
{
    static const uint8_t vendor_body[5] = {0xde, 0xad, 0xbe, 0xef, 0x01};
    int rc;

    if ((rc = vdev_cap_pm(dev, 0)) < 0 ||
        (rc = vdev_cap_msi(dev, 0, 4, true, true)) < 0 ||
        (rc = vdev_cap_msix(dev, 0, TESTDEV_MSIX_VECTORS, 0, TESTDEV_MSIX_TABLE,
                            0, TESTDEV_MSIX_PBA)) < 0 ||
        (rc = vdev_cap_pcie(dev, 0, VDEV_PCIE_ENDPOINT, 1, 1)) < 0 ||
        (rc = vdev_cap_vendor(dev, 0, vendor_body, sizeof(vendor_body), NULL)) <
            0 ||
        (rc = vdev_ext_cap_dsn(dev, 0, TESTDEV_DSN)) < 0)
        return rc;
    return 0;
}

struct vdev_dev *
testdev_create(void *mem_ctx, struct testdev *td)
{
    static const struct vdev_mmap_area area = {0, TESTDEV_BAR2_MMAP_SIZE};
    const struct vdev_pci_ident id = {
        .vendor_id = TESTDEV_VENDOR,
        .device_id = TESTDEV_DEVICE,
        .subsys_vendor_id = TESTDEV_VENDOR,
        .subsys_id = 0x0001,
        .class_code = 0xff0000,
        .revision = 1,
        .intx_pin = 1,
    };
    const struct vdev_bar_desc bar0 = {
        .kind = VDEV_BAR_MEM32,
        .size = TESTDEV_BAR0_SIZE,
        .access = bar0_access,
        .opaque = td,
    };
    const struct vdev_bar_desc bar2 = {
        .kind = VDEV_BAR_MEM64,
        .prefetchable = true,
        .size = TESTDEV_BAR2_SIZE,
        .backed = true,
        .mmap_areas = &area,
        .nr_mmap_areas = 1,
    };
    struct vdev_dev *dev = vdev_dev_create(mem_ctx, "testdev", &id);

    if (!dev)
        return NULL;
    memset(td, 0, sizeof(*td));
    vdev_set_private(dev, td);
    vdev_set_reset_cb(dev, testdev_reset, td);
    if (vdev_bar_add(dev, 0, &bar0) < 0 || vdev_bar_add(dev, 2, &bar2) < 0 ||
        vdev_region_add_typed(dev, TESTDEV_TYPED_TYPE, TESTDEV_TYPED_SUBTYPE,
                              TESTDEV_TYPED_SIZE, typed_access,
                              td) != TESTDEV_TYPED_INDEX) {
        talloc_free(dev);
        return NULL;
    }
    return dev;
}

/* Tests log nothing unless asked (VDEV_TEST_LOG=1). */
static void
quiet_log(void *opaque, enum vdev_log_level level, const char *msg)
{
    if (getenv("VDEV_TEST_LOG"))
        fprintf(stderr, "testdev: %s\n", msg);
}

static int
srv_init(struct testsrv *s, bool caps)
{
    int rc;

    memset(s, 0, sizeof(*s));
    strcpy(s->dir, "/tmp/vdev-test-XXXXXX");
    if (!mkdtemp(s->dir))
        return -errno;
    snprintf(s->path, sizeof(s->path), "%s/dev.sock", s->dir);
    s->dev = testdev_create(NULL, &s->td);
    if (!s->dev)
        return -ENOMEM;
    vdev_set_log(s->dev, quiet_log, NULL, VDEV_LOG_DEBUG);
    if (caps && (rc = testdev_add_caps(s->dev)) < 0)
        return rc;
    rc = vdev_listen(s->dev, s->path);
    return rc;
}

int
testsrv_init(struct testsrv *s)
{
    return srv_init(s, false);
}

int
testsrv_init_caps(struct testsrv *s)
{
    return srv_init(s, true);
}

static void *
run_thread(void *arg)
{
    struct testsrv *s = arg;

    s->run_rc = vdev_run(s->dev);
    return NULL;
}

int
testsrv_start(struct testsrv *s)
{
    int rc = pthread_create(&s->thread, NULL, run_thread, s);

    if (rc)
        return -rc;
    s->running = true;
    return 0;
}

int
testsrv_stop(struct testsrv *s)
{
    struct timespec ts;
    int rc = 0;

    if (s->running) {
        vdev_stop(s->dev);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 5;
        if (pthread_timedjoin_np(s->thread, NULL, &ts))
            return -ETIMEDOUT;
        s->running = false;
    }
    return rc;
}

void
testsrv_free(struct testsrv *s)
{
    if (s->running && testsrv_stop(s) < 0)
        return; /* still running: leaking beats freeing under it */
    talloc_free(s->dev);
    s->dev = NULL;
    unlink(s->path);
    rmdir(s->dir);
}
