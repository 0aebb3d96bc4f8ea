/* libvdev client: whole-message framing on the stream socket — a message
 * and its fds out, and one header + payload in however the kernel splits
 * it (the fd passing itself is base/fdio.c's). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <talloc.h>
#include <unistd.h>

#include "base/fdio.h"
#include "client/client_priv.h"

int
vdev_client_sendv(int fd, const void *hdr, size_t hdr_len, const void *body,
                  size_t body_len, const int *fds, unsigned nr_fds)
{
    struct iovec iov[2] = {
        {.iov_base = (void *)hdr, .iov_len = hdr_len},
        {.iov_base = (void *)body, .iov_len = body_len},
    };

    return vdev_send_all(fd, iov, 2, fds, nr_fds, INT64_MAX, -1);
}

/* Reads exactly len bytes (buf may be NULL to discard), gathering fds. */
static int
read_full(int fd, void *buf, size_t len, struct vdev_client_msg *m)
{
    struct vdev_fds_in in = {
        .fds = m->fds,
        .max = VDEV_CLIENT_MAX_FDS,
        .nr = m->nr_fds,
    };
    int rc = vdev_recv_all(fd, buf, len, INT64_MAX, -1, &in);

    m->nr_fds = in.nr;
    return rc;
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
    vdev_close_fds(m->fds, m->nr_fds);
    m->nr_fds = 0;
    return rc;
}
