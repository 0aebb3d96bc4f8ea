/* vdev_server_main(): a device as a whole server program, after the
 * vhost-user / vfio-user backend program conventions (command line in
 * host/server_opts.c), at home under a service manager (host/systemd.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <talloc.h>
#include <unistd.h>

#include "device/device.h"
#include "host/handover.h"
#include "host/sandbox.h"
#include "host/server_opts.h"
#include "host/systemd.h"
#include "vdev.h"

/* What a run needs besides its options: the sockets a service manager
 * passed and the connection to its notification socket. */
struct run {
    struct vdev_activation act;
    int notify_fd; /* -1: no NOTIFY_SOCKET */
};

/* The device SIGTERM/SIGINT/SIGHUP stop; only read by the handler. */
static struct vdev_dev *volatile signal_dev;
/* SIGUSR2: stop the loop and upgrade (with --upgrade-to). */
static volatile sig_atomic_t upgrade_requested;

static void
on_usr2(int sig)
{
    int saved = errno;
    struct vdev_dev *dev = signal_dev;

    upgrade_requested = 1;
    if (dev)
        vdev_stop(dev);
    errno = saved;
}

static void
on_signal(int sig)
{
    int saved = errno;
    struct vdev_dev *dev = signal_dev;

    if (dev)
        vdev_stop(dev);
    errno = saved;
}

/* QEMU resolves the socket path from its own cwd: print it absolute. */
static char *
absolute(void *ctx, const char *path)
{
    char *cwd;
    char *abs;

    if (path[0] == '/')
        return talloc_strdup(ctx, path);
    cwd = getcwd(NULL, 0);
    if (!cwd)
        return NULL;
    abs = talloc_asprintf(ctx, "%s/%s", cwd, path);
    free(cwd);
    return abs;
}

/* The path an inherited socket is bound to, or NULL (abstract/unnamed). */
static char *
fd_path(void *ctx, int fd)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof(sa);

    memset(&sa, 0, sizeof(sa));
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
        sa.sun_family != AF_UNIX ||
        len <= offsetof(struct sockaddr_un, sun_path) || !sa.sun_path[0])
        return NULL;
    return talloc_strndup(ctx, sa.sun_path, sizeof(sa.sun_path));
}

/* path as a JSON string inside a single-quoted shell word. */
static char *
qemu_quoted(void *ctx, const char *path)
{
    char *s = talloc_strdup(ctx, "");

    for (const char *p = path; s && *p; p++) {
        if (*p == '"' || *p == '\\')
            s = talloc_asprintf_append(s, "\\%c", *p);
        else if (*p == '\'')
            s = talloc_strdup_append(s, "'\\''");
        else if ((unsigned char)*p < 0x20)
            s = talloc_asprintf_append(s, "\\u%04x", (unsigned char)*p);
        else
            s = talloc_asprintf_append(s, "%c", *p);
    }
    return s;
}

static void
print_banner(void *ctx, const struct vdev_server_info *info, const char *path,
             const char *mgmt)
{
    if (path) {
        char *q = qemu_quoted(ctx, path);
        printf("%s: serving vfio-user on %s; attach QEMU 10.1+ with:\n",
               info->name, path);
        printf("-device '{\"driver\":\"vfio-user-pci\",\"socket\":"
               "{\"path\":\"%s\",\"type\":\"unix\"}}'\n",
               q ? q : path);
        /* Without shared guest RAM every DMA becomes a socket message. */
        printf("  (plus -object memory-backend-memfd,id=mem,size=RAM,share=on "
               "-machine memory-backend=mem)\n");
    } else {
        printf("%s: serving vfio-user on an inherited socket\n", info->name);
    }
    if (mgmt)
        printf("management socket: %s (try: vdevctl %s list)\n", mgmt, mgmt);
    else
        printf("management socket: none\n");
    fflush(stdout);
}

static int
install_signals(struct vdev_dev *dev, struct sigaction old[3])
{
    static const int stops[3] = {SIGTERM, SIGINT, SIGHUP};
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the loop's wait must see EINTR */
    signal_dev = dev;
    sigemptyset(&set);
    for (unsigned i = 0; i < 3; i++) {
        if (sigaction(stops[i], NULL, &old[i]) < 0)
            return -errno;
        /* Under nohup, a hang-up stays ignored. */
        if (stops[i] == SIGHUP && old[i].sa_handler == SIG_IGN)
            continue;
        if (sigaction(stops[i], &sa, NULL) < 0)
            return -errno;
        sigaddset(&set, stops[i]);
    }
    sa.sa_handler = on_usr2;
    if (sigaction(SIGUSR2, &sa, NULL) < 0)
        return -errno;
    /* A parent may have left them blocked; the convention needs SIGTERM. */
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    /* A VMM that goes away mid-reply must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void
restore_signals(const struct sigaction old[3])
{
    static const int stops[3] = {SIGTERM, SIGINT, SIGHUP};

    for (unsigned i = 0; i < 3; i++)
        sigaction(stops[i], &old[i], NULL);
}

/* After setup, before the first client: what the server needs from here on
 * is the sockets it holds (and the notification socket, already
 * connected). The socket files stay owned by the user that created them
 * (removing them at exit may then fail: harmless). */
static int
confine(const struct vdev_server_opts *o)
{
    int rc;

    if (o->user && (rc = vdev_sandbox_user(o->user)) < 0) {
        vdev_logf(VDEV_LOG_ERROR, "cannot switch to user %s: %s", o->user,
                  strerror(-rc));
        return rc;
    }
    if (o->seccomp && (rc = vdev_sandbox_seccomp()) < 0) {
        vdev_logf(VDEV_LOG_ERROR, "cannot install the seccomp filter: %s",
                  strerror(-rc));
        return rc;
    }
    return 0;
}

static void
notify(struct run *r, const char *state)
{
    int rc = vdev_sd_notify(r->notify_fd, state);

    if (rc < 0)
        vdev_logf(VDEV_LOG_WARN, "NOTIFY_SOCKET: cannot send %s: %s", state,
                  strerror(-rc));
}

/* A hand-over worked: the successor serves on and is the service's main
 * process now (this one exits quietly, without STOPPING=1). */
static int
handed_over(struct run *r, pid_t pid)
{
    char msg[48];

    snprintf(msg, sizeof(msg), "MAINPID=%d", (int)pid);
    notify(r, msg);
    return 0;
}

/* The loop, until a stop that is not an upgrade or an upgrade that worked,
 * asked for by SIGUSR2 or by the management command "upgrade". */
static int
run_upgradable(const struct vdev_server_opts *o, struct run *r,
               struct vdev_dev *dev)
{
    for (;;) {
        pid_t pid = -1;
        int rc = vdev_run(dev);

        if (rc < 0) {
            vdev_logf(VDEV_LOG_ERROR, "%s", strerror(-rc));
            return rc;
        }
        if ((pid = vdev_handover_successor(dev)) > 0)
            return handed_over(r, pid);
        if (!upgrade_requested) {
            notify(r, "STOPPING=1");
            return 0;
        }
        upgrade_requested = 0;
        if (!o->upgrade_to) {
            vdev_logf(VDEV_LOG_WARN, "SIGUSR2 without --upgrade-to: ignored");
            continue;
        }
        rc = vdev_upgrade(dev, o->upgrade_to, &pid);
        if (rc == 0)
            return handed_over(r, pid);
        vdev_logf(VDEV_LOG_ERROR, "upgrade to %s failed: %s; still serving",
                  o->upgrade_to, strerror(-rc));
    }
}

/* The server this one takes over from: the process that made the
 * hand-over socket pair (its peer credentials), or -1. */
static pid_t
predecessor(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        len != sizeof(cred) || cred.pid <= 0)
        return -1;
    return cred.pid;
}

static int
take_over(const struct vdev_server_opts *o, struct run *r,
          const struct vdev_server_info *info, struct vdev_dev *dev)
{
    pid_t prev = predecessor(o->handover_fd);
    char msg[64];
    int rc = vdev_handover_receive(dev, o->handover_fd);

    if (rc < 0) {
        vdev_logf(VDEV_LOG_ERROR, "hand-over failed: %s", strerror(-rc));
        return rc;
    }
    printf("%s: took over from the previous server (pid %d)\n", info->name,
           (int)prev);
    fflush(stdout);
    /* The predecessor names us the main process too; whichever arrives
     * first, the service manager ends up tracking this pid. */
    snprintf(msg, sizeof(msg), "MAINPID=%d\nREADY=1", (int)getpid());
    notify(r, msg);
    if ((rc = confine(o)) < 0)
        return rc;
    return run_upgradable(o, r, dev);
}

/* The vfio-user socket: a new one at --socket-path, --fd, or the one a
 * service manager passed. *path gets its file's path (or NULL). */
static int
listen_vfio(void *ctx, const struct vdev_server_opts *o, const struct run *r,
            struct vdev_dev *dev, const char **path)
{
    int fd = r->act.vfio_fd >= 0 ? r->act.vfio_fd : o->fd;
    int rc;

    if (o->socket_path) {
        *path = absolute(ctx, o->socket_path);
        if (!*path)
            return -ENOMEM;
        if ((rc = vdev_listen(dev, *path)) < 0)
            vdev_logf(VDEV_LOG_ERROR, "cannot listen on %s: %s", *path,
                      strerror(-rc));
        return rc;
    }
    if ((rc = vdev_listen_fd(dev, fd)) < 0) {
        vdev_logf(VDEV_LOG_ERROR, "cannot serve fd %d: %s", fd, strerror(-rc));
        return rc;
    }
    *path = fd_path(ctx, fd);
    return 0;
}

/* The management socket, if any: passed by the service manager, at
 * --mgmt-socket, or PATH.mgmt beside --socket-path. */
static int
listen_mgmt(void *ctx, const struct vdev_server_opts *o, struct run *r,
            struct vdev_dev *dev, const char *path, const char **mgmt)
{
    int rc;

    *mgmt = NULL;
    if (r->act.mgmt_fd >= 0 && (o->no_mgmt || o->mgmt_path)) {
        /* The command line overrides the passed socket. */
        close(r->act.mgmt_fd);
        r->act.mgmt_fd = -1;
    }
    if (o->no_mgmt)
        return 0;
    if (r->act.mgmt_fd >= 0) {
        if ((rc = vdev_mgmt_listen_fd(dev, r->act.mgmt_fd)) < 0) {
            vdev_logf(VDEV_LOG_ERROR, "cannot serve the passed mgmt socket: %s",
                      strerror(-rc));
            return rc;
        }
        *mgmt = fd_path(ctx, r->act.mgmt_fd);
        return 0;
    }
    if (!o->mgmt_path && !o->socket_path)
        return 0;
    *mgmt = o->mgmt_path ? absolute(ctx, o->mgmt_path)
                         : talloc_asprintf(ctx, "%s.mgmt", path);
    if (!*mgmt)
        return -ENOMEM;
    rc = vdev_mgmt_listen(dev, *mgmt);
    if (rc == -ENAMETOOLONG && !o->mgmt_path) {
        /* Only asked for implicitly: serve the VMM without it. */
        vdev_logf(VDEV_LOG_WARN,
                  "%s is too long for a socket; no management socket (see "
                  "--mgmt-socket)",
                  *mgmt);
        *mgmt = NULL;
        return 0;
    }
    if (rc < 0)
        vdev_logf(VDEV_LOG_ERROR, "cannot listen on %s: %s", *mgmt,
                  strerror(-rc));
    return rc;
}

/* --clock and --stream: before the sockets, so a bad one leaves nothing
 * behind. */
static int
bind_streams(void *ctx, const struct vdev_server_opts *o, struct vdev_dev *dev)
{
    int rc;

    if (o->virtual_clock) {
        if ((rc = vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL)) < 0)
            return rc;
        /* What passed since the device was created is this program's
         * start-up: a virtual clock starts at 0, so runs repeat exactly. */
        vdev_clock_set_now(dev, 0);
    }
    for (unsigned i = 0; i < o->nr_streams; i++) {
        const char *eq = strchr(o->streams[i], '=');
        char *name =
            talloc_strndup(ctx, o->streams[i], (size_t)(eq - o->streams[i]));

        if (!name)
            return -ENOMEM;
        rc = vdev_stream_bind(dev, name, eq + 1);
        if (rc == -ENXIO)
            vdev_logf(VDEV_LOG_ERROR,
                      "--stream %s: the device has no stream '%s'",
                      o->streams[i], name);
        else if (rc == -EINVAL)
            vdev_logf(VDEV_LOG_ERROR,
                      "--stream %s: SPEC is unix:PATH, pty, file:PATH or "
                      "stdio",
                      o->streams[i]);
        else if (rc < 0)
            vdev_logf(VDEV_LOG_ERROR, "--stream %s: %s", o->streams[i],
                      strerror(-rc));
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Where each stream went (a pty's /dev/pts/N is only known now). */
static void
print_streams(void *ctx, const struct vdev_server_opts *o, struct vdev_dev *dev)
{
    for (unsigned i = 0; i < o->nr_streams; i++) {
        const char *eq = strchr(o->streams[i], '=');
        char *name =
            talloc_strndup(ctx, o->streams[i], (size_t)(eq - o->streams[i]));

        if (name)
            printf("stream %s: %s\n", name, vdev_stream_where(dev, name));
    }
    fflush(stdout);
}

static int
serve(void *ctx, const struct vdev_server_opts *o, struct run *r,
      const struct vdev_server_info *info, struct vdev_dev *dev)
{
    const char *path = NULL, *mgmt = NULL;
    int rc;

    vdev_set_log(dev, NULL, NULL, o->level);
    vdev_set_dma_layout(dev, o->dma_layout);
    if (o->poll_us >= 0)
        vdev_set_poll_us(dev, (unsigned)o->poll_us);
    vdev_set_write_multiple(dev, o->write_multiple);
    if (o->handover_fd >= 0)
        return take_over(o, r, info, dev);
    if ((rc = bind_streams(ctx, o, dev)) < 0)
        return rc;
    if ((rc = listen_vfio(ctx, o, r, dev, &path)) < 0)
        return rc;
    if ((rc = listen_mgmt(ctx, o, r, dev, path, &mgmt)) < 0)
        return rc;
    print_banner(ctx, info, path, mgmt);
    print_streams(ctx, o, dev);
    notify(r, "READY=1");
    if ((rc = confine(o)) < 0)
        return rc;
    return run_upgradable(o, r, dev);
}

/* An inherited --fd must be a listening UNIX stream socket. */
static bool
fd_listens(int fd)
{
    int type = 0, domain = 0, listening = 0;
    socklen_t len = sizeof(int);

    return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
           domain == AF_UNIX &&
           getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
           type == SOCK_STREAM &&
           getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
           listening;
}

/* Options, passed sockets and the notification socket; returns -1 to go
 * on or the exit status. */
static int
prepare(int argc, char **argv, const struct vdev_server_info *info,
        struct vdev_server_opts *o, struct run *r)
{
    char why[160] = "";
    int act, rc;

    vdev_log_init(NULL, VDEV_LOG_WARN);
    act = vdev_sd_listen_fds(&r->act, why, sizeof(why));
    rc = vdev_server_parse(argc, argv, info, act != 0, o);
    if (rc >= 0)
        return rc;
    vdev_log_init(NULL, o->level);
    if (act < 0) {
        vdev_logf(VDEV_LOG_ERROR, "%s", why);
        return EXIT_FAILURE;
    }
    if (o->fd >= 0 && !fd_listens(o->fd)) {
        vdev_logf(VDEV_LOG_ERROR,
                  "--fd=%d is not a listening UNIX stream socket", o->fd);
        return EXIT_FAILURE;
    }
    r->notify_fd = vdev_sd_notify_open();
    if (r->notify_fd < -1) {
        vdev_logf(VDEV_LOG_WARN, "NOTIFY_SOCKET=%s: %s",
                  getenv("NOTIFY_SOCKET"), strerror(-r->notify_fd));
        r->notify_fd = -1;
    }
    return -1;
}

int
vdev_server_main(int argc, char **argv, const struct vdev_server_info *info,
                 vdev_create_fn *create)
{
    struct sigaction old[3];
    struct vdev_server_opts o;
    struct run r = {.act = {-1, -1}, .notify_fd = -1};
    struct vdev_dev *dev;
    void *ctx;
    int rc;

    if (!info || !info->name || !create)
        return EXIT_FAILURE;
    memset(old, 0, sizeof(old)); /* SIG_DFL if never set */
    rc = prepare(argc, argv, info, &o, &r);
    if (rc >= 0)
        goto out;
    rc = EXIT_FAILURE;
    ctx = talloc_new(NULL);
    if (!ctx)
        goto out;
    dev = create(ctx);
    if (!dev) {
        vdev_logf(VDEV_LOG_ERROR, "cannot create the device");
        talloc_free(ctx);
        goto out;
    }
    /* Before any socket file exists, so a signal always cleans up. */
    if (install_signals(dev, old) == 0)
        rc = serve(ctx, &o, &r, info, dev) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
    signal_dev = NULL;
    restore_signals(old);
    talloc_free(ctx); /* closes sockets, removes their files */
out:
    if (r.notify_fd >= 0)
        close(r.notify_fd);
    return rc;
}
