/* Message-based DMA (maps without an fd): vdev_dma_read/write through
 * vdev_conn_request, with a thread on a socketpair playing the client, in
 * both DMA_READ/WRITE layouts (the QEMU one as QEMU 10.1/10.2 checks and
 * pads it), set or detected, on the main socket and on the twin socket. */
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
    FAKE_PROBE_ERROR, /* an error reply to a zero-length DMA_WRITE */
};

struct fake_client {
    int fd;
    bool qemu;
    enum fake_mode mode;
    unsigned max_requests;
    uint8_t mem[GUEST_SIZE];
    unsigned requests;
    unsigned replies_seen; /* server replies met before a request */
    unsigned probes;       /* zero-length DMA_WRITEs */
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
    if (len)
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

/* What one request carries: QEMU's (hw/vfio-user/pci.c) is address, a
 * 32-bit count, data at 12, at least 16 bytes of payload; the spec's has a
 * 64-bit count, data at 16. Both are exactly 16 bytes (+ data for a write)
 * from our server. */
static bool
parse_request(struct fake_client *f, const struct vfio_user_header *h,
              const uint8_t *body, size_t blen, uint64_t *addr, uint64_t *count)
{
    *count = 0;
    if (blen < 16)
        return false;
    memcpy(addr, body, 8);
    memcpy(count, body + 8, f->qemu ? 4 : 8);
    if (h->cmd == VFIO_USER_DMA_READ)
        return blen == 16;
    return blen == 16 + *count;
}

static void *
fake_client_run(void *arg)
{
    struct fake_client *f = arg;
    static uint8_t body[16 + GUEST_SIZE];

    while (f->requests < f->max_requests) {
        struct vfio_user_header h;
        size_t hl = f->qemu ? 12 : 16, blen;
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
        if (blen > sizeof(body) || !read_full(f->fd, body, blen) ||
            !parse_request(f, &h, body, blen, &addr, &count)) {
            f->bad_request = true;
            break;
        }
        f->requests++;
        if (count == 0 && h.cmd == VFIO_USER_DMA_WRITE)
            f->probes++;
        if (count > f->max_count)
            f->max_count = count;
        if ((h.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND ||
            addr < GUEST_BASE || addr + count > GUEST_BASE + GUEST_SIZE) {
            f->bad_request = true;
            break;
        }
        if (f->mode == FAKE_WRONG_COUNT)
            count--;
        if (f->mode == FAKE_PROBE_ERROR && count == 0) {
            f->mode = FAKE_ERROR;
            send_reply(f, &h, NULL, 0);
            f->mode = FAKE_OK;
            continue;
        }
        if (h.cmd == VFIO_USER_DMA_READ) {
            memcpy(reply, body, 8);
            memcpy(reply + 8, &count, 8); /* QEMU: count, then zeros */
            memcpy(reply + hl, f->mem + (addr - GUEST_BASE), count);
            /* QEMU's reply is its padded struct plus the data */
            memset(reply + hl + count, 0, 16 - hl);
            send_reply(f, &h, reply, 16 + count);
        } else if (h.cmd == VFIO_USER_DMA_WRITE) {
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

/* The fake client speaks QEMU's layout or the spec's; the server is told
 * which, or (detect) finds out. */
static void
rig_start_as(struct rig *r, bool qemu, bool detect, bool twin,
             enum fake_mode mode, unsigned max_requests, uint32_t peer_xfer)
{
    struct vdev_conn *c;
    int sv[2];

    r->dev = dma_fixture_dev();
    c = r->dev->srv->conn;
    c->dma_layout = detect ? VDEV_DMA_LAYOUT_AUTO
                    : qemu ? VDEV_DMA_LAYOUT_QEMU
                           : VDEV_DMA_LAYOUT_SPEC;
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
rig_start(struct rig *r, bool qemu, bool twin, enum fake_mode mode,
          unsigned max_requests, uint32_t peer_xfer)
{
    rig_start_as(r, qemu, false, twin, mode, max_requests, peer_xfer);
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

/* A server left to detect the layout asks once, with a zero-length
 * DMA_WRITE, then speaks what the client does (runtime/KERNEL.md, X1). */
static void
detect_roundtrip(bool qemu, bool twin)
{
    struct rig r;
    static uint8_t buf[5000];

    rig_start_as(&r, qemu, true, twin, FAKE_OK, 5, 1 << 20);
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE + 11, buf, sizeof(buf)), 0);
    for (unsigned i = 0; i < sizeof(buf); i++)
        cr_assert_eq(buf[i], (uint8_t)((i + 11) * 13 + 5));
    cr_assert_eq(r.dev->srv->conn->dma_layout,
                 qemu ? VDEV_DMA_LAYOUT_QEMU : VDEV_DMA_LAYOUT_SPEC);
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7);
    cr_assert_eq(vdev_dma_write(r.dev, GUEST_BASE + 2, buf, sizeof(buf)), 0);
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE, buf, 16), 0);
    cr_assert_arr_eq(r.f->mem + 2, buf + 2, 14);
    /* one probe, before the first access; the probe wrote nothing */
    cr_assert_eq(r.f->probes, 1);
    cr_assert_eq(r.f->requests, 4);
    rig_stop(&r);
}

Test(dma_msg, detects_qemu_layout)
{
    detect_roundtrip(true, false);
}

Test(dma_msg, detects_spec_layout)
{
    detect_roundtrip(false, false);
}

Test(dma_msg, detects_qemu_layout_on_the_twin_socket)
{
    detect_roundtrip(true, true);
}

/* A client that refuses an empty write is not QEMU: the spec's layout. */
Test(dma_msg, refused_probe_means_spec_layout)
{
    struct rig r;
    uint8_t buf[32];

    rig_start_as(&r, false, true, false, FAKE_PROBE_ERROR, 2, 1 << 20);
    cr_assert_eq(vdev_dma_read(r.dev, GUEST_BASE, buf, sizeof(buf)), 0);
    cr_assert_eq(r.dev->srv->conn->dma_layout, VDEV_DMA_LAYOUT_SPEC);
    cr_assert_eq(buf[1], (uint8_t)(13 + 5));
    rig_stop(&r);
}

/* No answer to the probe: the access fails and the next one asks again. */
Test(dma_msg, unanswered_probe_fails_the_access)
{
    struct rig r;
    uint8_t buf[16] = {0};

    rig_start_as(&r, true, true, false, FAKE_HANGUP, 1, 1 << 20);
    pthread_join(r.thr, NULL);
    cr_assert_lt(vdev_dma_read(r.dev, GUEST_BASE, buf, sizeof(buf)), 0);
    cr_assert_eq(r.dev->srv->conn->dma_layout, VDEV_DMA_LAYOUT_AUTO);
    cr_assert_eq(pthread_create(&r.thr, NULL, fake_client_run, r.f), 0);
    rig_stop(&r);
}
