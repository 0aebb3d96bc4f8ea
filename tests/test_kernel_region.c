/* runtime/KERNEL.md, A and B rows: REGION_READ/WRITE land where vfio-pci
 * (vfio_pci_rw, vfio_pci_bar_rw, vfio_config_do_rw) lands them; DEVICE_RESET
 * ignores a body. Over a real socket, against the test device. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_fixture.h"

static struct kfix k;

static void
setup(void)
{
    kfix_up(&k, false, true);
}

static void
teardown(void)
{
    kfix_down(&k);
}

TestSuite(kernel_region, .init = setup, .fini = teardown, .timeout = 30);

#define CONFIG VFIO_PCI_CONFIG_REGION_INDEX
#define ROM VFIO_PCI_ROM_REGION_INDEX
#define VGA VFIO_PCI_VGA_REGION_INDEX

/* A1, A2 */
Test(kernel_region, absent_and_vga_refused)
{
    uint32_t v = 0;

    cr_expect_eq(kfix_read(&k, 1, 0, &v, 4, NULL), -EINVAL);
    cr_expect_eq(kfix_read(&k, 3, 0, &v, 4, NULL), -EINVAL, "BAR2's upper");
    cr_expect_eq(kfix_write(&k, 5, 0, &v, 4, NULL), -EINVAL);
    cr_expect_eq(kfix_read(&k, VGA, 0, &v, 1, NULL), -EINVAL);
    cr_expect_eq(kfix_write(&k, VGA, 0xb8000, &v, 1, NULL), -EINVAL);
    cr_expect_eq(kfix_read(&k, 40, 0, &v, 4, NULL), -EINVAL);
    kfix_down(&k);
    kfix_up(&k, false, false);
    cr_expect_eq(kfix_read(&k, ROM, 0, &v, 4, NULL), -EINVAL, "absent ROM");
}

/* A3, A4: at or past the end, EINVAL; running past it, cut there. */
Test(kernel_region, bar_end_and_straddle)
{
    uint8_t buf[16];
    uint32_t done = 0;

    cr_expect_eq(kfix_read(&k, 0, TESTDEV_BAR0_SIZE, buf, 1, NULL), -EINVAL);
    cr_expect_eq(kfix_write(&k, 0, TESTDEV_BAR0_SIZE + 8, buf, 4, NULL),
                 -EINVAL);
    cr_expect_eq(kfix_read(&k, 0, UINT64_MAX, buf, 4, NULL), -EINVAL);
    cr_assert_eq(kfix_read(&k, 0, TESTDEV_BAR0_SIZE - 3, buf, 8, &done), 0);
    cr_expect_eq(done, 3);
    memset(buf, 0x5a, sizeof(buf));
    cr_assert_eq(kfix_write(&k, 2, TESTDEV_BAR2_SIZE - 2, buf, 8, &done), 0);
    cr_expect_eq(done, 2);
    cr_assert_eq(kfix_read(&k, ROM, KFIX_ROM_SIZE - 1, buf, 16, &done), 0);
    cr_expect_eq(done, 1);
    /* device-specific regions stay whole or nothing */
    cr_expect_eq(kfix_read(&k, TESTDEV_TYPED_INDEX, TESTDEV_TYPED_SIZE - 2, buf,
                           4, NULL),
                 -EINVAL);
}

/* A5 */
Test(kernel_region, count_0_succeeds)
{
    uint32_t done = 7;
    uint8_t b;

    cr_assert_eq(kfix_read(&k, 0, 0, &b, 0, &done), 0);
    cr_expect_eq(done, 0);
    cr_assert_eq(kfix_write(&k, 0, TESTDEV_REG_SCRATCH, &b, 0, &done), 0);
    cr_expect_eq(done, 0);
    /* as read(2) of 0 bytes: whatever the offset */
    cr_expect_eq(kfix_read(&k, 0, UINT64_MAX, &b, 0, NULL), 0);
}

/* A6 */
Test(kernel_region, rom_write_refused)
{
    uint16_t sig = 0;

    cr_expect_eq(kfix_write(&k, ROM, 0, &sig, 2, NULL), -EINVAL);
    cr_assert_eq(kfix_read(&k, ROM, 0, &sig, 2, NULL), 0);
    cr_expect_eq(sig, 0xaa55);
}

/* A7: 256 bytes of config space here (no PCI Express). */
Test(kernel_region, config_past_end_efault)
{
    uint32_t v = 0;

    cr_expect_eq(kfix_read(&k, CONFIG, 256, &v, 4, NULL), -EFAULT);
    cr_expect_eq(kfix_read(&k, CONFIG, 254, &v, 4, NULL), -EFAULT);
    cr_expect_eq(kfix_write(&k, CONFIG, 0x100, &v, 4, NULL), -EFAULT);
    cr_expect_eq(kfix_read(&k, CONFIG, 252, &v, 4, NULL), 0);
    kfix_down(&k);
    kfix_up(&k, true, false);
    cr_expect_eq(kfix_read(&k, CONFIG, 256, &v, 4, NULL), 0, "PCIe: 4 KiB");
    cr_expect_eq(kfix_read(&k, CONFIG, 4094, &v, 4, NULL), -EFAULT);
}

/* A8 */
Test(kernel_region, any_width)
{
    uint8_t buf[8];
    uint32_t id;

    for (unsigned w = 1; w <= 8; w++)
        for (unsigned off = 0; off < 4; off++)
            cr_expect_eq(kfix_read(&k, CONFIG, off, buf, w, NULL), 0,
                         "width %u at %u", w, off);
    cr_assert_eq(kfix_read(&k, 0, 1, buf, 3, NULL), 0);
    id = TESTDEV_ID_VALUE >> 8;
    cr_expect_eq(memcmp(buf, &id, 3), 0);
}

/* A9 */
Test(kernel_region, framing_checked)
{
    struct vfio_user_region_access a = {.region = 0, .count = 4};
    uint8_t msg[sizeof(a) + 8] = {0};
    uint8_t *big = calloc(1, (1u << 20) + 1);

    cr_assert_not_null(big);
    cr_expect_eq(kfix_read(&k, 2, 0, big, (1u << 20) + 1, NULL), -EINVAL);
    free(big);
    a.offset = TESTDEV_REG_SCRATCH;
    memcpy(msg, &a, sizeof(a));
    cr_expect_eq(kfix_call(&k, VFIO_USER_REGION_WRITE, msg, sizeof(a) + 2, NULL,
                           0, NULL),
                 -EINVAL);
    cr_expect_eq(kfix_call(&k, VFIO_USER_REGION_WRITE, msg, sizeof(a) + 8, NULL,
                           0, NULL),
                 -EINVAL);
    cr_expect_eq(kfix_call(&k, VFIO_USER_REGION_READ, msg, 12, NULL, 0, NULL),
                 -EINVAL);
}

/* A10: the MSI-X table in BAR0 is ours to serve (vfio-pci hides it). */
Test(kernel_region, msix_table_emulated)
{
    uint32_t ctrl = 0, data = 0x4321;

    kfix_down(&k);
    kfix_up(&k, true, false);
    /* vector 1's control word: masked from reset */
    cr_assert_eq(kfix_read(&k, 0, TESTDEV_MSIX_TABLE + 16 + 12, &ctrl, 4, NULL),
                 0);
    cr_expect_eq(ctrl, 1);
    cr_assert_eq(kfix_write(&k, 0, TESTDEV_MSIX_TABLE + 16 + 8, &data, 4, NULL),
                 0);
    data = 0;
    cr_assert_eq(kfix_read(&k, 0, TESTDEV_MSIX_TABLE + 16 + 8, &data, 4, NULL),
                 0);
    cr_expect_eq(data, 0x4321);
}

/* B1 */
Test(kernel_region, reset_ignores_body)
{
    uint32_t v = 0x1234;
    uint8_t body[16] = {1};

    cr_assert_eq(kfix_write(&k, 0, TESTDEV_REG_SCRATCH, &v, 4, NULL), 0);
    cr_assert_eq(kfix_call(&k, VFIO_USER_DEVICE_RESET, body, sizeof(body), NULL,
                           0, NULL),
                 0);
    cr_assert_eq(kfix_read(&k, 0, TESTDEV_REG_SCRATCH, &v, 4, NULL), 0);
    cr_expect_eq(v, 0, "reset");
}
