/* libvdev client: whole-message framing on the stream socket — sendmsg with
 * SCM_RIGHTS, and reading one header + payload however the kernel splits it. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <talloc.h>
#include <unistd.h>

#include "client_priv.h"

void
vdev_client_close_fds(int *fds, unsigned nr)
{
    for (unsigned i = 0; i < nr; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

int
vdev_client_sendv(int fd, const void *hdr, size_t hdr_len, const void *body,
                  size_t body_len, const int *fds, unsigned nr_fds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * 253)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov[2] = {
        {.iov_base = (void *)hdr, .iov_len = hdr_len},
        {.iov_base = (void *)body, .iov_len = body_len},
    };
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};

    if (nr_fds > 253)
        return -EINVAL;
    if (nr_fds > 0) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
    }
    size_t left = hdr_len + body_len;
    while (left > 0) {
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        left -= (size_t)n;
        /* fds travel with the first byte only */
        mh.msg_control = NULL;
        mh.msg_controllen = 0;
        while (n > 0 && mh.msg_iovlen > 0) {
            size_t take = (size_t)n < mh.msg_iov->iov_len ? (size_t)n
                                                          : mh.msg_iov->iov_len;
            mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + take;
            mh.msg_iov->iov_len -= take;
            n -= (ssize_t)take;
            if (mh.msg_iov->iov_len == 0) {
                mh.msg_iov++;
                mh.msg_iovlen--;
            }
        }
    }
    return 0;
}

static void
take_fds(struct msghdr *mh, struct vdev_client_msg *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        unsigned n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int got[n > 0 ? n : 1];
        memcpy(got, CMSG_DATA(c), sizeof(int) * n);
        for (unsigned i = 0; i < n; i++) {
            if (m->nr_fds < VDEV_CLIENT_MAX_FDS)
                m->fds[m->nr_fds++] = got[i];
            else
                close(got[i]);
        }
    }
}

/* Reads exactly len bytes (buf may be NULL to discard), gathering fds. */
static int
read_full(int fd, void *buf, size_t len, struct vdev_client_msg *m)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * VDEV_CLIENT_MAX_FDS)];
        struct cmsghdr align;
    } ctl;
    uint8_t scratch[4096];
    size_t done = 0;

    while (done < len) {
        struct iovec iov;
        if (buf) {
            iov.iov_base = (uint8_t *)buf + done;
            iov.iov_len = len - done;
        } else {
            iov.iov_base = scratch;
            iov.iov_len =
                len - done < sizeof(scratch) ? len - done : sizeof(scratch);
        }
        struct msghdr mh = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = ctl.buf,
            .msg_controllen = sizeof(ctl.buf),
        };
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        take_fds(&mh, m);
        if (n == 0)
            return -ECONNRESET;
        done += (size_t)n;
    }
    return 0;
}

int
vdev_client_recv_msg(struct vdev_client *cl, int fd, struct vdev_client_msg *m)
{
    int rc;

    m->nr_fds = 0;
    m->body = NULL;
    m->body_len = 0;
    rc = read_full(fd, &m->hdr, sizeof(m->hdr), m);
    if (rc < 0)
        goto fail;
    if (m->hdr.msg_size < sizeof(m->hdr)) {
        /* no way to find the next message boundary */
        rc = -EPROTO;
        goto fail;
    }
    m->body_len = m->hdr.msg_size - sizeof(m->hdr);
    if (m->body_len > cl->want.max_data_xfer_size + VDEV_CLIENT_MSG_SLACK) {
        rc = read_full(fd, NULL, m->body_len, m);
        m->body_len = 0;
        if (rc == 0)
            rc = -EMSGSIZE;
        goto fail;
    }
    if (m->body_len > cl->rcap) {
        uint8_t *nb = talloc_realloc_size(cl, cl->rbuf, m->body_len);
        if (!nb) {
            rc = read_full(fd, NULL, m->body_len, m);
            rc = rc < 0 ? rc : -ENOMEM;
            goto fail;
        }
        cl->rbuf = nb;
        cl->rcap = m->body_len;
    }
    m->body = cl->rbuf;
    rc = read_full(fd, m->body, m->body_len, m);
    if (rc < 0)
        goto fail;
    return 0;
fail:
    vdev_client_close_fds(m->fds, m->nr_fds);
    m->nr_fds = 0;
    return rc;
}
