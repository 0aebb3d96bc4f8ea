/* Log messages: formatted once, then to the device's callback or stderr
 * (see log.h). */
#include <stdio.h>

#include "base/log.h"

void
vdev_log_vwrite(const struct vdev_log_sink *s, const char *name,
                enum vdev_log_level level, const char *fmt, va_list ap)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char msg[512];

    if (level > s->max)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (s->fn)
        s->fn(s->opaque, level, msg);
    else
        fprintf(stderr, "vdev %s: %s: %s\n", name,
                (unsigned)level < 4 ? names[level] : "?", msg);
}
