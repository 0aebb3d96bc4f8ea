/* runtime/KERNEL.md, H1-H5: framing decisions, over a real socket. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "kernel_fixture.h"

static struct kfix k;

static void
setup(void)
{
    kfix_up(&k, false, false);
}

static void
teardown(void)
{
    kfix_down(&k);
}

TestSuite(kernel_header, .init = setup, .fini = teardown, .timeout = 30);

static void
assert_served(void)
{
    uint32_t id = 0;

    cr_assert_eq(kfix_read(&k, 0, TESTDEV_REG_ID, &id, 4, NULL), 0);
    cr_assert_eq(id, TESTDEV_ID_VALUE);
}

/* H1: QEMU's vfio-user client answers an unknown command with ENOSYS; so
 * do we (the kernel's unknown ioctl is ENOTTY). */
Test(kernel_header, unknown_command_enosys)
{
    static const uint16_t cmds[] = {0, 11, 12, 19, 100, 0xffff};

    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        cr_expect_eq(kfix_call(&k, cmds[i], NULL, 0, NULL, 0, NULL), -ENOSYS,
                     "cmd %u", cmds[i]);
    assert_served();
}

/* H2: reserved flag bits, the Error bit, a reply where a command belongs. */
Test(kernel_header, reserved_flags_refused)
{
    static const uint32_t flags[] = {1u << 6, 1u << 31, VFIO_USER_F_ERROR,
                                     VFIO_USER_F_TYPE_REPLY, 2};
    struct vfio_device_info di = {.argsz = 16};

    for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        struct raw_reply r;

        cr_assert_eq(raw_send_msg(k.fd, 40, VFIO_USER_DEVICE_GET_INFO, flags[i],
                                  &di, sizeof(di), NULL, 0),
                     0);
        cr_assert_eq(raw_recv(k.fd, &r), 0);
        cr_expect_eq(r.hdr.msg_id, 40);
        cr_expect_eq(r.hdr.error_no, EINVAL, "flags %#x", flags[i]);
        raw_reply_free(&r);
    }
    assert_served();
}

/* H3: before VERSION, every command gets EINVAL and the connection stays;
 * VERSION then works. */
Test(kernel_header, command_before_version)
{
    struct vfio_device_info di = {.argsz = 16};
    int fd = raw_connect(k.srv.path);

    close(k.fd); /* the server serves one client at a time */
    k.fd = fd;
    cr_assert_geq(fd, 0);
    cr_assert_eq(raw_call(fd, 2, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL),
                 -EINVAL);
    cr_assert_eq(raw_call(fd, 3, VFIO_USER_DEVICE_RESET, NULL, 0, NULL),
                 -EINVAL);
    cr_assert_eq(raw_negotiate(fd), 0);
    assert_served();
}

/* Every copy of fd got closed: the pipe's write end is gone. */
static void
assert_pipe_closed(int rd)
{
    struct pollfd p = {.fd = rd, .events = POLLIN};
    char c;

    cr_assert_eq(poll(&p, 1, 2000), 1);
    cr_assert_eq(read(rd, &c, 1), 0);
}

/* H4: fds on a message that takes none are closed and the message served. */
Test(kernel_header, fds_on_fdless_closed_and_served)
{
    struct vfio_device_info di = {.argsz = 16};
    struct vfio_region_info ri = {.argsz = 32, .index = 0};
    struct vfio_irq_info ii = {.argsz = 16};
    struct vfio_user_region_access a = {.region = 0, .count = 4};
    struct vfio_user_dma_unmap u = {.argsz = 24,
                                    .flags = VFIO_USER_F_DMA_UNMAP_ALL};
    struct {
        uint16_t cmd;
        const void *p;
        size_t len;
    } m[] = {
        {VFIO_USER_DEVICE_GET_INFO, &di, sizeof(di)},
        {VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri)},
        {VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii)},
        {VFIO_USER_REGION_READ, &a, sizeof(a)},
        {VFIO_USER_DEVICE_RESET, NULL, 0},
        {VFIO_USER_DMA_UNMAP, &u, sizeof(u)},
    };

    for (unsigned i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        int p[2], fds[3];

        cr_assert_eq(pipe(p), 0);
        fds[0] = fds[1] = fds[2] = p[1];
        cr_expect_eq(kfix_call(&k, m[i].cmd, m[i].p, m[i].len, fds, 3, NULL), 0,
                     "cmd %u", m[i].cmd);
        close(p[1]);
        assert_pipe_closed(p[0]);
        close(p[0]);
    }
    assert_served();
}

/* H5: bytes after a fixed-size request are ignored, as an ioctl reads its
 * minimum; the answer is the usual one. */
Test(kernel_header, trailing_bytes_ignored)
{
    uint8_t buf[64] = {0};
    struct vfio_device_info di = {.argsz = 16};
    struct vfio_region_info ri = {.argsz = 32, .index = 2};
    struct vfio_irq_info ii = {.argsz = 16};
    struct vfio_user_region_access a = {
        .offset = TESTDEV_REG_ID, .region = 0, .count = 4};
    struct raw_reply r;
    uint32_t v;

    memcpy(buf, &di, sizeof(di));
    cr_assert_eq(kfix_call(&k, VFIO_USER_DEVICE_GET_INFO, buf, 24, NULL, 0, &r),
                 0);
    cr_expect_eq(r.len, 16);
    raw_reply_free(&r);
    memcpy(buf, &ri, sizeof(ri));
    cr_assert_eq(
        kfix_call(&k, VFIO_USER_DEVICE_GET_REGION_INFO, buf, 40, NULL, 0, &r),
        0);
    cr_expect_eq(((struct vfio_region_info *)r.payload)->size,
                 TESTDEV_BAR2_SIZE);
    raw_reply_free(&r);
    memcpy(buf, &ii, sizeof(ii));
    cr_assert_eq(
        kfix_call(&k, VFIO_USER_DEVICE_GET_IRQ_INFO, buf, 20, NULL, 0, NULL),
        0);
    memset(buf, 0xee, sizeof(buf));
    memcpy(buf, &a, sizeof(a));
    cr_assert_eq(kfix_call(&k, VFIO_USER_REGION_READ, buf, 24, NULL, 0, &r), 0);
    cr_assert_eq(r.len, sizeof(a) + 4);
    memcpy(&v, r.payload + sizeof(a), 4);
    cr_expect_eq(v, TESTDEV_ID_VALUE);
    raw_reply_free(&r);
    cr_assert_eq(kfix_call(&k, VFIO_USER_DEVICE_RESET, buf, 8, NULL, 0, NULL),
                 0);
    assert_served();
}

/* Whether a fresh connection offering write_multiple has it accepted;
 * a REGION_WRITE_MULTI is served either way. */
static bool
write_multiple_accepted(void)
{
    struct vfio_user_write_multi_entry e = {.offset = TESTDEV_REG_SCRATCH,
                                            .region = 0,
                                            .count = 4,
                                            .data = {0x78, 0x56, 0x34, 0x12}};
    uint8_t buf[sizeof(uint64_t) + sizeof(e)];
    struct raw_reply r;
    uint64_t one = 1;
    uint32_t back = 0;
    bool on;

    close(k.fd);
    k.fd = raw_connect(k.srv.path);
    cr_assert_geq(k.fd, 0);
    cr_assert_eq(
        raw_version(k.fd, "{\"capabilities\":{\"write_multiple\":true}}", &r),
        0);
    on = strstr((const char *)r.payload + sizeof(struct vfio_user_version),
                "\"write_multiple\"") != NULL;
    raw_reply_free(&r);
    memcpy(buf, &one, sizeof(one));
    memcpy(buf + sizeof(one), &e, sizeof(e));
    cr_assert_eq(kfix_call(&k, VFIO_USER_REGION_WRITE_MULTI, buf, sizeof(buf),
                           NULL, 0, NULL),
                 0);
    cr_assert_eq(kfix_read(&k, 0, TESTDEV_REG_SCRATCH, &back, 4, NULL), 0);
    cr_assert_eq(back, 0x12345678u);
    return on;
}

/* X2: QEMU 10.1/10.2 queue every message for their I/O thread once
 * write_multiple is accepted, so it is accepted only when asked for. */
Test(kernel_header, write_multiple_only_when_asked)
{
    cr_expect(!write_multiple_accepted());
    vdev_set_write_multiple(k.srv.dev, true);
    cr_expect(write_multiple_accepted());
}
