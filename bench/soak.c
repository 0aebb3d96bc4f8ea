/* Soak (make soak; not in bench/run.sh or CI): millions of mixed vfio-user
 * messages against a generated model server (vdev-edu) with the server's
 * RSS and open fds sampled from /proc; both must stay flat.
 *   SOAK_MESSAGES  messages to send (default 10000000)
 *   SOAK_RECONNECT reconnect every this many messages (default 50000)
 *   SOAK_MODEL     model server to run (default edu) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vdev_client.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define LIVENESS 0x04
#define FACT 0x08
#define IOVA 0x100000ull
#define RAM_SIZE (64u * 1024)
#define NR_SAMPLES 10
/* RSS may grow this much over the run before the soak calls it a leak:
 * allocator noise, not a per-message cost (10M messages would make even
 * one byte per message 10 MB). */
#define RSS_SLACK_KIB 512

struct soak {
    pid_t pid;
    char dir[64], sock[128];
    struct vdev_client *cl;
    int ram_fd, irq_fd;
    unsigned long long sent;
    bool mapped, irqs;
};

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long
env_num(const char *name, unsigned long long def)
{
    const char *s = getenv(name);
    char *end;
    unsigned long long v;

    if (!s || !*s)
        return def;
    v = strtoull(s, &end, 10);
    if (*end || !v) {
        fprintf(stderr, "soak: bad %s '%s'\n", name, s);
        exit(2);
    }
    return v;
}

static long
rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static int
count_fds(pid_t pid)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    if (!(d = opendir(path)))
        return -1;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void
die(struct soak *s, const char *what, int rc)
{
    fprintf(stderr, "soak: %s after %llu messages: %s\n", what, s->sent,
            strerror(rc < 0 ? -rc : rc));
    if (s->pid > 0)
        kill(s->pid, SIGKILL);
    exit(1);
}

static void
check(struct soak *s, int rc, const char *what)
{
    if (rc < 0)
        die(s, what, rc);
}

static void
spawn(struct soak *s, const char *model)
{
    const char *b = getenv("VDEV_BUILD");
    char prog[256], arg[200];

    snprintf(prog, sizeof(prog), "%s/bin/vdev-%s", b ? b : "build", model);
    snprintf(s->dir, sizeof(s->dir), "/tmp/vdev-soak-XXXXXX");
    if (!mkdtemp(s->dir))
        die(s, "mkdtemp", -errno);
    snprintf(s->sock, sizeof(s->sock), "%s/dev.sock", s->dir);
    snprintf(arg, sizeof(arg), "--socket-path=%s", s->sock);
    s->pid = fork();
    if (s->pid < 0)
        die(s, "fork", -errno);
    if (s->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (null >= 0)
            dup2(null, 1);
        execl(prog, prog, arg, "--no-mgmt", (char *)NULL);
        _exit(127);
    }
}

/* A fresh connection; the VERSION counts as a message. */
static void
connect_client(struct soak *s)
{
    int rc = -ENOENT;

    if (s->cl)
        vdev_client_close(s->cl);
    s->cl = NULL;
    s->mapped = s->irqs = false;
    for (int i = 0; i < 1000 && rc < 0; i++) {
        rc = vdev_client_connect(NULL, s->sock, &s->cl);
        if (rc == 0) {
            rc = vdev_client_negotiate(s->cl, NULL);
            s->sent++;
            if (rc < 0) {
                vdev_client_close(s->cl);
                s->cl = NULL;
            }
        }
        if (rc < 0) {
            if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
                die(s, "server exited", -ECHILD);
            usleep(10000);
        }
    }
    check(s, rc, "connect");
    vdev_client_set_timeout(s->cl, 10000);
}

/* One message of the mix, chosen by i. Results are checked where the
 * device defines them. */
static void
one(struct soak *s, unsigned long long i)
{
    uint32_t v, got = 0;
    uint16_t vendor = 0;
    int rc;

    switch (i % 16) {
    case 0:
    case 2:
    case 4:
    case 6:
        v = (uint32_t)(i * 2654435761u);
        check(s, vdev_client_region_write(s->cl, BAR0, LIVENESS, &v, 4),
              "write liveness");
        break;
    case 1:
    case 3:
    case 5:
    case 7:
        check(s, vdev_client_region_read(s->cl, BAR0, LIVENESS, &got, 4),
              "read liveness");
        v = (uint32_t)((i - 1) * 2654435761u);
        if (got != ~v)
            die(s, "liveness mismatch", -EIO);
        break;
    case 8:
        v = (uint32_t)(i % 12);
        check(s, vdev_client_region_write(s->cl, BAR0, FACT, &v, 4),
              "write fact");
        break;
    case 9:
        check(s, vdev_client_region_read(s->cl, BAR0, FACT, &got, 4),
              "read fact");
        break;
    case 10:
    case 11:
        check(s, vdev_client_config_read(s->cl, 0, &vendor, 2), "config read");
        if (vendor != 0x1234)
            die(s, "vendor id", -EIO);
        break;
    case 12:
        if (s->mapped)
            rc = vdev_client_dma_unmap(s->cl, IOVA, RAM_SIZE, 0);
        else
            rc = vdev_client_dma_map(s->cl, IOVA, RAM_SIZE, s->ram_fd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE);
        check(s, rc, s->mapped ? "dma unmap" : "dma map");
        s->mapped = !s->mapped;
        break;
    case 13:
        if (s->irqs)
            rc = vdev_client_set_irqs(s->cl, VFIO_PCI_MSI_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_NONE |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 0, NULL, NULL);
        else
            rc = vdev_client_set_irqs(s->cl, VFIO_PCI_MSI_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &s->irq_fd, NULL);
        check(s, rc, "set irqs");
        s->irqs = !s->irqs;
        break;
    case 14:
        /* A reset now and then; otherwise another register read. */
        if (i % 1024 == 14)
            check(s, vdev_client_reset(s->cl), "reset");
        else
            check(s, vdev_client_region_read(s->cl, BAR0, 0, &got, 4),
                  "read id");
        break;
    default:
        check(s, vdev_client_region_read(s->cl, BAR0, 0x20, &got, 4),
              "read status");
        break;
    }
    s->sent++;
}

int
main(void)
{
    unsigned long long total = env_num("SOAK_MESSAGES", 10000000ull);
    unsigned long long every = env_num("SOAK_RECONNECT", 50000ull);
    const char *model = getenv("SOAK_MODEL") ? getenv("SOAK_MODEL") : "edu";
    unsigned long long next_sample, next_reconnect, i = 0;
    long rss0 = -1, rss1 = -1;
    int fds0 = -1, fds1 = -1, status = 0;
    struct soak s = {.pid = -1, .ram_fd = -1, .irq_fd = -1};
    double t0;

    signal(SIGPIPE, SIG_IGN);
    s.ram_fd = memfd_create("soak-ram", MFD_CLOEXEC);
    s.irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s.ram_fd < 0 || s.irq_fd < 0 || ftruncate(s.ram_fd, RAM_SIZE) < 0)
        die(&s, "memfd/eventfd", -errno);
    spawn(&s, model);
    connect_client(&s);
    t0 = now_s();
    next_sample = 0;
    next_reconnect = every;
    while (s.sent < total) {
        if (s.sent >= next_reconnect) {
            connect_client(&s);
            next_reconnect = s.sent + every;
        }
        /* Sample at a fixed point of the session (just connected: no maps
         * or eventfds held), after one reconnect cycle has warmed up. */
        if (s.sent >= next_sample && !s.mapped && !s.irqs && i % 16 == 0) {
            long rss = rss_kib(s.pid);
            int fds = count_fds(s.pid);
            printf("sample messages=%llu rss_kib=%ld fds=%d rate=%.0f/s\n",
                   s.sent, rss, fds,
                   s.sent / (now_s() - t0 > 0 ? now_s() - t0 : 1));
            fflush(stdout);
            if (rss0 < 0 && s.sent >= every) {
                rss0 = rss;
                fds0 = fds;
            }
            rss1 = rss;
            fds1 = fds;
            next_sample += total / NR_SAMPLES;
        }
        one(&s, i++);
    }
    /* The last sample: at the end, at the same point of a session. */
    while (s.mapped || s.irqs || i % 16)
        one(&s, i++);
    rss1 = rss_kib(s.pid);
    fds1 = count_fds(s.pid);
    if (rss0 < 0) {
        rss0 = rss1;
        fds0 = fds1;
    }
    vdev_client_close(s.cl);
    kill(s.pid, SIGTERM);
    waitpid(s.pid, &status, 0);
    unlink(s.sock);
    rmdir(s.dir);
    printf("soak messages=%llu rss_start_kib=%ld rss_end_kib=%ld "
           "fds_start=%d fds_end=%d seconds=%.1f server_exit=%d\n",
           s.sent, rss0, rss1, fds0, fds1, now_s() - t0,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (fds1 != fds0 || rss1 > rss0 + RSS_SLACK_KIB || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        printf("soak: NOT flat (or the server did not exit cleanly)\n");
        return 1;
    }
    printf("soak: flat\n");
    return 0;
}
