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
    struct vdev_poll p;

    fake_now = 1000 * US;
    clock_reads = 0;
    vdev_poll_init(&p, VDEV_POLL_MAX_US_DEFAULT * US);
    return p;
}

/* A host whose cycles depend on the way of waiting: `probing` and
 * `sleeping` give the client's gap after our replies. */
static unsigned
run(struct vdev_poll *p, unsigned n, uint64_t probing, uint64_t sleeping)
{
    unsigned probed = 0;

    for (unsigned i = 0; i < n; i++)
        probed += cycle(p, p->ns ? probing : sleeping, 2 * US);
    return probed;
}

/* The requests of one measurement of the other way: settling and an
 * epoch, and the settling back. */
#define MEASURE_REQS                                                           \
    ((2 * VDEV_POLL_SETTLE + VDEV_POLL_EPOCH + 1) * VDEV_POLL_SAMPLE)

/* A quiet host: a sleeping server's wake-up costs 40 us; a probing one
 * sees the request at once. Probing wins and is used; sleeping is
 * measured again after runs of epochs that double while it keeps losing,
 * so it costs less and less. */
Test(poll, probes_when_waking_costs_more)
{
    struct vdev_poll p = fresh();
    unsigned warm, probed, n = 4096;

    warm = run(&p, 2048, 20 * US, 60 * US);
    cr_assert_eq(p.run, VDEV_POLL_STAY_MAX, "confirmed %u times", p.run);
    probed = run(&p, n, 20 * US, 60 * US);
    /* at most one measurement of sleeping per run of epochs */
    cr_assert_geq(
        probed,
        n - (n / (VDEV_POLL_STAY_MAX * VDEV_POLL_EPOCH * VDEV_POLL_SAMPLE) +
             1) *
                MEASURE_REQS,
        "probed %u of %u", probed, n);
    cr_assert_lt(p.avg[1], p.avg[0]);
    cr_assert(p.best);
    /* the probe covers the sleeping cycle with a margin, no more */
    cr_assert_eq(p.ns, 2 * p.avg[0]);
    cr_assert_eq(p.hits, warm + probed);
    cr_assert_eq(p.hits + p.misses, 2048 + n);
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
 * and probing is only measured now and then. */
Test(poll, sleeps_when_probing_costs_more)
{
    struct vdev_poll p = fresh();
    unsigned probed, n = 4096;

    run(&p, 2048, 40 * US, 25 * US);
    probed = run(&p, n, 40 * US, 25 * US);
    cr_assert_leq(
        probed,
        (n / (VDEV_POLL_STAY_MAX * VDEV_POLL_EPOCH * VDEV_POLL_SAMPLE) + 1) *
            MEASURE_REQS,
        "probed %u of %u", probed, n);
    cr_assert_gt(probed, 0, "never measured probing again");
    cr_assert_gt(p.avg[1], p.avg[0]);
    cr_assert(!p.best);
}

/* Where the two ways are close, the doubt goes to probing: its gain on a
 * quiet host shows fully only once it is sustained. */
Test(poll, close_call_probes)
{
    struct vdev_poll p = fresh();
    unsigned probed, n = 2048;

    run(&p, 1024, 22 * US, 20 * US);
    probed = run(&p, n, 22 * US, 20 * US);
    cr_assert(p.best);
    cr_assert_geq(probed, n * 7 / 8, "probed %u of %u", probed, n);
}

/* What the old per-cycle comparison got wrong on a quiet host: the first
 * cycles after a switch to probing are as slow as sleeping ones (the host
 * has not settled), the rest are fast. Epochs that start after settling
 * see the gain, and probing is chosen. */
Test(poll, probes_though_first_cycles_are_slow)
{
    struct vdev_poll p = fresh();
    unsigned probed = 0, since = 0, n = 4096;

    for (unsigned i = 0; i < 2048 + n; i++) {
        bool pr;

        since = p.ns ? since + 1 : 0;
        pr = cycle(&p, !p.ns ? 80 * US : since < 6 ? 80 * US : 30 * US, 2 * US);
        if (i >= 2048)
            probed += pr;
    }
    cr_assert(p.best);
    cr_assert_geq(probed, n * 7 / 8, "probed %u of %u", probed, n);
}

/* The load changes: probing wins, then the host gets busy and probing
 * falls behind; sleeping is measured again and chosen within a run of
 * epochs; then the host quiets down and probing comes back. */
Test(poll, follows_a_change_of_load)
{
    struct vdev_poll p = fresh();
    unsigned reqs =
        (VDEV_POLL_STAY_MAX + 4) * VDEV_POLL_EPOCH * VDEV_POLL_SAMPLE;

    run(&p, 4096, 20 * US, 60 * US);
    cr_assert(p.best);
    run(&p, reqs, 90 * US, 30 * US);
    cr_assert(!p.best, "still probing on a busy host");
    cr_assert_leq(run(&p, 256, 90 * US, 30 * US), MEASURE_REQS);
    run(&p, reqs, 20 * US, 60 * US);
    cr_assert(p.best, "not probing again on a quiet host");
}

/* A client that pauses longer than the longest probe: the pause is not
 * learnt as a cycle, and the waits after it sleep at once until a cycle
 * shows the client back in step. */
Test(poll, pauses_teach_nothing)
{
    struct vdev_poll p = fresh();
    uint64_t sum, avg0, avg1;
    uint8_t n;

    run(&p, 1000, 20 * US, 60 * US);
    /* up to a timed cycle */
    while ((p.seq & (VDEV_POLL_SAMPLE - 1)) != VDEV_POLL_SAMPLE - 1)
        cycle(&p, p.ns ? 20 * US : 60 * US, 2 * US);
    sum = p.sum;
    n = p.n;
    avg0 = p.avg[0];
    avg1 = p.avg[1];
    /* the probe closes, the server sleeps, the request comes 5 ms later */
    cycle(&p, 5000 * US, 2 * US);
    cr_assert_eq(p.sum, sum);
    cr_assert_eq(p.n, n);
    cr_assert_eq(p.avg[0], avg0);
    cr_assert_eq(p.avg[1], avg1);
    cr_assert_eq(p.ns, 0, "a paused client is not probed for");
    /* a sporadic client keeps the server asleep */
    for (unsigned i = 0; i < 64; i++) {
        cycle(&p, 5000 * US, 2 * US);
        cr_assert_eq(p.ns, 0);
    }
    /* back in step: the sleeping cycle is not counted, probing resumes */
    run(&p, 2 * VDEV_POLL_SAMPLE, 20 * US, 60 * US);
    cr_assert_neq(p.ns, 0);
    cr_assert_eq(p.avg[0], avg0);
}

/* A probe never outlasts max_ns, and --poll-us=0 never probes. */
Test(poll, bounded_and_off)
{
    struct vdev_poll p = fresh();

    for (unsigned i = 0; i < 1024; i++) {
        cycle(&p, p.ns ? 150 * US : 190 * US, 2 * US);
        cr_assert_leq(p.ns, p.max_ns);
    }
    vdev_poll_init(&p, 0);
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
    uint64_t sum;

    run(&p, 1000, 20 * US, 60 * US);
    /* into a probing epoch, with room for one more sample */
    while (!p.way || p.settle || p.n + 1u >= VDEV_POLL_EPOCH)
        cycle(&p, p.ns ? 20 * US : 60 * US, 2 * US);
    sum = p.sum;
    /* a timed cycle after a probe, found probing but 50 ms late */
    p.idle_at = fake_now;
    fake_now += 50000 * US;
    vdev_poll_learn(&p, fake_now, true, true);
    cr_assert_eq(p.sum - sum, 10 * p.max_ns);
}
