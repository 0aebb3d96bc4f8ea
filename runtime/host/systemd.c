/* Socket activation and readiness notification for the server program:
 * systemd's environment protocols (sd_listen_fds(3), sd_notify(3)) are a
 * few lines each, so no libsystemd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "host/systemd.h"

#define SD_LISTEN_FDS_START 3
#define MAX_PASSED 2 /* the vfio-user socket and the management socket */

static long
env_number(const char *name)
{
    const char *s = getenv(name);
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    return errno || *end || v < 0 ? -1 : v;
}

/* The i-th name of LISTEN_FDNAMES ("a:b"), or "" */
static void
fd_name(const char *names, unsigned i, char *out, size_t cap)
{
    const char *p = names ? names : "";
    size_t n;

    for (; i > 0 && p; i--)
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    n = p ? strcspn(p, ":") : 0;
    snprintf(out, cap, "%.*s", (int)n, p ? p : "");
}

static void
close_passed(long n)
{
    for (long i = 0; i < n; i++)
        close(SD_LISTEN_FDS_START + (int)i);
}

int
vdev_sd_listen_fds(struct vdev_activation *act, char *why, size_t cap)
{
    long pid = env_number("LISTEN_PID"), n = env_number("LISTEN_FDS");
    const char *names = getenv("LISTEN_FDNAMES");
    char name[2][64];

    act->vfio_fd = act->mgmt_fd = -1;
    if (pid != (long)getpid() || n < 0) {
        /* Not for us (or not at all); the variables stay as they are. */
        return 0;
    }
    for (long i = 0; i < n && i < MAX_PASSED; i++)
        fd_name(names, (unsigned)i, name[i], sizeof(name[i]));
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (n == 0)
        return 0;
    if (n > MAX_PASSED) {
        snprintf(why, cap,
                 "socket activation passed %ld sockets; expected the "
                 "vfio-user one and at most one named \"mgmt\"",
                 n);
        close_passed(n);
        return -EINVAL;
    }
    /* Either order: a service manager orders sockets of several units as
     * it likes, their names say which is which. */
    for (long i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + (int)i;
        int *slot = strcmp(name[i], "mgmt") ? &act->vfio_fd : &act->mgmt_fd;

        if (*slot >= 0) {
            snprintf(why, cap,
                     "socket activation passed two %s sockets (name the "
                     "management one \"mgmt\": FileDescriptorName=mgmt)",
                     slot == &act->mgmt_fd ? "\"mgmt\"" : "vfio-user");
            close_passed(n);
            act->vfio_fd = act->mgmt_fd = -1;
            return -EINVAL;
        }
        *slot = fd;
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    if (act->vfio_fd < 0) {
        snprintf(why, cap,
                 "socket activation passed only a \"mgmt\" socket, no "
                 "vfio-user one");
        close_passed(n);
        act->mgmt_fd = -1;
        return -EINVAL;
    }
    return 1;
}

int
vdev_sd_notify_open(void)
{
    const char *e = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len;
    socklen_t salen;
    int fd;

    if (!e || !*e)
        return -1;
    len = strlen(e);
    if ((e[0] != '/' && e[0] != '@') || len >= sizeof(sa.sun_path))
        return -EINVAL;
    memcpy(sa.sun_path, e, len);
    if (e[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace: no NUL at the end */
    salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                        (e[0] == '/' ? 1 : 0));
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
        int rc = -errno;

        close(fd);
        return rc;
    }
    return fd;
}

int
vdev_sd_notify(int fd, const char *state)
{
    size_t len = strlen(state);
    ssize_t n;

    if (fd < 0)
        return 0;
    do
        n = send(fd, state, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EMSGSIZE;
}
