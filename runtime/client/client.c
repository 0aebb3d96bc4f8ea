/* libvdev client: the connection — connect, request/reply matching by
 * message id, and serving the server's DMA requests while a reply is due. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fdio.h"
#include "base/unix.h"
#include "client/client_priv.h"

static int
client_destructor(struct vdev_client *cl)
{
    if (cl->fd >= 0)
        close(cl->fd);
    if (cl->twin_fd >= 0)
        close(cl->twin_fd);
    cl->fd = cl->twin_fd = -1;
    return 0;
}

int
vdev_client_from_fd(void *mem_ctx, int fd, struct vdev_client **out)
{
    struct vdev_client *cl;

    if (fd < 0)
        return -EBADF;
    cl = talloc_zero(mem_ctx, struct vdev_client);
    if (!cl) {
        close(fd);
        return -ENOMEM;
    }
    cl->fd = fd;
    cl->twin_fd = -1;
    cl->next_id = 1;
    vdev_client_default_caps(&cl->want);
    vdev_client_default_caps(&cl->caps);
    talloc_set_destructor(cl, client_destructor);
    *out = cl;
    return 0;
}

int
vdev_client_connect(void *mem_ctx, const char *path, struct vdev_client **out)
{
    int fd = vdev_unix_connect(path);

    if (fd < 0)
        return fd;
    return vdev_client_from_fd(mem_ctx, fd, out);
}

void
vdev_client_close(struct vdev_client *cl)
{
    talloc_free(cl);
}

int
vdev_client_fd(const struct vdev_client *cl)
{
    return cl->fd;
}

int
vdev_client_twin_fd(const struct vdev_client *cl)
{
    return cl->twin_fd;
}

/* Handles a message that is not the reply we wait for: commands are served,
 * stray replies dropped. */
static int
handle_other(struct vdev_client *cl, int fd, struct vdev_client_msg *m)
{
    int rc = 0;

    if ((m->hdr.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_COMMAND)
        rc = vdev_client_serve_request(cl, fd, m);
    vdev_close_fds(m->fds, m->nr_fds);
    m->nr_fds = 0;
    return rc;
}

static int
oversized(int fd, const struct vdev_client_msg *m)
{
    if ((m->hdr.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND ||
        (m->hdr.flags & VFIO_USER_F_NO_REPLY))
        return 0;
    return vdev_client_send_error(fd, &m->hdr, EMSGSIZE);
}

/* The twin channel carries only server requests; if it breaks, the main
 * socket still tells us whether the server is alive. */
static void
serve_twin(struct vdev_client *cl)
{
    struct vdev_client_msg m;
    int rc = vdev_client_recv_msg(cl, cl->twin_fd, &m);

    if (rc == 0)
        rc = handle_other(cl, cl->twin_fd, &m);
    else if (rc == -EMSGSIZE)
        rc = oversized(cl->twin_fd, &m);
    if (rc < 0 && rc != -EMSGSIZE) {
        close(cl->twin_fd);
        cl->twin_fd = -1;
    }
}

void
vdev_client_set_timeout(struct vdev_client *cl, unsigned timeout_ms)
{
    cl->timeout_ms = timeout_ms;
}

void
vdev_client_set_qemu_dma_layout(struct vdev_client *cl, bool on)
{
    cl->qemu_dma = on;
}

static int
wait_reply(struct vdev_client *cl, uint16_t id, struct vdev_client_msg *m)
{
    int64_t deadline = cl->timeout_ms ? vdev_now_ms() + cl->timeout_ms : 0;

    for (;;) {
        /* with nothing else to watch and no deadline, recvmsg blocks */
        if (deadline || cl->twin_fd >= 0) {
            struct pollfd p[2] = {
                {.fd = cl->fd, .events = POLLIN},
                {.fd = cl->twin_fd, .events = POLLIN},
            };
            int wait = -1;
            if (deadline) {
                int64_t left = deadline - vdev_now_ms();
                if (left <= 0)
                    return -ETIMEDOUT;
                wait = left > INT32_MAX ? INT32_MAX : (int)left;
            }
            int n = poll(p, cl->twin_fd >= 0 ? 2 : 1, wait);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            if (n == 0)
                return -ETIMEDOUT;
            if (cl->twin_fd >= 0 && p[1].revents)
                serve_twin(cl);
            if (!p[0].revents)
                continue;
        }
        int rc = vdev_client_recv_msg(cl, cl->fd, m);
        if (rc < 0 && rc != -EMSGSIZE)
            return rc;
        bool ours =
            (m->hdr.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY &&
            m->hdr.msg_id == id;
        if (ours)
            return rc;
        /* a request too large was drained already; refuse it */
        rc = rc == -EMSGSIZE ? oversized(cl->fd, m)
                             : handle_other(cl, cl->fd, m);
        if (rc < 0)
            return rc;
    }
}

/* Moves up to *nr_rfds of a message's fds to the caller (rfds); the rest
 * stay in m to be closed. Returns how many moved. */
static unsigned
give_fds(struct vdev_client_msg *m, int *rfds, const unsigned *nr_rfds)
{
    unsigned keep;

    if (!rfds || !nr_rfds)
        return 0;
    keep = m->nr_fds < *nr_rfds ? m->nr_fds : *nr_rfds;
    memcpy(rfds, m->fds, keep * sizeof(int));
    for (unsigned i = 0; i < keep; i++)
        m->fds[i] = -1;
    return keep;
}

int
vdev_client_call(struct vdev_client *cl, uint16_t cmd, const void *req,
                 size_t req_len, const int *fds, unsigned nr_fds, void *reply,
                 size_t reply_cap, size_t *reply_len, int *rfds,
                 unsigned *nr_rfds)
{
    struct vdev_client_msg m;
    unsigned keep = 0;
    int rc;

    if (reply_len)
        *reply_len = 0;
    if (req_len > UINT32_MAX - sizeof(struct vfio_user_header))
        return -EINVAL;
    struct vfio_user_header hdr = {
        .msg_id = cl->next_id++,
        .cmd = cmd,
        .msg_size = (uint32_t)(sizeof(hdr) + req_len),
        .flags = VFIO_USER_F_TYPE_COMMAND,
    };
    if (vdev_log_level() >= VDEV_LOG_DEBUG)
        vdev_logf(VDEV_LOG_DEBUG, "vfio-user: > %s #%u: %zu bytes, %u fds",
                  vfio_user_command_name(cmd), hdr.msg_id, req_len, nr_fds);
    rc =
        vdev_client_sendv(cl->fd, &hdr, sizeof(hdr), req, req_len, fds, nr_fds);
    if (rc == 0)
        rc = wait_reply(cl, hdr.msg_id, &m);
    if (rc < 0) {
        vdev_logf(VDEV_LOG_DEBUG, "vfio-user: #%u: %s", hdr.msg_id,
                  strerror(-rc));
        if (nr_rfds)
            *nr_rfds = 0;
        return rc;
    }
    if (vdev_log_level() >= VDEV_LOG_DEBUG)
        vdev_logf(VDEV_LOG_DEBUG, "vfio-user: < %s #%u: %s, %u bytes, %u fds",
                  vfio_user_command_name(m.hdr.cmd), hdr.msg_id,
                  m.hdr.flags & VFIO_USER_F_ERROR ? strerror(m.hdr.error_no)
                                                  : "ok",
                  (unsigned)m.body_len, m.nr_fds);
    if (m.hdr.cmd != cmd) {
        rc = -EPROTO;
    } else if (m.hdr.flags & VFIO_USER_F_ERROR) {
        /* an errno a peer made up is still an error, just not its own */
        rc = m.hdr.error_no && m.hdr.error_no < 4096 ? -(int)m.hdr.error_no
                                                     : -EIO;
    } else {
        if (reply_len)
            *reply_len = m.body_len;
        if (reply && reply_cap)
            memcpy(reply, m.body,
                   m.body_len < reply_cap ? m.body_len : reply_cap);
        keep = give_fds(&m, rfds, nr_rfds);
    }
    if (nr_rfds)
        *nr_rfds = keep;
    vdev_close_fds(m.fds, m.nr_fds);
    return rc;
}

int
vdev_client_send_raw(struct vdev_client *cl, const void *buf, size_t len,
                     const int *fds, unsigned nr_fds)
{
    return vdev_client_sendv(cl->fd, buf, len, NULL, 0, fds, nr_fds);
}

ssize_t
vdev_client_recv_raw(struct vdev_client *cl, void *buf, size_t cap, int *rfds,
                     unsigned *nr_rfds)
{
    struct vdev_client_msg m;
    unsigned keep = 0;
    int rc = vdev_client_recv_msg(cl, cl->fd, &m);

    if (rc < 0) {
        if (nr_rfds)
            *nr_rfds = 0;
        return rc;
    }
    size_t hl = cap < sizeof(m.hdr) ? cap : sizeof(m.hdr);
    memcpy(buf, &m.hdr, hl);
    if (cap > sizeof(m.hdr) && m.body_len)
        memcpy((uint8_t *)buf + sizeof(m.hdr), m.body,
               m.body_len < cap - sizeof(m.hdr) ? m.body_len
                                                : cap - sizeof(m.hdr));
    keep = give_fds(&m, rfds, nr_rfds);
    if (nr_rfds)
        *nr_rfds = keep;
    vdev_close_fds(m.fds, m.nr_fds);
    return (ssize_t)m.hdr.msg_size;
}

int
vdev_client_serve(struct vdev_client *cl)
{
    int served = 0;

    for (;;) {
        struct pollfd p[2] = {
            {.fd = cl->fd, .events = POLLIN},
            {.fd = cl->twin_fd, .events = POLLIN},
        };
        int n = poll(p, cl->twin_fd >= 0 ? 2 : 1, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return served;
        if (cl->twin_fd >= 0 && p[1].revents) {
            serve_twin(cl);
            served++;
        }
        if (p[0].revents) {
            struct vdev_client_msg m;
            int rc = vdev_client_recv_msg(cl, cl->fd, &m);
            if (rc == -EMSGSIZE)
                rc = oversized(cl->fd, &m);
            else if (rc == 0)
                rc = handle_other(cl, cl->fd, &m);
            if (rc < 0)
                return rc;
            served++;
        }
    }
}
