/* vdev_server_main(): a device as a whole server program, after the
 * vhost-user / vfio-user backend program conventions. */
#include <errno.h>
#include <malloc.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <talloc.h>
#include <unistd.h>

#include "host/sandbox.h"
#include "vdev.h"

#define EXIT_USAGE 2

struct options {
    const char *socket_path;
    int fd;                 /* -1 unless --fd */
    int handover_fd;        /* -1 unless --handover-fd */
    const char *upgrade_to; /* binary SIGUSR2 upgrades to */
    const char *mgmt_path;
    bool no_mgmt;
    bool qemu_dma_layout;
    enum vdev_log_level level;
    const char *user; /* --user: drop to it once the sockets exist */
    bool seccomp;
};

/* The device SIGTERM/SIGINT stop; only read by the handler. */
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

static void
usage(FILE *f, const struct vdev_server_info *info)
{
    fprintf(f,
            "Usage: %s [OPTION]... (--socket-path=PATH | --fd=N)\n"
            "%s\n\n"
            "  --socket-path=PATH   serve vfio-user on a new UNIX socket at "
            "PATH\n"
            "  --fd=N               serve an inherited listening UNIX socket\n"
            "  --mgmt-socket=PATH   management socket for vdevctl "
            "(default: PATH.mgmt\n"
            "                       next to --socket-path; none with --fd)\n"
            "  --no-mgmt            no management socket\n"
            "  --upgrade-to=BINARY  on SIGUSR2, hand everything over to "
            "BINARY\n"
            "  --handover-fd=N      take over from a running server (set "
            "by upgrade)\n"
            "  --qemu-dma-layout    DMA_READ/WRITE payloads as QEMU 10.1/10.2 "
            "send them\n"
            "  --user=NAME          run as user NAME once the sockets "
            "exist\n"
            "  --seccomp            confine the server loop to the syscalls "
            "it needs\n"
            "  -v, --log-level=L    error|warn|info|debug (default warn; "
            "-v info, -vv debug)\n"
            "  --print-capabilities print the backend capabilities (JSON)\n"
            "  -h, --help           this text\n"
            "  -V, --version        version\n"
            "\nStays in the foreground; SIGTERM or SIGINT stop it and remove "
            "its sockets.\n",
            info->name, info->description ? info->description : "");
}

static int
bad_usage(const struct vdev_server_info *info, const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: ", info->name);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage(stderr, info);
    return EXIT_USAGE;
}

static bool
parse_level(const char *s, enum vdev_log_level *out)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};

    for (unsigned i = 0; i < 4; i++) {
        if (!strcmp(s, names[i])) {
            *out = (enum vdev_log_level)i;
            return true;
        }
    }
    return false;
}

enum {
    OPT_SOCKET = 256,
    OPT_FD,
    OPT_MGMT,
    OPT_NO_MGMT,
    OPT_QEMU_DMA,
    OPT_LOG_LEVEL,
    OPT_CAPS,
    OPT_USER,
    OPT_SECCOMP,
    OPT_HANDOVER,
    OPT_UPGRADE,
};

/* Returns -1 to go on, or the exit status. */
static int
parse_options(int argc, char **argv, const struct vdev_server_info *info,
              struct options *o)
{
    static const struct option longopts[] = {
        {"socket-path", required_argument, NULL, OPT_SOCKET},
        {"fd", required_argument, NULL, OPT_FD},
        {"mgmt-socket", required_argument, NULL, OPT_MGMT},
        {"no-mgmt", no_argument, NULL, OPT_NO_MGMT},
        {"qemu-dma-layout", no_argument, NULL, OPT_QEMU_DMA},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"print-capabilities", no_argument, NULL, OPT_CAPS},
        {"user", required_argument, NULL, OPT_USER},
        {"seccomp", no_argument, NULL, OPT_SECCOMP},
        {"handover-fd", required_argument, NULL, OPT_HANDOVER},
        {"upgrade-to", required_argument, NULL, OPT_UPGRADE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    char *end;
    long v;

    *o = (struct options){.fd = -1, .handover_fd = -1, .level = VDEV_LOG_WARN};
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":hVv", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_SOCKET:
            if (!*optarg)
                return bad_usage(info, "empty --socket-path%s", "");
            o->socket_path = optarg;
            break;
        case OPT_FD:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || !*optarg || v < 0 || v > INT32_MAX)
                return bad_usage(info, "bad --fd value '%s'", optarg);
            o->fd = (int)v;
            break;
        case OPT_HANDOVER:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || *end || !*optarg || v < 0 || v > INT32_MAX)
                return bad_usage(info, "bad --handover-fd value '%s'", optarg);
            o->handover_fd = (int)v;
            break;
        case OPT_UPGRADE:
            if (!*optarg)
                return bad_usage(info, "empty --upgrade-to%s", "");
            o->upgrade_to = optarg;
            break;
        case OPT_MGMT:
            if (!*optarg)
                return bad_usage(info, "empty --mgmt-socket%s", "");
            o->mgmt_path = optarg;
            break;
        case OPT_NO_MGMT:
            o->no_mgmt = true;
            break;
        case OPT_QEMU_DMA:
            o->qemu_dma_layout = true;
            break;
        case OPT_LOG_LEVEL:
            if (!parse_level(optarg, &o->level))
                return bad_usage(info, "bad --log-level '%s'", optarg);
            break;
        case OPT_USER:
            if (!*optarg)
                return bad_usage(info, "empty --user%s", "");
            o->user = optarg;
            break;
        case OPT_SECCOMP:
            o->seccomp = true;
            break;
        case 'v':
            if (o->level < VDEV_LOG_DEBUG)
                o->level++;
            break;
        case OPT_CAPS:
            printf("{\"type\": \"vfio-user-pci\", \"features\": "
                   "[\"mgmt-socket\", \"qemu-dma-layout\", \"seccomp\", "
                   "\"user\"]}\n");
            return EXIT_SUCCESS;
        case 'h':
            usage(stdout, info);
            return EXIT_SUCCESS;
        case 'V':
            printf("%s (vdev) %s\n", info->name, VDEV_VERSION_STRING);
            return EXIT_SUCCESS;
        case ':':
            return bad_usage(info, "option '%s' needs a value",
                             argv[optind - 1]);
        default:
            return bad_usage(info, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad_usage(info, "unexpected argument '%s'", argv[optind]);
    /* An upgrade starts a new binary: exactly what the filter forbids. */
    if (o->seccomp && o->upgrade_to)
        return bad_usage(info, "--seccomp and --upgrade-to conflict%s", "");
    if (o->handover_fd >= 0) {
        /* Sockets and paths come with the hand-over. */
        if (o->socket_path || o->fd >= 0 || o->mgmt_path || o->no_mgmt)
            return bad_usage(info, "--handover-fd takes no socket options%s",
                             "");
        return -1;
    }
    if (!o->socket_path == (o->fd < 0))
        return bad_usage(info, "give exactly one of --socket-path and --fd%s",
                         "");
    if (o->no_mgmt && o->mgmt_path)
        return bad_usage(info, "--no-mgmt and --mgmt-socket conflict%s", "");
    return -1;
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
install_signals(struct vdev_dev *dev, struct sigaction *old_term,
                struct sigaction *old_int)
{
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the loop's wait must see EINTR */
    signal_dev = dev;
    if (sigaction(SIGTERM, &sa, old_term) < 0 ||
        sigaction(SIGINT, &sa, old_int) < 0)
        return -errno;
    sa.sa_handler = on_usr2;
    if (sigaction(SIGUSR2, &sa, NULL) < 0)
        return -errno;
    /* A parent may have left them blocked; the convention needs SIGTERM. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    /* A VMM that goes away mid-reply must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* After setup, before the first client: what the server needs from here on
 * is the sockets it holds. The socket files stay owned by the user that
 * created them (removing them at exit may then fail: harmless). */
static int
confine(const struct options *o, const struct vdev_server_info *info)
{
    int rc;

    if (o->user && (rc = vdev_sandbox_user(o->user)) < 0) {
        fprintf(stderr, "%s: cannot switch to user %s: %s\n", info->name,
                o->user, strerror(-rc));
        return rc;
    }
    if (o->seccomp && (rc = vdev_sandbox_seccomp()) < 0) {
        fprintf(stderr, "%s: cannot install the seccomp filter: %s\n",
                info->name, strerror(-rc));
        return rc;
    }
    return 0;
}

/* The loop, until a stop that is not an upgrade or an upgrade that
 * worked (the successor serves on: exit quietly). */
static int
run_upgradable(const struct options *o, const struct vdev_server_info *info,
               struct vdev_dev *dev)
{
    for (;;) {
        pid_t pid = -1;
        int rc = vdev_run(dev);

        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", info->name, strerror(-rc));
            return rc;
        }
        if (!upgrade_requested)
            return 0;
        upgrade_requested = 0;
        if (!o->upgrade_to) {
            fprintf(stderr, "%s: SIGUSR2 without --upgrade-to: ignored\n",
                    info->name);
            continue;
        }
        rc = vdev_upgrade(dev, o->upgrade_to, &pid);
        if (rc == 0)
            return 0;
        fprintf(stderr, "%s: upgrade to %s failed: %s; still serving\n",
                info->name, o->upgrade_to, strerror(-rc));
    }
}

static int
serve(void *ctx, const struct options *o, const struct vdev_server_info *info,
      struct vdev_dev *dev)
{
    const char *path = NULL, *mgmt = NULL;
    int rc;

    vdev_set_log(dev, NULL, NULL, o->level);
    vdev_set_qemu_dma_layout(dev, o->qemu_dma_layout);
    if (o->handover_fd >= 0) {
        rc = vdev_handover_receive(dev, o->handover_fd);
        if (rc < 0) {
            fprintf(stderr, "%s: hand-over failed: %s\n", info->name,
                    strerror(-rc));
            return rc;
        }
        printf("%s: took over from the previous server (pid %d)\n", info->name,
               (int)getpid());
        fflush(stdout);
        if ((rc = confine(o, info)) < 0)
            return rc;
        return run_upgradable(o, info, dev);
    }
    if (o->socket_path) {
        path = absolute(ctx, o->socket_path);
        if (!path)
            return -ENOMEM;
        rc = vdev_listen(dev, path);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot listen on %s: %s\n", info->name, path,
                    strerror(-rc));
            return rc;
        }
    } else {
        rc = vdev_listen_fd(dev, o->fd);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot serve fd %d: %s\n", info->name, o->fd,
                    strerror(-rc));
            return rc;
        }
        path = fd_path(ctx, o->fd);
    }
    if (!o->no_mgmt && (o->mgmt_path || o->socket_path)) {
        mgmt = o->mgmt_path ? absolute(ctx, o->mgmt_path)
                            : talloc_asprintf(ctx, "%s.mgmt", path);
        if (!mgmt)
            return -ENOMEM;
        rc = vdev_mgmt_listen(dev, mgmt);
        if (rc == -ENAMETOOLONG && !o->mgmt_path) {
            /* Only asked for implicitly: serve the VMM without it. */
            fprintf(stderr,
                    "%s: warning: %s is too long for a socket; no "
                    "management socket (see --mgmt-socket)\n",
                    info->name, mgmt);
            mgmt = NULL;
        } else if (rc < 0) {
            fprintf(stderr, "%s: cannot listen on %s: %s\n", info->name, mgmt,
                    strerror(-rc));
            return rc;
        }
    }
    print_banner(ctx, info, path, mgmt);
    if ((rc = confine(o, info)) < 0)
        return rc;
    return run_upgradable(o, info, dev);
}

int
vdev_server_main(int argc, char **argv, const struct vdev_server_info *info,
                 vdev_create_fn *create)
{
    struct sigaction old_term, old_int;
    struct options o;
    struct vdev_dev *dev;
    void *ctx;
    int rc;

    if (!info || !info->name || !create)
        return EXIT_FAILURE;
    memset(&old_term, 0, sizeof(old_term)); /* SIG_DFL if never set */
    memset(&old_int, 0, sizeof(old_int));
    rc = parse_options(argc, argv, info, &o);
    if (rc >= 0)
        return rc;
    if (o.fd >= 0) {
        int type = 0, domain = 0, listening = 0;
        socklen_t len = sizeof(int);

        if (getsockopt(o.fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
            domain != AF_UNIX ||
            getsockopt(o.fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
            type != SOCK_STREAM ||
            getsockopt(o.fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 ||
            !listening) {
            fprintf(stderr,
                    "%s: --fd=%d is not a listening UNIX stream "
                    "socket\n",
                    info->name, o.fd);
            return EXIT_FAILURE;
        }
    }
    /* Buffers of 64 KiB and more (a connection's, a large message's) come
     * from mmap and go back to the system when freed. glibc would raise
     * this threshold after the first such free and keep later ones in its
     * heap: a client's burst of large messages left the RSS up for good. */
    mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    ctx = talloc_new(NULL);
    if (!ctx)
        return EXIT_FAILURE;
    dev = create(ctx);
    if (!dev) {
        fprintf(stderr, "%s: cannot create the device\n", info->name);
        talloc_free(ctx);
        return EXIT_FAILURE;
    }
    /* Before any socket file exists, so a signal always cleans up. */
    if ((rc = install_signals(dev, &old_term, &old_int)) == 0)
        rc = serve(ctx, &o, info, dev);
    signal_dev = NULL;
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    talloc_free(ctx); /* closes sockets, removes their files */
    return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
