/* Optional confinement of the standalone server (server_main.c) once its
 * sockets exist: a privilege drop and a seccomp allow-list. Not installed. */
#ifndef VDEV_SANDBOX_H
#define VDEV_SANDBOX_H

/* Switches to user NAME (its uid, gid and supplementary groups) for good.
 * Returns 0 or -errno (-ENOENT: no such user, -EPERM: not allowed). */
int vdev_sandbox_user(const char *name);

/* Installs the seccomp filter: the syscalls the serving loop, its
 * handlers, the management channel and a clean exit need; anything else
 * kills the process. Irreversible; inherited by any child. Returns 0 or
 * -errno. */
int vdev_sandbox_seccomp(void);

#endif /* VDEV_SANDBOX_H */
