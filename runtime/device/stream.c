/* Host byte streams, the device's side: the registry of a device's streams
 * and their kicks. Moving the bytes to and from a host endpoint is the
 * serving loop's (server/stream_io.c). */
#include <errno.h>
#include <string.h>

#include "device/device.h"

int
vdev_stream_add(struct vdev_dev *dev, const char *name,
                const struct vdev_stream_ops *ops, void *opaque)
{
    struct vdev_stream *s;

    if (!dev || !ops || !ops->rx_space || !ops->rx || !ops->tx_peek ||
        !ops->tx_consume || !vdev_name_ok(name))
        return -EINVAL;
    for (unsigned i = 0; i < dev->nr_streams; i++)
        if (!strcmp(dev->streams[i]->name, name))
            return -EEXIST;
    if (dev->nr_streams >= VDEV_MAX_STREAMS)
        return -ENOSPC;
    if (!dev->streams) {
        dev->streams =
            talloc_zero_array(dev, struct vdev_stream *, VDEV_MAX_STREAMS);
        if (!dev->streams)
            return -ENOMEM;
    }
    s = talloc_zero(dev->streams, struct vdev_stream);
    if (!s || !(s->name = talloc_strdup(s, name))) {
        talloc_free(s);
        return -ENOMEM;
    }
    s->dev = dev;
    s->id = dev->nr_streams;
    s->ops = *ops;
    s->opaque = opaque;
    /* A first service drains what the device queued before anyone was
     * there. */
    s->kicked = true;
    dev->streams[dev->nr_streams++] = s;
    vdev_dev_wake(dev);
    return (int)s->id;
}

void
vdev_stream_kick(struct vdev_dev *dev, unsigned id)
{
    if (!dev || id >= dev->nr_streams || dev->streams[id]->kicked)
        return;
    dev->streams[id]->kicked = true;
    vdev_dev_wake(dev);
}

bool
vdev_streams_kicked(const struct vdev_dev *dev)
{
    for (unsigned i = 0; i < dev->nr_streams; i++)
        if (dev->streams[i]->kicked)
            return true;
    return false;
}
