/* The register engine's parts (model.c) that live in files of their own:
 * host streams over state-block FIFOs (model_stream.c). */
#ifndef VDEV_HOST_MODEL_H
#define VDEV_HOST_MODEL_H

#include <stdint.h>

#include "vdev_model.h"

/* Adds d's streams to dev (ids 0, 1, ... in table order) with their FIFOs
 * in state. 0 or -errno: -EINVAL for a FIFO outside the state block,
 * -EBUSY when dev had streams already (the ids would not be the table's),
 * or vdev_stream_add()'s error. */
int vdev_model_streams_add(struct vdev_dev *dev, const struct vdev_model *d,
                           uint8_t *state);

#endif /* VDEV_HOST_MODEL_H */
