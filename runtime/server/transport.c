/* Transport: the listening UNIX socket, accepting one client at a time, and
 * a connection's life from adoption to teardown (its bytes and fds are
 * server/conn.c's). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/unix.h"
#include "device/dma.h"
#include "device/irq.h"
#include "migration/migration.h"
#include "server/conn.h"
#include "server/server.h"

/* Clients waiting their turn (one is served at a time): room for a burst. */
#define LISTEN_BACKLOG 64

static int
epoll_set(struct vdev_dev *dev, int op, int fd, uint32_t events, uint32_t tag)
{
    struct epoll_event ev = {.events = events, .data.u32 = tag};

    return epoll_ctl(dev->srv->epoll_fd, op, fd, &ev) < 0 ? -errno : 0;
}

/* ------------------------------------------------------------ listening */

int
vdev_transport_listen_path(struct vdev_dev *dev, const char *path)
{
    int fd = vdev_unix_listen(path, LISTEN_BACKLOG, NULL);

    if (fd < 0)
        return fd == -EEXIST ? -EADDRINUSE : fd; /* vdev.h's promise */
    dev->srv->socket_path = talloc_strdup(dev, path);
    dev->srv->listen_fd = fd;
    return 0;
}

int
vdev_listen(struct vdev_dev *dev, const char *path)
{
    int rc;

    if (!path)
        return -EINVAL;
    if (dev->srv->listen_fd >= 0)
        return -EBUSY;
    if ((rc = vdev_transport_listen_path(dev, path)) < 0)
        return rc;
    return epoll_set(dev, EPOLL_CTL_ADD, dev->srv->listen_fd, EPOLLIN,
                     VDEV_EV_LISTEN);
}

/* The fd becomes ours: closed with the device. It must be a listening
 * UNIX stream socket, since fds travel as SCM_RIGHTS. */
int
vdev_listen_fd(struct vdev_dev *dev, int fd)
{
    int rc;

    if (dev->srv->listen_fd >= 0)
        return -EBUSY;
    if ((rc = vdev_unix_adopt_listener(fd)) < 0)
        return rc;
    dev->srv->listen_fd = fd;
    return epoll_set(dev, EPOLL_CTL_ADD, fd, EPOLLIN, VDEV_EV_LISTEN);
}

/* ------------------------------------------------------------ connection */

static int
conn_destructor(struct vdev_conn *c)
{
    struct vdev_dev *dev = c->dev;

    vdev_conn_io_release(c);
    vdev_irqs_drop_fds(dev);
    vdev_dma_remove_all(&c->dma);
    vdev_migration_conn_gone(dev);
    if (dev->dma == &c->dma)
        dev->dma = NULL;
    if (c->twin_fd >= 0)
        close(c->twin_fd);
    if (c->fd >= 0) {
        epoll_ctl(dev->srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    if (dev->srv->conn == c)
        dev->srv->conn = NULL;
    /* The next client, waiting in the backlog, may now be accepted. */
    if (dev->srv->listen_fd >= 0 && dev->srv->epoll_fd >= 0)
        epoll_set(dev, EPOLL_CTL_ADD, dev->srv->listen_fd, EPOLLIN,
                  VDEV_EV_LISTEN);
    return 0;
}

int
vdev_transport_accept(struct vdev_dev *dev)
{
    int fd, rc;

    if (dev->srv->conn || dev->srv->listen_fd < 0)
        return -EBUSY;
    fd = accept4(dev->srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -errno;
    if ((rc = vdev_conn_adopt(dev, fd)) < 0)
        return rc;
    dev->stats.connections++;
    VDEV_LOG(dev, VDEV_LOG_INFO, "client connected (fd %d)", fd);
    return 0;
}

int
vdev_conn_new(struct vdev_dev *dev, int fd, struct vdev_conn **_c)
{
    struct vdev_conn *c;

    if (dev->srv->conn) {
        if (fd >= 0)
            close(fd);
        return -EBUSY;
    }
    c = talloc_zero(dev, struct vdev_conn);
    if (!c || vdev_conn_io_init(c) < 0) {
        talloc_free(c);
        if (fd >= 0)
            close(fd);
        return -ENOMEM;
    }
    c->dev = dev;
    c->fd = fd;
    c->twin_fd = -1;
    c->dma_layout = dev->srv->dma_layout;
    vdev_dma_init(&c->dma, c, vdev_s2c_dma, c);
    c->peer_max_msg_fds = VFIO_USER_DEF_MAX_MSG_FDS;
    c->peer_max_data_xfer = VFIO_USER_DEF_MAX_DATA_XFER;
    talloc_set_destructor(c, conn_destructor);
    dev->srv->conn = c;
    dev->dma = &c->dma;
    /* One client at a time: later ones wait in the backlog. */
    if (dev->srv->listen_fd >= 0)
        epoll_ctl(dev->srv->epoll_fd, EPOLL_CTL_DEL, dev->srv->listen_fd, NULL);
    *_c = c;
    return 0;
}

int
vdev_conn_adopt(struct vdev_dev *dev, int fd)
{
    struct vdev_conn *c;
    int rc;

    if ((rc = vdev_conn_new(dev, fd, &c)) < 0)
        return rc;
    /* Edge-triggered: loop.c reads until it knows the socket is empty,
     * and epoll_wait is spared re-polling it after every message. */
    rc = epoll_set(dev, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP | EPOLLET,
                   VDEV_EV_CONN);
    if (rc < 0)
        talloc_free(c);
    return rc;
}

void
vdev_conn_close(struct vdev_dev *dev)
{
    struct vdev_conn *c = dev->srv->conn;
    size_t held = c ? c->rx.cap + c->tx.cap : 0;

    talloc_free(c);
    /* A client that left with large buffers (a flood of replies it never
     * read): they go back to the system with it. */
    vdev_mem_released(held);
}
