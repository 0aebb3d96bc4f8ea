/* vdev_mgmt_listen_fd(): the management channel on an inherited listening
 * socket (socket activation), the counterpart of vdev_listen_fd(). */
#include <errno.h>

#include "base/unix.h"
#include "host/mgmt.h"

int
vdev_mgmt_listen_fd(struct vdev_dev *dev, int fd)
{
    int rc;

    if (!dev)
        return -EBADF;
    if ((rc = vdev_unix_adopt_listener(fd)) < 0)
        return rc;
    /* Not bound by us: the socket file stays when the device goes. */
    return vdev_mgmt_adopt(dev, fd);
}
