/* Binding a stream to its host endpoint (--stream NAME=SPEC: a UNIX
 * socket, a pty, a file, stdio), and the endpoint's part in a hand-over:
 * what travels, how the successor takes it over, how the predecessor lets
 * go. Moving the bytes is stream_io.c's. */
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
#include "server/stream_ep.h"

static struct vdev_stream *
find_stream(struct vdev_dev *dev, const char *name)
{
    for (unsigned i = 0; name && i < dev->nr_streams; i++)
        if (!strcmp(dev->streams[i]->name, name))
            return dev->streams[i];
    return NULL;
}

static int
bind_unix(struct vdev_sep *e, const char *path)
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
    if (vdev_sep_add(e, fd, SEP_LISTEN, &polled) < 0 || !polled)
        return -EINVAL;
    vdev_sep_listen(e, true);
    return 0;
}

/* Raw: bytes pass unchanged both ways, no echo, no signals. */
static int
bind_pty(struct vdev_sep *e)
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
    return vdev_sep_add(e, m, SEP_IN, &e->in_poll);
}

static int
bind_file(struct vdev_sep *e, const char *path)
{
    e->out_fd = open(
        path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
        0600);
    if (e->out_fd < 0)
        return -errno;
    return vdev_sep_add(e, e->out_fd, SEP_OUT, &e->out_poll);
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
bind_stdio(struct vdev_sep *e)
{
    int rc;

    if ((e->in_fd = reopen_std(STDIN_FILENO, O_RDONLY)) < 0)
        return e->in_fd;
    if ((e->out_fd = reopen_std(STDOUT_FILENO, O_WRONLY)) < 0)
        return e->out_fd;
    if ((rc = vdev_sep_add(e, e->in_fd, SEP_IN, &e->in_poll)) < 0)
        return rc;
    return vdev_sep_add(e, e->out_fd, SEP_OUT, &e->out_poll);
}

int
vdev_stream_bind(struct vdev_dev *dev, const char *name, const char *spec)
{
    struct vdev_stream *s = dev ? find_stream(dev, name) : NULL;
    struct vdev_sep *e;
    int rc;

    if (!s)
        return -ENXIO;
    if (s->binding)
        return -EBUSY;
    if (!spec)
        return -EINVAL;
    if (!strncmp(spec, "unix:", 5) && spec[5])
        e = vdev_sep_new(s, VDEV_STREAM_UNIX);
    else if (!strcmp(spec, "pty"))
        e = vdev_sep_new(s, VDEV_STREAM_PTY);
    else if (!strncmp(spec, "file:", 5) && spec[5])
        e = vdev_sep_new(s, VDEV_STREAM_FILE);
    else if (!strcmp(spec, "stdio"))
        e = vdev_sep_new(s, VDEV_STREAM_STDIO);
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
    const struct vdev_sep *e = s ? s->binding : NULL;

    return e ? e->where : NULL;
}

bool
vdev_stream_connected(struct vdev_dev *dev, unsigned id)
{
    const struct vdev_sep *e;

    if (!dev || id >= dev->nr_streams || !(e = dev->streams[id]->binding))
        return false;
    return e->kind != VDEV_STREAM_UNIX || e->in_fd >= 0;
}

/* ------------------------------------------------------------ hand-over */

int
vdev_stream_ep_get(struct vdev_dev *dev, unsigned id, struct vdev_stream_ep *ep)
{
    const struct vdev_sep *e;

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
adopt_fds(struct vdev_sep *e, const struct vdev_stream_ep *ep)
{
    bool polled;
    int rc;

    if (ep->listen_fd >= 0 &&
        ((rc = vdev_sep_add(e, ep->listen_fd, SEP_LISTEN, &polled)) < 0 ||
         !polled))
        return rc < 0 ? rc : -EINVAL;
    e->listen_fd = ep->listen_fd;
    if (ep->in_fd >= 0 &&
        ((rc = nonblock(ep->in_fd)) < 0 ||
         (rc = vdev_sep_add(e, ep->in_fd, SEP_IN, &e->in_poll)) < 0))
        return rc;
    e->in_fd = ep->in_fd;
    if (ep->out_fd >= 0 && ep->out_fd != ep->in_fd) {
        if ((rc = nonblock(ep->out_fd)) < 0 ||
            (rc = vdev_sep_add(e, ep->out_fd, SEP_OUT, &e->out_poll)) < 0)
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
    struct vdev_sep *e;
    int rc;

    if (id >= dev->nr_streams || !ep->where)
        return -EINVAL;
    s = dev->streams[id];
    if (s->binding)
        return -EBUSY;
    if ((rc = ep_check(ep)) < 0)
        return rc;
    e = vdev_sep_new(s, ep->kind);
    if (!e || !(e->where = talloc_strdup(e, ep->where))) {
        talloc_free(e);
        return -ENOMEM;
    }
    if ((rc = adopt_fds(e, ep)) < 0) {
        /* The fds stay the caller's: forget them before the destructor. */
        epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_DEL, ep->listen_fd, NULL);
        if (ep->in_fd >= 0)
            epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_DEL, ep->in_fd, NULL);
        if (ep->out_fd >= 0)
            epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_DEL, ep->out_fd, NULL);
        e->listen_fd = e->in_fd = e->out_fd = e->hold_fd = -1;
        talloc_free(e);
        return rc;
    }
    e->in_eof = ep->in_eof;
    vdev_sep_listen(e, e->in_fd < 0);
    s->binding = e;
    vdev_stream_kick(dev, id);
    return 0;
}

void
vdev_stream_own_path(struct vdev_dev *dev, unsigned id, const char *path)
{
    struct vdev_sep *e;
    struct stat st;

    if (id >= dev->nr_streams || !(e = dev->streams[id]->binding) ||
        e->kind != VDEV_STREAM_UNIX || stat(path, &st) < 0)
        return;
    e->path = talloc_strdup(e, path);
    e->sock_dev = st.st_dev;
    e->sock_ino = st.st_ino;
}

void
vdev_streams_disown(struct vdev_dev *dev)
{
    for (unsigned i = 0; i < dev->nr_streams; i++) {
        struct vdev_sep *e = dev->streams[i]->binding;

        if (!e)
            continue;
        /* Closing our copies disturbs nobody: the successor holds the
         * same sockets and terminal. The file is its to remove. */
        e->path = NULL;
        if (e->in_fd >= 0)
            epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_DEL, e->in_fd, NULL);
        if (e->out_fd >= 0)
            epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_DEL, e->out_fd, NULL);
        if (e->listen_fd >= 0)
            epoll_ctl(vdev_sep_epfd(e), EPOLL_CTL_DEL, e->listen_fd, NULL);
        dev->streams[i]->binding = NULL;
        talloc_free(e);
    }
}
