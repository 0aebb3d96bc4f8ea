/* vdevc throughput: generates devices of 1,000 and 100,000 registers in
 * two mixes (plain registers; and a quarter with four fields, one in eight
 * with a hook, some of those using timers and FIFOs), times `vdevc -o X.c
 * --header=X.h` on each (best of 3), and prints registers/s and how the
 * per-register time grows (1.00 = linear). VDEV_BUILD=build
 * build/bench/bench_vdevc [--quick] Rates use the compiler's CPU time (user +
 * sys of the child), which a loaded machine disturbs far less than wall time;
 * wall time is shown too. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* mixed: most registers plain, a quarter with fields (one enum-typed),
 * one in eight with a hook (one in 32 starting a timer and pushing to a
 * FIFO, one in 32 popping one); one interrupt over two fields; one in
 * sixteen is a bank of two registers at one offset (`when`) whose write
 * hook calls a proc with a loop. plain: every register a plain rw one
 * with a reset value and a doc string. */
#define BENCH_TIMERS 32u
#define BENCH_FIFOS 16u

/* The timers, FIFOs and the proc the mixed device's hooks use. */
static void
write_host(FILE *f)
{
    fprintf(f, "    var events : 32;\n");
    for (unsigned i = 0; i < BENCH_TIMERS; i++)
        fprintf(f, "    timer t%u { on expire { events += 1; } }\n", i);
    for (unsigned i = 0; i < BENCH_FIFOS; i++)
        fprintf(f, "    fifo q%u[16] : 32;\n", i);
    fprintf(f, "    proc bump(v : 32) : 32 {\n"
               "        let r = v;\n"
               "        for i in 0 .. 4 { r = (r + i) & 0xffffffff; }\n"
               "        return r & 0xffffffff;\n    }\n");
}

static int
write_device(const char *path, unsigned n, bool mixed)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -errno;
    unsigned long long size = 16;
    while (size < n * 4ull + 64)
        size *= 2;
    fprintf(f,
            "// %u registers for bench_vdevc\n"
            "device bench {\n    vendor 0x1234;\n    device 0xbe00;\n"
            "    intx A;\n    enum mode { off = 0, low = 1, high = 2 }\n"
            "    interrupt 0 = r0.f0 & r0.f1;\n",
            n);
    if (mixed)
        write_host(f);
    fprintf(f, "    bar 0 mem64 size %llu {\n", size);
    for (unsigned i = 0; i < n; i++) {
        unsigned off = i * 4;
        if (!mixed && i > 0)
            fprintf(f, "        reg r%u @ 0x%x : 32 rw = 0x%x \"data %u\";\n",
                    i, off, i & 0xffff, i);
        else if (i % 4 == 0)
            fprintf(f,
                    "        reg r%u @ 0x%x : 32 \"status %u\" {\n"
                    "            field f0 [0] rw;\n"
                    "            field f1 [1] w1c;\n"
                    "            field m [3:2] rw : mode = mode.high;\n"
                    "            field v [15:8] ro = 0x%x;\n        }\n",
                    i, off, i, i & 0xff);
        else if (i % 16 == 3)
            fprintf(f,
                    "        reg r%u @ 0x%x : 32 rw when (r0.f0) {\n"
                    "            on write { events = bump(value); }\n"
                    "        }\n"
                    "        reg r%ub @ 0x%x : 32 rw when (!r0.f0);\n",
                    i, off, i, off);
        else if (i % 32 == 1)
            fprintf(f,
                    "        reg r%u @ 0x%x : 32 rw {\n"
                    "            on write { start t%u after value us; "
                    "q%u.push(value); }\n        }\n",
                    i, off, i / 32 % BENCH_TIMERS, i / 32 % BENCH_FIFOS);
        else if (i % 32 == 9)
            fprintf(f,
                    "        reg r%u @ 0x%x : 32 ro {\n"
                    "            on read { r%u = q%u.pop(); }\n        }\n",
                    i, off, i, i / 32 % BENCH_FIFOS);
        else if (i % 8 == 1)
            fprintf(f,
                    "        reg r%u @ 0x%x : 32 rw {\n"
                    "            on write { events += 1; r%u = value & "
                    "0xffff; }\n        }\n",
                    i, off, i);
        else
            fprintf(f, "        reg r%u @ 0x%x : 32 rw = 0x%x \"data %u\";\n",
                    i, off, i & 0xffff, i);
    }
    fprintf(f, "    }\n}\n");
    return fclose(f) == 0 ? 0 : -EIO;
}

struct timing {
    double wall, cpu;
};

static int
run_vdevc(const char *vdevc, const char *dir, const char *src, struct timing *t)
{
    char out[512], hdr[512];
    snprintf(out, sizeof out, "%s/bench.c", dir);
    snprintf(hdr, sizeof hdr, "--header=%s/bench.h", dir);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        execl(vdevc, vdevc, "-o", out, hdr, src, (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0)
        return -errno;
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -EINVAL;
    t->wall = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    t->cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
             (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    return 0;
}

static int
bench(const char *vdevc, const char *dir, unsigned n, bool mixed, int reps,
      struct timing *best)
{
    char src[512];
    snprintf(src, sizeof src, "%s/bench%u.vdev", dir, n);
    int rc = write_device(src, n, mixed);
    if (rc < 0)
        return rc;
    best->wall = best->cpu = 1e9;
    for (int i = 0; i < reps; i++) {
        struct timing t = {0};
        if ((rc = run_vdevc(vdevc, dir, src, &t)) < 0)
            return rc;
        if (t.cpu < best->cpu)
            best->cpu = t.cpu;
        if (t.wall < best->wall)
            best->wall = t.wall;
    }
    unlink(src);
    return 0;
}

int
main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const char *b = getenv("VDEV_BUILD");
    char vdevc[512], dir[] = "/tmp/bench-vdevc-XXXXXX";
    snprintf(vdevc, sizeof vdevc, "%s/bin/vdevc", b && *b ? b : "build");
    if (access(vdevc, X_OK) != 0 || mkdtemp(dir) == NULL) {
        fprintf(stderr, "bench_vdevc: no %s (set VDEV_BUILD)\n", vdevc);
        return 1;
    }
    const unsigned sizes[2] = {1000, quick ? 10000 : 100000};
    struct timing t[2][2];
    int rc = 0;
    for (int m = 0; m < 2 && rc == 0; m++) {
        for (int i = 0; i < 2 && rc == 0; i++) {
            rc = bench(vdevc, dir, sizes[i], m == 1, 3, &t[m][i]);
            if (rc == 0)
                printf("vdevc %-5s %6u registers: %8.1f ms cpu %8.1f ms wall"
                       "  %9.0f registers/s\n",
                       m ? "mixed" : "plain", sizes[i], t[m][i].cpu * 1e3,
                       t[m][i].wall * 1e3,
                       sizes[i] / (t[m][i].cpu > 0 ? t[m][i].cpu : 1e-6));
        }
        if (rc == 0) {
            double per0 = t[m][0].cpu / sizes[0], per1 = t[m][1].cpu / sizes[1];
            printf("vdevc %-5s per-register time, %u vs %u registers: x%.2f "
                   "(1.00 = linear)\n",
                   m ? "mixed" : "plain", sizes[1], sizes[0],
                   per0 > 0 ? per1 / per0 : 0);
        }
    }
    char path[600];
    snprintf(path, sizeof path, "%s/bench.c", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/bench.h", dir);
    unlink(path);
    rmdir(dir);
    if (rc != 0) {
        fprintf(stderr, "bench_vdevc: vdevc failed (%d)\n", rc);
        return 1;
    }
    return 0;
}
