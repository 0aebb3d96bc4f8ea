/* The loop's tick: one timerfd, armed for the earliest timer deadline of
 * the device (device/timer.c), or to fire at once when device code left
 * work for the loop (a kicked stream, a requested reset). Why a timerfd
 * rather than epoll_wait timeouts: the fd is in the epoll set, so callers
 * of vdev_dispatch() with their own poll loop see timers too, and
 * vdev_run()'s wait needs no change. In virtual-clock mode deadlines are
 * reached by "clock advance"; the timerfd then only fires at once, for
 * work and for timers already due. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "server/server.h"

/* Expiries per tick before the loop serves its other fds again. */
#define TICK_TIMER_BUDGET 64u

static void
tick_set(struct vdev_server *srv, const struct itimerspec *its, int flags)
{
    if (srv->tick_fd < 0 ||
        (flags == srv->tick_flags && !memcmp(its, &srv->tick, sizeof(*its))))
        return;
    if (timerfd_settime(srv->tick_fd, flags, its, NULL) == 0) {
        srv->tick = *its;
        srv->tick_flags = flags;
    }
}

/* Arms the timerfd for what the device needs next. */
static void
tick_arm(struct vdev_dev *dev)
{
    struct itimerspec its;
    int flags = 0;
    uint64_t at;

    memset(&its, 0, sizeof(its));
    if ((dev->reset_pending && dev->running) || vdev_streams_kicked(dev)) {
        its.it_value.tv_nsec = 1; /* relative: at once */
    } else if (vdev_timers_next(dev, &at)) {
        if (dev->clock.is_virtual) {
            if (at <= dev->clock.virt_host)
                its.it_value.tv_nsec = 1;
        } else {
            /* Absolute 0 would disarm: the epoch is in the past anyway. */
            at = at ? at : 1;
            its.it_value.tv_sec = (time_t)(at / 1000000000u);
            its.it_value.tv_nsec = (long)(at % 1000000000u);
            flags = TFD_TIMER_ABSTIME;
        }
    }
    tick_set(dev->srv, &its, flags);
}

/* dev->loop_wake: inside the tick, once at its end; while a handler
 * waits for the client, once the wait is over (vdev_server_aux_resume). */
static void
tick_wake(struct vdev_dev *dev)
{
    if (!dev->srv->in_tick && !dev->srv->nested)
        tick_arm(dev);
}

static void
tick_event(struct vdev_dev *dev)
{
    struct vdev_server *srv = dev->srv;
    uint64_t expirations;

    if (read(srv->tick_fd, &expirations, sizeof(expirations)) < 0 &&
        errno != EAGAIN)
        VDEV_LOG(dev, VDEV_LOG_WARN, "tick: %s", strerror(errno));
    /* The fd is disarmed now (one-shot settings): what we set is gone. */
    memset(&srv->tick, 0, sizeof(srv->tick));
    srv->tick_flags = 0;
    srv->in_tick = true;
    vdev_dev_settle(dev);
    vdev_streams_service(dev);
    vdev_timers_run(dev, TICK_TIMER_BUDGET);
    srv->in_tick = false;
    tick_arm(dev);
}

void
vdev_server_aux_aside(struct vdev_dev *dev, uint32_t tag)
{
    struct vdev_server *srv = dev->srv;
    uint64_t expirations;

    if (tag == VDEV_EV_TICK) {
        /* Quiet until the wait is over; timers fire then. */
        if (read(srv->tick_fd, &expirations, sizeof(expirations)) < 0 &&
            errno != EAGAIN)
            VDEV_LOG(dev, VDEV_LOG_WARN, "tick: %s", strerror(errno));
        memset(&srv->tick, 0, sizeof(srv->tick));
        srv->tick_flags = 0;
    } else if (tag >= VDEV_EV_STREAM) {
        vdev_stream_io_park(dev, tag);
    }
}

void
vdev_server_aux_resume(struct vdev_dev *dev)
{
    tick_arm(dev);
}

void
vdev_server_aux_event(struct vdev_dev *dev, uint32_t tag, uint32_t events)
{
    if (tag == VDEV_EV_TICK)
        tick_event(dev);
    else if (tag >= VDEV_EV_STREAM)
        vdev_stream_io_event(dev, tag, events);
}

int
vdev_tick_init(struct vdev_dev *dev)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = VDEV_EV_TICK};
    struct vdev_server *srv = dev->srv;

    srv->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (srv->tick_fd < 0)
        return -errno;
    if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, srv->tick_fd, &ev) < 0)
        return -errno;
    dev->loop_wake = tick_wake;
    tick_arm(dev);
    return 0;
}
