/* Guest-side latency of one BAR register: N reads, then N writes, timed
 * with clock_gettime inside the guest, for several devices in rounds that
 * alternate between them (so drift on a shared host hits all alike), each
 * round starting at the next device; the
 * median round of each is printed as "VDEV-BENCH LABEL read_ns=R
 * write_ns=W n=N rounds=K". Nothing is judged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg.h"

#define MAX_TARGETS 4
#define MAX_ROUNDS 15

struct target {
    char label[32];
    char bdf[32];
    unsigned bar, width;
    uint64_t off;
    struct vg_bar map;
    double read_ns[MAX_ROUNDS], write_ns[MAX_ROUNDS];
};

/* LABEL=BDF[:BAR:OFFSET:WIDTH]; BAR 2, offset 0, width 1 by default. */
static int
parse_target(const char *arg, struct target *t)
{
    const char *eq = strchr(arg, '='), *colon;
    size_t bdf_len;
    long off = 0;

    memset(t, 0, sizeof(*t));
    t->bar = 2;
    t->width = 1;
    if (!eq || (size_t)(eq - arg) >= sizeof(t->label))
        return -EINVAL;
    memcpy(t->label, arg, (size_t)(eq - arg));
    /* A BDF has two colons (0000:00:05.0); options follow the third. */
    colon = strchr(eq + 1, ':');
    colon = colon ? strchr(colon + 1, ':') : NULL;
    colon = colon ? strchr(colon + 1, ':') : NULL;
    bdf_len = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
    if (bdf_len >= sizeof(t->bdf))
        return -EINVAL;
    memcpy(t->bdf, eq + 1, bdf_len);
    if (colon && sscanf(colon + 1, "%u:%li:%u", &t->bar, &off, &t->width) != 3)
        return -EINVAL;
    t->off = (uint64_t)off;
    return 0;
}

static double
time_accesses(const struct target *t, unsigned n, bool write)
{
    uint64_t t0 = vg_now_ns();

    for (unsigned i = 0; i < n; i++) {
        if (write)
            vg_write(&t->map, t->off, t->width, 0);
        else
            (void)vg_read(&t->map, t->off, t->width);
    }
    return (double)(vg_now_ns() - t0) / n;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The rounds stay in order (they are printed one by one too). */
static double
median(const double *v, unsigned n)
{
    double s[MAX_ROUNDS];

    memcpy(s, v, n * sizeof(*v));
    qsort(s, n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int
vg_bench_main(int argc, char **argv)
{
    static struct target ts[MAX_TARGETS];
    unsigned n, rounds, nt = 0;

    if (argc < 4)
        return vg_result("bench.usage", false,
                         "bench N ROUNDS LABEL=BDF[:BAR:OFFSET:WIDTH]..."),
               1;
    n = (unsigned)strtoul(argv[1], NULL, 0);
    rounds = (unsigned)strtoul(argv[2], NULL, 0);
    if (!n || !rounds || rounds > MAX_ROUNDS || argc - 3 > MAX_TARGETS)
        return vg_result("bench.usage", false, "bad N or ROUNDS"), 1;
    for (int i = 3; i < argc; i++, nt++) {
        struct target *t = &ts[nt];
        int rc = parse_target(argv[i], t);

        if (rc == 0)
            rc = vg_pci_enable(t->bdf, false);
        if (rc == 0)
            rc = vg_bar_map(t->bdf, t->bar, &t->map);
        if (rc < 0)
            return vg_result("bench.setup", false, "%s: %s", argv[i],
                             strerror(-rc)),
                   1;
        time_accesses(t, n / 10 + 1, false); /* warm up */
    }
    /* Each round starts at the next target: a device's place in the
     * round (after which other, after how long a pause) is not its
     * result. */
    for (unsigned r = 0; r < rounds; r++)
        for (unsigned k = 0; k < nt; k++) {
            struct target *t = &ts[(r + k) % nt];

            t->read_ns[r] = time_accesses(t, n, false);
            t->write_ns[r] = time_accesses(t, n, true);
        }
    for (unsigned i = 0; i < nt; i++) {
        struct target *t = &ts[i];
        double rd = median(t->read_ns, rounds),
               wr = median(t->write_ns, rounds);

        printf("VDEV-BENCH %s read_ns=%.0f write_ns=%.0f n=%u rounds=%u "
               "bdf=%s bar=%u off=0x%llx width=%u\n",
               t->label, rd, wr, n, rounds, t->bdf, t->bar,
               (unsigned long long)t->off, t->width);
        char name[48];

        snprintf(name, sizeof(name), "bench.%.31s", t->label);
        vg_result(name, true,
                  "%s: BAR%u+0x%llx, %u-byte: read %.0f ns, write %.0f ns",
                  t->label, t->bar, (unsigned long long)t->off, t->width, rd,
                  wr);
    }
    /* Every round too: the rounds alternate between the devices, so the
     * host's drift cancels in the ratio of one round's figures. */
    for (unsigned i = 0; i < nt; i++)
        for (unsigned r = 0; r < rounds; r++)
            printf("VDEV-BENCH-ROUND %s %u read_ns=%.0f write_ns=%.0f\n",
                   ts[i].label, r, ts[i].read_ns[r], ts[i].write_ns[r]);
    fflush(stdout);
    return 0;
}
