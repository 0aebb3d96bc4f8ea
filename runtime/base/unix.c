/* UNIX socket paths (see unix.h): connect, and listen with the stale-file
 * rule both the vfio-user and the management socket follow. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/unix.h"

static int
path_addr(const char *path, struct sockaddr_un *sa)
{
    size_t len;

    if (!path || !*path)
        return -EINVAL;
    len = strlen(path);
    if (len >= sizeof(sa->sun_path))
        return -ENAMETOOLONG;
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, len + 1);
    return 0;
}

int
vdev_unix_connect(const char *path)
{
    struct sockaddr_un sa;
    int fd, rc;

    if ((rc = path_addr(path, &sa)) < 0)
        return rc;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* path is taken (EADDRINUSE at bind): replace the file only if it is a
 * socket nobody listens on (connect is refused); never delete anything
 * else. */
static int
remove_stale(const char *path, const struct sockaddr_un *sa)
{
    struct stat st;
    int probe, rc;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return -errno;
    rc = connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? errno
                                                                      : 0;
    close(probe);
    if (rc != ECONNREFUSED)
        return rc == 0 || rc == EAGAIN ? -EADDRINUSE : -rc;
    return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int
vdev_unix_listen(const char *path, int backlog, struct stat *st)
{
    struct sockaddr_un sa;
    int fd, rc;

    if ((rc = path_addr(path, &sa)) < 0)
        return rc;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* Linux creates the socket file with the socket inode's mode, so the
     * file is never visible with looser permissions; chmod below covers
     * other kernels. */
    if (fchmod(fd, 0600) < 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno != EADDRINUSE)
            goto fail;
        if ((rc = remove_stale(path, &sa)) < 0) {
            close(fd);
            return rc;
        }
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            goto fail;
    }
    if (chmod(path, 0600) < 0 || listen(fd, backlog) < 0 ||
        (st && stat(path, st) < 0)) {
        rc = -errno;
        unlink(path);
        close(fd);
        return rc;
    }
    return fd;
fail:
    rc = -errno;
    close(fd);
    return rc;
}

static int
sockopt_int(int fd, int opt, int *val)
{
    socklen_t len = sizeof(*val);

    return getsockopt(fd, SOL_SOCKET, opt, val, &len) < 0 ? -errno : 0;
}

int
vdev_unix_adopt_listener(int fd)
{
    int on = 0, type = 0, domain = 0, fl, rc;

    if (fd < 0)
        return -EBADF;
    if ((rc = sockopt_int(fd, SO_ACCEPTCONN, &on)) < 0 ||
        (rc = sockopt_int(fd, SO_TYPE, &type)) < 0 ||
        (rc = sockopt_int(fd, SO_DOMAIN, &domain)) < 0)
        return rc;
    if (!on || type != SOCK_STREAM || domain != AF_UNIX)
        return -EINVAL;
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}
