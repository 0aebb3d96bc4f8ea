/* The one monotonic clock of the runtime's deadlines (client replies,
 * server-to-client requests, hand-over, socket waits in fdio.h). */
#ifndef VDEV_BASE_CLOCK_H
#define VDEV_BASE_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t vdev_now_ms(void);

#endif /* VDEV_BASE_CLOCK_H */
