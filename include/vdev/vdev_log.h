/* Log lines of every vdev program in one format on stderr,
 *     NAME[PID]: LEVEL: message
 * with a syslog priority prefix ("<3>" for errors, ...) when stderr is the
 * systemd journal (JOURNAL_STREAM names it). In libvdev and libvdev-client. */
#ifndef VDEV_LOG_H
#define VDEV_LOG_H

#include <stdarg.h>

#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

enum vdev_log_level {
    VDEV_LOG_ERROR = 0,
    VDEV_LOG_WARN = 1,
    VDEV_LOG_INFO = 2,
    VDEV_LOG_DEBUG = 3,
};

/* The program name lines carry (NULL: the executable's name) and the most
 * verbose level vdev_logf() writes (default VDEV_LOG_WARN). A device's own
 * messages follow its vdev_set_log() level. */
void vdev_log_init(const char *name, enum vdev_log_level max_level);
enum vdev_log_level vdev_log_level(void);

/* "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int vdev_log_level_parse(const char *s, enum vdev_log_level *out);
const char *vdev_log_level_name(enum vdev_log_level level);

/* One line on stderr (a single write), when level is within the
 * program's level. */
void vdev_logf(enum vdev_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vdev_vlogf(enum vdev_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif /* VDEV_LOG_H */
