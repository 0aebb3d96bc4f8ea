/* A connection over memory instead of a socket: what the client sends is
 * queued here as a socket's receive queue would hold it (bytes, with fds
 * on the first byte of each send), and what the server sends goes to the
 * caller's function. The connection is otherwise an ordinary one: conn.c
 * reads and writes it, loop.c frames and dispatches its messages, with
 * the same code as a socket's. For programs that drive the server in one
 * thread without sockets (fuzz/fuzz_dispatch.c, tests). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "server/conn.h"
#include "server/server.h"

/* One send of the client, in one allocation: its bytes not read yet, and
 * its fds until the read that takes its first bytes. */
struct mem_seg {
    struct mem_seg *next;
    uint8_t *buf;
    size_t len, off;
    unsigned nr_fds;
    int fds[];
};

struct vdev_memio {
    struct vdev_mem_peer peer;
    struct mem_seg *head, *tail;
    bool eof; /* the client shut down its sending side */
};

/* Fds still in flight when the connection goes are closed, as the kernel
 * closes those of a socket's unread queue. */
static int
memio_destructor(struct vdev_memio *m)
{
    for (struct mem_seg *s = m->head; s; s = s->next)
        vdev_close_fds(s->fds, s->nr_fds);
    return 0;
}

int
vdev_mem_adopt(struct vdev_dev *dev, const struct vdev_mem_peer *peer)
{
    struct vdev_conn *c;
    struct vdev_memio *m;
    int rc;

    if (!peer || !peer->recv)
        return -EINVAL;
    if ((rc = vdev_conn_new(dev, -1, &c)) < 0)
        return rc;
    m = talloc_zero(c, struct vdev_memio);
    if (!m) {
        talloc_free(c);
        return -ENOMEM;
    }
    m->peer = *peer;
    talloc_set_destructor(m, memio_destructor);
    c->mem = m;
    return 0;
}

int
vdev_mem_send(struct vdev_conn *c, const void *buf, size_t len, int *fds,
              unsigned nr_fds)
{
    struct vdev_memio *m = c->mem;
    struct mem_seg *s;

    if (!m || m->eof || !len || nr_fds > VDEV_FDIO_MAX_FDS) {
        vdev_close_fds(fds, nr_fds);
        return -EINVAL;
    }
    s = talloc_size(m, sizeof(*s) + nr_fds * sizeof(int) + len);
    if (!s) {
        vdev_close_fds(fds, nr_fds);
        return -ENOMEM;
    }
    s->next = NULL;
    s->buf = (uint8_t *)(s->fds + nr_fds);
    s->len = len;
    s->off = 0;
    memcpy(s->buf, buf, len);
    if (nr_fds)
        memcpy(s->fds, fds, nr_fds * sizeof(int));
    s->nr_fds = nr_fds;
    if (m->tail)
        m->tail->next = s;
    else
        m->head = s;
    m->tail = s;
    return 0;
}

void
vdev_mem_shutdown(struct vdev_conn *c)
{
    if (c->mem)
        c->mem->eof = true;
}

/* ------------------------------------------------------------ conn.c's */

/* Hands a send's fds to the reader as a socket read does (fdio.c): up to
 * in->max of them, the rest closed and counted as lost. */
static void
take_fds(struct mem_seg *s, struct vdev_fds_in *in)
{
    for (unsigned i = 0; i < s->nr_fds; i++) {
        if (in && in->nr < in->max) {
            in->fds[in->nr++] = s->fds[i];
        } else {
            close(s->fds[i]);
            if (in)
                in->lost = true;
        }
    }
    s->nr_fds = 0;
    if (in)
        in->arrived = true;
}

/* A stream read: bytes from as many sends as fit, except that a read
 * ends with the send whose fds it took (as the kernel ends one). */
ssize_t
vdev_mem_recv(struct vdev_conn *c, void *buf, size_t len,
              struct vdev_fds_in *in)
{
    struct vdev_memio *m = c->mem;
    uint8_t *p = buf;
    size_t n = 0;

    while (n < len && m->head) {
        struct mem_seg *s = m->head;
        size_t take = s->len - s->off;
        bool fds = s->nr_fds;

        if (take > len - n)
            take = len - n;
        memcpy(p + n, s->buf + s->off, take);
        n += take;
        s->off += take;
        if (fds)
            take_fds(s, in);
        if (s->off == s->len) {
            m->head = s->next;
            if (!m->head)
                m->tail = NULL;
            talloc_free(s);
        }
        if (fds)
            break;
    }
    if (n)
        return (ssize_t)n;
    return m->eof ? 0 : -EAGAIN;
}

bool
vdev_mem_readable(const struct vdev_conn *c)
{
    return c->mem->head || c->mem->eof;
}

ssize_t
vdev_mem_deliver(struct vdev_conn *c, const void *buf, size_t len,
                 const int *fds, unsigned nr_fds)
{
    struct vdev_memio *m = c->mem;

    return m->peer.recv(m->peer.opaque, c, buf, len, fds, nr_fds);
}

int
vdev_mem_send_all(struct vdev_conn *c, const struct iovec *iov, int iovcnt,
                  const int *fds, unsigned nr_fds)
{
    uint8_t *joined;
    size_t len = 0, off = 0;
    int rc = 0;

    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    if (!(joined = talloc_size(c->mem, len ? len : 1)))
        return -ENOMEM;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(joined + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    /* fds ride on the first byte taken; a peer that takes nothing while
     * the server waits never will (it is the caller, and busy). */
    for (off = 0; off < len || (!len && nr_fds);) {
        ssize_t n = vdev_mem_deliver(c, joined + off, len - off, fds, nr_fds);

        if (n <= 0) {
            rc = n < 0 ? (int)n : -ETIMEDOUT;
            break;
        }
        off += (size_t)n;
        nr_fds = 0;
    }
    talloc_free(joined);
    return rc;
}
