/* Each class of bad input gets an error reply with a fitting errno, and the
 * next valid message on the same connection is served. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/device.h"
#include "rawsock.h"
#include "proto_fixture.h"
#include "testdev.h"

static struct testsrv srv;
static int fd = -1;

static void
setup(void)
{
    proto_fixture_up(&srv, &fd, false, false);
}

static void
setup_negotiated(void)
{
    setup();
    cr_assert_eq(raw_negotiate(fd), 0);
}

static void
teardown(void)
{
    proto_fixture_down(&srv, &fd);
}

/* The next valid message is served: the scratch register round-trips. */
static void
assert_served(void)
{
    uint32_t v = 0x5a5a0000u + (uint32_t)rand() % 0xffff, back = 0;

    cr_assert_eq(raw_region_write(fd, 0, TESTDEV_REG_SCRATCH, &v, 4), 0);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_SCRATCH, &back, 4), 0);
    cr_assert_eq(back, v);
}

static int
read_req(uint32_t region, uint64_t offset, uint32_t count)
{
    struct vfio_user_region_access a = {
        .offset = offset, .region = region, .count = count};
    return raw_call(fd, 42, VFIO_USER_REGION_READ, &a, sizeof(a), NULL);
}

TestSuite(proto_errors, .init = setup_negotiated, .fini = teardown,
          .timeout = 30);

Test(proto_errors, unknown_command)
{
    cr_assert_eq(raw_call(fd, 3, 99, NULL, 0, NULL), -ENOSYS);
    assert_served();
    cr_assert_eq(raw_call(fd, 4, 0xffff, "abcd", 4, NULL), -ENOSYS);
    /* server->client commands have no handler here */
    cr_assert_eq(raw_call(fd, 5, VFIO_USER_DMA_READ, NULL, 0, NULL), -ENOSYS);
    assert_served();
}

Test(proto_errors, short_header)
{
    struct vfio_user_header h = {
        .msg_id = 9, .cmd = VFIO_USER_DEVICE_RESET, .msg_size = 8};
    struct raw_reply r;

    cr_assert_eq(raw_send(fd, &h, sizeof(h), NULL, 0), 0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.msg_id, 9);
    cr_assert(r.hdr.flags & VFIO_USER_F_ERROR);
    cr_assert_eq(r.hdr.error_no, EINVAL);
    cr_assert_eq(r.hdr.msg_size, 16);
    raw_reply_free(&r);
    h.msg_size = 0;
    cr_assert_eq(raw_send(fd, &h, sizeof(h), NULL, 0), 0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.error_no, EINVAL);
    raw_reply_free(&r);
    assert_served();
}

Test(proto_errors, msg_size_mismatch)
{
    struct {
        struct vfio_user_region_access a;
        uint8_t data[8];
    } __attribute__((packed)) m = {
        .a = {.offset = TESTDEV_REG_SCRATCH, .region = 0, .count = 4},
    };
    uint32_t v = 0;

    memset(m.data, 0xee, sizeof(m.data));
    /* 8 bytes of data for a count of 4 */
    cr_assert_eq(raw_call(fd, 5, VFIO_USER_REGION_WRITE, &m, sizeof(m), NULL),
                 -EINVAL);
    /* 2 bytes for a count of 4 */
    cr_assert_eq(
        raw_call(fd, 6, VFIO_USER_REGION_WRITE, &m, sizeof(m.a) + 2, NULL),
        -EINVAL);
    /* a read carrying data: the bytes after the request are ignored, as an
     * ioctl reads its fixed part (runtime/KERNEL.md, H5) */
    cr_assert_eq(raw_call(fd, 7, VFIO_USER_REGION_READ, &m, sizeof(m), NULL),
                 0);
    /* the rejected writes changed nothing */
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_SCRATCH, &v, 4), 0);
    cr_assert_eq(v, 0);
    assert_served();
}

Test(proto_errors, region_info_argsz_too_small)
{
    struct vfio_region_info ri = {.argsz = sizeof(ri), .index = 2};
    struct vfio_region_info out;
    struct raw_reply r;

    cr_assert_eq(
        raw_call(fd, 5, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), &r),
        0);
    cr_assert_eq(r.len, sizeof(out));
    memcpy(&out, r.payload, sizeof(out));
    /* the fixed part plus a sparse-mmap cap with one area */
    cr_assert_eq(out.argsz,
                 sizeof(out) + sizeof(struct vfio_region_info_cap_sparse_mmap) +
                     sizeof(struct vfio_region_sparse_mmap_area));
    cr_assert_eq(out.cap_offset, 0);
    cr_assert(out.flags & VFIO_REGION_INFO_FLAG_CAPS);
    cr_assert_eq(out.size, TESTDEV_BAR2_SIZE);
    raw_reply_free(&r);
    /* below the fixed part: nothing to answer with */
    ri.argsz = 16;
    cr_assert_eq(raw_call(fd, 6, VFIO_USER_DEVICE_GET_REGION_INFO, &ri,
                          sizeof(ri), NULL),
                 -EINVAL);
    /* a short body */
    cr_assert_eq(
        raw_call(fd, 7, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 8, NULL),
        -EINVAL);
    assert_served();
}

Test(proto_errors, unknown_region)
{
    uint32_t v;
    struct vfio_region_info ri = {.argsz = sizeof(ri), .index = 8}; /* VGA */

    cr_assert_eq(read_req(5, 0, 4), -EINVAL);  /* absent BAR */
    cr_assert_eq(read_req(3, 0, 4), -EINVAL);  /* upper half of BAR2 */
    cr_assert_eq(read_req(10, 0, 4), -EINVAL); /* past the typed region */
    cr_assert_eq(read_req(0xffffffffu, 0, 4), -EINVAL);
    cr_assert_eq(raw_region_write(fd, 200, 0, &v, 4), -EINVAL);
    cr_assert_eq(raw_call(fd, 8, VFIO_USER_DEVICE_GET_REGION_INFO, &ri,
                          sizeof(ri), NULL),
                 -EINVAL);
    assert_served();
}

/* As vfio-pci (runtime/KERNEL.md, A3, A4, A7): at or past a BAR's end is
 * EINVAL, an access running past it is cut there, config space past its
 * size (256 bytes here) is EFAULT. */
Test(proto_errors, past_region_end)
{
    uint32_t v = 0;
    struct vfio_user_region_access a = {
        .offset = TESTDEV_BAR0_SIZE - 2, .region = 0, .count = 4};
    struct raw_reply r;

    cr_assert_eq(raw_call(fd, 9, VFIO_USER_REGION_READ, &a, sizeof(a), &r), 0);
    cr_assert_eq(r.len, sizeof(a) + 2);
    memcpy(&a, r.payload, sizeof(a));
    cr_assert_eq(a.count, 2);
    raw_reply_free(&r);
    cr_assert_eq(read_req(0, TESTDEV_BAR0_SIZE, 1), -EINVAL);
    cr_assert_eq(read_req(2, TESTDEV_BAR2_SIZE - 4, 8), 0);
    /* offset + count wraps around 2^64 */
    cr_assert_eq(read_req(0, UINT64_MAX - 1, 4), -EINVAL);
    cr_assert_eq(read_req(VDEV_CONFIG_INDEX, 4095, 2), -EFAULT);
    cr_assert_eq(read_req(VDEV_CONFIG_INDEX, 255, 2), -EFAULT);
    cr_assert_eq(raw_region_write(fd, 0, UINT64_MAX, &v, 4), -EINVAL);
    /* the last bytes are fine */
    cr_assert_eq(read_req(0, TESTDEV_BAR0_SIZE - 4, 4), 0);
    assert_served();
}

Test(proto_errors, count_limits)
{
    cr_assert_eq(read_req(2, 0, VDEV_MAX_DATA_XFER + 1), -EINVAL);
    cr_assert_eq(read_req(2, 0, 0), 0); /* vfio-pci: nothing read, 0 */
    cr_assert_eq(read_req(2, 0, UINT32_MAX), -EINVAL);
    assert_served();
}

Test(proto_errors, oversized_message_skipped)
{
    size_t size = VDEV_MAX_MSG_SIZE + 8192;
    uint8_t *buf = calloc(1, size);
    struct vfio_user_header h = {.msg_id = 77,
                                 .cmd = VFIO_USER_REGION_WRITE,
                                 .msg_size = (uint32_t)size};
    struct raw_reply r;

    cr_assert_not_null(buf);
    /* the body looks like headers, to catch a server that re-frames it */
    for (size_t o = sizeof(h); o + 16 <= size; o += 16) {
        struct vfio_user_header junk = {.cmd = 99, .msg_size = 16};
        memcpy(buf + o, &junk, sizeof(junk));
    }
    memcpy(buf, &h, sizeof(h));
    cr_assert_eq(raw_send(fd, buf, size, NULL, 0), 0);
    free(buf);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.msg_id, 77);
    cr_assert_eq(r.hdr.error_no, EMSGSIZE);
    raw_reply_free(&r);
    assert_served();
}

Test(proto_errors, fds_on_message_taking_none)
{
    int p[2], fds[3];
    char c;
    uint32_t v;
    struct vfio_user_region_access a = {.offset = 0, .region = 0, .count = 4};
    struct raw_reply r;
    struct pollfd pfd;

    cr_assert_eq(pipe(p), 0);
    fds[0] = fds[1] = fds[2] = p[1];
    cr_assert_eq(
        raw_send_msg(fd, 11, VFIO_USER_REGION_READ, 0, &a, sizeof(a), fds, 3),
        0);
    close(p[1]);
    /* served (runtime/KERNEL.md, H4) */
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.msg_id, 11);
    cr_assert_eq(r.hdr.error_no, 0);
    cr_assert_eq(r.len, sizeof(a) + 4);
    raw_reply_free(&r);
    /* every copy was closed: the pipe reports EOF */
    pfd.fd = p[0];
    pfd.events = POLLIN;
    cr_assert_eq(poll(&pfd, 1, 2000), 1);
    cr_assert_eq(read(p[0], &c, 1), 0);
    close(p[0]);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_ID, &v, 4), 0);
    cr_assert_eq(v, TESTDEV_ID_VALUE);
    assert_served();
}

/* A SET_IRQS carrying more fds than max_msg_fds (a command that takes none
 * would be served, its fds closed). */
static const struct vfio_irq_set intx_set = {
    .argsz = sizeof(struct vfio_irq_set),
    .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
    .index = VFIO_PCI_INTX_IRQ_INDEX,
    .count = 1,
};

Test(proto_errors, too_many_fds)
{
    int fds[VDEV_MAX_MSG_FDS + 4];
    int p[2];
    char c;

    cr_assert_eq(pipe(p), 0);
    for (unsigned i = 0; i < VDEV_MAX_MSG_FDS + 4; i++)
        fds[i] = p[1];
    cr_assert_eq(raw_send_msg(fd, 12, VFIO_USER_DEVICE_SET_IRQS, 0, &intx_set,
                              sizeof(intx_set), fds, VDEV_MAX_MSG_FDS + 4),
                 0);
    close(p[1]);
    struct raw_reply r;
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.error_no, EINVAL);
    raw_reply_free(&r);
    cr_assert_eq(read(p[0], &c, 1), 0);
    close(p[0]);
    assert_served();
}

Test(proto_errors, reply_type_and_reserved_flags)
{
    struct raw_reply r;

    cr_assert_eq(raw_send_msg(fd, 13, VFIO_USER_DEVICE_RESET,
                              VFIO_USER_F_TYPE_REPLY, NULL, 0, NULL, 0),
                 0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.error_no, EINVAL);
    raw_reply_free(&r);
    cr_assert_eq(
        raw_send_msg(fd, 14, VFIO_USER_DEVICE_RESET, 1u << 9, NULL, 0, NULL, 0),
        0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.msg_id, 14);
    cr_assert_eq(r.hdr.error_no, EINVAL);
    raw_reply_free(&r);
    assert_served();
}

Test(proto_errors, no_reply_error_is_silent)
{
    struct vfio_user_region_access a = {.offset = 0, .region = 5, .count = 4};
    uint32_t v;

    cr_assert_eq(raw_send_msg(fd, 15, VFIO_USER_REGION_READ,
                              VFIO_USER_F_NO_REPLY, &a, sizeof(a), NULL, 0),
                 0);
    /* the first reply seen is the one for the next message */
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_ID, &v, 4), 0);
    cr_assert_eq(v, TESTDEV_ID_VALUE);
}

TestSuite(proto_errors_pre, .init = setup, .fini = teardown, .timeout = 30);

Test(proto_errors_pre, message_before_version)
{
    struct vfio_device_info di = {.argsz = 16};
    struct vfio_user_region_access a = {.offset = 0, .region = 0, .count = 4};

    cr_assert_eq(raw_call(fd, 2, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL),
                 -EINVAL);
    cr_assert_eq(raw_call(fd, 3, VFIO_USER_REGION_READ, &a, sizeof(a), NULL),
                 -EINVAL);
    cr_assert_eq(raw_negotiate(fd), 0);
    assert_served();
}

/* More fds than the server's ancillary buffer holds: the kernel truncates
 * them (MSG_CTRUNC); the server closes what arrived and fails a message
 * that takes fds. */
Test(proto_errors, truncated_fds)
{
    enum { N = VDEV_MAX_MSG_FDS * 4 + 20 };
    int fds[N], p[2];
    struct raw_reply r;
    struct pollfd pfd;
    char c;

    cr_assert_eq(pipe(p), 0);
    for (unsigned i = 0; i < N; i++)
        fds[i] = p[1];
    cr_assert_eq(raw_send_msg(fd, 16, VFIO_USER_DEVICE_SET_IRQS, 0, &intx_set,
                              sizeof(intx_set), fds, N),
                 0);
    close(p[1]);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.msg_id, 16);
    cr_assert_eq(r.hdr.error_no, EINVAL);
    raw_reply_free(&r);
    pfd.fd = p[0];
    pfd.events = POLLIN;
    cr_assert_eq(poll(&pfd, 1, 2000), 1);
    cr_assert_eq(read(p[0], &c, 1), 0);
    close(p[0]);
    assert_served();
}

/* fds go with the message they were sent with, even when the messages
 * around it arrive without waiting for replies: the middle one, a SET_IRQS
 * with bools, refuses its fd; the reads around it serve whatever they get. */
Test(proto_errors, fds_stay_with_their_message)
{
    struct vfio_user_region_access a = {
        .offset = TESTDEV_REG_ID, .region = 0, .count = 4};
    struct {
        struct vfio_irq_set s;
        uint8_t b;
    } __attribute__((packed))
    bset = {{.argsz = sizeof(bset),
             .flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
             .index = VFIO_PCI_REQ_IRQ_INDEX,
             .count = 1},
            0};
    int efd = dup(0), expect[3] = {0, EINVAL, 0};

    cr_assert_geq(efd, 0);
    cr_assert_eq(
        raw_send_msg(fd, 21, VFIO_USER_REGION_READ, 0, &a, sizeof(a), NULL, 0),
        0);
    cr_assert_eq(raw_send_msg(fd, 22, VFIO_USER_DEVICE_SET_IRQS, 0, &bset,
                              sizeof(bset), &efd, 1),
                 0);
    cr_assert_eq(
        raw_send_msg(fd, 23, VFIO_USER_REGION_READ, 0, &a, sizeof(a), NULL, 0),
        0);
    close(efd);
    for (unsigned i = 0; i < 3; i++) {
        struct raw_reply r;
        cr_assert_eq(raw_recv(fd, &r), 0);
        cr_assert_eq(r.hdr.msg_id, 21 + i);
        cr_assert_eq(r.hdr.error_no, (uint32_t)expect[i], "message %u", i);
        raw_reply_free(&r);
    }
    assert_served();
}
