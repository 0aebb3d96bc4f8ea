/* libvdev's conformance engine (vdev_check_run) against an in-memory fake
 * device: a faithful register file passes with every kind of access; each
 * planted bug fails, naming the register and the broken invariant; what a
 * hook may change (wself, taint lists) is not held against the device. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdev_check.h"

enum bug {
    BUG_NONE,
    BUG_RW_IGNORED,  /* ctrl ignores writes */
    BUG_W1C_STORES,  /* status's w1c bits take the written value */
    BUG_LANES,       /* a partial write clears the other lanes */
    BUG_RESET,       /* reset leaves ctrl alone */
    BUG_RESET_FAILS, /* DEVICE_RESET errors */
    BUG_HOOK,        /* a write of scratch also changes ctrl */
};

static const struct vdev_check_field fields[] = {
    {"ctrl", 0xffffffffu, VDEV_CHK_RW},
    {"status.done", 0xffu, VDEV_CHK_W1C},
    {"status.id", 0xff00u, VDEV_CHK_CONST},
    {"status (bits no field covers)", 0xffff0000u, VDEV_CHK_RESERVED},
    {"event", 0xff, VDEV_CHK_RC},
    {"wide", ~0ull, VDEV_CHK_RW},
    {"queue", 0xffffu, VDEV_CHK_RW},
    {"scratch", 0xffu, VDEV_CHK_RW},
};

static const uint32_t scratch_taint[] = {0}; /* ctrl */

static const struct vdev_check_reg regs[] = {
    {.name = "ctrl",
     .offset = 0,
     .size = 4,
     .rmask = 0xffffffffu,
     .rw = 0xffffffffu,
     .reset = 0x11223344u,
     .fields = &fields[0],
     .nr_fields = 1},
    {.name = "status",
     .offset = 4,
     .size = 4,
     .rmask = 0xffffu,
     .w1c = 0xffu,
     .cnst = 0xff00u,
     .reset = 0x5aa5u,
     .fields = &fields[1],
     .nr_fields = 3},
    {.name = "event",
     .bar = 1,
     .offset = 0,
     .size = 1,
     .rmask = 0xff,
     .rc = 0xff,
     .reset = 0x81,
     .fields = &fields[4],
     .nr_fields = 1},
    {.name = "wide",
     .offset = 8,
     .size = 8,
     .rmask = ~0ull,
     .rw = ~0ull,
     .fields = &fields[5],
     .nr_fields = 1},
    {.name = "queue",
     .offset = 0x20,
     .size = 2,
     .count = 4,
     .stride = 4,
     .rmask = 0xffffu,
     .rw = 0xffffu,
     .fields = &fields[6],
     .nr_fields = 1},
    {.name = "scratch",
     .offset = 0x30,
     .size = 1,
     .rmask = 0xff,
     .rw = 0xff,
     .fields = &fields[7],
     .nr_fields = 1},
};

static const struct vdev_check_device dev = {
    .name = "fake",
    .regs = regs,
    .nr_regs = sizeof(regs) / sizeof(regs[0]),
};

/* The fake: each register element's value, the access kinds applied per
 * byte lane, and the bug it was built with. */
struct fake {
    uint64_t val[6][4];
    enum bug bug;
    unsigned resets;
};

static void
fake_reset(struct fake *f)
{
    for (unsigned k = 0; k < dev.nr_regs; k++)
        for (unsigned i = 0; i < 4; i++)
            if (f->bug != BUG_RESET || k != 0)
                f->val[k][i] = regs[k].reset;
}

/* The element at bar/off, or false; *lane: the byte within it. */
static bool
locate(uint32_t bar, uint64_t off, unsigned *reg, unsigned *i, unsigned *lane)
{
    for (unsigned k = 0; k < dev.nr_regs; k++) {
        const struct vdev_check_reg *r = &regs[k];
        unsigned n = r->count > 1 ? r->count : 1;
        for (unsigned e = 0; e < n; e++) {
            uint64_t at = r->offset + (uint64_t)e * r->stride;
            if (r->bar == bar && off >= at && off < at + r->size) {
                *reg = k, *i = e, *lane = (unsigned)(off - at);
                return true;
            }
        }
    }
    return false;
}

static uint64_t
lanes(unsigned lane, uint32_t n)
{
    return (n >= 8 ? ~0ull : (1ull << (8 * n)) - 1) << (8 * lane);
}

static int
fake_read(void *opaque, uint32_t bar, uint64_t off, void *buf, uint32_t n)
{
    struct fake *f = opaque;
    unsigned k, i, lane;
    cr_assert(locate(bar, off, &k, &i, &lane), "read off 0x%llx",
              (unsigned long long)off);
    const struct vdev_check_reg *r = &regs[k];
    uint64_t v = f->val[k][i] & r->rmask, m = lanes(lane, n);
    f->val[k][i] &= ~(r->rc & m);
    f->val[k][i] |= r->rs & m;
    for (uint32_t b = 0; b < n; b++)
        ((uint8_t *)buf)[b] = (uint8_t)(v >> (8 * (lane + b)));
    return 0;
}

static int
fake_write(void *opaque, uint32_t bar, uint64_t off, const void *buf,
           uint32_t n)
{
    struct fake *f = opaque;
    unsigned k, i, lane;
    cr_assert(locate(bar, off, &k, &i, &lane));
    const struct vdev_check_reg *r = &regs[k];
    uint64_t v = 0, m = lanes(lane, n), *p = &f->val[k][i];
    for (uint32_t b = 0; b < n; b++)
        v |= (uint64_t)((const uint8_t *)buf)[b] << (8 * (lane + b));
    if (f->bug == BUG_RW_IGNORED && k == 0)
        return 0;
    uint64_t rw = f->bug == BUG_W1C_STORES ? r->rw | r->w1c : r->rw;
    uint64_t keep = f->bug == BUG_LANES ? ~rw : ~(rw & m);
    *p = (*p & keep) | (v & rw & m);
    if (f->bug != BUG_W1C_STORES)
        *p &= ~(v & r->w1c & m);
    *p |= v & r->w1s & m;
    if (f->bug == BUG_HOOK && k == 5)
        f->val[0][0] ^= 0x100;
    return 0;
}

static int
fake_reset_io(void *opaque)
{
    struct fake *f = opaque;
    f->resets++;
    if (f->bug == BUG_RESET_FAILS)
        return -EIO;
    fake_reset(f);
    return 0;
}

/* Runs the engine; *log gets what it reported. */
static int
run(struct fake *f, const struct vdev_check_device *d, uint64_t nrand,
    bool lane_accesses, char **log, uint64_t *checks)
{
    size_t len;
    FILE *err = open_memstream(log, &len);
    struct vdev_check_io io = {
        .read = fake_read,
        .write = fake_write,
        .reset = fake_reset_io,
        .opaque = f,
    };
    struct vdev_check_opts o = {
        .random = nrand, .seed = 7, .lanes = lane_accesses};
    memset(f->val, 0xee, sizeof(f->val));
    int rc = vdev_check_run(d, &io, &o, err, checks);
    fclose(err);
    return rc;
}

static void
expect_fail(enum bug bug, bool lane_accesses, const char *reg,
            const char *invariant)
{
    struct fake f = {.bug = bug};
    char *log;
    uint64_t checks;
    int rc = run(&f, &dev, 3000, lane_accesses, &log, &checks);
    cr_assert_eq(rc, 1, "bug %d: rc %d:\n%s", bug, rc, log);
    cr_assert_not_null(strstr(log, reg), "bug %d: no '%s' in:\n%s", bug, reg,
                       log);
    cr_assert_not_null(strstr(log, invariant), "bug %d: no '%s' in:\n%s", bug,
                       invariant, log);
    free(log);
}

Test(check_engine, faithful_device_passes)
{
    struct fake f = {0};
    char *log;
    uint64_t checks;
    cr_assert_eq(run(&f, &dev, 5000, true, &log, &checks), 0, "%s", log);
    cr_assert_gt(checks, 5000);
    cr_assert_str_empty(log);
    cr_assert_geq(f.resets, 2, "a reset first and last");
    free(log);
}

Test(check_engine, same_seed_same_run)
{
    struct fake f = {0};
    char *log;
    uint64_t a, b;
    cr_assert_eq(run(&f, &dev, 2000, true, &log, &a), 0);
    free(log);
    cr_assert_eq(run(&f, &dev, 2000, true, &log, &b), 0);
    free(log);
    cr_assert_eq(a, b);
}

Test(check_engine, rw_ignoring_writes_fails)
{
    expect_fail(BUG_RW_IGNORED, false, "FAIL register ctrl ",
                "rw bits keep what was written");
}

Test(check_engine, w1c_storing_fails)
{
    expect_fail(BUG_W1C_STORES, false, "field status.done [7:0] w1c",
                "w1c clears exactly the ones written");
}

Test(check_engine, stale_reset_value_fails)
{
    expect_fail(BUG_RESET, false, "register ctrl",
                "reset value holds after DEVICE_RESET");
}

/* Full-width accesses cannot see a lane bug; partial ones do. */
Test(check_engine, lane_bug_needs_lanes)
{
    struct fake f = {.bug = BUG_LANES};
    char *log;
    uint64_t checks;
    cr_assert_eq(run(&f, &dev, 3000, false, &log, &checks), 0, "%s", log);
    free(log);
    expect_fail(BUG_LANES, true, "to bytes", "rw bits keep what was written");
}

Test(check_engine, device_errors_are_negative)
{
    struct fake f = {.bug = BUG_RESET_FAILS};
    char *log;
    uint64_t checks;
    cr_assert_eq(run(&f, &dev, 0, false, &log, &checks), -EIO);
    cr_assert_not_null(strstr(log, "DEVICE_RESET"));
    free(log);
}

/* A write hook of scratch that changes ctrl fails the check unless the
 * table says scratch's writes may assign ctrl. */
Test(check_engine, hook_effects_are_not_violations)
{
    struct vdev_check_reg tainted[sizeof(regs) / sizeof(regs[0])];
    memcpy(tainted, regs, sizeof(regs));
    struct vdev_check_device d = dev;
    d.regs = tainted;
    expect_fail(BUG_HOOK, false, "FAIL register ctrl", "expected");
    tainted[5].wtaint = scratch_taint;
    tainted[5].nr_wtaint = 1;
    struct fake f = {.bug = BUG_HOOK};
    char *log;
    uint64_t checks;
    cr_assert_eq(run(&f, &d, 3000, true, &log, &checks), 0, "%s", log);
    free(log);
}

Test(check_engine, no_registers)
{
    struct vdev_check_device empty = {.name = "none"};
    struct fake f = {0};
    char *log;
    uint64_t checks;
    cr_assert_eq(run(&f, &empty, 100, true, &log, &checks), 0);
    cr_assert_eq(checks, 0);
    free(log);
}
