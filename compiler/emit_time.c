/* Time in the C: each timer's handle (in the device's private struct) and
 * its `on expire` function, the line of the constructor that creates it,
 * `now`, a timer's running / remaining, and the start, stop and emit
 * statements. libvdev runs the timers (vdev_timer_*); a timer's remaining
 * time travels with the device state by its name. */
#include <string.h>
#include <talloc.h>

#include "cexpr.h"

void
vdevc_emit_timer_handles(struct vdevc_emit *e)
{
    if (e->d->timers.n == 0)
        return;
    L(1, "struct {");
    for (unsigned i = 0; i < e->d->timers.n; i++)
        L(2, "struct vdev_timer *%s;", vdevc_timer_at(&e->d->timers, i)->name);
    L(1, "} timer; /* libvdev's handles */");
}

static const char *
expire_fn(struct vdevc_emit *e, const struct vdevc_timer *t)
{
    return vdevc_emit_strf(e, "%s_%s_on_expire", e->name, t->name);
}

void
vdevc_emit_timer_hooks(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->timers.n; i++) {
        const struct vdevc_timer *t = e->d->timers.v[i];
        const char *fn = expire_fn(e, t);
        const char *what = vdevc_emit_strf(e, "%s on expire", t->name);
        if (t->on_expire)
            vdevc_emit_device_hook(e, t->on_expire, fn, "void *opaque", what);
        else /* a timer only looked at: nothing to do when it expires */
            P("static void\n%s(struct vdev_dev *dev, void *opaque)\n{\n"
              "    (void)dev;\n    (void)opaque;\n}\n\n",
              fn);
        vdevc_emit_flush(e);
    }
}

void
vdevc_emit_timer_create(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->timers.n; i++) {
        const struct vdevc_timer *t = e->d->timers.v[i];
        P("!(d->timer.%s = vdev_timer_new(dev, \"%s\", %s, NULL)) ||\n"
          "        ",
          t->name, t->name, expire_fn(e, t));
    }
}

struct cx *
vdevc_cx_time(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    struct cx *c;
    if (x->ref == REF_NOW) {
        c = vdevc_cx_leaf(e, "vdev_now(dev)", 64, UINT64_MAX);
    } else if (strcmp(x->name, "running") == 0) {
        const struct vdevc_timer *t = x->sym;
        return vdevc_cx_leaf(
            e, vdevc_emit_strf(e, "vdev_timer_running(d->timer.%s)", t->name),
            8, 1);
    } else {
        const struct vdevc_timer *t = x->sym;
        c = vdevc_cx_leaf(
            e, vdevc_emit_strf(e, "vdev_timer_remaining(d->timer.%s)", t->name),
            64, UINT64_MAX);
    }
    /* Time passes between two readings: never fold two into one. */
    c->pure = false;
    return c;
}

void
vdevc_emit_host_stmt(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    switch (s->kind) {
    case S_START:
        L(ind, "vdev_timer_start_in(d->timer.%s, %s, VDEV_%s, %s);",
          s->lhs->name, vdevc_emit_arg(e, s->rhs, 64),
          vdevc_upper(e->tmp, s->third->name), s->op ? "true" : "false");
        break;
    case S_STOP:
        L(ind, "vdev_timer_stop(d->timer.%s);", s->lhs->name);
        break;
    case S_EMIT:
        L(ind, "vdev_event_emit(dev, \"%s\");", s->lhs->name);
        break;
    default: /* S_WORD: sema reported it */
        break;
    }
}
