/* Semantics of generated code: tests/golden/access.vdev, compiled by vdevc
 * into tests/golden/access.c and linked in, driven through the runtime's
 * region access path; each access kind behaves as dsl/README.md says. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <unistd.h>

#include "access.h"
#include "device/device.h"
#include "migration/migration.h"
#include "vdev_client.h"

static struct vdev_dev *dev;

static void
setup(void)
{
    dev = access_create(NULL);
    cr_assert_not_null(dev, "access_create failed");
}

static void
teardown(void)
{
    talloc_free(dev);
}

static uint64_t
rd(uint64_t off, unsigned len)
{
    uint8_t b[8] = {0};
    cr_assert_eq(vdev_region_access(dev, 0, off, b, len, false), 0);
    uint64_t v = 0;
    for (unsigned i = 0; i < len; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static void
wr(uint64_t off, unsigned len, uint64_t v)
{
    uint8_t b[8];
    for (unsigned i = 0; i < len; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    cr_assert_eq(vdev_region_access(dev, 0, off, b, len, true), 0);
}

static struct access *
state(void)
{
    return vdev_private(dev);
}

TestSuite(vdevc_semantics, .init = setup, .fini = teardown);

Test(vdevc_semantics, rw_reads_back_and_resets)
{
    cr_assert_eq(rd(0x00, 4), 0x11223344);
    wr(0x00, 4, 0xdeadbeef);
    cr_assert_eq(rd(0x00, 4), 0xdeadbeef);
    vdev_reset(dev);
    cr_assert_eq(rd(0x00, 4), 0x11223344);
}

Test(vdevc_semantics, ro_ignores_writes)
{
    wr(0x04, 4, 0);
    cr_assert_eq(rd(0x04, 4), 0xa5a5a5a5);
}

Test(vdevc_semantics, wo_reads_zero_but_stores)
{
    wr(0x08, 4, 0x12345678);
    cr_assert_eq(rd(0x08, 4), 0);
    cr_assert_eq(state()->s.wo_reg, 0x12345678);
}

Test(vdevc_semantics, w1c_clears_only_written_ones)
{
    cr_assert_eq(rd(0x0c, 4), 0xff);
    wr(0x0c, 4, 0x0f);
    cr_assert_eq(rd(0x0c, 4), 0xf0);
    wr(0x0c, 4, 0);
    cr_assert_eq(rd(0x0c, 4), 0xf0);
    wr(0x0c, 4, 0xffffff00);
    cr_assert_eq(rd(0x0c, 4), 0xf0, "zeros written to clear bits don't set");
}

Test(vdevc_semantics, w1s_sets_only_written_ones)
{
    cr_assert_eq(rd(0x10, 4), 0x0f);
    wr(0x10, 4, 0xf0);
    cr_assert_eq(rd(0x10, 4), 0xff);
    wr(0x10, 4, 0);
    cr_assert_eq(rd(0x10, 4), 0xff);
}

Test(vdevc_semantics, rc_clears_on_read)
{
    cr_assert_eq(rd(0x14, 4), 0x1234);
    cr_assert_eq(rd(0x14, 4), 0);
    state()->s.rc_reg = 0xaabbccdd;
    cr_assert_eq(rd(0x14, 1), 0xdd, "a narrow read returns its lane");
    cr_assert_eq(rd(0x14, 4), 0xaabbcc00, "and clears only that lane");
    wr(0x14, 4, 0xffffffff);
    cr_assert_eq(rd(0x14, 4), 0, "rc ignores writes");
}

Test(vdevc_semantics, rs_sets_on_read)
{
    cr_assert_eq(rd(0x18, 4), 1);
    cr_assert_eq(rd(0x18, 4), 0xffffffff);
}

Test(vdevc_semantics, const_and_reserved)
{
    wr(0x1c, 4, 0);
    cr_assert_eq(rd(0x1c, 4), 0xc0de);
    wr(0x20, 4, 0xffffffff);
    cr_assert_eq(rd(0x20, 4), 0);
    cr_assert_eq(state()->s.reserved_reg, 0);
}

Test(vdevc_semantics, fields_of_mixed_kinds)
{
    /* a rw = 0x5a, b ro = 0x3c, c w1c = 0xff, k const = 9, 31:28 reserved */
    cr_assert_eq(rd(0x24, 4), 0x09ff3c5a);
    wr(0x24, 4, 0xf00f0011);
    cr_assert_eq(rd(0x24, 4), 0x09f03c11);
}

Test(vdevc_semantics, byte_lanes_and_narrow_writes)
{
    cr_assert_eq(rd(0x01, 1), 0x33);
    cr_assert_eq(rd(0x02, 2), 0x1122);
    wr(0x02, 2, 0xabcd);
    cr_assert_eq(rd(0x00, 4), 0xabcd3344, "narrow write: read-modify-write");
    wr(0x03, 1, 0x99);
    cr_assert_eq(rd(0x00, 4), 0x99cd3344);
    /* One access spanning two registers: each gets its lanes. */
    cr_assert_eq(rd(0x00, 8), 0xa5a5a5a599cd3344ull);
    /* A w1c lane write only clears in that lane. */
    wr(0x0c, 1, 0x01);
    cr_assert_eq(rd(0x0c, 4), 0xfe);
}

Test(vdevc_semantics, widths_8_16_64)
{
    wr(0x28, 8, 0x0123456789abcdefull);
    cr_assert_eq(rd(0x28, 8), 0x0123456789abcdefull);
    cr_assert_eq(rd(0x2c, 4), 0x01234567);
    wr(0x28, 4, 0);
    cr_assert_eq(rd(0x28, 8), 0x0123456700000000ull);
    wr(0x30, 1, 0x7f);
    cr_assert_eq(rd(0x30, 1), 0x7f);
    wr(0x32, 2, 0xbeef);
    cr_assert_eq(rd(0x30, 4), 0xbeef007f, "byte 0x31 is a gap: zero");
}

Test(vdevc_semantics, arrays_with_stride_and_gaps)
{
    for (unsigned i = 0; i < 4; i++)
        wr(0x40 + 8 * i, 4, 0x100 + i);
    for (unsigned i = 0; i < 4; i++)
        cr_assert_eq(rd(0x40 + 8 * i, 4), 0x100 + i);
    cr_assert_eq(state()->s.arr[2], 0x102);
    cr_assert_eq(rd(0x44, 4), 0, "between elements: gap");
    wr(0x44, 4, 0xffffffff);
    cr_assert_eq(rd(0x200, 4), 0, "unmapped offsets read zero");
}

Test(vdevc_semantics, hooks_run_in_order)
{
    wr(0x64, 4, 5);
    cr_assert_eq(rd(0x64, 4), 6, "on write sees the new value");
    cr_assert_eq(state()->s.writes, 1);
    cr_assert_eq(state()->s.reads, 1);
    cr_assert_eq(rd(0x68, 4), 1, "count's on read ran before the value");
    rd(0x64, 4);
    cr_assert_eq(rd(0x68, 4), 2);
}

static bool
intx_level(void)
{
    uint16_t status;
    cr_assert_eq(vdev_config_read(dev, PCI_STATUS, &status, 2), 0);
    return status & PCI_STATUS_INTERRUPT;
}

Test(vdevc_semantics, interrupt_expression_follows_fields)
{
    cr_assert(!intx_level());
    wr(0x60, 4, 0x4); /* fire: pending = 1 (enable 0) */
    cr_assert_eq(rd(0x60, 4), 0x1, "fire's hook cleared itself");
    cr_assert(!intx_level());
    wr(0x60, 4, 0x2); /* enable */
    cr_assert(intx_level(), "pending & enable raises INTx");
    wr(0x60, 4, 0x3); /* w1c pending, keep enable */
    cr_assert(!intx_level(), "acknowledging lowers it");
    cr_assert_eq(rd(0x60, 4), 0x2);
}

static void *
serve(void *arg)
{
    return (void *)(intptr_t)vdev_run(arg);
}

/* An external variable set from outside runs its hook and re-evaluates the
 * interrupts it feeds. */
Test(vdevc_semantics, external_input_through_mgmt)
{
    char dir[] = "/tmp/vdevc-sem-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/mgmt.sock", dir);
    cr_assert_eq(vdev_mgmt_listen(dev, path), 0);
    wr(0x60, 4, 0x2);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, serve, dev), 0);
    int rc = vdev_mgmt_client_set(path, "state.input", 7);
    uint64_t v = 0;
    int rc2 = vdev_mgmt_client_get(path, "irq.pending", &v);
    int rc3 = vdev_mgmt_client_set(path, "irq.pending", 0);
    vdev_stop(dev);
    pthread_join(t, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(rc2, 0);
    cr_assert_eq(v, 1, "the hook set irq.pending");
    cr_assert_neq(rc3, 0, "a field that is not external is read-only");
    cr_assert_eq(state()->s.input, 7);
    cr_assert_eq(rd(0x60, 4), 0x3);
    cr_assert(intx_level());
    rmdir(dir);
}

Test(vdevc_semantics, migration_validate_rejects_bad_blocks)
{
    const struct vdev_mig_desc *m = &dev->mig->desc;
    struct access_state blk;
    m->reset_values(dev, &blk);
    cr_assert_eq(blk.rw_reg, 0x11223344);
    cr_assert_eq(m->validate(dev, &blk), 0);
    blk.const_reg = 1;
    cr_assert_eq(m->validate(dev, &blk), -EINVAL, "const bits must hold");
    m->reset_values(dev, &blk);
    blk.mixed |= 0x80000000u;
    cr_assert_eq(m->validate(dev, &blk), -EINVAL, "reserved bits are zero");
    m->reset_values(dev, &blk);
    blk.input = 0xff;
    cr_assert_eq(m->validate(dev, &blk), 0);
}
