/* --emit=doc, time and the host side: the device's timers, FIFOs, host
 * streams and events (how the host binds a stream and hears an event),
 * and the FIFO rows of the migration table. */
#include <inttypes.h>
#include <string.h>
#include <talloc.h>

#include "emit.h"
#include "emit_doc.h"

/* Where a timer is started: "every" when any start is periodic. */
struct starts {
    const struct vdevc_timer *t;
    bool after, every;
};

static void
scan_starts(struct starts *st, const struct vdevc_stmt *s)
{
    if (!s)
        return;
    if (s->kind == S_START && s->lhs->sym == st->t) {
        st->after |= s->op == 0;
        st->every |= s->op == 1;
    }
    scan_starts(st, s->then_s);
    scan_starts(st, s->else_s);
    for (unsigned i = 0; i < s->body.n; i++)
        scan_starts(st, s->body.v[i]);
}

static void
scan_hook_starts(struct starts *st, const struct vdevc_hook *h)
{
    if (h)
        scan_starts(st, h->body);
}

/* Every hook of the device, for scan_hook_starts. */
static void
scan_device(struct starts *st, const struct vdevc_device *d)
{
    for (unsigned i = 0; i < d->regs.n; i++) {
        const struct vdevc_reg *r = d->regs.v[i];
        for (unsigned k = 0; k < r->fields.n; k++) {
            const struct vdevc_field *f = r->fields.v[k];
            scan_hook_starts(st, f->on_read);
            scan_hook_starts(st, f->on_write);
        }
        scan_hook_starts(st, r->on_read);
        scan_hook_starts(st, r->on_write);
    }
    for (unsigned i = 0; i < d->vars.n; i++)
        scan_hook_starts(st, vdevc_var_at(&d->vars, i)->on_write);
    for (unsigned i = 0; i < d->timers.n; i++)
        scan_hook_starts(st, vdevc_timer_at(&d->timers, i)->on_expire);
    for (unsigned i = 0; i < d->streams.n; i++) {
        scan_hook_starts(st, vdevc_stream_at(&d->streams, i)->on_receive);
        scan_hook_starts(st, vdevc_stream_at(&d->streams, i)->on_transmit);
    }
    scan_hook_starts(st, d->on_init);
    scan_hook_starts(st, d->on_reset);
    for (unsigned i = 0; i < d->procs.n; i++)
        scan_starts(st, vdevc_proc_at(&d->procs, i)->body);
}

static void
emit_timers(struct vdevc_emit *e)
{
    void *t = e->tmp;
    P("Timers run on device time, which stands still while migration has "
      "the device stopped; an armed timer migrates with its remaining "
      "time, and a device reset stops it.\n\n"
      "| Timer | Started | On expiry | Notes |\n|---|---|---|---|\n");
    for (unsigned i = 0; i < e->d->timers.n; i++) {
        const struct vdevc_timer *tm = e->d->timers.v[i];
        struct starts st = {tm, false, false};
        scan_device(&st, e->d);
        const char *how = st.after && st.every ? "once or periodically"
                          : st.every           ? "periodically"
                          : st.after           ? "once"
                                               : "never";
        P("| `%s` | %s | %s | %s |\n", tm->name, how,
          tm->on_expire ? "device logic" : "nothing",
          vdevc_doc_text(t, tm->doc));
    }
    P("\n");
}

static void
emit_fifos(struct vdevc_emit *e)
{
    void *t = e->tmp;
    P("| FIFO | Depth | Element | Notes |\n|---|---|---|---|\n");
    for (unsigned i = 0; i < e->d->fifos.n; i++) {
        const struct vdevc_fifo *f = e->d->fifos.v[i];
        P("| `%s` | %" PRIu64 " | %u bit%s | %s |\n", f->qname, f->depth,
          f->width, f->width == 1 ? "" : "s", vdevc_doc_text(t, f->doc));
    }
    P("\n");
}

static void
emit_streams(struct vdevc_emit *e)
{
    void *t = e->tmp;
    P("Host byte streams: the server binds each when it starts (`--stream "
      "NAME=unix:PATH`, `pty`, `file:PATH` or `stdio`); unbound, what the "
      "device sends is dropped and nothing arrives. The server reads host "
      "bytes only while the receive FIFO has room.\n\n"
      "| Stream | Receive FIFO | Transmit FIFO | Notes |\n"
      "|---|---|---|---|\n");
    for (unsigned i = 0; i < e->d->streams.n; i++) {
        const struct vdevc_stream *s = e->d->streams.v[i];
        P("| `%s` | %" PRIu64 " bytes | %" PRIu64 " bytes | %s |\n", s->name,
          s->rx->depth, s->tx->depth, vdevc_doc_text(t, s->doc));
    }
    P("\n");
}

static void
emit_events(struct vdevc_emit *e)
{
    void *t = e->tmp;
    P("Events go to the subscribers of the management socket "
      "(`vdevctl SOCKET.mgmt events`), one line `event NAME TIME_NS` "
      "each.\n\n| Event | Meaning |\n|---|---|\n");
    for (unsigned i = 0; i < e->d->events.n; i++) {
        const struct vdevc_event *ev = e->d->events.v[i];
        P("| `%s` | %s |\n", ev->name, vdevc_doc_text(t, ev->doc));
    }
    P("\n");
}

void
vdevc_doc_host(struct vdevc_emit *e)
{
    const struct vdevc_device *d = e->d;
    if (d->timers.n + d->fifos.n + d->events.n == 0)
        return;
    P("## Time and the host\n\n");
    if (d->timers.n)
        emit_timers(e);
    if (d->streams.n)
        emit_streams(e);
    if (d->fifos.n)
        emit_fifos(e);
    if (d->events.n)
        emit_events(e);
}

void
vdevc_doc_clock_note(struct vdevc_emit *e)
{
    if (e->d->timers.n == 0 && !e->d->uses_now)
        return;
    P("Device time%s travel%s in the stream's runtime part, beside config "
      "space.\n\n",
      e->d->timers.n ? " and the timers (by name: armed or not, remaining "
                       "time, period)"
                     : "",
      e->d->timers.n ? "" : "s");
}

void
vdevc_doc_fifo_rows(struct vdevc_emit *e)
{
    void *t = e->tmp;
    for (unsigned i = 0; i < e->d->fifos.n; i++) {
        const struct vdevc_fifo *f = e->d->fifos.v[i];
        const char *q = talloc_asprintf(t, "state.%s", f->qname);
        uint64_t bytes = 8 + f->depth * (vdevc_storage_bits(f->width) / 8);
        P("| `%s` | fifo, %" PRIu64 " × %u bits | %" PRIu64
          " | %u | %s | `0x%08x` | %s |\n",
          q, f->depth, f->width, bytes, f->since, f->nomigrate ? "no" : "yes",
          vdevc_fnv1a(q), vdevc_doc_text(t, f->doc));
    }
}
