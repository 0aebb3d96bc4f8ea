/* A connection's receive and send buffers (see conn.h for who may touch
 * what, and when): reads and fds in, framing and the rejection of bad
 * sizes, replies and flushes out, and the backlog a hand-over carries. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/mem.h"
#include "server/conn.h"

#define RX_MIN_ROOM 4096u /* compact the input when less room is left */
/* A reply with fds waits this long for a client that stopped reading. */
#define SEND_WAIT_MS 5000
#define COLD __attribute__((cold, noinline))

int
vdev_conn_io_init(struct vdev_conn *c)
{
    c->rx.buf = talloc_size(c, VDEV_RBUF_INIT);
    c->tx.buf = talloc_size(c, VDEV_SBUF_INIT);
    if (!c->rx.buf || !c->tx.buf)
        return -ENOMEM;
    c->rx.cap = VDEV_RBUF_INIT;
    c->tx.cap = VDEV_SBUF_INIT;
    c->rx.fdq.fds = c->rx.fds;
    c->rx.fdq.max = VDEV_MAX_MSG_FDS * 4;
    return 0;
}

void
vdev_conn_io_release(struct vdev_conn *c)
{
    vdev_close_fds(c->rx.fds, c->rx.fdq.nr);
    c->rx.fdq.nr = 0;
}

/* ------------------------------------------------------------ receive */

static void rx_skip(struct vdev_conn *c);

ssize_t
vdev_rx_read_slow(struct vdev_conn *c, ssize_t n, size_t limit)
{
    struct vdev_rx *rx = &c->rx;

    if (n < 0) {
        /* A memory connection has no socket (fd -1): its input is in
         * memconn.c. Asked only once the call failed, so sockets pay
         * nothing for it. */
        if (n != -EBADF || !c->mem)
            return n;
        n = vdev_mem_recv(c, rx->buf + rx->end, limit, &rx->fdq);
        if (n < 0)
            return n;
    }
    /* fds arrived with this read: they belong to the message holding its
     * last byte (the kernel ends a stream read after an skb that carries
     * fds). */
    if (rx->fdq.arrived) {
        rx->fdq.arrived = false;
        rx->fds_msg_end = rx->end + (size_t)n;
    }
    rx->end += (size_t)n;
    c->dev->stats.bytes_in += (uint64_t)n;
    if (rx->skip != 0)
        rx_skip(c);
    return n;
}

static void
rx_drop_fds(struct vdev_rx *rx)
{
    vdev_close_fds(rx->fds, rx->fdq.nr);
    rx->fdq.nr = 0;
    rx->fdq.lost = false;
}

static int
rx_grow(struct vdev_conn *c, size_t need)
{
    size_t cap = (need + 4095) & ~(size_t)4095;
    uint8_t *p = talloc_realloc_size(c, c->rx.buf, cap);

    if (!p)
        return -ENOMEM;
    c->rx.buf = p;
    c->rx.cap = cap;
    return 0;
}

static void
rx_compact(struct vdev_rx *rx)
{
    size_t avail = rx->end - rx->start;

    if (!rx->start)
        return;
    memmove(rx->buf, rx->buf + rx->start, avail);
    if (rx->fdq.nr)
        rx->fds_msg_end -= rx->start;
    rx->start = 0;
    rx->end = avail;
}

/* vdev_rx_prepare's work when the buffer holds a partial message, is
 * large, or fds or a skip are pending. */
COLD int
vdev_rx_prepare_slow(struct vdev_conn *c, size_t *limit)
{
    struct vdev_rx *rx = &c->rx;
    size_t avail = rx->end - rx->start;
    size_t need = VDEV_HDR_SIZE;

    if (!avail) {
        rx->start = rx->end = 0;
        if (rx->cap > VDEV_RBUF_INIT && !rx->skip) {
            /* Give a large message's buffer back once it is served. */
            uint8_t *p = talloc_realloc_size(c, rx->buf, VDEV_RBUF_INIT);
            if (p) {
                vdev_mem_released(rx->cap);
                rx->buf = p;
                rx->cap = VDEV_RBUF_INIT;
            }
        }
    }
    if (rx->skip) {
        *limit = rx->cap - rx->end;
        if (rx->skip < *limit)
            *limit = rx->skip;
        return 0;
    }
    if (avail >= VDEV_HDR_SIZE) {
        uint32_t size;
        memcpy(&size,
               rx->buf + rx->start +
                   offsetof(struct vfio_user_header, msg_size),
               sizeof(size));
        /* vdev_rx_take has dealt with any other size */
        if (size > avail && size <= VDEV_MAX_MSG_SIZE)
            need = size;
        else
            need = avail + 1;
    }
    if (need > rx->cap) {
        int rc = rx_grow(c, need);
        if (rc < 0)
            return rc;
    }
    if (rx->start + need > rx->cap ||
        (rx->start && rx->cap - rx->end < RX_MIN_ROOM))
        rx_compact(rx);
    *limit = rx->cap - rx->end;
    if (rx->fdq.nr && need - avail < *limit)
        *limit = need - avail;
    return 0;
}

/* A message too large for us: answer it, then drop its bytes as they come
 * so the stream stays in step. */
static COLD int
reject_oversized(struct vdev_conn *c, const uint8_t *p)
{
    struct vdev_rx *rx = &c->rx;
    struct vfio_user_header h;
    size_t avail = rx->end - rx->start;
    size_t take;

    memcpy(&h, p, sizeof(h));
    take = avail < h.msg_size ? avail : h.msg_size;
    c->dev->stats.messages++;
    c->dev->stats.errors++;
    VDEV_LOG(c->dev, VDEV_LOG_INFO, "cmd %u: msg_size %u over the limit %u",
             h.cmd, h.msg_size, VDEV_MAX_MSG_SIZE);
    rx_drop_fds(rx);
    rx->start += take;
    rx->skip = h.msg_size - take;
    if (h.flags & VFIO_USER_F_NO_REPLY)
        return 0;
    return vdev_tx_error(c, &h, EMSGSIZE);
}

/* The header is there, whatever msg_size says: answer it and step over
 * those 16 bytes. A client that sent a body anyway gets its next bytes
 * rejected as headers in turn. */
static COLD int
reject_short(struct vdev_conn *c, const uint8_t *p)
{
    struct vfio_user_header h;

    memcpy(&h, p, sizeof(h));
    c->rx.start += VDEV_HDR_SIZE;
    c->dev->stats.messages++;
    c->dev->stats.errors++;
    VDEV_LOG(c->dev, VDEV_LOG_INFO, "cmd %u: msg_size %u below the header",
             h.cmd, h.msg_size);
    if (h.flags & VFIO_USER_F_NO_REPLY)
        return 0;
    return vdev_tx_error(c, &h, EINVAL);
}

COLD int
vdev_rx_reject(struct vdev_conn *c, const uint8_t *p, uint32_t size)
{
    return size < VDEV_HDR_SIZE ? reject_short(c, p) : reject_oversized(c, p);
}

/* Drops skipped bytes; fds that came meanwhile belong to the skipped
 * message, as reads never cross its end. */
static COLD void
rx_skip(struct vdev_conn *c)
{
    struct vdev_rx *rx = &c->rx;
    size_t avail = rx->end - rx->start;
    size_t take = avail < rx->skip ? avail : rx->skip;

    rx->start += take;
    rx->skip -= take;
    rx_drop_fds(rx);
}

/* The pending fds go with the message [start, end) if it holds the last
 * byte of the read that brought them. */
COLD unsigned
vdev_rx_msg_fds(struct vdev_conn *c, size_t start, size_t end)
{
    struct vdev_rx *rx = &c->rx;
    unsigned n = 0;

    if (rx->fds_msg_end > start && rx->fds_msg_end <= end) {
        n = rx->fdq.nr | (rx->fdq.lost ? VDEV_RX_FDS_LOST : 0);
    } else if (rx->fds_msg_end > end) {
        return 0; /* a later message's */
    } else {
        /* Cannot happen given how reads are limited; never leak. */
        vdev_close_fds(rx->fds, rx->fdq.nr);
    }
    rx->fdq.nr = 0;
    rx->fdq.lost = false;
    return n;
}

ssize_t
vdev_rx_find_reply(const struct vdev_conn *c, size_t *off,
                   struct vfio_user_header *h)
{
    const struct vdev_rx *rx = &c->rx;
    size_t o = *off < rx->start ? rx->start : *off;

    while (rx->end - o >= sizeof(*h)) {
        memcpy(h, rx->buf + o, sizeof(*h));
        if (h->msg_size < sizeof(*h) || h->msg_size > VDEV_MAX_MSG_SIZE)
            return -EPROTO;
        if ((h->flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY) {
            *off = o;
            return rx->end - o < h->msg_size ? (ssize_t)(rx->end - o)
                                             : (ssize_t)h->msg_size;
        }
        /* Commands (and junk) are the dispatcher's business. */
        if (rx->end - o < h->msg_size)
            return 0;
        o += h->msg_size;
    }
    return 0;
}

int
vdev_rx_take_command(struct vdev_conn *c, struct vdev_rx_msg *m)
{
    struct vdev_rx *rx = &c->rx;
    struct vfio_user_header h;

    if (rx->skip || rx->end - rx->start < sizeof(h))
        return 0;
    memcpy(&h, rx->buf + rx->start, sizeof(h));
    if ((h.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND ||
        h.msg_size < sizeof(h) || h.msg_size > VDEV_MAX_MSG_SIZE ||
        rx->end - rx->start < h.msg_size)
        return 0;
    if ((rx->fdq.nr || rx->fdq.lost) && rx->fds_msg_end > rx->start &&
        rx->fds_msg_end <= rx->start + h.msg_size)
        return 0;
    m->p = rx->buf + rx->start;
    m->size = h.msg_size;
    m->nr_fds = 0;
    m->fds_lost = false;
    rx->start += h.msg_size;
    return 1;
}

void
vdev_rx_cut(struct vdev_conn *c, size_t off, size_t len, void *copy)
{
    struct vdev_rx *rx = &c->rx;

    if (copy)
        memcpy(copy, rx->buf + off, len);
    memmove(rx->buf + off, rx->buf + off + len, rx->end - off - len);
    rx->end -= len;
    if (rx->fds_msg_end > off)
        rx->fds_msg_end =
            rx->fds_msg_end >= off + len ? rx->fds_msg_end - len : off;
}

/* ------------------------------------------------------------ send */

/* Room for need more bytes at the end. Flushing first keeps the buffer
 * small; it grows only for replies larger than what is free. */
COLD uint8_t *
vdev_tx_reserve_slow(struct vdev_conn *c, size_t need)
{
    struct vdev_tx *tx = &c->tx;
    size_t cap;
    uint8_t *p;

    if (tx->len)
        vdev_tx_flush(c);
    if (tx->len + need <= tx->cap)
        return tx->buf + tx->len;
    cap = (tx->len + need + 4095) & ~(size_t)4095;
    p = talloc_realloc_size(c, tx->buf, cap);
    if (!p)
        return NULL;
    tx->buf = p;
    tx->cap = cap;
    return p + tx->len;
}

/* A memory connection's pending bytes to its peer, as much as it takes. */
static COLD int
mem_flush(struct vdev_conn *c)
{
    struct vdev_tx *tx = &c->tx;
    ssize_t n = vdev_mem_deliver(c, tx->buf, tx->len, NULL, 0);

    if (n < 0)
        return (int)n;
    c->dev->stats.bytes_out += (size_t)n;
    tx->len -= (size_t)n;
    if (tx->len)
        memmove(tx->buf, tx->buf + n, tx->len);
    return tx->len ? -EAGAIN : 0;
}

int
vdev_tx_flush_from(struct vdev_conn *c, ssize_t n)
{
    struct vdev_tx *tx = &c->tx;
    size_t off = 0;

    for (;;) {
        if (n >= 0)
            off += (size_t)n;
        else if (n == -EAGAIN)
            break;
        else if (n == -EBADF && c->mem) /* no socket: see vdev_rx_read */
            return mem_flush(c);
        else if (n != -EINTR)
            return (int)n;
        if (off >= tx->len)
            break;
        n = send(c->fd, tx->buf + off, tx->len - off,
                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0)
            n = -errno;
    }
    if (off) {
        c->dev->stats.bytes_out += off;
        tx->len -= off;
        if (tx->len)
            memmove(tx->buf, tx->buf + off, tx->len);
    }
    return tx->len ? -EAGAIN : 0;
}

int
vdev_tx_drain(struct vdev_conn *c, int64_t deadline)
{
    int rc;

    while ((rc = vdev_tx_flush(c)) == -EAGAIN)
        if ((rc = vdev_conn_wait(c, c->fd, POLLOUT, deadline)) < 0)
            return rc;
    return rc;
}

COLD void
vdev_tx_shrink(struct vdev_conn *c)
{
    uint8_t *p = talloc_realloc_size(c, c->tx.buf, VDEV_SBUF_INIT);

    if (p) {
        vdev_mem_released(c->tx.cap);
        c->tx.buf = p;
        c->tx.cap = VDEV_SBUF_INIT;
    }
}

/* The rare blocking case (a reply carrying fds to a client that does not
 * read): bounded, vdev_stop() interrupts it, and the management channel
 * is answered meanwhile. */
int
vdev_tx_send_fds(struct vdev_conn *c, const void *buf, size_t len,
                 const int *fds, unsigned nr_fds)
{
    int64_t deadline = vdev_now_ms() + SEND_WAIT_MS;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    int rc;

    if (nr_fds > VDEV_MAX_MSG_FDS)
        return -EINVAL;
    if ((rc = vdev_tx_drain(c, deadline)) < 0 ||
        (rc = vdev_conn_send(c, &iov, 1, fds, nr_fds, deadline)) < 0)
        return rc;
    c->dev->stats.bytes_out += len;
    return 0;
}

int
vdev_tx_error(struct vdev_conn *c, const struct vfio_user_header *req, int err)
{
    uint8_t *p = vdev_tx_reserve(c, VDEV_HDR_SIZE);

    if (!p)
        return -ENOMEM;
    vdev_tx_put_header(p, req, VDEV_HDR_SIZE, (uint32_t)err);
    c->tx.len += VDEV_HDR_SIZE;
    return 0;
}

/* Replies with fds go out on their own sendmsg, after the queued bytes. */
COLD int
vdev_tx_reply_fds(struct vdev_conn *c, uint8_t *p, struct vdev_reply *r)
{
    int rc = vdev_tx_send_fds(c, p, VDEV_HDR_SIZE + r->len, r->fds, r->nr_fds);

    if (r->close_fds)
        vdev_close_fds(r->fds, r->nr_fds);
    return rc;
}

/* ------------------------------------------------- socket or memory */

int
vdev_conn_send(struct vdev_conn *c, struct iovec *iov, int iovcnt,
               const int *fds, unsigned nr_fds, int64_t deadline)
{
    if (c->mem)
        return vdev_mem_send_all(c, iov, iovcnt, fds, nr_fds);
    return vdev_send_all_w(c->fd, iov, iovcnt, fds, nr_fds, deadline,
                           vdev_conn_wait, c);
}

int
vdev_conn_recv_all(struct vdev_conn *c, void *buf, size_t len, int64_t deadline)
{
    uint8_t *p = buf;

    if (!c->mem)
        return vdev_recv_all_w(c->fd, buf, len, deadline, vdev_conn_wait, c,
                               NULL);
    while (len) {
        ssize_t n = vdev_mem_recv(c, p, len, NULL);

        if (n <= 0)
            return n == 0 ? -ECONNRESET : -ETIMEDOUT;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ------------------------------------------------------------ hand-over */

void
vdev_conn_backlog(const struct vdev_conn *c, struct vdev_conn_backlog *b)
{
    const struct vdev_rx *rx = &c->rx;

    b->in = rx->buf + rx->start;
    b->in_len = rx->end - rx->start;
    b->skip = rx->skip;
    b->fds = rx->fds;
    b->nr_fds = rx->fdq.nr;
    b->fds_lost = rx->fdq.lost;
    b->fds_msg_end = rx->fdq.nr ? rx->fds_msg_end - rx->start : 0;
    b->out = c->tx.buf;
    b->out_len = c->tx.len;
}

static int
buf_fit(struct vdev_conn *c, uint8_t **buf, size_t *cap, size_t len)
{
    size_t n = (len + 4095) & ~(size_t)4095;
    uint8_t *p;

    if (len <= *cap)
        return 0;
    p = talloc_realloc_size(c, *buf, n);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

int
vdev_conn_restore(struct vdev_conn *c, const struct vdev_conn_backlog *b)
{
    struct vdev_rx *rx = &c->rx;
    int rc;

    if (b->nr_fds > VDEV_MAX_MSG_FDS * 4)
        return -EINVAL;
    /* The fds first: from here on the connection closes them. */
    vdev_close_fds(rx->fds, rx->fdq.nr);
    memcpy(rx->fds, b->fds, b->nr_fds * sizeof(int));
    rx->fdq.nr = b->nr_fds;
    rx->fdq.lost = b->fds_lost;
    rx->fds_msg_end = b->fds_msg_end;
    if ((rc = buf_fit(c, &rx->buf, &rx->cap, b->in_len)) < 0 ||
        (rc = buf_fit(c, &c->tx.buf, &c->tx.cap, b->out_len)) < 0)
        return rc;
    memcpy(rx->buf, b->in, b->in_len);
    rx->start = 0;
    rx->end = b->in_len;
    rx->skip = b->skip;
    memcpy(c->tx.buf, b->out, b->out_len);
    c->tx.len = b->out_len;
    return 0;
}
