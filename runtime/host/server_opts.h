/* The standalone server program's command line (host/server_opts.c for
 * host/server_main.c). Private to host/. */
#ifndef VDEV_HOST_SERVER_OPTS_H
#define VDEV_HOST_SERVER_OPTS_H

#include <stdbool.h>

#include "vdev.h"

#define VDEV_EXIT_USAGE 2

struct vdev_server_opts {
    const char *socket_path;
    int fd;                 /* -1 unless --fd */
    int handover_fd;        /* -1 unless --handover-fd */
    const char *upgrade_to; /* binary SIGUSR2 upgrades to */
    const char *mgmt_path;
    bool no_mgmt;
    enum vdev_dma_layout dma_layout; /* --dma-layout (AUTO: detect) */
    enum vdev_log_level level;
    const char *user; /* --user: drop to it once the sockets exist */
    bool seccomp;
    bool activated;     /* sockets came by socket activation (set by caller) */
    bool virtual_clock; /* --clock=virtual */
    const char *streams[VDEV_MAX_STREAMS]; /* --stream NAME=SPEC */
    unsigned nr_streams;
    int poll_us;         /* --poll-us, or -1: the runtime's default */
    bool write_multiple; /* --write-multiple */
};

/* Parses argv into *o. activated: a service manager passed sockets, so
 * neither --socket-path nor --fd is needed (and both conflict). Returns
 * -1 to go on, or the exit status (--help, --version and
 * --print-capabilities print and return 0; --print-capabilities wins
 * wherever it appears; a wrong command line is reported, 2). */
int vdev_server_parse(int argc, char **argv,
                      const struct vdev_server_info *info, bool activated,
                      struct vdev_server_opts *o);

#endif /* VDEV_HOST_SERVER_OPTS_H */
