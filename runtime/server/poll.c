/* The adaptive polling policy (server/poll.h): arithmetic on the times the
 * loop reports, so it is tested without a clock. */
#include "server/poll.h"

#define MIN_PROBE_NS 5000u

void
vdev_poll_learn(struct vdev_poll *p, uint64_t now, bool probed)
{
    uint64_t cycle = now - p->idle_at, *avg = &p->avg[probed], probe;
    bool want;

    p->idle_at = 0;
    if (!p->max_ns) {
        p->ns = 0;
        return;
    }
    if (probed) {
        /* A probing cycle may hold a stall (the CPU went to others while
         * we probed): the cost of probing on a busy host, learnt up to a
         * bound so one long stall is not all. */
        if (cycle > 10 * p->max_ns)
            cycle = 10 * p->max_ns;
    } else if (cycle > p->max_ns) {
        /* Asleep that long: the client paused; that teaches nothing. */
        p->ns = 0;
        return;
    }
    /* A moving average over about the last 8 cycles. */
    *avg = *avg ? *avg - *avg / 8 + cycle / 8 : cycle;
    /* Untried ways first (0 < anything), then the faster one, and one
     * cycle in VDEV_POLL_EXPLORE the other. */
    want = p->avg[1] < p->avg[0];
    if ((++p->cycles & (VDEV_POLL_EXPLORE - 1)) == 0)
        want = !want;
    if (!want) {
        p->ns = 0;
        return;
    }
    probe = 2 * p->avg[0];
    if (probe < MIN_PROBE_NS)
        probe = MIN_PROBE_NS;
    p->ns = probe < p->max_ns ? probe : p->max_ns;
}
