/* FIFOs and host streams in the C: each FIFO a VDEV_FIFO member of the
 * state block (so it migrates, resets and is checked on load like the
 * rest), its members and methods as vdev_model.h's macros, and the stream
 * table with the `on receive` / `on transmit` functions that libvdev's
 * register engine (model_stream.c) runs. */
#include <string.h>
#include <talloc.h>

#include "cexpr.h"

static const char *
fifo_place(struct vdevc_emit *e, const struct vdevc_fifo *f)
{
    return vdevc_emit_strf(e, "d->s.%s", f->cname);
}

void
vdevc_emit_fifo_members(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->fifos.n; i++) {
        const struct vdevc_fifo *f = e->d->fifos.v[i];
        L(1, "VDEV_FIFO(%s, %llu) %s;", vdevc_ctype(f->width),
          (unsigned long long)f->depth, f->cname);
    }
}

/* count, full, empty; pop(), peek(), push(x), clear(). */
struct cx *
vdevc_cx_fifo(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    const struct vdevc_fifo *f = x->sym;
    const char *q = fifo_place(e, f);
    struct cx *count =
        vdevc_cx_leaf(e, vdevc_emit_strf(e, "%s.count", q), 32, f->depth);
    struct cx *c;
    if (x->kind != E_CALL) {
        if (strcmp(x->name, "empty") == 0)
            return vdevc_cx_bin(e, OP_EQ, count, vdevc_cx_num(e, 0));
        if (strcmp(x->name, "full") == 0)
            return vdevc_cx_bin(e, OP_EQ, count, vdevc_cx_num(e, f->depth));
        return count;
    }
    unsigned bits = vdevc_storage_bits(f->width);
    if (strcmp(x->name, "push") == 0) {
        const char *v = vdevc_emit_arg(e, x->args.v[0], f->width);
        c = vdevc_cx_leaf(e, vdevc_emit_strf(e, "VDEV_FIFO_PUSH(%s, %s)", q, v),
                          8, 1);
    } else {
        char *up = vdevc_upper(e->tmp, x->name);
        c = vdevc_cx_leaf(e, vdevc_emit_strf(e, "VDEV_FIFO_%s(%s)", up, q),
                          bits, vdevc_mask(f->width));
    }
    c->pure = strcmp(x->name, "peek") == 0;
    return c;
}

/* ------------------------------------------------------------ state */

/* Load checks: the ring in range, narrow elements within their width. */
void
vdevc_emit_fifo_checks(struct vdevc_emit *e, struct vdevc_out *o)
{
    for (unsigned i = 0; i < e->d->fifos.n; i++) {
        const struct vdevc_fifo *f = e->d->fifos.v[i];
        const char *n = f->cname, *depth = HEX(f->depth);
        vdevc_out_line(o, 1, "if (s->%s.head >= %s || s->%s.count > %s)", n,
                       depth, n, depth);
        vdevc_out_line(o, 2, "return -EINVAL;");
        if (vdevc_storage_bits(f->width) == f->width)
            continue;
        vdevc_out_line(o, 1, "for (unsigned i = 0; i < %s; i++)", depth);
        vdevc_out_line(o, 2, "if (s->%s.v[i] > %s)", n,
                       HEX(vdevc_mask(f->width)));
        vdevc_out_line(o, 3, "return -EINVAL;");
    }
}

/* Migration names: "state.NAME", a stream's "state.NAME.rx". */
unsigned
vdevc_fifo_mig_count(const struct vdevc_device *d)
{
    unsigned n = 0;
    for (unsigned i = 0; i < d->fifos.n; i++)
        n += !vdevc_fifo_at(&d->fifos, i)->nomigrate;
    return n;
}

void
vdevc_emit_fifo_mig(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->fifos.n; i++) {
        const struct vdevc_fifo *f = e->d->fifos.v[i];
        const char *q = vdevc_emit_strf(e, "state.%s", f->qname);
        if (!f->nomigrate)
            L(1, "VDEV_MIG_FIELD(struct %s_state, %s, \"%s\", 0x%08xu, %u),",
              e->name, f->cname, q, vdevc_fnv1a(q), f->since);
    }
}

/* ------------------------------------------------------------ streams */

static const char *
stream_fn(struct vdevc_emit *e, const struct vdevc_stream *s,
          const struct vdevc_hook *h)
{
    return vdevc_emit_strf(e, "%s_%s_on_%s", e->name, s->name, h->when);
}

unsigned
vdevc_emit_streams(struct vdevc_emit *e)
{
    const struct vdevc_device *d = e->d;
    if (d->streams.n == 0)
        return 0;
    for (unsigned i = 0; i < d->streams.n; i++) {
        const struct vdevc_stream *s = d->streams.v[i];
        const struct vdevc_hook *hooks[] = {s->on_receive, s->on_transmit};
        for (unsigned k = 0; k < 2; k++)
            if (hooks[k])
                vdevc_emit_device_hook(
                    e, hooks[k], stream_fn(e, s, hooks[k]), NULL,
                    vdevc_emit_strf(e, "%s on %s", s->name, hooks[k]->when));
        vdevc_emit_flush(e);
    }
    P("/* Host streams: stream i is libvdev's stream id i. */\n");
    P("static const struct vdev_model_stream %s_streams[] = {\n", e->name);
    for (unsigned i = 0; i < d->streams.n; i++) {
        const struct vdevc_stream *s = d->streams.v[i];
        L(1, "{");
        vdevc_emit_where(e, s->hdr.loc.first_line, s->name, 2);
        L(2, ".name = \"%s\",", s->name);
        L(2, ".rx = offsetof(struct %s_state, %s),", e->name, s->rx->cname);
        L(2, ".tx = offsetof(struct %s_state, %s),", e->name, s->tx->cname);
        L(2, ".rx_depth = %s,", HEX(s->rx->depth));
        L(2, ".tx_depth = %s,", HEX(s->tx->depth));
        if (s->rx->irqs | s->tx->irqs)
            L(2, ".irqs = %s,", HEX(s->rx->irqs | s->tx->irqs));
        if (s->on_receive)
            L(2, ".on_receive = %s,", stream_fn(e, s, s->on_receive));
        if (s->on_transmit)
            L(2, ".on_transmit = %s,", stream_fn(e, s, s->on_transmit));
        L(1, "},");
    }
    P("};\n\n");
    vdevc_emit_flush(e);
    return d->streams.n;
}

/* Served on the loop's next turn, after what changed the FIFOs returned:
 * kicking first is as good as kicking last (and survives any path out). */
void
vdevc_emit_kicks(struct vdevc_emit *e, uint32_t streams, int ind)
{
    for (unsigned i = 0; i < VDEVC_MAX_STREAMS; i++)
        if (streams & (UINT32_C(1) << i))
            L(ind, "vdev_stream_kick(dev, %u); /* %s */", i,
              vdevc_stream_at(&e->d->streams, i)->name);
}
