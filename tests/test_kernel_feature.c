/* runtime/KERNEL.md, D and P rows: DEVICE_FEATURE checked as
 * vfio_ioctl_device_feature and vfio_check_feature check it, unless the
 * spec says otherwise; the legacy DIRTY_PAGES. Against the GPIO model
 * server (it migrates, both generations). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "model_server.h"

static struct model_server srv;

static void
setup(void)
{
    model_server_start(&srv, "gpio-pci-idio-16");
}

static void
teardown(void)
{
    model_server_stop(&srv);
}

TestSuite(kernel_feature, .init = setup, .fini = teardown, .timeout = 30);

#define GET VFIO_DEVICE_FEATURE_GET
#define SET VFIO_DEVICE_FEATURE_SET
#define PROBE VFIO_DEVICE_FEATURE_PROBE
#define MIGRATION VFIO_DEVICE_FEATURE_MIGRATION
#define STATE VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE
#define LOG_START VFIO_DEVICE_FEATURE_DMA_LOGGING_START
#define LOG_STOP VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP
#define LOG_REPORT VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT

static uint8_t reply[4096];
static size_t reply_len;

/* DEVICE_FEATURE with dlen bytes of data; the reply in reply[]. */
static int
feature(uint32_t argsz, uint32_t flags, const void *data, size_t dlen)
{
    uint8_t buf[512];
    struct vfio_user_device_feature h = {.argsz = argsz, .flags = flags};

    memcpy(buf, &h, sizeof(h));
    if (dlen)
        memcpy(buf + sizeof(h), data, dlen);
    return vdev_client_call(srv.cl, VFIO_USER_DEVICE_FEATURE, buf,
                            sizeof(h) + dlen, NULL, 0, reply, sizeof(reply),
                            &reply_len, NULL, NULL);
}

static uint32_t
reply_u32(size_t off)
{
    uint32_t v;

    cr_assert_leq(off + 4, reply_len);
    memcpy(&v, reply + off, 4);
    return v;
}

/* D1, D2 */
Test(kernel_feature, header_checks)
{
    uint32_t argsz = 16;

    cr_expect_eq(feature(7, GET | MIGRATION, NULL, 0), -EINVAL);
    cr_expect_eq(feature(16, GET | MIGRATION | (1u << 19), NULL, 0), -EINVAL);
    cr_expect_eq(feature(16, GET | SET | STATE, NULL, 0), -EINVAL);
    cr_expect_eq(feature(16, MIGRATION, NULL, 0), -EINVAL, "neither op");
    cr_expect_eq(feature(16, SET | MIGRATION, NULL, 0), -EINVAL);
    cr_expect_eq(feature(16, PROBE | GET | LOG_START, NULL, 0), -EINVAL);
    cr_expect_eq(vdev_client_call(srv.cl, VFIO_USER_DEVICE_FEATURE, &argsz, 4,
                                  NULL, 0, reply, sizeof(reply), &reply_len,
                                  NULL, NULL),
                 -EINVAL);
}

/* D3 */
Test(kernel_feature, unknown_feature_enotty)
{
    cr_expect_eq(feature(16, GET | 99, NULL, 0), -ENOTTY);
    cr_expect_eq(feature(16, PROBE | 99, NULL, 0), -ENOTTY);
    cr_expect_eq(feature(16, 99, NULL, 0), -ENOTTY, "the feature comes first");
    cr_expect_eq(
        feature(16, PROBE | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, NULL, 0),
        -ENOTTY);
}

/* D4 */
Test(kernel_feature, probe_echoes)
{
    cr_assert_eq(feature(8, PROBE | GET | SET | STATE, NULL, 0), 0);
    cr_expect_eq(reply_len, 8);
    cr_expect_eq(reply_u32(4), PROBE | GET | SET | STATE);
    cr_assert_eq(feature(8, PROBE | SET | LOG_STOP, NULL, 0), 0);
}

/* D5: at least the kernel's minimum, more accepted. */
Test(kernel_feature, payload_minimums)
{
    static const uint8_t extra[24];
    struct vfio_device_feature_mig_state st = {.device_state =
                                                   VFIO_DEVICE_STATE_RUNNING};
    struct vfio_user_dma_logging_control ctl = {.page_size = 4096};
    uint8_t big[16 + 8] = {0};

    cr_expect_eq(feature(16, GET | MIGRATION, extra, sizeof(extra)), 0);
    cr_expect_eq(reply_len, 16);
    cr_expect_eq(feature(16, GET | STATE, extra, 3), 0);
    cr_expect_eq(feature(16, SET | STATE, &st, 4), -EINVAL);
    memcpy(big, &st, sizeof(st));
    cr_expect_eq(feature(24, SET | STATE, big, sizeof(big)), 0);
    cr_expect_eq(feature(24, SET | LOG_START, &ctl, 8), -EINVAL);
    cr_expect_eq(feature(24, SET | LOG_START, &ctl, sizeof(ctl)), 0);
    /* a DMA_LOGGING_STOP carrying the logging control, as some send it */
    cr_assert_eq(feature(24, SET | LOG_STOP, &ctl, sizeof(ctl)), 0);
    cr_expect_eq(reply_len, 24, "echoed");
    cr_expect_eq(feature(8, SET | LOG_STOP, NULL, 0), 0);
    {
        struct vfio_user_dma_logging_report rep = {.length = 4096,
                                                   .page_size = 4096};
        cr_assert_eq(feature(24, SET | LOG_START, &ctl, sizeof(ctl)), 0);
        cr_expect_eq(feature(4096, GET | LOG_REPORT, &rep, 16), -EINVAL);
        cr_expect_eq(feature(4096, GET | LOG_REPORT, &rep, sizeof(rep)), 0);
        cr_expect_eq(feature(8, SET | LOG_STOP, NULL, 0), 0);
    }
}

/* D6: the spec's rule, not the kernel's EINVAL. */
Test(kernel_feature, get_short_argsz)
{
    cr_assert_eq(feature(8, GET | MIGRATION, NULL, 0), 0);
    cr_expect_eq(reply_len, 8);
    cr_expect_eq(reply_u32(0), 16, "argsz: the size needed");
    cr_assert_eq(feature(16, GET | MIGRATION, NULL, 0), 0);
    cr_expect_eq(reply_len, 16);
}

static int
log_start(uint64_t page, const uint64_t *ranges, uint32_t n)
{
    uint8_t buf[16 + 4 * 16];
    struct vfio_user_dma_logging_control ctl = {.page_size = page,
                                                .num_ranges = n};

    memcpy(buf, &ctl, sizeof(ctl));
    if (n)
        memcpy(buf + sizeof(ctl), ranges, n * 16);
    return feature(8, SET | LOG_START, buf, sizeof(ctl) + n * 16);
}

/* D7, D8 */
Test(kernel_feature, log_start_ranges)
{
    const uint64_t unaligned[] = {0x10800, 0x1000};
    const uint64_t short_len[] = {0x10000, 0x800};
    const uint64_t overlap[] = {0x10000, 0x4000, 0x12000, 0x1000};
    const uint64_t wrap[] = {0ull - 0x1000, 0x2000};
    const uint64_t good[] = {0x10000, 0x4000, 0x20000, 0x1000};
    struct vfio_user_dma_logging_control many = {.page_size = 4096,
                                                 .num_ranges = 100000};

    cr_expect_eq(log_start(4096, unaligned, 1), -EINVAL);
    cr_expect_eq(log_start(4096, short_len, 1), -EINVAL);
    cr_expect_eq(log_start(4096, overlap, 2), -EINVAL);
    cr_expect_eq(log_start(4096, wrap, 1), -EOVERFLOW);
    cr_expect_eq(feature(8, SET | LOG_START, &many, sizeof(many)), -E2BIG);
    /* zero ranges: everything (spec) */
    cr_expect_eq(log_start(4096, NULL, 0), 0);
    cr_expect_eq(feature(8, SET | LOG_STOP, NULL, 0), 0);
    cr_expect_eq(log_start(4096, good, 2), 0);
    cr_expect_eq(feature(8, SET | LOG_STOP, NULL, 0), 0);
}

/* D9, D10 */
Test(kernel_feature, log_report_page_size)
{
    struct vfio_user_dma_logging_report rep = {
        .iova = 0, .length = 64 * 4096, .page_size = 2048};
    uint64_t bits;

    cr_assert_eq(log_start(4096, NULL, 0), 0);
    cr_expect_eq(feature(4096, GET | LOG_REPORT, &rep, sizeof(rep)), -EINVAL);
    rep.page_size = 3 * 4096;
    cr_expect_eq(feature(4096, GET | LOG_REPORT, &rep, sizeof(rep)), -EINVAL);
    rep.page_size = 4096;
    rep.iova = 0ull - 4096;
    cr_expect_eq(feature(4096, GET | LOG_REPORT, &rep, sizeof(rep)),
                 -EOVERFLOW);
    /* D10: IOVAs no DMA map covers are clean */
    rep.iova = 0;
    cr_assert_eq(feature(4096, GET | LOG_REPORT, &rep, sizeof(rep)), 0);
    cr_assert_eq(reply_len, 8 + 24 + 8);
    memcpy(&bits, reply + 32, 8);
    cr_expect_eq(bits, 0);
    cr_expect_eq(feature(8, SET | LOG_STOP, NULL, 0), 0);
}

/* P1 */
Test(kernel_feature, legacy_dirty_start_stop)
{
    struct vfio_user_dirty_pages dp = {
        .argsz = 8, .flags = VFIO_USER_DIRTY_PAGES_FLAG_START};

    cr_assert_eq(vdev_client_call(srv.cl, VFIO_USER_DIRTY_PAGES, &dp,
                                  sizeof(dp), NULL, 0, reply, sizeof(reply),
                                  &reply_len, NULL, NULL),
                 0);
    cr_expect_eq(reply_len, 0);
    dp.flags = VFIO_USER_DIRTY_PAGES_FLAG_STOP;
    cr_assert_eq(vdev_client_call(srv.cl, VFIO_USER_DIRTY_PAGES, &dp,
                                  sizeof(dp), NULL, 0, reply, sizeof(reply),
                                  &reply_len, NULL, NULL),
                 0);
    cr_expect_eq(reply_len, 0);
}
