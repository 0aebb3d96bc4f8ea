/* The service manager's side of a server program (host/systemd.c):
 * sockets passed by socket activation and readiness notification, after
 * systemd's sd_listen_fds(3) and sd_notify(3) protocols, without
 * libsystemd. Private to host/. */
#ifndef VDEV_HOST_SYSTEMD_H
#define VDEV_HOST_SYSTEMD_H

#include <stddef.h>

/* The sockets a service manager passed (LISTEN_PID is ours): the
 * vfio-user one, and the one named "mgmt" if any. */
struct vdev_activation {
    int vfio_fd; /* -1: none passed */
    int mgmt_fd; /* -1: none */
};

/* Reads LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES and unsets them (a
 * successor or child must not take them for its own). Returns 1 with the
 * fds in *act, 0 when nothing was passed to this process, or -EINVAL with
 * a reason in why (the passed fds are closed then). */
int vdev_sd_listen_fds(struct vdev_activation *act, char *why, size_t cap);

/* A socket connected to NOTIFY_SOCKET ("/path" or "@abstract"), opened
 * early so that notifying later needs only send(2) (allowed under
 * --seccomp). Returns the fd, -1 when NOTIFY_SOCKET is unset, or -errno. */
int vdev_sd_notify_open(void);
/* Sends one notification ("READY=1", "STOPPING=1", "MAINPID=N\nREADY=1");
 * fd < 0 is a no-op. Returns 0 or -errno. */
int vdev_sd_notify(int fd, const char *state);

#endif /* VDEV_HOST_SYSTEMD_H */
