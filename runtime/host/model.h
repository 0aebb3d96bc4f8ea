/* The register engine's parts (model.c) that live in files of their own:
 * host streams over state-block FIFOs (model_stream.c). */
#ifndef VDEV_HOST_MODEL_H
#define VDEV_HOST_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "vdev_model.h"

/* Adds d's streams to dev (ids 0, 1, ... in table order) with their FIFOs
 * in state. 0 or -errno: -EINVAL for a FIFO outside the state block,
 * -EBUSY when dev had streams already (the ids would not be the table's),
 * or vdev_stream_add()'s error. */
int vdev_model_streams_add(struct vdev_dev *dev, const struct vdev_model *d,
                           uint8_t *state);

/* The engine's two ways to serve a read of a model's BAR `index` (or of
 * its config-space registers: VDEV_CONFIG_INDEX), for the test that proves
 * them equal. plain: the plain-read plan alone: 1 with buf filled when it
 * serves the read, else 0 and buf untouched; !plain: the general path,
 * the plan unused: 0. -EINVAL when dev has no such model BAR. */
int vdev_model_read_by(struct vdev_dev *dev, uint32_t index, uint64_t offset,
                       void *buf, uint32_t count, bool plain);

#endif /* VDEV_HOST_MODEL_H */
