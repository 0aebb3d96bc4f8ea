/* vdevctl: command-line front end — argument parsing, connection and the
 * read / write / reset / info commands against a vdev server socket; the
 * management commands go to mgmt.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdev.h"
#include "vdev_client.h"
#include "vdevctl.h"
#include "migrate.h"

static const char usage[] =
    "Usage: vdevctl SOCKET COMMAND [ARGS]\n"
    "       vdevctl --help | --version\n"
    "\n"
    "Talks vfio-user to the device server listening on SOCKET.\n"
    "\n"
    "Commands:\n"
    "  info                              describe the device like lspci -vv\n"
    "  read REGION OFFSET WIDTH          read 1, 2, 4 or 8 bytes\n"
    "  write REGION OFFSET WIDTH VALUE   write 1, 2, 4 or 8 bytes\n"
    "  reset                             reset the device\n"
    "  save FILE                         stop the device, save its state\n"
    "  load FILE                         load a saved state, run the device\n"
    "\n"
    "Management commands (SOCKET is the server's management socket):\n"
    "  list                              values the device exposes\n"
    "  get NAME                          read a value\n"
    "  set NAME VALUE                    set an external input\n"
    "  stats                             message counters\n"
    "  upgrade BINARY                    hand the running server over to "
    "BINARY\n"
    "  mgmt WORD...                      send any other request line\n"
    "\n"
    "REGION is bar0..bar5, rom, config or a region number.\n"
    "OFFSET and VALUE take decimal, 0x hex or 0 octal.\n";

#define VDEVCTL_TIMEOUT_MS 10000

static const char *sock_path;

static int
fail(const char *what, int err)
{
    fprintf(stderr, "vdevctl: %s: %s: %s\n", sock_path, what, strerror(-err));
    return 1;
}

static int
bad_arg(const char *fmt, const char *arg)
{
    fprintf(stderr, "vdevctl: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'vdevctl --help'.\n");
    return 1;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (!*s || *s == '-')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool
parse_region(const char *s, uint32_t *out)
{
    uint64_t n;

    if (strncmp(s, "bar", 3) == 0 && s[3] >= '0' && s[3] <= '5' && !s[4]) {
        *out = (uint32_t)(s[3] - '0');
        return true;
    }
    if (strcmp(s, "rom") == 0) {
        *out = VFIO_PCI_ROM_REGION_INDEX;
        return true;
    }
    if (strcmp(s, "config") == 0) {
        *out = VFIO_PCI_CONFIG_REGION_INDEX;
        return true;
    }
    if (parse_u64(s, &n) && n <= UINT32_MAX) {
        *out = (uint32_t)n;
        return true;
    }
    return false;
}

/* REGION OFFSET WIDTH, shared by read and write. */
static int
parse_access(char **argv, uint32_t *region, uint64_t *offset, unsigned *width)
{
    uint64_t w;

    if (!parse_region(argv[0], region))
        return bad_arg("invalid region '%s'", argv[0]);
    if (!parse_u64(argv[1], offset))
        return bad_arg("invalid offset '%s'", argv[1]);
    if (!parse_u64(argv[2], &w) || (w != 1 && w != 2 && w != 4 && w != 8))
        return bad_arg("invalid width '%s' (1, 2, 4 or 8)", argv[2]);
    *width = (unsigned)w;
    return 0;
}

/* Region data travels in host byte order (vfio-user spec). */
static uint64_t
width_get(const uint8_t *buf, unsigned width)
{
    uint8_t b;
    uint16_t h;
    uint32_t w;
    uint64_t q;

    switch (width) {
    case 1:
        memcpy(&b, buf, 1);
        return b;
    case 2:
        memcpy(&h, buf, 2);
        return h;
    case 4:
        memcpy(&w, buf, 4);
        return w;
    default:
        memcpy(&q, buf, 8);
        return q;
    }
}

static void
width_put(uint8_t *buf, unsigned width, uint64_t v)
{
    uint8_t b = (uint8_t)v;
    uint16_t h = (uint16_t)v;
    uint32_t w = (uint32_t)v;

    switch (width) {
    case 1:
        memcpy(buf, &b, 1);
        break;
    case 2:
        memcpy(buf, &h, 2);
        break;
    case 4:
        memcpy(buf, &w, 4);
        break;
    default:
        memcpy(buf, &v, 8);
        break;
    }
}

static int
cmd_read(struct vdev_client *cl, char **argv)
{
    uint32_t region;
    uint64_t offset, v = 0;
    unsigned width;

    if (parse_access(argv, &region, &offset, &width))
        return 1;
    uint8_t buf[8];
    int rc = vdev_client_region_read(cl, region, offset, buf, width);
    if (rc < 0)
        return fail("read", rc);
    v = width_get(buf, width);
    printf("0x%0*" PRIx64 "\n", (int)width * 2, v);
    return 0;
}

static int
cmd_write(struct vdev_client *cl, char **argv)
{
    uint32_t region;
    uint64_t offset, v;
    unsigned width;

    if (parse_access(argv, &region, &offset, &width))
        return 1;
    if (!parse_u64(argv[3], &v) || (width < 8 && v >> (width * 8) != 0))
        return bad_arg("invalid value '%s' for that width", argv[3]);
    uint8_t buf[8];
    width_put(buf, width, v);
    int rc = vdev_client_region_write(cl, region, offset, buf, width);
    if (rc < 0)
        return fail("write", rc);
    return 0;
}

static bool
is_mgmt(const char *cmd, int argc)
{
    return (strcmp(cmd, "list") == 0 && argc == 1) ||
           (strcmp(cmd, "stats") == 0 && argc == 1) ||
           (strcmp(cmd, "get") == 0 && argc == 2) ||
           (strcmp(cmd, "set") == 0 && argc == 3) ||
           (strcmp(cmd, "upgrade") == 0 && argc == 2) ||
           (strcmp(cmd, "mgmt") == 0 && argc >= 2);
}

static int
run_mgmt(int argc, char **argv)
{
    char err[512];
    const char *what;
    int rc =
        vdevctl_mgmt(sock_path, argc, argv, stdout, &what, err, sizeof(err));

    if (rc == -EREMOTEIO) {
        fprintf(stderr, "vdevctl: %s: %s: %s\n", sock_path, what, err);
        return 1;
    }
    return rc < 0 ? fail(what, rc) : 0;
}

static int
run(struct vdev_client *cl, int argc, char **argv)
{
    const char *cmd = argv[0];
    const char *what = "info";
    int rc;

    if (strcmp(cmd, "info") == 0 && argc == 1) {
        rc = vdevctl_info(cl, stdout, &what);
        return rc < 0 ? fail(what, rc) : 0;
    }
    if (strcmp(cmd, "read") == 0 && argc == 4)
        return cmd_read(cl, argv + 1);
    if (strcmp(cmd, "write") == 0 && argc == 5)
        return cmd_write(cl, argv + 1);
    if (strcmp(cmd, "reset") == 0 && argc == 1) {
        rc = vdev_client_reset(cl);
        return rc < 0 ? fail("reset", rc) : 0;
    }
    if (vdevctl_is_migrate(argc, argv))
        return vdevctl_migrate(cl, sock_path, argc, argv);
    return bad_arg("unknown command or wrong arguments: '%s'", cmd);
}

int
main(int argc, char **argv)
{
    struct vdev_client *cl;
    int rc;

    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("vdevctl %s\n", VDEV_VERSION_STRING);
        return 0;
    }
    if (argc < 3) {
        fputs(usage, stderr);
        return 1;
    }
    sock_path = argv[1];
    if (is_mgmt(argv[2], argc - 2)) {
        rc = run_mgmt(argc - 2, argv + 2);
        if (fflush(stdout) != 0 && rc == 0)
            rc = fail("stdout", -errno);
        return rc;
    }
    rc = vdev_client_connect(NULL, sock_path, &cl);
    if (rc < 0)
        return fail("connect", rc);
    /* a wedged server should not wedge the person at the terminal */
    vdev_client_set_timeout(cl, VDEVCTL_TIMEOUT_MS);
    rc = vdev_client_negotiate(cl, NULL);
    if (rc < 0) {
        vdev_client_close(cl);
        return fail("version negotiation", rc);
    }
    rc = run(cl, argc - 2, argv + 2);
    if (fflush(stdout) != 0 && rc == 0)
        rc = fail("stdout", -errno);
    vdev_client_close(cl);
    return rc;
}
