/* The register engine's banks (vdev_model.h) on a hand-written model:
 * registers sharing an offset picked per access by direction and `when`,
 * an index/data array (`select`), config-space registers served in their
 * windows, the access width hooks see, the device reset that replaces the
 * reset values; and the tables it refuses. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "device/device.h"
#include "vdev_model.h"

struct st {
    uint8_t sel, rbr, thr, dll, data[4];
    uint16_t cfg;
    uint32_t probe, kept, resets;
};

static struct st s;
static struct vdev_dev *dev;
static uint32_t last_width;

/* lcr is `sel` bit 7 here: the bank's condition. */
static bool
dlab(struct vdev_dev *d)
{
    return s.sel & 0x80;
}

static bool
no_dlab(struct vdev_dev *d)
{
    return !(s.sel & 0x80);
}

static uint64_t
index_of(struct vdev_dev *d)
{
    return s.sel & 0x7; /* 4..7 are out of range */
}

static void
width_hook(struct vdev_dev *d, const struct vdev_reg_access *a)
{
    last_width = a->width;
}

/* Keeps `kept`, counts resets: what generated code does for sticky state
 * and `on reset`. */
static void
reset(struct vdev_dev *d, void *state)
{
    struct st *x = state;
    uint32_t kept = x->kept, resets = x->resets;
    memset(x, 0, sizeof(*x));
    x->kept = kept;
    x->resets = resets + 1;
    x->dll = 0x0c;
}

static const struct vdev_reg bar0[] = {
    {.offset = 0, /* rbr: ro when !dlab */
     .state = offsetof(struct st, rbr),
     .size = 1,
     .rmask = 0xff,
     .when = no_dlab},
    {.offset = 0, /* thr: wo when !dlab */
     .state = offsetof(struct st, thr),
     .size = 1,
     .rw = 0xff,
     .when = no_dlab},
    {.offset = 0, /* dll: rw when dlab */
     .state = offsetof(struct st, dll),
     .size = 1,
     .rmask = 0xff,
     .rw = 0xff,
     .when = dlab},
    {.offset = 1,
     .state = offsetof(struct st, sel),
     .size = 1,
     .rmask = 0xff,
     .rw = 0xff},
    {.offset = 2, /* data[4] at one offset */
     .state = offsetof(struct st, data),
     .size = 1,
     .count = 4,
     .rmask = 0xff,
     .rw = 0xff,
     .select = index_of},
    {.offset = 4,
     .state = offsetof(struct st, probe),
     .size = 4,
     .rmask = 0xffffffffu,
     .rw = 0xffffffffu,
     .on_read = width_hook,
     .on_write = width_hook},
    {.offset = 8,
     .state = offsetof(struct st, kept),
     .size = 4,
     .rmask = 0xffffffffu,
     .rw = 0xffffffffu},
};

static const struct vdev_model_bar bars[] = {{
    .kind = VDEV_BAR_MEM32,
    .size = 16,
    .regs = bar0,
    .nr_regs = sizeof(bar0) / sizeof(bar0[0]),
}};

static const struct vdev_reg cfg_regs[] = {{
    .offset = 0x60,
    .state = offsetof(struct st, cfg),
    .size = 2,
    .rmask = 0xffff,
    .rw = 0x00ff,
}};
static const struct vdev_model_window windows[] = {{0x60, 2}};
static const struct vdev_model_config config = {
    .regs = cfg_regs, .nr_regs = 1, .windows = windows, .nr_windows = 1};

static const struct vdev_model model = {
    .name = "banks",
    .version = 1,
    .state_size = sizeof(struct st),
    .bars = bars,
    .nr_bars = 1,
    .config = &config,
    .reset = reset,
};

static void
setup(void)
{
    static const struct vdev_pci_ident id = {.vendor_id = 1, .device_id = 2};
    memset(&s, 0, sizeof(s));
    dev = vdev_dev_create(NULL, "banks", &id);
    cr_assert_not_null(dev);
    cr_assert_eq(vdev_model_add(dev, &model, &s), 0);
}

static void
teardown(void)
{
    talloc_free(dev);
}

TestSuite(model_banks, .init = setup, .fini = teardown);

static uint64_t
rd(uint32_t region, uint64_t off, unsigned n)
{
    uint8_t b[8] = {0};
    uint64_t v = 0;
    cr_assert_eq(vdev_region_access(dev, region, off, b, n, false), 0);
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void
wr(uint32_t region, uint64_t off, unsigned n, uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    cr_assert_eq(vdev_region_access(dev, region, off, b, n, true), 0);
}

Test(model_banks, direction_and_condition_pick)
{
    s.rbr = 0x41;
    cr_assert_eq(rd(0, 0, 1), 0x41, "a read goes to rbr");
    wr(0, 0, 1, 0x55);
    cr_assert_eq(s.thr, 0x55, "a write goes to thr");
    cr_assert_eq(s.rbr, 0x41);
    wr(0, 1, 1, 0x80);
    cr_assert_eq(rd(0, 0, 1), 0, "dll resets to 0 here, rbr not read");
    wr(0, 0, 1, 0x0c);
    cr_assert_eq(s.dll, 0x0c);
    cr_assert_eq(s.thr, 0x55, "thr not written while DLAB is set");
    /* A 2-byte access covers the bank and sel. */
    cr_assert_eq(rd(0, 0, 2), 0x800c);
}

Test(model_banks, index_data)
{
    for (unsigned i = 0; i < 4; i++) {
        wr(0, 1, 1, i);
        wr(0, 2, 1, 0x10 + i);
    }
    cr_assert_eq(s.data[2], 0x12);
    wr(0, 1, 1, 3);
    cr_assert_eq(rd(0, 2, 1), 0x13);
    wr(0, 1, 1, 5); /* out of range */
    cr_assert_eq(rd(0, 2, 1), 0);
    wr(0, 2, 1, 0xff);
    for (unsigned i = 0; i < 4; i++)
        cr_assert_eq(s.data[i], 0x10 + i, "dropped");
}

Test(model_banks, access_width)
{
    wr(0, 4, 4, 1);
    cr_assert_eq(last_width, 32);
    (void)rd(0, 4, 2);
    cr_assert_eq(last_width, 16);
    wr(0, 5, 1, 1);
    cr_assert_eq(last_width, 8);
    (void)rd(0, 4, 8); /* probe and kept at once */
    cr_assert_eq(last_width, 64);
}

Test(model_banks, config_window)
{
    wr(VDEV_CONFIG_INDEX, 0x60, 2, 0xabcd);
    cr_assert_eq(s.cfg, 0x00cd, "only the rw bits");
    cr_assert_eq(rd(VDEV_CONFIG_INDEX, 0x60, 2), 0x00cd);
    cr_assert_eq(rd(VDEV_CONFIG_INDEX, 0x61, 1), 0);
    s.cfg = 0x1234;
    cr_assert_eq(rd(VDEV_CONFIG_INDEX, 0x60, 4) & 0xffff, 0x1234);
}

Test(model_banks, device_reset_callback)
{
    s.kept = 7;
    s.probe = 9;
    vdev_reset(dev);
    cr_assert_eq(s.kept, 7);
    cr_assert_eq(s.probe, 0);
    cr_assert_eq(s.resets, 1);
    cr_assert_eq(s.dll, 0x0c);
}

/* Refused: registers of other sizes at one offset, a memory area in a
 * bank, a config register outside its windows, a select array that is not
 * one. */
static int
add(const struct vdev_reg *regs, unsigned n, const struct vdev_model_bar *mb,
    const struct vdev_model_config *cfg)
{
    static const struct vdev_pci_ident id = {.vendor_id = 1, .device_id = 2};
    struct vdev_model_bar b = {
        .kind = VDEV_BAR_MEM32, .size = 16, .regs = regs, .nr_regs = n};
    struct vdev_model m = {.name = "bad",
                           .version = 1,
                           .state_size = sizeof(struct st),
                           .bars = mb ? mb : &b,
                           .nr_bars = 1,
                           .config = cfg};
    struct st x;
    struct vdev_dev *d = vdev_dev_create(NULL, "bad", &id);
    int rc = vdev_model_add(d, &m, &x);
    talloc_free(d);
    return rc;
}

Test(model_banks, refused)
{
    const struct vdev_reg sizes[] = {{.offset = 0, .size = 4},
                                     {.offset = 0, .size = 2}};
    const struct vdev_reg one[] = {{.offset = 0, .size = 4}};
    const struct vdev_mmap_area area[] = {{0, 4}};
    const struct vdev_model_bar with_area = {.kind = VDEV_BAR_MEM32,
                                             .size = 16,
                                             .regs = one,
                                             .nr_regs = 1,
                                             .areas = area,
                                             .nr_areas = 1};
    const struct vdev_reg cfg[] = {{.offset = 0x64, .size = 4}};
    const struct vdev_model_window win[] = {{0x60, 4}};
    const struct vdev_model_config outside = {
        .regs = cfg, .nr_regs = 1, .windows = win, .nr_windows = 1};
    const struct vdev_reg tight[] = {
        {.offset = 0, .size = 4, .count = 2, .stride = 0}};
    cr_assert_eq(add(sizes, 2, NULL, NULL), -EINVAL);
    cr_assert_eq(add(one, 1, &with_area, NULL), -EINVAL);
    cr_assert_eq(add(one, 1, NULL, &outside), -EINVAL);
    cr_assert_eq(add(tight, 1, NULL, NULL), -EINVAL);
    cr_assert_eq(add(one, 1, NULL, NULL), 0);
}
