/* Server-to-client requests (DMA_READ/DMA_WRITE): sent on the twin socket
 * when negotiated, else on the main one, and the matching reply awaited. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "clock.h"

#define S2C_TIMEOUT_MS 5000

/* ------------------------------------------------------------ twin */

struct twin_owner {
    struct vdev_conn *c;
};

/* Runs while the connection is being freed (its memory is still valid):
 * closes the server end unless the connection's own destructor did. */
static int
twin_owner_destructor(struct twin_owner *o)
{
    if (o->c->twin_fd >= 0)
        close(o->c->twin_fd);
    o->c->twin_fd = -1;
    return 0;
}

int
vdev_twin_setup(struct vdev_conn *c, int *client_end)
{
    struct twin_owner *o;
    int sv[2];

    if (c->twin_fd >= 0)
        return -EBUSY;
    o = talloc_zero(c, struct twin_owner);
    if (!o)
        return -ENOMEM;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = errno;

        talloc_free(o);
        return -e;
    }
    o->c = c;
    c->twin_fd = sv[0];
    talloc_set_destructor(o, twin_owner_destructor);
    *client_end = sv[1];
    return 0;
}

/* ------------------------------------------------------------ timing */

/* Waits for fd to be ready for `events` until the deadline. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
    short rev = 0;
    int rc = vdev_poll_until(fd, events, deadline, &rev);

    if (rc < 0)
        return rc;
    return (rev & (POLLERR | POLLNVAL)) && !(rev & (events | POLLHUP))
               ? -ECONNRESET
               : 0;
}

/* ------------------------------------------------------------ send */

static int
send_all(int fd, struct iovec *iov, int iovcnt, int64_t deadline)
{
    while (iovcnt > 0) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            int ret;

            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return errno == EPIPE ? -ECONNRESET : -errno;
            ret = wait_fd(fd, POLLOUT, deadline);
            if (ret < 0)
                return ret;
            continue;
        }
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ reply */

/* Checks a reply header against the request; returns 1 if it is the reply,
 * 0 if it is a stale reply (an earlier request that timed out), -errno if
 * it answers this request but is malformed. */
static int
reply_match(const struct vfio_user_header *h, uint16_t id, uint16_t cmd)
{
    if ((h->flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY)
        return -EPROTO;
    if (h->msg_id != id)
        return 0;
    if (h->cmd != cmd)
        return -EPROTO;
    return 1;
}

/* Copies a matched reply's payload out; the error flag becomes -errno. */
static int
reply_take(const struct vfio_user_header *h, const uint8_t *payload,
           void *reply, size_t reply_len)
{
    size_t plen = h->msg_size - sizeof(*h);

    if (h->flags & VFIO_USER_F_ERROR)
        return h->error_no > 0 && h->error_no < 4096 ? -(int)h->error_no : -EIO;
    if (plen > reply_len)
        return -EPROTO;
    if (plen)
        memcpy(reply, payload, plen);
    return (int)plen;
}

/* Reads exactly len bytes from the twin socket; fds are refused (closed). */
static int
twin_read(int fd, void *buf, size_t len, int64_t deadline)
{
    uint8_t *p = buf;

    while (len) {
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int) * VDEV_MAX_MSG_FDS)];
        } cm;
        struct iovec iov = {.iov_base = p, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cm.buf,
                            .msg_controllen = sizeof(cm.buf)};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        if (n < 0) {
            int ret;

            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                return -errno;
            ret = wait_fd(fd, POLLIN, deadline);
            if (ret < 0)
                return ret;
            continue;
        }
        for (struct cmsghdr *ch = CMSG_FIRSTHDR(&mh); ch;
             ch = CMSG_NXTHDR(&mh, ch)) {
            if (ch->cmsg_level == SOL_SOCKET && ch->cmsg_type == SCM_RIGHTS) {
                size_t nfd = (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int);

                for (size_t i = 0; i < nfd; i++) {
                    int f;

                    memcpy(&f, CMSG_DATA(ch) + i * sizeof(int), sizeof(f));
                    close(f);
                }
            }
        }
        if (n == 0)
            return -ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int
twin_wait(struct vdev_conn *c, uint16_t id, uint16_t cmd, void *reply,
          size_t reply_len, int64_t deadline)
{
    uint8_t *body = NULL;
    int ret;

    for (;;) {
        struct vfio_user_header h;
        size_t plen;

        ret = twin_read(c->twin_fd, &h, sizeof(h), deadline);
        if (ret < 0)
            break;
        if (h.msg_size < sizeof(h) || h.msg_size > VDEV_MAX_MSG_SIZE) {
            ret = -EPROTO; /* the stream has lost its framing */
            break;
        }
        plen = h.msg_size - sizeof(h);
        /* Read the body whatever it is so the stream stays in step. */
        body = talloc_realloc_size(c, body, plen ? plen : 1);
        if (!body) {
            ret = -ENOMEM;
            break;
        }
        ret = twin_read(c->twin_fd, body, plen, deadline);
        if (ret < 0)
            break;
        ret = reply_match(&h, id, cmd);
        if (ret == 0)
            continue;
        if (ret > 0)
            ret = reply_take(&h, body, reply, reply_len);
        break;
    }
    talloc_free(body);
    return ret;
}

/* ------------------------------------------------------ main socket */

/* Cuts [off, off + len) out of the input buffer. Bytes before it (the
 * message being dispatched, perhaps) do not move. */
static void
rbuf_cut(struct vdev_conn *c, size_t off, size_t len)
{
    memmove(c->rbuf + off, c->rbuf + off + len, c->rend - off - len);
    c->rend -= len;
    if (c->rfds_msg_end > off)
        c->rfds_msg_end =
            c->rfds_msg_end >= off + len ? c->rfds_msg_end - len : off;
}

/* A reply whose head is the last thing buffered: its rest is read straight
 * from the socket (exactly its bytes, so the stream stays in step), as the
 * buffer may have no room for it and must not move under the dispatcher. */
static int
take_partial(struct vdev_conn *c, size_t off, const struct vfio_user_header *h,
             uint16_t id, uint16_t cmd, void *reply, size_t reply_len,
             int64_t deadline)
{
    size_t have = c->rend - off;
    uint8_t *msg = talloc_size(c, h->msg_size);
    int ret;

    if (!msg)
        return -ENOMEM;
    memcpy(msg, c->rbuf + off, have);
    rbuf_cut(c, off, have);
    ret = twin_read(c->fd, msg + have, h->msg_size - have, deadline);
    if (ret == 0) {
        ret = reply_match(h, id, cmd);
        if (ret > 0)
            ret = reply_take(h, msg + sizeof(*h), reply, reply_len);
        else if (ret == 0)
            ret = -EAGAIN; /* stale: keep waiting */
    }
    talloc_free(msg);
    return ret;
}

/* Whether the complete command [off, off + size) may be served now: it is
 * the next one in order, carries no fds, and c->s2c_serve allows it. */
static bool
may_serve(const struct vdev_conn *c, size_t off, size_t size)
{
    return c->s2c_serve && !c->s2c_nested && off == c->rstart && !c->rskip &&
           !((c->nr_rfds || c->rfds_lost) && c->rfds_msg_end > off &&
             c->rfds_msg_end <= off + size);
}

/* Sends the replies of commands served while waiting. */
static int
flush_served(struct vdev_conn *c, int64_t deadline)
{
    int ret = 0;

    while (c->slen && (ret = vdev_transport_flush(c)) == -EAGAIN)
        if ((ret = wait_fd(c->fd, POLLOUT, deadline)) < 0)
            break;
    return ret;
}

/* Looks through the buffered input for our reply. Client commands are
 * served in order when may_serve() allows it, else stepped over and left
 * in place for the dispatcher; the reply (and any stale reply) is cut out
 * of the buffer. Returns 1 with the reply taken (its result in *result),
 * 0 if more input is needed, -errno if the input cannot be parsed. */
static int
main_scan(struct vdev_conn *c, uint16_t id, uint16_t cmd, void *reply,
          size_t reply_len, int *result, int64_t deadline)
{
    size_t off = c->rstart;

    while (c->rend - off >= sizeof(struct vfio_user_header)) {
        struct vfio_user_header h;
        int m;

        memcpy(&h, c->rbuf + off, sizeof(h));
        if (h.msg_size < sizeof(h) || h.msg_size > VDEV_MAX_MSG_SIZE)
            return -EPROTO;
        if ((h.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY) {
            /* Commands (and junk) are the dispatcher's business. */
            if (c->rend - off < h.msg_size)
                return 0;
            if (may_serve(c, off, h.msg_size)) {
                if ((m = vdev_serve_nested(c)) < 0 ||
                    (m = flush_served(c, deadline)) < 0)
                    return m;
                off = c->rstart;
                continue;
            }
            off += h.msg_size;
            continue;
        }
        if (c->rend - off < h.msg_size) {
            m = take_partial(c, off, &h, id, cmd, reply, reply_len, deadline);
            if (m == -EAGAIN)
                return 0;
            *result = m;
            return 1;
        }
        m = reply_match(&h, id, cmd);
        if (m != 0)
            *result = m < 0 ? m
                            : reply_take(&h, c->rbuf + off + sizeof(h), reply,
                                         reply_len);
        rbuf_cut(c, off, h.msg_size);
        if (m != 0)
            return 1;
    }
    return 0;
}

static int
main_wait(struct vdev_conn *c, uint16_t id, uint16_t cmd, void *reply,
          size_t reply_len, int64_t deadline)
{
    for (;;) {
        int result = 0;
        int ret = main_scan(c, id, cmd, reply, reply_len, &result, deadline);
        ssize_t n;

        if (ret < 0)
            return ret;
        if (ret > 0)
            return result;
        ret = wait_fd(c->fd, POLLIN, deadline);
        if (ret < 0)
            return ret;
        n = vdev_transport_recv(c);
        if (n == 0)
            return -ECONNRESET;
        if (n < 0 && n != -EAGAIN && n != -EINTR)
            return (int)n;
    }
}

int
vdev_conn_request(struct vdev_conn *c, uint16_t cmd, const void *req,
                  size_t req_len, void *reply, size_t reply_len)
{
    int64_t deadline = vdev_now_ms() + S2C_TIMEOUT_MS;
    struct vfio_user_header h = {
        .msg_id = c->next_msg_id++,
        .cmd = cmd,
        .msg_size = (uint32_t)(sizeof(h) + req_len),
        .flags = VFIO_USER_F_TYPE_COMMAND,
    };
    struct iovec iov[2] = {
        {.iov_base = &h, .iov_len = sizeof(h)},
        {.iov_base = (void *)req, .iov_len = req_len},
    };
    bool twin = c->twin_fd >= 0;
    int ret;

    if (req_len > VDEV_MAX_MSG_SIZE - sizeof(h))
        return -EINVAL;
    /* Replies still batched go first, all of them: the request must not
     * land inside a half-sent reply, and the client may be waiting on them
     * before it reads anything else. */
    while (!twin && c->slen) {
        ret = vdev_transport_flush(c);
        if (ret == -EAGAIN)
            ret = wait_fd(c->fd, POLLOUT, deadline);
        if (ret < 0)
            return ret;
    }
    ret = send_all(twin ? c->twin_fd : c->fd, iov, req_len ? 2 : 1, deadline);
    if (ret < 0)
        return ret;
    if (twin)
        return twin_wait(c, h.msg_id, cmd, reply, reply_len, deadline);
    return main_wait(c, h.msg_id, cmd, reply, reply_len, deadline);
}
