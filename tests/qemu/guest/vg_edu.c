/* edu scenario: the same checks against QEMU's built-in edu (the reference)
 * and our edu server, in one guest; every value one device shows must be
 * what the other shows. Each check group records a list of observations
 * per device, then the two lists are compared entry by entry. Both devices
 * are bound to uio_pci_generic (INTx) and have bus mastering on. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vg.h"

#define MAX_OBS 160
#define DMA_BUF 0x40000u /* the device address of edu's 4 KiB buffer */
#define PAGE 4096u
/* Each device gets its own 16 KiB of the reserved RAM (memmap=). */
#define DMA_SLICE 0x4000u

struct obs {
    char what[80];
    uint64_t val;
};

struct obs_log {
    struct obs o[MAX_OBS];
    unsigned n;
};

struct edu {
    const char *name; /* "qemu" or "ours" */
    const char *bdf;
    struct vg_bar bar;
    int uio;               /* /dev/uioN */
    volatile uint8_t *ram; /* this device's DMA slice */
    uint64_t ram_phys;
    unsigned sanity_fails;
};

static void
rec(struct obs_log *l, uint64_t val, const char *fmt, ...)
{
    va_list ap;

    if (l->n == MAX_OBS)
        return;
    va_start(ap, fmt);
    vsnprintf(l->o[l->n].what, sizeof(l->o[l->n].what), fmt, ap);
    va_end(ap);
    l->o[l->n++].val = val;
}

/* What the spec says regardless of the other device: guards against both
 * devices being broken the same way (e.g. a BAR that is not decoded). */
static void
expect(struct edu *d, bool ok, const char *fmt, ...)
{
    char what[200];
    va_list ap;

    if (ok)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    d->sanity_fails++;
    vg_result("edu.spec", false, "%s: %s", d->name, what);
}

static uint64_t
rd(struct edu *d, uint64_t off, unsigned width)
{
    return vg_read(&d->bar, off, width);
}

static void
wr(struct edu *d, uint64_t off, unsigned width, uint64_t val)
{
    vg_write(&d->bar, off, width, val);
}

/* ---------------------------------------------------------------- uio */

static int
uio_open(const char *bdf)
{
    char path[256], dev[300] = "";
    struct dirent *e;
    DIR *dir;
    int fd;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/uio", bdf);
    dir = opendir(path);
    if (!dir)
        return -errno;
    while ((e = readdir(dir)))
        if (!strncmp(e->d_name, "uio", 3))
            snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
    closedir(dir);
    if (!dev[0])
        return -ENOENT;
    fd = open(dev, O_RDWR | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* 1 when an interrupt arrived within MS, else 0. */
static int
irq_wait(struct edu *d, unsigned ms)
{
    struct pollfd p = {.fd = d->uio, .events = POLLIN};
    uint32_t count;

    if (poll(&p, 1, (int)ms) != 1)
        return 0;
    return read(d->uio, &count, 4) == 4;
}

/* uio_pci_generic masks INTx (command bit 10) in its handler and has no
 * irqcontrol: the user clears the bit through config space. */
static void
irq_unmask(struct edu *d)
{
    char path[256];
    uint16_t cmd;
    int fd;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", d->bdf);
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || pread(fd, &cmd, 2, 4) != 2 ||
        (cmd &= (uint16_t)~0x400, pwrite(fd, &cmd, 2, 4) != 2))
        expect(d, false, "unmasking INTx: %s", strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* Polls status.computing / dma_cmd.start until clear, for at most 5 s;
 * QEMU's edu takes a thread switch and a 100 ms timer for them. */
static uint64_t
wait_clear(struct edu *d, uint64_t off, uint64_t bit)
{
    uint64_t end = vg_now_ns() + 5000000000ull, v;

    while ((v = rd(d, off, 4)) & bit && vg_now_ns() < end)
        vg_sleep_ms(5);
    return v;
}

/* --------------------------------------------------------- check groups */

static void
grp_read4(struct edu *d, struct obs_log *l)
{
    static const uint64_t far[] = {0x100, 0x1000, 0x80000, 0xffffc};

    for (uint64_t off = 0; off < 0xa0; off += 4)
        rec(l, rd(d, off, 4), "4-byte read @0x%02llx", (unsigned long long)off);
    for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++)
        rec(l, rd(d, far[i], 4), "4-byte read @0x%llx",
            (unsigned long long)far[i]);
    expect(d, rd(d, 0, 4) == 0x010000ed, "id reads 0x%08llx",
           (unsigned long long)rd(d, 0, 4));
}

static void
grp_read8(struct edu *d, struct obs_log *l)
{
    for (uint64_t off = 0; off < 0xa0; off += 8)
        rec(l, rd(d, off, 8), "8-byte read @0x%02llx", (unsigned long long)off);
}

static void
grp_liveness(struct edu *d, struct obs_log *l)
{
    static const uint32_t vals[] = {0, 0x12345678, 0xffffffff, 0xdeadbeef, 1};

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint64_t v;

        wr(d, 0x04, 4, vals[i]);
        v = rd(d, 0x04, 4);
        rec(l, v, "liveness after writing 0x%08x", vals[i]);
        expect(d, v == (uint32_t)~vals[i], "liveness 0x%08x reads 0x%08llx",
               vals[i], (unsigned long long)v);
    }
}

static void
grp_factorial(struct edu *d, struct obs_log *l)
{
    /* QEMU's edu multiplies n times: no huge n, it would compute for
     * seconds. */
    static const uint32_t ns[] = {0, 1, 5, 12, 13, 20, 33, 34, 100};

    for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        uint64_t st, v;

        wr(d, 0x08, 4, ns[i]);
        st = wait_clear(d, 0x20, 0x1);
        v = rd(d, 0x08, 4);
        rec(l, st, "status after %u!", ns[i]);
        rec(l, v, "%u!", ns[i]);
        if (ns[i] == 5)
            expect(d, v == 120, "5! reads %llu", (unsigned long long)v);
    }
}

static void
grp_status(struct edu *d, struct obs_log *l)
{
    static const uint32_t vals[] = {0x80, 0xff, 0x7f, 0x01, 0xffffffff, 0};

    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        wr(d, 0x20, 4, vals[i]);
        rec(l, rd(d, 0x20, 4), "status after writing 0x%08x", vals[i]);
    }
}

/* Writes to read-only or unassigned registers. */
static void
grp_ignored_writes(struct edu *d, struct obs_log *l)
{
    static const uint64_t offs[] = {0x00, 0x24, 0x0c, 0x28, 0x40, 0xa0};

    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        wr(d, offs[i], 4, 0x5a5a5a5a);
        rec(l, rd(d, offs[i], 4), "4-byte write then read @0x%02llx",
            (unsigned long long)offs[i]);
    }
}

/* 8-byte accesses to the 32-bit registers below 0x80. */
static void
grp_write8_low(struct edu *d, struct obs_log *l)
{
    static const uint64_t offs[] = {0x00, 0x08, 0x20};

    wr(d, 0x04, 4, 0);
    wr(d, 0x20, 4, 0);
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        wr(d, offs[i], 8, 0x1111111122222222ull);
        wait_clear(d, 0x20, 0x1);
        rec(l, rd(d, 0x04, 4), "liveness after 8-byte write @0x%02llx",
            (unsigned long long)offs[i]);
        rec(l, rd(d, 0x08, 4), "fact after 8-byte write @0x%02llx",
            (unsigned long long)offs[i]);
        rec(l, rd(d, 0x20, 4), "status after 8-byte write @0x%02llx",
            (unsigned long long)offs[i]);
        wr(d, 0x20, 4, 0);
    }
}

/* The 64-bit DMA registers: whole, and by 4-byte halves. */
static void
grp_dma_regs(struct edu *d, struct obs_log *l)
{
    static const uint64_t offs[] = {0x80, 0x88, 0x90};

    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        unsigned long long o = (unsigned long long)offs[i];
        uint64_t v;

        wr(d, offs[i], 8, 0x0123456789abcdefull);
        v = rd(d, offs[i], 8);
        rec(l, v, "8-byte write, 8-byte read @0x%llx", o);
        expect(d, v == 0x0123456789abcdefull, "@0x%llx reads 0x%016llx", o,
               (unsigned long long)v);
        rec(l, rd(d, offs[i], 4), "then 4-byte read @0x%llx", o);
        rec(l, rd(d, offs[i] + 4, 4), "then 4-byte read @0x%llx", o + 4);
        wr(d, offs[i], 4, 0x11223344);
        rec(l, rd(d, offs[i], 8), "4-byte write @0x%llx, 8-byte read", o);
        wr(d, offs[i] + 4, 4, 0x55667788);
        rec(l, rd(d, offs[i], 8), "4-byte write @0x%llx, 8-byte read", o + 4);
        wr(d, offs[i], 8, 0);
    }
    /* dma_cmd without the start bit. */
    wr(d, 0x98, 4, 0x6);
    rec(l, rd(d, 0x98, 8), "dma_cmd after 4-byte write 0x6");
    wr(d, 0x98, 8, 0x2);
    rec(l, rd(d, 0x98, 8), "dma_cmd after 8-byte write 0x2");
}

/* 1- and 2-byte accesses, outside what QEMU's edu declares valid. */
static void
grp_narrow(struct edu *d, struct obs_log *l)
{
    wr(d, 0x04, 4, 0x0f0f0f0f);
    for (unsigned w = 1; w <= 2; w <<= 1) {
        rec(l, rd(d, 0x00, w), "%u-byte read @0x00", w);
        rec(l, rd(d, 0x04, w), "%u-byte read @0x04", w);
        wr(d, 0x04, w, 0);
        rec(l, rd(d, 0x04, 4), "liveness after %u-byte write", w);
    }
}

static void
grp_irq(struct edu *d, struct obs_log *l)
{
    int got;

    rec(l, rd(d, 0x24, 4), "irq_status at start");
    wr(d, 0x60, 4, 0x10);
    got = irq_wait(d, 5000);
    rec(l, (uint64_t)got, "interrupt after raise 0x10");
    expect(d, got, "no interrupt after raise 0x10");
    rec(l, rd(d, 0x24, 4), "irq_status after raise 0x10");
    wr(d, 0x64, 4, 0x10);
    rec(l, rd(d, 0x24, 4), "irq_status after ack 0x10");
    irq_unmask(d);
    rec(l, (uint64_t)irq_wait(d, 300), "interrupt after ack and unmask");

    /* Raised twice, acknowledged in two steps: the level stays up. */
    wr(d, 0x60, 4, 0x3);
    rec(l, (uint64_t)irq_wait(d, 5000), "interrupt after raise 0x3");
    wr(d, 0x60, 4, 0x4);
    rec(l, rd(d, 0x24, 4), "irq_status after raise 0x4");
    wr(d, 0x64, 4, 0x3);
    irq_unmask(d);
    got = irq_wait(d, 5000);
    rec(l, (uint64_t)got, "interrupt on unmask with 0x4 pending");
    expect(d, got, "a pending level was not signalled on unmask");
    wr(d, 0x64, 4, 0x4);
    rec(l, rd(d, 0x24, 4), "irq_status after ack 0x4");
    irq_unmask(d);
    rec(l, (uint64_t)irq_wait(d, 300), "interrupt after all acked");

    /* Factorial with status.irq_fact. */
    wr(d, 0x20, 4, 0x80);
    wr(d, 0x08, 4, 6);
    got = irq_wait(d, 5000);
    rec(l, (uint64_t)got, "interrupt after 6! with irq_fact");
    rec(l, rd(d, 0x24, 4), "irq_status after 6!");
    rec(l, rd(d, 0x08, 4), "6!");
    wr(d, 0x64, 4, 0x1);
    wr(d, 0x20, 4, 0);
    irq_unmask(d);
    rec(l, (uint64_t)irq_wait(d, 300), "interrupt after ack 0x1");
}

static uint32_t
checksum(const volatile uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* One transfer; the dma_cmd value once done. */
static uint64_t
dma(struct edu *d, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
    wr(d, 0x80, 8, src);
    wr(d, 0x88, 8, dst);
    wr(d, 0x90, 8, cnt);
    wr(d, 0x98, 8, cmd);
    return wait_clear(d, 0x98, 0x1);
}

static void
grp_dma(struct edu *d, struct obs_log *l)
{
    volatile uint8_t *a = d->ram, *b = d->ram + PAGE;
    uint64_t pa = d->ram_phys, pb = d->ram_phys + PAGE;
    int got;

    for (unsigned i = 0; i < PAGE; i++) {
        a[i] = (uint8_t)(i * 7 + 3);
        b[i] = 0;
    }
    rec(l, dma(d, pa, DMA_BUF, PAGE, 0x1), "dma_cmd after RAM->buffer 4 KiB");
    rec(l, dma(d, DMA_BUF, pb, PAGE, 0x3), "dma_cmd after buffer->RAM 4 KiB");
    rec(l, checksum(b, PAGE), "RAM checksum after the round trip");
    expect(d, checksum(a, PAGE) == checksum(b, PAGE),
           "4 KiB RAM->buffer->RAM round trip changed the data");

    /* Partial transfers at odd offsets. */
    for (unsigned i = 0; i < PAGE; i++)
        b[i] = 0;
    dma(d, pa + 100, DMA_BUF + 200, 300, 0x1);
    dma(d, DMA_BUF + 150, pb + 1000, 400, 0x3);
    rec(l, checksum(b, PAGE), "RAM checksum after partial transfers");
    expect(d,
           b[1000 + 50] == a[100] && b[1000 + 349] == a[399] && b[999] == 0 &&
               b[1400] == 0,
           "partial transfers put the wrong bytes in RAM");
    rec(l, rd(d, 0x80, 8), "dma_src after");
    rec(l, rd(d, 0x88, 8) - pb, "dma_dst after, from the RAM page");
    rec(l, rd(d, 0x90, 8), "dma_count after");

    /* Completion interrupt. */
    rec(l, dma(d, pa, DMA_BUF, 64, 0x5), "dma_cmd after a transfer with irq");
    got = irq_wait(d, 5000);
    rec(l, (uint64_t)got, "interrupt after the transfer");
    expect(d, got, "no interrupt after a DMA with the irq bit");
    rec(l, rd(d, 0x24, 4), "irq_status after the transfer");
    wr(d, 0x64, 4, 0x100);
    irq_unmask(d);
    rec(l, (uint64_t)irq_wait(d, 300), "interrupt after ack 0x100");
}

static const struct group {
    const char *name;
    void (*fn)(struct edu *d, struct obs_log *l);
    const char *what;
} groups[] = {
    {"read4", grp_read4, "4-byte reads of 0x00-0x9c and far offsets"},
    {"read8", grp_read8, "8-byte reads of 0x00-0x98"},
    {"liveness", grp_liveness, "liveness"},
    {"factorial", grp_factorial, "factorial"},
    {"status", grp_status, "status writes"},
    {"ignored-writes", grp_ignored_writes, "writes to ro/unassigned offsets"},
    {"write8-low", grp_write8_low, "8-byte writes below 0x80"},
    {"dma-regs", grp_dma_regs, "64-bit DMA registers, whole and by halves"},
    {"narrow", grp_narrow, "1- and 2-byte accesses"},
    {"irq", grp_irq, "INTx raise/ack through uio_pci_generic"},
    {"dma", grp_dma, "DMA both ways"},
};

static void
compare(const struct group *g, const struct obs_log *ref,
        const struct obs_log *ours)
{
    char name[64], diff[400] = "";
    size_t used = 0;
    unsigned bad = 0;

    snprintf(name, sizeof(name), "edu.%s", g->name);
    for (unsigned i = 0; i < ref->n && i < ours->n; i++) {
        if (ref->o[i].val == ours->o[i].val)
            continue;
        vg_note("edu.%s: %s: qemu 0x%llx, ours 0x%llx", g->name, ref->o[i].what,
                (unsigned long long)ref->o[i].val,
                (unsigned long long)ours->o[i].val);
        if (bad++ < 3 && used < sizeof(diff))
            used += (size_t)snprintf(diff + used, sizeof(diff) - used,
                                     "%s%s: qemu 0x%llx, ours 0x%llx",
                                     bad > 1 ? "; " : "", ref->o[i].what,
                                     (unsigned long long)ref->o[i].val,
                                     (unsigned long long)ours->o[i].val);
    }
    if (ref->n != ours->n)
        vg_result(name, false, "%u observations from qemu, %u from ours",
                  ref->n, ours->n);
    else if (bad)
        vg_result(name, false, "%u of %u differ: %s", bad, ref->n, diff);
    else
        vg_result(name, true, "%s: %u observations agree", g->what, ref->n);
}

static int
edu_open(struct edu *d, const char *name, const char *bdf, int memfd,
         uint64_t phys)
{
    int rc;

    memset(d, 0, sizeof(*d));
    d->name = name;
    d->bdf = bdf;
    d->ram_phys = phys;
    rc = vg_pci_enable(bdf, true);
    if (rc == 0)
        rc = vg_bar_map(bdf, 0, &d->bar);
    if (rc < 0)
        return vg_result("edu.setup", false, "%s (%s): BAR0: %s", name, bdf,
                         strerror(-rc)),
               rc;
    d->uio = uio_open(bdf);
    if (d->uio < 0)
        return vg_result("edu.setup", false,
                         "%s (%s): uio_pci_generic not bound: %s", name, bdf,
                         strerror(-d->uio)),
               d->uio;
    d->ram = mmap(NULL, DMA_SLICE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd,
                  (off_t)phys);
    if (d->ram == MAP_FAILED)
        return vg_result("edu.setup", false, "mmap /dev/mem @0x%llx: %s",
                         (unsigned long long)phys, strerror(errno)),
               -errno;
    return 0;
}

int
vg_edu_main(int argc, char **argv)
{
    static struct obs_log ref_log, ours_log;
    struct edu ref, ours;
    uint64_t phys;
    int memfd;

    if (argc != 4)
        return vg_result("edu.usage", false, "edu REF_BDF OURS_BDF DMA_PHYS"),
               1;
    phys = strtoull(argv[3], NULL, 0);
    memfd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
    if (memfd < 0)
        return vg_result("edu.setup", false, "/dev/mem: %s", strerror(errno)),
               1;
    if (edu_open(&ref, "qemu", argv[1], memfd, phys) < 0 ||
        edu_open(&ours, "ours", argv[2], memfd, phys + DMA_SLICE) < 0)
        return 1;
    vg_result("edu.setup", true,
              "qemu's edu %s and ours %s mapped, uio bound, DMA RAM @0x%llx",
              argv[1], argv[2], (unsigned long long)phys);
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        ref_log.n = ours_log.n = 0;
        groups[i].fn(&ref, &ref_log);
        groups[i].fn(&ours, &ours_log);
        compare(&groups[i], &ref_log, &ours_log);
    }
    if (!ref.sanity_fails && !ours.sanity_fails)
        vg_result("edu.spec", true,
                  "both devices meet docs/specs/edu.rst's expectations");
    return vg_failures() ? 1 : 0;
}
