/* Host endpoints of the device's byte streams (device/stream.c holds the
 * device's side): binding a stream to a UNIX socket, a pty, a file or
 * stdio, and moving bytes between the endpoint and the device's FIFOs on
 * the serving loop. Every fd is non-blocking and level-triggered; interest
 * follows what can move (input only while the device has receive space,
 * output only after a write met a full endpoint), so a host that sends too
 * much or reads too little holds the device back instead of the loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "base/unix.h"
#include "server/server.h"

/* Bytes moved each way per service, so one stream cannot hold the loop;
 * more is served on the next turn. */
#define TURN_BYTES (64u * 1024u)
#define CHUNK 4096u

/* Epoll tags: VDEV_EV_STREAM + 4 * id + one of these. */
enum { EV_LISTEN = 0, EV_IN = 1, EV_OUT = 2 };

struct endpoint {
    struct vdev_stream *s;
    enum vdev_stream_kind kind;
    char *where;
    char *path; /* the unix socket file we created, removed on free */
    dev_t sock_dev;
    ino_t sock_ino;
    int listen_fd;
    int in_fd, out_fd;      /* may be one fd (unix client, pty master) */
    int hold_fd;            /* pty: the terminal side, held open */
    bool in_poll, out_poll; /* in epoll; false: a regular file */
    uint32_t in_ev, out_ev; /* interest registered */
    bool in_eof;
    bool out_blocked; /* a write met a full endpoint */
    bool out_dead;    /* writes fail: transmit bytes are dropped */
};

static int
epfd(const struct endpoint *e)
{
    return e->s->dev->srv->epoll_fd;
}

static uint32_t
tag(const struct endpoint *e, unsigned k)
{
    return VDEV_EV_STREAM + 4 * e->s->id + k;
}

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
drop_fd(struct endpoint *e, int *fd)
{
    int f = *fd;

    if (f < 0)
        return;
    epoll_ctl(epfd(e), EPOLL_CTL_DEL, f, NULL);
    if (e->in_fd == f)
        e->in_fd = -1;
    if (e->out_fd == f)
        e->out_fd = -1;
    close(f);
    *fd = -1;
}

static int
ep_destructor(struct endpoint *e)
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
ep_ctl(struct endpoint *e, int fd, unsigned k, uint32_t want, uint32_t *have,
       bool *polled)
{
    struct epoll_event ev = {.events = want, .data.u32 = tag(e, k)};

    if (!*polled || want == *have)
        return 0;
    if (epoll_ctl(epfd(e), EPOLL_CTL_MOD, fd, &ev) < 0)
        return -errno;
    *have = want;
    return 0;
}

/* Registers fd with no interest yet; a regular file (EPERM) is served
 * without epoll: always ready. */
static int
ep_add(struct endpoint *e, int fd, unsigned k, bool *polled)
{
    struct epoll_event ev = {.events = 0, .data.u32 = tag(e, k)};

    if (epoll_ctl(epfd(e), EPOLL_CTL_ADD, fd, &ev) == 0) {
        *polled = true;
        return 0;
    }
    if (errno != EPERM)
        return -errno;
    *polled = false;
    return 0;
}

static void
update_interest(struct endpoint *e)
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
        ep_ctl(e, e->in_fd, EV_IN, in | out, &e->in_ev, &e->in_poll);
        return;
    }
    if (e->in_fd >= 0)
        ep_ctl(e, e->in_fd, EV_IN, in, &e->in_ev, &e->in_poll);
    if (e->out_fd >= 0)
        ep_ctl(e, e->out_fd, EV_OUT, out, &e->out_ev, &e->out_poll);
    /* A regular file never signals: read it on the next turn. */
    if (in && !e->in_poll)
        s->kicked = true;
}

/* ------------------------------------------------------------ clients */

static void
listen_interest(struct endpoint *e, bool on)
{
    struct epoll_event ev = {.events = on ? EPOLLIN : 0,
                             .data.u32 = tag(e, EV_LISTEN)};

    if (e->listen_fd >= 0)
        epoll_ctl(epfd(e), EPOLL_CTL_MOD, e->listen_fd, &ev);
}

/* The unix client went away (or failed): the next one may come. */
static void
drop_client(struct endpoint *e, const char *why)
{
    VDEV_LOG(e->s->dev, VDEV_LOG_INFO, "stream %s: host client gone (%s)",
             e->s->name, why);
    drop_fd(e, &e->in_fd);
    e->in_ev = e->out_ev = 0;
    e->in_eof = e->out_blocked = false;
    listen_interest(e, true);
}

static void
accept_client(struct endpoint *e)
{
    int fd;

    if (e->in_fd >= 0)
        return;
    fd = accept4(e->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    if (ep_add(e, fd, EV_IN, &e->in_poll) < 0) {
        close(fd);
        return;
    }
    e->in_fd = e->out_fd = fd;
    e->in_ev = e->out_ev = 0;
    e->out_poll = e->in_poll;
    e->in_eof = e->out_blocked = e->out_dead = false;
    listen_interest(e, false); /* one at a time: others wait in the backlog */
    VDEV_LOG(e->s->dev, VDEV_LOG_INFO, "stream %s: host client connected",
             e->s->name);
    e->s->kicked = true;
}

/* Output failed for good: a unix client is dropped, other endpoints go on
 * dropping the device's bytes (a full disk, a closed stdout). */
static void
out_failed(struct endpoint *e, int err)
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
in_ended(struct endpoint *e)
{
    e->in_eof = true;
    /* stdin at its end: a pipe would report the hang-up for ever. */
    if (e->kind == VDEV_STREAM_STDIO)
        drop_fd(e, &e->in_fd);
}

/* ------------------------------------------------------------ service */

static bool
tx_sink(const struct endpoint *e)
{
    return e && e->out_fd >= 0 && !e->out_dead;
}

static ssize_t
put_bytes(struct endpoint *e, const uint8_t *buf, size_t n)
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
do_tx(struct vdev_stream *s, struct endpoint *e)
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
do_rx(struct vdev_stream *s, struct endpoint *e)
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
    struct endpoint *e = s->binding;

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

void
vdev_stream_io_event(struct vdev_dev *dev, uint32_t t, uint32_t events)
{
    unsigned id = (t - VDEV_EV_STREAM) / 4, k = (t - VDEV_EV_STREAM) % 4;
    struct endpoint *e;

    if (id >= dev->nr_streams || !(e = dev->streams[id]->binding))
        return; /* stale: the endpoint changed in this batch */
    if (k == EV_LISTEN) {
        accept_client(e);
    } else if (e->kind == VDEV_STREAM_UNIX && e->in_fd >= 0 &&
               (events & (EPOLLHUP | EPOLLERR))) {
        /* Gone for good: what it sent last still reaches the device as far
         * as there is room, the rest is lost with the connection. */
        do_rx(e->s, e);
        if (e->in_fd >= 0)
            drop_client(e, "hang-up");
    } else if (k == EV_OUT && (events & (EPOLLHUP | EPOLLERR))) {
        out_failed(e, EPIPE);
    } else if (k == EV_IN && (events & (EPOLLHUP | EPOLLERR)) &&
               e->in_fd >= 0 && e->in_fd != e->out_fd && e->in_poll) {
        /* stdin's writer is gone: what is left is read without epoll
         * (which would report the hang-up for ever) as the device takes
         * it, up to the end. */
        epoll_ctl(epfd(e), EPOLL_CTL_DEL, e->in_fd, NULL);
        e->in_poll = false;
        e->in_ev = 0;
    }
    service(e->s);
}

/* ------------------------------------------------------------ binding */

static struct vdev_stream *
find_stream(struct vdev_dev *dev, const char *name)
{
    for (unsigned i = 0; name && i < dev->nr_streams; i++)
        if (!strcmp(dev->streams[i]->name, name))
            return dev->streams[i];
    return NULL;
}

static struct endpoint *
ep_new(struct vdev_stream *s, enum vdev_stream_kind kind)
{
    struct endpoint *e = talloc_zero(s, struct endpoint);

    if (!e)
        return NULL;
    e->s = s;
    e->kind = kind;
    e->listen_fd = e->in_fd = e->out_fd = e->hold_fd = -1;
    talloc_set_destructor(e, ep_destructor);
    return e;
}

static int
bind_unix(struct endpoint *e, const char *path)
{
    struct stat st;
    int fd = vdev_unix_listen(path, 4, &st);
    bool polled;

    if (fd < 0)
        return fd;
    e->listen_fd = fd;
    e->path = talloc_strdup(e, path);
    if (!e->path)
        return -ENOMEM;
    e->sock_dev = st.st_dev;
    e->sock_ino = st.st_ino;
    if (ep_add(e, fd, EV_LISTEN, &polled) < 0 || !polled)
        return -EINVAL;
    listen_interest(e, true);
    return 0;
}

/* Raw: bytes pass unchanged both ways, no echo, no signals. */
static int
bind_pty(struct endpoint *e)
{
    struct termios t;
    char name[64];
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

    if (m < 0)
        return -errno;
    e->in_fd = e->out_fd = m;
    if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)))
        return -errno;
    e->hold_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (e->hold_fd < 0)
        return -errno;
    if (tcgetattr(e->hold_fd, &t) < 0)
        return -errno;
    cfmakeraw(&t);
    if (tcsetattr(e->hold_fd, TCSANOW, &t) < 0)
        return -errno;
    e->where = talloc_asprintf(e, "pty:%s", name);
    if (!e->where)
        return -ENOMEM;
    return ep_add(e, m, EV_IN, &e->in_poll);
}

static int
bind_file(struct endpoint *e, const char *path)
{
    e->out_fd = open(
        path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
        0600);
    if (e->out_fd < 0)
        return -errno;
    return ep_add(e, e->out_fd, EV_OUT, &e->out_poll);
}

/* A private, non-blocking open of our stdin / stdout: O_NONBLOCK on the
 * inherited description would leak into the shell that shares it. */
static int
reopen_std(int fd, int flags)
{
    char p[32];
    int r;

    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    r = open(p, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (r >= 0)
        return r;
    /* A socket cannot be opened again: share it, non-blocking. */
    r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (r < 0)
        return -errno;
    if (fcntl(r, F_SETFL, fcntl(r, F_GETFL) | O_NONBLOCK) < 0) {
        int err = -errno;
        close(r);
        return err;
    }
    return r;
}

static int
bind_stdio(struct endpoint *e)
{
    int rc;

    if ((e->in_fd = reopen_std(STDIN_FILENO, O_RDONLY)) < 0)
        return e->in_fd;
    if ((e->out_fd = reopen_std(STDOUT_FILENO, O_WRONLY)) < 0)
        return e->out_fd;
    if ((rc = ep_add(e, e->in_fd, EV_IN, &e->in_poll)) < 0)
        return rc;
    return ep_add(e, e->out_fd, EV_OUT, &e->out_poll);
}

int
vdev_stream_bind(struct vdev_dev *dev, const char *name, const char *spec)
{
    struct vdev_stream *s = dev ? find_stream(dev, name) : NULL;
    struct endpoint *e;
    int rc;

    if (!s)
        return -ENXIO;
    if (s->binding)
        return -EBUSY;
    if (!spec)
        return -EINVAL;
    if (!strncmp(spec, "unix:", 5) && spec[5])
        e = ep_new(s, VDEV_STREAM_UNIX);
    else if (!strcmp(spec, "pty"))
        e = ep_new(s, VDEV_STREAM_PTY);
    else if (!strncmp(spec, "file:", 5) && spec[5])
        e = ep_new(s, VDEV_STREAM_FILE);
    else if (!strcmp(spec, "stdio"))
        e = ep_new(s, VDEV_STREAM_STDIO);
    else
        return -EINVAL;
    if (!e)
        return -ENOMEM;
    switch (e->kind) {
    case VDEV_STREAM_UNIX:
        rc = bind_unix(e, spec + 5);
        break;
    case VDEV_STREAM_PTY:
        rc = bind_pty(e);
        break;
    case VDEV_STREAM_FILE:
        rc = bind_file(e, spec + 5);
        break;
    default:
        rc = bind_stdio(e);
        break;
    }
    if (rc == 0 && !e->where && !(e->where = talloc_strdup(e, spec)))
        rc = -ENOMEM;
    if (rc < 0) {
        talloc_free(e); /* its destructor closes and removes what it made */
        return rc;
    }
    s->binding = e;
    VDEV_LOG(dev, VDEV_LOG_INFO, "stream %s bound to %s", s->name, e->where);
    vdev_stream_kick(dev, s->id);
    return 0;
}

const char *
vdev_stream_where(struct vdev_dev *dev, const char *name)
{
    struct vdev_stream *s = dev ? find_stream(dev, name) : NULL;
    const struct endpoint *e = s ? s->binding : NULL;

    return e ? e->where : NULL;
}

bool
vdev_stream_connected(struct vdev_dev *dev, unsigned id)
{
    const struct endpoint *e;

    if (!dev || id >= dev->nr_streams || !(e = dev->streams[id]->binding))
        return false;
    return e->kind != VDEV_STREAM_UNIX || e->in_fd >= 0;
}

/* ------------------------------------------------------------ hand-over */

int
vdev_stream_ep_get(struct vdev_dev *dev, unsigned id, struct vdev_stream_ep *ep)
{
    const struct endpoint *e;

    if (id >= dev->nr_streams || !(e = dev->streams[id]->binding))
        return -ENOENT;
    *ep = (struct vdev_stream_ep){
        .kind = e->kind,
        .listen_fd = e->listen_fd,
        .in_fd = e->in_fd,
        .out_fd = e->out_fd,
        .hold_fd = e->hold_fd,
        .path = e->path,
        .where = e->where,
        .in_eof = e->in_eof,
    };
    return 0;
}

static bool
fd_is(int fd, mode_t type)
{
    struct stat st;

    return fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

static bool
listening_unix(int fd)
{
    int on = 0, domain = 0;
    socklen_t len = sizeof(int);

    return fd_is(fd, S_IFSOCK) &&
           getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on &&
           getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
           domain == AF_UNIX;
}

/* What each kind must hold (fds the hand-over could get wrong). */
static int
ep_check(const struct vdev_stream_ep *ep)
{
    switch (ep->kind) {
    case VDEV_STREAM_UNIX:
        if (!listening_unix(ep->listen_fd) || ep->hold_fd >= 0 ||
            ep->in_fd != ep->out_fd ||
            (ep->in_fd >= 0 && !fd_is(ep->in_fd, S_IFSOCK)))
            return -EINVAL;
        return 0;
    case VDEV_STREAM_PTY:
        if (ep->listen_fd >= 0 || ep->in_fd != ep->out_fd ||
            !fd_is(ep->in_fd, S_IFCHR) || !fd_is(ep->hold_fd, S_IFCHR))
            return -EINVAL;
        return 0;
    case VDEV_STREAM_FILE:
        if (ep->listen_fd >= 0 || ep->hold_fd >= 0 || ep->in_fd >= 0)
            return -EINVAL;
        return 0;
    case VDEV_STREAM_STDIO:
        if (ep->listen_fd >= 0 || ep->hold_fd >= 0 ||
            (ep->in_fd >= 0 && ep->in_fd == ep->out_fd))
            return -EINVAL;
        return 0;
    }
    return -EINVAL;
}

static int
nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

static int
adopt_fds(struct endpoint *e, const struct vdev_stream_ep *ep)
{
    bool polled;
    int rc;

    if (ep->listen_fd >= 0 &&
        ((rc = ep_add(e, ep->listen_fd, EV_LISTEN, &polled)) < 0 || !polled))
        return rc < 0 ? rc : -EINVAL;
    e->listen_fd = ep->listen_fd;
    if (ep->in_fd >= 0 && ((rc = nonblock(ep->in_fd)) < 0 ||
                           (rc = ep_add(e, ep->in_fd, EV_IN, &e->in_poll)) < 0))
        return rc;
    e->in_fd = ep->in_fd;
    if (ep->out_fd >= 0 && ep->out_fd != ep->in_fd) {
        if ((rc = nonblock(ep->out_fd)) < 0 ||
            (rc = ep_add(e, ep->out_fd, EV_OUT, &e->out_poll)) < 0)
            return rc;
    } else {
        e->out_poll = e->in_poll;
    }
    e->out_fd = ep->out_fd;
    e->hold_fd = ep->hold_fd;
    return 0;
}

int
vdev_stream_ep_adopt(struct vdev_dev *dev, unsigned id,
                     const struct vdev_stream_ep *ep)
{
    struct vdev_stream *s;
    struct endpoint *e;
    struct stat st;
    int rc;

    if (id >= dev->nr_streams || !ep->where)
        return -EINVAL;
    s = dev->streams[id];
    if (s->binding)
        return -EBUSY;
    if ((rc = ep_check(ep)) < 0)
        return rc;
    e = ep_new(s, ep->kind);
    if (!e || !(e->where = talloc_strdup(e, ep->where)))
        goto nomem;
    if (ep->path && stat(ep->path, &st) == 0) {
        if (!(e->path = talloc_strdup(e, ep->path)))
            goto nomem;
        e->sock_dev = st.st_dev;
        e->sock_ino = st.st_ino;
    }
    if ((rc = adopt_fds(e, ep)) < 0) {
        /* The fds stay the caller's: forget them before the destructor. */
        epoll_ctl(epfd(e), EPOLL_CTL_DEL, ep->listen_fd, NULL);
        if (ep->in_fd >= 0)
            epoll_ctl(epfd(e), EPOLL_CTL_DEL, ep->in_fd, NULL);
        if (ep->out_fd >= 0)
            epoll_ctl(epfd(e), EPOLL_CTL_DEL, ep->out_fd, NULL);
        e->listen_fd = e->in_fd = e->out_fd = e->hold_fd = -1;
        e->path = NULL;
        talloc_free(e);
        return rc;
    }
    e->in_eof = ep->in_eof;
    listen_interest(e, e->in_fd < 0);
    s->binding = e;
    vdev_stream_kick(dev, id);
    return 0;
nomem:
    if (e)
        e->path = NULL;
    talloc_free(e);
    return -ENOMEM;
}

void
vdev_streams_disown(struct vdev_dev *dev)
{
    for (unsigned i = 0; i < dev->nr_streams; i++) {
        struct endpoint *e = dev->streams[i]->binding;

        if (!e)
            continue;
        /* Closing our copies disturbs nobody: the successor holds the
         * same sockets and terminal. The file is its to remove. */
        e->path = NULL;
        if (e->in_fd >= 0)
            epoll_ctl(epfd(e), EPOLL_CTL_DEL, e->in_fd, NULL);
        if (e->out_fd >= 0)
            epoll_ctl(epfd(e), EPOLL_CTL_DEL, e->out_fd, NULL);
        if (e->listen_fd >= 0)
            epoll_ctl(epfd(e), EPOLL_CTL_DEL, e->listen_fd, NULL);
        dev->streams[i]->binding = NULL;
        talloc_free(e);
    }
}
