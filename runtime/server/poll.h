/* Adaptive polling of the serving loop: whether, and how long, to keep
 * probing the epoll set after our replies before sleeping in epoll_wait,
 * learnt from how soon the client's next request follows them. */
#ifndef VDEV_SERVER_POLL_H
#define VDEV_SERVER_POLL_H

#include <stdbool.h>
#include <stdint.h>

/* A guest driving the device from a loop sends its next request some tens
 * of microseconds after our reply reaches QEMU. Sleeping in between puts
 * our wake-up (an IPI, a host CPU coming out of idle) on the guest's
 * critical path; probing instead takes it off, but on a busy host a
 * probing server takes CPU time from QEMU's own threads (and, its CPU
 * share spent, is preempted while it serves), and the guest gets slower.
 * Neither is right everywhere, so the loop measures both: the cycle from
 * one reply out to the next (the client's turn-around, our wake-up if we
 * slept, and our serving) is kept as a moving average per way of
 * waiting; the faster way is used, and one request in VDEV_POLL_EXPLORE
 * tries the other so a change of load is noticed. A probe lasts twice
 * the sleeping cycle at most, and max_ns at most. A request that found us
 * asleep more than max_ns after our replies ends a pause of the client,
 * not a turn-around: it teaches nothing, and the next wait sleeps. */
struct vdev_poll {
    uint64_t max_ns;       /* longest probe; 0: never probe */
    uint64_t ns;           /* the waits' probe; 0: sleep at once */
    uint64_t idle_at;      /* a sampled cycle's start; 0: none */
    bool probing;          /* the wait in progress began probing */
    bool found;            /* and found the request while it did */
    uint64_t avg[2];       /* cycle (ns) after sleeping [0], probing [1]; 0:
                            * untried */
    uint32_t seq;          /* requests, for sampling */
    uint32_t cycles;       /* learnt cycles, for exploring */
    uint64_t hits, misses; /* requests found probing / after a sleep */
};

/* KVM's default halt_poll_ns. */
#define VDEV_POLL_MAX_US_DEFAULT 200u
#define VDEV_POLL_MAX_US_LIMIT 10000u
#define VDEV_POLL_EXPLORE 32u /* learnt cycles; a power of 2 */
#define VDEV_POLL_SAMPLE 4u   /* requests a cycle is learnt from; power of 2 */

/* Learns from a cycle that ended at `now` (replies out) after a wait that
 * began probing or not, and whose probe found the request or not; sets
 * the probe of the waits to come. */
void vdev_poll_learn(struct vdev_poll *p, uint64_t now, bool probed,
                     bool found);

/* A request woke the loop and its replies are out. `probed`: the wait
 * began probing (the way learnt about, whether the probe found the
 * request or ran out and slept: a probe in vain is part of its cost);
 * `found`: the probe found it. One cycle in VDEV_POLL_SAMPLE is timed
 * (two clock reads), so the other requests pay a counter and a branch. */
static inline void
vdev_poll_replied(struct vdev_poll *p, bool probed, bool found,
                  uint64_t (*clock)(void))
{
    uint32_t k = ++p->seq & (VDEV_POLL_SAMPLE - 1);

    p->hits += found;
    p->misses += !found;
    if (k == VDEV_POLL_SAMPLE - 1)
        p->idle_at = clock(); /* the next cycle is timed */
    else if (k == 0 && p->idle_at)
        vdev_poll_learn(p, clock(), probed, found);
}

#endif /* VDEV_SERVER_POLL_H */
