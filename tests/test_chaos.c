/* The chaos test: each model server under the chaos client (tests/chaos.c)
 * for $VDEV_CHAOS_SECONDS (default 4 per model; make soak runs longer),
 * checked after every batch: still alive; a fresh client is served
 * (VERSION, GET_INFO, a config space read); the management socket
 * answers; its open fds are back to where they were and its anonymous RSS
 * within 256 KiB of where it was after a first round of every kind of
 * batch (not for a sanitizer build, whose allocator keeps memory). At
 * the end it exits cleanly on SIGTERM. Seeded: a failure prints the seed,
 * and VDEV_CHAOS_SEED=... replays the same batches. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "model_server.h"
#include "vdev_client.h"

#define RSS_SLACK_KIB 256
#define SETTLE_MS 3000 /* for the server to notice our hang-ups */

static long
proc_fds(pid_t pid)
{
    char path[64];
    struct dirent *e;
    long n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    if (!(d = opendir(path)))
        return -1;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Anonymous RSS (heap, stacks, anonymous maps): where a leak or a buffer
 * kept too long shows. The device's BAR memory, which a client may touch
 * page by page, is shared memory; the binary's pages are file pages. */
static long
proc_rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "RssAnon: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* A sanitizer build of the server: its allocator keeps freed memory in
 * quarantine by design, so RSS says nothing about the server's own. */
static bool
sanitized(pid_t pid)
{
    char path[64], line[512];
    bool asan = false;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    if (!(f = fopen(path, "r")))
        return false;
    while (!asan && fgets(line, sizeof(line), f))
        asan = strstr(line, "libasan") != NULL;
    fclose(f);
    return asan;
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct run {
    struct model_server s;
    struct chaos c;
    uint64_t seed;
    const char *model;
    unsigned batch;
    enum chaos_kind kind;
    long fds, rss;
    bool asan;     /* RSS is not checked (see sanitized()) */
    uint32_t cfg0; /* vendor and device ID, as a fresh client reads them */
};

/* Fails the test with what went wrong and how to replay it. */
static void __attribute__((format(printf, 2, 3), noreturn))
run_fail(struct run *r, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    cr_assert_fail("%s, batch %u (%s): %s\n  replay: VDEV_CHAOS_SEED=0x%llx "
                   "build/tests/vdev-tests --filter 'chaos/%s'",
                   r->model, r->batch, chaos_kind_name(r->kind), what,
                   (unsigned long long)r->seed,
                   strchr(r->model, '-') ? "gpio" : r->model);
    abort(); /* not reached: cr_assert_fail ends the test */
}

/* A new client: VERSION, GET_INFO, the config space's first dword. */
static int
fresh_client(struct run *r, uint32_t *cfg0)
{
    struct vdev_client *cl;
    struct vfio_device_info info;
    int rc = vdev_client_connect(NULL, r->s.sock, &cl);

    if (rc < 0)
        return rc;
    vdev_client_set_timeout(cl, 5000);
    if ((rc = vdev_client_negotiate(cl, NULL)) == 0 &&
        (rc = vdev_client_device_info(cl, &info)) == 0)
        rc = vdev_client_config_read(cl, 0, cfg0, 4);
    vdev_client_close(cl);
    return rc;
}

static void
wait_fds(struct run *r, long want, long *now)
{
    for (int ms = 0; ms < SETTLE_MS; ms += 10) {
        if ((*now = proc_fds(r->s.pid)) == want)
            return;
        usleep(10000);
    }
}

/* Until the server has let its last vfio-user client go. */
static void
wait_unconnected(struct run *r)
{
    char reply[512];

    for (int ms = 0; ms < SETTLE_MS; ms += 10) {
        if (vdev_mgmt_client_command(r->s.mgmt, "info", reply, sizeof(reply)) ==
                0 &&
            strstr(reply, "connected=no"))
            return;
        usleep(10000);
    }
}

static void
check(struct run *r, bool baseline)
{
    char reply[512];
    uint32_t cfg0 = 0;
    long fds, rss;
    int rc;

    if (waitpid(r->s.pid, NULL, WNOHANG) != 0)
        run_fail(r, "the server is gone");
    if ((rc = fresh_client(r, &cfg0)) < 0)
        run_fail(r, "a fresh client was not served: %s", strerror(-rc));
    if (!baseline && cfg0 != r->cfg0)
        run_fail(r, "config space reads 0x%08x, was 0x%08x", cfg0, r->cfg0);
    r->cfg0 = cfg0;
    rc = vdev_mgmt_client_command(r->s.mgmt, "stats", reply, sizeof(reply));
    if (rc < 0 || strncmp(reply, "ok ", 3))
        run_fail(r, "the management socket did not answer: %s",
                 rc < 0 ? strerror(-rc) : reply);
    wait_fds(r, r->fds, &fds);
    if (fds != r->fds)
        run_fail(r, "open fds %ld, %ld before", fds, r->fds);
    if (r->asan)
        return;
    rss = proc_rss_kib(r->s.pid);
    if (baseline) {
        r->rss = rss;
    } else if (rss > r->rss + RSS_SLACK_KIB) {
        usleep(200000);
        if ((rss = proc_rss_kib(r->s.pid)) > r->rss + RSS_SLACK_KIB)
            run_fail(r, "RSS %ld KiB, %ld KiB after the first round", rss,
                     r->rss);
    }
}

static void
one(struct run *r, enum chaos_kind kind)
{
    r->kind = kind;
    r->batch++;
    if (chaos_batch(&r->c, kind) < 0)
        run_fail(r, "%s", r->c.err);
}

static void
chaos_model(const char *model)
{
    const char *env = getenv("VDEV_CHAOS_SECONDS");
    double secs = env ? atof(env) : 4, end;
    struct run *r = calloc(1, sizeof(*r));
    char prog[128];
    int status;

    cr_assert_not_null(r);
    r->model = model;
    r->seed = chaos_seed();
    snprintf(prog, sizeof(prog), "bin/vdev-%s", model);
    if (getenv("VDEV_CHAOS_LOG"))
        model_server_start_prog(&r->s, prog);
    else
        model_server_start_quiet(&r->s, prog);
    model_server_detach(&r->s);
    r->asan = sanitized(r->s.pid);
    chaos_init(&r->c, r->seed, r->s.sock, r->s.mgmt, r->s.dir);
    wait_unconnected(r);
    /* The fewest seen for a while: the "info" connections just made may
     * still be open on the server's side. */
    r->fds = proc_fds(r->s.pid);
    for (int ms = 0; ms < 300; ms += 10) {
        long n = proc_fds(r->s.pid);

        r->fds = n < r->fds ? n : r->fds;
        usleep(10000);
    }

    /* A first round of every kind: what the server allocates once (and
     * keeps) is in the RSS baseline, not in the checks. */
    for (unsigned k = 0; k < CHAOS_NR_KINDS; k++)
        one(r, (enum chaos_kind)k);
    check(r, true);
    end = now_s() + secs;
    while (now_s() < end) {
        one(r, chaos_pick(&r->c));
        check(r, false);
    }
    cr_log_info("chaos %s: seed 0x%llx, %u batches (odd %u, abuse %u, "
                "churn %u, fds %u, mgmt %u), %lu messages, %lu replies",
                model, (unsigned long long)r->seed, r->batch,
                r->c.batches[CHAOS_ODD], r->c.batches[CHAOS_ABUSE],
                r->c.batches[CHAOS_CHURN], r->c.batches[CHAOS_FDS],
                r->c.batches[CHAOS_MGMT], r->c.messages, r->c.replies);

    status = model_server_stop(&r->s);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        run_fail(r, "the server's exit status on SIGTERM is 0x%x", status);
    free(r);
}

TestSuite(chaos, .timeout = 0);

Test(chaos, edu)
{
    chaos_model("edu");
}

Test(chaos, gpio)
{
    chaos_model("gpio-pci-idio-16");
}

Test(chaos, ivshmem)
{
    chaos_model("ivshmem");
}
