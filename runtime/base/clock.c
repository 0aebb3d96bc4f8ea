/* Milliseconds on the monotonic clock, for deadlines (see clock.h). */
#include <time.h>

#include "base/clock.h"

int64_t
vdev_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
