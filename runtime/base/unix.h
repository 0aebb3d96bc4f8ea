/* UNIX socket paths: connecting to one, and listening on one (mode 0600,
 * replacing a stale socket file), for the vfio-user and management sockets
 * and their clients. */
#ifndef VDEV_BASE_UNIX_H
#define VDEV_BASE_UNIX_H

#include <sys/stat.h>

/* A connected stream socket (close-on-exec) or -errno (-EINVAL: no path,
 * -ENAMETOOLONG). */
int vdev_unix_connect(const char *path);

/* A listening, non-blocking, close-on-exec stream socket bound to path,
 * created with mode 0600. A socket file nobody listens on is replaced; a
 * live one is refused with -EADDRINUSE and anything else at path with
 * -EEXIST (never deleted). *st (if not NULL) gets the socket file's stat,
 * so the owner can tell later whether the file is still its own. Returns
 * the fd or -errno. */
int vdev_unix_listen(const char *path, int backlog, struct stat *st);

/* Checks that an inherited fd is a listening UNIX stream socket (what
 * socket activation and --fd hand us) and makes it non-blocking and
 * close-on-exec. Returns 0 or -errno (-EINVAL: another kind of fd). */
int vdev_unix_adopt_listener(int fd);

#endif /* VDEV_BASE_UNIX_H */
