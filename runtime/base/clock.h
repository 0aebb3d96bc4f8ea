/* The one monotonic clock of the runtime's deadlines (client replies,
 * server-to-client requests, hand-over, socket waits in fdio.h). */
#ifndef VDEV_BASE_CLOCK_H
#define VDEV_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t vdev_now_ms(void);

/* Nanoseconds on CLOCK_MONOTONIC: the host side of device time and the
 * serving loop's probing (inline: the loop reads it per timed cycle). */
static inline uint64_t
vdev_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* VDEV_BASE_CLOCK_H */
