/* The device clock and its timers: device time runs while the device runs,
 * over CLOCK_MONOTONIC or a virtual clock; timers hold device-time
 * deadlines, the serving loop fires them (server/tick.c wires the timerfd
 * through dev->loop_wake). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "device/device.h"

struct vdev_timer {
    struct vdev_dev *dev;
    char *name;
    vdev_timer_fn *fn;
    void *opaque;
    bool armed;
    uint64_t deadline; /* device time */
    uint64_t period;   /* 0: one-shot */
};

/* ------------------------------------------------------------ clock */

uint64_t
vdev_clock_host_now(const struct vdev_dev *dev)
{
    if (dev->clock.is_virtual)
        return dev->clock.virt_host;
    return vdev_now_ns();
}

uint64_t
vdev_now(struct vdev_dev *dev)
{
    const struct vdev_clock *c = &dev->clock;
    uint64_t host;

    if (!c->ticking)
        return c->dev_base;
    host = vdev_clock_host_now(dev);
    return c->dev_base + (host > c->host_base ? host - c->host_base : 0);
}

/* Re-anchors device time at the host time source's present. */
static void
anchor(struct vdev_dev *dev, uint64_t now)
{
    dev->clock.dev_base = now;
    dev->clock.host_base = vdev_clock_host_now(dev);
}

void
vdev_dev_wake(struct vdev_dev *dev)
{
    if (dev->loop_wake)
        dev->loop_wake(dev);
}

void
vdev_dev_set_running(struct vdev_dev *dev, bool running)
{
    struct vdev_clock *c = &dev->clock;

    dev->running = running;
    if (c->ticking == running)
        return;
    /* Stopping freezes device time where it is; starting resumes it from
     * there, so the stopped interval never passed for the device. */
    anchor(dev, vdev_now(dev));
    c->ticking = running;
    /* Streams paused while stopped: serve them again. */
    if (running)
        for (unsigned i = 0; i < dev->nr_streams; i++)
            dev->streams[i]->kicked = true;
    vdev_dev_wake(dev);
}

void
vdev_clock_set_now(struct vdev_dev *dev, uint64_t now)
{
    anchor(dev, now);
    vdev_dev_wake(dev);
}

int
vdev_set_clock(struct vdev_dev *dev, enum vdev_clock_kind kind)
{
    uint64_t now;

    if (!dev || (kind != VDEV_CLOCK_REAL && kind != VDEV_CLOCK_VIRTUAL))
        return -EINVAL;
    now = vdev_now(dev);
    if (kind == VDEV_CLOCK_VIRTUAL && !dev->clock.is_virtual)
        dev->clock.virt_host = 0;
    dev->clock.is_virtual = kind == VDEV_CLOCK_VIRTUAL;
    anchor(dev, now);
    vdev_dev_wake(dev);
    return 0;
}

enum vdev_clock_kind
vdev_clock_kind(const struct vdev_dev *dev)
{
    return dev->clock.is_virtual ? VDEV_CLOCK_VIRTUAL : VDEV_CLOCK_REAL;
}

void
vdev_clock_use(struct vdev_dev *dev)
{
    dev->clock.used = true;
}

/* ------------------------------------------------------------ timers */

static int
timer_destructor(struct vdev_timer *t)
{
    struct vdev_clock *c = &t->dev->clock;

    for (unsigned i = 0; i < c->nr_timers; i++) {
        if (c->timers[i] != t)
            continue;
        memmove(&c->timers[i], &c->timers[i + 1],
                (c->nr_timers - i - 1) * sizeof(*c->timers));
        c->nr_timers--;
        break;
    }
    return 0;
}

struct vdev_timer *
vdev_timer_new(struct vdev_dev *dev, const char *name, vdev_timer_fn *fn,
               void *opaque)
{
    struct vdev_clock *c;
    struct vdev_timer *t;

    if (!dev || !fn || !vdev_name_ok(name)) {
        errno = EINVAL;
        return NULL;
    }
    c = &dev->clock;
    for (unsigned i = 0; i < c->nr_timers; i++)
        if (!strcmp(c->timers[i]->name, name)) {
            errno = EEXIST;
            return NULL;
        }
    if (c->nr_timers >= VDEV_MAX_TIMERS) {
        errno = ENOSPC;
        return NULL;
    }
    if (!c->timers) {
        c->timers =
            talloc_zero_array(dev, struct vdev_timer *, VDEV_MAX_TIMERS);
        if (!c->timers) {
            errno = ENOMEM;
            return NULL;
        }
    }
    t = talloc_zero(dev, struct vdev_timer);
    if (!t || !(t->name = talloc_strdup(t, name))) {
        talloc_free(t);
        errno = ENOMEM;
        return NULL;
    }
    t->dev = dev;
    t->fn = fn;
    t->opaque = opaque;
    c->timers[c->nr_timers++] = t;
    c->used = true;
    talloc_set_destructor(t, timer_destructor);
    return t;
}

int
vdev_timer_start(struct vdev_timer *t, uint64_t delay_ns, uint64_t period_ns)
{
    uint64_t now;

    if (!t)
        return -EINVAL;
    now = vdev_now(t->dev);
    if (delay_ns > UINT64_MAX - now)
        return -EOVERFLOW;
    if (period_ns && period_ns < VDEV_TIMER_MIN_PERIOD_NS)
        period_ns = VDEV_TIMER_MIN_PERIOD_NS;
    t->deadline = now + delay_ns;
    t->period = period_ns;
    t->armed = true;
    vdev_dev_wake(t->dev);
    return 0;
}

void
vdev_timer_stop(struct vdev_timer *t)
{
    if (!t || !t->armed)
        return;
    t->armed = false;
    vdev_dev_wake(t->dev);
}

bool
vdev_timer_running(const struct vdev_timer *t)
{
    return t && t->armed;
}

uint64_t
vdev_timer_remaining(const struct vdev_timer *t)
{
    uint64_t now;

    if (!t || !t->armed)
        return 0;
    now = vdev_now(t->dev);
    return t->deadline > now ? t->deadline - now : 0;
}

const char *
vdev_timer_name(const struct vdev_timer *t)
{
    return t ? t->name : NULL;
}

void
vdev_timer_get_state(const struct vdev_timer *t, bool *armed,
                     uint64_t *remaining, uint64_t *period)
{
    *armed = t->armed;
    *remaining = vdev_timer_remaining(t);
    *period = t->armed ? t->period : 0;
}

void
vdev_timer_set_state(struct vdev_timer *t, bool armed, uint64_t remaining,
                     uint64_t period)
{
    uint64_t now = vdev_now(t->dev);

    t->armed = armed && remaining <= UINT64_MAX - now;
    t->deadline = t->armed ? now + remaining : 0;
    t->period = armed ? period : 0;
    if (t->period && t->period < VDEV_TIMER_MIN_PERIOD_NS)
        t->period = VDEV_TIMER_MIN_PERIOD_NS;
    vdev_dev_wake(t->dev);
}

void
vdev_timers_reset(struct vdev_dev *dev)
{
    for (unsigned i = 0; i < dev->clock.nr_timers; i++)
        dev->clock.timers[i]->armed = false;
    vdev_dev_wake(dev);
}

/* The armed timer with the earliest deadline (ties: the first created). */
static struct vdev_timer *
earliest(const struct vdev_dev *dev)
{
    const struct vdev_clock *c = &dev->clock;
    struct vdev_timer *best = NULL;

    for (unsigned i = 0; i < c->nr_timers; i++) {
        struct vdev_timer *t = c->timers[i];
        if (t->armed && (!best || t->deadline < best->deadline))
            best = t;
    }
    return best;
}

bool
vdev_timers_next(const struct vdev_dev *dev, uint64_t *host_ns)
{
    const struct vdev_clock *c = &dev->clock;
    const struct vdev_timer *t = earliest(dev);

    if (!t || !c->ticking)
        return false;
    if (t->deadline <= c->dev_base)
        *host_ns = c->host_base;
    else if (t->deadline - c->dev_base > UINT64_MAX - c->host_base)
        *host_ns = UINT64_MAX;
    else
        *host_ns = c->host_base + (t->deadline - c->dev_base);
    return true;
}

/* One expiry: re-arms (or disarms) first, so the callback may restart or
 * stop its own timer. */
static void
fire(struct vdev_timer *t)
{
    if (t->period && t->deadline <= UINT64_MAX - t->period)
        t->deadline += t->period;
    else
        t->armed = false;
    t->fn(t->dev, t->opaque);
    vdev_dev_settle(t->dev);
}

unsigned
vdev_timers_run(struct vdev_dev *dev, unsigned budget)
{
    unsigned n = 0;

    while (n < budget && dev->clock.ticking) {
        struct vdev_timer *t = earliest(dev);

        if (!t || t->deadline > vdev_now(dev))
            break;
        fire(t);
        n++;
    }
    return n;
}

int
vdev_clock_advance_budget(struct vdev_dev *dev, uint64_t ns, unsigned budget,
                          uint64_t *left)
{
    struct vdev_clock *c = &dev->clock;
    uint64_t target;
    unsigned n = 0;

    if (!c->is_virtual)
        return -EPERM;
    if (ns > UINT64_MAX - c->virt_host ||
        (c->ticking && ns > UINT64_MAX - vdev_now(dev)))
        return -EOVERFLOW;
    target = c->virt_host + ns;
    *left = 0;
    while (c->ticking) {
        struct vdev_timer *t = earliest(dev);
        /* host_base <= virt_host <= target; checked not to wrap above */
        uint64_t dev_target = c->dev_base + (target - c->host_base);
        uint64_t at;

        if (!t || t->deadline > dev_target)
            break; /* none due by the target */
        if (n == budget) {
            *left = target - c->virt_host;
            return (int)n;
        }
        /* Step the clock to the deadline (never back), then fire. */
        at = t->deadline > c->dev_base
                 ? c->host_base + (t->deadline - c->dev_base)
                 : c->host_base;
        if (at > c->virt_host)
            c->virt_host = at;
        fire(t);
        n++;
    }
    c->virt_host = target;
    vdev_dev_wake(dev);
    return (int)n;
}

int64_t
vdev_clock_advance(struct vdev_dev *dev, uint64_t ns)
{
    int64_t total = 0;
    uint64_t left = ns;

    if (!dev)
        return -EINVAL;
    do {
        int rc = vdev_clock_advance_budget(dev, left, 1u << 20, &left);
        if (rc < 0)
            return rc;
        total += rc;
    } while (left);
    return total;
}
