/* The standalone server under --seccomp (and --user): the filter is in force
 * (/proc/PID/status says Seccomp: 2, so any syscall off the allow-list
 * kills it) and a whole session still works: negotiation with a twin
 * socket, DMA map, region I/O, SET_IRQS and an interrupt, DMA, migration
 * save, the management channel, reconnects, and a clean exit on SIGTERM. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "child.h"
#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define LIVENESS 0x04
#define FACT 0x08
#define IRQ_STATUS 0x24
#define IRQ_RAISE 0x60
#define IRQ_ACK 0x64
#define DMA_SRC 0x80
#define DMA_DST 0x88
#define DMA_COUNT 0x90
#define DMA_CMD 0x98
#define DMA_BUF 0x40000
#define IOVA 0x100000ull

static struct model_server srv;

/* Like model_server_start, with the confinement options. */
static void
start(const char *extra1, const char *extra2)
{
    const char *b = getenv("VDEV_BUILD");
    char prog[PATH_MAX], arg[200];
    int rc = -ENOENT;

    memset(&srv, 0, sizeof(srv));
    snprintf(srv.dir, sizeof(srv.dir), "/tmp/vdev-seccomp-XXXXXX");
    cr_assert_not_null(mkdtemp(srv.dir));
    /* An unprivileged server must be able to reach its own directory. */
    chmod(srv.dir, 0755);
    snprintf(srv.sock, sizeof(srv.sock), "%s/dev.sock", srv.dir);
    snprintf(srv.mgmt, sizeof(srv.mgmt), "%s.mgmt", srv.sock);
    snprintf(prog, sizeof(prog), "%s/bin/vdev-edu", b ? b : "build");
    snprintf(arg, sizeof(arg), "--socket-path=%s", srv.sock);
    srv.pid = fork();
    cr_assert_geq(srv.pid, 0);
    if (srv.pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (null >= 0)
            dup2(null, 1);
        /* LeakSanitizer's exit-time scan uses ptrace, which no server
         * needs: a sanitizer build runs confined without it. */
        setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
        execl(prog, prog, arg, extra1, extra2, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000 && rc < 0; i++) {
        rc = vdev_client_connect(NULL, srv.sock, &srv.cl);
        if (rc < 0) {
            cr_assert_eq(waitpid(srv.pid, NULL, WNOHANG), 0,
                         "vdev-edu exited early");
            usleep(10000);
        }
    }
    cr_assert_eq(rc, 0, "cannot connect: %s", strerror(-rc));
}

static void
teardown(void)
{
    char f[200];

    model_server_stop(&srv);
    snprintf(f, sizeof(f), "%s/state", srv.dir[0] ? srv.dir : "/nonexistent");
    unlink(f);
}

TestSuite(seccomp, .fini = teardown, .timeout = 60);

/* Seccomp mode from /proc/PID/status (2: filter), and the real uid. */
static void
status_of(pid_t pid, int *mode, long *uid)
{
    char path[64], line[256];
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    *mode = -1;
    *uid = -1;
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "Seccomp: %d", mode);
        sscanf(line, "Uid: %ld", uid);
    }
    fclose(f);
}

static void
session(bool mgmt_save)
{
    struct vdev_client_caps want = {
        .max_msg_fds = 16,
        .max_data_xfer_size = 1 << 20,
        .max_dma_maps = 1024,
        .pgsizes = 4096,
        .twin_socket = true,
        .write_multiple = true,
    };
    int mfd = memfd_create("guest", MFD_CLOEXEC), efd = model_eventfd();
    uint8_t *g, *stream;
    size_t len;
    uint32_t st;
    void *ctx = talloc_new(NULL);

    cr_assert_eq(vdev_client_negotiate(srv.cl, &want), 0);
    cr_assert_geq(mfd, 0);
    cr_assert_eq(ftruncate(mfd, 65536), 0);
    g = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    cr_assert_neq(g, MAP_FAILED);
    for (unsigned i = 0; i < 64; i++)
        g[i] = (uint8_t)(i + 1);
    cr_assert_eq(vdev_client_dma_map(srv.cl, IOVA, 65536, mfd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);

    model_wr(&srv, BAR0, LIVENESS, 4, 0x0f0f0f0f);
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), 0xf0f0f0f0u);
    model_wr(&srv, BAR0, FACT, 4, 6);
    cr_assert_eq(model_rd(&srv, BAR0, FACT, 4), 720);

    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &efd, NULL),
                 0);
    model_wr(&srv, BAR0, IRQ_RAISE, 4, 0x8);
    cr_assert(model_fired(efd, 2000), "no interrupt under seccomp");
    model_wr(&srv, BAR0, IRQ_ACK, 4, 0x8);

    /* RAM -> device buffer -> RAM */
    model_wr(&srv, BAR0, DMA_SRC, 8, IOVA);
    model_wr(&srv, BAR0, DMA_DST, 8, DMA_BUF);
    model_wr(&srv, BAR0, DMA_COUNT, 8, 64);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1);
    model_wr(&srv, BAR0, DMA_SRC, 8, DMA_BUF);
    model_wr(&srv, BAR0, DMA_DST, 8, IOVA + 0x1000);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1 | 2);
    cr_assert_eq(memcmp(g, g + 0x1000, 64), 0, "DMA under seccomp");

    cr_assert_eq(vdev_client_mig_save(srv.cl, ctx, &stream, &len), 0);
    cr_assert_gt(len, 0);
    cr_assert_eq(vdev_client_mig_get_state(srv.cl, &st), 0);
    cr_assert_eq(st, VFIO_DEVICE_STATE_STOP);
    cr_assert_eq(vdev_client_mig_set_state(srv.cl, VFIO_DEVICE_STATE_RUNNING),
                 0);
    cr_assert_eq(vdev_client_reset(srv.cl), 0);
    cr_assert_eq(vdev_client_dma_unmap(srv.cl, IOVA, 65536, 0), 0);

    {
        char reply[256], file[200];
        cr_assert_eq(
            vdev_mgmt_client_command(srv.mgmt, "list", reply, sizeof(reply)),
            0);
        if (mgmt_save) {
            snprintf(file, sizeof(file), "%s/state", srv.dir);
            cr_assert_eq(
                vdev_mgmt_client_save(srv.mgmt, file, reply, sizeof(reply)), 0,
                "%s", reply);
            cr_assert_eq(
                vdev_mgmt_client_load(srv.mgmt, file, reply, sizeof(reply)), 0,
                "%s", reply);
        }
    }
    /* A new client is accepted under the filter too. */
    model_server_detach(&srv);
    model_server_attach(&srv);
    cr_assert_eq(model_rd(&srv, BAR0, 0, 4), 0x010000edu);
    munmap(g, 65536);
    close(mfd);
    close(efd);
    talloc_free(ctx);
}

static void
sigterm_exits_0(void)
{
    int status;

    model_server_detach(&srv);
    kill(srv.pid, SIGTERM);
    status = child_reap(srv.pid, "the confined server");
    srv.pid = -1;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "status 0x%x (signal %d: a syscall off the allow-list?)", status,
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

Test(seccomp, full_session_under_the_filter)
{
    int mode;
    long uid;

    start("--seccomp", NULL);
    session(true);
    status_of(srv.pid, &mode, &uid);
    cr_assert_eq(mode, 2, "Seccomp: %d, want 2 (filter)", mode);
    sigterm_exits_0();
}

Test(seccomp, without_the_option_no_filter)
{
    int mode;
    long uid;

    start(NULL, NULL);
    status_of(srv.pid, &mode, &uid);
    cr_assert_eq(mode, 0);
    sigterm_exits_0();
}

/* Only root can switch users; as root, run the session as nobody. */
Test(seccomp, drops_to_user_then_filters)
{
    struct passwd *pw = getpwnam("nobody");
    int mode;
    long uid;

    if (geteuid() != 0 || !pw)
        cr_skip_test("needs root and a 'nobody' user");
    start("--user=nobody", "--seccomp");
    session(false);
    status_of(srv.pid, &mode, &uid);
    cr_assert_eq(mode, 2);
    cr_assert_eq(uid, (long)pw->pw_uid, "server still runs as uid %ld", uid);
    sigterm_exits_0();
}

/* An upgrade execs a new binary, which the filter forbids: refused up
 * front rather than killing the server at its first SIGUSR2. */
Test(seccomp, conflicts_with_upgrade_to)
{
    const char *b = getenv("VDEV_BUILD");
    char prog[PATH_MAX];
    int status;
    pid_t pid;

    snprintf(prog, sizeof(prog), "%s/bin/vdev-edu", b ? b : "build");
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execl(prog, prog, "--socket-path=/nonexistent/x.sock", "--seccomp",
              "--upgrade-to=/bin/true", (char *)NULL);
        _exit(127);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status 0x%x",
              status);
}
