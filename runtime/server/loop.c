/* The serving loop: epoll over the listening socket, the client and the stop
 * eventfd; dispatch of each message (server/conn.c frames them) to one
 * handler per command; replies flushed once the input is drained. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fdio.h"
#include "server/server.h"
#include "server/conn.h"

#define TX_HIGH (256u * 1024) /* queued replies that make us flush early */
#define HOT_SPINS 64          /* reads in a row without epoll_wait */
/* Reads of the client per turn (each up to the buffer, 64 KiB): a client
 * that keeps its socket full then lets the management channel and the
 * stop in between turns. */
#define READS_PER_TURN 4
/* Empty reads before a pipelining client's connection may sleep. A client
 * that finds us asleep pays for waking us on its next write; the few
 * microseconds these take cover its turn-around. */
#define IDLE_SPINS 32

#define ALLOWED_FLAGS VFIO_USER_F_NO_REPLY
#define COLD __attribute__((cold, noinline))

/* One handler per command, and how many fds a message may carry. Commands
 * without an entry are answered with ENOSYS (the kernel's unknown ioctl is
 * ENOTTY, but QEMU's vfio-user client answers an unknown command with
 * ENOSYS: runtime/KERNEL.md, H1). */
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

/* ------------------------------------------------------------ dispatch */

/* fds on a command that takes none: closed before its handler runs. A
 * handler that asks the client something (s2c.c) reads on, and fds that
 * arrive then are stored where these are (rx.fds): they would be lost,
 * open, and the new ones closed in their place. (dispatch() closes what
 * a handler leaves, even cut-off ones.) */
static COLD void
drop_fds(struct vdev_msg *m)
{
    vdev_close_fds(m->fds, m->nr_fds);
    m->nr_fds = 0;
}

/* Returns the errno for the client, 0 when served. Before VERSION only
 * VERSION is served; everything else gets EINVAL, as for any message the
 * session's state does not allow (a second VERSION is also EINVAL). A
 * reply, or a command with reserved flag bits set, is EINVAL too; the
 * error field is reserved in commands and ignored, as a reserved field
 * should be by a receiver. fds sent with a command that takes none mean
 * nothing to it (an ioctl has no fds to refuse): they are closed and the
 * command served (KERNEL.md, H4). */
static inline __attribute__((always_inline)) int
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
    if (!handlers[cmd].max_fds) {
        if (__builtin_expect(m->nr_fds != 0, 0))
            drop_fds(m);
    } else if (fds_lost || m->nr_fds > handlers[cmd].max_fds)
        return EINVAL;
    return -handlers[cmd].fn(c, m, r);
}

/* A reply to one of our DMA requests (s2c.c) that no wait took: its wait
 * had given up (a timeout), or the client answered twice. Answering it
 * would send the client a reply to its own reply; any other reply where a
 * command belongs is refused (KERNEL.md, H2). */
static bool
late_reply(const struct vdev_conn *c, const struct vfio_user_header *h)
{
    uint16_t back = (uint16_t)(c->next_msg_id - 1u - h->msg_id);

    return (h->flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY &&
           (h->cmd == VFIO_USER_DMA_READ || h->cmd == VFIO_USER_DMA_WRITE) &&
           back < c->s2c_sent;
}

/* Errors, No_reply and owned reply fds: everything but a plain reply. */
static COLD int
finish_slow(struct vdev_conn *c, const struct vfio_user_header *h,
            struct vdev_reply *r, int err, unsigned nr_fds)
{
    bool no_reply = h->flags & VFIO_USER_F_NO_REPLY;

    if (err && late_reply(c, h)) {
        VDEV_LOG(c->dev, VDEV_LOG_WARN,
                 "a late reply to our %s (id %u) dropped",
                 vfio_user_command_name(h->cmd), h->msg_id);
        c->dev->stats.errors++;
        return 0;
    }

    if (err) {
        c->dev->stats.errors++;
        VDEV_LOG(c->dev, no_reply ? VDEV_LOG_WARN : VDEV_LOG_INFO,
                 "%s (cmd %u, id %u, size %u, %u fds): error %d (%s)",
                 vfio_user_command_name(h->cmd), h->cmd, h->msg_id, h->msg_size,
                 nr_fds, err, strerror(err));
    }
    if (no_reply || err) {
        if (r->close_fds)
            vdev_close_fds(r->fds, r->nr_fds);
        return no_reply ? 0 : vdev_tx_error(c, h, err);
    }
    return vdev_tx_reply(c, h, r);
}

static inline __attribute__((always_inline)) int
dispatch(struct vdev_conn *c, const struct vdev_rx_msg *in)
{
    const struct vfio_user_header *h = (const struct vfio_user_header *)in->p;
    struct vdev_msg m;
    struct vdev_reply r;
    int err;

    m.hdr = h;
    m.body = in->p + VDEV_HDR_SIZE;
    m.body_len = in->size - VDEV_HDR_SIZE;
    m.fds = c->rx.fds;
    m.nr_fds = in->nr_fds;
    r.payload = NULL;
    r.len = 0;
    r.nr_fds = 0;
    r.close_fds = false;
    c->dev->stats.messages++;
    err = check_and_call(c, &m, &r, in->fds_lost);
    if (in->nr_fds)
        vdev_close_fds(c->rx.fds, in->nr_fds);
    if (err | h->flags | r.close_fds)
        return finish_slow(c, h, &r, err, in->nr_fds);
    return vdev_tx_reply(c, h, &r);
}

/* Whether the command at the head of the input may be served while a
 * handler waits for the client: accesses to BARs and config space (what a
 * VMM's vCPU may be blocked on) and questions. Anything that changes what
 * the waiting handler holds waits for it: an unmap freed the DMA map a
 * device's copy was walking; a reset, a feature or the legacy migration
 * region (dirty logging, the device's state) change what is under it. */
static bool
nested_safe(const struct vdev_conn *c)
{
    const struct vdev_rx *rx = &c->rx;
    struct vfio_user_header h;
    uint32_t region;

    if (rx->end - rx->start < VDEV_HDR_SIZE + 16)
        return false;
    memcpy(&h, rx->buf + rx->start, sizeof(h));
    memcpy(&region, rx->buf + rx->start + VDEV_HDR_SIZE + 8, sizeof(region));
    switch (h.cmd) {
    case VFIO_USER_REGION_READ:
    case VFIO_USER_REGION_WRITE:
        return region <= VDEV_CONFIG_INDEX;
    case VFIO_USER_DEVICE_GET_INFO:
    case VFIO_USER_DEVICE_GET_REGION_INFO:
    case VFIO_USER_DEVICE_GET_IRQ_INFO:
        return true;
    default:
        return false;
    }
}

int
vdev_serve_nested(struct vdev_conn *c)
{
    struct vdev_rx_msg m;
    int rc = nested_safe(c) ? vdev_rx_take_command(c, &m) : 0;

    if (rc <= 0)
        return rc;
    c->s2c_nested = true;
    rc = dispatch(c, &m);
    c->s2c_nested = false;
    return rc < 0 ? rc : 1;
}

static int tx_blocked(struct vdev_conn *c);

/* Serves every whole message in the buffer. Returns 0, or -errno when
 * the connection must go (out of memory, socket errors). */
static inline __attribute__((always_inline)) int
rx_process(struct vdev_conn *c)
{
    struct vdev_rx_msg m;
    int rc = 0;

    while (!c->out_blocked && (rc = vdev_rx_take(c, &m)) > 0) {
        if ((rc = dispatch(c, &m)) < 0)
            return rc;
        if (c->broken) /* a server->client request failed (s2c.c) */
            return c->broken;
        /* Blocked: wait for EPOLLOUT. Only setting the flag would leave
         * the edge-triggered socket without an event to come back on if
         * the final flush then goes through. */
        if (c->tx.len >= TX_HIGH && vdev_tx_flush(c) == -EAGAIN &&
            (rc = tx_blocked(c)) < 0)
            return rc;
    }
    return rc < 0 ? rc : 0;
}

/* What epoll waits for on the client's socket: its input (edge-triggered;
 * a MOD re-checks readiness and queues the event again, behind the other
 * sources ready now), or, while our replies wait, room for them. A memory
 * connection is in no epoll set: vdev_conn_serve resumes it. */
static int
conn_epoll_mod(struct vdev_conn *c)
{
    struct epoll_event ev = {
        .events = c->out_blocked ? EPOLLOUT : EPOLLIN | EPOLLRDHUP | EPOLLET,
        .data.u32 = VDEV_EV_CONN,
    };

    if (c->mem)
        return 0;
    return epoll_ctl(c->dev->srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0
               ? -errno
               : 0;
}

/* Stop reading until the client takes its replies. */
static COLD int
tx_blocked(struct vdev_conn *c)
{
    c->out_blocked = true;
    return conn_epoll_mod(c);
}

static int
tx_finish(struct vdev_conn *c)
{
    int rc = vdev_tx_flush(c);

    if (rc == -EAGAIN)
        return tx_blocked(c);
    if (rc == 0 && c->tx.cap > VDEV_SBUF_INIT)
        vdev_tx_shrink(c);
    return rc;
}

/* The read budget ran out and the socket may hold more. It is edge-
 * triggered, so re-arm it (and vdev_fd() turns readable for a caller's
 * own loop). */
static COLD int
yield_input(struct vdev_conn *c)
{
    return conn_epoll_mod(c);
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
    unsigned reads = 0;
    bool yield = false;
    int rc;

    for (;;) {
        size_t limit;
        ssize_t n;
        uint16_t s2c_id;
        bool early;

        if (reads++ == READS_PER_TURN) {
            yield = true;
            break;
        }
        if ((rc = vdev_rx_prepare(c, &limit)) < 0)
            return rc;
        n = vdev_rx_read(c, limit);
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
        early = vdev_rx_ended_at_fds(c);
        s2c_id = c->next_msg_id;
        if ((rc = rx_process(c)) < 0)
            return rc;
        if (c->out_blocked)
            break;
        /* A short read means the socket is drained: answer now. */
        if ((size_t)n < limit && !early && c->next_msg_id == s2c_id && !hup)
            break;
    }
    m0 = c->dev->stats.messages - m0;
    c->rx_hot = !yield && (m0 > 1 || (spec && m0));
    if (yield && (rc = yield_input(c)) < 0)
        return rc;
    return tx_finish(c);
}

/* The client has room again: send what waited, then serve what was left
 * in the input buffer and read on. */
static int
serve_output(struct vdev_conn *c, bool hup)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                             .data.u32 = VDEV_EV_CONN};
    int rc = vdev_tx_flush(c);

    if (rc == -EAGAIN)
        return 0;
    if (rc < 0)
        return rc;
    c->out_blocked = false;
    if (!c->mem &&
        epoll_ctl(c->dev->srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        return -errno;
    if ((rc = rx_process(c)) < 0)
        return rc;
    if (c->out_blocked)
        return tx_finish(c);
    return serve_input(c, false, hup);
}

/* ------------------------------------------------------------ waits */

/* The loop's other sources while a handler waits for the client: the
 * management channel runs what changes nothing and puts off the rest
 * (srv->nested); the stop is the caller's. Returns whether an event of
 * the client's socket was taken. */
static bool
serve_aside(struct vdev_dev *dev)
{
    struct epoll_event ev[4];
    bool conn = false;
    int n = epoll_wait(dev->srv->epoll_fd, ev, 4, 0);

    for (int i = 0; i < n; i++) {
        uint32_t tag = ev[i].data.u32;

        if (tag == VDEV_EV_CONN)
            conn = true;
        else if (tag >= VDEV_EV_MGMT)
            dev->srv->ext_dispatch(dev, tag);
        else if (tag >= VDEV_EV_TICK)
            vdev_server_aux_aside(dev, tag); /* tick.c: wait, quietly */
    }
    return conn;
}

/* A memory connection (memconn.c) on its own fd: its client is the
 * caller and busy; what it has queued is all that will come, and it makes
 * no room while the server waits. */
static COLD int
mem_wait(struct vdev_conn *c, short events)
{
    return (events & POLLIN) && vdev_mem_readable(c) ? 0 : -ETIMEDOUT;
}

int
vdev_conn_wait(void *conn, int fd, short events, int64_t deadline)
{
    struct vdev_conn *c = conn;
    struct vdev_dev *dev = c->dev;
    struct vdev_server *srv = dev->srv;
    bool aside = srv->ext_dispatch && !srv->nested;
    struct pollfd p[3] = {
        {.fd = fd, .events = events},
        {.fd = srv->stop_fd, .events = POLLIN},
        {.fd = srv->epoll_fd, .events = POLLIN},
    };
    bool rearm = false;
    int rc;

    if (c->mem && fd == c->fd)
        return mem_wait(c, events);
    srv->nested = aside || srv->nested;
    for (;;) {
        int64_t left = deadline - vdev_now_ms();
        int n;

        if (left <= 0) {
            rc = -ETIMEDOUT;
            break;
        }
        n = poll(p, aside ? 3 : 2, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (n <= 0)
            continue;
        if (p[1].revents & POLLIN) {
            rc = -ECANCELED;
            break;
        }
        if (p[0].revents) {
            rc = vdev_poll_ready(p[0].revents, events);
            break;
        }
        if (p[2].revents & POLLIN)
            rearm |= serve_aside(dev);
    }
    if (aside) {
        srv->nested = false;
        if (srv->ext_resume)
            srv->ext_resume(dev);
        vdev_server_aux_resume(dev);
    }
    /* An edge of the client's socket a nested epoll_wait took is
     * reported again. */
    if (rearm && srv->conn == c)
        conn_epoll_mod(c);
    return rc;
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

    return read(dev->srv->stop_fd, &v, sizeof(v)) == sizeof(v);
}

static COLD void
accept_client(struct vdev_dev *dev)
{
    int rc;

    if (dev->srv->conn)
        return;
    rc = vdev_transport_accept(dev);
    if (rc < 0 && rc != -EAGAIN && rc != -ECONNABORTED)
        VDEV_LOG(dev, VDEV_LOG_WARN, "accept: %s", strerror(-rc));
}

static inline void
serve_conn(struct vdev_dev *dev, uint32_t events)
{
    struct vdev_conn *c = dev->srv->conn;
    bool hup = events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR);
    int rc;

    if (!c)
        return;
    rc = c->out_blocked ? serve_output(c, hup) : serve_input(c, false, hup);
    if (rc < 0)
        drop_client(dev, rc);
}

int
vdev_conn_serve(struct vdev_dev *dev, bool hup)
{
    struct vdev_conn *c = dev->srv->conn;
    int rc;

    if (!c)
        return -ENOTCONN;
    /* A turn ends after so many reads (fairness); a socket's epoll event
     * brings the loop back for the rest, a memory connection loops here. */
    do
        rc = c->out_blocked ? serve_output(c, hup) : serve_input(c, false, hup);
    while (rc >= 0 && c->mem && !c->out_blocked && vdev_mem_readable(c));
    if (rc < 0)
        drop_client(dev, rc);
    return rc < 0 ? rc : 0;
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
        } else if (tag >= VDEV_EV_MGMT && dev->srv->ext_dispatch) {
            dev->srv->ext_dispatch(dev, tag);
            /* A management command's device hook may have asked the
             * client something (DMA) and found it unresponsive. */
            if (dev->srv->conn && dev->srv->conn->broken)
                drop_client(dev, dev->srv->conn->broken);
        } else if (tag >= VDEV_EV_TICK && tag < VDEV_EV_MGMT) {
            vdev_server_aux_event(dev, tag, ev[i].events); /* tick.c */
            /* A timer's or stream's device code did DMA and found the
             * client unresponsive. */
            if (dev->srv->conn && dev->srv->conn->broken)
                drop_client(dev, dev->srv->conn->broken);
        }
    }
    return stop;
}

int
vdev_fd(const struct vdev_dev *dev)
{
    return dev->srv->epoll_fd;
}

int
vdev_dispatch(struct vdev_dev *dev)
{
    struct epoll_event ev[4];
    int n;

    do {
        n = epoll_wait(dev->srv->epoll_fd, ev, 4, 0);
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
                         !c->dev->srv->stopping && rc == 0;
         i++)
        rc = serve_input(c, true, false);
    return rc;
}

/* Probes the epoll set for up to p->ns: the events, or 0 when the window
 * closed empty. Kept out of line, so that profiles (bench_insn_model.sh)
 * tell the instructions of waiting from those of serving. */
static __attribute__((noinline)) int
probe_events(struct vdev_server *srv, struct epoll_event *ev)
{
    struct vdev_poll *p = &srv->poll;
    uint64_t start = 0;
    int n;

    for (unsigned i = 1;; i++) {
        if ((n = epoll_wait(srv->epoll_fd, ev, 4, 0)) != 0)
            return n;
        /* On 2 CPUs the QEMU thread our reply woke may be queued behind
         * us: let it run rather than spin in its way. */
        sched_yield();
        /* Two system calls a turn take a microsecond or more: the clock
         * every fourth turn is close enough, and a request found in the
         * first turns reads none. */
        if (i & 3)
            continue;
        if (!start)
            start = vdev_now_ns();
        else if (vdev_now_ns() - start >= p->ns)
            return 0;
    }
}

/* Waits for events: probing while the polling window is open (poll.h),
 * then asleep. */
static int
wait_events(struct vdev_server *srv, struct epoll_event *ev)
{
    struct vdev_poll *p = &srv->poll;
    int n;

    p->probing = p->ns && srv->conn;
    p->found = false;
    if (p->probing && (n = probe_events(srv, ev)) != 0) {
        p->found = n > 0;
        return n;
    }
    return epoll_wait(srv->epoll_fd, ev, 4, -1);
}

static bool
has_conn_event(const struct epoll_event *ev, int n)
{
    for (int i = 0; i < n; i++)
        if (ev[i].data.u32 == VDEV_EV_CONN)
            return true;
    return false;
}

int
vdev_set_poll_us(struct vdev_dev *dev, unsigned us)
{
    struct vdev_poll *p = &dev->srv->poll;

    if (us > VDEV_POLL_MAX_US_LIMIT)
        return -EINVAL;
    p->max_ns = us * 1000ull;
    if (p->ns > p->max_ns)
        p->ns = p->max_ns;
    return 0;
}

int
vdev_run(struct vdev_dev *dev)
{
    struct vdev_server *srv = dev->srv;
    struct epoll_event ev[4];
    unsigned spins = 0;
    bool client;
    int n;

    while (!srv->stopping) {
        struct vdev_conn *c = srv->conn;

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
        n = wait_events(srv, ev);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        client = srv->poll.max_ns && has_conn_event(ev, n);
        /* The common wake-up: the client, alone. */
        if (n == 1 && ev[0].data.u32 == VDEV_EV_CONN)
            serve_conn(dev, ev[0].events);
        else if (handle_events(dev, ev, n))
            break;
        if (client)
            vdev_poll_replied(&srv->poll, srv->poll.probing, srv->poll.found,
                              vdev_now_ns);
    }
    drain_stop(dev);
    srv->stopping = 0;
    return 0;
}

void
vdev_stop(struct vdev_dev *dev)
{
    uint64_t one = 1;
    ssize_t rc;

    dev->srv->stopping = 1;
    rc = write(dev->srv->stop_fd, &one, sizeof(one));
    (void)rc;
}

bool
vdev_connected(const struct vdev_dev *dev)
{
    return !!dev->srv->conn;
}
