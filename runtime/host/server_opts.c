/* The standalone server's command line, after the vhost-user / vfio-user
 * backend program conventions: --socket-path or --fd (or sockets from
 * socket activation), --print-capabilities before anything else. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/server_opts.h"

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
            "  --dma-layout=L       DMA_READ/WRITE layout: auto (default: "
            "asked of each\n"
            "                       client), spec, or qemu (QEMU 10.1/10.2's "
            "32-bit count)\n"
            "  --qemu-dma-layout    the same as --dma-layout=qemu\n"
            "  --user=NAME          run as user NAME once the sockets "
            "exist\n"
            "  --seccomp            confine the server loop to the syscalls "
            "it needs\n"
            "  --clock=real|virtual device time from the host clock "
            "(default), or only\n"
            "                       moved by 'vdevctl MGMT clock advance "
            "NS' (tests)\n"
            "  --stream=NAME=SPEC   bind the device's stream NAME to "
            "unix:PATH, pty,\n"
            "                       file:PATH or stdio (repeat per "
            "stream)\n"
            "  --poll-us=N          after replying, probe up to N us for "
            "the client's\n"
            "                       next request before sleeping "
            "(adaptive; default 200,\n"
            "                       0: never; at most 10000)\n"
            "  --write-multiple     accept a client's write_multiple offer "
            "(default off:\n"
            "                       once it is accepted, QEMU 10.1/10.2 "
            "queue every\n"
            "                       message for their I/O thread)\n"
            "  -v, --log-level=L    error|warn|info|debug (default warn; "
            "-v info, -vv debug)\n"
            "  --print-capabilities print the backend capabilities (JSON) "
            "and exit\n"
            "  -h, --help           this text\n"
            "  -V, --version        version\n"
            "\nWith socket activation (LISTEN_FDS: the vfio-user socket, and "
            "one named\n\"mgmt\") neither --socket-path nor --fd is given. "
            "With NOTIFY_SOCKET set it\nsends READY=1 once serving and "
            "STOPPING=1 when it stops. Stays in the\nforeground; SIGTERM, "
            "SIGINT or SIGHUP stop it and remove the socket files\nit "
            "created.\n",
            info->name, info->description ? info->description : "");
}

static int __attribute__((format(printf, 2, 3)))
bad_usage(const struct vdev_server_info *info, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdev_vlogf(VDEV_LOG_ERROR, fmt, ap);
    va_end(ap);
    usage(stderr, info);
    return VDEV_EXIT_USAGE;
}

/* The convention: --print-capabilities prints and exits successfully
 * whatever else the command line holds, even an unknown option before it
 * (getopt would stop there), up to a "--". */
static bool
capabilities_asked(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--print-capabilities"))
            return true;
    return false;
}

static void
print_capabilities(void)
{
    printf("{\"type\": \"vfio-user-pci\", \"features\": "
           "[\"mgmt-socket\", \"dma-layout\", \"qemu-dma-layout\", "
           "\"seccomp\", \"user\"]}\n");
}

static int
parse_fd(const struct vdev_server_info *info, const char *opt, const char *arg,
         int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || *end || !*arg || v < 0 || v > INT32_MAX)
        return bad_usage(info, "bad %s value '%s'", opt, arg);
    *out = (int)v;
    return -1;
}

enum {
    OPT_SOCKET = 256,
    OPT_FD,
    OPT_MGMT,
    OPT_NO_MGMT,
    OPT_QEMU_DMA,
    OPT_DMA_LAYOUT,
    OPT_LOG_LEVEL,
    OPT_CAPS,
    OPT_USER,
    OPT_SECCOMP,
    OPT_HANDOVER,
    OPT_UPGRADE,
    OPT_CLOCK,
    OPT_STREAM,
    OPT_POLL,
    OPT_WRITE_MULTI,
};

static const struct option longopts[] = {
    {"socket-path", required_argument, NULL, OPT_SOCKET},
    {"fd", required_argument, NULL, OPT_FD},
    {"mgmt-socket", required_argument, NULL, OPT_MGMT},
    {"no-mgmt", no_argument, NULL, OPT_NO_MGMT},
    {"qemu-dma-layout", no_argument, NULL, OPT_QEMU_DMA},
    {"dma-layout", required_argument, NULL, OPT_DMA_LAYOUT},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"print-capabilities", no_argument, NULL, OPT_CAPS},
    {"user", required_argument, NULL, OPT_USER},
    {"seccomp", no_argument, NULL, OPT_SECCOMP},
    {"handover-fd", required_argument, NULL, OPT_HANDOVER},
    {"upgrade-to", required_argument, NULL, OPT_UPGRADE},
    {"clock", required_argument, NULL, OPT_CLOCK},
    {"stream", required_argument, NULL, OPT_STREAM},
    {"poll-us", required_argument, NULL, OPT_POLL},
    {"write-multiple", no_argument, NULL, OPT_WRITE_MULTI},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static bool
parse_dma_layout(const char *s, enum vdev_dma_layout *out)
{
    static const char *const names[] = {
        [VDEV_DMA_LAYOUT_AUTO] = "auto",
        [VDEV_DMA_LAYOUT_SPEC] = "spec",
        [VDEV_DMA_LAYOUT_QEMU] = "qemu",
    };

    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum vdev_dma_layout)i;
            return true;
        }
    }
    return false;
}

/* A string option's value; empty is a usage error. */
static int
take_str(const struct vdev_server_info *info, const char *opt, const char **out)
{
    if (!*optarg)
        return bad_usage(info, "empty %s", opt);
    *out = optarg;
    return -1;
}

/* One option; returns -1 to go on or the exit status. */
static int
apply_option(int opt, char **argv, const struct vdev_server_info *info,
             struct vdev_server_opts *o)
{
    switch (opt) {
    case OPT_SOCKET:
        return take_str(info, "--socket-path", &o->socket_path);
    case OPT_FD:
        return parse_fd(info, "--fd", optarg, &o->fd);
    case OPT_HANDOVER:
        return parse_fd(info, "--handover-fd", optarg, &o->handover_fd);
    case OPT_UPGRADE:
        return take_str(info, "--upgrade-to", &o->upgrade_to);
    case OPT_MGMT:
        return take_str(info, "--mgmt-socket", &o->mgmt_path);
    case OPT_NO_MGMT:
        o->no_mgmt = true;
        return -1;
    case OPT_QEMU_DMA:
        o->dma_layout = VDEV_DMA_LAYOUT_QEMU;
        return -1;
    case OPT_DMA_LAYOUT:
        if (!parse_dma_layout(optarg, &o->dma_layout))
            return bad_usage(info, "bad --dma-layout '%s' (auto, spec or qemu)",
                             optarg);
        return -1;
    case OPT_LOG_LEVEL:
        if (vdev_log_level_parse(optarg, &o->level) < 0)
            return bad_usage(info, "bad --log-level '%s'", optarg);
        return -1;
    case OPT_USER:
        return take_str(info, "--user", &o->user);
    case OPT_SECCOMP:
        o->seccomp = true;
        return -1;
    case OPT_CLOCK:
        if (strcmp(optarg, "real") && strcmp(optarg, "virtual"))
            return bad_usage(info, "bad --clock '%s' (real or virtual)",
                             optarg);
        o->virtual_clock = !strcmp(optarg, "virtual");
        return -1;
    case OPT_STREAM:
        if (!strchr(optarg, '=') || optarg[0] == '=')
            return bad_usage(info, "bad --stream '%s' (NAME=SPEC)", optarg);
        if (o->nr_streams == VDEV_MAX_STREAMS)
            return bad_usage(info, "too many --stream options");
        o->streams[o->nr_streams++] = optarg;
        return -1;
    case OPT_POLL: {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(optarg, &end, 10);
        if (errno || *end || !*optarg || optarg[0] == '-' || v > 10000)
            return bad_usage(info, "bad --poll-us '%s' (0 to 10000)", optarg);
        o->poll_us = (int)v;
        return -1;
    }
    case OPT_WRITE_MULTI:
        o->write_multiple = true;
        return -1;
    case 'v':
        if (o->level < VDEV_LOG_DEBUG)
            o->level++;
        return -1;
    case 'h':
        usage(stdout, info);
        return EXIT_SUCCESS;
    case 'V':
        printf("%s (vdev) %s\n", info->name, VDEV_VERSION_STRING);
        return EXIT_SUCCESS;
    case ':':
        return bad_usage(info, "option '%s' needs a value", argv[optind - 1]);
    default:
        return bad_usage(info, "unknown option '%s'", argv[optind - 1]);
    }
}

/* Which sockets to serve: exactly one way. */
static int
check_sockets(const struct vdev_server_info *info,
              const struct vdev_server_opts *o)
{
    if (o->handover_fd >= 0) {
        /* Sockets and paths come with the hand-over. */
        if (o->socket_path || o->fd >= 0 || o->mgmt_path || o->no_mgmt ||
            o->activated)
            return bad_usage(info, "--handover-fd takes no socket options");
        /* So do the clock and the streams' endpoints. */
        if (o->nr_streams || o->virtual_clock)
            return bad_usage(info, "--handover-fd takes no --stream or "
                                   "--clock");
        return -1;
    }
    if (o->activated && (o->socket_path || o->fd >= 0))
        return bad_usage(info, "sockets passed by socket activation "
                               "(LISTEN_FDS): no --socket-path or --fd");
    if (!o->activated && !o->socket_path == (o->fd < 0))
        return bad_usage(info, "give exactly one of --socket-path and --fd");
    if (o->no_mgmt && o->mgmt_path)
        return bad_usage(info, "--no-mgmt and --mgmt-socket conflict");
    return -1;
}

int
vdev_server_parse(int argc, char **argv, const struct vdev_server_info *info,
                  bool activated, struct vdev_server_opts *o)
{
    int opt, rc;

    *o = (struct vdev_server_opts){
        .fd = -1,
        .handover_fd = -1,
        .poll_us = -1,
        .level = VDEV_LOG_WARN,
        .activated = activated,
    };
    if (capabilities_asked(argc, argv)) {
        print_capabilities();
        return EXIT_SUCCESS;
    }
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":hVv", longopts, NULL)) != -1) {
        if (opt == OPT_CAPS) { /* an abbreviation, --print-cap */
            print_capabilities();
            return EXIT_SUCCESS;
        }
        if ((rc = apply_option(opt, argv, info, o)) >= 0)
            return rc;
    }
    if (optind < argc)
        return bad_usage(info, "unexpected argument '%s'", argv[optind]);
    /* An upgrade starts a new binary: exactly what the filter forbids. */
    if (o->seccomp && o->upgrade_to)
        return bad_usage(info, "--seccomp and --upgrade-to conflict");
    return check_sockets(info, o);
}
