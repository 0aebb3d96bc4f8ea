/* vdevctl save / load against real GPIO card servers: a round trip, and
 * the refusals (existing file, missing file, corrupted stream) that leave
 * the destination device unchanged. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "model_server.h"

#define BAR2 VFIO_PCI_BAR2_REGION_INDEX

static struct model_server src, dst;
static char file[200];

static void
setup(void)
{
    model_server_start(&src, "gpio-pci-idio-16");
    model_server_start(&dst, "gpio-pci-idio-16");
    snprintf(file, sizeof(file), "%s/state", src.dir);
}

static void
teardown(void)
{
    unlink(file);
    model_server_stop(&src);
    model_server_stop(&dst);
}

TestSuite(vdevctl_migrate, .init = setup, .fini = teardown, .timeout = 30);

/* vdevctl SOCK CMD FILE; returns its exit status, stderr in err. */
static int
vdevctl(struct model_server *s, const char *cmd, const char *path, char *err,
        size_t cap)
{
    const char *b = getenv("VDEV_BUILD");
    char prog[PATH_MAX];
    int p[2], status;
    ssize_t n;
    size_t len = 0;

    snprintf(prog, sizeof(prog), "%s/bin/vdevctl", b ? b : "build");
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(p[1], 2);
        execl(prog, prog, s->sock, cmd, path, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    while (len + 1 < cap && (n = read(p[0], err + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(p[0]);
    status = child_reap(pid, "vdevctl");
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

Test(vdevctl_migrate, save_then_load)
{
    char err[1024];

    model_wr(&src, BAR2, 0x0, 1, 0x42);
    model_set(&src, "state.inputs", 0x1234);
    model_server_detach(&src);
    model_server_detach(&dst);
    cr_assert_eq(vdevctl(&src, "save", file, err, sizeof(err)), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_gt(st.st_size, 0);
    /* never overwrites */
    cr_assert_eq(vdevctl(&src, "save", file, err, sizeof(err)), 1);
    cr_assert_not_null(strstr(err, "exists"), "%s", err);

    cr_assert_eq(vdevctl(&dst, "load", file, err, sizeof(err)), 0, "%s", err);
    model_server_attach(&dst);
    cr_assert_eq(model_rd(&dst, BAR2, 0x0, 1), 0x42);
    cr_assert_eq(model_rd(&dst, BAR2, 0x1, 1), 0x34);
    cr_assert_eq(model_get(&dst, "state.inputs"), 0x1234);
    /* running: a guest write takes effect */
    model_wr(&dst, BAR2, 0x4, 1, 0x99);
    cr_assert_eq(model_rd(&dst, BAR2, 0x4, 1), 0x99);
}

Test(vdevctl_migrate, refusals_leave_destination_alone)
{
    char err[1024], missing[240];

    model_wr(&dst, BAR2, 0x0, 1, 0x77);
    model_server_detach(&src);
    model_server_detach(&dst);
    snprintf(missing, sizeof(missing), "%s/none", dst.dir);
    cr_assert_eq(vdevctl(&dst, "load", missing, err, sizeof(err)), 1);

    /* a saved stream with its payload bytes flipped */
    cr_assert_eq(vdevctl(&src, "save", file, err, sizeof(err)), 0, "%s", err);
    FILE *f = fopen(file, "r+b");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    for (long at = 0; at < size; at += 7) {
        cr_assert_eq(fseek(f, at, SEEK_SET), 0);
        int c = fgetc(f);
        cr_assert_eq(fseek(f, at, SEEK_SET), 0);
        fputc(c ^ 0xa5, f);
    }
    fclose(f);
    cr_assert_eq(vdevctl(&dst, "load", file, err, sizeof(err)), 1);
    cr_assert_not_null(strstr(err, "load from"), "%s", err);
    /* unchanged (registers read while the device waits in RESUMING) */
    cr_assert_eq(model_get(&dst, "out0_7"), 0x77);
}
