/* The adaptive polling policy (server/poll.h): arithmetic on the times the
 * loop reports, so it is tested without a clock. */
#include "server/poll.h"

#define MIN_PROBE_NS 5000u

/* A moving average over about the last 8 cycles. */
static void
learn(uint64_t *avg, uint64_t cycle)
{
    if (!*avg)
        *avg = cycle;
    else
        *avg = *avg - *avg / 8 + cycle / 8;
}

void
vdev_poll_request(struct vdev_poll *p, uint64_t now, bool probed)
{
    if (!p->idle_at || now < p->idle_at) {
        p->way = -1;
        return;
    }
    if (probed)
        p->hits++;
    else
        p->misses++;
    p->way = probed;
    if (!probed && now - p->idle_at > p->max_ns)
        p->way = -1;
}

/* Untried ways first, then the faster one, now and then the other. */
static bool
want_probe(struct vdev_poll *p)
{
    bool want;

    if (!p->avg[0])
        want = false;
    else if (!p->avg[1])
        want = true;
    else
        want = p->avg[1] < p->avg[0];
    if (++p->requests % VDEV_POLL_EXPLORE == 0)
        want = !want;
    return want;
}

void
vdev_poll_idle(struct vdev_poll *p, uint64_t now)
{
    uint64_t cycle, probe;
    int way = p->way;

    p->way = -1;
    if (!p->max_ns || way < 0 || !p->idle_at || now < p->idle_at) {
        p->ns = 0;
        p->idle_at = now;
        return;
    }
    /* A probing cycle may hold a stall (the CPU went to others while we
     * probed): that is the cost of probing on a busy host, and is
     * learnt, up to a bound so one long stall is not all. */
    cycle = now - p->idle_at;
    if (cycle > 10 * p->max_ns)
        cycle = 10 * p->max_ns;
    learn(&p->avg[way], cycle);
    p->idle_at = now;
    if (!want_probe(p)) {
        p->ns = 0;
        return;
    }
    probe = p->avg[0] ? 2 * p->avg[0] : p->max_ns;
    if (probe < MIN_PROBE_NS)
        probe = MIN_PROBE_NS;
    p->ns = probe < p->max_ns ? probe : p->max_ns;
}
