/* Socket I/O with file descriptors (see fdio.h): SCM_RIGHTS both ways,
 * whole-buffer sends and receives with a deadline, and the readiness
 * wait they and the rest of the runtime share. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fdio.h"

void
vdev_close_fds(int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

/* ------------------------------------------------------------ wait */

int
vdev_wait_fd(int fd, short events, int64_t deadline, int cancel_fd)
{
    struct pollfd p[2] = {
        {.fd = fd, .events = events},
        {.fd = cancel_fd, .events = POLLIN},
    };
    for (;;) {
        int64_t left = deadline - vdev_now_ms();
        int n;

        if (left <= 0)
            return -ETIMEDOUT;
        n = poll(p, cancel_fd >= 0 ? 2 : 1,
                 left > 1000000000 ? 1000000000 : (int)left);
        if (n > 0)
            break;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
    if (cancel_fd >= 0 && (p[1].revents & POLLIN))
        return -ECANCELED;
    return vdev_poll_ready(p[0].revents, events);
}

int
vdev_poll_ready(short rev, short events)
{
    if (rev & POLLNVAL)
        return -EBADF;
    /* Bytes sent before a hang-up are still there to read; a writer can
     * do nothing for a peer that is gone. */
    if (rev & events & POLLIN)
        return 0;
    if (rev & (POLLERR | POLLHUP))
        return -ECONNRESET;
    return 0;
}

/* vdev_wait_fd as a vdev_wait_fn: arg points to the cancel fd. */
static int
cancel_wait(void *arg, int fd, short events, int64_t deadline)
{
    return vdev_wait_fd(fd, events, deadline, *(const int *)arg);
}

/* ------------------------------------------------------------ receive */

static unsigned
cmsg_nr_fds(const struct cmsghdr *cm)
{
    return (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
}

ssize_t
vdev_recv_fds_take(struct msghdr *mh, ssize_t n, struct vdev_fds_in *in)
{
    bool trunc = mh->msg_flags & MSG_TRUNC;

    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        const uint8_t *data = CMSG_DATA(cm);
        unsigned k;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        k = cmsg_nr_fds(cm);
        for (unsigned i = 0; i < k; i++) {
            int fd;

            memcpy(&fd, data + i * sizeof(int), sizeof(fd));
            if (!trunc && in && in->nr < in->max) {
                in->fds[in->nr++] = fd;
            } else {
                close(fd);
                if (in && !trunc)
                    in->lost = true;
            }
        }
        if (in && k)
            in->arrived = true;
    }
    if (in && (mh->msg_flags & MSG_CTRUNC) && !trunc) {
        in->lost = true;
        in->arrived = true;
    }
    /* A packet cut short: its fds belong to bytes nobody will see. */
    return trunc ? -EMSGSIZE : n;
}

int
vdev_recv_all(int sock, void *buf, size_t len, int64_t deadline, int cancel_fd,
              struct vdev_fds_in *in)
{
    return vdev_recv_all_w(sock, buf, len, deadline, cancel_wait, &cancel_fd,
                           in);
}

int
vdev_recv_all_w(int sock, void *buf, size_t len, int64_t deadline,
                vdev_wait_fn *wait, void *arg, struct vdev_fds_in *in)
{
    uint8_t scratch[4096];
    uint8_t *p = buf;

    while (len) {
        size_t want = len;
        void *dst = p;
        ssize_t n;
        int rc;

        if (!p) {
            dst = scratch;
            want = len < sizeof(scratch) ? len : sizeof(scratch);
        }
        n = vdev_recv_fds(sock, dst, want, MSG_DONTWAIT, in);
        if (n == -EAGAIN) {
            if ((rc = wait(arg, sock, POLLIN, deadline)) < 0)
                return rc;
            continue;
        }
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -ECONNRESET;
        if (p)
            p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ------------------------------------------------------------ send */

/* One sendmsg, fds attached; returns the bytes sent or -errno. */
static ssize_t
send_fds(int sock, struct iovec *iov, int iovcnt, const int *fds,
         unsigned nr_fds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * VDEV_FDIO_MAX_FDS)];
    } ctl;
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
    ssize_t n;

    if (nr_fds) {
        struct cmsghdr *cm;

        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr_fds);
    }
    do {
        n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

int
vdev_send_all(int sock, struct iovec *iov, int iovcnt, const int *fds,
              unsigned nr_fds, int64_t deadline, int cancel_fd)
{
    return vdev_send_all_w(sock, iov, iovcnt, fds, nr_fds, deadline,
                           cancel_wait, &cancel_fd);
}

int
vdev_send_all_w(int sock, struct iovec *iov, int iovcnt, const int *fds,
                unsigned nr_fds, int64_t deadline, vdev_wait_fn *wait,
                void *arg)
{
    if (nr_fds > VDEV_FDIO_MAX_FDS)
        return -EINVAL;
    while (iovcnt > 0 && iov->iov_len == 0 && !nr_fds) {
        iov++;
        iovcnt--;
    }
    while (iovcnt > 0) {
        ssize_t n = send_fds(sock, iov, iovcnt, fds, nr_fds);
        int rc;

        if (n == -EAGAIN) {
            rc = wait(arg, sock, POLLOUT, deadline);
            if (rc < 0)
                return rc;
            continue;
        }
        if (n < 0)
            return (int)n;
        nr_fds = 0; /* the fds went with the first byte */
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
