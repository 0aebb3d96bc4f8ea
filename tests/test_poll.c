/* The serving loop's adaptive polling policy (runtime/server/poll.c) on
 * simulated clients: times in, decisions out, a fake clock. */
#include <criterion/criterion.h>

#include "server/poll.h"

#define US 1000ull

static uint64_t fake_now;
static unsigned clock_reads;

static uint64_t
fake_clock(void)
{
    clock_reads++;
    return fake_now;
}

/* One request-reply cycle: the client's request comes `gap` after our
 * replies (found probing if the probe was still open then), we serve it
 * in `serve`. Returns whether it was found probing. */
static bool
cycle(struct vdev_poll *p, uint64_t gap, uint64_t serve)
{
    bool probed = p->ns && gap < p->ns;

    fake_now += gap + serve;
    vdev_poll_replied(p, p->ns != 0, probed, fake_clock);
    return probed;
}

static struct vdev_poll
fresh(void)
{
    fake_now = 1000 * US;
    clock_reads = 0;
    return (struct vdev_poll){.max_ns = VDEV_POLL_MAX_US_DEFAULT * US};
}

/* A quiet host: a sleeping server's wake-up costs 40 us; a probing one
 * sees the request at once. Probing wins and is used but while exploring
 * (one learnt cycle in VDEV_POLL_EXPLORE decides the next few waits). */
Test(poll, probes_when_waking_costs_more)
{
    struct vdev_poll p = fresh();
    unsigned probed = 0, n = 640;

    for (unsigned i = 0; i < 64; i++)
        cycle(&p, p.ns ? 20 * US : 60 * US, 2 * US);
    for (unsigned i = 0; i < n; i++)
        probed += cycle(&p, p.ns ? 20 * US : 60 * US, 2 * US);
    cr_assert_geq(probed, n - n / VDEV_POLL_EXPLORE - VDEV_POLL_SAMPLE,
                  "probed %u of %u", probed, n);
    cr_assert_lt(p.avg[1], p.avg[0]);
    /* the probe covers the sleeping cycle with a margin, no more */
    cr_assert_leq(p.ns, 2 * p.avg[0]);
    if (p.ns)
        cr_assert_gt(p.ns, 20 * US);
    cr_assert_geq(p.hits, probed);
    cr_assert_eq(p.hits + p.misses, 64 + n);
}

/* Two clock reads per sampled cycle, none for the other requests. */
Test(poll, clock_read_once_in_two_requests)
{
    struct vdev_poll p = fresh();

    for (unsigned i = 0; i < 400; i++)
        cycle(&p, 20 * US, 2 * US);
    cr_assert_eq(clock_reads, 400 / VDEV_POLL_SAMPLE * 2, "%u reads",
                 clock_reads);
}

/* A busy host: probing slows the client (its turn-around grows, and we
 * are preempted while serving) more than our wake-up costs. Sleeping wins,
 * and probing is only tried now and then. */
Test(poll, sleeps_when_probing_costs_more)
{
    struct vdev_poll p = fresh();
    unsigned probed = 0, n = 640;

    for (unsigned i = 0; i < 64; i++)
        if (p.ns)
            cycle(&p, 30 * US, 15 * US);
        else
            cycle(&p, 25 * US, 2 * US);
    for (unsigned i = 0; i < n; i++)
        probed +=
            p.ns ? cycle(&p, 30 * US, 15 * US) : cycle(&p, 25 * US, 2 * US);
    cr_assert_leq(probed, n / VDEV_POLL_EXPLORE + VDEV_POLL_SAMPLE,
                  "probed %u of %u", probed, n);
    cr_assert_gt(probed, 0, "never explored");
    cr_assert_gt(p.avg[1], p.avg[0]);
}

/* A client that pauses longer than the longest probe: the pause is not
 * learnt as a cycle, and the waits after it sleep at once. */
Test(poll, pauses_teach_nothing)
{
    struct vdev_poll p = fresh();
    uint64_t avg0, avg1;

    for (unsigned i = 0; i < 40; i++)
        cycle(&p, p.ns ? 20 * US : 60 * US, 2 * US);
    /* up to a timed cycle */
    while ((p.seq & (VDEV_POLL_SAMPLE - 1)) != VDEV_POLL_SAMPLE - 1)
        cycle(&p, p.ns ? 20 * US : 60 * US, 2 * US);
    avg0 = p.avg[0];
    avg1 = p.avg[1];
    /* the probe closes, the server sleeps, the request comes 5 ms later */
    cycle(&p, 5000 * US, 2 * US);
    cr_assert_eq(p.avg[0], avg0);
    cr_assert_eq(p.avg[1], avg1);
    cr_assert_eq(p.ns, 0, "a paused client is not probed for");
}

/* A probe never outlasts max_ns, and --poll-us=0 never probes. */
Test(poll, bounded_and_off)
{
    struct vdev_poll p = fresh();

    for (unsigned i = 0; i < 256; i++) {
        cycle(&p, p.ns ? 150 * US : 190 * US, 2 * US);
        cr_assert_leq(p.ns, p.max_ns);
    }
    p = (struct vdev_poll){0};
    for (unsigned i = 0; i < 64; i++) {
        cycle(&p, 10 * US, 2 * US);
        cr_assert_eq(p.ns, 0);
    }
}

/* A stall while probing (the CPU went elsewhere) counts against probing,
 * bounded so that one stall does not outweigh everything. */
Test(poll, stalls_count_against_probing)
{
    struct vdev_poll p = fresh();

    for (unsigned i = 0; i < 40; i++)
        cycle(&p, p.ns ? 20 * US : 60 * US, 2 * US);
    cr_assert_lt(p.avg[1], p.avg[0]);
    /* a timed cycle after a probe, found probing but 50 ms late */
    p.idle_at = fake_now;
    fake_now += 50000 * US;
    vdev_poll_learn(&p, fake_now, true, true);
    cr_assert_gt(p.avg[1], p.avg[0]);
    cr_assert_leq(p.avg[1], 10 * p.max_ns);
}
