/* Deadlines for the blocking waits of the client side, server-to-client
 * requests and hand-over: one monotonic clock and one bounded poll. */
#ifndef VDEV_CLOCK_H
#define VDEV_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t vdev_now_ms(void);
/* Waits until fd is ready for events or the deadline (vdev_now_ms() time)
 * passes. Returns 0 with *revents set (when non-NULL), -ETIMEDOUT, or
 * -errno; EINTR restarts the wait. */
int vdev_poll_until(int fd, short events, int64_t deadline, short *revents);

#endif /* VDEV_CLOCK_H */
