/* File descriptors a hostile client hands a server: every kind a message
 * may carry instead of the eventfd or mappable file it should, in the
 * states that hurt (full, blocking, peer gone). Shared by the chaos test
 * (tests/chaos.c) and the server fuzz harness (fuzz/fuzz_server.c). */
#ifndef VDEV_TEST_HOSTILE_FD_H
#define VDEV_TEST_HOSTILE_FD_H

enum hostile_fd_kind {
    HFD_EVENTFD,         /* what IRQ messages want, non-blocking */
    HFD_EVENTFD_BLOCK,   /* the same, blocking */
    HFD_EVENTFD_FULL,    /* blocking, counter 0xfffffffffffffffe */
    HFD_EVENTFD_FULL_NB, /* the same, non-blocking */
    HFD_PIPE_W,          /* write end of a pipe, blocking */
    HFD_PIPE_W_FULL,     /* ...whose 4 KiB buffer is full */
    HFD_PIPE_W_GONE,     /* ...whose reader is closed (EPIPE) */
    HFD_PIPE_R,          /* read end of a pipe */
    HFD_SOCKET,          /* one end of a stream socket pair, blocking */
    HFD_SOCKET_FULL,     /* ...whose send buffer is full */
    HFD_MEMFD_4K,        /* what DMA maps want, 4 KiB */
    HFD_MEMFD_64K,       /* 64 KiB */
    HFD_MEMFD_EMPTY,     /* size 0 */
    HFD_DEVNULL,         /* /dev/null, read-write: not mappable */
    HFD_DEVZERO,         /* /dev/zero: mappable, not a file */
    HFD_OPATH,           /* an O_PATH fd: no I/O at all */
    HFD_NR_KINDS
};

/* Makes an fd of kind (taken modulo HFD_NR_KINDS) for the client to send.
 * *keep gets the end the client keeps (a pipe's other end, the socket
 * peer), or -1; the caller closes both when done. Returns the fd or
 * -errno. */
int hostile_fd_make(unsigned kind, int *keep);
const char *hostile_fd_name(unsigned kind);

#endif
