/* Host streams of vdevc-generated devices: libvdev's stream callbacks over
 * two 8-bit FIFOs of the state block (VDEV_FIFO), so the bytes in flight
 * migrate, reset and are checked on load with the rest of the state. Host
 * bytes go into rx only as far as it has room (back-pressure), then the
 * model's on_receive runs; tx drains to the host, and on_transmit runs
 * when that emptied it. Host layer, beside model.c. */
#include <errno.h>
#include <talloc.h>

#include "host/model.h"

/* A stream of the model: the callbacks' opaque. */
struct model_stream {
    const struct vdev_model *d;
    uint8_t *state;
    const struct vdev_model_stream *s;
};

/* A stream FIFO (VDEV_FIFO(uint8_t, depth)) in the state block. */
struct fifo8 {
    uint32_t *head, *count;
    uint8_t *v;
    uint32_t depth;
};

static struct fifo8
fifo_at(const struct model_stream *ms, uint32_t off, uint32_t depth)
{
    uint8_t *p = ms->state + off;
    return (struct fifo8){(uint32_t *)p, (uint32_t *)(p + 4), p + 8, depth};
}

static void
changed(struct vdev_dev *dev, const struct model_stream *ms)
{
    if (ms->s->irqs && ms->d->update_irqs)
        ms->d->update_irqs(dev, ms->s->irqs);
}

static size_t
rx_space(struct vdev_dev *dev, void *opaque)
{
    const struct model_stream *ms = opaque;
    struct fifo8 q = fifo_at(ms, ms->s->rx, ms->s->rx_depth);
    return *q.count < q.depth ? q.depth - *q.count : 0;
}

static void
rx(struct vdev_dev *dev, void *opaque, const uint8_t *buf, size_t len)
{
    const struct model_stream *ms = opaque;
    struct fifo8 q = fifo_at(ms, ms->s->rx, ms->s->rx_depth);
    for (size_t i = 0; i < len; i++)
        vdev_fifo_push(q.head, q.count, q.v, q.depth, 1, buf[i]);
    changed(dev, ms);
    if (ms->s->on_receive)
        ms->s->on_receive(dev);
}

static size_t
tx_peek(struct vdev_dev *dev, void *opaque, uint8_t *buf, size_t max)
{
    const struct model_stream *ms = opaque;
    struct fifo8 q = fifo_at(ms, ms->s->tx, ms->s->tx_depth);
    size_t n = *q.count < max ? *q.count : max;
    for (size_t i = 0; i < n; i++)
        buf[i] = q.v[(*q.head + i) % q.depth];
    return n;
}

static void
tx_consume(struct vdev_dev *dev, void *opaque, size_t n)
{
    const struct model_stream *ms = opaque;
    struct fifo8 q = fifo_at(ms, ms->s->tx, ms->s->tx_depth);
    while (n-- > 0)
        vdev_fifo_pop(q.head, q.count, q.v, q.depth, 1);
    changed(dev, ms);
}

static void
tx_empty(struct vdev_dev *dev, void *opaque)
{
    const struct model_stream *ms = opaque;
    if (ms->s->on_transmit)
        ms->s->on_transmit(dev);
}

static const struct vdev_stream_ops ops = {
    .rx_space = rx_space,
    .rx = rx,
    .tx_peek = tx_peek,
    .tx_consume = tx_consume,
    .tx_empty = tx_empty,
};

/* Inside the state block, aligned as VDEV_FIFO is, not empty. */
static bool
fifo_ok(const struct vdev_model *d, uint32_t off, uint32_t depth)
{
    return depth > 0 && off % 4 == 0 && off <= d->state_size &&
           8 + (size_t)depth <= d->state_size - off;
}

int
vdev_model_streams_add(struct vdev_dev *dev, const struct vdev_model *d,
                       uint8_t *state)
{
    struct model_stream *ms;

    if (!d->nr_streams)
        return 0;
    ms = talloc_array(dev, struct model_stream, d->nr_streams);
    if (!ms)
        return -ENOMEM;
    for (unsigned i = 0; i < d->nr_streams; i++) {
        const struct vdev_model_stream *s = &d->streams[i];
        int rc;

        if (!fifo_ok(d, s->rx, s->rx_depth) || !fifo_ok(d, s->tx, s->tx_depth))
            return -EINVAL;
        ms[i] = (struct model_stream){d, state, s};
        rc = vdev_stream_add(dev, s->name, &ops, &ms[i]);
        if (rc < 0)
            return rc;
        if ((unsigned)rc != i)
            return -EBUSY;
    }
    return 0;
}
