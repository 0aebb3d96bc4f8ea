/* Log lines: one format for every vdev program (see vdev_log.h), the
 * process-wide name and level, and a device's messages to its callback or
 * to the same lines (see log.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static struct {
    char name[64]; /* "" until vdev_log_init: the executable's name */
    enum vdev_log_level max;
    int journal; /* -1: not looked at yet; 0/1 */
} logcfg = {.max = VDEV_LOG_WARN, .journal = -1};

void
vdev_log_init(const char *name, enum vdev_log_level max_level)
{
    snprintf(logcfg.name, sizeof(logcfg.name), "%s", name ? name : "");
    logcfg.max = max_level;
}

enum vdev_log_level
vdev_log_level(void)
{
    return logcfg.max;
}

int
vdev_log_level_parse(const char *s, enum vdev_log_level *out)
{
    for (unsigned i = 0; s && i < 4; i++) {
        if (!strcmp(s, level_names[i])) {
            *out = (enum vdev_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *
vdev_log_level_name(enum vdev_log_level level)
{
    return (unsigned)level < 4 ? level_names[level] : "?";
}

/* systemd sets JOURNAL_STREAM=DEV:INO when it connects stderr to the
 * journal; it stays set for children whose stderr went elsewhere, hence
 * the comparison with stderr itself. */
static int
stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    int n = 0;

    if (!e || sscanf(e, "%llu:%llu%n", &dev, &ino, &n) != 2 || e[n])
        return 0;
    if (fstat(STDERR_FILENO, &st) < 0)
        return 0;
    return (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

void
vdev_log_line(enum vdev_log_level level, const char *msg)
{
    /* syslog priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
    static const char prio[] = {'3', '4', '6', '7'};
    char line[768], pfx[4] = "";
    int n;

    if (logcfg.journal < 0)
        logcfg.journal = stderr_is_journal();
    if (logcfg.journal)
        snprintf(pfx, sizeof(pfx), "<%c>", prio[level & 3]);
    n = snprintf(line, sizeof(line), "%s%s[%d]: %s: %s\n", pfx,
                 logcfg.name[0] ? logcfg.name : program_invocation_short_name,
                 (int)getpid(), vdev_log_level_name(level), msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line)) { /* cut, but still one line */
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    /* One write per line: lines of several processes never interleave. */
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}

void
vdev_vlogf(enum vdev_log_level level, const char *fmt, va_list ap)
{
    char msg[512];

    if (level > logcfg.max)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    vdev_log_line(level, msg);
}

void
vdev_logf(enum vdev_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdev_vlogf(level, fmt, ap);
    va_end(ap);
}

void
vdev_log_vwrite(const struct vdev_log_sink *s, enum vdev_log_level level,
                const char *fmt, va_list ap)
{
    char msg[512];

    if (level > s->max)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (s->fn)
        s->fn(s->opaque, level, msg);
    else
        vdev_log_line(level, msg);
}
