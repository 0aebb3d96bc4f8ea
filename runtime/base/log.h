/* Where a device's log messages go and how much of them: a sink the
 * device owns (vdev_set_log), the function that writes to it, and the one
 * line writer behind it and vdev_logf() (vdev_log.h). */
#ifndef VDEV_BASE_LOG_H
#define VDEV_BASE_LOG_H

#include <stdarg.h>

#include "vdev.h"

struct vdev_log_sink {
    vdev_log_fn *fn; /* NULL: stderr, as vdev_logf() writes */
    void *opaque;
    enum vdev_log_level max; /* messages above this are dropped */
};

/* Formats one message and hands it to the sink. Messages above s->max are
 * dropped. */
void vdev_log_vwrite(const struct vdev_log_sink *s, enum vdev_log_level level,
                     const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* "NAME[PID]: LEVEL: msg\n" on stderr in one write (with "<N>" first when
 * stderr is the journal), whatever the program's level. */
void vdev_log_line(enum vdev_log_level level, const char *msg);

#endif /* VDEV_BASE_LOG_H */
