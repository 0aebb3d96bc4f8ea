/* The serving loop: epoll over the listening socket, the client and the stop
 * eventfd; framing of the byte stream into messages; dispatch to one handler
 * per command; batched replies. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"

#define HDR_SIZE ((uint32_t)sizeof(struct vfio_user_header))
#define RX_MIN_ROOM 4096u     /* compact the input when less room is left */
#define TX_HIGH (256u * 1024) /* queued replies that make us flush early */
#define HOT_SPINS 64          /* reads in a row without epoll_wait */
/* Empty reads before a pipelining client's connection may sleep. A client
 * that finds us asleep pays for waking us on its next write; the few
 * microseconds these take cover its turn-around. */
#define IDLE_SPINS 32

#define ALLOWED_FLAGS VFIO_USER_F_NO_REPLY
#define COLD __attribute__((cold, noinline))

/* One handler per command, and how many fds a message may carry. Commands
 * without an entry are answered with ENOSYS. */
static const struct {
    vdev_handler_fn *fn;
    unsigned max_fds;
} handlers[VFIO_USER_MAX_COMMAND] = {
    [VFIO_USER_VERSION] = {vdev_handle_version, 0},
    [VFIO_USER_DEVICE_GET_INFO] = {vdev_handle_device_get_info, 0},
    [VFIO_USER_DEVICE_GET_REGION_INFO] = {vdev_handle_region_info, 0},
    [VFIO_USER_DEVICE_GET_REGION_IO_FDS] = {vdev_handle_region_io_fds, 0},
    [VFIO_USER_REGION_READ] = {vdev_handle_region_read, 0},
    [VFIO_USER_REGION_WRITE] = {vdev_handle_region_write, 0},
    [VFIO_USER_DEVICE_RESET] = {vdev_handle_device_reset, 0},
    [VFIO_USER_REGION_WRITE_MULTI] = {vdev_handle_region_write_multi, 0},
    [VFIO_USER_DEVICE_GET_IRQ_INFO] = {vdev_handle_irq_info, 0},
    [VFIO_USER_DEVICE_SET_IRQS] = {vdev_handle_set_irqs, VDEV_MAX_MSG_FDS},
    [VFIO_USER_DMA_MAP] = {vdev_handle_dma_map, 1},
    [VFIO_USER_DMA_UNMAP] = {vdev_handle_dma_unmap, 0},
    [VFIO_USER_DIRTY_PAGES] = {vdev_handle_dirty_pages, 0},
    [VFIO_USER_DEVICE_FEATURE] = {vdev_handle_device_feature, 0},
    [VFIO_USER_MIG_DATA_READ] = {vdev_handle_mig_data_read, 0},
    [VFIO_USER_MIG_DATA_WRITE] = {vdev_handle_mig_data_write, 0},
};

static void
close_fds(int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

/* ------------------------------------------------------------ replies */

/* Room for need more bytes at sbuf + slen. Flushing first keeps the buffer
 * small; it grows only for replies larger than what is free. */
static COLD uint8_t *
tx_reserve_slow(struct vdev_conn *c, size_t need)
{
    size_t cap;
    uint8_t *p;

    if (c->slen)
        vdev_transport_flush(c);
    if (c->slen + need <= c->scap)
        return c->sbuf + c->slen;
    cap = (c->slen + need + 4095) & ~(size_t)4095;
    p = talloc_realloc_size(c, c->sbuf, cap);
    if (!p)
        return NULL;
    c->sbuf = p;
    c->scap = cap;
    return p + c->slen;
}

static inline uint8_t *
tx_reserve(struct vdev_conn *c, size_t need)
{
    if (c->slen + need <= c->scap)
        return c->sbuf + c->slen;
    return tx_reserve_slow(c, need);
}

void *
vdev_reply_alloc(struct vdev_reply *r, struct vdev_conn *c, uint32_t len)
{
    uint8_t *p = tx_reserve(c, HDR_SIZE + (size_t)len);

    if (!p)
        return NULL;
    r->payload = p + HDR_SIZE;
    r->len = len;
    return r->payload;
}

static void
put_header(uint8_t *p, const struct vfio_user_header *req, uint32_t size,
           uint32_t err)
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

static int
reply_error(struct vdev_conn *c, const struct vfio_user_header *req, int err)
{
    uint8_t *p = tx_reserve(c, HDR_SIZE);

    if (!p)
        return -ENOMEM;
    put_header(p, req, HDR_SIZE, (uint32_t)err);
    c->slen += HDR_SIZE;
    return 0;
}

/* Replies with fds go out on their own sendmsg, after the queued bytes. */
static COLD int
reply_with_fds(struct vdev_conn *c, uint8_t *p, struct vdev_reply *r)
{
    int rc =
        vdev_transport_send_fds(c, p, HDR_SIZE + r->len, r->fds, r->nr_fds);

    if (r->close_fds)
        close_fds(r->fds, r->nr_fds);
    return rc;
}

static inline int
reply_ok(struct vdev_conn *c, const struct vfio_user_header *req,
         struct vdev_reply *r)
{
    uint8_t *p;

    if (!r->payload && !vdev_reply_alloc(r, c, 0))
        return -ENOMEM;
    /* A handler that talked to the client (DMA) may have flushed sbuf
     * underneath its reply: bring the payload back behind the header. */
    p = c->sbuf + c->slen;
    if (r->payload != p + HDR_SIZE)
        memmove(p + HDR_SIZE, r->payload, r->len);
    put_header(p, req, HDR_SIZE + r->len, 0);
    if (r->nr_fds)
        return reply_with_fds(c, p, r);
    c->slen += HDR_SIZE + r->len;
    return 0;
}

/* ------------------------------------------------------------ dispatch */

/* Returns the errno for the client, 0 when served. Before VERSION only
 * VERSION is served; everything else gets EINVAL, as for any message the
 * session's state does not allow (a second VERSION is also EINVAL). A
 * reply, or a command with reserved flag bits set, is EINVAL too; the
 * error field is reserved in commands and ignored, as a reserved field
 * should be by a receiver. */
static int
check_and_call(struct vdev_conn *c, struct vdev_msg *m, struct vdev_reply *r,
               bool fds_lost)
{
    const struct vfio_user_header *h = m->hdr;
    unsigned cmd = h->cmd;

    if (h->flags & ~ALLOWED_FLAGS)
        return EINVAL;
    if (cmd >= VFIO_USER_MAX_COMMAND || !handlers[cmd].fn)
        return ENOSYS;
    if (!c->negotiated && cmd != VFIO_USER_VERSION)
        return EINVAL;
    if (fds_lost || m->nr_fds > handlers[cmd].max_fds)
        return EINVAL;
    return -handlers[cmd].fn(c, m, r);
}

/* Errors, No_reply and owned reply fds: everything but a plain reply. */
static COLD int
finish_slow(struct vdev_conn *c, const struct vfio_user_header *h,
            struct vdev_reply *r, int err, unsigned nr_fds)
{
    bool no_reply = h->flags & VFIO_USER_F_NO_REPLY;

    if (err) {
        c->dev->stats.errors++;
        VDEV_LOG(c->dev, no_reply ? VDEV_LOG_WARN : VDEV_LOG_INFO,
                 "%s (cmd %u, id %u, size %u, %u fds): error %d (%s)",
                 vfio_user_command_name(h->cmd), h->cmd, h->msg_id, h->msg_size,
                 nr_fds, err, strerror(err));
    }
    if (no_reply || err) {
        if (r->close_fds)
            close_fds(r->fds, r->nr_fds);
        return no_reply ? 0 : reply_error(c, h, err);
    }
    return reply_ok(c, h, r);
}

static int
dispatch(struct vdev_conn *c, uint8_t *p, uint32_t size, int *fds,
         unsigned nr_fds, bool fds_lost)
{
    const struct vfio_user_header *h = (const struct vfio_user_header *)p;
    struct vdev_msg m;
    struct vdev_reply r;
    int err;

    m.hdr = h;
    m.body = p + HDR_SIZE;
    m.body_len = size - HDR_SIZE;
    m.fds = fds;
    m.nr_fds = nr_fds;
    r.payload = NULL;
    r.len = 0;
    r.nr_fds = 0;
    r.close_fds = false;
    c->dev->stats.messages++;
    err = check_and_call(c, &m, &r, fds_lost);
    if (nr_fds)
        close_fds(fds, nr_fds);
    if (err | h->flags | r.close_fds)
        return finish_slow(c, h, &r, err, nr_fds);
    return reply_ok(c, h, &r);
}

int
vdev_serve_nested(struct vdev_conn *c)
{
    uint8_t *p = c->rbuf + c->rstart;
    uint32_t size;
    int rc;

    memcpy(&size, p + offsetof(struct vfio_user_header, msg_size),
           sizeof(size));
    c->rstart += size;
    c->s2c_nested = true;
    rc = dispatch(c, p, size, NULL, 0, false);
    c->s2c_nested = false;
    return rc;
}

/* A message too large for us: answer it, then drop its bytes as they come
 * so the stream stays in step. */
static COLD int
reject_oversized(struct vdev_conn *c, const uint8_t *p)
{
    struct vfio_user_header h;
    size_t avail = c->rend - c->rstart;
    size_t take;

    memcpy(&h, p, sizeof(h));
    take = avail < h.msg_size ? avail : h.msg_size;
    c->dev->stats.messages++;
    c->dev->stats.errors++;
    VDEV_LOG(c->dev, VDEV_LOG_INFO, "cmd %u: msg_size %u over the limit %u",
             h.cmd, h.msg_size, VDEV_MAX_MSG_SIZE);
    close_fds(c->rfds, c->nr_rfds);
    c->nr_rfds = 0;
    c->rfds_lost = false;
    c->rstart += take;
    c->rskip = h.msg_size - take;
    if (h.flags & VFIO_USER_F_NO_REPLY)
        return 0;
    return reply_error(c, &h, EMSGSIZE);
}

/* The header is there, whatever msg_size says: answer it and step over
 * those 16 bytes. A client that sent a body anyway gets its next bytes
 * rejected as headers in turn. */
static COLD int
reject_short(struct vdev_conn *c, const uint8_t *p)
{
    struct vfio_user_header h;

    memcpy(&h, p, sizeof(h));
    c->rstart += HDR_SIZE;
    c->dev->stats.messages++;
    c->dev->stats.errors++;
    VDEV_LOG(c->dev, VDEV_LOG_INFO, "cmd %u: msg_size %u below the header",
             h.cmd, h.msg_size);
    if (h.flags & VFIO_USER_F_NO_REPLY)
        return 0;
    return reply_error(c, &h, EINVAL);
}

static COLD int
reject_size(struct vdev_conn *c, const uint8_t *p, uint32_t size)
{
    return size < HDR_SIZE ? reject_short(c, p) : reject_oversized(c, p);
}

/* Drops skipped bytes; fds that came meanwhile belong to the skipped
 * message, as reads never cross its end. */
static COLD void
rx_skip(struct vdev_conn *c)
{
    size_t avail = c->rend - c->rstart;
    size_t take = avail < c->rskip ? avail : c->rskip;

    c->rstart += take;
    c->rskip -= take;
    close_fds(c->rfds, c->nr_rfds);
    c->nr_rfds = 0;
    c->rfds_lost = false;
}

/* The pending fds go with the message [start, end) if it holds the last
 * byte of the read that brought them. */
static COLD unsigned
take_msg_fds(struct vdev_conn *c, size_t start, size_t end, bool *lost)
{
    unsigned n = 0;

    if (c->rfds_msg_end > start && c->rfds_msg_end <= end) {
        n = c->nr_rfds;
        *lost = c->rfds_lost;
    } else if (c->rfds_msg_end > end) {
        return 0; /* a later message's */
    } else {
        /* Cannot happen given how reads are limited; never leak. */
        close_fds(c->rfds, c->nr_rfds);
    }
    c->nr_rfds = 0;
    c->rfds_lost = false;
    return n;
}

/* Serves every complete message in the buffer. Returns 0, or -errno when
 * the connection must go (out of memory, socket errors). */
static int tx_blocked(struct vdev_conn *c);

static int
rx_process(struct vdev_conn *c)
{
    int rc;

    if (c->rskip)
        rx_skip(c);
    while (c->rend - c->rstart >= HDR_SIZE && !c->out_blocked) {
        uint8_t *p = c->rbuf + c->rstart;
        size_t start = c->rstart;
        unsigned nr_fds = 0;
        bool lost = false;
        uint32_t size;

        memcpy(&size, p + offsetof(struct vfio_user_header, msg_size),
               sizeof(size));
        /* one unsigned compare for both size < 16 and size > limit */
        if (size - HDR_SIZE > VDEV_MAX_MSG_SIZE - HDR_SIZE) {
            if ((rc = reject_size(c, p, size)) < 0)
                return rc;
            if (c->rskip)
                return 0;
            continue;
        }
        if (c->rend - start < size)
            break;
        c->rstart = start + size;
        if (c->nr_rfds)
            nr_fds = take_msg_fds(c, start, c->rstart, &lost);
        if ((rc = dispatch(c, p, size, c->rfds, nr_fds, lost)) < 0)
            return rc;
        /* Blocked: wait for EPOLLOUT. Only setting the flag would leave
         * the edge-triggered socket without an event to come back on if
         * the final flush then goes through. */
        if (c->slen >= TX_HIGH && vdev_transport_flush(c) == -EAGAIN &&
            (rc = tx_blocked(c)) < 0)
            return rc;
    }
    return 0;
}

static int
rx_grow(struct vdev_conn *c, size_t need)
{
    size_t cap = (need + 4095) & ~(size_t)4095;
    uint8_t *p = talloc_realloc_size(c, c->rbuf, cap);

    if (!p)
        return -ENOMEM;
    c->rbuf = p;
    c->rcap = cap;
    return 0;
}

static void
rx_compact(struct vdev_conn *c)
{
    size_t avail = c->rend - c->rstart;

    if (!c->rstart)
        return;
    memmove(c->rbuf, c->rbuf + c->rstart, avail);
    if (c->nr_rfds)
        c->rfds_msg_end -= c->rstart;
    c->rstart = 0;
    c->rend = avail;
}

/* rx_prepare's work when the buffer holds a partial message, is large, or
 * fds or a skip are pending. */
static COLD int
rx_prepare_slow(struct vdev_conn *c)
{
    size_t avail = c->rend - c->rstart;
    size_t need = HDR_SIZE;

    if (!avail) {
        c->rstart = c->rend = 0;
        if (c->rcap > VDEV_RBUF_INIT && !c->rskip) {
            /* Give a large message's buffer back once it is served. */
            uint8_t *p = talloc_realloc_size(c, c->rbuf, VDEV_RBUF_INIT);
            if (p) {
                c->rbuf = p;
                c->rcap = VDEV_RBUF_INIT;
            }
        }
    }
    if (c->rskip) {
        c->rwant = c->rskip;
        return 0;
    }
    if (avail >= HDR_SIZE) {
        uint32_t size;
        memcpy(&size, c->rbuf + c->rstart + 4, sizeof(size));
        /* rx_process has dealt with any other size */
        if (size > avail && size <= VDEV_MAX_MSG_SIZE)
            need = size;
        else
            need = avail + 1;
    }
    if (need > c->rcap) {
        int rc = rx_grow(c, need);
        if (rc < 0)
            return rc;
    }
    if (c->rstart + need > c->rcap ||
        (c->rstart && c->rcap - c->rend < RX_MIN_ROOM))
        rx_compact(c);
    c->rwant = c->nr_rfds ? need - avail : 0;
    return 0;
}

/* Makes room for the next read and sets how much it may take. Reads stop at
 * the end of the current message while it owns fds (or is being skipped),
 * so later fds are never mistaken for its own. The common case, an empty
 * buffer of the usual size, costs a few compares. */
static inline int
rx_prepare(struct vdev_conn *c)
{
    if (c->rstart == c->rend && c->rcap == VDEV_RBUF_INIT &&
        !(c->rskip | c->nr_rfds)) {
        c->rstart = c->rend = 0;
        c->rwant = 0;
        return 0;
    }
    return rx_prepare_slow(c);
}

static COLD int
tx_blocked(struct vdev_conn *c)
{
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = VDEV_EV_CONN};

    c->out_blocked = true;
    /* Stop reading until the client takes its replies. */
    return epoll_ctl(c->dev->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0 ? -errno
                                                                      : 0;
}

static COLD void
tx_shrink(struct vdev_conn *c)
{
    uint8_t *p = talloc_realloc_size(c, c->sbuf, VDEV_SBUF_INIT);

    if (p) {
        c->sbuf = p;
        c->scap = VDEV_SBUF_INIT;
    }
}

static int
tx_finish(struct vdev_conn *c)
{
    int rc = vdev_transport_flush(c);

    if (rc == -EAGAIN)
        return tx_blocked(c);
    if (rc == 0 && c->scap > VDEV_SBUF_INIT)
        tx_shrink(c);
    return rc;
}

/* Reads and serves what the client sent, then sends the replies in one
 * go. `spec`: called without epoll saying the socket is readable. A call
 * that served several messages, or a speculative one that found any,
 * marks the client hot: it is pipelining, and the loop tries the socket
 * again before sleeping in epoll_wait. `hup`: epoll reported the hang-up
 * with the bytes; no later edge will come, so read on to the EOF (else a
 * client that sends part of a message and closes at once would hold the
 * connection, and everyone in the backlog, forever). */
static int
serve_input(struct vdev_conn *c, bool spec, bool hup)
{
    uint64_t m0 = c->dev->stats.messages;
    int rc;

    for (;;) {
        size_t room;
        ssize_t n;
        uint16_t s2c_id;
        bool early;

        if ((rc = rx_prepare(c)) < 0)
            return rc;
        room = c->rcap - c->rend;
        if (c->rwant && c->rwant < room)
            room = c->rwant;
        n = vdev_transport_recv(c);
        if (n <= 0) {
            if (n == -EAGAIN)
                break;
            return n ? (int)n : -ECONNRESET;
        }
        /* The socket is edge-triggered (transport.c): new bytes are
         * reported once, so a short read must really mean "empty". The
         * kernel ends a read early after fds, and our own requests to the
         * client (s2c.c) may read the socket while a message is served:
         * after either, read on until EAGAIN. */
        early = c->rfds_msg_end == c->rend && (c->nr_rfds || c->rfds_lost);
        s2c_id = c->next_msg_id;
        if ((rc = rx_process(c)) < 0)
            return rc;
        if (c->out_blocked)
            break;
        /* A short read means the socket is drained: answer now. */
        if ((size_t)n < room && !early && c->next_msg_id == s2c_id && !hup)
            break;
    }
    m0 = c->dev->stats.messages - m0;
    c->rx_hot = m0 > 1 || (spec && m0);
    return tx_finish(c);
}

int
vdev_serve_input(struct vdev_conn *c)
{
    return serve_input(c, false, false);
}

/* The client has room again: send what waited, then serve what was left
 * in the input buffer and read on. */
static int
serve_output(struct vdev_conn *c, bool hup)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                             .data.u32 = VDEV_EV_CONN};
    int rc = vdev_transport_flush(c);

    if (rc == -EAGAIN)
        return 0;
    if (rc < 0)
        return rc;
    c->out_blocked = false;
    if (epoll_ctl(c->dev->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        return -errno;
    if ((rc = rx_process(c)) < 0)
        return rc;
    if (c->out_blocked)
        return tx_finish(c);
    return serve_input(c, false, hup);
}

/* ------------------------------------------------------------ loop */

static COLD void
drop_client(struct vdev_dev *dev, int rc)
{
    VDEV_LOG(dev, rc == -ECONNRESET ? VDEV_LOG_INFO : VDEV_LOG_WARN,
             "client gone: %s", strerror(-rc));
    vdev_conn_close(dev);
}

static bool
drain_stop(struct vdev_dev *dev)
{
    uint64_t v;

    return read(dev->stop_fd, &v, sizeof(v)) == sizeof(v);
}

static COLD void
accept_client(struct vdev_dev *dev)
{
    int rc;

    if (dev->conn)
        return;
    rc = vdev_transport_accept(dev);
    if (rc < 0 && rc != -EAGAIN && rc != -ECONNABORTED)
        VDEV_LOG(dev, VDEV_LOG_WARN, "accept: %s", strerror(-rc));
}

static inline void
serve_conn(struct vdev_dev *dev, uint32_t events)
{
    struct vdev_conn *c = dev->conn;
    bool hup = events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR);
    int rc;

    if (!c)
        return;
    rc = c->out_blocked ? serve_output(c, hup) : serve_input(c, false, hup);
    if (rc < 0)
        drop_client(dev, rc);
}

/* Returns 1 when a stop was requested, else 0. */
static int
handle_events(struct vdev_dev *dev, const struct epoll_event *ev, int n)
{
    int stop = 0;

    for (int i = 0; i < n; i++) {
        uint32_t tag = ev[i].data.u32;

        if (tag == VDEV_EV_CONN) {
            serve_conn(dev, ev[i].events);
        } else if (tag == VDEV_EV_LISTEN) {
            accept_client(dev);
        } else if (tag == VDEV_EV_STOP) {
            drain_stop(dev);
            stop = 1;
        } else if (tag >= VDEV_EV_MGMT) {
            vdev_mgmt_dispatch(dev, tag);
        }
    }
    return stop;
}

int
vdev_fd(const struct vdev_dev *dev)
{
    return dev->epoll_fd;
}

int
vdev_dispatch(struct vdev_dev *dev)
{
    struct epoll_event ev[4];
    int n;

    do {
        n = epoll_wait(dev->epoll_fd, ev, 4, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    /* A stop seen here is kept for the next vdev_run(). */
    handle_events(dev, ev, n);
    return 0;
}

/* A speculative read of a pipelining client found nothing: try a few more
 * before letting vdev_run sleep. Only a client seen pipelining gets this:
 * one that waits for each reply may share our CPU, and spinning would
 * delay it. */
static int
linger(struct vdev_conn *c)
{
    int rc = 0;

    for (unsigned i = 0; i < IDLE_SPINS && !c->rx_hot && !c->out_blocked &&
                         !c->dev->stopping && rc == 0;
         i++)
        rc = serve_input(c, true, false);
    return rc;
}

int
vdev_run(struct vdev_dev *dev)
{
    struct epoll_event ev[4];
    unsigned spins = 0;
    int n;

    while (!dev->stopping) {
        struct vdev_conn *c = dev->conn;

        /* A pipelining client: read again before sleeping, but let the
         * other fds in now and then. */
        if (c && c->rx_hot && !c->out_blocked && spins < HOT_SPINS) {
            int rc = serve_input(c, true, false);
            if (rc == 0 && !c->rx_hot)
                rc = linger(c);
            if (rc < 0)
                drop_client(dev, rc);
            spins++;
            continue;
        }
        spins = 0;
        n = epoll_wait(dev->epoll_fd, ev, 4, -1);
        /* The common wake-up: the client, alone. */
        if (n == 1 && ev[0].data.u32 == VDEV_EV_CONN) {
            serve_conn(dev, ev[0].events);
            continue;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (handle_events(dev, ev, n))
            break;
    }
    drain_stop(dev);
    dev->stopping = 0;
    return 0;
}

void
vdev_stop(struct vdev_dev *dev)
{
    uint64_t one = 1;
    ssize_t rc;

    dev->stopping = 1;
    rc = write(dev->stop_fd, &one, sizeof(one));
    (void)rc;
}

bool
vdev_connected(const struct vdev_dev *dev)
{
    return dev->conn != NULL;
}
