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
 * slept, and our serving), averaged over an epoch of cycles spent in one
 * way of waiting. A way pays only once it is sustained (the host settles:
 * its CPUs stop idling, threads stay where they run), so an epoch starts
 * after a few cycles of settling, and the two ways are compared epoch
 * against epoch, never cycle against cycle. Probing is kept unless it is
 * clearly slower; the other way is measured again after a run of epochs
 * that doubles each time the choice is confirmed, and at once when the
 * chosen way's epoch comes out slower than the other's last one. A probe
 * lasts twice the sleeping cycle at most, and max_ns at most. A request
 * that found us asleep more than max_ns after our replies ends a pause of
 * the client, not a turn-around: it teaches nothing, and the next waits
 * sleep until a cycle shows the client is back in step. */
struct vdev_poll {
    uint64_t max_ns;       /* longest probe; 0: never probe */
    uint64_t ns;           /* the waits' probe; 0: sleep at once */
    uint64_t idle_at;      /* a sampled cycle's start; 0: none */
    bool probing;          /* the wait in progress began probing */
    bool found;            /* and found the request while it did */
    bool best;             /* the way chosen: probing */
    bool way;              /* the way being measured: best, or the other */
    uint8_t settle;        /* samples left before the epoch counts */
    uint8_t n;             /* samples in the epoch */
    uint64_t sum;          /* their cycles (ns) */
    uint64_t avg[2];       /* last epoch's mean cycle (ns) after sleeping
                            * [0], probing [1]; 0: untried */
    uint32_t stay;         /* epochs of best left before measuring again */
    uint32_t run;          /* epochs of best the last confirmation earned */
    uint32_t seq;          /* requests, for sampling */
    uint64_t hits, misses; /* requests found probing / after a sleep */
};

/* KVM's default halt_poll_ns. */
#define VDEV_POLL_MAX_US_DEFAULT 200u
#define VDEV_POLL_MAX_US_LIMIT 10000u
#define VDEV_POLL_SAMPLE 4u    /* requests a cycle is learnt from; power of 2 */
#define VDEV_POLL_SETTLE 2u    /* samples after a switch that do not count */
#define VDEV_POLL_EPOCH 8u     /* samples an epoch averages */
#define VDEV_POLL_STAY_MAX 32u /* epochs between measurements, at most */

/* Starts probing, for at most max_ns. */
void vdev_poll_init(struct vdev_poll *p, uint64_t max_ns);

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
