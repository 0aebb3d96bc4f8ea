/* Test support for the DMA tests: a device and connection built by hand
 * (no sockets unless a test adds them), memfds and fd checks. */
#ifndef VDEV_TEST_DMA_FIXTURE_H
#define VDEV_TEST_DMA_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device/dma.h"
#include "server/server.h"

#define PG 4096ull

/* A connection built by hand (no socket unless a test adds one), attached
 * to dev as vdev_conn_adopt would: the device's client, its DMA table. */
static inline struct vdev_conn *
fixture_conn(struct vdev_dev *dev)
{
    struct vdev_conn *c = talloc_zero(dev, struct vdev_conn);

    c->dev = dev;
    c->fd = -1;
    c->twin_fd = -1;
    c->peer_max_data_xfer = VFIO_USER_DEF_MAX_DATA_XFER;
    vdev_dma_init(&c->dma, c, vdev_s2c_dma, c);
    dev->srv->conn = c;
    dev->dma = &c->dma;
    return c;
}

static inline struct vdev_dev *
dma_fixture_dev(void)
{
    struct vdev_dev *dev = talloc_zero(NULL, struct vdev_dev);
    struct vdev_conn *c;

    dev->srv = talloc_zero(dev, struct vdev_server);
    dev->srv->listen_fd = dev->srv->epoll_fd = dev->srv->stop_fd = -1;
    dev->log.max = VDEV_LOG_ERROR;
    dev->running = true;
    c = fixture_conn(dev);
    c->rx.cap = VDEV_MAX_MSG_SIZE;
    c->rx.buf = talloc_size(c, c->rx.cap);
    c->rx.fdq.fds = c->rx.fds;
    c->rx.fdq.max = VDEV_MAX_MSG_FDS * 4;
    return dev;
}

static inline int
dma_fixture_memfd(size_t size)
{
    int fd = memfd_create("vdev-test-dma", MFD_CLOEXEC);

    if (fd >= 0 && ftruncate(fd, (off_t)size) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static inline bool
fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

#endif
