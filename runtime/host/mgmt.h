/* The management channel's part in a hand-over (host/mgmt.c for
 * host/handover*.c). Private to host/. */
#ifndef VDEV_HOST_MGMT_H
#define VDEV_HOST_MGMT_H

#include "server/server.h"

/* mgmt.c: the management channel. Its sockets sit in srv->epoll_fd with
 * epoll data.u32 >= VDEV_EV_MGMT; the serving loop hands every such event
 * to srv->ext_dispatch, which mgmt.c sets. Never blocks; a client's
 * misbehaviour only drops that client. */
/* Hand-over (handover*.c): the listening fd and path (-1 and NULL if
 * none); disown closes the fd and forgets the path without removing the
 * file, now a successor's; adopt takes a received listening fd (owned on
 * success), own_path makes the file ours to remove. */
int vdev_mgmt_export(struct vdev_dev *dev, const char **path);
void vdev_mgmt_disown(struct vdev_dev *dev);
int vdev_mgmt_adopt(struct vdev_dev *dev, int fd);
void vdev_mgmt_own_path(struct vdev_dev *dev, const char *path);

#endif /* VDEV_HOST_MGMT_H */
