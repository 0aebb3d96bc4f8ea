/* Host endpoints of the device's byte streams (device/stream.c holds the
 * device's side, stream_bind.c makes the endpoints): moving bytes between
 * an endpoint and the device's FIFOs on the serving loop, and a unix
 * endpoint's clients. Every fd is non-blocking and level-triggered; interest
 * follows what can move (input only while the device has receive space,
 * output only after a write met a full endpoint), so a host that sends too
 * much or reads too little holds the device back instead of the loop. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/stream_ep.h"

/* Bytes moved each way per service, so one stream cannot hold the loop;
 * more is served on the next turn. */
#define TURN_BYTES (64u * 1024u)
#define CHUNK 4096u

static void
close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Takes a (registered) fd out of epoll and closes it; the other direction
 * forgets it when both were one fd. */
static void
drop_fd(struct vdev_sep *e, int *fd)
{
    int f = *fd;

    if (f < 0)
        return;
    epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_DEL, f, NULL);
    if (e->in_fd == f)
        e->in_fd = -1;
    if (e->out_fd == f)
        e->out_fd = -1;
    close(f);
    *fd = -1;
}

static int
ep_destructor(struct vdev_sep *e)
{
    struct stat st;

    if (e->in_fd == e->out_fd)
        e->out_fd = -1;
    close_fd(&e->in_fd);
    close_fd(&e->out_fd);
    close_fd(&e->hold_fd);
    close_fd(&e->listen_fd);
    /* Only our own socket file, not one a successor made since. */
    if (e->path && stat(e->path, &st) == 0 && st.st_dev == e->sock_dev &&
        st.st_ino == e->sock_ino)
        unlink(e->path);
    return 0;
}

/* ------------------------------------------------------------ interest */

static int
ep_ctl(struct vdev_sep *e, int fd, unsigned k, uint32_t want, uint32_t *have,
       bool *polled)
{
    struct epoll_event ev = {.events = want, .data.u32 = vdev_sep_tag(e, k)};
    bool parked = e->parked & (1u << k);

    if (!*polled || (want == *have && !parked))
        return 0;
    if (epoll_ctl(vdev_sep_epfd(e), parked ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd,
                  &ev) < 0)
        return -errno;
    e->parked &= ~(1u << k);
    *have = want;
    return 0;
}

/* Registers fd with no interest yet; a regular file (EPERM) is served
 * without epoll: always ready. */
int
vdev_sep_add(struct vdev_sep *e, int fd, unsigned k, bool *polled)
{
    struct epoll_event ev = {.events = 0, .data.u32 = vdev_sep_tag(e, k)};

    if (epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_ADD, fd, &ev) == 0) {
        *polled = true;
        return 0;
    }
    if (errno != EPERM)
        return -errno;
    *polled = false;
    return 0;
}

static void
update_interest(struct vdev_sep *e)
{
    struct vdev_stream *s = e->s;
    struct vdev_dev *dev = s->dev;
    bool run = dev->running;
    uint32_t in = 0, out = 0;

    if (run && e->in_fd >= 0 && !e->in_eof &&
        s->ops.rx_space(dev, s->opaque) > 0)
        in = EPOLLIN;
    if (run && e->out_fd >= 0 && e->out_blocked && !e->out_dead)
        out = EPOLLOUT;
    if (e->in_fd >= 0 && e->in_fd == e->out_fd) {
        ep_ctl(e, e->in_fd, SEP_IN, in | out, &e->in_ev, &e->in_poll);
        return;
    }
    if (e->in_fd >= 0)
        ep_ctl(e, e->in_fd, SEP_IN, in, &e->in_ev, &e->in_poll);
    if (e->out_fd >= 0)
        ep_ctl(e, e->out_fd, SEP_OUT, out, &e->out_ev, &e->out_poll);
    if (e->parked & (1u << SEP_LISTEN))
        vdev_sep_listen(e, e->in_fd < 0);
    /* A regular file never signals: read it on the next turn. */
    if (in && !e->in_poll)
        s->kicked = true;
}

/* ------------------------------------------------------------ clients */

void
vdev_sep_listen(struct vdev_sep *e, bool on)
{
    struct epoll_event ev = {.events = on ? EPOLLIN : 0,
                             .data.u32 = vdev_sep_tag(e, SEP_LISTEN)};
    bool parked = e->parked & (1u << SEP_LISTEN);

    if (e->listen_fd < 0)
        return;
    epoll_ctl(vdev_sep_epfd(e), parked ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
              e->listen_fd, &ev);
    e->parked &= ~(1u << SEP_LISTEN);
}

/* The unix client went away (or failed): the next one may come. */
static void
drop_client(struct vdev_sep *e, const char *why)
{
    VDEV_LOG(e->s->dev, VDEV_LOG_INFO, "stream %s: host client gone (%s)",
             e->s->name, why);
    drop_fd(e, &e->in_fd);
    e->in_ev = e->out_ev = 0;
    e->in_eof = e->out_blocked = false;
    e->parked &= ~(1u << SEP_IN);
    vdev_sep_listen(e, true);
}

static void
accept_client(struct vdev_sep *e)
{
    int fd;

    if (e->in_fd >= 0)
        return;
    fd = accept4(e->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (vdev_sep_add(e, fd, SEP_IN, &e->in_poll) < 0) {
        close(fd);
        return;
    }
    e->in_fd = e->out_fd = fd;
    e->in_ev = e->out_ev = 0;
    e->out_poll = e->in_poll;
    e->in_eof = e->out_blocked = e->out_dead = false;
    vdev_sep_listen(e, false); /* one at a time: others wait in the backlog */
    VDEV_LOG(e->s->dev, VDEV_LOG_INFO, "stream %s: host client connected",
             e->s->name);
    e->s->kicked = true;
}

/* Output failed for good: a unix client is dropped, other endpoints go on
 * dropping the device's bytes (a full disk, a closed stdout). */
static void
out_failed(struct vdev_sep *e, int err)
{
    if (e->kind == VDEV_STREAM_UNIX) {
        drop_client(e, strerror(err));
        return;
    }
    if (!e->out_dead)
        VDEV_LOG(e->s->dev, VDEV_LOG_WARN,
                 "stream %s: writing to %s: %s; dropping its output from now "
                 "on",
                 e->s->name, e->where, strerror(err));
    e->out_dead = true;
    if (e->out_fd != e->in_fd && e->out_poll)
        drop_fd(e, &e->out_fd);
}

static void
in_ended(struct vdev_sep *e)
{
    e->in_eof = true;
    /* stdin at its end: a pipe would report the hang-up for ever. */
    if (e->kind == VDEV_STREAM_STDIO)
        drop_fd(e, &e->in_fd);
}

/* ------------------------------------------------------------ service */

static bool
tx_sink(const struct vdev_sep *e)
{
    return e && e->out_fd >= 0 && !e->out_dead;
}

static ssize_t
put_bytes(struct vdev_sep *e, const uint8_t *buf, size_t n)
{
    ssize_t w;

    do {
        if (e->kind == VDEV_STREAM_UNIX)
            w = send(e->out_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        else
            w = write(e->out_fd, buf, n);
    } while (w < 0 && errno == EINTR);
    return w < 0 ? -errno : w;
}

/* Device -> host. Without an endpoint to write to (unbound, no client,
 * output failed) the bytes are taken and dropped. */
static void
do_tx(struct vdev_stream *s, struct vdev_sep *e)
{
    struct vdev_dev *dev = s->dev;
    uint8_t buf[CHUNK];
    size_t budget = TURN_BYTES;
    bool drained = false;

    if (e)
        e->out_blocked = false;
    while (budget) {
        size_t want = budget < CHUNK ? budget : CHUNK;
        size_t n = s->ops.tx_peek(dev, s->opaque, buf, want);
        ssize_t w;

        if (n == 0)
            break;
        n = n < want ? n : want; /* never trust more than asked */
        w = tx_sink(e) ? put_bytes(e, buf, n) : (ssize_t)n;
        if (w == -EAGAIN) {
            e->out_blocked = true;
            break;
        }
        if (w < 0) {
            out_failed(e, (int)-w);
            continue;
        }
        s->ops.tx_consume(dev, s->opaque, (size_t)w);
        vdev_dev_settle(dev);
        drained = true;
        budget -= (size_t)w;
        if ((size_t)w < n) {
            e->out_blocked = true;
            break;
        }
    }
    if (!budget)
        s->kicked = true; /* more next turn */
    if (drained && s->ops.tx_empty && !s->ops.tx_peek(dev, s->opaque, buf, 1)) {
        s->ops.tx_empty(dev, s->opaque);
        vdev_dev_settle(dev);
    }
}

/* Host -> device, only as much as the device has room for. */
static void
do_rx(struct vdev_stream *s, struct vdev_sep *e)
{
    struct vdev_dev *dev = s->dev;
    uint8_t buf[CHUNK];
    size_t budget = TURN_BYTES;

    if (!e || e->in_fd < 0 || e->in_eof)
        return;
    while (budget && e->in_fd >= 0) {
        size_t space = s->ops.rx_space(dev, s->opaque);
        ssize_t n;

        if (space == 0 || !dev->running)
            return;
        space = space < CHUNK ? space : CHUNK;
        space = space < budget ? space : budget;
        n = read(e->in_fd, buf, space);
        if (n > 0) {
            s->ops.rx(dev, s->opaque, buf, (size_t)n);
            vdev_dev_settle(dev);
            budget -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n == 0 || e->kind != VDEV_STREAM_UNIX) {
            in_ended(e);
            return;
        }
        drop_client(e, strerror(errno));
        return;
    }
    if (!budget)
        s->kicked = true;
}

static void
service(struct vdev_stream *s)
{
    struct vdev_sep *e = s->binding;

    s->kicked = false;
    if (s->dev->running) {
        do_tx(s, e);
        do_rx(s, e);
    }
    if (e)
        update_interest(e);
}

void
vdev_streams_service(struct vdev_dev *dev)
{
    for (unsigned i = 0; i < dev->nr_streams; i++)
        if (dev->streams[i]->kicked)
            service(dev->streams[i]);
}

/* A handler waits for the vfio-user client (loop.c's vdev_conn_wait):
 * device code must not run, and a level-triggered fd would report again
 * at once. Out of epoll it goes until the stream is served again. */
void
vdev_stream_io_park(struct vdev_dev *dev, uint32_t t)
{
    unsigned id = (t - VDEV_EV_STREAM) / 4, k = (t - VDEV_EV_STREAM) % 4;
    struct vdev_sep *e;
    int fd;

    if (id >= dev->nr_streams || !(e = dev->streams[id]->binding) || k > 2)
        return;
    fd = k == SEP_LISTEN ? e->listen_fd : k == SEP_IN ? e->in_fd : e->out_fd;
    if (fd < 0 || (e->parked & (1u << k)))
        return;
    epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_DEL, fd, NULL);
    e->parked |= 1u << k;
    e->s->kicked = true;
}

void
vdev_stream_io_event(struct vdev_dev *dev, uint32_t t, uint32_t events)
{
    unsigned id = (t - VDEV_EV_STREAM) / 4, k = (t - VDEV_EV_STREAM) % 4;
    struct vdev_sep *e;

    if (id >= dev->nr_streams || !(e = dev->streams[id]->binding))
        return; /* stale: the endpoint changed in this batch */
    if (k == SEP_LISTEN) {
        accept_client(e);
    } else if (e->kind == VDEV_STREAM_UNIX && e->in_fd >= 0 &&
               (events & (EPOLLHUP | EPOLLERR))) {
        /* Gone for good: what it sent last still reaches the device as far
         * as there is room, the rest is lost with the connection. */
        do_rx(e->s, e);
        if (e->in_fd >= 0)
            drop_client(e, "hang-up");
    } else if (k == SEP_OUT && (events & (EPOLLHUP | EPOLLERR))) {
        out_failed(e, EPIPE);
    } else if (k == SEP_IN && (events & (EPOLLHUP | EPOLLERR)) &&
               e->in_fd >= 0 && e->in_fd != e->out_fd && e->in_poll) {
        /* stdin's writer is gone: what is left is read without epoll
         * (which would report the hang-up for ever) as the device takes
         * it, up to the end. */
        epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_DEL, e->in_fd, NULL);
        e->in_poll = false;
        e->in_ev = 0;
    }
    service(e->s);
}

struct vdev_sep *
vdev_sep_new(struct vdev_stream *s, enum vdev_stream_kind kind)
{
    struct vdev_sep *e = talloc_zero(s, struct vdev_sep);

    if (!e)
        return NULL;
    e->s = s;
    e->kind = kind;
    e->listen_fd = e->in_fd = e->out_fd = e->hold_fd = -1;
    talloc_set_destructor(e, ep_destructor);
    return e;
}
