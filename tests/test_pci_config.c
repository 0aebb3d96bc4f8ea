/* Config-space semantics called directly on a device: header, BAR sizing,
 * masks, W1C, access widths, capability chains, reset and FLR. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "device/device.h"

static const struct vdev_pci_ident ident = {
    .vendor_id = 0x1b36,
    .device_id = 0x1234,
    .subsys_vendor_id = 0x1af4,
    .subsys_id = 0x1100,
    .class_code = 0x028001,
    .revision = 0x07,
    .intx_pin = 1,
};

static int
dummy_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
             uint32_t count, bool is_write)
{
    if (!is_write)
        memset(buf, 0, count);
    return 0;
}

static struct vdev_dev *
new_dev(void)
{
    struct vdev_dev *dev = vdev_dev_create(NULL, "cfgtest", &ident);

    cr_assert_not_null(dev);
    return dev;
}

static void
add_bar(struct vdev_dev *dev, unsigned index, enum vdev_bar_kind kind,
        uint64_t size, bool pref)
{
    struct vdev_bar_desc d = {
        .kind = kind,
        .prefetchable = pref,
        .size = size,
        .access = dummy_access,
    };

    cr_assert_eq(vdev_bar_add(dev, index, &d), 0, "bar %u", index);
}

static uint32_t
rd(struct vdev_dev *dev, unsigned off, unsigned len)
{
    uint8_t b[4] = {0};

    cr_assert_eq(vdev_config_access(dev, off, b, len, false), 0);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static void
wr(struct vdev_dev *dev, unsigned off, unsigned len, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};

    cr_assert_eq(vdev_config_access(dev, off, b, len, true), 0);
}

Test(pci_config, header_values)
{
    struct vdev_dev *dev = new_dev();

    cr_expect_eq(rd(dev, PCI_VENDOR_ID, 2), 0x1b36);
    cr_expect_eq(rd(dev, PCI_DEVICE_ID, 2), 0x1234);
    cr_expect_eq(rd(dev, PCI_REVISION_ID, 1), 0x07);
    cr_expect_eq(rd(dev, PCI_CLASS_REVISION, 4), 0x02800107);
    cr_expect_eq(rd(dev, PCI_HEADER_TYPE, 1), 0);
    cr_expect_eq(rd(dev, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
    cr_expect_eq(rd(dev, PCI_SUBSYSTEM_ID, 2), 0x1100);
    cr_expect_eq(rd(dev, PCI_INTERRUPT_PIN, 1), 1);
    cr_expect_eq(rd(dev, PCI_COMMAND, 2), 0);
    cr_expect_eq(rd(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
    cr_expect_eq(rd(dev, PCI_CAPABILITY_LIST, 1), 0);
    /* No extended capabilities: a zero header at 0x100. */
    cr_expect_eq(rd(dev, 0x100, 4), 0);
    cr_assert_gt(vdev_cap_pm(dev, 0), 0);
    cr_expect_neq(rd(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
    talloc_free(dev);
}

Test(pci_config, bar_sizing)
{
    struct vdev_dev *dev = new_dev();

    add_bar(dev, 0, VDEV_BAR_MEM32, 4096, false);
    add_bar(dev, 1, VDEV_BAR_IO, 256, false);
    add_bar(dev, 2, VDEV_BAR_MEM64, 1 << 20, true);
    add_bar(dev, 4, VDEV_BAR_MEM64, 8ull << 30, false);
    add_bar(dev, VDEV_ROM_INDEX, VDEV_BAR_MEM32, 64 << 10, false);

    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_0, 4), 0);
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_1, 4), PCI_BASE_ADDRESS_SPACE_IO);
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_2, 4),
                 PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);

    for (unsigned off = PCI_BASE_ADDRESS_0; off <= PCI_BASE_ADDRESS_5; off += 4)
        wr(dev, off, 4, 0xffffffff);
    wr(dev, PCI_ROM_ADDRESS, 4, 0xfffffffe);

    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_0, 4), 0xfffff000);
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_1, 4), 0xffffff01);
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_2, 4),
                 0xfff00000 | PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH);
    /* Upper half of a small 64-bit BAR: all ones. */
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_3, 4), 0xffffffff);
    /* 8 GiB: low dword has no address bits, the upper one sizes it. */
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_4, 4), PCI_BASE_ADDRESS_MEM_TYPE_64);
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_5, 4), 0xfffffffe);
    cr_expect_eq(rd(dev, PCI_ROM_ADDRESS, 4), 0xffff0000);

    /* Programming an address keeps the flag bits. */
    wr(dev, PCI_BASE_ADDRESS_0, 4, 0xfebf1234);
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_0, 4), 0xfebf1000);
    wr(dev, PCI_ROM_ADDRESS, 4, 0xfeb00001);
    cr_expect_eq(rd(dev, PCI_ROM_ADDRESS, 4), 0xfeb00001);
    talloc_free(dev);
}

Test(pci_config, unused_bar_is_read_only_zero)
{
    struct vdev_dev *dev = new_dev();

    wr(dev, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_3, 4), 0);
    wr(dev, PCI_ROM_ADDRESS, 4, 0xffffffff);
    cr_expect_eq(rd(dev, PCI_ROM_ADDRESS, 4), 0);
    talloc_free(dev);
}

Test(pci_config, read_only_bits_keep_value)
{
    struct vdev_dev *dev = new_dev();

    wr(dev, PCI_VENDOR_ID, 4, 0xffffffff);
    cr_expect_eq(rd(dev, PCI_VENDOR_ID, 4), 0x12341b36);
    wr(dev, PCI_CLASS_REVISION, 4, 0);
    cr_expect_eq(rd(dev, PCI_CLASS_REVISION, 4), 0x02800107);
    wr(dev, PCI_COMMAND, 2, 0xffff);
    cr_expect_eq(rd(dev, PCI_COMMAND, 2),
                 PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                     PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                     PCI_COMMAND_INTX_DISABLE);
    wr(dev, PCI_INTERRUPT_LINE, 2, 0xff0b);
    cr_expect_eq(rd(dev, PCI_INTERRUPT_LINE, 1), 0x0b);
    cr_expect_eq(rd(dev, PCI_INTERRUPT_PIN, 1), 1);
    wr(dev, PCI_HEADER_TYPE, 1, 0x80);
    cr_expect_eq(rd(dev, PCI_HEADER_TYPE, 1), 0);
    talloc_free(dev);
}

Test(pci_config, status_w1c)
{
    struct vdev_dev *dev = new_dev();
    uint16_t err = PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DETECTED_PARITY |
                   PCI_STATUS_SIG_SYSTEM_ERROR;
    uint8_t b[2] = {(uint8_t)err, (uint8_t)(err >> 8)};

    cr_assert_eq(vdev_config_write(dev, PCI_STATUS, b, 2), 0);
    /* Writing zeros changes nothing. */
    wr(dev, PCI_STATUS, 2, 0);
    cr_expect_eq(rd(dev, PCI_STATUS, 2), err);
    /* Writing one clears exactly that bit. */
    wr(dev, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
    cr_expect_eq(rd(dev, PCI_STATUS, 2),
                 PCI_STATUS_DETECTED_PARITY | PCI_STATUS_SIG_SYSTEM_ERROR);
    /* A dword write to command also clears status bits set to one. */
    wr(dev, PCI_COMMAND, 4,
       (uint32_t)PCI_STATUS_DETECTED_PARITY << 16 | PCI_COMMAND_MEMORY);
    cr_expect_eq(rd(dev, PCI_STATUS, 2), PCI_STATUS_SIG_SYSTEM_ERROR);
    cr_expect_eq(rd(dev, PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
    /* Error bits are events: a reset clears them. */
    vdev_reset(dev);
    cr_expect_eq(rd(dev, PCI_STATUS, 2), 0);
    talloc_free(dev);
}

Test(pci_config, every_width_and_alignment)
{
    struct vdev_dev *dev = new_dev();
    uint8_t all[VDEV_CONFIG_SIZE], buf[16];

    cr_assert_gt(vdev_cap_msi(dev, 0, 4, true, true), 0);
    cr_assert_eq(vdev_config_access(dev, 0, all, sizeof(all), false), 0);
    for (unsigned off = 0; off < 0x60; off++)
        for (unsigned len = 1; len <= 16 && off + len <= 0x60; len++) {
            memset(buf, 0xaa, sizeof(buf));
            cr_assert_eq(vdev_config_access(dev, off, buf, len, false), 0);
            cr_assert_eq(memcmp(buf, all + off, len), 0, "off %u len %u", off,
                         len);
        }
    /* A misaligned dword write over class, cache line, latency, header
     * type: only the writable middle bytes change. */
    wr(dev, PCI_CLASS_DEVICE + 1, 4, 0x80402010);
    cr_expect_eq(rd(dev, PCI_CLASS_DEVICE + 1, 1), 0x02);
    cr_expect_eq(rd(dev, PCI_CACHE_LINE_SIZE, 1), 0x20);
    cr_expect_eq(rd(dev, PCI_LATENCY_TIMER, 1), 0x40);
    cr_expect_eq(rd(dev, PCI_HEADER_TYPE, 1), 0);
    /* Byte writes compose the same as a word write. */
    wr(dev, PCI_COMMAND, 1, PCI_COMMAND_MEMORY);
    wr(dev, PCI_COMMAND + 1, 1, PCI_COMMAND_INTX_DISABLE >> 8);
    cr_expect_eq(rd(dev, PCI_COMMAND, 2),
                 PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
    /* Whole-space write leaves read-only bytes alone. */
    cr_assert_eq(vdev_config_access(dev, 0, all, sizeof(all), false), 0);
    memset(buf, 0, sizeof(buf));
    {
        uint8_t ones[VDEV_CONFIG_SIZE];

        memset(ones, 0, sizeof(ones));
        cr_assert_eq(vdev_config_access(dev, 0, ones, sizeof(ones), true), 0);
    }
    cr_expect_eq(rd(dev, PCI_VENDOR_ID, 4), 0x12341b36);
    cr_expect_eq(rd(dev, PCI_COMMAND, 2), 0);
    /* Bounds. */
    cr_expect_eq(vdev_config_access(dev, 4095, buf, 2, false), -EINVAL);
    cr_expect_eq(vdev_config_access(dev, 4096, buf, 1, false), -EINVAL);
    cr_expect_eq(vdev_config_access(dev, 0, buf, 0, false), -EINVAL);
    cr_expect_eq(vdev_config_access(dev, 4095, buf, 1, true), 0);
    talloc_free(dev);
}

struct cap_seen {
    unsigned off;
    unsigned id;
};

static unsigned
walk_std(struct vdev_dev *dev, struct cap_seen *seen, unsigned max)
{
    unsigned n = 0, pos = rd(dev, PCI_CAPABILITY_LIST, 1);

    while (pos && n < max) {
        seen[n].off = pos;
        seen[n].id = rd(dev, pos, 1);
        n++;
        pos = rd(dev, pos + 1, 1);
    }
    return n;
}

static unsigned
walk_ext(struct vdev_dev *dev, struct cap_seen *seen, unsigned max)
{
    unsigned n = 0, pos = 0x100;

    while (pos && n < max) {
        uint32_t h = rd(dev, pos, 4);

        if (h == 0)
            break;
        seen[n].off = pos;
        seen[n].id = h & 0xffff;
        n++;
        pos = h >> 20;
    }
    return n;
}

Test(pci_config, capability_chain)
{
    struct vdev_dev *dev = new_dev();
    static const uint8_t body[5] = {1, 2, 3, 4, 5};
    static const uint8_t bmask[5] = {0, 0xff, 0, 0x0f, 0};
    struct cap_seen s[8];
    int pm, msi, msix, pcie, vnd, dsn, vsec;

    add_bar(dev, 0, VDEV_BAR_MEM32, 16384, false);
    pm = vdev_cap_pm(dev, 0);
    msi = vdev_cap_msi(dev, 0, 8, true, true);
    msix = vdev_cap_msix(dev, 0, 16, 0, 0x2000, 0, 0x3000);
    pcie = vdev_cap_pcie(dev, 0, VDEV_PCIE_ENDPOINT, 3, 4);
    vnd = vdev_cap_vendor(dev, 0, body, sizeof(body), bmask);
    dsn = vdev_ext_cap_dsn(dev, 0, 0x0123456789abcdefull);
    vsec = vdev_ext_cap_vendor(dev, 0, 0x1234, 2, body, sizeof(body), bmask);

    cr_expect_eq(pm, 0x40);
    cr_expect_eq(msi, 0x48);
    cr_expect_eq(msix, 0x48 + 24);
    cr_expect_eq(pcie, msix + 12);
    cr_expect_eq(vnd, pcie + 0x3c);
    cr_expect_eq(dsn, 0x100);
    cr_expect_eq(vsec, 0x10c);

    cr_assert_eq(walk_std(dev, s, 8), 5);
    cr_expect_eq(s[0].id, PCI_CAP_ID_PM);
    cr_expect_eq(s[1].id, PCI_CAP_ID_MSI);
    cr_expect_eq(s[2].id, PCI_CAP_ID_MSIX);
    cr_expect_eq(s[3].id, PCI_CAP_ID_EXP);
    cr_expect_eq(s[4].id, PCI_CAP_ID_VNDR);
    cr_expect_eq(s[4].off, (unsigned)vnd);

    /* Contents. */
    cr_expect_eq(rd(dev, pm + PCI_PM_PMC, 2) & PCI_PM_CAP_VER_MASK, 3);
    cr_expect_eq(rd(dev, msi + PCI_MSI_FLAGS, 2),
                 PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (3 << 1));
    cr_expect_eq(rd(dev, msix + PCI_MSIX_FLAGS, 2), 15);
    cr_expect_eq(rd(dev, msix + PCI_MSIX_TABLE, 4), 0x2000);
    cr_expect_eq(rd(dev, msix + PCI_MSIX_PBA, 4), 0x3000);
    cr_expect_eq(rd(dev, pcie + PCI_EXP_FLAGS, 2), 0x0002);
    cr_expect_neq(rd(dev, pcie + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR, 0);
    cr_expect_eq(rd(dev, pcie + PCI_EXP_LNKCAP, 4) & 0x3ff, 3 | 4 << 4);
    cr_expect_eq(rd(dev, pcie + PCI_EXP_LNKSTA, 2), 3 | 4 << 4);
    cr_expect_eq(rd(dev, vnd + 2, 1), 8);
    cr_expect_eq(rd(dev, vnd + 3, 4), 0x04030201);

    cr_assert_eq(walk_ext(dev, s, 8), 2);
    cr_expect_eq(s[0].id, PCI_EXT_CAP_ID_DSN);
    cr_expect_eq(s[1].id, PCI_EXT_CAP_ID_VNDR);
    cr_expect_eq(rd(dev, 0x100, 4) & 0xfffff, 0x10003);
    cr_expect_eq(rd(dev, 0x104, 4), 0x89abcdef);
    cr_expect_eq(rd(dev, 0x108, 4), 0x01234567);
    cr_expect_eq(rd(dev, 0x10c + 4, 4), 0x1234 | 2 << 16 | 13u << 20);
    cr_expect_eq(rd(dev, 0x10c + 8, 1), 1);

    /* Vendor body bytes: only masked bits writable, in both kinds. */
    wr(dev, vnd + 3, 4, 0xffffffff);
    cr_expect_eq(rd(dev, vnd + 3, 4), 0x0f03ff01);
    wr(dev, 0x10c + 8, 4, 0);
    cr_expect_eq(rd(dev, 0x10c + 8, 4), 0x00030001);
    talloc_free(dev);
}

Test(pci_config, explicit_offsets)
{
    struct vdev_dev *dev = new_dev();
    struct cap_seen s[8];

    cr_expect_eq(vdev_cap_pm(dev, 0x42), -EINVAL);
    cr_expect_eq(vdev_cap_pm(dev, 0x3c), -EINVAL);
    cr_expect_eq(vdev_cap_pcie(dev, 0xd0, VDEV_PCIE_ENDPOINT, 1, 1), -ENOSPC);
    cr_expect_eq(vdev_cap_pm(dev, 0x80), 0x80);
    cr_expect_eq(vdev_cap_msi(dev, 0x84, 1, false, false), -EBUSY);
    cr_expect_eq(vdev_cap_msi(dev, 0x7c, 1, false, false), -EBUSY);
    cr_expect_eq(vdev_cap_msi(dev, 0x60, 1, false, false), 0x60);
    /* Auto placement goes after the highest capability. */
    cr_expect_eq(vdev_cap_vendor(dev, 0, NULL, 0, NULL), 0x88);
    cr_expect_eq(vdev_cap_msi(dev, 0, 2, false, false), -EEXIST);
    cr_expect_eq(vdev_cap_msi(dev, 0, 3, false, false), -EINVAL);
    cr_expect_eq(vdev_cap_msi(dev, 0, 64, false, false), -EINVAL);
    cr_expect_eq(vdev_cap_pcie(dev, 0, VDEV_PCIE_ENDPOINT, 6, 1), -EINVAL);
    cr_expect_eq(vdev_cap_pcie(dev, 0, VDEV_PCIE_ENDPOINT, 1, 3), -EINVAL);
    /* Chained in the order added, not by address. */
    cr_assert_eq(walk_std(dev, s, 8), 3);
    cr_expect_eq(s[0].off, 0x80);
    cr_expect_eq(s[1].off, 0x60);
    cr_expect_eq(s[2].off, 0x88);

    cr_expect_eq(vdev_ext_cap_dsn(dev, 0xfc, 1), -EINVAL);
    cr_expect_eq(vdev_ext_cap_dsn(dev, 0x202, 1), -EINVAL);
    cr_expect_eq(vdev_ext_cap_dsn(dev, 0xffc, 1), -ENOSPC);
    cr_expect_eq(vdev_ext_cap_dsn(dev, 0x200, 7), 0x200);
    cr_expect_eq(vdev_ext_cap_dsn(dev, 0x208, 7), -EBUSY);
    cr_expect_eq(vdev_ext_cap_vendor(dev, 0, 1, 16, NULL, 0, NULL), -EINVAL);
    cr_expect_eq(vdev_ext_cap_vendor(dev, 0, 1, 1, NULL, 0, NULL), 0x20c);
    /* The list still starts at 0x100, with a null header. */
    cr_expect_eq(rd(dev, 0x100, 4), 0x200u << 20);
    cr_expect_eq(rd(dev, 0x200, 4), 0x10003 | 0x20cu << 20);
    talloc_free(dev);
}

Test(pci_config, msix_needs_bar)
{
    struct vdev_dev *dev = new_dev();

    cr_expect_eq(vdev_cap_msix(dev, 0, 4, 0, 0, 0, 0x100), -EINVAL);
    add_bar(dev, 0, VDEV_BAR_MEM32, 4096, false);
    add_bar(dev, 1, VDEV_BAR_IO, 256, false);
    /* Outside the BAR, misaligned, I/O BAR, overlapping table and PBA. */
    cr_expect_eq(vdev_cap_msix(dev, 0, 4, 0, 0xff8, 0, 0x100), -EINVAL);
    cr_expect_eq(vdev_cap_msix(dev, 0, 4, 0, 4, 0, 0x100), -EINVAL);
    cr_expect_eq(vdev_cap_msix(dev, 0, 4, 1, 0, 0, 0x100), -EINVAL);
    cr_expect_eq(vdev_cap_msix(dev, 0, 4, 0, 0, 0, 0x38), -EINVAL);
    cr_expect_eq(vdev_cap_msix(dev, 0, 4, 0, 0, 0, 0x40), 0x40);
    cr_expect_eq(vdev_cap_msix(dev, 0, 4, 0, 0, 0, 0x40), -EEXIST);
    talloc_free(dev);
}

static int reset_calls;

static void
count_reset(struct vdev_dev *dev, void *opaque)
{
    reset_calls++;
}

Test(pci_config, reset_restores_power_on)
{
    struct vdev_dev *dev = new_dev();
    int msi, pcie, pm;

    add_bar(dev, 0, VDEV_BAR_MEM32, 4096, false);
    pm = vdev_cap_pm(dev, 0);
    msi = vdev_cap_msi(dev, 0, 4, false, true);
    pcie = vdev_cap_pcie(dev, 0, VDEV_PCIE_ENDPOINT, 2, 1);
    uint32_t devctl0 = rd(dev, pcie + PCI_EXP_DEVCTL, 2);

    wr(dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    wr(dev, PCI_BASE_ADDRESS_0, 4, 0xfe000000);
    wr(dev, msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | 2 << 4);
    wr(dev, msi + PCI_MSI_MASK_32, 4, 0x5);
    wr(dev, pcie + PCI_EXP_DEVCTL, 2, 0);
    wr(dev, pm + PCI_PM_CTRL, 2, 3);
    cr_expect_eq(rd(dev, pm + PCI_PM_CTRL, 2) & 3, 3);

    vdev_reset(dev);
    cr_expect_eq(rd(dev, PCI_COMMAND, 2), 0);
    cr_expect_eq(rd(dev, PCI_BASE_ADDRESS_0, 4), 0);
    cr_expect_eq(rd(dev, msi + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_MASKBIT | 4);
    cr_expect_eq(rd(dev, msi + PCI_MSI_MASK_32, 4), 0);
    cr_expect_eq(rd(dev, pcie + PCI_EXP_DEVCTL, 2), devctl0);
    cr_expect_eq(rd(dev, pm + PCI_PM_CTRL, 2) & 3, 0);
    cr_expect_eq(rd(dev, PCI_CAPABILITY_LIST, 1), pm);
    cr_expect_eq(rd(dev, PCI_VENDOR_ID, 2), 0x1b36);
    talloc_free(dev);
}

Test(pci_config, pm_rejects_unsupported_states)
{
    struct vdev_dev *dev = new_dev();
    int pm = vdev_cap_pm(dev, 0);

    wr(dev, pm + PCI_PM_CTRL, 2, 1);
    cr_expect_eq(rd(dev, pm + PCI_PM_CTRL, 2) & 3, 0);
    wr(dev, pm + PCI_PM_CTRL, 2, 3);
    wr(dev, pm + PCI_PM_CTRL, 2, 2);
    cr_expect_eq(rd(dev, pm + PCI_PM_CTRL, 2) & 3, 3);
    talloc_free(dev);
}

Test(pci_config, flr_resets_device)
{
    struct vdev_dev *dev = new_dev();
    int pcie = vdev_cap_pcie(dev, 0, VDEV_PCIE_ENDPOINT, 1, 1);

    reset_calls = 0;
    vdev_set_reset_cb(dev, count_reset, NULL);
    wr(dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    /* Writing devctl without the FLR bit does nothing of the kind. */
    wr(dev, pcie + PCI_EXP_DEVCTL, 2, rd(dev, pcie + PCI_EXP_DEVCTL, 2));
    cr_expect_eq(reset_calls, 0);
    wr(dev, pcie + PCI_EXP_DEVCTL, 2,
       rd(dev, pcie + PCI_EXP_DEVCTL, 2) | PCI_EXP_DEVCTL_BCR_FLR);
    cr_expect_eq(reset_calls, 1);
    cr_expect_eq(rd(dev, PCI_COMMAND, 2), 0);
    cr_expect_eq(rd(dev, pcie + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR, 0);
    talloc_free(dev);
}

struct hook_log {
    unsigned calls, off, len;
};

static void
hook(struct vdev_dev *dev, void *opaque, unsigned offset, unsigned len)
{
    struct hook_log *h = opaque;

    h->calls++;
    h->off = offset;
    h->len = len;
}

Test(pci_config, hook_after_write_and_device_access)
{
    struct vdev_dev *dev = new_dev();
    struct hook_log h = {0};
    uint8_t b[4] = {0x55, 0, 0, 0};

    vdev_set_config_hook(dev, hook, &h);
    wr(dev, PCI_LATENCY_TIMER, 1, 0x20);
    cr_expect_eq(h.calls, 1);
    cr_expect_eq(h.off, PCI_LATENCY_TIMER);
    cr_expect_eq(h.len, 1);
    rd(dev, 0, 4);
    cr_expect_eq(h.calls, 1);

    /* Device-side access: any bits, no hook, bounds checked. */
    cr_expect_eq(vdev_config_write(dev, 0x200, b, 4), 0);
    cr_expect_eq(h.calls, 1);
    memset(b, 0, sizeof(b));
    cr_expect_eq(vdev_config_read(dev, 0x200, b, 4), 0);
    cr_expect_eq(b[0], 0x55);
    cr_expect_eq(vdev_config_read(dev, 4094, b, 4), -EINVAL);
    cr_expect_eq(vdev_config_write(dev, 4096, b, 1), -EINVAL);
    talloc_free(dev);
}
