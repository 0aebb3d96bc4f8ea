/* The test device with capabilities, over a real socket: the capability
 * list read through REGION_READ of config space, and BAR0 accesses routed
 * to the MSI-X table and PBA or to the device's registers. */
#include <criterion/criterion.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <unistd.h>

#include "device/device.h"
#include "rawsock.h"
#include "proto_fixture.h"
#include "testdev.h"

static struct testsrv srv;
static int fd = -1;

static void
setup(void)
{
    proto_fixture_up(&srv, &fd, true, true);
}

static void
teardown(void)
{
    proto_fixture_down(&srv, &fd);
}

TestSuite(proto_caps, .init = setup, .fini = teardown, .timeout = 30);

static uint32_t
cfg_read(uint32_t off, uint32_t len)
{
    uint32_t v = 0;
    cr_assert_eq(raw_region_read(fd, VDEV_CONFIG_INDEX, off, &v, len), 0);
    return v;
}

Test(proto_caps, capability_list)
{
    unsigned seen[256] = {0}, n = 0;
    uint32_t ext;

    cr_assert(cfg_read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    for (uint32_t off = cfg_read(PCI_CAPABILITY_LIST, 1); off && n < 48;
         off = cfg_read(off + PCI_CAP_LIST_NEXT, 1), n++) {
        cr_assert_eq(off % 4, 0);
        cr_assert_geq(off, 0x40);
        seen[cfg_read(off, 1)]++;
    }
    cr_assert_eq(n, 5);
    cr_assert_eq(seen[PCI_CAP_ID_PM], 1);
    cr_assert_eq(seen[PCI_CAP_ID_MSI], 1);
    cr_assert_eq(seen[PCI_CAP_ID_MSIX], 1);
    cr_assert_eq(seen[PCI_CAP_ID_EXP], 1);
    cr_assert_eq(seen[PCI_CAP_ID_VNDR], 1);
    /* the extended list starts at 0x100 with the serial number */
    ext = cfg_read(0x100, 4);
    cr_assert_eq(PCI_EXT_CAP_ID(ext), PCI_EXT_CAP_ID_DSN);
    cr_assert_eq(cfg_read(0x104, 4), (uint32_t)TESTDEV_DSN);
    cr_assert_eq(cfg_read(0x108, 4), (uint32_t)(TESTDEV_DSN >> 32));
}

Test(proto_caps, msix_table_served_in_bar0)
{
    uint32_t data = 0x4321, back = 0, ctrl, scratch = 0x77, id;
    uint64_t pba = 1;

    /* vector 1's data word: served by the MSI-X table, not the callback
     * (which reads zero past its registers) */
    cr_assert_eq(raw_region_write(fd, 0, TESTDEV_MSIX_TABLE + 16 + 8, &data, 4),
                 0);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_MSIX_TABLE + 16 + 8, &back, 4),
                 0);
    cr_assert_eq(back, data);
    /* vectors start masked */
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_MSIX_TABLE + 12, &ctrl, 4), 0);
    cr_assert_eq(ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT,
                 PCI_MSIX_ENTRY_CTRL_MASKBIT);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_MSIX_PBA, &pba, 8), 0);
    cr_assert_eq(pba, 0);
    /* the registers still reach the device */
    cr_assert_eq(raw_region_write(fd, 0, TESTDEV_REG_SCRATCH, &scratch, 4), 0);
    cr_assert_eq(srv.td.scratch, 0x77);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_ID, &id, 4), 0);
    cr_assert_eq(id, TESTDEV_ID_VALUE);
}

Test(proto_caps, reset_restores_config)
{
    uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, back;

    cr_assert_eq(raw_region_write(fd, VDEV_CONFIG_INDEX, PCI_COMMAND, &cmd, 2),
                 0);
    cr_assert_eq(cfg_read(PCI_COMMAND, 2) & cmd, cmd);
    cr_assert_eq(raw_call(fd, 50, VFIO_USER_DEVICE_RESET, NULL, 0, NULL), 0);
    back = (uint16_t)cfg_read(PCI_COMMAND, 2);
    cr_assert_eq(back & cmd, 0);
    cr_assert_eq(srv.td.resets, 1);
}
