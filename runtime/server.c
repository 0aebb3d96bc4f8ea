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
#define RBUF_INIT (64u * 1024)
#define SBUF_INIT (64u * 1024)
#define RX_MIN_ROOM 4096u      /* compact the input when less room is left */
#define TX_HIGH (256u * 1024)  /* queued replies that make us flush early */

/* epoll tags (transport.c and device.c use the same values) */
#define EV_LISTEN 0u
#define EV_CONN 1u
#define EV_STOP 2u

#define ALLOWED_FLAGS VFIO_USER_F_NO_REPLY

/* One handler per command, and how many fds a message may carry. Commands
 * without an entry are answered with ENOSYS. */
static const struct {
    vdev_handler_fn *fn;
    unsigned max_fds;
} handlers[VFIO_USER_MAX_COMMAND] = {
    [VFIO_USER_VERSION] = { vdev_handle_version, 0 },
    [VFIO_USER_DEVICE_GET_INFO] = { vdev_handle_device_get_info, 0 },
    [VFIO_USER_DEVICE_GET_REGION_INFO] = { vdev_handle_region_info, 0 },
    [VFIO_USER_DEVICE_GET_REGION_IO_FDS] = { vdev_handle_region_io_fds, 0 },
    [VFIO_USER_REGION_READ] = { vdev_handle_region_read, 0 },
    [VFIO_USER_REGION_WRITE] = { vdev_handle_region_write, 0 },
    [VFIO_USER_DEVICE_RESET] = { vdev_handle_device_reset, 0 },
    [VFIO_USER_REGION_WRITE_MULTI] = { vdev_handle_region_write_multi, 0 },
    [VFIO_USER_DEVICE_GET_IRQ_INFO] = { vdev_handle_irq_info, 0 },
    [VFIO_USER_DEVICE_SET_IRQS] = { vdev_handle_set_irqs, VDEV_MAX_MSG_FDS },
    [VFIO_USER_DMA_MAP] = { vdev_handle_dma_map, 1 },
    [VFIO_USER_DMA_UNMAP] = { vdev_handle_dma_unmap, 0 },
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
static __attribute__((noinline)) uint8_t *
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

static int
reply_ok(struct vdev_conn *c, const struct vfio_user_header *req,
         struct vdev_reply *r)
{
    uint8_t *p;
    int rc = 0;

    if (!r->payload && !vdev_reply_alloc(r, c, 0))
        return -ENOMEM;
    /* A handler that talked to the client (DMA) may have flushed sbuf
     * underneath its reply: bring the payload back behind the header. */
    p = c->sbuf + c->slen;
    if (r->payload != p + HDR_SIZE)
        memmove(p + HDR_SIZE, r->payload, r->len);
    put_header(p, req, HDR_SIZE + r->len, 0);
    if (r->nr_fds) {
        rc = vdev_transport_send_fds(c, p, HDR_SIZE + r->len, r->fds,
                                     r->nr_fds);
        if (r->close_fds)
            close_fds(r->fds, r->nr_fds);
    } else {
        c->slen += HDR_SIZE + r->len;
    }
    return rc;
}

/* ------------------------------------------------------------ dispatch */

/* Returns the errno for the client, 0 when served. Before VERSION only
 * VERSION is served; everything else gets EINVAL, as for any message the
 * session's state does not allow (a second VERSION is also EINVAL). */
static int
check_and_call(struct vdev_conn *c, struct vdev_msg *m, struct vdev_reply *r,
               bool fds_lost)
{
    const struct vfio_user_header *h = m->hdr;
    unsigned cmd = h->cmd;

    if (h->flags & ~ALLOWED_FLAGS || h->error_no)
        return EINVAL;
    if (cmd >= VFIO_USER_MAX_COMMAND || !handlers[cmd].fn)
        return ENOSYS;
    if (!c->negotiated && cmd != VFIO_USER_VERSION)
        return EINVAL;
    if (fds_lost || m->nr_fds > handlers[cmd].max_fds)
        return EINVAL;
    return -handlers[cmd].fn(c, m, r);
}

static int
dispatch(struct vdev_conn *c, uint8_t *p, uint32_t size, int *fds,
         unsigned nr_fds, bool fds_lost)
{
    struct vdev_dev *dev = c->dev;
    struct vdev_msg m = {
        .hdr = (const struct vfio_user_header *)p,
        .body = p + HDR_SIZE,
        .body_len = size - HDR_SIZE,
        .fds = fds,
        .nr_fds = nr_fds,
    };
    struct vdev_reply r;
    int err;

    r.payload = NULL;
    r.len = 0;
    r.nr_fds = 0;
    r.close_fds = false;
    dev->stats.messages++;
    err = check_and_call(c, &m, &r, fds_lost);
    close_fds(fds, nr_fds);
    if (err) {
        dev->stats.errors++;
        VDEV_LOG(dev, m.hdr->flags & VFIO_USER_F_NO_REPLY ? VDEV_LOG_WARN
                                                          : VDEV_LOG_INFO,
                 "%s (cmd %u, id %u, size %u, %u fds): error %d (%s)",
                 vfio_user_command_name(m.hdr->cmd), m.hdr->cmd,
                 m.hdr->msg_id, size, nr_fds, err, strerror(err));
    }
    if (m.hdr->flags & VFIO_USER_F_NO_REPLY) {
        if (r.close_fds)
            close_fds(r.fds, r.nr_fds);
        return 0;
    }
    if (err) {
        if (r.close_fds)
            close_fds(r.fds, r.nr_fds);
        return reply_error(c, m.hdr, err);
    }
    return reply_ok(c, m.hdr, &r);
}

/* A message too large for us: answer it, then drop its bytes as they come
 * so the stream stays in step. */
static int
reject_oversized(struct vdev_conn *c, const struct vfio_user_header *h)
{
    size_t avail = c->rend - c->rstart;
    size_t take = avail < h->msg_size ? avail : h->msg_size;
    struct vfio_user_header copy = *h;

    c->dev->stats.messages++;
    c->dev->stats.errors++;
    VDEV_LOG(c->dev, VDEV_LOG_INFO, "cmd %u: msg_size %u over the limit %u",
             h->cmd, h->msg_size, VDEV_MAX_MSG_SIZE);
    close_fds(c->rfds, c->nr_rfds);
    c->nr_rfds = 0;
    c->rfds_lost = false;
    c->rstart += take;
    c->rskip = h->msg_size - take;
    if (copy.flags & VFIO_USER_F_NO_REPLY)
        return 0;
    return reply_error(c, &copy, EMSGSIZE);
}

static int
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

/* Drops skipped bytes; fds that came meanwhile belong to the skipped
 * message, as reads never cross its end. */
static void
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

/* Serves every complete message in the buffer. Returns 0, or -errno when
 * the connection must go (framing lost, out of memory). */
static int
rx_process(struct vdev_conn *c)
{
    int rc;

    if (c->rskip)
        rx_skip(c);
    while (c->rend - c->rstart >= HDR_SIZE && !c->out_blocked) {
        uint8_t *p = c->rbuf + c->rstart;
        struct vfio_user_header h;
        size_t start = c->rstart;
        unsigned nr_fds = 0;
        bool lost = false;

        memcpy(&h, p, sizeof(h));
        if (h.msg_size < HDR_SIZE) {
            /* The header is there, whatever msg_size says: answer it and
             * step over those 16 bytes. A client that sent a body anyway
             * gets its next bytes rejected as headers in turn. */
            if ((rc = reject_short(c, p)) < 0)
                return rc;
            continue;
        }
        if (h.msg_size > VDEV_MAX_MSG_SIZE) {
            if ((rc = reject_oversized(c, &h)) < 0)
                return rc;
            if (c->rskip)
                return 0;
            continue;
        }
        if (c->rend - start < h.msg_size)
            break;
        c->rstart = start + h.msg_size;
        if (c->nr_rfds && c->rfds_msg_end > start) {
            if (c->rfds_msg_end <= c->rstart) {
                nr_fds = c->nr_rfds;
                lost = c->rfds_lost;
                c->nr_rfds = 0;
                c->rfds_lost = false;
            }
        } else if (c->nr_rfds) {
            /* Cannot happen given how reads are limited; never leak. */
            close_fds(c->rfds, c->nr_rfds);
            c->nr_rfds = 0;
            c->rfds_lost = false;
        }
        if ((rc = dispatch(c, p, h.msg_size, c->rfds, nr_fds, lost)) < 0)
            return rc;
        if (c->slen >= TX_HIGH && vdev_transport_flush(c) == -EAGAIN)
            c->out_blocked = true;
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

/* Makes room for the next read and sets how much it may take. Reads stop at
 * the end of the current message while it owns fds (or is being skipped),
 * so later fds are never mistaken for its own. */
static int
rx_prepare(struct vdev_conn *c)
{
    size_t avail = c->rend - c->rstart;
    size_t need = HDR_SIZE;

    if (!avail && !c->rskip && c->rcap <= RBUF_INIT) {
        /* The usual case: all served, the whole buffer free. */
        c->rstart = c->rend = 0;
        c->rwant = c->nr_rfds ? HDR_SIZE : 0;
        return 0;
    }
    if (!avail) {
        c->rstart = c->rend = 0;
        if (c->rcap > RBUF_INIT && !c->rskip) {
            /* Give a large message's buffer back once it is served. */
            uint8_t *p = talloc_realloc_size(c, c->rbuf, RBUF_INIT);
            if (p) {
                c->rbuf = p;
                c->rcap = RBUF_INIT;
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

static int
tx_finish(struct vdev_conn *c)
{
    int rc = vdev_transport_flush(c);

    if (rc == -EAGAIN) {
        struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = EV_CONN };
        c->out_blocked = true;
        /* Stop reading until the client takes its replies. */
        return epoll_ctl(c->dev->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0
                   ? -errno
                   : 0;
    }
    if (rc == 0 && c->scap > SBUF_INIT) {
        uint8_t *p = talloc_realloc_size(c, c->sbuf, SBUF_INIT);
        if (p) {
            c->sbuf = p;
            c->scap = SBUF_INIT;
        }
    }
    return rc;
}

int
vdev_serve_input(struct vdev_conn *c)
{
    int rc;

    for (;;) {
        size_t room;
        ssize_t n;

        if ((rc = rx_prepare(c)) < 0)
            return rc;
        room = c->rcap - c->rend;
        if (c->rwant && c->rwant < room)
            room = c->rwant;
        n = vdev_transport_recv(c);
        if (n == -EAGAIN)
            break;
        if (n <= 0)
            return n ? (int)n : -ECONNRESET;
        if ((rc = rx_process(c)) < 0)
            return rc;
        if (c->out_blocked)
            break;
        /* A short read means the socket is drained: answer now. */
        if ((size_t)n < room)
            break;
    }
    return tx_finish(c);
}

/* The client has room again: send what waited, then serve what was left
 * in the input buffer and read on. */
static int
serve_output(struct vdev_conn *c)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = EV_CONN };
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
    return vdev_serve_input(c);
}

/* ------------------------------------------------------------ loop */

static void
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

/* Returns 1 when a stop was requested, 0, or -errno (fatal). */
static inline __attribute__((always_inline)) int
handle_events(struct vdev_dev *dev, const struct epoll_event *ev, int n)
{
    int stop = 0;

    for (int i = 0; i < n; i++) {
        int rc;

        switch (ev[i].data.u32) {
        case EV_STOP:
            drain_stop(dev);
            stop = 1;
            break;
        case EV_LISTEN:
            if (dev->conn)
                break;
            rc = vdev_transport_accept(dev);
            if (rc < 0 && rc != -EAGAIN && rc != -ECONNABORTED)
                VDEV_LOG(dev, VDEV_LOG_WARN, "accept: %s", strerror(-rc));
            break;
        case EV_CONN:
            if (!dev->conn)
                break;
            if (dev->conn->out_blocked)
                rc = serve_output(dev->conn);
            else
                rc = vdev_serve_input(dev->conn);
            if (rc < 0)
                drop_client(dev, rc);
            break;
        default:
            if (ev[i].data.u32 >= VDEV_EV_MGMT)
                vdev_mgmt_dispatch(dev, ev[i].data.u32);
            break;
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

int
vdev_run(struct vdev_dev *dev)
{
    struct epoll_event ev[4];
    int n;

    while (!dev->stopping) {
        n = epoll_wait(dev->epoll_fd, ev, 4, -1);
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
