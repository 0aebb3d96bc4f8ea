/* Message-based DMA (maps without an fd): vdev_dma_read/write through
 * vdev_conn_request, with a thread on a socketpair playing the client, in
 * both DMA_READ/WRITE layouts, on the main socket and on the twin socket. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sys/socket.h>

#include "dma_fixture.h"

#define GUEST_BASE 0x80000000ull
#define GUEST_SIZE (64 * 1024)

enum fake_mode {
    FAKE_OK,
    FAKE_INTERLEAVE, /* a client command first, then the reply in pieces */
    FAKE_ERROR,      /* error reply, EFAULT */
    FAKE_WRONG_CMD,
    FAKE_WRONG_COUNT,
    FAKE_HANGUP,
};

struct fake_client {
    int fd;
    bool qemu;
    enum fake_mode mode;
    unsigned max_requests;
    uint8_t mem[GUEST_SIZE];
    unsigned requests;
    unsigned replies_seen; /* server replies met before a request */
    uint64_t max_count;
    bool bad_request;
};

static bool
read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = recv(fd, p, len, 0);

        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void
write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

static void
send_reply(struct fake_client *f, const struct vfio_user_header *req,
           const void *payload, size_t len)
{
    static uint8_t out[sizeof(struct vfio_user_header) + 16 + GUEST_SIZE];
    struct vfio_user_header h = {
        .msg_id = req->msg_id,
        .cmd = f->mode == FAKE_WRONG_CMD ? 4 : req->cmd,
        .msg_size = (uint32_t)(sizeof(h) + len),
        .flags = VFIO_USER_F_TYPE_REPLY,
    };

    if (f->mode == FAKE_ERROR) {
        h.msg_size = sizeof(h);
        h.flags |= VFIO_USER_F_ERROR;
        h.error_no = EFAULT;
        len = 0;
    }
    memcpy(out, &h, sizeof(h));
    memcpy(out + sizeof(h), payload, len);
    if (f->mode == FAKE_INTERLEAVE) {
        /* A client command the server must leave for its dispatcher. */
        struct {
            struct vfio_user_header h;
            uint32_t argsz, flags, nr, ni;
        } __attribute__((packed)) cmd = {
            .h = {.msg_id = 77,
                  .cmd = VFIO_USER_DEVICE_GET_INFO,
                  .msg_size = 32,
                  .flags = VFIO_USER_F_TYPE_COMMAND},
            .argsz = 16,
        };
        size_t half = (sizeof(h) + len) / 2;

        write_full(f->fd, &cmd, sizeof(cmd));
        write_full(f->fd, out, 5);
        usleep(2000);
        write_full(f->fd, out + 5, half - 5);
        usleep(2000);
        write_full(f->fd, out + half, sizeof(h) + len - half);
        return;
    }
    write_full(f->fd, out, sizeof(h) + len);
}

static void *
fake_client_run(void *arg)
{
    struct fake_client *f = arg;
    static uint8_t body[16 + GUEST_SIZE];

    while (f->requests < f->max_requests) {
        struct vfio_user_header h;
        /* QEMU 10.2 (hw/vfio-user/pci.c) sizes these messages with sizeof
         * of a padded struct: 4 bytes behind the data, both ways. */
        size_t hl = f->qemu ? 12 : 16, pad = f->qemu ? 4 : 0, blen;
        uint64_t addr, count = 0;
        uint8_t reply[16 + GUEST_SIZE];

        if (f->mode == FAKE_HANGUP || !read_full(f->fd, &h, sizeof(h)))
            break;
        blen = h.msg_size - sizeof(h);
        if ((h.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY &&
            blen <= sizeof(body) && read_full(f->fd, body, blen)) {
            f->replies_seen++;
            continue;
        }
        if (blen < hl || blen > sizeof(body) || !read_full(f->fd, body, blen)) {
            f->bad_request = true;
            break;
        }
        f->requests++;
        memcpy(&addr, body, 8);
        memcpy(&count, body + 8, hl - 8);
        if (count > f->max_count)
            f->max_count = count;
        if ((h.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND ||
            addr < GUEST_BASE || addr + count > GUEST_BASE + GUEST_SIZE) {
            f->bad_request = true;
            break;
        }
        if (f->mode == FAKE_WRONG_COUNT)
            count--;
        if (h.cmd == VFIO_USER_DMA_READ) {
            if (blen != hl + pad) {
                f->bad_request = true;
                break;
            }
            memcpy(reply, body, hl);
            memcpy(reply + 8, &count, hl - 8);
            memcpy(reply + hl, f->mem + (addr - GUEST_BASE), count);
            memset(reply + hl + count, 0, pad);
            send_reply(f, &h, reply, hl + count + pad);
        } else if (h.cmd == VFIO_USER_DMA_WRITE) {
            if (blen != hl + count + pad && f->mode != FAKE_WRONG_COUNT) {
                f->bad_request = true;
                break;
            }
            memcpy(f->mem + (addr - GUEST_BASE), body + hl, count);
            /* QEMU answers a write with the header alone */
            memcpy(reply, &addr, 8);
            memcpy(reply + 8, &count, 8);
            send_reply(f, &h, reply, f->qemu ? 0 : 16);
        } else {
            f->bad_request = true;
            break;
        }
    }
    if (f->mode == FAKE_HANGUP)
        shutdown(f->fd, SHUT_RDWR);
    return NULL;
}

struct rig {
    struct vdev_dev *dev;
    struct fake_client *f;
    pthread_t thr;
    int client_fd;
};

static void
rig_start(struct rig *r, bool qemu, bool twin, enum fake_mode mode,
          unsigned max_requests, uint32_t peer_xfer)
{
    struct vdev_conn *c;
    int sv[2];

    r->dev = dma_fixture_dev();
    c = r->dev->srv->conn;
    r->dev->srv->qemu_dma_layout = qemu;
    c->peer_max_data_xfer = peer_xfer;
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    c->fd = sv[0];
    r->client_fd = sv[1];
    r->f = talloc_zero(r->dev, struct fake_client);
    r->f->qemu = qemu;
    r->f->mode = mode;
    r->f->max_requests = max_requests;
    r->f->fd = sv[1];
    if (twin) {
        cr_assert_eq(vdev_twin_setup(c, &r->f->fd), 0);
        cr_assert(c->twin_fd >= 0);
        cr_assert_eq(vdev_twin_setup(c, &sv[0]), -EBUSY);
    }
    for (unsigned i = 0; i < GUEST_SIZE; i++)
        r->f->mem[i] = (uint8_t)(i * 13 + 5);
    cr_assert_eq(vdev_dma_add(&c->dma, GUEST_BASE, GUEST_SIZE, -1, 0, 3), 0);
    cr_assert_eq(pthread_create(&r->thr, NULL, fake_client_run, r->f), 0);
}

static void
rig_stop(struct rig *r)
{
    struct vdev_conn *c = r->dev->srv->conn;
    int twin = c->twin_fd;

    /* unblock the fake client if it still waits for requests */
    shutdown(c->fd, SHUT_RDWR);
    if (twin >= 0)
        shutdown(twin, SHUT_RDWR);
    pthread_join(r->thr, NULL);
    cr_assert_not(r->f->bad_request);
    if (r->f->fd != r->client_fd)
        close(r->f->fd);
    close(r->client_fd);
    close(c->fd);
    talloc_free(r->dev);
    if (twin >= 0)
        cr_assert_not(fd_is_open(twin)); /* closed with the connection */
}

static void
roundtrip(bool qemu, bool twin, uint32_t xfer, unsigned expect_requests)
{
    struct rig r;
    static uint8_t buf[10000], back[10000];

    rig_start(&r, qemu, twin, FAKE_OK, 2 * expect_requests, xfer);
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE + 100, buf, sizeof(buf)), 0);
    for (unsigned i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], (uint8_t)((i + 100) * 13 + 5));
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i ^ 0x5a);
    cr_assert_eq(vdev_dma_write(r.dev, GUEST_BASE + 7, buf, sizeof(buf)), 0);
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE + 7, back, 0), 0);
    cr_assert_eq(r.f->requests, 2 * expect_requests);
    cr_assert_leq(r.f->max_count, xfer);
    cr_assert_arr_eq(r.f->mem + 7, buf, sizeof(buf));
    rig_stop(&r);
}

Test(dma_msg, spec_layout_main_socket_chunked)
{
    roundtrip(false, false, 4096, 3);
}

Test(dma_msg, qemu_layout_main_socket)
{
    roundtrip(true, false, 1 << 20, 1);
}

Test(dma_msg, spec_layout_twin_socket)
{
    roundtrip(false, true, 3000, 4);
}

Test(dma_msg, qemu_layout_twin_socket_chunked)
{
    roundtrip(true, true, 4096, 3);
}

Test(dma_msg, client_command_waits_in_the_input)
{
    struct rig r;
    uint8_t buf[300];
    struct vdev_conn *c;
    struct vfio_user_header h;

    rig_start(&r, false, false, FAKE_INTERLEAVE, 1, 1 << 20);
    c = r.dev->srv->conn;
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE, buf, sizeof(buf)), 0);
    for (unsigned i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], (uint8_t)(i * 13 + 5));
    /* exactly the client's command is left, untouched */
    cr_assert_eq(c->rx.end - c->rx.start, 32);
    memcpy(&h, c->rx.buf + c->rx.start, sizeof(h));
    cr_assert_eq(h.msg_id, 77);
    cr_assert_eq(h.cmd, VFIO_USER_DEVICE_GET_INFO);
    cr_assert_eq(h.msg_size, 32);
    rig_stop(&r);
}

Test(dma_msg, error_reply_is_errno)
{
    struct rig r;
    uint8_t buf[16] = {0};

    rig_start(&r, false, true, FAKE_ERROR, 2, 1 << 20);
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE, buf, sizeof(buf)), -EFAULT);
    cr_assert_eq(vdev_dma_write(r.dev, GUEST_BASE, buf, sizeof(buf)), -EFAULT);
    rig_stop(&r);
}

Test(dma_msg, malformed_replies_are_eproto)
{
    struct rig r;
    uint8_t buf[16] = {0};

    rig_start(&r, false, false, FAKE_WRONG_CMD, 1, 1 << 20);
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE, buf, sizeof(buf)), -EPROTO);
    rig_stop(&r);

    rig_start(&r, true, true, FAKE_WRONG_COUNT, 2, 1 << 20);
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE, buf, sizeof(buf)), -EPROTO);
    rig_stop(&r);

    rig_start(&r, false, false, FAKE_WRONG_COUNT, 1, 1 << 20);
    cr_assert_eq(vdev_dma_write(r.dev, GUEST_BASE, buf, sizeof(buf)), -EPROTO);
    rig_stop(&r);
}

Test(dma_msg, hangup_is_econnreset)
{
    struct rig r;
    uint8_t buf[16] = {0};

    rig_start(&r, false, true, FAKE_HANGUP, 1, 1 << 20);
    pthread_join(r.thr, NULL);
    cr_assert_lt(vdev_dma_read(r.dev, GUEST_BASE, buf, sizeof(buf)), 0);
    cr_assert_eq(pthread_create(&r.thr, NULL, fake_client_run, r.f), 0);
    rig_stop(&r);
}

Test(dma_msg, dirty_marked_for_message_writes)
{
    struct rig r;
    uint8_t buf[16] = {0}, bm[2];

    rig_start(&r, false, false, FAKE_OK, 1, 1 << 20);
    cr_assert_eq(vdev_dirty_start(r.dev->dma, PG), 0);
    cr_assert_eq(vdev_dma_write(r.dev, GUEST_BASE + 5 * PG - 8, buf, 16), 0);
    cr_assert_eq(vdev_dirty_report(r.dev->dma, GUEST_BASE, 16 * PG, PG, bm, 2),
                 0);
    cr_assert_eq(bm[0], 0x30);
    cr_assert_eq(bm[1], 0);
    rig_stop(&r);
}

Test(dma_msg, reply_larger_than_the_buffer_room)
{
    struct rig r;
    static uint8_t buf[20000];
    struct vdev_conn *c;

    rig_start(&r, false, false, FAKE_INTERLEAVE, 1, 1 << 20);
    c = r.dev->srv->conn;
    c->rx.cap = 2048; /* the reply cannot fit: read past the buffer */
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE + 3, buf, sizeof(buf)), 0);
    for (unsigned i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], (uint8_t)((i + 3) * 13 + 5));
    cr_assert_eq(c->rx.end - c->rx.start, 32);
    cr_assert_eq(((struct vfio_user_header *)(c->rx.buf + c->rx.start))->msg_id,
                 77);
    rig_stop(&r);
}

Test(dma_msg, batched_replies_are_sent_before_the_request)
{
    struct rig r;
    uint8_t buf[64];
    struct vdev_conn *c;
    struct vfio_user_header pending = {
        .msg_id = 9,
        .cmd = VFIO_USER_DEVICE_RESET,
        .msg_size = 16,
        .flags = VFIO_USER_F_TYPE_REPLY,
    };

    rig_start(&r, false, false, FAKE_OK, 1, 1 << 20);
    c = r.dev->srv->conn;
    c->tx.cap = 64;
    c->tx.buf = talloc_size(c, c->tx.cap);
    memcpy(c->tx.buf, &pending, 16);
    c->tx.len = 16;
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE, buf, sizeof(buf)), 0);
    cr_assert_eq(c->tx.len, 0);
    cr_assert_eq(r.f->replies_seen, 1);
    rig_stop(&r);
}
