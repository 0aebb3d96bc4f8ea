/* vdev_mgmt_listen_fd(): the management channel on an inherited listening
 * socket (socket activation), the counterpart of vdev_listen_fd(). */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "host/mgmt.h"

int
vdev_mgmt_listen_fd(struct vdev_dev *dev, int fd)
{
    int on = 0, type = 0, domain = 0, fl;
    socklen_t len = sizeof(int);

    if (!dev || fd < 0)
        return -EBADF;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0)
        return -errno;
    if (!on || type != SOCK_STREAM || domain != AF_UNIX)
        return -EINVAL;
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    /* Not bound by us: the socket file stays when the device goes. */
    return vdev_mgmt_adopt(dev, fd);
}
