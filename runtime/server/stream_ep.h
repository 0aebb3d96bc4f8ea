/* A stream's host endpoint, shared by server/stream_io.c (moving bytes,
 * clients) and server/stream_bind.c (binding, hand-over). Private. */
#ifndef VDEV_SERVER_STREAM_EP_H
#define VDEV_SERVER_STREAM_EP_H

#include <sys/stat.h>

#include "server/server.h"

/* Epoll tags: VDEV_EV_STREAM + 4 * id + one of these. */
enum { SEP_LISTEN = 0, SEP_IN = 1, SEP_OUT = 2 };

/* One endpoint: stream->binding. */
struct vdev_sep {
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
    unsigned parked;  /* 1 << SEP_*: out of epoll while a handler waits */
};

static inline int
vdev_sep_epfd(const struct vdev_sep *e)
{
    return e->s->dev->srv->epoll_fd;
}

static inline uint32_t
vdev_sep_tag(const struct vdev_sep *e, unsigned k)
{
    return VDEV_EV_STREAM + 4 * e->s->id + k;
}

/* stream_io.c */
/* A new endpoint of s (unbound yet); its destructor closes its fds and
 * removes the socket file it created. */
struct vdev_sep *vdev_sep_new(struct vdev_stream *s,
                              enum vdev_stream_kind kind);
/* Registers fd with no interest yet; a regular file (which epoll refuses)
 * is served without epoll, always ready: *polled false. */
int vdev_sep_add(struct vdev_sep *e, int fd, unsigned k, bool *polled);
/* Interest in new clients on the listening socket. */
void vdev_sep_listen(struct vdev_sep *e, bool on);

#endif /* VDEV_SERVER_STREAM_EP_H */
