/* vdevctl: command-line front end — options, the command table, checking
 * arguments before connecting, and exit statuses (0 success, 1 the request
 * failed, 2 the command line is wrong). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vdev.h"
#include "vdev_client.h"
#include "vdevctl.h"

static const char usage[] =
    "Usage: vdevctl [OPTION]... SOCKET COMMAND [ARG]...\n"
    "\n"
    "Talks to a vdev device server: vfio-user on its SOCKET, or its\n"
    "management socket (SOCKET.mgmt) for the management commands.\n"
    "\n"
    "vfio-user commands (SOCKET is the server's vfio-user socket):\n"
    "  info                          describe the device like lspci -vv\n"
    "  read REGION OFFSET WIDTH      read 1, 2, 4 or 8 bytes\n"
    "  write REGION OFFSET WIDTH VALUE\n"
    "                                write 1, 2, 4 or 8 bytes\n"
    "  reset                         reset the device\n"
    "  save FILE                     stop the device, save its state\n"
    "  load FILE                     load a saved state, run the device\n"
    "\n"
    "Management commands (SOCKET is the server's management socket):\n"
    "  list                          values: name, bits, value, access, "
    "description\n"
    "  get NAME                      read a value\n"
    "  set NAME VALUE                set an external input\n"
    "  stats                         message counters\n"
    "  watch                         live view of values and rates\n"
    "  upgrade BINARY                hand the running server over to BINARY\n"
    "  mgmt WORD...                  send any other request line\n"
    "\n"
    "Options:\n"
    "  -j, --json                    machine-readable output (errors too)\n"
    "  -x, --hex                     info: config space as lspci -x does\n"
    "                                (-xxx: 256 bytes, -xxxx: 4096), the\n"
    "                                format lspci -F FILE reads\n"
    "  -i, --interval=SECONDS        watch: refresh period (default 1)\n"
    "  -n, --count=N                 watch: stop after N refreshes\n"
    "  -v, --log-level=LEVEL         error|warn|info|debug on stderr (default\n"
    "                                warn; -v info: connections, -vv debug:\n"
    "                                every message and reply)\n"
    "  -h, --help                    this text\n"
    "  -V, --version                 version\n"
    "\n"
    "REGION is bar0..bar5, rom, config or a region number.\n"
    "OFFSET and VALUE take decimal, 0x hex or 0 octal.\n"
    "Exit status: 0 success, 1 the request failed, 2 wrong command line.\n";

enum conn { VFIO, MGMT };

struct command {
    const char *name;
    const char *args; /* for the usage error */
    int min, max;     /* arguments after the command */
    enum conn conn;
    int (*check)(struct vdevctl *c, char **args);
    int (*run_vfio)(struct vdevctl *c, struct vdev_client *cl, char **args);
    int (*run_mgmt)(struct vdevctl *c, int fd, char **args, int nr);
};

/* REGION OFFSET WIDTH [VALUE], parsed before connecting. */
static int
check_access(struct vdevctl *c, char **args)
{
    struct vdevctl_access *a = &c->acc;
    uint64_t w;

    if (!vdevctl_parse_region(args[0], &a->region))
        return vdevctl_usage_error(c, "invalid region '%s'", args[0]);
    if (!vdevctl_parse_u64(args[1], &a->offset))
        return vdevctl_usage_error(c, "invalid offset '%s'", args[1]);
    if (!vdevctl_parse_u64(args[2], &w) ||
        (w != 1 && w != 2 && w != 4 && w != 8))
        return vdevctl_usage_error(c, "invalid width '%s' (1, 2, 4 or 8)",
                                   args[2]);
    a->width = (unsigned)w;
    if (strcmp(c->cmd, "write"))
        return 0;
    if (!vdevctl_parse_u64(args[3], &a->value) ||
        (a->width < 8 && a->value >> (a->width * 8) != 0))
        return vdevctl_usage_error(c, "invalid value '%s' for that width",
                                   args[3]);
    return 0;
}

static int
run_info(struct vdevctl *c, struct vdev_client *cl, char **args)
{
    return vdevctl_info(c, cl);
}
static int
run_read(struct vdevctl *c, struct vdev_client *cl, char **args)
{
    return vdevctl_read(c, cl);
}
static int
run_write(struct vdevctl *c, struct vdev_client *cl, char **args)
{
    return vdevctl_write(c, cl);
}
static int
run_reset(struct vdevctl *c, struct vdev_client *cl, char **args)
{
    return vdevctl_reset(c, cl);
}
static int
run_save(struct vdevctl *c, struct vdev_client *cl, char **args)
{
    return vdevctl_save(c, cl, args[0]);
}
static int
run_load(struct vdevctl *c, struct vdev_client *cl, char **args)
{
    return vdevctl_load(c, cl, args[0]);
}
static int
run_list(struct vdevctl *c, int fd, char **args, int nr)
{
    return vdevctl_list(c, fd);
}
static int
run_get(struct vdevctl *c, int fd, char **args, int nr)
{
    return vdevctl_get(c, fd, args[0]);
}
static int
run_set(struct vdevctl *c, int fd, char **args, int nr)
{
    return vdevctl_set(c, fd, args[0], args[1]);
}
static int
run_stats(struct vdevctl *c, int fd, char **args, int nr)
{
    return vdevctl_stats(c, fd);
}
static int
run_watch(struct vdevctl *c, int fd, char **args, int nr)
{
    return vdevctl_watch(c, fd);
}
static int
run_upgrade(struct vdevctl *c, int fd, char **args, int nr)
{
    return vdevctl_upgrade(c, fd, args[0]);
}
static int
run_raw(struct vdevctl *c, int fd, char **args, int nr)
{
    return vdevctl_raw(c, fd, args, nr);
}

/* A new command is one more row (and a line in usage and vdevctl(1)). */
static const struct command commands[] = {
    {"info", "", 0, 0, VFIO, NULL, run_info, NULL},
    {"read", " REGION OFFSET WIDTH", 3, 3, VFIO, check_access, run_read, NULL},
    {"write", " REGION OFFSET WIDTH VALUE", 4, 4, VFIO, check_access, run_write,
     NULL},
    {"reset", "", 0, 0, VFIO, NULL, run_reset, NULL},
    {"save", " FILE", 1, 1, VFIO, NULL, run_save, NULL},
    {"load", " FILE", 1, 1, VFIO, NULL, run_load, NULL},
    {"list", "", 0, 0, MGMT, NULL, NULL, run_list},
    {"get", " NAME", 1, 1, MGMT, NULL, NULL, run_get},
    {"set", " NAME VALUE", 2, 2, MGMT, NULL, NULL, run_set},
    {"stats", "", 0, 0, MGMT, NULL, NULL, run_stats},
    {"watch", "", 0, 0, MGMT, NULL, NULL, run_watch},
    {"upgrade", " BINARY", 1, 1, MGMT, NULL, NULL, run_upgrade},
    {"mgmt", " WORD...", 1, INT_MAX, MGMT, NULL, NULL, run_raw},
};

static const struct command *
find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

enum { OPT_HELP = 'h', OPT_VERSION = 'V' };

/* Returns -1 to go on, or an exit status. */
static int
parse_options(struct vdevctl *c, int argc, char **argv, bool *interval_set,
              bool *count_set)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"hex", no_argument, NULL, 'x'},
        {"interval", required_argument, NULL, 'i'},
        {"count", required_argument, NULL, 'n'},
        {"log-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":jxi:n:vhV", longopts, NULL)) !=
           -1) {
        char *end;
        switch (opt) {
        case 'j':
            c->json = true;
            break;
        case 'x':
            c->hex++;
            break;
        case 'i': {
            errno = 0;
            double s = strtod(optarg, &end);
            if (errno || *end || end == optarg || !isfinite(s) || s < 0.01 ||
                s > 86400)
                return vdevctl_usage_error(
                    c, "invalid interval '%s' (seconds, 0.01 to 86400)",
                    optarg);
            c->interval_ms = (unsigned)(s * 1000 + 0.5);
            *interval_set = true;
            break;
        }
        case 'n': {
            uint64_t n;
            if (!vdevctl_parse_u64(optarg, &n) || n == 0 || n > ULONG_MAX)
                return vdevctl_usage_error(
                    c, "invalid count '%s' (a positive number)", optarg);
            c->count = (unsigned long)n;
            *count_set = true;
            break;
        }
        case 'L': {
            enum vdev_log_level l;
            if (vdev_log_level_parse(optarg, &l) < 0)
                return vdevctl_usage_error(
                    c, "invalid log level '%s' (error, warn, info, debug)",
                    optarg);
            vdev_log_init(NULL, l);
            break;
        }
        case 'v':
            if (vdev_log_level() < VDEV_LOG_DEBUG)
                vdev_log_init(NULL, vdev_log_level() + 1);
            break;
        case 'h':
            fputs(usage, stdout);
            return VDEVCTL_EXIT_OK;
        case 'V':
            printf("vdevctl %s\n", VDEV_VERSION_STRING);
            return VDEVCTL_EXIT_OK;
        case ':':
            return vdevctl_usage_error(c, "option '%s' needs a value",
                                       argv[optind - 1]);
        default:
            if (optopt)
                return vdevctl_usage_error(c, "unknown option '-%c'", optopt);
            return vdevctl_usage_error(c, "unknown option '%s'",
                                       argv[optind - 1]);
        }
    }
    return -1;
}

/* Options that only one command takes. */
static int
check_option_use(struct vdevctl *c, bool interval_set, bool count_set)
{
    bool watch = !strcmp(c->cmd, "watch");

    if (c->hex && strcmp(c->cmd, "info"))
        return vdevctl_usage_error(c, "-x applies to info only");
    if ((interval_set || count_set) && !watch)
        return vdevctl_usage_error(c, "%s applies to watch only",
                                   interval_set ? "--interval" : "--count");
    return -1;
}

static int
run_command(struct vdevctl *c, const struct command *cmd, char **args, int nr)
{
    struct vdev_client *cl;
    int rc;

    if (cmd->conn == MGMT) {
        int fd = vdevctl_open_mgmt(c);
        if (fd < 0)
            return VDEVCTL_EXIT_FAIL;
        rc = cmd->run_mgmt(c, fd, args, nr);
        close(fd);
        return rc;
    }
    if ((rc = vdevctl_open_vfio(c, &cl)) != 0)
        return rc;
    rc = cmd->run_vfio(c, cl, args);
    vdev_client_close(cl);
    return rc;
}

int
main(int argc, char **argv)
{
    struct vdevctl c = {.prog = argv[0], .interval_ms = 1000};
    bool interval_set = false, count_set = false;
    const struct command *cmd;
    int rc, nr;

    rc = parse_options(&c, argc, argv, &interval_set, &count_set);
    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return vdevctl_usage_error(&c, "missing SOCKET and COMMAND");
    c.sock = argv[optind++];
    if (optind >= argc)
        return vdevctl_usage_error(&c, "missing COMMAND after %s", c.sock);
    c.cmd = argv[optind++];
    nr = argc - optind;
    cmd = find_command(c.cmd);
    if (!cmd)
        return vdevctl_usage_error(&c, "unknown command '%s'", c.cmd);
    if (nr < cmd->min || nr > cmd->max)
        return vdevctl_usage_error(&c, "usage: vdevctl SOCKET %s%s", cmd->name,
                                   cmd->args);
    if ((rc = check_option_use(&c, interval_set, count_set)) >= 0)
        return rc;
    if (cmd->check && (rc = cmd->check(&c, argv + optind)) != 0)
        return rc;
    rc = run_command(&c, cmd, argv + optind, nr);
    if (fflush(stdout) != 0 && rc == 0)
        rc = vdevctl_fail(&c, "io", "stdout: %s", strerror(errno));
    return rc;
}
