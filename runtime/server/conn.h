/* A connection's bytes and fds and their one owner, conn.c: the receive
 * buffer (bytes read but not yet served, with the fds that came with them)
 * and the send buffer (replies batched until the input is drained). Nobody
 * else reads or writes c->rx and c->tx.
 *
 * Receive, once per read: vdev_rx_prepare makes room and decides how much
 * the read may take (the read limit, decided there and nowhere else);
 * vdev_rx_read reads once; vdev_rx_take hands out each whole message in
 * turn, answering and dropping malformed ones.
 *
 * Ordering while a message is dispatched. vdev_rx_take returns a pointer
 * into the buffer and moves rx.start past the message. The pointer stays
 * valid until the next vdev_rx_prepare: the only call that moves bytes or
 * reallocates the buffer, which the serving loop makes between messages,
 * never while a handler runs. A handler that asks the client something
 * (s2c.c) waits for the reply on the same socket: it reads more input
 * with vdev_rx_read (into the free room after rx.end, nothing moves),
 * finds the reply with vdev_rx_find_reply and removes it with vdev_rx_cut.
 * Both look only at bytes from rx.start on, so the message being
 * dispatched, which lies before rx.start, stays where it is; client
 * commands that came meanwhile stay in the buffer for the loop.
 *
 * Send: vdev_tx_reserve gives room after the pending bytes (flushing or
 * growing when full); handlers fill a reply's payload there through
 * vdev_reply_alloc, vdev_tx_reply puts the header in front of it, and
 * vdev_tx_flush sends what is pending without blocking. */
#ifndef VDEV_SERVER_CONN_H
#define VDEV_SERVER_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/fdio.h"
#include "server/server.h"

#define VDEV_HDR_SIZE ((uint32_t)sizeof(struct vfio_user_header))

/* A message vdev_rx_take handed out: in the receive buffer (see the
 * ordering above); its fds are c->rx.fds[0..nr_fds). */
struct vdev_rx_msg {
    uint8_t *p;
    uint32_t size;
    unsigned nr_fds;
    bool fds_lost; /* some of its fds were cut off: it must be refused */
};

/* Buffers of a new connection; pending fds are closed by release. */
int vdev_conn_io_init(struct vdev_conn *c);
void vdev_conn_io_release(struct vdev_conn *c);

/* ------------------------------------------------------------ receive */

int vdev_rx_prepare_slow(struct vdev_conn *c, size_t *limit);

/* Makes room for the next read and sets *limit, the most it may take.
 * Reads stop at the end of the current message while it owns fds (or is
 * being skipped), so later fds are never mistaken for its own. The common
 * case, an empty buffer of the usual size, costs a few compares. */
static inline int
vdev_rx_prepare(struct vdev_conn *c, size_t *limit)
{
    struct vdev_rx *rx = &c->rx;

    if (rx->start == rx->end && rx->cap == VDEV_RBUF_INIT &&
        !(rx->skip | rx->fdq.nr)) {
        rx->start = rx->end = 0;
        *limit = VDEV_RBUF_INIT;
        return 0;
    }
    return vdev_rx_prepare_slow(c, limit);
}

/* Free room after rx.end (what a read that must not move anything may
 * take). */
static inline size_t
vdev_rx_room(const struct vdev_conn *c)
{
    return c->rx.cap - c->rx.end;
}

/* The rest of vdev_rx_read after its recvmsg returned n: a memory
 * connection's input, fds that came, a rejected message's bytes. */
ssize_t vdev_rx_read_slow(struct vdev_conn *c, ssize_t n, size_t limit);

/* One non-blocking read of at most limit bytes (and fds) after rx.end;
 * bytes of a rejected message are dropped as they come. Returns the bytes
 * read, 0 on EOF, -EAGAIN, -ENOBUFS (limit 0), -errno. Inline: every
 * message's read; the rare cases are vdev_rx_read_slow's. */
static inline ssize_t
vdev_rx_read(struct vdev_conn *c, size_t limit)
{
    struct vdev_rx *rx = &c->rx;
    ssize_t n;

    if (!limit)
        return -ENOBUFS; /* a zero-length read would look like EOF */
    n = vdev_recv_fds(c->fd, rx->buf + rx->end, limit, MSG_DONTWAIT, &rx->fdq);
    if (__builtin_expect(n < 0 || rx->fdq.arrived || rx->skip != 0, 0))
        return vdev_rx_read_slow(c, n, limit);
    rx->end += (size_t)n;
    c->dev->stats.bytes_in += (uint64_t)n;
    return n;
}

/* The last read ended at fds (the kernel stops a read after the bytes
 * that carry them): the socket may hold more, whatever the read's size. */
static inline bool
vdev_rx_ended_at_fds(const struct vdev_conn *c)
{
    return c->rx.fds_msg_end == c->rx.end && (c->rx.fdq.nr || c->rx.fdq.lost);
}

int vdev_rx_reject(struct vdev_conn *c, const uint8_t *p, uint32_t size);
/* The fds of the message [start, end): their number, with
 * VDEV_RX_FDS_LOST set when some were cut off. */
#define VDEV_RX_FDS_LOST 0x80000000u
unsigned vdev_rx_msg_fds(struct vdev_conn *c, size_t start, size_t end);

/* The next whole message: 1 with *m set, 0 when none is buffered (or the
 * rest of a rejected one is still to come), -errno when the connection
 * must go. Sizes below a header or over VDEV_MAX_MSG_SIZE are answered
 * with an error and dropped here. */
static inline int
vdev_rx_take(struct vdev_conn *c, struct vdev_rx_msg *m)
{
    struct vdev_rx *rx = &c->rx;

    while (rx->end - rx->start >= VDEV_HDR_SIZE) {
        uint8_t *p = rx->buf + rx->start;
        size_t start = rx->start;
        uint32_t size;
        int rc;

        memcpy(&size, p + offsetof(struct vfio_user_header, msg_size),
               sizeof(size));
        /* one unsigned compare for both size < 16 and size > limit */
        if (size - VDEV_HDR_SIZE > VDEV_MAX_MSG_SIZE - VDEV_HDR_SIZE) {
            if ((rc = vdev_rx_reject(c, p, size)) < 0)
                return rc;
            if (rx->skip)
                return 0;
            continue;
        }
        if (rx->end - start < size)
            return 0;
        rx->start = start + size;
        m->p = p;
        m->size = size;
        m->nr_fds = 0;
        m->fds_lost = false;
        if (rx->fdq.nr) {
            unsigned n = vdev_rx_msg_fds(c, start, rx->start);

            m->nr_fds = n & ~VDEV_RX_FDS_LOST;
            m->fds_lost = n & VDEV_RX_FDS_LOST;
        }
        return 1;
    }
    return 0;
}

/* The next whole message if it is a command that brought no fds (and no
 * rejected message is being skipped): 1 with *m set, as vdev_rx_take, else
 * 0 and the input as it was. For serving while a handler waits (s2c.c):
 * reads nothing, moves nothing. */
int vdev_rx_take_command(struct vdev_conn *c, struct vdev_rx_msg *m);

/* Server-to-client replies on the main socket (s2c.c; see the ordering
 * above). Finds the next reply at or after *off (>= rx.start), stepping
 * over client commands. Returns how many of its bytes are buffered (at
 * least its header, in *h; *off its offset), 0 when none is buffered yet,
 * -EPROTO when the input cannot be framed. */
ssize_t vdev_rx_find_reply(const struct vdev_conn *c, size_t *off,
                           struct vfio_user_header *h);
/* Bytes at off (>= rx.start) of the input. */
static inline const uint8_t *
vdev_rx_at(const struct vdev_conn *c, size_t off)
{
    return c->rx.buf + off;
}
/* Removes [off, off + len) (at or after rx.start) from the input, copying
 * the bytes to copy first unless it is NULL. */
void vdev_rx_cut(struct vdev_conn *c, size_t off, size_t len, void *copy);

/* ------------------------------------------------------------ send */

uint8_t *vdev_tx_reserve_slow(struct vdev_conn *c, size_t need);

/* Room for need more bytes after the pending ones, or NULL. */
static inline uint8_t *
vdev_tx_reserve(struct vdev_conn *c, size_t need)
{
    if (c->tx.len + need <= c->tx.cap)
        return c->tx.buf + c->tx.len;
    return vdev_tx_reserve_slow(c, need);
}

/* The rest of vdev_tx_flush after its first send returned n (bytes, or
 * -errno): more sends, a memory connection, errors. */
int vdev_tx_flush_from(struct vdev_conn *c, ssize_t n);

/* Sends pending bytes without blocking: 0 when all went, -EAGAIN when the
 * socket is full, -errno. Inline: one send that takes everything (the
 * usual reply); anything else is vdev_tx_flush_from's. */
static inline int
vdev_tx_flush(struct vdev_conn *c)
{
    ssize_t n;

    if (!c->tx.len)
        return 0;
    n = send(c->fd, c->tx.buf, c->tx.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (__builtin_expect(n != (ssize_t)c->tx.len, 0))
        return vdev_tx_flush_from(c, n < 0 ? -errno : n);
    c->dev->stats.bytes_out += (size_t)n;
    c->tx.len = 0;
    return 0;
}
/* Sends all pending bytes, waiting for room until deadline (vdev_now_ms()
 * time) with vdev_conn_wait (vdev_stop() ends it). */
int vdev_tx_drain(struct vdev_conn *c, int64_t deadline);
/* Gives a large send buffer back once it is empty. */
void vdev_tx_shrink(struct vdev_conn *c);
/* Pending bytes first, then buf with fds riding on its first byte; waits
 * (bounded, vdev_stop() interrupts) for a client that does not read. buf
 * must not lie inside the pending bytes. */
int vdev_tx_send_fds(struct vdev_conn *c, const void *buf, size_t len,
                     const int *fds, unsigned nr_fds);

/* What a handler that asks the client something (s2c.c) needs of the
 * connection, on a socket or in memory (memconn.c). Sends all of iov,
 * fds on its first byte (as vdev_send_all_w); reads exactly len bytes,
 * fds closed (as vdev_recv_all_w); both wait with vdev_conn_wait. */
int vdev_conn_send(struct vdev_conn *c, struct iovec *iov, int iovcnt,
                   const int *fds, unsigned nr_fds, int64_t deadline);
int vdev_conn_recv_all(struct vdev_conn *c, void *buf, size_t len,
                       int64_t deadline);

/* Replies: the payload is reserved in the send buffer, so a reply costs
 * no copy. */
static inline void *
vdev_reply_alloc(struct vdev_reply *r, struct vdev_conn *c, uint32_t len)
{
    uint8_t *p = vdev_tx_reserve(c, VDEV_HDR_SIZE + (size_t)len);

    if (!p)
        return NULL;
    r->payload = p + VDEV_HDR_SIZE;
    r->len = len;
    return r->payload;
}
/* An error reply (header only) to req. */
int vdev_tx_error(struct vdev_conn *c, const struct vfio_user_header *req,
                  int err);
int vdev_tx_reply_fds(struct vdev_conn *c, uint8_t *p, struct vdev_reply *r);

static inline void
vdev_tx_put_header(uint8_t *p, const struct vfio_user_header *req,
                   uint32_t size, uint32_t err)
{
    struct vfio_user_header h = {
        .msg_id = req->msg_id,
        .cmd = req->cmd,
        .msg_size = size,
        .flags = VFIO_USER_F_TYPE_REPLY | (err ? VFIO_USER_F_ERROR : 0),
        .error_no = err,
    };
    memcpy(p, &h, sizeof(h));
}

/* Queues the reply r built for req (a reply with fds is sent at once). */
static inline int
vdev_tx_reply(struct vdev_conn *c, const struct vfio_user_header *req,
              struct vdev_reply *r)
{
    uint8_t *p;

    if (!r->payload && !vdev_reply_alloc(r, c, 0))
        return -ENOMEM;
    /* A handler that talked to the client (DMA) may have flushed the
     * buffer underneath its reply: bring the payload back behind the
     * header. */
    p = c->tx.buf + c->tx.len;
    if (r->payload != p + VDEV_HDR_SIZE)
        memmove(p + VDEV_HDR_SIZE, r->payload, r->len);
    vdev_tx_put_header(p, req, VDEV_HDR_SIZE + r->len, 0);
    if (r->nr_fds)
        return vdev_tx_reply_fds(c, p, r);
    c->tx.len += VDEV_HDR_SIZE + r->len;
    return 0;
}

/* ------------------------------------------------------------ hand-over */

/* What a connection has not served or sent yet, for a successor
 * (handover.c): pointers into the buffers, valid until the next call. */
struct vdev_conn_backlog {
    const uint8_t *in; /* unserved input */
    size_t in_len;
    size_t skip; /* bytes still to drop of a rejected message */
    const int *fds;
    unsigned nr_fds;
    bool fds_lost;
    size_t fds_msg_end; /* offset in `in` the fds belong to (0: none) */
    const uint8_t *out; /* unsent replies */
    size_t out_len;
};
void vdev_conn_backlog(const struct vdev_conn *c, struct vdev_conn_backlog *b);
/* Installs a predecessor's backlog into a new connection (validated by the
 * caller); b->fds become the connection's (closed with it) whatever the
 * result. */
int vdev_conn_restore(struct vdev_conn *c, const struct vdev_conn_backlog *b);

#endif /* VDEV_SERVER_CONN_H */
