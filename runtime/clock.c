/* Deadlines for the blocking waits of the client side, server-to-client
 * requests and hand-over (see clock.h). */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "clock.h"

int64_t
vdev_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
vdev_poll_until(int fd, short events, int64_t deadline, short *revents)
{
    struct pollfd p = {.fd = fd, .events = events};

    for (;;) {
        int64_t left = deadline - vdev_now_ms();
        int n;

        if (left <= 0)
            return -ETIMEDOUT;
        n = poll(&p, 1, left > 1000000000 ? 1000000000 : (int)left);
        if (n > 0) {
            if (revents)
                *revents = p.revents;
            return 0;
        }
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}
