/* vdev_dev_create: a device model (device.c) and what serves it, the epoll
 * set, stop eventfd and tick timerfd the loop waits on; and the teardown,
 * which lets the client go before the device it uses. */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server/server.h"

static int
dev_destructor(struct vdev_dev *dev)
{
    struct vdev_server *srv = dev->srv;

    /* The connection first: its destructor still needs the device. */
    if (srv->conn)
        talloc_free(srv->conn);
    srv->conn = NULL;
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->socket_path)
        unlink(srv->socket_path);
    if (srv->epoll_fd >= 0)
        close(srv->epoll_fd);
    if (srv->stop_fd >= 0)
        close(srv->stop_fd);
    if (srv->tick_fd >= 0)
        close(srv->tick_fd);
    srv->tick_fd = -1;
    dev->loop_wake = NULL;
    vdev_device_release(dev);
    return 0;
}

static int
open_fds(struct vdev_server *srv)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = VDEV_EV_STOP};

    srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->epoll_fd < 0)
        return -errno;
    srv->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->stop_fd < 0)
        return -errno;
    if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->stop_fd, &ev) < 0)
        return -errno;
    return 0;
}

struct vdev_dev *
vdev_dev_create(void *mem_ctx, const char *name,
                const struct vdev_pci_ident *ident)
{
    struct vdev_dev *dev = talloc_zero(mem_ctx, struct vdev_dev);
    struct vdev_server *srv;

    if (!dev)
        return NULL;
    srv = talloc_zero(dev, struct vdev_server);
    if (!srv) {
        talloc_free(dev);
        return NULL;
    }
    srv->listen_fd = srv->epoll_fd = srv->stop_fd = srv->tick_fd = -1;
    vdev_poll_init(&srv->poll, VDEV_POLL_MAX_US_DEFAULT * 1000ull);
    dev->srv = srv;
    talloc_set_destructor(dev, dev_destructor);
    if (vdev_device_init(dev, name, ident) < 0 || open_fds(srv) < 0 ||
        vdev_tick_init(dev) < 0) {
        talloc_free(dev);
        return NULL;
    }
    return dev;
}

int
vdev_set_dma_layout(struct vdev_dev *dev, enum vdev_dma_layout layout)
{
    if (layout != VDEV_DMA_LAYOUT_AUTO && layout != VDEV_DMA_LAYOUT_SPEC &&
        layout != VDEV_DMA_LAYOUT_QEMU)
        return -EINVAL;
    dev->srv->dma_layout = layout;
    return 0;
}

void
vdev_set_qemu_dma_layout(struct vdev_dev *dev, bool on)
{
    vdev_set_dma_layout(dev, on ? VDEV_DMA_LAYOUT_QEMU : VDEV_DMA_LAYOUT_SPEC);
}
