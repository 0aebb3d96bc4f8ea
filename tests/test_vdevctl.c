/* build/bin/vdevctl against the test device (tests/clientdev.c): the info
 * text (IDs, BARs with sizes and flags, capabilities, IRQ counts), read,
 * write, reset, and the error paths' messages and exit status. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "child.h"
#include "clientdev.h"
#include "vdevctl_run.h"

static struct clientdev *dev;

static void
setup(void)
{
    dev = clientdev_start();
}

static void
teardown(void)
{
    clientdev_stop(dev);
    dev = NULL;
}

/* Runs vdevctl with the given arguments (stderr folded into the output);
 * returns its exit status and the output in *out (caller frees). */
static int
vdevctl(char **out, const char *fmt, ...)
{
    const char *b = getenv("VDEV_BUILD");
    char args[512], cmd[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "%s/bin/vdevctl %s 2>&1", b ? b : "build", args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - 1 - len, p)) > 0)
        len += n;
    buf[len] = 0;
    int st = child_pclose(p, cmd);
    *out = buf;
    cr_assert(WIFEXITED(st), "vdevctl died: %s", cmd);
    return WEXITSTATUS(st);
}

#define assert_has(text, needle)                                               \
    cr_assert_not_null(strstr((text), (needle)), "missing \"%s\" in:\n%s",     \
                       (needle), (text))

Test(vdevctl, info, .init = setup, .fini = teardown)
{
    char *t;
    cr_assert_eq(vdevctl(&t, "%s info", clientdev_path(dev)), 0, "%s", t);
    assert_has(t, "Device: 1b36:10f0 (rev 01)\n");
    assert_has(t, "\tClass: Unassigned class [ff00] (prog-if 00)\n");
    assert_has(t, "\tSubsystem: 1b36:0001\n");
    assert_has(t, "\tInterrupt: pin A\n");
    assert_has(t, "\tControl: I/O- Mem- BusMaster- ");
    assert_has(t, "\tStatus: Cap+ ");
    assert_has(t, "\tRegion 0: Memory at <unassigned> (32-bit, "
                  "non-prefetchable) [size=4K] [rw]\n");
    assert_has(t, "\tRegion 2: Memory at <unassigned> (64-bit, "
                  "prefetchable) [size=1M] [rw, mmap]\n"
                  "\t\tSparse mmap: 1 area [0 size=512K]\n");
    cr_assert_null(strstr(t, "Region 1:"));
    cr_assert_null(strstr(t, "Region 3:"));
    assert_has(t, "\tRegion 4: Memory at <unassigned> (32-bit, "
                  "non-prefetchable) [size=4K] [rw]\n");
    assert_has(t, "\tRegion 5: I/O ports at <unassigned> [size=32] [rw]\n");
    assert_has(t, "\tRegion 9: Device-specific [size=256] [rw]\n"
                  "\t\tRegion type: 0x8086 subtype 0x3\n");
    assert_has(t, "] Power Management version ");
    assert_has(t, "] MSI: Enable- Count=1/4 Maskable+ 64bit+\n");
    assert_has(t, "] MSI-X: Enable- Count=8 Masked-\n");
    assert_has(t, "\t\tVector table: BAR=4 offset=00000800\n");
    assert_has(t, "\t\tPBA: BAR=4 offset=00000c00\n");
    assert_has(t, "] Express (v2) Endpoint, MSI 00\n");
    assert_has(t, " FLReset");
    assert_has(t, "\t\tLnkCap:\tPort #0, Speed 2.5GT/s, Width x1\n");
    assert_has(t, "\t\tLnkSta:\tSpeed 2.5GT/s, Width x1\n");
    assert_has(t, "] Vendor Specific Information: Len=08 <?>\n");
    assert_has(t, " v1] Device Serial Number 01-23-45-67-89-ab-cd-ef\n");
    assert_has(t, "] Vendor Specific Information: ID=00ab Rev=2 Len=010 "
                  "<?>\n");
    assert_has(t, "\tIRQs: INTx=1 MSI=4 MSI-X=8 ERR=1 REQ=1\n");
    free(t);
}

Test(vdevctl, read_write_reset, .init = setup, .fini = teardown)
{
    const char *s = clientdev_path(dev);
    char *t;
    cr_assert_eq(vdevctl(&t, "%s read bar0 0 4", s), 0, "%s", t);
    cr_assert_str_eq(t, "0x7e57de71\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s write bar0 0x4 4 0xdeadbeef", s), 0, "%s", t);
    free(t);
    cr_assert_eq(vdevctl(&t, "%s read 0 4 4", s), 0);
    cr_assert_str_eq(t, "0xdeadbeef\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s read config 0 2", s), 0);
    cr_assert_str_eq(t, "0x1b36\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s write bar2 8 8 0x0102030405060708", s), 0);
    free(t);
    cr_assert_eq(vdevctl(&t, "%s read bar2 9 1", s), 0);
    cr_assert_str_eq(t, "0x07\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s read bar2 8 8", s), 0);
    cr_assert_str_eq(t, "0x0102030405060708\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s reset", s), 0, "%s", t);
    free(t);
    cr_assert_eq(vdevctl(&t, "%s read bar0 4 4", s), 0);
    cr_assert_str_eq(t, "0x00000000\n");
    free(t);
}

Test(vdevctl, errors, .init = setup, .fini = teardown)
{
    const char *s = clientdev_path(dev);
    char *t;
    cr_assert_eq(vdevctl(&t, "/nonexistent/vdev.sock info"), 1);
    /* the hint names the servers beside the vdevctl that ran */
    char want[256];
    snprintf(want, sizeof(want),
             "no server at /nonexistent/vdev.sock — is it running? "
             "(start one with %s/bin/vdev-NAME "
             "--socket-path=/nonexistent/vdev.sock)\n",
             getenv("VDEV_BUILD") ? getenv("VDEV_BUILD") : "build");
    /* one log line: "vdevctl[PID]: error: MESSAGE" */
    cr_assert(log_line_is(t, "error", want), "%s", t);
    free(t);
    /* arguments are checked before connecting: usage errors, status 2 */
    cr_assert_eq(vdevctl(&t, "%s read bar9 0 4", s), 2);
    assert_has(t, "invalid region 'bar9'");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s read bar0 0 3", s), 2);
    assert_has(t, "invalid width '3'");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s write bar0 4 1 256", s), 2);
    assert_has(t, "invalid value '256'");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s read bar0 0x10000 4", s), 1);
    assert_has(t, ": read: ");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s frobnicate", s), 2);
    assert_has(t, "unknown command 'frobnicate'");
    assert_has(t, "Try 'vdevctl --help'.");
    free(t);
    cr_assert_eq(vdevctl(&t, "--version"), 0);
    assert_has(t, "vdevctl 0.1.0");
    free(t);
    cr_assert_eq(vdevctl(&t, "--help"), 0);
    assert_has(t, "Usage: vdevctl [OPTION]... SOCKET COMMAND");
    free(t);
}

/* ------------------------------------------------- management channel */

static uint64_t pins_in, pins_out = 0xa5;

static uint64_t
get_in(struct vdev_dev *d)
{
    return pins_in;
}

static int
set_in(struct vdev_dev *d, uint64_t v)
{
    pins_in = v;
    return 0;
}

static uint64_t
get_out(struct vdev_dev *d)
{
    return pins_out;
}

static struct testsrv msrv;
static char mgmt_path[160];

static void
mgmt_setup(void)
{
    static const struct vdev_var vars[] = {
        {.name = "inputs",
         .bits = 16,
         .external = true,
         .get = get_in,
         .set = set_in,
         .doc = "input pins"},
        {.name = "outputs", .bits = 8, .get = get_out},
    };
    cr_assert_eq(testsrv_init(&msrv), 0);
    snprintf(mgmt_path, sizeof(mgmt_path), "%s/mgmt.sock", msrv.dir);
    cr_assert_eq(vdev_register_vars(msrv.dev, vars, 2), 0);
    cr_assert_eq(vdev_mgmt_listen(msrv.dev, mgmt_path), 0);
    cr_assert_eq(testsrv_start(&msrv), 0);
}

static void
mgmt_teardown(void)
{
    testsrv_free(&msrv);
}

Test(vdevctl_mgmt, get_set_list_stats, .init = mgmt_setup,
     .fini = mgmt_teardown)
{
    char *t;
    cr_assert_eq(vdevctl(&t, "%s list", mgmt_path), 0, "%s", t);
    cr_assert_str_eq(t, "NAME     BITS  VALUE   ACCESS     DESCRIPTION\n"
                        "inputs     16  0x0000  external   input pins\n"
                        "outputs     8  0xa5    read-only\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s get outputs", mgmt_path), 0, "%s", t);
    cr_assert_str_eq(t, "outputs=0xa5\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s set inputs 0x1234", mgmt_path), 0, "%s", t);
    cr_assert_str_eq(t, "inputs=0x1234\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s get inputs", mgmt_path), 0);
    cr_assert_str_eq(t, "inputs=0x1234\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s stats", mgmt_path), 0, "%s", t);
    assert_has(t, "messages=");
    assert_has(t, "\nconnections=");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s mgmt info", mgmt_path), 0, "%s", t);
    assert_has(t, "vendor=0x1b36");
    free(t);
    /* the server's refusal comes back as the message, exit status 1 */
    cr_assert_eq(vdevctl(&t, "%s set outputs 1", mgmt_path), 1);
    cr_assert(log_line_is(t, "error", NULL), "%s", t);
    assert_has(t, ": set: ");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s get nosuch", mgmt_path), 1);
    assert_has(t, ": get: ");
    free(t);
}

/* ------------------------------------------------------- save and load */

static struct testsrv src, dst;

static uint32_t
fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) {
        h ^= (uint8_t)*s++;
        h *= 16777619u;
    }
    return h;
}

static void
zero_state(struct vdev_dev *d, void *block)
{
    memset(block, 0, sizeof(uint32_t));
}

/* The test device's scratch register is its migratable state. */
static void
mig_server(struct testsrv *s)
{
    static struct vdev_mig_field f = {.name = "scratch",
                                      .since = 1,
                                      .offset =
                                          offsetof(struct testdev, scratch),
                                      .size = 4};
    f.id = fnv1a(f.name);
    struct vdev_mig_desc d = {.device = "testdev",
                              .version = 1,
                              .fields = &f,
                              .nr_fields = 1,
                              .state = &s->td,
                              .state_size = sizeof(s->td),
                              .reset_values = zero_state};
    cr_assert_eq(testsrv_init(s), 0);
    cr_assert_eq(vdev_set_migration(s->dev, &d), 0);
    cr_assert_eq(testsrv_start(s), 0);
}

static void
mig_setup(void)
{
    mig_server(&src);
    mig_server(&dst);
}

static void
mig_teardown(void)
{
    testsrv_free(&src);
    testsrv_free(&dst);
}

Test(vdevctl_mig, save_then_load_on_another_server, .init = mig_setup,
     .fini = mig_teardown)
{
    char file[160], *t;
    snprintf(file, sizeof(file), "%s/state.bin", src.dir);
    cr_assert_eq(vdevctl(&t, "%s write bar0 4 4 0x5a5aa5a5", src.path), 0);
    free(t);
    cr_assert_eq(vdevctl(&t, "%s save %s", src.path, file), 0, "%s", t);
    assert_has(t, "saved the device state to ");
    free(t);
    /* like a migration source, the device is now stopped: its registers
     * hold still until it runs again */
    cr_assert_eq(vdevctl(&t, "%s read bar0 4 4", src.path), 1);
    assert_has(t, "Device or resource busy");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s read bar0 4 4", dst.path), 0);
    cr_assert_str_eq(t, "0x00000000\n");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s load %s", dst.path, file), 0, "%s", t);
    assert_has(t, "loaded the device state from ");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s read bar0 4 4", dst.path), 0);
    cr_assert_str_eq(t, "0x5a5aa5a5\n");
    free(t);
    /* a file that is not a state stream is refused, and said so */
    FILE *f = fopen(file, "wb");
    fputs("not a device state", f);
    fclose(f);
    cr_assert_eq(vdevctl(&t, "%s load %s", dst.path, file), 1);
    assert_has(t, ": load from ");
    free(t);
    cr_assert_eq(vdevctl(&t, "%s load /nonexistent/state", dst.path), 1);
    assert_has(t, "/nonexistent/state: No such file or directory");
    free(t);
    unlink(file);
}
