/* vdevctl's decoder on a hand-built 4 KiB config-space image: IDs, class,
 * Control/Status, BARs with region flags, every capability it knows. */
#include <criterion/criterion.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/vdevctl/decode.h"

static uint8_t cfg[4096];

static void
w16(unsigned off, uint16_t v)
{
    cfg[off] = (uint8_t)v;
    cfg[off + 1] = (uint8_t)(v >> 8);
}

static void
w32(unsigned off, uint32_t v)
{
    w16(off, (uint16_t)v);
    w16(off + 2, (uint16_t)(v >> 16));
}

static void
build_image(void)
{
    memset(cfg, 0, sizeof(cfg));
    w16(PCI_VENDOR_ID, 0x1234);
    w16(PCI_DEVICE_ID, 0x11e8);
    w16(PCI_COMMAND,
        PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
    w16(PCI_STATUS, PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT);
    w32(PCI_CLASS_REVISION, 0x02000010);
    w16(PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
    w16(PCI_SUBSYSTEM_ID, 0x1100);
    cfg[PCI_INTERRUPT_PIN] = 1;
    w32(PCI_BASE_ADDRESS_0, 0xfe000000);
    w32(PCI_BASE_ADDRESS_2,
        PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
    w32(PCI_BASE_ADDRESS_3, 0);
    w32(PCI_BASE_ADDRESS_4, 0xc000 | PCI_BASE_ADDRESS_SPACE_IO);
    cfg[PCI_CAPABILITY_LIST] = 0x40;

    cfg[0x40] = PCI_CAP_ID_PM;
    cfg[0x41] = 0x50;
    w16(0x42, 3 | PCI_PM_CAP_D1 | PCI_PM_CAP_PME_D3hot);
    w16(0x44, PCI_PM_CTRL_NO_SOFT_RESET);

    cfg[0x50] = PCI_CAP_ID_MSI;
    cfg[0x51] = 0x70;
    w16(0x52, PCI_MSI_FLAGS_ENABLE | (2 << 1) | (1 << 4) | PCI_MSI_FLAGS_64BIT |
                  PCI_MSI_FLAGS_MASKBIT);
    w32(0x54, 0xfee00000);
    w32(0x58, 0x1);
    w16(0x5c, 0x4021);
    w32(0x60, 0x2);

    cfg[0x70] = PCI_CAP_ID_MSIX;
    cfg[0x71] = 0x80;
    w16(0x72, 7 | PCI_MSIX_FLAGS_MASKALL);
    w32(0x74, 1);
    w32(0x78, 0x800 | 1);

    cfg[0x80] = PCI_CAP_ID_EXP;
    cfg[0x81] = 0xc0;
    w16(0x82, 2 | (PCI_EXP_TYPE_ENDPOINT << 4));
    w32(0x84, PCI_EXP_DEVCAP_FLR | PCI_EXP_DEVCAP_RBER | 1);
    w16(0x88, 2 << 12);
    w32(0x8c, 3 | (4 << 4));
    w16(0x92, 1 | (1 << 4));

    cfg[0xc0] = PCI_CAP_ID_VNDR;
    cfg[0xc1] = 0;
    cfg[0xc2] = 0x10;

    w32(0x100, PCI_EXT_CAP_ID_DSN | (1 << 16) | (0x110u << 20));
    w32(0x104, 0x9abcdef0);
    w32(0x108, 0x12345678);
    w32(0x110, PCI_EXT_CAP_ID_VNDR | (1 << 16));
    w32(0x114, 0x1234 | (1 << 16) | (0x10u << 20));
}

static char *
capture(void (*fn)(FILE *))
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    fn(f);
    fclose(f);
    return buf;
}

#define assert_has(text, needle)                                               \
    cr_assert_not_null(strstr((text), (needle)), "missing \"%s\" in:\n%s",     \
                       (needle), (text))

static void
do_header(FILE *f)
{
    vdevctl_print_header(f, cfg);
}

Test(vdevctl_decode, header)
{
    build_image();
    char *t = capture(do_header);
    assert_has(t, "Device: 1234:11e8 (rev 10)\n");
    assert_has(t, "\tClass: Ethernet controller [0200] (prog-if 00)\n");
    assert_has(t, "\tSubsystem: 1af4:1100\n");
    assert_has(t, "\tControl: I/O- Mem+ BusMaster+ SpecCycle- MemWINV- "
                  "VGASnoop- ParErr- Stepping- SERR- FastB2B- DisINTx+\n");
    assert_has(t, "\tStatus: Cap+ 66MHz- UDF- FastB2B- ParErr- DEVSEL=fast "
                  ">TAbort- <TAbort- <MAbort- >SERR- <PERR- INTx+\n");
    assert_has(t, "\tInterrupt: pin A\n");
    free(t);
}

Test(vdevctl_decode, class_names)
{
    cr_assert_str_eq(vdevctl_class_name(0x00ff00), "Unclassified device");
    cr_assert_str_eq(vdevctl_class_name(0x010802), "Non-Volatile memory "
                                                   "controller");
    cr_assert_str_eq(vdevctl_class_name(0x058000), "Memory controller");
    cr_assert_str_eq(vdevctl_class_name(0x118000),
                     "Signal processing controller");
    cr_assert_str_eq(vdevctl_class_name(0x0c0330), "USB controller");
    cr_assert_str_eq(vdevctl_class_name(0x0a0000), "Docking station");
    cr_assert_str_eq(vdevctl_class_name(0xff0000), "Unassigned class");
    cr_assert_str_eq(vdevctl_class_name(0x800000), "Unknown class");
}

static void
do_caps(FILE *f)
{
    vdevctl_print_caps(f, cfg, sizeof(cfg));
}

Test(vdevctl_decode, capabilities)
{
    build_image();
    char *t = capture(do_caps);
    assert_has(t, "\tCapabilities: [40] Power Management version 3\n");
    assert_has(t, "\t\tFlags: PMEClk- DSI- D1+ D2- AuxCurrent=0mA "
                  "PME(D0-,D1-,D2-,D3hot+,D3cold-)\n");
    assert_has(t, "\t\tStatus: D0 NoSoftRst+ PME-Enable- DSel=0 DScale=0 "
                  "PME-\n");
    assert_has(t, "\tCapabilities: [50] MSI: Enable+ Count=2/4 Maskable+ "
                  "64bit+\n");
    assert_has(t, "\t\tAddress: 00000001fee00000  Data: 4021\n");
    assert_has(t, "\t\tMasking: 00000002  Pending: 00000000\n");
    assert_has(t, "\tCapabilities: [70] MSI-X: Enable- Count=8 Masked+\n");
    assert_has(t, "\t\tVector table: BAR=1 offset=00000000\n");
    assert_has(t, "\t\tPBA: BAR=1 offset=00000800\n");
    assert_has(t, "\tCapabilities: [80] Express (v2) Endpoint, MSI 00\n");
    assert_has(t, "\t\tDevCap:\tMaxPayload 256 bytes, PhantFunc 0\n");
    assert_has(t, "RBE+ FLReset+\n");
    assert_has(t, "\t\t\tMaxPayload 128 bytes, MaxReadReq 512 bytes\n");
    assert_has(t, "\t\tLnkCap:\tPort #0, Speed 8GT/s, Width x4\n");
    assert_has(t, "\t\tLnkSta:\tSpeed 2.5GT/s, Width x1\n");
    assert_has(t, "\tCapabilities: [c0] Vendor Specific Information: "
                  "Len=10 <?>\n");
    assert_has(t, "\tCapabilities: [100 v1] Device Serial Number "
                  "12-34-56-78-9a-bc-de-f0\n");
    assert_has(t, "\tCapabilities: [110 v1] Vendor Specific Information: "
                  "ID=1234 Rev=1 Len=010 <?>\n");
    /* the walk ends where the chain does: nothing after the VSEC */
    cr_assert_null(strstr(strstr(t, "[110 v1]"), "\n\tCapabilities"));
    free(t);
}

static void
do_caps_256(FILE *f)
{
    vdevctl_print_caps(f, cfg, 256);
}

static void
do_loop(FILE *f)
{
    vdevctl_print_caps(f, cfg, sizeof(cfg));
}

Test(vdevctl_decode, conventional_space_and_hostile_chains)
{
    build_image();
    char *t = capture(do_caps_256);
    cr_assert_null(strstr(t, "Serial Number"));
    free(t);
    /* loops in either list end the walk instead of hanging */
    cfg[0xc1] = 0x40;
    w32(0x110, PCI_EXT_CAP_ID_VNDR | (1 << 16) | (0x100u << 20));
    t = capture(do_loop);
    cr_assert_eq(strstr(strstr(t, "[40]") + 1, "[40]"), NULL);
    cr_assert_eq(strstr(strstr(t, "[100 v1]") + 1, "[100 v1]"), NULL);
    free(t);
    /* no capability list bit: nothing walked */
    w16(PCI_STATUS, 0);
    memset(cfg + 0x100, 0, 0x20);
    t = capture(do_loop);
    cr_assert_str_eq(t, "");
    free(t);
}

static struct vfio_region_info bar_ri[7];
static uint8_t bar_caps[64];
static size_t bar_caps_len;

static void
do_bars(FILE *f)
{
    for (unsigned i = 0; i < 7; i++)
        vdevctl_print_bar(f, cfg, i, &bar_ri[i], i == 0 ? bar_caps : NULL,
                          i == 0 ? bar_caps_len : 0);
}

Test(vdevctl_decode, bars)
{
    build_image();
    memset(bar_ri, 0, sizeof(bar_ri));
    bar_ri[0] = (struct vfio_region_info){
        .argsz = 32 + 40,
        .index = 0,
        .size = 8192,
        .cap_offset = 32,
        .flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                 VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS};
    struct vfio_info_cap_header h = {
        .id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1, .next = 0};
    uint32_t nr[2] = {1, 0};
    struct vfio_region_sparse_mmap_area a = {.offset = 0x1000, .size = 0x1000};
    memcpy(bar_caps, &h, sizeof(h));
    memcpy(bar_caps + 8, nr, sizeof(nr));
    memcpy(bar_caps + 16, &a, sizeof(a));
    bar_caps_len = 32;
    bar_ri[2] = (struct vfio_region_info){.index = 2,
                                          .size = 1 << 20,
                                          .flags = VFIO_REGION_INFO_FLAG_READ |
                                                   VFIO_REGION_INFO_FLAG_WRITE};
    bar_ri[3] = bar_ri[2]; /* the server may echo the pair; not printed */
    bar_ri[4] = (struct vfio_region_info){.index = 4,
                                          .size = 32,
                                          .flags = VFIO_REGION_INFO_FLAG_READ |
                                                   VFIO_REGION_INFO_FLAG_WRITE};
    bar_ri[6] = (struct vfio_region_info){
        .index = 6, .size = 65536, .flags = VFIO_REGION_INFO_FLAG_READ};
    char *t = capture(do_bars);
    assert_has(t, "\tRegion 0: Memory at fe000000 (32-bit, "
                  "non-prefetchable) [size=8K] [rw, mmap]\n"
                  "\t\tSparse mmap: 1 area [0x1000 size=4K]\n");
    assert_has(t, "\tRegion 2: Memory at <unassigned> (64-bit, "
                  "prefetchable) [size=1M] [rw]\n");
    cr_assert_null(strstr(t, "Region 3"));
    cr_assert_null(strstr(t, "Region 1"));
    assert_has(t, "\tRegion 4: I/O ports at c000 [size=32] [rw]\n");
    assert_has(t, "\tExpansion ROM at <unassigned> [disabled] [size=64K] "
                  "[r]\n");
    free(t);
}

static void
do_irqs(FILE *f)
{
    static const uint32_t counts[5] = {1, 4, 8, 1, 1};
    vdevctl_print_irqs(f, counts, 5);
    vdevctl_print_irqs(f, counts, 2);
}

Test(vdevctl_decode, irqs_and_sizes)
{
    char *t = capture(do_irqs);
    cr_assert_str_eq(t, "\tIRQs: INTx=1 MSI=4 MSI-X=8 ERR=1 REQ=1\n"
                        "\tIRQs: INTx=1 MSI=4 MSI-X=0 ERR=0 REQ=0\n");
    free(t);
    char b[32];
    vdevctl_format_size(b, sizeof(b), 4096);
    cr_assert_str_eq(b, "4K");
    vdevctl_format_size(b, sizeof(b), 3u << 20);
    cr_assert_str_eq(b, "3M");
    vdevctl_format_size(b, sizeof(b), 1ull << 32);
    cr_assert_str_eq(b, "4G");
    vdevctl_format_size(b, sizeof(b), 1536);
    cr_assert_str_eq(b, "1536");
    vdevctl_format_size(b, sizeof(b), 2048 + 1024);
    cr_assert_str_eq(b, "3K");
}

static void
do_extra(FILE *f)
{
    struct vfio_region_info ri = {.argsz = 32 + 16,
                                  .index = 9,
                                  .size = 256,
                                  .cap_offset = 32,
                                  .flags = VFIO_REGION_INFO_FLAG_READ |
                                           VFIO_REGION_INFO_FLAG_CAPS};
    uint8_t caps[16];
    struct vfio_info_cap_header h = {
        .id = VFIO_REGION_INFO_CAP_TYPE, .version = 1, .next = 32};
    uint32_t t[2] = {0x8086, 3};
    memcpy(caps, &h, sizeof(h));
    memcpy(caps + 8, t, sizeof(t));
    /* next points back at itself: printed once */
    vdevctl_print_region(f, 9, &ri, caps, sizeof(caps));
    t[0] = VFIO_REGION_TYPE_MIGRATION_DEPRECATED;
    t[1] = VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED;
    memcpy(caps + 8, t, sizeof(t));
    ri.index = 10;
    vdevctl_print_region(f, 10, &ri, caps, sizeof(caps));
    t[0] = 0x80001af4u; /* a PCI vendor type: the top bit */
    t[1] = 7;
    memcpy(caps + 8, t, sizeof(t));
    vdevctl_print_region(f, 11, &ri, caps, sizeof(caps));
    ri.size = 0;
    vdevctl_print_region(f, 10, &ri, NULL, 0);
}

Test(vdevctl_decode, device_specific_region)
{
    char *t = capture(do_extra);
    cr_assert_str_eq(t, "\tRegion 9: Device-specific [size=256] [r]\n"
                        "\t\tRegion type: 0x8086 subtype 0x3\n"
                        "\tRegion 10: Device-specific [size=256] [r]\n"
                        "\t\tRegion type: 0x3 subtype 0x1 "
                        "(migration, legacy)\n"
                        "\tRegion 11: Device-specific [size=256] [r]\n"
                        "\t\tRegion type: 0x80001af4 subtype 0x7 "
                        "(PCI vendor specific)\n");
    free(t);
}
