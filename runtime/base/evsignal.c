/* Non-blocking eventfd signals (see evsignal.h).
 *
 * write(2) on an eventfd blocks while the counter cannot take the value,
 * unless the file has O_NONBLOCK. That flag lives in the open file
 * description, which the client shares and may change at any moment; an
 * anon inode cannot be reopened for a description of our own, and eventfd
 * does not take RWF_NOWAIT. A poll for POLLOUT then a write races with a
 * client that fills its counter in between. The kernel's own signal,
 * eventfd_signal() (what vfio-pci raises interrupts with), never blocks: it
 * saturates. User space reaches it through Linux AIO: a request submitted
 * with IOCB_FLAG_RESFD signals that eventfd when it completes. Ours is a
 * zero-byte read of the eventfd itself: it completes inside io_submit,
 * touches no counter (an eventfd read needs 8 bytes) and needs no other
 * file. Where AIO is missing (a kernel without it, or one whose eventfds
 * cannot be read through it) the poll-then-write is the fallback, blocking
 * only for a client that refills its counter in that window.
 *
 * The poll that comes first is what tells a full counter (coalesced edge,
 * counted by the caller) from a signal. One AIO context serves the
 * process; a child after fork(2) gets its own on first use. */
#include <errno.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/evsignal.h"
#include "base/fdkind.h"

#define RING 64 /* completions between reaps: they pile up in the ring */

static struct {
    pthread_mutex_t lock;
    aio_context_t ctx; /* 0: none yet */
    pid_t pid;         /* the process ctx belongs to */
    bool off;          /* AIO cannot signal here: write(2) instead */
    unsigned unreaped;
    struct iocb cb; /* copied by the kernel at submit; kept for valgrind */
} aio = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void
aio_reap(void)
{
    struct io_event ev[RING];
    struct timespec now = {0, 0};

    if (syscall(SYS_io_getevents, aio.ctx, 0, RING, ev, &now) >= 0)
        aio.unreaped = 0;
}

static int
aio_setup(void)
{
    aio_context_t ctx = 0;

    if (syscall(SYS_io_setup, RING, &ctx) < 0)
        return -errno;
    aio.ctx = ctx;
    aio.pid = getpid();
    aio.unreaped = 0;
    return 0;
}

/* Under aio.lock. 0 signalled, -ENOSYS when AIO cannot signal here,
 * -EBUSY when it cannot now (no context to be had: the system's
 * aio-max-nr is used up), -errno. */
static int
aio_signal(int fd)
{
    struct iocb *list[1] = {&aio.cb};
    int rc;

    for (int attempt = 0; attempt < 3; attempt++) {
        int e;

        if (!aio.ctx && (rc = aio_setup()) < 0)
            return rc == -EAGAIN || rc == -ENOMEM ? -EBUSY : -ENOSYS;
        aio.cb = (struct iocb){
            .aio_lio_opcode = IOCB_CMD_PREAD,
            .aio_fildes = (uint32_t)fd,
            .aio_buf = (uint64_t)(uintptr_t)&aio.unreaped,
            .aio_nbytes = 0,
            .aio_flags = IOCB_FLAG_RESFD,
            .aio_resfd = (uint32_t)fd,
        };
        if (syscall(SYS_io_submit, aio.ctx, 1, list) == 1) {
            if (++aio.unreaped >= RING / 2)
                aio_reap();
            return 0;
        }
        e = errno;
        if (e == EAGAIN) { /* the ring is full of completions */
            aio_reap();
            continue;
        }
        if (e == EINVAL && aio.pid != getpid()) { /* a forked child */
            aio.ctx = 0;
            continue;
        }
        if (e == EINVAL && vdev_fd_check_eventfd(fd) == 0)
            return -ENOSYS; /* an eventfd, yet refused: no AIO reads */
        return e == ENOSYS ? -ENOSYS : -e;
    }
    return -EAGAIN;
}

static int
write_signal(int fd)
{
    uint64_t one = 1;
    ssize_t n;

    do
        n = write(fd, &one, sizeof(one));
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(one))
        return 1;
    return n < 0 && errno == EAGAIN ? 0 : n < 0 ? -errno : -EIO;
}

int
vdev_eventfd_signal(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n, rc = -ENOSYS;

    if (fd < 0)
        return -EBADF;
    do
        n = poll(&p, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (p.revents & POLLNVAL)
        return -EBADF;
    /* Full (or saturated: POLLERR): the client has yet to read it. */
    if (!(p.revents & POLLOUT))
        return 0;
    pthread_mutex_lock(&aio.lock);
    if (!aio.off) {
        rc = aio_signal(fd);
        if (rc == -ENOSYS)
            aio.off = true;
    }
    pthread_mutex_unlock(&aio.lock);
    if (rc == -ENOSYS || rc == -EBUSY)
        return write_signal(fd);
    return rc < 0 ? rc : 1;
}
