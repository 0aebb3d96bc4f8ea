/* The adaptive polling policy (server/poll.h): arithmetic on the times the
 * loop reports, so it is tested without a clock. */
#include "server/poll.h"

#define MIN_PROBE_NS 5000u

void
vdev_poll_learn(struct vdev_poll *p, uint64_t now, bool probed, bool found)
{
    uint64_t cycle = now - p->idle_at, *avg = &p->avg[probed], probe;
    bool want;

    p->idle_at = 0;
    if (!p->max_ns) {
        p->ns = 0;
        return;
    }
    if (!found && cycle > p->max_ns) {
        /* Asleep (at once, or after a probe in vain) that long: the
         * client paused; that teaches nothing. */
        p->ns = 0;
        return;
    }
    /* Found probing but late: the probe was not running all along (the
     * CPU went to others), the cost of probing on a busy host; learnt up
     * to a bound so one long stall is not all. */
    if (cycle > 10 * p->max_ns)
        cycle = 10 * p->max_ns;
    /* A moving average over about the last 8 cycles. */
    *avg = *avg ? *avg - *avg / 8 + cycle / 8 : cycle;
    /* Untried ways first (0 < anything), then probing only where it is
     * clearly faster, by a quarter: the sleeping average moves with every
     * hiccup of the host and the probing one only while probing, and
     * where the two are close probing's CPU time is better left to the
     * client. One cycle in VDEV_POLL_EXPLORE goes the other way. */
    want = p->avg[1] < p->avg[0] - p->avg[0] / 4;
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
