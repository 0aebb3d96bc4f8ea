/* The adaptive polling policy (server/poll.h): arithmetic on the times the
 * loop reports, so it is tested without a clock. */
#include "server/poll.h"

#define MIN_PROBE_NS 5000u

/* A probe covers the sleeping cycle twice over, within [5 us, max_ns]. */
static uint64_t
probe_ns(const struct vdev_poll *p)
{
    uint64_t probe = p->avg[0] ? 2 * p->avg[0] : p->max_ns;

    if (probe < MIN_PROBE_NS)
        probe = MIN_PROBE_NS;
    return probe < p->max_ns ? probe : p->max_ns;
}

/* Epochs end with n and sum zeroed (vdev_poll_learn), so a switch only
 * names the way and starts settling. */
static void
measure(struct vdev_poll *p, bool way)
{
    p->way = way;
    p->settle = VDEV_POLL_SETTLE;
}

/* An epoch of p->way ended with this mean cycle. */
static void
decide(struct vdev_poll *p, uint64_t mean)
{
    bool probe;

    p->avg[p->way] = mean;
    if (!p->avg[!p->way]) {
        measure(p, !p->way);
        return;
    }
    /* Probing unless it is clearly slower, by an eighth: the two are
     * compared over epochs a few milliseconds apart, and on a quiet host
     * the gain of probing shows fully only once it is sustained, so the
     * doubt goes to probing (as KVM's halt polling does); a host too busy
     * for it shows as probing epochs well behind. */
    probe = p->avg[1] <= p->avg[0] + p->avg[0] / 8;
    if (p->way != p->best || !p->run) {
        /* The other way measured: confirm the choice or change it. */
        if (probe == p->best && p->run)
            p->run = p->run < VDEV_POLL_STAY_MAX / 2 ? 2 * p->run
                                                     : VDEV_POLL_STAY_MAX;
        else
            p->run = 1;
        p->best = probe;
        p->stay = p->run;
        measure(p, p->best);
        return;
    }
    /* An epoch of the chosen way: measure the other again when its turn
     * comes, or now if the chosen way has fallen behind it. */
    if (probe != p->best || !--p->stay)
        measure(p, !p->best);
}

void
vdev_poll_init(struct vdev_poll *p, uint64_t max_ns)
{
    *p = (struct vdev_poll){.max_ns = max_ns, .best = true, .way = true};
}

void
vdev_poll_learn(struct vdev_poll *p, uint64_t now, bool probed, bool found)
{
    uint64_t cycle = now - p->idle_at;

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
    /* A cycle of the other way (the waits after a pause slept) is not
     * counted; the way is simply taken up again. */
    if (probed == p->way) {
        /* Found probing but late: the probe was not running all along
         * (the CPU went to others), the cost of probing on a busy host;
         * counted up to a bound so one long stall is not all. */
        if (cycle > 10 * p->max_ns)
            cycle = 10 * p->max_ns;
        if (p->settle)
            p->settle--;
        else {
            p->sum += cycle;
            if (++p->n == VDEV_POLL_EPOCH) {
                uint64_t mean = p->sum / VDEV_POLL_EPOCH;

                p->n = 0;
                p->sum = 0;
                decide(p, mean);
            }
        }
    }
    p->ns = p->way ? probe_ns(p) : 0;
}
