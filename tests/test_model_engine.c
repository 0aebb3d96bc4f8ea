/* libvdev's register engine (vdev_model_add, runtime/host/model.c) on a
 * hand-written model: dispatch by offset (interleaved arrays, gaps, memory
 * areas, accesses spanning several registers), access kinds per byte
 * lane, what hooks see, interrupt re-evaluation, reset, named values. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <unistd.h>

#include "device/device.h"
#include "vdev_client.h"
#include "vdev_model.h"

struct st {
    uint32_t ctrl;
    uint8_t flags;
    uint16_t even[4], odd[4]; /* interleaved: even @ 0x10 + 4i, odd +2 */
    uint64_t wide;
};

static struct {
    unsigned writes, reads, irq_calls;
    struct vdev_reg_access last;
    uint64_t which;
} seen;

static void
on_write(struct vdev_dev *dev, const struct vdev_reg_access *a)
{
    seen.writes++;
    seen.last = *a;
}

static void
on_read(struct vdev_dev *dev, const struct vdev_reg_access *a)
{
    seen.reads++;
    seen.last = *a;
}

static void
update_irqs(struct vdev_dev *dev, uint64_t which)
{
    seen.irq_calls++;
    seen.which |= which;
}

static void
reset_values(struct vdev_dev *dev, void *state)
{
    struct st *s = state;
    memset(s, 0, sizeof(*s));
    s->ctrl = 0x11223344;
}

static const struct vdev_reg bar0_regs[] = {
    {.offset = 0,
     .state = offsetof(struct st, ctrl),
     .size = 4,
     .rmask = 0xffffffffu,
     .rw = 0xffff00ffu,
     .w1c = 0xff00u,
     .irqs_write = 2,
     .on_write = on_write},
    {.offset = 4,
     .state = offsetof(struct st, flags),
     .size = 1,
     .rmask = 0xff,
     .rc = 0x0f,
     .rs = 0x80,
     .irqs_read = 1,
     .on_read = on_read},
    {.offset = 8,
     .state = offsetof(struct st, wide),
     .size = 8,
     .rmask = ~0ull,
     .rw = ~0ull},
    {.offset = 0x10,
     .state = offsetof(struct st, even),
     .size = 2,
     .count = 4,
     .stride = 4,
     .rmask = 0xffff,
     .rw = 0xffff,
     .on_write = on_write},
    {.offset = 0x12,
     .state = offsetof(struct st, odd),
     .size = 2,
     .count = 4,
     .stride = 4,
     .rmask = 0xffff,
     .rw = 0xffff},
};

static const struct vdev_mmap_area bar0_areas[] = {
    {.offset = 0x1000, .size = 0x1000},
};

static const struct vdev_model_bar bars[] = {
    {.index = 0,
     .kind = VDEV_BAR_MEM32,
     .size = 0x4000,
     .regs = bar0_regs,
     .nr_regs = sizeof(bar0_regs) / sizeof(bar0_regs[0]),
     .areas = bar0_areas,
     .nr_areas = 1},
};

static const struct vdev_var vars[] = {
    VDEV_STATE_VAR(struct st, ctrl, "ctrl", 0, 32, NULL),
    VDEV_STATE_VAR(struct st, ctrl, "ctrl.hi", 16, 16, "bits 31:16"),
};

static const struct vdev_model model = {
    .name = "engine",
    .version = 1,
    .state_size = sizeof(struct st),
    .bars = bars,
    .nr_bars = 1,
    .vars = vars,
    .nr_vars = 2,
    .reset_values = reset_values,
    .update_irqs = update_irqs,
    .all_irqs = 3,
};

static struct vdev_dev *dev;
static struct st s;

static void
setup(void)
{
    static const struct vdev_pci_ident id = {.vendor_id = 0x1234,
                                             .device_id = 0x5678};
    memset(&seen, 0, sizeof(seen));
    dev = vdev_dev_create(NULL, "engine", &id);
    cr_assert_not_null(dev);
    cr_assert_eq(vdev_model_add(dev, &model, &s), 0);
}

static void
teardown(void)
{
    talloc_free(dev);
}

TestSuite(model_engine, .init = setup, .fini = teardown);

static uint64_t
rd(uint64_t off, unsigned n)
{
    uint8_t b[16] = {0};
    uint64_t v = 0;
    cr_assert_eq(vdev_region_access(dev, 0, off, b, n, false), 0);
    for (unsigned i = 0; i < n && i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void
wr(uint64_t off, unsigned n, uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    cr_assert_eq(vdev_region_access(dev, 0, off, b, n, true), 0);
}

Test(model_engine, reset_values_and_reset)
{
    cr_assert_eq(s.ctrl, 0x11223344, "vdev_model_add fills the state");
    s.ctrl = 0;
    s.wide = 5;
    vdev_reset(dev);
    cr_assert_eq(s.ctrl, 0x11223344);
    cr_assert_eq(s.wide, 0);
    cr_assert_eq(seen.which, 3, "reset re-evaluates every interrupt");
}

Test(model_engine, access_kinds_by_lane)
{
    /* rw bytes 0, 2, 3; w1c byte 1 */
    wr(0, 4, 0x0000ff00);
    cr_assert_eq(s.ctrl, 0, "rw takes the zeros, w1c clears the ones written");
    s.ctrl = 0xaabbccdd;
    wr(2, 1, 0x55);
    cr_assert_eq(s.ctrl, 0xaa55ccdd, "a byte write changes only its lane");
    cr_assert_eq(seen.last.mask, 0xff0000);
    cr_assert_eq(seen.last.old, 0xaabbccdd);
    cr_assert_eq(seen.last.value, 0xaa55ccdd);
    cr_assert_eq(seen.which, 2);
}

Test(model_engine, read_side_effects)
{
    s.flags = 0x3c;
    cr_assert_eq(rd(4, 1), 0x3c, "a read returns the value before rc/rs");
    cr_assert_eq(s.flags, 0xb0, "then rc clears, rs sets");
    cr_assert_eq(seen.reads, 1);
    cr_assert_eq(seen.which, 1);
}

Test(model_engine, interleaved_arrays_and_gaps)
{
    wr(0x10 + 3 * 4, 2, 0xbeef);
    wr(0x12 + 1 * 4, 2, 0xcafe);
    cr_assert_eq(s.even[3], 0xbeef);
    cr_assert_eq(s.odd[1], 0xcafe);
    cr_assert_eq(seen.last.i, 3, "the hook sees the element");
    /* one access across even[0], odd[0], even[1]: each part its own */
    wr(0x10, 6, 0x333322221111ull);
    cr_assert_eq(s.even[0], 0x1111);
    cr_assert_eq(s.odd[0], 0x2222);
    cr_assert_eq(s.even[1], 0x3333);
    cr_assert_eq(rd(0x10, 8), 0x0000333322221111ull | (uint64_t)s.odd[1] << 48);
    /* bytes no register covers read 0 and ignore writes */
    wr(5, 2, 0xffff);
    cr_assert_eq(rd(5, 3), 0);
    cr_assert_eq(rd(0x30, 4), 0);
}

Test(model_engine, wide_register_and_memory_area)
{
    wr(8, 8, 0x0123456789abcdefull);
    cr_assert_eq(s.wide, 0x0123456789abcdefull);
    cr_assert_eq(rd(12, 4), 0x01234567, "upper half alone");
    wr(0x1ffc, 8, 0x1122334455667788ull);
    cr_assert_eq(rd(0x1ffc, 4), 0x55667788, "memory area bytes");
    cr_assert_eq(rd(0x2000, 4), 0, "past the area: a gap");
    uint8_t *mem = vdev_bar_memory(dev, 0);
    cr_assert_not_null(mem);
    cr_assert_eq(mem[0x1ffc], 0x88);
}

static void *
run_thread(void *arg)
{
    return (void *)(intptr_t)vdev_run(arg);
}

/* The model's named values read the state through the management
 * channel; bad placements are refused. */
Test(model_engine, state_vars)
{
    char dir[] = "/tmp/vdev-engine-XXXXXX", path[64];
    pthread_t t;
    void *ret;
    uint64_t v = 0;
    static const struct vdev_var odd_size[] = {
        {.name = "x", .bits = 8, .at = 0, .size = 3}};
    static const struct vdev_var too_wide[] = {
        {.name = "y", .bits = 8, .at = 0, .size = 1, .shift = 1}};

    cr_assert_eq(vdev_register_state_vars(dev, &s, odd_size, 1), -EINVAL);
    cr_assert_eq(vdev_register_state_vars(dev, &s, too_wide, 1), -EINVAL);
    cr_assert_eq(vdev_register_state_vars(dev, NULL, vars, 1), -EINVAL);
    cr_assert_eq(vdev_register_state_vars(dev, &s, vars, 1), -EEXIST);
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/m", dir);
    cr_assert_eq(vdev_mgmt_listen(dev, path), 0);
    s.ctrl = 0xabcd1234;
    cr_assert_eq(pthread_create(&t, NULL, run_thread, dev), 0);
    cr_expect_eq(vdev_mgmt_client_get(path, "ctrl", &v), 0);
    cr_expect_eq(v, 0xabcd1234);
    cr_expect_eq(vdev_mgmt_client_get(path, "ctrl.hi", &v), 0);
    cr_expect_eq(v, 0xabcd);
    vdev_stop(dev);
    pthread_join(t, &ret);
    cr_expect_eq((intptr_t)ret, 0);
    talloc_free(dev);
    dev = NULL;
    rmdir(dir);
}

Test(model_engine, bad_arguments)
{
    cr_assert_eq(vdev_model_add(NULL, &model, &s), -EINVAL);
    cr_assert_eq(vdev_model_add(dev, NULL, &s), -EINVAL);
    cr_assert_eq(vdev_model_add(dev, &model, NULL), -EINVAL);
}

/* Tables the engine cannot serve are refused, not half served. */
static int
add_one_bar(const struct vdev_reg *regs, unsigned n, uint64_t size)
{
    static const struct vdev_pci_ident id = {.vendor_id = 1, .device_id = 2};
    struct vdev_model_bar b = {
        .kind = VDEV_BAR_MEM32, .size = size, .regs = regs, .nr_regs = n};
    struct vdev_model m = {.name = "bad",
                           .version = 1,
                           .state_size = sizeof(s),
                           .bars = &b,
                           .nr_bars = 1};
    struct vdev_dev *d = vdev_dev_create(NULL, "bad", &id);
    int rc = vdev_model_add(d, &m, &s);
    talloc_free(d);
    return rc;
}

Test(model_engine, bad_tables)
{
    const struct vdev_reg overlap[] = {{.offset = 0, .size = 4},
                                       {.offset = 2, .size = 2}};
    const struct vdev_reg outside[] = {{.offset = 0xe, .size = 4}};
    const struct vdev_reg odd[] = {{.offset = 0, .size = 3}};
    const struct vdev_reg tight[] = {
        {.offset = 0, .size = 4, .count = 2, .stride = 2}};
    cr_assert_eq(add_one_bar(overlap, 2, 16), -EINVAL);
    cr_assert_eq(add_one_bar(outside, 1, 16), -EINVAL);
    cr_assert_eq(add_one_bar(odd, 1, 16), -EINVAL);
    cr_assert_eq(add_one_bar(tight, 1, 16), -EINVAL);
    cr_assert_eq(add_one_bar(overlap, 1, 16), 0);
}
