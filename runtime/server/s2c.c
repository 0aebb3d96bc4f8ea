/* Server-to-client requests (DMA_READ/DMA_WRITE): sent on the twin socket
 * when negotiated, else on the main one, and the matching reply awaited;
 * and the device's DMA to memory the client mapped without an fd, done
 * with them. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fdio.h"
#include "base/mem.h"
#include "server/server.h"
#include "server/conn.h"

#define S2C_TIMEOUT_MS 5000

/* The client did not take a request or answer it in time, or the stream
 * lost its framing: it goes once the message being served is done (a
 * half-sent request or half-read reply would leave the stream out of
 * step, and one that does not answer would cost every later DMA the
 * timeout). Returns rc. */
static int
broken(struct vdev_conn *c, int rc)
{
    if (!c->broken)
        c->broken = rc;
    return rc;
}

/* ------------------------------------------------------------ twin */

struct twin_owner {
    struct vdev_conn *c;
};

/* Runs while the connection is being freed (its memory is still valid):
 * closes the server end unless the connection's own destructor did. */
static int
twin_owner_destructor(struct twin_owner *o)
{
    if (o->c->twin_fd >= 0)
        close(o->c->twin_fd);
    o->c->twin_fd = -1;
    return 0;
}

int
vdev_twin_setup(struct vdev_conn *c, int *client_end)
{
    struct twin_owner *o;
    int sv[2];

    if (c->twin_fd >= 0)
        return -EBUSY;
    o = talloc_zero(c, struct twin_owner);
    if (!o)
        return -ENOMEM;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = errno;

        talloc_free(o);
        return -e;
    }
    o->c = c;
    c->twin_fd = sv[0];
    talloc_set_destructor(o, twin_owner_destructor);
    *client_end = sv[1];
    return 0;
}

/* ------------------------------------------------------------ reply */

/* Checks a reply header against the request; returns 1 if it is the reply,
 * 0 if it is a stale reply (an earlier request that timed out), -errno if
 * it answers this request but is malformed. */
static int
reply_match(const struct vfio_user_header *h, uint16_t id, uint16_t cmd)
{
    if ((h->flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY)
        return -EPROTO;
    if (h->msg_id != id)
        return 0;
    if (h->cmd != cmd)
        return -EPROTO;
    return 1;
}

/* Copies a matched reply's payload out; the error flag becomes -errno. */
static int
reply_take(const struct vfio_user_header *h, const uint8_t *payload,
           void *reply, size_t reply_len)
{
    size_t plen = h->msg_size - sizeof(*h);

    if (h->flags & VFIO_USER_F_ERROR)
        return h->error_no > 0 && h->error_no < 4096 ? -(int)h->error_no : -EIO;
    if (plen > reply_len)
        return -EPROTO;
    if (plen)
        memcpy(reply, payload, plen);
    return (int)plen;
}

static int
twin_wait(struct vdev_conn *c, uint16_t id, uint16_t cmd, void *reply,
          size_t reply_len, int64_t deadline)
{
    uint8_t *body = NULL;
    int ret;

    for (;;) {
        struct vfio_user_header h;
        size_t plen;

        ret = vdev_recv_all_w(c->twin_fd, &h, sizeof(h), deadline,
                              vdev_conn_wait, c, NULL);
        if (ret < 0) {
            broken(c, ret);
            break;
        }
        if (h.msg_size < sizeof(h) || h.msg_size > VDEV_MAX_MSG_SIZE) {
            ret = broken(c, -EPROTO); /* the stream has lost its framing */
            break;
        }
        plen = h.msg_size - sizeof(h);
        /* Read the body whatever it is so the stream stays in step. */
        body = talloc_realloc_size(c, body, plen ? plen : 1);
        if (!body) {
            ret = -ENOMEM;
            break;
        }
        ret = vdev_recv_all_w(c->twin_fd, body, plen, deadline, vdev_conn_wait,
                              c, NULL);
        if (ret < 0) {
            broken(c, ret);
            break;
        }
        ret = reply_match(&h, id, cmd);
        if (ret == 0)
            continue;
        if (ret > 0)
            ret = reply_take(&h, body, reply, reply_len);
        break;
    }
    vdev_mem_released(body ? talloc_get_size(body) : 0);
    talloc_free(body);
    return ret;
}

/* ------------------------------------------------------ main socket */

/* A reply whose head is the last thing buffered (have bytes at off): its
 * rest is read straight from the socket (exactly its bytes, so the stream
 * stays in step), as the buffer may have no room for it and must not move
 * under the dispatcher (server/conn.h). */
static int
take_partial(struct vdev_conn *c, size_t off, size_t have,
             const struct vfio_user_header *h, uint16_t id, uint16_t cmd,
             void *reply, size_t reply_len, int64_t deadline)
{
    uint8_t *msg = talloc_size(c, h->msg_size);
    int ret;

    if (!msg)
        return -ENOMEM;
    vdev_rx_cut(c, off, have, msg);
    ret = vdev_conn_recv_all(c, msg + have, h->msg_size - have, deadline);
    if (ret < 0)
        broken(c, ret);
    if (ret == 0) {
        ret = reply_match(h, id, cmd);
        if (ret > 0)
            ret = reply_take(h, msg + sizeof(*h), reply, reply_len);
        else if (ret == 0)
            ret = -EAGAIN; /* stale: keep waiting */
    }
    talloc_free(msg);
    vdev_mem_released(h->msg_size);
    return ret;
}

/* While a region write waits here (c->s2c_serve), the client's commands
 * at the head of the input are served, in order, and their replies sent:
 * QEMU's vCPU waits for a region read holding the lock its DMA_READ/WRITE
 * handler needs, so only waiting would deadlock until both time out. */
static int
serve_waiting(struct vdev_conn *c, int64_t deadline)
{
    int rc = 0;

    while (c->s2c_serve && !c->s2c_nested && (rc = vdev_serve_nested(c)) > 0)
        if ((rc = vdev_tx_drain(c, deadline)) < 0)
            break;
    return rc < 0 ? rc : 0;
}

/* Looks through the buffered input for our reply. Client commands are
 * served first when serve_waiting() may, else stepped over and left in
 * place for the dispatcher; the reply (and any stale reply) is cut out of
 * the buffer. Returns 1 with the reply taken (its result in *result), 0 if
 * more input is needed, -errno if the input cannot be parsed. */
static int
main_scan(struct vdev_conn *c, uint16_t id, uint16_t cmd, void *reply,
          size_t reply_len, int *result, int64_t deadline)
{
    struct vfio_user_header h;
    size_t off = 0;
    ssize_t have;
    int rc = serve_waiting(c, deadline);

    if (rc < 0)
        return rc;
    while ((have = vdev_rx_find_reply(c, &off, &h)) > 0) {
        int m;

        if ((size_t)have < h.msg_size) {
            m = take_partial(c, off, (size_t)have, &h, id, cmd, reply,
                             reply_len, deadline);
            if (m == -EAGAIN)
                return 0;
            *result = m;
            return 1;
        }
        m = reply_match(&h, id, cmd);
        if (m != 0)
            *result = m < 0 ? m
                            : reply_take(&h, vdev_rx_at(c, off + sizeof(h)),
                                         reply, reply_len);
        vdev_rx_cut(c, off, h.msg_size, NULL);
        if (m != 0)
            return 1;
    }
    return (int)have;
}

static int
main_wait(struct vdev_conn *c, uint16_t id, uint16_t cmd, void *reply,
          size_t reply_len, int64_t deadline)
{
    for (;;) {
        int result = 0;
        int ret = main_scan(c, id, cmd, reply, reply_len, &result, deadline);
        ssize_t n;

        if (ret < 0)
            return broken(c, ret);
        if (ret > 0)
            return result;
        ret = vdev_conn_wait(c, c->fd, POLLIN, deadline);
        if (ret < 0)
            return broken(c, ret);
        /* Into the free room only: nothing in the buffer moves. With no
         * room left (commands the client sent meanwhile fill it) the
         * request fails; its reply, when it comes, is a stale one. */
        n = vdev_rx_read(c, vdev_rx_room(c));
        if (n == 0)
            return broken(c, -ECONNRESET);
        if (n == -ENOBUFS)
            return (int)n;
        if (n < 0 && n != -EAGAIN && n != -EINTR)
            return broken(c, (int)n);
    }
}

int
vdev_conn_request(struct vdev_conn *c, uint16_t cmd, const void *req,
                  size_t req_len, void *reply, size_t reply_len)
{
    int64_t deadline = vdev_now_ms() + S2C_TIMEOUT_MS;
    struct vfio_user_header h = {
        .msg_id = (c->s2c_sent++, c->next_msg_id++),
        .cmd = cmd,
        .msg_size = (uint32_t)(sizeof(h) + req_len),
        .flags = VFIO_USER_F_TYPE_COMMAND,
    };
    struct iovec iov[2] = {
        {.iov_base = &h, .iov_len = sizeof(h)},
        {.iov_base = (void *)req, .iov_len = req_len},
    };
    bool twin = c->twin_fd >= 0;
    int ret;

    if (req_len > VDEV_MAX_MSG_SIZE - sizeof(h))
        return -EINVAL;
    if (c->broken)
        return c->broken;
    /* Replies still batched go first, all of them: the request must not
     * land inside a half-sent reply, and the client may be waiting on them
     * before it reads anything else. */
    if (!twin && (ret = vdev_tx_drain(c, deadline)) < 0)
        return broken(c, ret == -EPIPE ? -ECONNRESET : ret);
    ret = twin ? vdev_send_all_w(c->twin_fd, iov, req_len ? 2 : 1, NULL, 0,
                                 deadline, vdev_conn_wait, c)
               : vdev_conn_send(c, iov, req_len ? 2 : 1, NULL, 0, deadline);
    if (ret < 0)
        return broken(c, ret == -EPIPE ? -ECONNRESET : ret);
    if (twin)
        return twin_wait(c, h.msg_id, cmd, reply, reply_len, deadline);
    return main_wait(c, h.msg_id, cmd, reply, reply_len, deadline);
}

/* ------------------------------------------------- message-based DMA */

/* Two layouts of DMA_READ/DMA_WRITE are in use. The spec's: address (u64),
 * count (u64), data at 16; a DMA_WRITE reply echoes address and count.
 * QEMU 10.1/10.2's: address (u64), count (u32), data at 12, each message
 * padded to the spec's size (its struct ends on an 8-byte boundary), a
 * DMA_WRITE reply with no payload. A DMA_READ request reads the same in
 * both (the upper half of a 64-bit count is QEMU's padding, zero), so only
 * where data sits differs, and the reply to a DMA_WRITE. */
#define ADDR_COUNT 16u /* address + count (+ QEMU's padding) */
#define QEMU_DATA 12u  /* where QEMU's data starts */

static uint32_t
xfer_chunk(const struct vdev_conn *c)
{
    uint32_t n = c->peer_max_data_xfer ? c->peer_max_data_xfer
                                       : VFIO_USER_DEF_MAX_DATA_XFER;

    return n < VDEV_MAX_DATA_XFER ? n : VDEV_MAX_DATA_XFER;
}

/* address, then count as a u64: also QEMU's count and padding */
static void
addr_count_put(uint8_t *p, uint64_t addr, uint64_t count)
{
    memcpy(p, &addr, 8);
    memcpy(p + 8, &count, 8);
}

/* Checks the echoed address and count of a reply (count hlen - 8 bytes). */
static bool
addr_count_ok(const uint8_t *p, size_t hlen, uint64_t addr, uint32_t count)
{
    uint64_t a, c64 = 0;

    memcpy(&a, p, 8);
    memcpy(&c64, p + 8, hlen - 8);
    return a == addr && c64 == count;
}

/* Which layout the client speaks, asked once per client when the server
 * is set to detect it (the default): a zero-length DMA_WRITE at an address
 * of the access about to be made. QEMU 10.1/10.2 write nothing and answer
 * without a payload; a client of the spec's layout answers with address
 * and count, or refuses an empty write (only QEMU is known to use the
 * other layout). Neither layout's reading of the probe writes a byte.
 * Returns 0, or -errno when the client could not be asked (the access
 * fails, and the next one asks again). */
static int
layout_detect(struct vdev_conn *c, uint64_t iova)
{
    uint8_t req[ADDR_COUNT], reply[ADDR_COUNT];
    int ret;

    addr_count_put(req, iova, 0);
    ret = vdev_conn_request(c, VFIO_USER_DMA_WRITE, req, sizeof(req), reply,
                            sizeof(reply));
    if (ret == -ETIMEDOUT || ret == -ECONNRESET || ret == -EPIPE ||
        ret == -ENOMEM)
        return ret;
    c->dma_layout = ret == 0 ? VDEV_DMA_LAYOUT_QEMU : VDEV_DMA_LAYOUT_SPEC;
    VDEV_LOG(c->dev, VDEV_LOG_INFO,
             "DMA_READ/WRITE layout: %s, detected from the client's reply "
             "to a zero-length DMA_WRITE (%d); --dma-layout overrides",
             ret == 0 ? "QEMU 10.1/10.2 (32-bit count)" : "the spec's", ret);
    return 0;
}

static int
layout_of(struct vdev_conn *c, uint64_t iova, bool *qemu)
{
    int ret = 0;

    if (c->dma_layout == VDEV_DMA_LAYOUT_AUTO)
        ret = layout_detect(c, iova);
    *qemu = c->dma_layout == VDEV_DMA_LAYOUT_QEMU;
    return ret;
}

/* QEMU's reply carries its 4 bytes of padding after the data; a client
 * that leaves them off is taken too. */
static int
msg_read(struct vdev_conn *c, uint64_t iova, uint8_t *buf, uint64_t len)
{
    uint32_t chunk = xfer_chunk(c);
    uint8_t req[ADDR_COUNT];
    uint8_t *reply = talloc_size(c, ADDR_COUNT + (len < chunk ? len : chunk));
    bool qemu;
    int ret;

    if (!reply)
        return -ENOMEM;
    if ((ret = layout_of(c, iova, &qemu)) < 0)
        goto out;
    while (len) {
        uint32_t n = len < chunk ? (uint32_t)len : chunk;
        size_t hl = qemu ? QEMU_DATA : ADDR_COUNT;

        addr_count_put(req, iova, n);
        ret = vdev_conn_request(c, VFIO_USER_DMA_READ, req, sizeof(req), reply,
                                ADDR_COUNT + n);
        if (ret < 0)
            break;
        if (((size_t)ret != hl + n &&
             !(qemu && (size_t)ret == ADDR_COUNT + n)) ||
            !addr_count_ok(reply, hl, iova, n)) {
            ret = -EPROTO;
            break;
        }
        memcpy(buf, reply + hl, n);
        buf += n;
        iova += n;
        len -= n;
        ret = 0;
    }
out:
    vdev_mem_released(talloc_get_size(reply));
    talloc_free(reply);
    return ret;
}

static int
msg_write(struct vdev_conn *c, uint64_t iova, const uint8_t *buf, uint64_t len)
{
    uint32_t chunk = xfer_chunk(c);
    uint8_t *req =
        talloc_zero_size(c, ADDR_COUNT + (len < chunk ? len : chunk));
    uint8_t reply[ADDR_COUNT];
    bool qemu;
    int ret;

    if (!req)
        return -ENOMEM;
    if ((ret = layout_of(c, iova, &qemu)) < 0)
        goto out;
    while (len) {
        uint32_t n = len < chunk ? (uint32_t)len : chunk;

        addr_count_put(req, iova, n);
        if (qemu)
            memset(req + QEMU_DATA + n, 0, ADDR_COUNT - QEMU_DATA);
        memcpy(req + (qemu ? QEMU_DATA : ADDR_COUNT), buf, n);
        ret = vdev_conn_request(c, VFIO_USER_DMA_WRITE, req, ADDR_COUNT + n,
                                reply, sizeof(reply));
        if (ret < 0)
            break;
        /* The spec's table gives the reply's count 4 bytes, its request 8;
         * QEMU replies with the header alone. */
        if (qemu ? ret != 0
                 : !((ret == 12 || ret == 16) &&
                     addr_count_ok(reply, (size_t)ret, iova, n))) {
            ret = -EPROTO;
            break;
        }
        buf += n;
        iova += n;
        len -= n;
        ret = 0;
    }
out:
    vdev_mem_released(talloc_get_size(req));
    talloc_free(req);
    return ret;
}

int
vdev_s2c_dma(void *peer, uint64_t iova, void *buf, uint64_t len, bool is_write)
{
    struct vdev_conn *c = peer;

    if (!len)
        return 0;
    return is_write ? msg_write(c, iova, buf, len)
                    : msg_read(c, iova, buf, len);
}
