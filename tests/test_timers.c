/* The device clock and timers (device/timer.c, server/tick.c), driven in
 * process on hostdev and on bare devices: the virtual clock fires timers
 * in deadline order with now at each deadline, periods do not drift,
 * restarts re-arm, reset stops, migration's stop freezes time, limits
 * hold; one short real-clock timer goes through the loop's timerfd. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <talloc.h>
#include <time.h>

#include "device/device.h"
#include "hostdev.h"
#include "migration/migration.h"

#define MS 1000000ull

static void
quiet(void *opaque, enum vdev_log_level level, const char *msg)
{
}

static struct vdev_dev *
bare_dev(void)
{
    static const struct vdev_pci_ident id = {.vendor_id = 0x1b36,
                                             .device_id = 0x11f1};
    struct vdev_dev *dev = vdev_dev_create(NULL, "timers", &id);

    cr_assert_not_null(dev);
    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    return dev;
}

static struct vdev_dev *
virtual_hostdev(void)
{
    struct vdev_dev *dev = hostdev_create(NULL);

    cr_assert_not_null(dev);
    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    cr_assert_eq(vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL), 0);
    return dev;
}

/* A log of expiries: which timer, and the device time it saw. */
struct fired {
    struct vdev_dev *dev;
    char who[64];
    uint64_t at[64];
    unsigned n;
    struct vdev_timer *restart; /* re-armed from its own callback */
    struct vdev_timer *stop;    /* stopped from the callback */
};

static void
record(struct vdev_dev *dev, void *opaque, char tag)
{
    struct fired *f = opaque;

    if (f->n < 64) {
        f->who[f->n] = tag;
        f->at[f->n] = vdev_now(dev);
    }
    f->n++;
}

static void
cb_a(struct vdev_dev *dev, void *opaque)
{
    struct fired *f = opaque;

    record(dev, opaque, 'a');
    if (f->restart)
        vdev_timer_start(f->restart, 5 * MS, 0);
}

static void
cb_b(struct vdev_dev *dev, void *opaque)
{
    struct fired *f = opaque;

    record(dev, opaque, 'b');
    if (f->stop)
        vdev_timer_stop(f->stop);
}

Test(timers, virtual_clock_fires_in_deadline_order_at_each_deadline)
{
    struct vdev_dev *dev = bare_dev();
    struct fired f = {0};
    struct vdev_timer *a, *b;
    uint64_t t0;

    cr_assert_eq(vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL), 0);
    a = vdev_timer_new(dev, "a", cb_a, &f);
    b = vdev_timer_new(dev, "b", cb_b, &f);
    cr_assert(a && b);
    t0 = vdev_now(dev);
    /* a every 3 ms from 3, b once at 7 */
    cr_assert_eq(vdev_timer_start(a, 3 * MS, 3 * MS), 0);
    cr_assert_eq(vdev_timer_start(b, 7 * MS, 0), 0);
    cr_assert(vdev_timer_running(a) && vdev_timer_running(b));
    cr_assert_eq(vdev_timer_remaining(b), 7 * MS);
    /* Nothing moves by itself. */
    cr_assert_eq(vdev_now(dev), t0);
    cr_assert_eq(vdev_clock_advance(dev, 10 * MS), 4);
    cr_assert_eq(f.n, 4);
    cr_assert_eq(memcmp(f.who, "aaba", 4), 0, "%.4s", f.who);
    cr_assert_eq(f.at[0], t0 + 3 * MS);
    cr_assert_eq(f.at[1], t0 + 6 * MS);
    cr_assert_eq(f.at[2], t0 + 7 * MS);
    cr_assert_eq(f.at[3], t0 + 9 * MS);
    cr_assert_eq(vdev_now(dev), t0 + 10 * MS);
    cr_assert_not(vdev_timer_running(b), "one-shot stops");
    cr_assert(vdev_timer_running(a));
    cr_assert_eq(vdev_timer_remaining(a), 2 * MS);
    /* A period does not drift: 1000 periods later, exactly on the grid. */
    cr_assert_eq(vdev_clock_advance(dev, 3000 * MS), 1000);
    cr_assert_eq(vdev_timer_remaining(a), 2 * MS);
    talloc_free(dev);
}

Test(timers, ties_fire_in_creation_order_and_callbacks_rearm_and_stop)
{
    struct vdev_dev *dev = bare_dev();
    struct fired f = {0};
    struct vdev_timer *a, *b;

    vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL);
    a = vdev_timer_new(dev, "a", cb_a, &f);
    b = vdev_timer_new(dev, "b", cb_b, &f);
    vdev_timer_start(b, MS, 0);
    vdev_timer_start(a, MS, 0);
    f.restart = a; /* a re-arms itself 5 ms on */
    cr_assert_eq(vdev_clock_advance(dev, MS), 2);
    cr_assert_eq(memcmp(f.who, "ab", 2), 0,
                 "same deadline: a (created "
                 "first) before b");
    cr_assert(vdev_timer_running(a));
    cr_assert_eq(vdev_timer_remaining(a), 5 * MS);
    /* b stops a before a's next expiry */
    f.restart = NULL;
    f.stop = a;
    vdev_timer_start(b, 2 * MS, 0);
    cr_assert_eq(vdev_clock_advance(dev, 10 * MS), 1);
    cr_assert_not(vdev_timer_running(a));
    /* restarting a running timer re-arms it from now */
    vdev_timer_start(a, 4 * MS, 0);
    vdev_clock_advance(dev, 3 * MS);
    vdev_timer_start(a, 4 * MS, 0);
    cr_assert_eq(vdev_clock_advance(dev, 3 * MS), 0);
    cr_assert_eq(vdev_clock_advance(dev, MS), 1);
    talloc_free(dev);
}

Test(timers, limits_and_bad_arguments)
{
    struct vdev_dev *dev = bare_dev();
    struct fired f = {0};
    struct vdev_timer *t;
    char name[80];

    errno = 0;
    cr_assert_null(vdev_timer_new(dev, "", cb_a, &f));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(vdev_timer_new(dev, "two words", cb_a, &f));
    cr_assert_null(vdev_timer_new(dev, "a=b", cb_a, &f));
    cr_assert_null(vdev_timer_new(dev, "x", NULL, &f));
    memset(name, 'n', sizeof(name));
    name[VDEV_NAME_MAX + 1] = '\0';
    cr_assert_null(vdev_timer_new(dev, name, cb_a, &f), "65 bytes");
    name[VDEV_NAME_MAX] = '\0';
    cr_assert_not_null(vdev_timer_new(dev, name, cb_a, &f), "64 bytes");
    cr_assert_null(vdev_timer_new(dev, name, cb_a, &f));
    cr_assert_eq(errno, EEXIST);
    for (unsigned i = 1; i < VDEV_MAX_TIMERS; i++) {
        snprintf(name, sizeof(name), "t%u", i);
        cr_assert_not_null(vdev_timer_new(dev, name, cb_a, &f), "%s", name);
    }
    cr_assert_null(vdev_timer_new(dev, "one-more", cb_a, &f));
    cr_assert_eq(errno, ENOSPC);
    talloc_free(dev);

    dev = bare_dev();
    vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL);
    t = vdev_timer_new(dev, "t", cb_a, &f);
    cr_assert_eq(vdev_timer_start(NULL, 1, 0), -EINVAL);
    cr_assert_eq(vdev_timer_start(t, UINT64_MAX, 0), -EOVERFLOW);
    cr_assert_not(vdev_timer_running(t));
    cr_assert_eq(vdev_clock_advance(dev, UINT64_MAX), -EOVERFLOW);
    /* a period of 0 ns (a guest's register) runs at the minimum */
    cr_assert_eq(vdev_timer_start(t, 0, 1), 0);
    cr_assert_eq(vdev_clock_advance(dev, 10 * VDEV_TIMER_MIN_PERIOD_NS), 11);
    /* freeing a timer unregisters it */
    talloc_free(t);
    cr_assert_eq(dev->clock.nr_timers, 0);
    cr_assert_eq(vdev_clock_advance(dev, MS), 0);
    cr_assert_eq(vdev_set_clock(dev, (enum vdev_clock_kind)7), -EINVAL);
    talloc_free(dev);
}

Test(timers, real_clock_refuses_advance_and_switching_keeps_time)
{
    struct vdev_dev *dev = bare_dev();
    struct fired f = {0};
    struct vdev_timer *t = vdev_timer_new(dev, "t", cb_a, &f);
    uint64_t before, rem;

    cr_assert_eq(vdev_clock_kind(dev), VDEV_CLOCK_REAL);
    cr_assert_eq(vdev_clock_advance(dev, MS), -EPERM);
    vdev_timer_start(t, 1000 * MS, 0);
    before = vdev_now(dev);
    cr_assert_eq(vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL), 0);
    cr_assert_geq(vdev_now(dev), before);
    rem = vdev_timer_remaining(t);
    cr_assert_gt(rem, 900 * MS);
    cr_assert_eq(vdev_clock_advance(dev, rem - 1), 0);
    cr_assert_eq(vdev_clock_advance(dev, 1), 1);
    talloc_free(dev);
}

/* Migration's STOP holds device time and timers; RUNNING goes on from
 * where it stood. */
Test(timers, stopped_device_time_stands_still)
{
    struct vdev_dev *dev = virtual_hostdev();
    struct hostdev *h = hostdev_of(dev);
    uint64_t t0;

    hostdev_write(dev, HD_TICK, 10000); /* 10 ms */
    t0 = vdev_now(dev);
    cr_assert_eq(vdev_mig_set_state(dev, VFIO_DEVICE_STATE_STOP, VDEV_MIG_V2),
                 0);
    cr_assert_not(dev->running);
    cr_assert_eq(vdev_clock_advance(dev, 50 * MS), 0);
    cr_assert_eq(vdev_now(dev), t0);
    cr_assert_eq(vdev_timer_remaining(h->tick), 10 * MS);
    cr_assert_eq(h->st.ticks, 0);
    cr_assert_eq(
        vdev_mig_set_state(dev, VFIO_DEVICE_STATE_RUNNING, VDEV_MIG_V2), 0);
    cr_assert_eq(vdev_clock_advance(dev, 10 * MS - 1), 0);
    cr_assert_eq(vdev_clock_advance(dev, 1), 1);
    cr_assert_eq(h->st.ticks, 1);
    cr_assert_eq(h->st.tick_at, (uint32_t)(t0 + 10 * MS));
    talloc_free(dev);
}

Test(timers, device_reset_stops_timers_and_keeps_time)
{
    struct vdev_dev *dev = virtual_hostdev();
    struct hostdev *h = hostdev_of(dev);
    uint64_t t0 = vdev_now(dev);

    hostdev_write(dev, HD_TICK, HD_PERIODIC | 1000);
    hostdev_write(dev, HD_WDOG, 5000);
    vdev_clock_advance(dev, 2 * MS);
    cr_assert_eq(h->st.ticks, 2);
    vdev_reset(dev);
    cr_assert_not(vdev_timer_running(h->tick));
    cr_assert_not(vdev_timer_running(h->wdog));
    cr_assert_eq(vdev_clock_advance(dev, 10 * MS), 0);
    cr_assert_eq(vdev_now(dev), t0 + 12 * MS, "a reset does not reset now");
    talloc_free(dev);
}

/* ------------------------------------------------------------ loop */

static void
pump(struct vdev_dev *dev, int timeout_ms)
{
    struct pollfd p = {.fd = vdev_fd(dev), .events = POLLIN};

    if (poll(&p, 1, timeout_ms) == 1)
        cr_assert_eq(vdev_dispatch(dev), 0);
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The one test on the real clock: a 50 ms timer through the timerfd. */
Test(timers, real_clock_timer_fires_through_the_loop)
{
    struct vdev_dev *dev = hostdev_create(NULL);
    struct hostdev *h = hostdev_of(dev);
    int64_t start = mono_ms(), end = start + 5000;
    uint64_t armed_at;

    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    armed_at = vdev_now(dev);
    hostdev_write(dev, HD_TICK, 50000);
    while (!h->st.ticks && mono_ms() < end)
        pump(dev, 100);
    cr_assert_eq(h->st.ticks, 1);
    cr_assert_geq(mono_ms() - start, 49, "fired early");
    cr_assert_geq(h->st.tick_at, (uint32_t)(armed_at + 50 * MS));
    /* nothing more comes */
    pump(dev, 20);
    cr_assert_eq(h->st.ticks, 1);
    talloc_free(dev);
}

/* Virtual clock in the loop: a timer due at once (delay 0) fires on the
 * loop's next turn, never inside the call that armed it. */
Test(timers, due_timer_fires_on_the_next_turn)
{
    struct vdev_dev *dev = virtual_hostdev();
    struct hostdev *h = hostdev_of(dev);

    vdev_timer_start(h->tick, 0, 0);
    cr_assert_eq(h->st.ticks, 0);
    for (int i = 0; i < 50 && !h->st.ticks; i++)
        pump(dev, 100);
    cr_assert_eq(h->st.ticks, 1);
    talloc_free(dev);
}
