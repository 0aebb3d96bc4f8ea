/* runtime/KERNEL.md, I, R, F and Q rows: DEVICE_GET_INFO,
 * GET_REGION_INFO, GET_REGION_IO_FDS and GET_IRQ_INFO answer as vfio-pci
 * does, over a real socket. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "kernel_fixture.h"

static struct kfix k;

static void
plain(void)
{
    kfix_up(&k, false, false);
}

static void
with_caps(void)
{
    kfix_up(&k, true, false);
}

static void
with_rom(void)
{
    kfix_up(&k, false, true);
}

static void
teardown(void)
{
    kfix_down(&k);
}

static int
device_info(uint32_t argsz, size_t len, struct vfio_device_info *out)
{
    struct vfio_device_info in = {.argsz = argsz};
    struct raw_reply r;
    int rc = kfix_call(&k, VFIO_USER_DEVICE_GET_INFO, &in, len, NULL, 0, &r);

    if (rc == 0) {
        cr_assert_eq(r.len, 16);
        memset(out, 0, sizeof(*out));
        memcpy(out, r.payload, 16);
    }
    raw_reply_free(&r);
    return rc;
}

/* The fixed part of the reply in *out; the reply's length in *len. */
static int
region_info(uint32_t index, uint32_t argsz, struct vfio_region_info *out,
            uint32_t *len)
{
    struct vfio_region_info in = {.argsz = argsz, .index = index};
    struct raw_reply r;
    int rc = kfix_call(&k, VFIO_USER_DEVICE_GET_REGION_INFO, &in, sizeof(in),
                       NULL, 0, &r);

    if (rc == 0) {
        cr_assert_geq(r.len, sizeof(*out));
        memcpy(out, r.payload, sizeof(*out));
        if (len)
            *len = r.len;
    }
    raw_reply_free(&r);
    return rc;
}

static int
irq_info(uint32_t index, uint32_t argsz, struct vfio_irq_info *out)
{
    struct vfio_irq_info in = {.argsz = argsz, .index = index};
    struct raw_reply r;
    int rc = kfix_call(&k, VFIO_USER_DEVICE_GET_IRQ_INFO, &in, sizeof(in), NULL,
                       0, &r);

    if (rc == 0) {
        cr_assert_eq(r.len, sizeof(*out));
        memcpy(out, r.payload, sizeof(*out));
    }
    raw_reply_free(&r);
    return rc;
}

/* I1, I2 */
Test(kernel_info, device_info_argsz, .init = plain, .fini = teardown)
{
    struct vfio_device_info o;

    cr_assert_eq(device_info(15, 16, &o), -EINVAL);
    cr_assert_eq(device_info(16, 12, &o), -EINVAL);
    cr_assert_eq(device_info(16, 16, &o), 0);
    cr_expect_eq(o.argsz, 16);
    cr_assert_eq(device_info(4096, 16, &o), 0);
    cr_expect_eq(o.argsz, 16, "the size of the full reply, not the request's");
}

/* I3 */
Test(kernel_info, device_info_answer, .init = plain, .fini = teardown)
{
    struct vfio_device_info o;

    cr_assert_eq(device_info(16, 16, &o), 0);
    cr_expect_eq(o.flags, VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET);
    cr_expect_eq(o.num_irqs, 5);
    cr_expect_eq(o.num_regions, TESTDEV_TYPED_INDEX + 1);
}

/* R1 */
Test(kernel_info, region_info_argsz, .init = plain, .fini = teardown)
{
    struct vfio_region_info o;

    cr_assert_eq(region_info(0, 31, &o, NULL), -EINVAL);
    cr_assert_eq(region_info(0, 32, &o, NULL), 0);
}

/* R2, R3 */
Test(kernel_info, region_info_absent_bar_and_rom, .init = plain,
     .fini = teardown)
{
    /* BAR0 and BAR2 are there; BAR3 is BAR2's upper half */
    static const uint32_t absent[] = {1, 3, 4, 5, VFIO_PCI_ROM_REGION_INDEX};

    for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        struct vfio_region_info o;
        uint32_t len;

        cr_assert_eq(region_info(absent[i], 32, &o, &len), 0, "index %u",
                     absent[i]);
        cr_expect_eq(len, 32);
        cr_expect_eq(o.index, absent[i]);
        cr_expect_eq(o.size, 0);
        cr_expect_eq(o.flags, 0);
        cr_expect_eq(o.cap_offset, 0);
    }
}

/* R4, R5 */
Test(kernel_info, region_info_vga_and_past_end, .init = plain, .fini = teardown)
{
    struct vfio_region_info o;

    cr_assert_eq(region_info(VFIO_PCI_VGA_REGION_INDEX, 32, &o, NULL), -EINVAL);
    cr_assert_eq(region_info(TESTDEV_TYPED_INDEX + 1, 32, &o, NULL), -EINVAL);
    cr_assert_eq(region_info(0xffffffffu, 32, &o, NULL), -EINVAL);
    cr_assert_eq(region_info(TESTDEV_TYPED_INDEX, 4096, &o, NULL), 0);
}

/* R6: 256 bytes for a conventional device, 4096 with PCI Express. */
static void
config_size_is(uint64_t size)
{
    struct vfio_region_info o;

    cr_assert_eq(region_info(VFIO_PCI_CONFIG_REGION_INDEX, 32, &o, NULL), 0);
    cr_expect_eq(o.size, size);
    cr_expect_eq(o.flags,
                 VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
}

Test(kernel_info, region_info_config_size, .init = plain, .fini = teardown)
{
    config_size_is(256);
    kfix_down(&k);
    kfix_up(&k, true, false);
    config_size_is(4096);
}

/* R7 */
Test(kernel_info, region_info_rom_read_only, .init = with_rom, .fini = teardown)
{
    struct vfio_region_info o;
    uint8_t sig[2];

    cr_assert_eq(region_info(VFIO_PCI_ROM_REGION_INDEX, 32, &o, NULL), 0);
    cr_expect_eq(o.size, KFIX_ROM_SIZE);
    cr_expect_eq(o.flags, VFIO_REGION_INFO_FLAG_READ);
    cr_assert_eq(kfix_read(&k, VFIO_PCI_ROM_REGION_INDEX, 0, sig, 2, NULL), 0);
    cr_expect_eq(sig[0], 0x55);
    cr_expect_eq(sig[1], 0xaa);
}

/* R8, R9: BAR2 has a sparse-mmap capability. */
Test(kernel_info, region_info_caps_need_argsz, .init = plain, .fini = teardown)
{
    struct vfio_region_info o;
    uint32_t len, need;

    cr_assert_eq(region_info(2, 32, &o, &len), 0);
    need = o.argsz;
    cr_expect_gt(need, 32);
    cr_expect_eq(len, 32, "no chain that does not fit");
    cr_expect(o.flags & VFIO_REGION_INFO_FLAG_CAPS, "CAPS set all the same");
    cr_expect_eq(o.cap_offset, 0);
    cr_assert_eq(region_info(2, need, &o, &len), 0);
    cr_expect_eq(len, need);
    cr_expect_eq(o.cap_offset, 32);
    cr_assert_eq(region_info(2, 65536, &o, &len), 0);
    cr_expect_eq(len, need, "the reply is as long as needed");
    cr_expect_eq(o.argsz, need);
}

/* R10: BAR2 is backed and mmapable: its own fd, offset 0; BAR0 is not. */
Test(kernel_info, region_info_mmap_fd, .init = plain, .fini = teardown)
{
    struct vfio_region_info in = {.argsz = 32, .index = 2}, o;
    struct raw_reply r;

    cr_assert_eq(kfix_call(&k, VFIO_USER_DEVICE_GET_REGION_INFO, &in,
                           sizeof(in), NULL, 0, &r),
                 0);
    memcpy(&o, r.payload, sizeof(o));
    cr_expect(o.flags & VFIO_REGION_INFO_FLAG_MMAP);
    cr_expect_eq(o.offset, 0);
    cr_expect_eq(r.nr_fds, 1);
    raw_reply_free(&r);
    in.index = 0;
    cr_assert_eq(kfix_call(&k, VFIO_USER_DEVICE_GET_REGION_INFO, &in,
                           sizeof(in), NULL, 0, &r),
                 0);
    memcpy(&o, r.payload, sizeof(o));
    cr_expect_not(o.flags & VFIO_REGION_INFO_FLAG_MMAP);
    cr_expect_eq(r.nr_fds, 0);
    raw_reply_free(&r);
}

/* F1 */
Test(kernel_info, region_io_fds, .init = plain, .fini = teardown)
{
    struct vfio_user_region_io_fds_request q = {.argsz = 16, .index = 0};
    struct vfio_user_region_io_fds_reply out;
    struct raw_reply r;

    cr_assert_eq(kfix_call(&k, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
                           sizeof(q), NULL, 0, &r),
                 0);
    cr_assert_eq(r.len, sizeof(out));
    memcpy(&out, r.payload, sizeof(out));
    cr_expect_eq(out.argsz, 16);
    cr_expect_eq(out.count, 0);
    cr_expect_eq(r.nr_fds, 0);
    raw_reply_free(&r);
    q.index = 1; /* absent */
    cr_expect_eq(kfix_call(&k, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
                           sizeof(q), NULL, 0, NULL),
                 -EINVAL);
    q.index = VFIO_PCI_VGA_REGION_INDEX;
    cr_expect_eq(kfix_call(&k, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
                           sizeof(q), NULL, 0, NULL),
                 -EINVAL);
    q.index = 0;
    q.flags = 1;
    cr_expect_eq(kfix_call(&k, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
                           sizeof(q), NULL, 0, NULL),
                 -EINVAL);
    q.flags = 0;
    q.argsz = 15;
    cr_expect_eq(kfix_call(&k, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
                           sizeof(q), NULL, 0, NULL),
                 -EINVAL);
}

/* Q1 */
Test(kernel_info, irq_info_bad_requests, .init = plain, .fini = teardown)
{
    struct vfio_irq_info o;

    cr_expect_eq(irq_info(0, 15, &o), -EINVAL);
    cr_expect_eq(irq_info(5, 16, &o), -EINVAL);
    cr_expect_eq(irq_info(0xffffffffu, 16, &o), -EINVAL);
    cr_expect_eq(irq_info(0, 1024, &o), 0);
    cr_expect_eq(o.argsz, 16);
}

/* Q2, Q3, Q5: flags as vfio_pci_ioctl_get_irq_info, counts from the
 * capabilities (the test device's: 4 MSI, 4 MSI-X vectors). */
static void
irq_is(uint32_t index, uint32_t flags, uint32_t count)
{
    struct vfio_irq_info o;

    cr_assert_eq(irq_info(index, 16, &o), 0, "index %u", index);
    cr_expect_eq(o.flags, flags, "index %u: flags %#x", index, o.flags);
    cr_expect_eq(o.count, count, "index %u: count %u", index, o.count);
    cr_expect_eq(o.index, index);
}

#define NORESIZE (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE)
#define INTX_FLAGS                                                             \
    (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED)

Test(kernel_info, irq_info_flags_and_counts, .init = plain, .fini = teardown)
{
    irq_is(VFIO_PCI_INTX_IRQ_INDEX, INTX_FLAGS, 1);
    irq_is(VFIO_PCI_MSI_IRQ_INDEX, NORESIZE, 0);
    irq_is(VFIO_PCI_MSIX_IRQ_INDEX, NORESIZE, 0);
    irq_is(VFIO_PCI_REQ_IRQ_INDEX, NORESIZE, 1);
    kfix_down(&k);
    kfix_up(&k, true, false);
    irq_is(VFIO_PCI_INTX_IRQ_INDEX, INTX_FLAGS, 1);
    irq_is(VFIO_PCI_MSI_IRQ_INDEX, NORESIZE, 4);
    irq_is(VFIO_PCI_MSIX_IRQ_INDEX, NORESIZE, TESTDEV_MSIX_VECTORS);
    irq_is(VFIO_PCI_REQ_IRQ_INDEX, NORESIZE, 1);
}

/* Q4 */
Test(kernel_info, irq_info_err_needs_pcie, .init = with_caps, .fini = teardown)
{
    struct vfio_irq_info o;

    irq_is(VFIO_PCI_ERR_IRQ_INDEX, NORESIZE, 1);
    kfix_down(&k);
    kfix_up(&k, false, false);
    cr_expect_eq(irq_info(VFIO_PCI_ERR_IRQ_INDEX, 16, &o), -EINVAL);
}
