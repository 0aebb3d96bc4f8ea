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
    uint64_t ns;           /* the next wait's probe; 0: sleep at once */
    uint64_t idle_at;      /* when the last replies went out; 0: unknown */
    bool probing;          /* the wait in progress probes */
    int8_t way;            /* how the request being served was waited for:
                            * 0 slept, 1 probed, -1 a pause (not learnt) */
    uint64_t avg[2];       /* cycle (ns) after sleeping [0], probing [1] */
    uint32_t requests;     /* learnt cycles, for exploring */
    uint64_t hits, misses; /* requests found probing / after a sleep */
};

/* KVM's default halt_poll_ns. */
#define VDEV_POLL_MAX_US_DEFAULT 200u
#define VDEV_POLL_MAX_US_LIMIT 10000u
#define VDEV_POLL_EXPLORE 16u

/* The client's next request arrived at `now`, found while probing or
 * not. */
void vdev_poll_request(struct vdev_poll *p, uint64_t now, bool probed);

/* The replies to it are out at `now`: learns from the cycle and sets the
 * next wait's probe. */
void vdev_poll_idle(struct vdev_poll *p, uint64_t now);

/* True while the probe opened at idle_at is open at `now`. */
static inline bool
vdev_poll_open(const struct vdev_poll *p, uint64_t now)
{
    return p->ns && p->idle_at && now - p->idle_at < p->ns;
}

#endif /* VDEV_SERVER_POLL_H */
