/* Socket I/O with file descriptors: the one place the runtime (server,
 * client, hand-over) sends and receives SCM_RIGHTS, and the one wait for a
 * socket to become ready. */
#ifndef VDEV_BASE_FDIO_H
#define VDEV_BASE_FDIO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Most fds one message may carry (the kernel's SCM_MAX_FD). */
#define VDEV_FDIO_MAX_FDS 253u

/* Where received fds go: up to max of them into fds[nr..], nr counting
 * them. Any others are closed and lost is set, as it is when the kernel
 * could not pass them all (MSG_CTRUNC). arrived is set when a receive
 * brought fds (or lost some); receivers that must know which bytes they
 * came with clear it before each receive. */
struct vdev_fds_in {
    int *fds;
    unsigned max;
    unsigned nr;
    bool lost;
    bool arrived;
};

/* The part of a receive that handles fds (cold; fdio.c). */
ssize_t vdev_recv_fds_take(struct msghdr *mh, ssize_t n,
                           struct vdev_fds_in *in);

/* One recvmsg of at most len bytes into buf; fds go to *in (NULL: all are
 * closed). flags: 0 or MSG_DONTWAIT (MSG_CMSG_CLOEXEC is always added);
 * EINTR is retried. Returns the bytes read (0: EOF), -EMSGSIZE when a
 * packet was longer than len (its fds closed), or -errno. Inline: it is
 * the server's read of every message. */
static inline __attribute__((always_inline)) ssize_t
vdev_recv_fds(int sock, void *buf, size_t len, int flags,
              struct vdev_fds_in *in)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * VDEV_FDIO_MAX_FDS)];
    } ctl;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl.buf,
        .msg_controllen = sizeof(ctl.buf),
    };
    ssize_t n;

    do {
        n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (__builtin_expect(
            mh.msg_controllen || (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)), 0))
        return vdev_recv_fds_take(&mh, n, in);
    return n;
}

/* A wait for fd to become ready for events until deadline, with
 * vdev_wait_fd's contract: the caller's own (the serving loop answers its
 * management channel while it waits for the client). */
typedef int vdev_wait_fn(void *arg, int fd, short events, int64_t deadline);

/* Reads exactly len bytes (buf NULL: reads and drops them), waiting for
 * them until deadline (vdev_now_ms() time; INT64_MAX: no limit) or until
 * cancel_fd (-1: none) is readable. fds as for vdev_recv_fds. Returns 0,
 * -ECONNRESET on EOF before len bytes, -ETIMEDOUT, -ECANCELED, or
 * -errno. */
int vdev_recv_all(int sock, void *buf, size_t len, int64_t deadline,
                  int cancel_fd, struct vdev_fds_in *in);
/* The same, waiting with wait(arg, ...). */
int vdev_recv_all_w(int sock, void *buf, size_t len, int64_t deadline,
                    vdev_wait_fn *wait, void *arg, struct vdev_fds_in *in);

/* Sends all of iov[0..iovcnt) (iov is advanced), nr_fds fds (at most
 * VDEV_FDIO_MAX_FDS) riding on its first byte, waiting for room until
 * deadline (INT64_MAX: no limit) or until cancel_fd (-1: none) is
 * readable. Returns 0, -ETIMEDOUT, -ECANCELED, -EINVAL (too many fds), or
 * -errno (-EPIPE: the peer is gone). */
int vdev_send_all(int sock, struct iovec *iov, int iovcnt, const int *fds,
                  unsigned nr_fds, int64_t deadline, int cancel_fd);
/* The same, waiting with wait(arg, ...). */
int vdev_send_all_w(int sock, struct iovec *iov, int iovcnt, const int *fds,
                    unsigned nr_fds, int64_t deadline, vdev_wait_fn *wait,
                    void *arg);

/* Waits until fd is ready for events (POLLIN, POLLOUT), the deadline
 * (vdev_now_ms() time; INT64_MAX: no limit) passes, or cancel_fd (-1:
 * none) becomes readable. Returns 0 when ready (a reader also after the
 * peer hung up, for the bytes sent before), -ETIMEDOUT, -ECANCELED,
 * -ECONNRESET when the peer hung up or the socket failed, -EBADF, or the
 * -errno of poll; EINTR restarts the wait. */
int vdev_wait_fd(int fd, short events, int64_t deadline, int cancel_fd);
/* vdev_wait_fd's answer for what poll reported (rev) on an fd awaited for
 * events: 0 ready, -ECONNRESET, -EBADF. */
int vdev_poll_ready(short rev, short events);

/* Closes fds[0..n) that are >= 0 and sets them to -1. */
void vdev_close_fds(int *fds, unsigned n);

#endif /* VDEV_BASE_FDIO_H */
