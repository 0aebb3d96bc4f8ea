/* Hostile file descriptors (see hostile_fd.h): eventfds, pipes, sockets,
 * memfds and character devices, made full or orphaned where that is what
 * a server must survive. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostile_fd.h"

static const char *const names[HFD_NR_KINDS] = {
    [HFD_EVENTFD] = "eventfd",
    [HFD_EVENTFD_BLOCK] = "blocking eventfd",
    [HFD_EVENTFD_FULL] = "full blocking eventfd",
    [HFD_EVENTFD_FULL_NB] = "full eventfd",
    [HFD_PIPE_W] = "pipe",
    [HFD_PIPE_W_FULL] = "full pipe",
    [HFD_PIPE_W_GONE] = "pipe without reader",
    [HFD_PIPE_R] = "pipe read end",
    [HFD_SOCKET] = "socket",
    [HFD_SOCKET_FULL] = "full socket",
    [HFD_MEMFD_4K] = "memfd 4 KiB",
    [HFD_MEMFD_64K] = "memfd 64 KiB",
    [HFD_MEMFD_EMPTY] = "empty memfd",
    [HFD_DEVNULL] = "/dev/null",
    [HFD_DEVZERO] = "/dev/zero",
    [HFD_OPATH] = "O_PATH fd",
};

const char *
hostile_fd_name(unsigned kind)
{
    return names[kind % HFD_NR_KINDS];
}

static int
full_eventfd(int flags)
{
    uint64_t v = 0xfffffffffffffffeull;
    int fd = eventfd(0, EFD_CLOEXEC | flags);

    if (fd >= 0 && write(fd, &v, sizeof(v)) != sizeof(v)) {
        close(fd);
        return -EIO;
    }
    return fd;
}

/* A pipe's write end; its read end goes to *keep, or is closed (gone). A
 * full one holds one page, written in one go. */
static int
pipe_end(bool full, bool gone, int *keep)
{
    static const uint8_t page[4096];
    int p[2];

    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    if (full && (fcntl(p[1], F_SETPIPE_SZ, 4096) < 0 ||
                 write(p[1], page, sizeof(page)) != sizeof(page))) {
        close(p[0]);
        close(p[1]);
        return -EIO;
    }
    if (gone)
        close(p[0]);
    else
        *keep = p[0];
    return p[1];
}

/* A socket end whose send buffer (the smallest the kernel allows) is
 * filled without blocking; it stays blocking for whoever writes next. */
static int
socket_end(bool full, int *keep)
{
    static const uint8_t chunk[4096];
    int sv[2], small = 1;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    if (full) {
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
        while (send(sv[0], chunk, sizeof(chunk), MSG_DONTWAIT) > 0)
            ;
    }
    *keep = sv[1];
    return sv[0];
}

static int
memfd(off_t size)
{
    int fd = memfd_create("vdev-hostile", MFD_CLOEXEC);

    if (fd >= 0 && ftruncate(fd, size) < 0) {
        close(fd);
        return -EIO;
    }
    return fd;
}

static int
path_fd(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);

    return fd < 0 ? -errno : fd;
}

int
hostile_fd_make(unsigned kind, int *keep)
{
    int fd;

    *keep = -1;
    switch (kind % HFD_NR_KINDS) {
    case HFD_EVENTFD:
        fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        break;
    case HFD_EVENTFD_BLOCK:
        fd = eventfd(0, EFD_CLOEXEC);
        break;
    case HFD_EVENTFD_FULL:
        return full_eventfd(0);
    case HFD_EVENTFD_FULL_NB:
        return full_eventfd(EFD_NONBLOCK);
    case HFD_PIPE_W:
        return pipe_end(false, false, keep);
    case HFD_PIPE_W_FULL:
        return pipe_end(true, false, keep);
    case HFD_PIPE_W_GONE:
        return pipe_end(false, true, keep);
    case HFD_PIPE_R: {
        int w = -1, r;

        fd = pipe_end(false, false, &w);
        if (fd < 0)
            return fd;
        /* The client keeps the write end, the server gets the reader. */
        r = w;
        *keep = fd;
        return r;
    }
    case HFD_SOCKET:
        return socket_end(false, keep);
    case HFD_SOCKET_FULL:
        return socket_end(true, keep);
    case HFD_MEMFD_4K:
        return memfd(4096);
    case HFD_MEMFD_64K:
        return memfd(65536);
    case HFD_MEMFD_EMPTY:
        return memfd(0);
    case HFD_DEVNULL:
        return path_fd("/dev/null", O_RDWR);
    case HFD_DEVZERO:
        return path_fd("/dev/zero", O_RDWR);
    default:
        return path_fd("/", O_PATH);
    }
    return fd < 0 ? -errno : fd;
}
