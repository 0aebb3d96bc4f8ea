/* Runtime benchmark: 4-byte REGION_READ/WRITE round trips through libvdev
 * against a plain UNIX-socket floor with the same byte counts, and the
 * server's RSS after negotiation. Also the server and client halves that
 * bench_insn.sh runs under callgrind (--serve, --client). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <talloc.h>
#include <unistd.h>

#include "vdev.h"
#include "vdev_proto.h"

#define HDR ((size_t)sizeof(struct vfio_user_header))
#define ACC ((size_t)sizeof(struct vfio_user_region_access))
#define DATA 4u
#define MAX_INFLIGHT 16u
#define RUNS 25        /* default; --runs */
#define SLICE_SEC 0.12 /* default; --seconds */
#define RATIO_1 0.95
#define RATIO_16 0.97
#define RSS_TARGET_KIB 1536

/* The version proposal a VMM sends (QEMU's capabilities). */
static const char version_json[] =
    "{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":1048576,"
    "\"max_dma_maps\":65535,\"pgsizes\":4096}}";

static volatile sig_atomic_t got_term;
static struct vdev_dev *serve_dev;

/* ------------------------------------------------------------ helpers */

static int
write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* 0, -ECONNRESET on EOF, or -errno. */
static int
read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int
listen_at(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (fd < 0)
        return -errno;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

/* Retries for up to wait_ms while the server is starting (valgrind). */
static int
connect_to(const char *path, int wait_ms)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    for (int waited = 0;; waited += 10) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        int rc;

        if (fd < 0)
            return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return fd;
        rc = -errno;
        close(fd);
        if ((rc != -ENOENT && rc != -ECONNREFUSED) || waited >= wait_ms)
            return rc;
        usleep(10000);
    }
}

/* ------------------------------------------------------------ messages */

struct op {
    const char *name;
    uint16_t cmd;
    size_t req_len;   /* header + access (+ data for a write) */
    size_t reply_len; /* header + access (+ data for a read) */
};

static const struct op ops[] = {
    {"region_read", VFIO_USER_REGION_READ, HDR + ACC, HDR + ACC + DATA},
    {"region_write", VFIO_USER_REGION_WRITE, HDR + ACC + DATA, HDR + ACC},
};

/* Where the 4-byte accesses go: the bench device's register by default;
 * --region/--offset aim the client at a model server's register. */
static uint32_t target_region = 0;
static uint64_t target_offset = 4;
/* --size: bytes per access (a UART's registers are one byte wide). */
static uint32_t target_count = DATA;

static void
build_request(const struct op *op, uint8_t *buf)
{
    struct vfio_user_header h = {
        .cmd = op->cmd,
        .msg_size = (uint32_t)op->req_len,
    };
    struct vfio_user_region_access a = {
        .offset = target_offset,
        .region = target_region,
        .count = target_count,
    };
    uint64_t v = 0x1122334412345678;

    memcpy(buf, &h, HDR);
    memcpy(buf + HDR, &a, ACC);
    if (op->req_len > HDR + ACC)
        memcpy(buf + HDR + ACC, &v, target_count);
}

/* The floor answers with what a successful runtime reply looks like. */
static void
build_reply(const struct op *op, uint8_t *buf)
{
    struct vfio_user_header h = {
        .cmd = op->cmd,
        .msg_size = (uint32_t)op->reply_len,
        .flags = VFIO_USER_F_TYPE_REPLY,
    };

    memset(buf, 0, op->reply_len);
    memcpy(buf, &h, HDR);
}

static int
negotiate(int fd)
{
    uint8_t buf[512];
    struct vfio_user_header h = {
        .msg_id = 0xffff,
        .cmd = VFIO_USER_VERSION,
        .msg_size = (uint32_t)(HDR + 4 + sizeof(version_json)),
    };
    struct vfio_user_version v = {.major = 0, .minor = 1};
    int rc;

    memcpy(buf, &h, HDR);
    memcpy(buf + HDR, &v, 4);
    memcpy(buf + HDR + 4, version_json, sizeof(version_json));
    if ((rc = write_full(fd, buf, h.msg_size)) < 0 ||
        (rc = read_full(fd, &h, HDR)) < 0)
        return rc;
    if (h.msg_size < HDR || h.msg_size - HDR > sizeof(buf) ||
        (h.flags & VFIO_USER_F_ERROR) || h.cmd != VFIO_USER_VERSION)
        return -EPROTO;
    return read_full(fd, buf, h.msg_size - HDR);
}

/* ------------------------------------------------------------ client */

/* The one client both servers get: blocking write() of each request,
 * blocking read() of each reply, inflight requests outstanding. Runs for
 * `seconds` (or exactly `count` messages when count > 0). Returns round
 * trips per second, or -errno. */
static double
drive(int fd, const struct op *op, unsigned inflight, double seconds,
      unsigned long count, unsigned long *done_out)
{
    uint8_t req[64], rep[64];
    unsigned long sent = 0, done = 0;
    bool sending = true;
    double t0, t1;
    int rc;

    build_request(op, req);
    t0 = now_sec();
    t1 = t0;
    for (; sent < inflight && (!count || sent < count); sent++) {
        uint16_t id = (uint16_t)sent;
        memcpy(req, &id, sizeof(id));
        if ((rc = write_full(fd, req, op->req_len)) < 0)
            return rc;
    }
    while (done < sent) {
        struct vfio_user_header h;

        if ((rc = read_full(fd, rep, op->reply_len)) < 0)
            return rc;
        memcpy(&h, rep, HDR);
        if ((h.flags & VFIO_USER_F_ERROR) || h.msg_size != op->reply_len)
            return -EPROTO;
        done++;
        if (count) {
            sending = sent < count;
        } else if (sending && !(done & 255)) {
            t1 = now_sec();
            sending = t1 - t0 < seconds;
        }
        if (sending) {
            uint16_t id = (uint16_t)sent;
            memcpy(req, &id, sizeof(id));
            if ((rc = write_full(fd, req, op->req_len)) < 0)
                return rc;
            sent++;
        }
    }
    t1 = now_sec();
    if (done_out)
        *done_out = done;
    return (double)done / (t1 - t0);
}

/* ------------------------------------------------------------ floor */

/* No protocol work: read the request's bytes, write the reply's bytes. */
static void
floor_serve(int lfd, const struct op *op)
{
    uint8_t req[64], rep[64];
    int fd;

    build_reply(op, rep);
    while ((fd = accept(lfd, NULL, NULL)) >= 0) {
        while (read_full(fd, req, op->req_len) == 0 &&
               write_full(fd, rep, op->reply_len) == 0)
            ;
        close(fd);
    }
    _exit(0);
}

/* ------------------------------------------------------------ device */

struct bench_dev {
    uint32_t regs[1024];
    unsigned long accesses;
    unsigned long stop_after; /* 0: serve until SIGTERM */
};

static int
bar0_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
            uint32_t count, bool is_write)
{
    struct bench_dev *bd = opaque;

    /* A register file as generated code has it: dword registers, other
     * widths byte by byte. */
    if (count == 4 && !(offset & 3)) {
        if (is_write)
            memcpy(&bd->regs[offset / 4], buf, 4);
        else
            memcpy(buf, &bd->regs[offset / 4], 4);
    } else {
        uint8_t *reg = (uint8_t *)bd->regs + offset;
        for (uint32_t i = 0; i < count; i++) {
            if (is_write)
                reg[i] = ((const uint8_t *)buf)[i];
            else
                ((uint8_t *)buf)[i] = reg[i];
        }
    }
    if (bd->stop_after && ++bd->accesses == bd->stop_after)
        vdev_stop(dev);
    return 0;
}

static void
on_term(int sig)
{
    got_term = 1;
    if (serve_dev)
        vdev_stop(serve_dev);
}

/* The benchmark device served by vdev_run until SIGTERM or `count`
 * register accesses. listen_fd >= 0: an inherited listening socket. */
static int
serve(const char *path, int listen_fd, unsigned long count)
{
    static struct bench_dev bd;
    struct vdev_pci_ident id = {
        .vendor_id = 0x1af4,
        .device_id = 0x10f0,
        .class_code = 0xff0000,
    };
    struct vdev_bar_desc bar = {
        .kind = VDEV_BAR_MEM32,
        .size = 4096,
        .access = bar0_access,
        .opaque = &bd,
    };
    struct sigaction sa = {.sa_handler = on_term};
    struct vdev_dev *dev;
    int rc;

    bd.stop_after = count;
    dev = vdev_dev_create(NULL, "bench", &id);
    if (!dev)
        return -ENOMEM;
    if ((rc = vdev_bar_add(dev, 0, &bar)) < 0)
        goto out;
    rc = listen_fd >= 0 ? vdev_listen_fd(dev, listen_fd)
                        : vdev_listen(dev, path);
    if (rc < 0)
        goto out;
    serve_dev = dev;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (!got_term)
        rc = vdev_run(dev);
out:
    serve_dev = NULL;
    talloc_free(dev);
    return rc;
}

/* ------------------------------------------------------------ driver */

struct server {
    pid_t pid;
    char path[108];
};

static int
start_floor(struct server *s, const char *dir, const struct op *op)
{
    int lfd;

    snprintf(s->path, sizeof(s->path), "%s/floor-%s", dir, op->name);
    if ((lfd = listen_at(s->path)) < 0)
        return lfd;
    s->pid = fork();
    if (s->pid < 0) {
        close(lfd);
        return -errno;
    }
    if (s->pid == 0)
        floor_serve(lfd, op);
    close(lfd);
    return 0;
}

/* A fresh process image (exec), so its RSS is the server's alone. */
static int
start_vdev(struct server *s, const char *dir, const char *self)
{
    char fdarg[16];
    int lfd;

    snprintf(s->path, sizeof(s->path), "%s/vdev", dir);
    if ((lfd = listen_at(s->path)) < 0)
        return lfd;
    snprintf(fdarg, sizeof(fdarg), "%d", lfd);
    s->pid = fork();
    if (s->pid < 0) {
        close(lfd);
        return -errno;
    }
    if (s->pid == 0) {
        execl(self, self, "--serve-fd", fdarg, (char *)NULL);
        _exit(127);
    }
    close(lfd);
    return 0;
}

static int
stop_server(struct server *s)
{
    int st;

    if (s->pid <= 0)
        return 0;
    kill(s->pid, SIGTERM);
    if (waitpid(s->pid, &st, 0) < 0)
        return -errno;
    s->pid = 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM ? 0 : -ECHILD;
}

/* CPU time a process has run, in ns (/proc/PID/schedstat), or -1. */
static long long
cpu_ns(pid_t pid)
{
    char path[64];
    long long ns = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
    if ((f = fopen(path, "r"))) {
        if (fscanf(f, "%lld", &ns) != 1)
            ns = -1;
        fclose(f);
    }
    return ns;
}

/* Server CPU time spent during the timed part, summed over runs. */
struct cpu_sum {
    long long ns;
    unsigned long msgs;
    bool valid;
};

/* One measurement on a fresh connection. */
static double
measure(const struct server *s, const struct op *op, bool vdev,
        unsigned inflight, double seconds, struct cpu_sum *cs)
{
    unsigned long done = 0;
    long long c0, c1;
    double rate;
    int fd = connect_to(s->path, 5000), rc;

    if (fd < 0)
        return fd;
    if (vdev && (rc = negotiate(fd)) < 0) {
        close(fd);
        return rc;
    }
    c0 = cpu_ns(s->pid);
    rate = drive(fd, op, inflight, seconds, 0, &done);
    c1 = cpu_ns(s->pid);
    close(fd);
    if (c0 < 0 || c1 < c0)
        cs->valid = false;
    cs->ns += c1 - c0;
    cs->msgs += done;
    return rate;
}

/* One measurement against a server started for it: where the scheduler
 * puts a long-lived server would otherwise favour one side for the whole
 * run. */
static double
measure_fresh(const char *dir, const char *self, const struct op *op, bool vdev,
              unsigned inflight, double seconds, struct cpu_sum *cs)
{
    struct server s = {0};
    double rate;
    int rc = vdev ? start_vdev(&s, dir, self) : start_floor(&s, dir, op);

    if (rc < 0)
        return rc;
    rate = measure(&s, op, vdev, inflight, seconds, cs);
    unlink(s.path);
    if ((rc = stop_server(&s)) < 0 && rate >= 0)
        rate = rc;
    return rate;
}

struct rss {
    long total, anon, file;
};

/* VmRSS and its parts from /proc/PID/status; -errno in total on error. */
static void
rss_read(pid_t pid, struct rss *r)
{
    char path[64], line[256];
    FILE *f;

    r->total = r->anon = r->file = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    if (!(f = fopen(path, "r"))) {
        r->total = -errno;
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        sscanf(line, "VmRSS: %ld kB", &r->total);
        sscanf(line, "RssAnon: %ld kB", &r->anon);
        sscanf(line, "RssFile: %ld kB", &r->file);
    }
    fclose(f);
    if (r->total < 0)
        r->total = -EPROTO;
}

/* self: the server binary. label: NULL for the judged figure, else the
 * name of an informational variant. */
static int
bench_rss(const char *dir, const char *self, const char *label)
{
    struct server s;
    struct rss r = {.total = -1};
    int fd, rc;

    if ((rc = start_vdev(&s, dir, self)) < 0)
        return rc;
    fd = connect_to(s.path, 5000);
    rc = fd < 0 ? fd : negotiate(fd);
    if (rc == 0) {
        rss_read(s.pid, &r);
        if (r.total < 0)
            rc = (int)r.total;
    }
    if (rc == 0 && label) {
        printf("rss_after_negotiation_%s_kib=%ld (VmRSS; anon_kib=%ld "
               "file_kib=%ld; for comparison, not judged)\n",
               label, r.total, r.anon, r.file);
    } else if (rc == 0) {
        printf("rss_after_negotiation_kib=%ld (VmRSS of the server, linked "
               "as model servers are; target <= %d) %s\n",
               r.total, RSS_TARGET_KIB,
               r.total <= RSS_TARGET_KIB ? "ok" : "MISSED");
        /* Shared-library text the kernel maps is most of it: say so. */
        printf("rss_after_negotiation_parts anon_kib=%ld file_kib=%ld\n",
               r.anon, r.file);
    }
    if (fd >= 0)
        close(fd);
    unlink(s.path);
    if (stop_server(&s) < 0 && rc == 0)
        rc = -ECHILD;
    return rc;
}

/* The same server linked dynamically (bench/build.mk), for comparison. */
static int
bench_rss_dynamic(const char *dir, const char *self)
{
    const char *slash = strrchr(self, '/');
    char path[4096];

    if (!slash)
        return 0;
    snprintf(path, sizeof(path), "%.*s/dynamic/bench_rtt", (int)(slash - self),
             self);
    if (access(path, X_OK) < 0)
        return 0;
    return bench_rss(dir, path, "dynamic");
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Other work on the machine moves these figures: say how busy it was. */
static void
print_load(void)
{
    double l1 = 0;
    FILE *f = fopen("/proc/loadavg", "r");

    if (f && fscanf(f, "%lf", &l1) == 1)
        printf("rtt machine: %ld CPUs online, load average %.2f (1 min) "
               "before the run\n",
               sysconf(_SC_NPROCESSORS_ONLN), l1);
    if (f)
        fclose(f);
}

static int
bench_all(const char *self, int runs, double seconds)
{
    static const unsigned inflights[] = {1, MAX_INFLIGHT};
    char dir[] = "/tmp/vdev-bench-XXXXXX";
    int rc = 0;

    if (!mkdtemp(dir))
        return -errno;
    print_load();
    for (unsigned o = 0; o < 2 && rc == 0; o++) {
        for (unsigned i = 0; i < 2 && rc == 0; i++) {
            const struct op *op = &ops[o];
            unsigned k = inflights[i];
            double best_f = 0, best_v = 0, target, median;
            struct cpu_sum cf = {.valid = true}, cv = {.valid = true};
            double *pair = calloc((size_t)runs, sizeof(*pair));

            if (!pair) {
                rc = -ENOMEM;
                break;
            }
            /* Short runs, floor and vdev in turn (who goes first
             * alternates), each against a fresh server, so load from
             * other processes on the machine hits both alike; the best
             * run of each shows what it can do, the median of the paired
             * ratios how steady that is. */
            for (int run = 0; run < runs; run++) {
                bool vfirst = run & 1;
                double v =
                    vfirst ? measure_fresh(dir, self, op, true, k, seconds, &cv)
                           : 0;
                double f = measure_fresh(dir, self, op, false, k, seconds, &cf);
                if (!vfirst && f >= 0)
                    v = measure_fresh(dir, self, op, true, k, seconds, &cv);
                if (f < 0 || v < 0) {
                    fprintf(stderr, "bench_rtt: %s inflight=%u: %s\n", op->name,
                            k, strerror((int)-(f < 0 ? f : v)));
                    rc = -EIO;
                    break;
                }
                best_f = f > best_f ? f : best_f;
                best_v = v > best_v ? v : best_v;
                pair[run] = v / f;
            }
            if (rc) {
                free(pair);
                break;
            }
            qsort(pair, (size_t)runs, sizeof(*pair), cmp_double);
            median = runs & 1 ? pair[runs / 2]
                              : (pair[runs / 2 - 1] + pair[runs / 2]) / 2;
            free(pair);
            target = k == 1 ? RATIO_1 : RATIO_16;
            printf("rtt %s inflight=%u floor=%.0f vdev=%.0f ratio=%.3f "
                   "(round trips/s, best of %d x %.2fs; target ratio >= "
                   "%.2f) %s; paired median ratio %.3f\n",
                   op->name, k, best_f, best_v, best_v / best_f, runs, seconds,
                   target, best_v / best_f >= target ? "ok" : "MISSED", median);
            /* Unlike the rates, CPU time hardly moves with other load. */
            if (cf.valid && cv.valid && cf.msgs && cv.msgs)
                printf("rtt %s inflight=%u server_cpu_ns_per_msg floor=%.0f "
                       "vdev=%.0f (user+kernel, for comparison)\n",
                       op->name, k, (double)cf.ns / (double)cf.msgs,
                       (double)cv.ns / (double)cv.msgs);
            fflush(stdout);
        }
    }
    if (rc == 0)
        rc = bench_rss(dir, self, NULL);
    if (rc == 0)
        rc = bench_rss_dynamic(dir, self);
    rmdir(dir);
    return rc;
}

/* --client PATH --count N [--inflight K] [--op read|write] [--version 0] */
static int
client_main(const char *path, unsigned long count, unsigned inflight,
            const struct op *op, bool version)
{
    int fd = connect_to(path, 60000), rc;
    double rate;

    if (fd < 0)
        return fd;
    if (version && (rc = negotiate(fd)) < 0) {
        close(fd);
        return rc;
    }
    rate = drive(fd, op, inflight, 0, count, NULL);
    close(fd);
    return rate < 0 ? (int)rate : 0;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: bench_rtt [--runs N] [--seconds S]   the whole benchmark\n"
            "       bench_rtt --serve PATH [--count N] | --serve-fd FD\n"
            "       bench_rtt --serve-floor PATH [--op read|write]\n"
            "       bench_rtt --client PATH --count N [--inflight K] "
            "[--op read|write]\n"
            "                 [--version 0]   (0: no VERSION, for the floor)\n"
            "                 [--region R --offset O --size S]   (default "
            "0, 4, 4)\n");
}

int
main(int argc, char **argv)
{
    const char *serve_path = NULL, *client_path = NULL, *floor_path = NULL;
    const struct op *op = &ops[0];
    unsigned long count = 0;
    unsigned inflight = 1;
    double seconds = SLICE_SEC;
    int serve_fd = -1, runs = RUNS, version = 1, rc;
    char self[4096];
    ssize_t n;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v) {
            usage();
            return 2;
        }
        i++;
        if (!strcmp(a, "--serve"))
            serve_path = v;
        else if (!strcmp(a, "--serve-floor"))
            floor_path = v;
        else if (!strcmp(a, "--serve-fd"))
            serve_fd = atoi(v);
        else if (!strcmp(a, "--client"))
            client_path = v;
        else if (!strcmp(a, "--count"))
            count = strtoul(v, NULL, 0);
        else if (!strcmp(a, "--inflight"))
            inflight = (unsigned)strtoul(v, NULL, 0);
        else if (!strcmp(a, "--version"))
            version = atoi(v);
        else if (!strcmp(a, "--runs"))
            runs = atoi(v);
        else if (!strcmp(a, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(a, "--region"))
            target_region = (uint32_t)strtoul(v, NULL, 0);
        else if (!strcmp(a, "--offset"))
            target_offset = strtoull(v, NULL, 0);
        else if (!strcmp(a, "--size"))
            target_count = (uint32_t)strtoul(v, NULL, 0);
        else if (!strcmp(a, "--op"))
            op = !strcmp(v, "write") ? &ops[1] : &ops[0];
        else {
            usage();
            return 2;
        }
    }
    if (inflight < 1 || inflight > MAX_INFLIGHT || seconds <= 0 || runs < 1 ||
        target_count < 1 || target_count > 8) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (floor_path) {
        int lfd = listen_at(floor_path);
        if (lfd < 0)
            rc = lfd;
        else
            floor_serve(lfd, op);
    } else if (serve_path || serve_fd >= 0)
        rc = serve(serve_path, serve_fd, count);
    else if (client_path) {
        /* The access's data is target_count bytes, not DATA. */
        struct op sized = *op;
        if (op->cmd == VFIO_USER_REGION_READ)
            sized.reply_len = op->reply_len - DATA + target_count;
        else
            sized.req_len = op->req_len - DATA + target_count;
        rc = count ? client_main(client_path, count, inflight, &sized, version)
                   : -EINVAL;
    } else {
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n < 0) {
            perror("bench_rtt: /proc/self/exe");
            return 1;
        }
        self[n] = '\0';
        rc = bench_all(self, runs, seconds);
    }
    if (rc < 0) {
        fprintf(stderr, "bench_rtt: %s\n", strerror(-rc));
        return 1;
    }
    return 0;
}
