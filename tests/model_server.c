/* Test support: a model server process per test (see model_server.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "model_server.h"

static void
spawn(struct model_server *s, const char *rel, bool quiet,
      const char *const *extra)
{
    const char *b = getenv("VDEV_BUILD");
    char prog[PATH_MAX], arg[200];
    const char *argv[16] = {prog, arg};
    char subst[14][300];
    unsigned n = 2;

    /* "%s" in an option stands for the server's temp dir. */
    for (; extra && *extra && n < 15; extra++, n++) {
        const char *pct = strstr(*extra, "%s");
        argv[n] = *extra;
        if (!pct)
            continue;
        snprintf(subst[n - 2], sizeof(subst[0]), "%.*s%s%s",
                 (int)(pct - *extra), *extra, s->dir, pct + 2);
        argv[n] = subst[n - 2];
    }

    snprintf(prog, sizeof(prog), "%s/%s", b ? b : "build", rel);
    cr_assert_eq(access(prog, X_OK), 0, "%s not built", prog);
    snprintf(arg, sizeof(arg), "--socket-path=%s", s->sock);
    s->pid = fork();
    cr_assert_geq(s->pid, 0);
    if (s->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        /* The server must not outlive a test process that crashes. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (null >= 0)
            dup2(null, 1);
        if (null >= 0 && quiet)
            dup2(null, 2);
        if (getenv("VDEV_CHAOS_LOG") && n < 15)
            argv[n++] = "--log-level=debug";
        execv(prog, (char *const *)argv);
        _exit(127);
    }
}

static void
start(struct model_server *s, const char *rel, bool quiet,
      const char *const *extra)
{
    const char *name = rel;

    memset(s, 0, sizeof(*s));
    s->pid = -1;
    snprintf(s->dir, sizeof(s->dir), "/tmp/vdev-model-XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir));
    snprintf(s->sock, sizeof(s->sock), "%s/dev.sock", s->dir);
    snprintf(s->mgmt, sizeof(s->mgmt), "%s.mgmt", s->sock);
    spawn(s, rel, quiet, extra);
    /* Up to 10 s: a sanitizer build starts slowly on a loaded machine. */
    int rc = -ENOENT;
    for (int i = 0; i < 1000 && rc < 0; i++) {
        rc = vdev_client_connect(NULL, s->sock, &s->cl);
        if (rc < 0) {
            cr_assert_eq(waitpid(s->pid, NULL, WNOHANG), 0, "%s exited early",
                         name);
            usleep(10000);
        }
    }
    cr_assert_eq(rc, 0, "cannot connect to %s: %s", name, strerror(-rc));
    cr_assert_eq(vdev_client_negotiate(s->cl, NULL), 0);
    /* The server loop answers only once both sockets exist. */
    cr_assert_eq(access(s->mgmt, F_OK), 0, "no management socket");
}

void
model_server_start(struct model_server *s, const char *name)
{
    char rel[128];

    snprintf(rel, sizeof(rel), "bin/vdev-%s", name);
    start(s, rel, false, NULL);
}

void
model_server_start_prog(struct model_server *s, const char *rel)
{
    start(s, rel, false, NULL);
}

void
model_server_start_quiet(struct model_server *s, const char *rel)
{
    start(s, rel, true, NULL);
}

void
model_server_start_args(struct model_server *s, const char *rel,
                        const char *const *args)
{
    start(s, rel, false, args);
}

void
model_server_detach(struct model_server *s)
{
    if (s->cl) {
        vdev_client_close(s->cl);
        s->cl = NULL;
    }
}

void
model_server_attach(struct model_server *s)
{
    int rc = -ECONNREFUSED;

    cr_assert_null(s->cl);
    /* The server notices the previous client's hang-up on its next loop. */
    for (int i = 0; i < 500 && rc < 0; i++) {
        rc = vdev_client_connect(NULL, s->sock, &s->cl);
        if (rc == 0)
            rc = vdev_client_negotiate(s->cl, NULL);
        if (rc < 0) {
            model_server_detach(s);
            usleep(10000);
        }
    }
    cr_assert_eq(rc, 0, "cannot reattach: %s", strerror(-rc));
}

int
model_server_stop(struct model_server *s)
{
    int status = -1;

    model_server_detach(s);
    if (s->pid > 0) {
        pid_t pid = s->pid;
        char what[160];

        snprintf(what, sizeof(what), "the server at %s", s->sock);
        s->pid = -1;
        kill(pid, SIGTERM);
        status = child_reap(pid, what);
        /* A server ends cleanly on SIGTERM (or dies of it when it came
         * before the handler): anything else is a failure underneath. */
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
            !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM))
            child_check_exit(what, status, "exit status after SIGTERM");
    }
    if (s->dir[0]) {
        unlink(s->mgmt);
        unlink(s->sock);
        rmdir(s->dir);
        s->dir[0] = '\0';
    }
    return status;
}

uint64_t
model_rd(struct model_server *s, uint32_t region, uint64_t off, unsigned width)
{
    uint8_t b[8] = {0};
    uint64_t v = 0;

    cr_assert_eq(vdev_client_region_read(s->cl, region, off, b, width), 0,
                 "read region %u offset 0x%llx", region,
                 (unsigned long long)off);
    memcpy(&v, b, width); /* little-endian host */
    return v;
}

uint64_t
model_poll(struct model_server *s, uint32_t region, uint64_t off,
           unsigned width, uint64_t mask, uint64_t want, int timeout_ms)
{
    uint64_t v = model_rd(s, region, off, width);

    for (int i = 0; i < timeout_ms && (v & mask) != want; i++) {
        usleep(1000);
        v = model_rd(s, region, off, width);
    }
    return v;
}

void
model_wr(struct model_server *s, uint32_t region, uint64_t off, unsigned width,
         uint64_t v)
{
    cr_assert_eq(vdev_client_region_write(s->cl, region, off, &v, width), 0,
                 "write region %u offset 0x%llx", region,
                 (unsigned long long)off);
}

uint64_t
model_get(struct model_server *s, const char *name)
{
    uint64_t v = 0;
    int rc = vdev_mgmt_client_get(s->mgmt, name, &v);

    cr_assert_eq(rc, 0, "mgmt get %s: %s", name, strerror(-rc));
    return v;
}

void
model_set(struct model_server *s, const char *name, uint64_t v)
{
    int rc = vdev_mgmt_client_set(s->mgmt, name, v);

    cr_assert_eq(rc, 0, "mgmt set %s: %s", name, strerror(-rc));
}

unsigned
model_find_cap(struct model_server *s, uint8_t id)
{
    uint8_t cfg[256];

    cr_assert_eq(vdev_client_config_dump(s->cl, cfg, sizeof(cfg)), 0);
    if (!(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
        return 0;
    unsigned at = cfg[PCI_CAPABILITY_LIST] & ~3u;
    for (int n = 0; at >= 0x40 && n < 48; n++) {
        if (cfg[at] == id)
            return at;
        at = cfg[at + 1] & ~3u;
    }
    return 0;
}

int
model_eventfd(void)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    cr_assert_geq(fd, 0);
    return fd;
}

bool
model_fired(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t v;

    if (poll(&p, 1, timeout_ms) != 1)
        return false;
    return read(fd, &v, sizeof(v)) == sizeof(v) && v > 0;
}
