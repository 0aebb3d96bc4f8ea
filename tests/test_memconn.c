/* The memory connection (server/memconn.c): a client without a socket is
 * served by the same framing, dispatch and replies as a socket's; fds ride
 * with the send that carries them and are closed with the connection;
 * requests to the client (message-based DMA) are answered from the peer
 * function; EOF drops the client. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "device/device.h"
#include "dma_fixture.h"
#include "server/server.h"
#include "testdev.h"

#define HDR ((uint32_t)sizeof(struct vfio_user_header))

/* What the server sent, as the client side sees it. */
struct peer_log {
    uint8_t buf[1 << 20];
    size_t len;
    int fds[8];
    unsigned nr_fds;
    unsigned calls;
    /* Requests to the client: answer DMA_READ with this byte pattern. */
    uint8_t dma_fill;
    bool answer;
    unsigned requests;
    size_t room; /* bytes the client takes before it is "full" */
    bool gone;   /* the client has closed: sends fail with EPIPE */
};

static ssize_t
peer_recv(void *opaque, struct vdev_conn *c, const uint8_t *buf, size_t len,
          const int *fds, unsigned nr_fds)
{
    struct peer_log *l = opaque;
    struct vfio_user_header h;

    l->calls++;
    if (l->gone)
        return -EPIPE;
    if (l->room < len) {
        /* A full socket: take what fits, whole messages or not. */
        if (!l->room)
            return 0;
        len = l->room;
    }
    if (l->room != SIZE_MAX)
        l->room -= len;
    for (unsigned i = 0; i < nr_fds && l->nr_fds < 8; i++)
        l->fds[l->nr_fds++] = dup(fds[i]);
    memcpy(&h, buf, sizeof(h));
    if (!(h.flags & VFIO_USER_F_TYPE_REPLY) && h.cmd == VFIO_USER_DMA_READ) {
        /* The spec's layout: address, 64-bit count, then the data. */
        uint8_t out[HDR + 16 + 256];
        struct vfio_user_dma_access a;
        struct vfio_user_header r = h;

        l->requests++;
        if (!l->answer)
            return (ssize_t)len;
        memcpy(&a, buf + HDR, sizeof(a));
        cr_assert_leq(a.count, 256);
        r.flags = VFIO_USER_F_TYPE_REPLY;
        r.msg_size = HDR + 16 + (uint32_t)a.count;
        memcpy(out, &r, HDR);
        memcpy(out + HDR, &a, 16);
        memset(out + HDR + 16, l->dma_fill, a.count);
        cr_assert_eq(vdev_mem_send(c, out, r.msg_size, NULL, 0), 0);
        return (ssize_t)len;
    }
    cr_assert_leq(l->len + len, sizeof(l->buf));
    memcpy(l->buf + l->len, buf, len);
    l->len += len;
    return (ssize_t)len;
}

static void *ctx;
static struct testdev td;
static struct vdev_dev *dev;
static struct peer_log *log_;

static void
setup(void)
{
    const struct vdev_mem_peer peer = {.recv = peer_recv};

    ctx = talloc_new(NULL);
    dev = testdev_create(ctx, &td);
    cr_assert_not_null(dev);
    /* The peer answers DMA in the spec's layout (no probe to answer). */
    cr_assert_eq(vdev_set_dma_layout(dev, VDEV_DMA_LAYOUT_SPEC), 0);
    log_ = talloc_zero(ctx, struct peer_log);
    log_->room = SIZE_MAX;
    struct vdev_mem_peer p = peer;
    p.opaque = log_;
    cr_assert_eq(vdev_mem_adopt(dev, &p), 0);
    cr_assert_not_null(dev->srv->conn);
}

static void
teardown(void)
{
    for (unsigned i = 0; i < log_->nr_fds; i++)
        close(log_->fds[i]);
    talloc_free(ctx);
}

TestSuite(memconn, .init = setup, .fini = teardown, .timeout = 30);

static size_t
put_msg(uint8_t *out, uint16_t id, uint16_t cmd, const void *body, uint32_t len)
{
    struct vfio_user_header h = {
        .msg_id = id,
        .cmd = cmd,
        .msg_size = HDR + len,
    };

    memcpy(out, &h, HDR);
    if (len)
        memcpy(out + HDR, body, len);
    return HDR + len;
}

static size_t
put_version(uint8_t *out, uint16_t id)
{
    static const char caps[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
    uint8_t body[4 + sizeof(caps)];
    struct vfio_user_version v = {.major = 0, .minor = 1};

    memcpy(body, &v, 4);
    memcpy(body + 4, caps, sizeof(caps));
    return put_msg(out, id, VFIO_USER_VERSION, body, sizeof(body));
}

static size_t
put_read(uint8_t *out, uint16_t id, uint32_t region, uint64_t off,
         uint32_t count)
{
    struct vfio_user_region_access a = {
        .offset = off, .region = region, .count = count};

    return put_msg(out, id, VFIO_USER_REGION_READ, &a, sizeof(a));
}

/* The reply at *off in the log: checks framing, returns its header. */
static struct vfio_user_header
next_reply(size_t *off)
{
    struct vfio_user_header h;

    cr_assert_geq(log_->len - *off, HDR, "no reply left");
    memcpy(&h, log_->buf + *off, HDR);
    cr_assert(h.flags & VFIO_USER_F_TYPE_REPLY);
    cr_assert_geq(h.msg_size, HDR);
    cr_assert_leq(h.msg_size, log_->len - *off);
    *off += h.msg_size;
    return h;
}

static void
send_all(const uint8_t *buf, size_t len, int *fds, unsigned nr_fds)
{
    cr_assert_eq(vdev_mem_send(dev->srv->conn, buf, len, fds, nr_fds), 0);
    cr_assert_eq(vdev_conn_serve(dev, false), 0);
}

static void
negotiate(void)
{
    uint8_t m[256];
    size_t off = 0;
    struct vfio_user_header h;

    send_all(m, put_version(m, 1), NULL, 0);
    h = next_reply(&off);
    cr_assert_eq(h.cmd, VFIO_USER_VERSION);
    cr_assert_eq(h.error_no, 0);
    log_->len = 0;
}

Test(memconn, serves_messages_as_a_socket_would)
{
    uint8_t m[1024];
    size_t n, off = 0;
    struct vfio_user_header h;
    uint32_t id;

    negotiate();
    /* Two messages in one send, a third split over two sends. */
    n = put_read(m, 2, 0, TESTDEV_REG_ID, 4);
    n += put_msg(m + n, 3, VFIO_USER_DEVICE_RESET, NULL, 0);
    n += put_read(m + n, 4, 0, TESTDEV_REG_ID, 4);
    send_all(m, n - 10, NULL, 0);
    h = next_reply(&off);
    cr_assert_eq(h.msg_id, 2);
    memcpy(&id, log_->buf + off - 4, 4);
    cr_assert_eq(id, TESTDEV_ID_VALUE);
    h = next_reply(&off);
    cr_assert_eq(h.msg_id, 3);
    cr_assert_eq(off, log_->len, "the split message is not served yet");
    send_all(m + n - 10, 10, NULL, 0);
    h = next_reply(&off);
    cr_assert_eq(h.msg_id, 4);
    cr_assert_eq(h.error_no, 0);
    cr_assert_eq(dev->stats.messages, 4);
}

Test(memconn, bad_sizes_are_answered_and_framing_kept)
{
    uint8_t m[256];
    struct vfio_user_header bad = {.msg_id = 9, .cmd = 2, .msg_size = 3};
    size_t n, off = 0;
    struct vfio_user_header h;

    negotiate();
    memcpy(m, &bad, HDR);
    n = HDR + put_read(m + HDR, 10, 0, TESTDEV_REG_ID, 4);
    send_all(m, n, NULL, 0);
    h = next_reply(&off);
    cr_assert_eq(h.msg_id, 9);
    cr_assert_eq(h.error_no, EINVAL);
    h = next_reply(&off);
    cr_assert_eq(h.msg_id, 10);
    cr_assert_eq(h.error_no, 0);
}

Test(memconn, fds_ride_with_their_send_and_close_with_the_conn)
{
    struct {
        struct vfio_irq_set s;
    } body = {{
        .argsz = sizeof(struct vfio_irq_set),
        .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        .index = VFIO_PCI_INTX_IRQ_INDEX,
        .start = 0,
        .count = 1,
    }};
    uint8_t m[256];
    size_t n, off = 0;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int stray = eventfd(0, EFD_CLOEXEC);
    int fds[1];
    struct vfio_user_header h;

    negotiate();
    /* A read first, in the same send: the fd belongs to the message
     * holding the send's last byte, SET_IRQS. */
    n = put_read(m, 5, 0, TESTDEV_REG_ID, 4);
    n += put_msg(m + n, 6, VFIO_USER_DEVICE_SET_IRQS, &body, sizeof(body));
    fds[0] = efd;
    send_all(m, n, fds, 1);
    h = next_reply(&off);
    cr_assert_eq(h.msg_id, 5);
    cr_assert_eq(h.error_no, 0);
    h = next_reply(&off);
    cr_assert_eq(h.msg_id, 6);
    cr_assert_eq(h.error_no, 0);
    cr_assert_eq(dev->irqs.index[VFIO_PCI_INTX_IRQ_INDEX].trigger_fd[0], efd);

    /* An fd on a message that takes none is closed; the message served. */
    n = put_read(m, 7, 0, TESTDEV_REG_ID, 4);
    fds[0] = stray;
    send_all(m, n, fds, 1);
    h = next_reply(&off);
    cr_assert_eq(h.msg_id, 7);
    cr_assert_not(fd_is_open(stray));

    /* The client goes: its IRQ fd is closed. */
    vdev_mem_shutdown(dev->srv->conn);
    cr_assert_eq(vdev_conn_serve(dev, true), -ECONNRESET);
    cr_assert_null(dev->srv->conn);
    cr_assert_not(fd_is_open(efd));
}

Test(memconn, unread_fds_are_closed_with_the_conn)
{
    uint8_t m[64];
    int efd = eventfd(0, EFD_CLOEXEC);
    int fds[1] = {efd};

    cr_assert_eq(
        vdev_mem_send(dev->srv->conn, m, put_read(m, 1, 0, 0, 4), fds, 1), 0);
    cr_assert(fd_is_open(efd));
    vdev_conn_close(dev);
    cr_assert_not(fd_is_open(efd));
}

Test(memconn, dma_requests_are_answered_by_the_peer)
{
    struct vfio_user_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .addr = 0x100000,
        .size = 0x10000,
    };
    uint8_t m[256], buf[64];
    size_t off = 0;
    struct vfio_user_header h;

    negotiate();
    send_all(m, put_msg(m, 8, VFIO_USER_DMA_MAP, &map, sizeof(map)), NULL, 0);
    h = next_reply(&off);
    cr_assert_eq(h.error_no, 0);

    log_->answer = true;
    log_->dma_fill = 0x5a;
    cr_assert_eq(vdev_dma_read(dev, 0x100010, buf, sizeof(buf)), 0);
    cr_assert_eq(log_->requests, 1);
    for (size_t i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], 0x5a);

    /* A client that does not answer: the request fails at once (nothing
     * can arrive while the server waits), it does not hang. */
    log_->answer = false;
    cr_assert_eq(vdev_dma_read(dev, 0x100010, buf, sizeof(buf)), -ETIMEDOUT);
    cr_assert_eq(log_->requests, 2);
}

Test(memconn, version_twin_socket_fd_reaches_the_peer)
{
    static const char caps[] =
        "{\"capabilities\":{\"twin_socket\":{\"supported\":true}}}";
    uint8_t body[4 + sizeof(caps)], m[256];
    struct vfio_user_version v = {.major = 0, .minor = 1};
    size_t off = 0;
    struct vfio_user_header h;
    int type = 0;
    socklen_t tlen = sizeof(type);

    memcpy(body, &v, 4);
    memcpy(body + 4, caps, sizeof(caps));
    send_all(m, put_msg(m, 1, VFIO_USER_VERSION, body, sizeof(body)), NULL, 0);
    h = next_reply(&off);
    cr_assert_eq(h.error_no, 0);
    cr_assert_eq(log_->nr_fds, 1);
    cr_assert_eq(getsockopt(log_->fds[0], SOL_SOCKET, SO_TYPE, &type, &tlen),
                 0);
    cr_assert_eq(type, SOCK_STREAM);
}

Test(memconn, a_second_client_is_refused)
{
    const struct vdev_mem_peer peer = {.recv = peer_recv, .opaque = log_};

    cr_assert_eq(vdev_mem_adopt(dev, &peer), -EBUSY);
    cr_assert_eq(vdev_mem_adopt(dev, NULL), -EINVAL);
}

Test(memconn, a_full_client_pauses_input_until_it_reads)
{
    uint8_t m[200 * 32];
    size_t n = 0, off = 0;
    uint64_t served;
    struct vfio_user_header h;

    negotiate();
    /* 200 replies of 4 KiB: the server stops reading once 256 KiB of
     * them wait for a client that takes 1000 bytes. */
    for (unsigned i = 0; i < 200; i++)
        n += put_read(m + n, (uint16_t)(100 + i), 2, 0, 4096);
    log_->room = 1000;
    cr_assert_eq(vdev_mem_send(dev->srv->conn, m, n, NULL, 0), 0);
    cr_assert_eq(vdev_conn_serve(dev, false), 0);
    cr_assert(dev->srv->conn->out_blocked, "the server did not wait");
    served = dev->stats.messages;
    cr_assert_lt(served, 201, "it read on while blocked (%llu served)",
                 (unsigned long long)served);
    cr_assert_eq(log_->len, 1000);
    cr_assert_eq(vdev_conn_serve(dev, false), 0);
    cr_assert_eq(dev->stats.messages, served, "served while still full");

    /* The client reads: everything is served, in order. */
    log_->room = SIZE_MAX;
    cr_assert_eq(vdev_conn_serve(dev, false), 0);
    cr_assert_not(dev->srv->conn->out_blocked);
    cr_assert_eq(dev->stats.messages, 201);
    for (unsigned i = 0; i < 200; i++) {
        h = next_reply(&off);
        cr_assert_eq(h.msg_id, (uint16_t)(100 + i));
        cr_assert_eq(h.error_no, 0);
    }

    /* Full again, then gone: the server drops it. */
    log_->room = 0;
    cr_assert_eq(vdev_mem_send(dev->srv->conn, m, n, NULL, 0), 0);
    cr_assert_eq(vdev_conn_serve(dev, false), 0);
    cr_assert(dev->srv->conn->out_blocked);
    log_->gone = true;
    vdev_mem_shutdown(dev->srv->conn);
    cr_assert_eq(vdev_conn_serve(dev, true), -EPIPE);
    cr_assert_null(dev->srv->conn);
}

Test(memconn, a_long_turn_is_served_to_the_end)
{
    uint8_t m[64];
    size_t off = 0;
    struct vfio_user_header h;

    negotiate();
    /* Each send carries an fd, so each ends a read: more sends than one
     * turn of the loop reads, all served by one call. */
    for (unsigned i = 0; i < 300; i++) {
        int fd = eventfd(0, EFD_CLOEXEC);

        cr_assert_eq(vdev_mem_send(dev->srv->conn, m,
                                   put_read(m, (uint16_t)i, 0, 0, 4), &fd, 1),
                     0);
    }
    cr_assert_eq(vdev_conn_serve(dev, false), 0);
    for (unsigned i = 0; i < 300; i++) {
        h = next_reply(&off);
        cr_assert_eq(h.msg_id, i);
    }
    cr_assert_eq(off, log_->len);
}
