/* Device state to and from files for the management channel's save/load
 * (the migration stream of mig_stream.c). Private to host/mgmt.c. */
#ifndef VDEV_MGMT_STATE_H
#define VDEV_MGMT_STATE_H

#include <stddef.h>

#include "vdev.h"

/* Largest state file load accepts. */
#define VDEV_MGMT_STATE_MAX (64u << 20)

/* Both return 0 or -errno: -ENOTSUP (no migratable state), -EBUSY (a VMM
 * migration is in progress: load only), -EPROTO/-EINVAL (not a valid
 * stream for this device: nothing changed), file errors. *len gets the
 * number of bytes written or read. */
int vdev_mgmt_save_file(struct vdev_dev *dev, const char *path, size_t *len);
int vdev_mgmt_load_file(struct vdev_dev *dev, const char *path, size_t *len);

#endif /* VDEV_MGMT_STATE_H */
