/* The serving loop's adaptive polling policy (runtime/server/poll.c) on
 * simulated clients: times in, decisions out, no clock. */
#include <criterion/criterion.h>

#include "server/poll.h"

#define US 1000ull

/* One request-reply cycle: the client's request comes `gap` after our
 * replies (found probing if the probe was still open then), we serve it
 * in `serve`. Returns whether it was found probing. */
static bool
cycle(struct vdev_poll *p, uint64_t *now, uint64_t gap, uint64_t serve)
{
    bool probed = p->ns && gap < p->ns;

    *now += gap;
    vdev_poll_request(p, *now, probed);
    *now += serve;
    vdev_poll_idle(p, *now);
    return probed;
}

static struct vdev_poll
fresh(void)
{
    return (struct vdev_poll){.max_ns = VDEV_POLL_MAX_US_DEFAULT * US};
}

/* A quiet host: a sleeping server's wake-up costs 40 us; a probing one
 * sees the request at once. Probing wins and is used but for the
 * exploring request in VDEV_POLL_EXPLORE. */
Test(poll, probes_when_waking_costs_more)
{
    struct vdev_poll p = fresh();
    uint64_t now = 1000 * US;
    unsigned probed = 0;

    vdev_poll_idle(&p, now);
    for (unsigned i = 0; i < 64; i++)
        cycle(&p, &now, p.ns ? 20 * US : 60 * US, 2 * US);
    for (unsigned i = 0; i < 160; i++)
        probed += cycle(&p, &now, p.ns ? 20 * US : 60 * US, 2 * US);
    cr_assert_geq(probed, 160 - 160 / VDEV_POLL_EXPLORE - 1, "probed %u",
                  probed);
    cr_assert_lt(p.avg[1], p.avg[0]);
    /* the probe covers the sleeping cycle with a margin, no more */
    cr_assert_leq(p.ns, 2 * p.avg[0]);
    if (p.ns)
        cr_assert_gt(p.ns, 20 * US);
}

/* A busy host: probing slows the client (its turn-around grows, and we
 * are preempted while serving) more than our wake-up costs. Sleeping wins,
 * and probing is only tried now and then. */
Test(poll, sleeps_when_probing_costs_more)
{
    struct vdev_poll p = fresh();
    uint64_t now = 1000 * US;
    unsigned probed = 0;

    vdev_poll_idle(&p, now);
    for (unsigned i = 0; i < 64; i++)
        if (p.ns)
            cycle(&p, &now, 30 * US, 15 * US);
        else
            cycle(&p, &now, 25 * US, 2 * US);
    for (unsigned i = 0; i < 160; i++)
        probed += p.ns ? cycle(&p, &now, 30 * US, 15 * US)
                       : cycle(&p, &now, 25 * US, 2 * US);
    cr_assert_leq(probed, 160 / VDEV_POLL_EXPLORE + 1, "probed %u", probed);
    cr_assert_gt(probed, 0, "never explored");
    cr_assert_gt(p.avg[1], p.avg[0]);
}

/* A client that pauses longer than the longest probe: the pause is not
 * learnt as a cycle, and the wait after it sleeps at once. */
Test(poll, pauses_teach_nothing)
{
    struct vdev_poll p = fresh();
    uint64_t now = 1000 * US, avg0, avg1;

    vdev_poll_idle(&p, now);
    for (unsigned i = 0; i < 40; i++)
        cycle(&p, &now, p.ns ? 20 * US : 60 * US, 2 * US);
    avg0 = p.avg[0];
    avg1 = p.avg[1];
    /* the probe closes, the server sleeps, the request comes 5 ms later */
    now += 5000 * US;
    vdev_poll_request(&p, now, false);
    vdev_poll_idle(&p, now + 2 * US);
    cr_assert_eq(p.avg[0], avg0);
    cr_assert_eq(p.avg[1], avg1);
    cr_assert_eq(p.ns, 0, "a paused client is not probed for");
}

/* A probe never outlasts max_ns, and --poll-us=0 never probes. */
Test(poll, bounded_and_off)
{
    struct vdev_poll p = fresh();
    uint64_t now = 1000 * US;

    vdev_poll_idle(&p, now);
    for (unsigned i = 0; i < 64; i++) {
        cycle(&p, &now, p.ns ? 150 * US : 190 * US, 2 * US);
        cr_assert_leq(p.ns, p.max_ns);
    }
    p = (struct vdev_poll){0};
    vdev_poll_idle(&p, now);
    for (unsigned i = 0; i < 64; i++) {
        cycle(&p, &now, 10 * US, 2 * US);
        cr_assert_eq(p.ns, 0);
    }
}

/* A stall while probing (the CPU went elsewhere) counts against probing,
 * bounded so that one stall does not outweigh everything. */
Test(poll, stalls_count_against_probing)
{
    struct vdev_poll p = fresh();
    uint64_t now = 1000 * US;

    vdev_poll_idle(&p, now);
    for (unsigned i = 0; i < 40; i++)
        cycle(&p, &now, p.ns ? 20 * US : 60 * US, 2 * US);
    cr_assert_lt(p.avg[1], p.avg[0]);
    /* found probing, but 50 ms late */
    p.ns = p.max_ns;
    now += 50000 * US;
    vdev_poll_request(&p, now, true);
    vdev_poll_idle(&p, now + 2 * US);
    cr_assert_gt(p.avg[1], p.avg[0]);
    cr_assert_leq(p.avg[1], 10 * p.max_ns);
}
