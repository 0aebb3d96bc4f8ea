/* Differential run: a catalogue of client message sequences sent to our GPIO
 * server and to libvfio-user's gpio sample, both protocol generations. The
 * devices differ (the sample's BAR2 is 256 bytes of counter, ours the card's
 * 8 registers), so steps compare protocol behaviour: success or errno, reply
 * sizes, flags and counts. Every disagreement must be in `expected` below,
 * with the kernel's or the spec's reason (runtime/KERNEL.md has the table);
 * a new one, or an expected one that no longer happens, fails the test. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kdiff.h"
#include "vdev_proto.h"

#define ST KD_ST
#define LEN KD_LEN
#define EV KD_EV
#define F1 KD_F1
#define F2 KD_F2

#define FEAT_GET VFIO_DEVICE_FEATURE_GET
#define FEAT_SET VFIO_DEVICE_FEATURE_SET
#define FEAT_PROBE VFIO_DEVICE_FEATURE_PROBE

/* ------------------------------------------------------------ helpers */

static const struct kd_obs *
info(struct kd_run *r, const char *step, unsigned cmp, uint32_t argsz,
     size_t len)
{
    uint8_t in[32] = {0};

    memcpy(in, &argsz, sizeof(argsz));
    return kd_call(r, step, cmp, VFIO_USER_DEVICE_GET_INFO, in, len);
}

static const struct kd_obs *
region_info(struct kd_run *r, const char *step, unsigned cmp, uint32_t index,
            uint32_t argsz)
{
    struct vfio_region_info in = {.argsz = argsz, .index = index};

    return kd_call(r, step, cmp, VFIO_USER_DEVICE_GET_REGION_INFO, &in,
                   sizeof(in));
}

static const struct kd_obs *
irq_info(struct kd_run *r, const char *step, unsigned cmp, uint32_t index,
         uint32_t argsz)
{
    struct vfio_irq_info in = {.argsz = argsz, .index = index};

    return kd_call(r, step, cmp, VFIO_USER_DEVICE_GET_IRQ_INFO, &in,
                   sizeof(in));
}

/* SET_IRQS with data bytes after the fixed part and nr_fds new eventfds;
 * watch (if not NULL) is an eventfd read after the reply. argsz 0 means
 * the size of what is sent. */
static const struct kd_obs *
set_irqs(struct kd_run *r, const char *step, unsigned cmp, uint32_t flags,
         uint32_t index, uint32_t start, uint32_t count, const void *data,
         size_t dlen, int *fds, unsigned nr_fds, int watch, uint32_t argsz)
{
    uint8_t buf[64];
    struct vfio_irq_set s = {
        .argsz = argsz ? argsz : (uint32_t)(sizeof(s) + dlen),
        .flags = flags,
        .index = index,
        .start = start,
        .count = count,
    };
    struct kd_msg m = {.cmd = VFIO_USER_DEVICE_SET_IRQS,
                       .payload = buf,
                       .len = sizeof(s) + dlen,
                       .nr_fds = nr_fds,
                       .watch_fd = watch};

    memcpy(buf, &s, sizeof(s));
    if (dlen)
        memcpy(buf + sizeof(s), data, dlen);
    for (unsigned i = 0; i < nr_fds; i++)
        m.fds[i] = fds[i];
    return kd_step(r, step, cmp, &m);
}

static const struct kd_obs *
rd(struct kd_run *r, const char *step, unsigned cmp, uint32_t region,
   uint64_t off, uint32_t count)
{
    struct vfio_user_region_access a = {
        .offset = off, .region = region, .count = count};

    return kd_call(r, step, cmp, VFIO_USER_REGION_READ, &a, sizeof(a));
}

static const struct kd_obs *
wr(struct kd_run *r, const char *step, unsigned cmp, uint32_t region,
   uint64_t off, uint32_t count, const void *data, size_t dlen)
{
    struct vfio_user_region_access a = {
        .offset = off, .region = region, .count = count};
    uint8_t buf[64];

    memcpy(buf, &a, sizeof(a));
    memcpy(buf + sizeof(a), data, dlen);
    return kd_call(r, step, cmp, VFIO_USER_REGION_WRITE, buf, sizeof(a) + dlen);
}

static const struct kd_obs *
dma_map(struct kd_run *r, const char *step, unsigned cmp, uint32_t argsz,
        uint32_t flags, uint64_t offset, uint64_t addr, uint64_t size, int *fds,
        unsigned nr_fds)
{
    struct vfio_user_dma_map d = {.argsz = argsz,
                                  .flags = flags,
                                  .offset = offset,
                                  .addr = addr,
                                  .size = size};
    struct kd_msg m = {.cmd = VFIO_USER_DMA_MAP,
                       .payload = &d,
                       .len = sizeof(d),
                       .nr_fds = nr_fds,
                       .watch_fd = -1};

    for (unsigned i = 0; i < nr_fds; i++)
        m.fds[i] = fds[i];
    return kd_step(r, step, cmp, &m);
}

static const struct kd_obs *
dma_unmap(struct kd_run *r, const char *step, unsigned cmp, uint32_t argsz,
          uint32_t flags, uint64_t addr, uint64_t size, int fd)
{
    struct vfio_user_dma_unmap d = {
        .argsz = argsz, .flags = flags, .addr = addr, .size = size};
    struct kd_msg m = {.cmd = VFIO_USER_DMA_UNMAP,
                       .payload = &d,
                       .len = sizeof(d),
                       .watch_fd = -1};

    if (fd >= 0) {
        m.fds[0] = fd;
        m.nr_fds = 1;
    }
    return kd_step(r, step, cmp, &m);
}

static const struct kd_obs *
feature(struct kd_run *r, const char *step, unsigned cmp, uint32_t argsz,
        uint32_t flags, const void *data, size_t dlen)
{
    uint8_t buf[128];
    struct vfio_user_device_feature h = {.argsz = argsz, .flags = flags};

    memcpy(buf, &h, sizeof(h));
    if (dlen)
        memcpy(buf + sizeof(h), data, dlen);
    return kd_call(r, step, cmp, VFIO_USER_DEVICE_FEATURE, buf,
                   sizeof(h) + dlen);
}

/* A message with one eventfd attached, as a message that takes none. */
static const struct kd_obs *
with_fd(struct kd_run *r, const char *step, unsigned cmp, uint16_t cmd,
        const void *payload, size_t len)
{
    struct kd_msg m = {.cmd = cmd,
                       .payload = payload,
                       .len = len,
                       .fds = {kd_eventfd()},
                       .nr_fds = 1,
                       .watch_fd = -1};

    return kd_step(r, step, cmp, &m);
}

/* ------------------------------------------------------------ version */

static void
seq_version_plain(struct kd_run *r)
{
    kd_version(r, "no_json", ST | F1, 0, 1, NULL);
    kd_fields(r, 0, 4, 0, 0);
    info(r, "then_info", ST, 16, 16);
}

static void
seq_version_caps(struct kd_run *r)
{
    kd_version(r, "caps", ST | F1, 0, 1,
               "{\"capabilities\":{\"max_msg_fds\":8,"
               "\"max_data_xfer_size\":1048576,\"pgsizes\":4096,"
               "\"max_dma_maps\":100}}");
    kd_fields(r, 0, 4, 0, 0);
}

static void
seq_version_minor_high(struct kd_run *r)
{
    kd_version(r, "minor_7", ST | F1, 0, 7, NULL);
    kd_fields(r, 0, 2, 0, 0);
}

static void
seq_version_major(struct kd_run *r)
{
    kd_version(r, "major_1", ST, 1, 0, NULL);
}

static void
seq_version_bad_json(struct kd_run *r)
{
    kd_version(r, "bad_json", ST, 0, 1, "{\"capabilities\":");
}

static void
seq_version_short(struct kd_run *r)
{
    uint16_t major = 0;

    kd_call(r, "two_bytes", ST, VFIO_USER_VERSION, &major, sizeof(major));
}

static void
seq_version_twice(struct kd_run *r)
{
    kd_version(r, "again", ST, 0, 1, NULL);
    info(r, "then_info", ST, 16, 16);
}

static void
seq_before_version(struct kd_run *r)
{
    info(r, "info_first", ST, 16, 16);
    kd_version(r, "then_version", ST, 0, 1, NULL);
}

/* ------------------------------------------------------------ info */

static void
seq_device_info(struct kd_run *r)
{
    /* argsz and flags, then num_irqs; num_regions is the device's. */
    info(r, "argsz_16", ST | LEN | F1 | F2, 16, 16);
    kd_fields(r, 0, 8, 12, 4);
    info(r, "argsz_1024", ST | LEN | F1 | F2, 1024, 16);
    kd_fields(r, 0, 8, 12, 4);
    info(r, "argsz_8", ST, 8, 16);
    info(r, "body_8", ST, 16, 8);
    info(r, "body_24", ST | LEN, 16, 24);
}

static void
seq_region_info(struct kd_run *r)
{
    static const char *const absent[] = {"bar0", "bar1", "bar3",
                                         "bar4", "bar5", "rom"};
    static const uint32_t idx[] = {0, 1, 3, 4, 5, 6};

    /* Absent BARs and ROM: success, size 0, no flags. */
    for (unsigned i = 0; i < 6; i++) {
        region_info(r, absent[i], ST | LEN | F1 | F2, idx[i], 32);
        kd_fields(r, 0, 16, 16, 8);
    }
    region_info(r, "bar2", ST | LEN | F1, 2, 32);
    kd_fields(r, 8, 4, 0, 0);
    region_info(r, "config", ST | LEN | F1 | F2, 7, 32);
    kd_fields(r, 4, 8, 16, 8);
    region_info(r, "vga", ST, 8, 32);
    region_info(r, "index_20", ST, 20, 32);
    region_info(r, "argsz_16", ST, 2, 16);
    region_info(r, "argsz_4096", ST | LEN, 0, 4096);
    {
        struct vfio_region_info in = {.argsz = 32, .index = 2};
        kd_call(r, "body_16", ST, VFIO_USER_DEVICE_GET_REGION_INFO, &in, 16);
    }
}

static void
seq_region_io_fds(struct kd_run *r)
{
    struct vfio_user_region_io_fds_request q = {.argsz = 16, .index = 2};

    kd_call(r, "bar2", ST | LEN | F1, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
            sizeof(q));
    kd_fields(r, 0, 16, 0, 0);
    q.index = 7;
    kd_call(r, "config", ST | LEN | F1, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
            sizeof(q));
    kd_fields(r, 0, 16, 0, 0);
    q.index = 0;
    kd_call(r, "absent_bar0", ST, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
            sizeof(q));
    q.index = 8;
    kd_call(r, "vga", ST, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q, sizeof(q));
    q.index = 2;
    q.flags = 1;
    kd_call(r, "flags_1", ST, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
            sizeof(q));
    q.flags = 0;
    q.argsz = 8;
    kd_call(r, "argsz_8", ST, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
            sizeof(q));
    q.argsz = 16;
    kd_call(r, "body_8", ST, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q, 8);
}

static void
seq_irq_info(struct kd_run *r)
{
    static const char *const names[] = {"intx", "msi", "msix", "err", "req"};

    /* flags, then count */
    for (unsigned i = 0; i < 5; i++) {
        irq_info(r, names[i], ST | LEN | F1 | F2, i, 16);
        kd_fields(r, 4, 4, 8, 8);
    }
    irq_info(r, "index_5", ST, 5, 16);
    irq_info(r, "argsz_8", ST, 0, 8);
    irq_info(r, "argsz_99", ST | LEN, 0, 99);
    {
        struct vfio_irq_info in = {.argsz = 16};
        kd_call(r, "body_8", ST, VFIO_USER_DEVICE_GET_IRQ_INFO, &in, 8);
    }
}

/* ------------------------------------------------------------ SET_IRQS */

#define D_NONE VFIO_IRQ_SET_DATA_NONE
#define D_BOOL VFIO_IRQ_SET_DATA_BOOL
#define D_EFD VFIO_IRQ_SET_DATA_EVENTFD
#define A_MASK VFIO_IRQ_SET_ACTION_MASK
#define A_UNMASK VFIO_IRQ_SET_ACTION_UNMASK
#define A_TRIG VFIO_IRQ_SET_ACTION_TRIGGER

static void
seq_irqs_intx(struct kd_run *r)
{
    static const uint8_t one = 1;
    int e = kd_eventfd(), give = dup(e);

    set_irqs(r, "loopback_unset", ST, D_NONE | A_TRIG, 0, 0, 1, NULL, 0, NULL,
             0, -1, 0);
    set_irqs(r, "unmask_unset", ST, D_NONE | A_UNMASK, 0, 0, 1, NULL, 0, NULL,
             0, -1, 0);
    set_irqs(r, "install", ST, D_EFD | A_TRIG, 0, 0, 1, NULL, 0, &give, 1, e,
             0);
    set_irqs(r, "loopback_none", ST | EV, D_NONE | A_TRIG, 0, 0, 1, NULL, 0,
             NULL, 0, e, 0);
    set_irqs(r, "loopback_bool", ST | EV, D_BOOL | A_TRIG, 0, 0, 1, &one, 1,
             NULL, 0, e, 0);
    set_irqs(r, "loopback_again", ST | EV, D_NONE | A_TRIG, 0, 0, 1, NULL, 0,
             NULL, 0, e, 0);
    set_irqs(r, "mask", ST, D_NONE | A_MASK, 0, 0, 1, NULL, 0, NULL, 0, -1, 0);
    set_irqs(r, "loopback_masked", ST | EV, D_NONE | A_TRIG, 0, 0, 1, NULL, 0,
             NULL, 0, e, 0);
    set_irqs(r, "unmask", ST, D_NONE | A_UNMASK, 0, 0, 1, NULL, 0, NULL, 0, e,
             0);
    set_irqs(r, "unmask_bool", ST, D_BOOL | A_UNMASK, 0, 0, 1, &one, 1, NULL, 0,
             -1, 0);
    set_irqs(r, "mask_count_0", ST, D_NONE | A_MASK, 0, 0, 0, NULL, 0, NULL, 0,
             -1, 0);
    set_irqs(r, "argsz_big", ST, D_NONE | A_TRIG, 0, 0, 1, NULL, 0, NULL, 0, e,
             100);
    set_irqs(r, "disable", ST, D_NONE | A_TRIG, 0, 0, 0, NULL, 0, NULL, 0, -1,
             0);
    set_irqs(r, "disable_again", ST, D_NONE | A_TRIG, 0, 0, 0, NULL, 0, NULL, 0,
             -1, 0);
    close(e);
}

static void
seq_irqs_eventfd_actions(struct kd_run *r)
{
    int e = kd_eventfd(), f[2] = {kd_eventfd(), kd_eventfd()};

    set_irqs(r, "install", ST, D_EFD | A_TRIG, 0, 0, 1, NULL, 0, &e, 1, -1, 0);
    set_irqs(r, "mask_eventfd", ST, D_EFD | A_MASK, 0, 0, 1, NULL, 0, &f[0], 1,
             -1, 0);
    set_irqs(r, "unmask_eventfd", ST, D_EFD | A_UNMASK, 0, 0, 1, NULL, 0, &f[1],
             1, -1, 0);
    set_irqs(r, "deassign", ST, D_EFD | A_TRIG, 0, 0, 1, NULL, 0, NULL, 0, -1,
             0);
}

static void
seq_irqs_err_req(struct kd_run *r)
{
    static const uint8_t one = 1;
    int e = kd_eventfd(), give = dup(e), errfd = kd_eventfd();

    set_irqs(r, "req_loopback_unset", ST, D_NONE | A_TRIG, 4, 0, 1, NULL, 0,
             NULL, 0, -1, 0);
    set_irqs(r, "req_bool_unset", ST, D_BOOL | A_TRIG, 4, 0, 1, &one, 1, NULL,
             0, -1, 0);
    set_irqs(r, "req_install", ST, D_EFD | A_TRIG, 4, 0, 1, NULL, 0, &give, 1,
             -1, 0);
    set_irqs(r, "req_loopback", ST | EV, D_NONE | A_TRIG, 4, 0, 1, NULL, 0,
             NULL, 0, e, 0);
    set_irqs(r, "req_mask", ST, D_NONE | A_MASK, 4, 0, 1, NULL, 0, NULL, 0, -1,
             0);
    set_irqs(r, "req_disable", ST, D_NONE | A_TRIG, 4, 0, 0, NULL, 0, NULL, 0,
             -1, 0);
    set_irqs(r, "err_install", ST, D_EFD | A_TRIG, 3, 0, 1, NULL, 0, &errfd, 1,
             -1, 0);
    close(e);
}

static void
seq_irqs_malformed(struct kd_run *r)
{
    static const uint8_t ones[4] = {1, 1, 1, 1};
    int two[2] = {kd_eventfd(), kd_eventfd()};
    int one = kd_eventfd();

    set_irqs(r, "argsz_12", ST, D_NONE | A_TRIG, 0, 0, 1, NULL, 0, NULL, 0, -1,
             12);
    set_irqs(r, "two_data", ST, D_NONE | D_BOOL | A_TRIG, 0, 0, 1, ones, 1,
             NULL, 0, -1, 0);
    set_irqs(r, "no_data", ST, A_TRIG, 0, 0, 1, NULL, 0, NULL, 0, -1, 0);
    set_irqs(r, "two_actions", ST, D_NONE | A_TRIG | A_MASK, 0, 0, 1, NULL, 0,
             NULL, 0, -1, 0);
    set_irqs(r, "no_action", ST, D_NONE, 0, 0, 1, NULL, 0, NULL, 0, -1, 0);
    set_irqs(r, "unknown_flag", ST, D_NONE | A_TRIG | (1u << 6), 0, 0, 1, NULL,
             0, NULL, 0, -1, 0);
    set_irqs(r, "start_1", ST, D_NONE | A_TRIG, 0, 1, 1, NULL, 0, NULL, 0, -1,
             0);
    set_irqs(r, "count_2", ST, D_NONE | A_TRIG, 0, 0, 2, NULL, 0, NULL, 0, -1,
             0);
    set_irqs(r, "overflow", ST, D_NONE | A_TRIG, 0, 0xffffffffu, 2, NULL, 0,
             NULL, 0, -1, 0);
    set_irqs(r, "index_5", ST, D_NONE | A_TRIG, 5, 0, 1, NULL, 0, NULL, 0, -1,
             0);
    set_irqs(r, "bool_short", ST, D_BOOL | A_TRIG, 0, 0, 1, NULL, 0, NULL, 0,
             -1, 21);
    set_irqs(r, "more_fds", ST, D_EFD | A_TRIG, 0, 0, 1, NULL, 0, two, 2, -1,
             0);
    set_irqs(r, "fd_with_none", ST, D_NONE | A_TRIG, 0, 0, 1, NULL, 0, &one, 1,
             -1, 0);
    set_irqs(r, "count_0_bool", ST, D_BOOL | A_TRIG, 0, 0, 0, NULL, 0, NULL, 0,
             -1, 0);
    set_irqs(r, "count_0_start_1", ST, D_NONE | A_TRIG, 0, 1, 0, NULL, 0, NULL,
             0, -1, 0);
    set_irqs(r, "msi_none", ST, D_NONE | A_TRIG, 1, 0, 0, NULL, 0, NULL, 0, -1,
             0);
    set_irqs(r, "msix_one", ST, D_NONE | A_TRIG, 2, 0, 1, NULL, 0, NULL, 0, -1,
             0);
}

/* ------------------------------------------------------------ regions */

static void
seq_region_rw(struct kd_run *r)
{
    static const uint8_t zero[8];
    uint64_t b2;

    kd_learn_bar2(r);
    b2 = r->bar2_size;
    /* The two devices share their PCI identity: compare the bytes too. */
    rd(r, "config_0_4", ST | LEN | F1 | F2, 7, 0, 4);
    kd_fields(r, 0, 16, 16, 4);
    rd(r, "config_1_2", ST | LEN | F2, 7, 1, 2);
    kd_fields(r, 0, 0, 16, 2);
    rd(r, "config_0_3", ST | LEN | F2, 7, 0, 3);
    kd_fields(r, 0, 0, 16, 3);
    rd(r, "config_0_8", ST | LEN | F2, 7, 0, 8);
    kd_fields(r, 0, 0, 16, 8);
    rd(r, "config_255_1", ST | LEN, 7, 255, 1);
    rd(r, "config_252_8", ST, 7, 252, 8);
    rd(r, "config_256_4", ST, 7, 256, 4);
    rd(r, "config_count_0", ST, 7, 0, 0);
    rd(r, "config_2m", ST, 7, 0, 2u << 20);
    rd(r, "absent_bar0", ST, 0, 0, 4);
    rd(r, "absent_rom", ST, 6, 0, 4);
    rd(r, "vga", ST, 8, 0, 1);
    rd(r, "index_20", ST, 20, 0, 4);
    rd(r, "bar2_first", ST | LEN, 2, 0, 1);
    rd(r, "bar2_last", ST | LEN, 2, b2 - 1, 1);
    rd(r, "bar2_at_end", ST, 2, b2, 1);
    rd(r, "bar2_straddle", ST, 2, b2 - 2, 4);
    {
        struct vfio_user_region_access a = {.region = 7, .count = 4};
        uint8_t buf[20] = {0};
        memcpy(buf, &a, sizeof(a));
        kd_call(r, "read_trailing", ST | LEN, VFIO_USER_REGION_READ, buf,
                sizeof(buf));
        kd_call(r, "read_body_12", ST, VFIO_USER_REGION_READ, buf, 12);
    }
    wr(r, "write_command", ST | LEN | F1, 7, 4, 2, zero, 2);
    kd_fields(r, 0, 16, 0, 0);
    wr(r, "write_rom", ST, 6, 0, 4, zero, 4);
    wr(r, "write_absent", ST, 0, 0, 4, zero, 4);
    wr(r, "write_count_4_data_2", ST, 7, 4, 4, zero, 2);
    wr(r, "write_count_2_data_4", ST, 7, 4, 2, zero, 4);
    wr(r, "write_config_256", ST, 7, 256, 4, zero, 4);
    wr(r, "write_bar2_at_end", ST, 2, b2, 1, zero, 1);
}

static void
seq_reset(struct kd_run *r)
{
    static const uint8_t body[8];

    kd_call(r, "plain", ST | LEN, VFIO_USER_DEVICE_RESET, NULL, 0);
    kd_call(r, "with_body", ST, VFIO_USER_DEVICE_RESET, body, sizeof(body));
    info(r, "then_info", ST, 16, 16);
}

/* ------------------------------------------------------------ framing */

static void
seq_unknown_commands(struct kd_run *r)
{
    static const uint16_t cmds[] = {0, 11, 12, 19, 100, 0xffff};
    static const char *const names[] = {"cmd_0",  "cmd_11",  "cmd_12",
                                        "cmd_19", "cmd_100", "cmd_65535"};

    for (unsigned i = 0; i < 6; i++)
        kd_call(r, names[i], ST, cmds[i], NULL, 0);
    info(r, "then_info", ST, 16, 16);
}

static void
seq_header_flags(struct kd_run *r)
{
    struct vfio_device_info in = {.argsz = 16};
    struct kd_msg m = {.cmd = VFIO_USER_DEVICE_GET_INFO,
                       .payload = &in,
                       .len = sizeof(in),
                       .watch_fd = -1};

    m.flags = 1u << 6;
    kd_step(r, "reserved_bit", ST, &m);
    m.flags = VFIO_USER_F_ERROR;
    kd_step(r, "error_bit", ST, &m);
    kd_send(r, VFIO_USER_DEVICE_GET_INFO, VFIO_USER_F_NO_REPLY, &in,
            sizeof(in));
    kd_send(r, VFIO_USER_DEVICE_GET_INFO, VFIO_USER_F_NO_REPLY, NULL, 0);
    info(r, "after_no_reply", ST | LEN, 16, 16);
}

static void
seq_reply_type(struct kd_run *r)
{
    struct vfio_device_info in = {.argsz = 16};
    struct kd_msg m = {.cmd = VFIO_USER_DEVICE_GET_INFO,
                       .flags = VFIO_USER_F_TYPE_REPLY,
                       .payload = &in,
                       .len = sizeof(in),
                       .watch_fd = -1};

    kd_step(r, "reply_as_command", ST, &m);
}

static void
seq_fds_on_fdless(struct kd_run *r)
{
    struct vfio_device_info di = {.argsz = 16};
    struct vfio_region_info ri = {.argsz = 32, .index = 7};
    struct vfio_irq_info ii = {.argsz = 16};
    struct vfio_user_region_access a = {.region = 7, .count = 4};
    uint8_t w[20] = {0};
    struct vfio_user_dma_unmap u = {.argsz = 24,
                                    .flags = VFIO_USER_F_DMA_UNMAP_ALL};

    with_fd(r, "device_info", ST | LEN, VFIO_USER_DEVICE_GET_INFO, &di,
            sizeof(di));
    with_fd(r, "region_info", ST | LEN, VFIO_USER_DEVICE_GET_REGION_INFO, &ri,
            sizeof(ri));
    with_fd(r, "irq_info", ST | LEN, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii,
            sizeof(ii));
    with_fd(r, "region_read", ST | LEN, VFIO_USER_REGION_READ, &a, sizeof(a));
    a.offset = 0x3c; /* interrupt line: writable */
    a.count = 1;
    memcpy(w, &a, sizeof(a));
    with_fd(r, "region_write", ST | LEN, VFIO_USER_REGION_WRITE, w, 17);
    with_fd(r, "reset", ST, VFIO_USER_DEVICE_RESET, NULL, 0);
    with_fd(r, "dma_unmap_all", ST | LEN, VFIO_USER_DMA_UNMAP, &u, sizeof(u));
}

/* ------------------------------------------------------------ DMA */

static void
seq_dma(struct kd_run *r)
{
    const uint32_t rw =
        VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE;
    int mem = memfd_create("kdiff", MFD_CLOEXEC), two[2];

    cr_assert_geq(mem, 0);
    cr_assert_eq(ftruncate(mem, 0x10000), 0);
    dma_map(r, "map", ST | LEN, 32, rw, 0, 0x10000, 0x10000, NULL, 0);
    dma_map(r, "map_again", ST, 32, rw, 0, 0x10000, 0x10000, NULL, 0);
    dma_map(r, "map_overlap", ST, 32, rw, 0, 0x18000, 0x10000, NULL, 0);
    dma_map(r, "map_size_0", ST, 32, rw, 0, 0x40000, 0, NULL, 0);
    dma_map(r, "map_unaligned", ST, 32, rw, 0, 0x40001, 0x1000, NULL, 0);
    dma_map(r, "map_flags_junk", ST, 32, 0x100 | rw, 0, 0x50000, 0x1000, NULL,
            0);
    dma_map(r, "map_argsz_64", ST, 64, rw, 0, 0x60000, 0x1000, NULL, 0);
    dma_map(r, "map_argsz_16", ST, 16, rw, 0, 0x70000, 0x1000, NULL, 0);
    two[0] = dup(mem);
    dma_map(r, "map_fd", ST | LEN, 32, rw, 0, 0x100000, 0x10000, two, 1);
    two[0] = dup(mem);
    dma_map(r, "map_fd_past_end", ST, 32, rw, 0x20000, 0x200000, 0x10000, two,
            1);
    two[0] = dup(mem);
    two[1] = dup(mem);
    dma_map(r, "map_two_fds", ST, 32, rw, 0, 0x300000, 0x1000, two, 2);
    dma_unmap(r, "unmap_part", ST, 24, 0, 0x10000, 0x1000, -1);
    dma_unmap(r, "unmap_unmapped", ST, 24, 0, 0x900000, 0x1000, -1);
    dma_unmap(r, "unmap", ST | LEN | F1, 24, 0, 0x10000, 0x10000, -1);
    kd_fields(r, 0, 24, 0, 0);
    dma_unmap(r, "unmap_again", ST, 24, 0, 0x10000, 0x10000, -1);
    dma_unmap(r, "unmap_argsz_64", ST | LEN | F1, 64, 0, 0x100000, 0x10000, -1);
    kd_fields(r, 0, 24, 0, 0);
    dma_unmap(r, "unmap_argsz_8", ST, 8, 0, 0x60000, 0x1000, -1);
    dma_unmap(r, "unmap_all_with_addr", ST, 24, VFIO_USER_F_DMA_UNMAP_ALL,
              0x1000, 0, -1);
    dma_unmap(r, "unmap_flags_junk", ST, 24, 0x100, 0x60000, 0x1000, -1);
    dma_unmap(r, "unmap_all", ST | LEN | F1, 24, VFIO_USER_F_DMA_UNMAP_ALL, 0,
              0, -1);
    kd_fields(r, 0, 24, 0, 0);
    close(mem);
}

/* ------------------------------------------------------------ features */

static void
seq_feature(struct kd_run *r)
{
    struct vfio_user_dma_logging_control ctl = {.page_size = 4096};
    struct vfio_user_dma_logging_report rep = {.length = 4096 * 64,
                                               .page_size = 4096};
    struct vfio_device_feature_mig_state st = {.device_state =
                                                   VFIO_DEVICE_STATE_RUNNING};
    const uint32_t mig = VFIO_DEVICE_FEATURE_MIGRATION;
    const uint32_t state = VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
    const uint32_t start = VFIO_DEVICE_FEATURE_DMA_LOGGING_START;
    const uint32_t stop = VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP;

    feature(r, "probe_migration", ST | LEN | F1, 8, mig | FEAT_PROBE | FEAT_GET,
            NULL, 0);
    kd_fields(r, 0, 8, 0, 0);
    feature(r, "get_migration", ST | LEN | F1, 16, mig | FEAT_GET, NULL, 0);
    kd_fields(r, 0, 16, 0, 0);
    feature(r, "get_migration_argsz_8", ST, 8, mig | FEAT_GET, NULL, 0);
    feature(r, "get_migration_argsz_4", ST, 4, mig | FEAT_GET, NULL, 0);
    feature(r, "set_migration", ST, 8, mig | FEAT_SET, NULL, 0);
    feature(r, "get_state", ST | LEN | F1, 16, state | FEAT_GET, NULL, 0);
    kd_fields(r, 0, 12, 0, 0);
    feature(r, "get_state_with_data", ST | LEN, 16, state | FEAT_GET, &st, 8);
    feature(r, "set_state_no_data", ST, 12, state | FEAT_SET, NULL, 0);
    feature(r, "set_state_running", ST | LEN | F1, 16, state | FEAT_SET, &st,
            8);
    kd_fields(r, 0, 12, 0, 0);
    feature(r, "probe_set_state", ST | LEN, 8, state | FEAT_SET | FEAT_PROBE,
            NULL, 0);
    feature(r, "unknown_get", ST, 8, 99 | FEAT_GET, NULL, 0);
    feature(r, "unknown_probe", ST, 8, 99 | FEAT_PROBE, NULL, 0);
    feature(r, "get_and_set", ST, 8, mig | FEAT_GET | FEAT_SET, NULL, 0);
    feature(r, "no_op", ST, 8, mig, NULL, 0);
    feature(r, "unknown_flag", ST, 8, mig | FEAT_GET | (1u << 20), NULL, 0);
    {
        uint32_t argsz = 8;
        kd_call(r, "body_4", ST, VFIO_USER_DEVICE_FEATURE, &argsz, 4);
    }
    feature(r, "log_stop_idle", ST | LEN, 8, stop | FEAT_SET, NULL, 0);
    feature(r, "log_start_all", ST | LEN, 24, start | FEAT_SET, &ctl,
            sizeof(ctl));
    feature(r, "log_report_unmapped", ST, 4096,
            VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT | FEAT_GET, &rep,
            sizeof(rep));
    feature(r, "log_stop_with_control", ST | LEN | F1, 24, stop | FEAT_SET,
            &ctl, sizeof(ctl));
    kd_fields(r, 0, 8, 0, 0);
    feature(r, "log_stop_again", ST, 8, stop | FEAT_SET, NULL, 0);
}

/* ------------------------------------------------------------ legacy */

static void
seq_legacy(struct kd_run *r)
{
    struct vfio_user_dirty_pages dp = {.argsz = 8};

    region_info(r, "mig_region_argsz_32", ST | LEN | F1, 9, 32);
    kd_fields(r, 0, 4, 8, 4);
    region_info(r, "mig_region_flags", ST | F1 | F2, 9, 32);
    kd_fields(r, 4, 4, 12, 4);
    region_info(r, "mig_region_caps", ST | F1 | F2, 9, 256);
    kd_fields(r, 4, 4, 32, 4);
    dp.flags = VFIO_USER_DIRTY_PAGES_FLAG_START;
    kd_call(r, "dirty_start", ST | LEN, VFIO_USER_DIRTY_PAGES, &dp, sizeof(dp));
    dp.flags = VFIO_USER_DIRTY_PAGES_FLAG_STOP;
    kd_call(r, "dirty_stop", ST | LEN, VFIO_USER_DIRTY_PAGES, &dp, sizeof(dp));
    dp.flags = 0;
    kd_call(r, "dirty_no_flag", ST, VFIO_USER_DIRTY_PAGES, &dp, sizeof(dp));
}

/* ------------------------------------------------------------ catalogue */

static const struct kd_seq catalogue[] = {
    {"version_plain", KD_GEN_ALL, false, seq_version_plain},
    {"version_caps", KD_GEN_ALL, false, seq_version_caps},
    {"version_minor_high", KD_GEN_ALL, false, seq_version_minor_high},
    {"version_major", KD_GEN_ALL, false, seq_version_major},
    {"version_bad_json", KD_GEN_ALL, false, seq_version_bad_json},
    {"version_short", KD_GEN_ALL, false, seq_version_short},
    {"version_twice", KD_GEN_ALL, true, seq_version_twice},
    {"before_version", KD_GEN_ALL, false, seq_before_version},
    {"device_info", KD_GEN_ALL, true, seq_device_info},
    {"region_info", KD_GEN_ALL, true, seq_region_info},
    {"region_io_fds", KD_GEN_ALL, true, seq_region_io_fds},
    {"irq_info", KD_GEN_ALL, true, seq_irq_info},
    {"irqs_intx", KD_GEN_ALL, true, seq_irqs_intx},
    {"irqs_eventfd_actions", KD_GEN_ALL, true, seq_irqs_eventfd_actions},
    {"irqs_err_req", KD_GEN_ALL, true, seq_irqs_err_req},
    {"irqs_malformed", KD_GEN_ALL, true, seq_irqs_malformed},
    {"region_rw", KD_GEN_ALL, true, seq_region_rw},
    {"reset", KD_GEN_ALL, true, seq_reset},
    {"unknown_commands", KD_GEN_ALL, true, seq_unknown_commands},
    {"header_flags", KD_GEN_ALL, true, seq_header_flags},
    {"reply_type", KD_GEN_ALL, true, seq_reply_type},
    {"fds_on_fdless", KD_GEN_ALL, true, seq_fds_on_fdless},
    {"dma", KD_GEN_ALL, true, seq_dma},
    {"feature", KD_GEN_V2, true, seq_feature},
    {"legacy", KD_GEN_V1, true, seq_legacy},
};

/* Disagreements the kernel's vfio-pci or the spec explain; each names its
 * row of runtime/KERNEL.md. */
#define ALL KD_GEN_ALL
static const struct kd_expect expected[] = {
    {ALL, "before_version/then_version",
     "H3: the peer hangs up on a command before VERSION; we answer EINVAL "
     "and keep serving"},
    {ALL, "region_info/vga", "R4: vfio-pci refuses VGA on a non-VGA device"},
    {ALL, "irq_info/intx", "Q2: vfio-pci's MASKABLE|AUTOMASKED"},
    {ALL, "irq_info/msi", "Q3: vfio-pci's NORESIZE"},
    {ALL, "irq_info/msix", "Q3: vfio-pci's NORESIZE"},
    {ALL, "irq_info/req", "Q5: vfio-pci's NORESIZE"},
    {ALL, "irq_info/err", "Q4: no ERR interrupt without PCI Express"},
    {ALL, "irqs_err_req/err_install", "Q4: no ERR interrupt without PCIe"},
    {ALL, "irqs_intx/loopback_unset", "S7: INTx not enabled: EINVAL"},
    {ALL, "irqs_intx/unmask_unset", "S11: INTx not enabled: EINVAL"},
    {ALL, "irqs_eventfd_actions/unmask_eventfd",
     "S15: spec and kernel give INTx UNMASK+EVENTFD opposite meanings"},
    {ALL, "irqs_err_req/req_loopback_unset", "S9: no REQ eventfd: EINVAL"},
    {ALL, "irqs_err_req/req_mask", "S13: ENOTTY, no handler"},
    {ALL, "irqs_malformed/two_actions", "S5: ENOTTY, no handler"},
    {ALL, "irqs_malformed/no_action", "S5: ENOTTY, no handler"},
    {ALL, "irqs_malformed/unknown_flag", "S1: unknown flag bits: EINVAL"},
    {ALL, "region_rw/config_252_8", "A7: config past cfg_size: EFAULT"},
    {ALL, "region_rw/config_256_4", "A7: config past cfg_size: EFAULT"},
    {ALL, "region_rw/write_config_256", "A7: config past cfg_size: EFAULT"},
    {ALL, "region_rw/bar2_straddle", "A4: cut at the BAR's end"},
    {ALL, "unknown_commands/cmd_0", "H1: ENOSYS, as QEMU's client"},
    {ALL, "unknown_commands/cmd_11", "H1: ENOSYS, as QEMU's client"},
    {ALL, "unknown_commands/cmd_12", "H1: ENOSYS, as QEMU's client"},
    {ALL, "unknown_commands/cmd_19", "H1: ENOSYS, as QEMU's client"},
    {ALL, "unknown_commands/cmd_100", "H1: ENOSYS, as QEMU's client"},
    {ALL, "unknown_commands/cmd_65535", "H1: ENOSYS, as QEMU's client"},
    {ALL, "header_flags/reserved_bit", "H2: reserved flag bits: EINVAL"},
    {ALL, "header_flags/error_bit", "H2: the Error bit on a command"},
    {ALL, "dma/map_again", "M4: spec and kernel: EEXIST"},
    {ALL, "dma/map_overlap", "M4: spec and kernel: EEXIST"},
    {ALL, "dma/map_size_0", "M3: vfio_dma_do_map refuses size 0"},
    {ALL, "dma/map_unaligned", "M3: vfio_dma_do_map: whole pages"},
    {ALL, "dma/map_fd_past_end", "M9: a range the file does not back"},
    {ALL, "dma/map_two_fds", "M5: a map takes one fd"},
    {KD_GEN_V2, "feature/get_migration_argsz_8",
     "D6: spec's argsz rule: the header with the size needed"},
    {KD_GEN_V2, "feature/unknown_get", "D3: ENOTTY, as the kernel"},
    {KD_GEN_V2, "feature/unknown_probe", "D3: ENOTTY, as the kernel"},
    {KD_GEN_V2, "feature/log_report_unmapped",
     "D10: pages no map covers are clean"},
    {KD_GEN_V1, "legacy/mig_region_flags",
     "R8: vfio-pci sets FLAG_CAPS even when the chain does not fit"},
};

#define NR_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static void
run_against(enum kd_target t, unsigned gen)
{
    static struct kd_run ours, peer;
    bool seen[NR_EXPECTED] = {false};
    unsigned bad = 0, stale = 0;

    if (!kd_peer_present(t))
        cr_skip_test("libvfio-user's gpio sample not found under %s",
                     kd_peers_dir());
    for (unsigned i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++) {
        const struct kd_seq *s = &catalogue[i];

        if (!(s->gens & gen))
            continue;
        cr_assert_eq(kd_run_seq(s, KD_OURS, &ours), 0);
        cr_assert_eq(kd_run_seq(s, t, &peer), 0);
        bad += kd_compare(s, &ours, &peer, gen, expected, NR_EXPECTED, seen);
    }
    for (unsigned k = 0; k < NR_EXPECTED; k++) {
        if ((expected[k].gens & gen) && !seen[k]) {
            fprintf(stderr, "kdiff: expected disagreement %s no longer seen\n",
                    expected[k].what);
            stale++;
        }
    }
    cr_expect_eq(bad, 0, "%u new disagreements (listed above)", bad);
    cr_expect_eq(stale, 0, "%u stale expected disagreements", stale);
}

Test(kernel_diff, libvfio_user_v2, .timeout = 180)
{
    run_against(KD_PEER_V2, KD_GEN_V2);
}

Test(kernel_diff, libvfio_user_v1, .timeout = 180)
{
    run_against(KD_PEER_V1, KD_GEN_V1);
}
