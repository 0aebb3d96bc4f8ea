/* Where a device's log messages go and how much of them: a sink the
 * device owns (vdev_set_log) and the one function that writes to it. */
#ifndef VDEV_BASE_LOG_H
#define VDEV_BASE_LOG_H

#include <stdarg.h>

#include "vdev.h"

struct vdev_log_sink {
    vdev_log_fn *fn; /* NULL: stderr */
    void *opaque;
    enum vdev_log_level max; /* messages above this are dropped */
};

/* Formats one message and hands it to the sink (name prefixes the stderr
 * line). Messages above s->max are dropped. */
void vdev_log_vwrite(const struct vdev_log_sink *s, const char *name,
                     enum vdev_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif /* VDEV_BASE_LOG_H */
