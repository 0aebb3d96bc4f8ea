/* vdevctl: turns a config-space image and region/IRQ info into the text
 * `lspci -vv` would print for the device. */
#include <inttypes.h>
#include <stdbool.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "decode.h"

struct class_name {
    uint16_t code; /* base << 8 | sub */
    const char *name;
};

static const struct class_name sub_names[] = {
    {0x0000, "Non-VGA unclassified device"},
    {0x0001, "VGA compatible unclassified device"},
    {0x0100, "SCSI storage controller"},
    {0x0101, "IDE interface"},
    {0x0104, "RAID bus controller"},
    {0x0106, "SATA controller"},
    {0x0107, "Serial Attached SCSI controller"},
    {0x0108, "Non-Volatile memory controller"},
    {0x0200, "Ethernet controller"},
    {0x0280, "Network controller"},
    {0x0300, "VGA compatible controller"},
    {0x0302, "3D controller"},
    {0x0401, "Multimedia audio controller"},
    {0x0403, "Audio device"},
    {0x0500, "RAM memory"},
    {0x0580, "Memory controller"},
    {0x0600, "Host bridge"},
    {0x0601, "ISA bridge"},
    {0x0604, "PCI bridge"},
    {0x0700, "Serial controller"},
    {0x0780, "Communication controller"},
    {0x0880, "System peripheral"},
    {0x0c03, "USB controller"},
    {0x0c05, "SMBus"},
    {0x1180, "Signal processing controller"},
};

static const char *const base_names[] = {
    "Unclassified device",
    "Mass storage controller",
    "Network controller",
    "Display controller",
    "Multimedia controller",
    "Memory controller",
    "Bridge",
    "Communication controller",
    "Generic system peripheral",
    "Input device controller",
    "Docking station",
    "Processor",
    "Serial bus controller",
    "Wireless controller",
    "Intelligent controller",
    "Satellite communications controller",
    "Encryption controller",
    "Signal processing controller",
    "Processing accelerators",
    "Non-Essential Instrumentation",
};

const char *
vdevctl_class_name(uint32_t class_code)
{
    uint16_t bs = (uint16_t)(class_code >> 8);
    unsigned base = (class_code >> 16) & 0xff;

    for (size_t i = 0; i < sizeof(sub_names) / sizeof(sub_names[0]); i++)
        if (sub_names[i].code == bs)
            return sub_names[i].name;
    if (base < sizeof(base_names) / sizeof(base_names[0]))
        return base_names[base];
    if (base == 0x40)
        return "Coprocessor";
    if (base == 0xff)
        return "Unassigned class";
    return "Unknown class";
}

void
vdevctl_format_size(char *buf, size_t len, uint64_t size)
{
    static const char units[] = "KMGTPE";
    unsigned u = 0;

    if (size == 0 || size % 1024) {
        snprintf(buf, len, "%" PRIu64, size);
        return;
    }
    size /= 1024;
    while (size % 1024 == 0 && size >= 1024 && u < sizeof(units) - 2) {
        size /= 1024;
        u++;
    }
    snprintf(buf, len, "%" PRIu64 "%c", size, units[u]);
}

void
vdevctl_print_header(FILE *f, const uint8_t *cfg)
{
    uint32_t class_code = rd32(cfg, PCI_CLASS_REVISION) >> 8;
    uint16_t cmd = rd16(cfg, PCI_COMMAND);
    uint16_t st = rd16(cfg, PCI_STATUS);
    static const char *const devsel[] = {"fast", "medium", "slow", "??"};
    uint8_t pin = cfg[PCI_INTERRUPT_PIN];

    fprintf(f, "Device: %04x:%04x (rev %02x)\n", rd16(cfg, PCI_VENDOR_ID),
            rd16(cfg, PCI_DEVICE_ID), cfg[PCI_REVISION_ID]);
    fprintf(f, "\tClass: %s [%04x] (prog-if %02x)\n",
            vdevctl_class_name(class_code), class_code >> 8, class_code & 0xff);
    fprintf(f, "\tSubsystem: %04x:%04x\n", rd16(cfg, PCI_SUBSYSTEM_VENDOR_ID),
            rd16(cfg, PCI_SUBSYSTEM_ID));
    fprintf(f,
            "\tControl: I/O%c Mem%c BusMaster%c SpecCycle%c MemWINV%c "
            "VGASnoop%c ParErr%c Stepping%c SERR%c FastB2B%c DisINTx%c\n",
            flag(cmd, PCI_COMMAND_IO), flag(cmd, PCI_COMMAND_MEMORY),
            flag(cmd, PCI_COMMAND_MASTER), flag(cmd, PCI_COMMAND_SPECIAL),
            flag(cmd, PCI_COMMAND_INVALIDATE),
            flag(cmd, PCI_COMMAND_VGA_PALETTE), flag(cmd, PCI_COMMAND_PARITY),
            flag(cmd, PCI_COMMAND_WAIT), flag(cmd, PCI_COMMAND_SERR),
            flag(cmd, PCI_COMMAND_FAST_BACK),
            flag(cmd, PCI_COMMAND_INTX_DISABLE));
    fprintf(
        f,
        "\tStatus: Cap%c 66MHz%c UDF%c FastB2B%c ParErr%c DEVSEL=%s "
        ">TAbort%c <TAbort%c <MAbort%c >SERR%c <PERR%c INTx%c\n",
        flag(st, PCI_STATUS_CAP_LIST), flag(st, PCI_STATUS_66MHZ),
        flag(st, PCI_STATUS_UDF), flag(st, PCI_STATUS_FAST_BACK),
        flag(st, PCI_STATUS_PARITY), devsel[(st & PCI_STATUS_DEVSEL_MASK) >> 9],
        flag(st, PCI_STATUS_SIG_TARGET_ABORT),
        flag(st, PCI_STATUS_REC_TARGET_ABORT),
        flag(st, PCI_STATUS_REC_MASTER_ABORT),
        flag(st, PCI_STATUS_SIG_SYSTEM_ERROR),
        flag(st, PCI_STATUS_DETECTED_PARITY), flag(st, PCI_STATUS_INTERRUPT));
    if (pin >= 1 && pin <= 4)
        fprintf(f, "\tInterrupt: pin %c\n", 'A' + pin - 1);
    else if (pin)
        fprintf(f, "\tInterrupt: pin ?%u\n", pin);
}

/* The region types <linux/vfio.h> names, as a suffix for the type line. */
static const char *
region_type_name(uint32_t type, uint32_t subtype)
{
    if (type == VFIO_REGION_TYPE_MIGRATION_DEPRECATED &&
        subtype == VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED)
        return " (migration, legacy)";
    /* <linux/vfio.h> spells VFIO_REGION_TYPE_PCI_VENDOR_TYPE 1 << 31 */
    if (type & 0x80000000u)
        return " (PCI vendor specific)";
    if (type == VFIO_REGION_TYPE_GFX)
        return " (graphics)";
    if (type == VFIO_REGION_TYPE_CCW)
        return " (channel I/O)";
    return "";
}

void
vdevctl_region_caps(const struct vfio_region_info *ri, const void *caps_v,
                    size_t caps_len, struct vdevctl_region_caps *out)
{
    const uint8_t *caps = caps_v;
    const size_t fixed = sizeof(*ri);
    uint32_t off = ri->cap_offset;

    memset(out, 0, sizeof(*out));
    if (!(ri->flags & VFIO_REGION_INFO_FLAG_CAPS) || !caps)
        return;
    /* Offsets in the chain count from the start of the region info. */
    for (unsigned guard = 0; off && guard < 16; guard++) {
        struct vfio_info_cap_header h;
        if (off < fixed || off - fixed + sizeof(h) > caps_len)
            return;
        memcpy(&h, caps + (off - fixed), sizeof(h));
        size_t body = off - fixed + sizeof(h);
        if (h.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP && body + 8 <= caps_len) {
            out->sparse = true;
            memcpy(&out->nr_areas, caps + body, sizeof(out->nr_areas));
            out->areas_read = 0;
            for (uint32_t i = 0;
                 i < out->nr_areas && out->areas_read < VDEVCTL_MAX_AREAS;
                 i++) {
                size_t at = body + 8 + i * sizeof(out->areas[0]);
                if (at + sizeof(out->areas[0]) > caps_len)
                    break;
                memcpy(&out->areas[out->areas_read++], caps + at,
                       sizeof(out->areas[0]));
            }
        } else if (h.id == VFIO_REGION_INFO_CAP_TYPE && body + 8 <= caps_len) {
            uint32_t t[2];
            memcpy(t, caps + body, sizeof(t));
            out->typed = true;
            out->type = t[0];
            out->subtype = t[1];
        }
        if (h.next && h.next <= off)
            return; /* a loop in a hostile chain */
        off = h.next;
    }
}

/* Sparse mmap areas and the region type, one line each. */
static void
print_region_caps(FILE *f, const struct vfio_region_info *ri,
                  const uint8_t *caps, size_t caps_len)
{
    struct vdevctl_region_caps rc;

    vdevctl_region_caps(ri, caps, caps_len, &rc);
    if (rc.sparse) {
        fprintf(f, "\t\tSparse mmap: %u area%s", rc.nr_areas,
                rc.nr_areas == 1 ? "" : "s");
        for (unsigned i = 0; i < rc.areas_read; i++) {
            char sz[32];
            vdevctl_format_size(sz, sizeof(sz), rc.areas[i].size);
            fprintf(f, " [%#" PRIx64 " size=%s]", (uint64_t)rc.areas[i].offset,
                    sz);
        }
        fputc('\n', f);
    }
    if (rc.typed)
        fprintf(f, "\t\tRegion type: %#x subtype %#x%s\n", rc.type, rc.subtype,
                region_type_name(rc.type, rc.subtype));
}

static void
print_region_flags(FILE *f, const struct vfio_region_info *ri)
{
    fprintf(f, " [%s%s%s]", (ri->flags & VFIO_REGION_INFO_FLAG_READ) ? "r" : "",
            (ri->flags & VFIO_REGION_INFO_FLAG_WRITE) ? "w" : "",
            (ri->flags & VFIO_REGION_INFO_FLAG_MMAP) ? ", mmap" : "");
}

void
vdevctl_decode_bar(const uint8_t *cfg, unsigned index, struct vdevctl_bar *out)
{
    memset(out, 0, sizeof(*out));
    /* the upper half of a 64-bit BAR belongs to the BAR below it */
    for (unsigned i = 0; i < index; i++) {
        uint32_t lo = rd32(cfg, PCI_BASE_ADDRESS_0 + 4 * i);
        if (!(lo & PCI_BASE_ADDRESS_SPACE_IO) &&
            (lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                PCI_BASE_ADDRESS_MEM_TYPE_64) {
            if (i + 1 == index) {
                out->upper_half = true;
                return;
            }
            i++;
        }
    }
    uint32_t bar = rd32(cfg, PCI_BASE_ADDRESS_0 + 4 * index);
    if (bar & PCI_BASE_ADDRESS_SPACE_IO) {
        out->io = true;
        out->addr = bar & PCI_BASE_ADDRESS_IO_MASK;
        return;
    }
    out->is64 = (bar & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
                    PCI_BASE_ADDRESS_MEM_TYPE_64 &&
                index < 5;
    out->prefetch = bar & PCI_BASE_ADDRESS_MEM_PREFETCH;
    out->addr = bar & PCI_BASE_ADDRESS_MEM_MASK;
    if (out->is64)
        out->addr |= (uint64_t)rd32(cfg, PCI_BASE_ADDRESS_0 + 4 * index + 4)
                     << 32;
}

void
vdevctl_print_bar(FILE *f, const uint8_t *cfg, unsigned index,
                  const struct vfio_region_info *ri, const void *caps,
                  size_t caps_len)
{
    char sz[32];

    if (index > 6 || ri->size == 0)
        return;
    vdevctl_format_size(sz, sizeof(sz), ri->size);
    if (index == 6) {
        uint32_t rom = rd32(cfg, PCI_ROM_ADDRESS);
        uint32_t addr = rom & PCI_ROM_ADDRESS_MASK;
        fprintf(f, "\tExpansion ROM at ");
        if (addr)
            fprintf(f, "%08x", addr);
        else
            fprintf(f, "<unassigned>");
        fprintf(f, "%s [size=%s]",
                (rom & PCI_ROM_ADDRESS_ENABLE) ? "" : " [disabled]", sz);
        print_region_flags(f, ri);
        fputc('\n', f);
        print_region_caps(f, ri, caps, caps_len);
        return;
    }
    struct vdevctl_bar b;
    vdevctl_decode_bar(cfg, index, &b);
    if (b.upper_half)
        return;
    if (b.io) {
        fprintf(f, "\tRegion %u: I/O ports at ", index);
        if (b.addr)
            fprintf(f, "%04" PRIx64, b.addr);
        else
            fprintf(f, "<unassigned>");
        fprintf(f, " [size=%s]", sz);
    } else {
        fprintf(f, "\tRegion %u: Memory at ", index);
        if (b.addr)
            fprintf(f, "%0*" PRIx64, b.is64 ? 16 : 8, b.addr);
        else
            fprintf(f, "<unassigned>");
        fprintf(f, " (%s, %sprefetchable) [size=%s]",
                b.is64 ? "64-bit" : "32-bit", b.prefetch ? "" : "non-", sz);
    }
    print_region_flags(f, ri);
    fputc('\n', f);
    print_region_caps(f, ri, caps, caps_len);
}

void
vdevctl_print_region(FILE *f, unsigned index, const struct vfio_region_info *ri,
                     const void *caps, size_t caps_len)
{
    char sz[32];

    if (ri->size == 0)
        return;
    vdevctl_format_size(sz, sizeof(sz), ri->size);
    fprintf(f, "\tRegion %u: %s [size=%s]", index,
            index == VFIO_PCI_VGA_REGION_INDEX ? "VGA" : "Device-specific", sz);
    print_region_flags(f, ri);
    fputc('\n', f);
    print_region_caps(f, ri, caps, caps_len);
}

void
vdevctl_print_irqs(FILE *f, const uint32_t *counts, unsigned nr)
{
    static const char *const names[VDEVCTL_NR_IRQ_INDEXES] = {
        "INTx", "MSI", "MSI-X", "ERR", "REQ"};

    fprintf(f, "\tIRQs:");
    for (unsigned i = 0; i < VDEVCTL_NR_IRQ_INDEXES; i++)
        fprintf(f, " %s=%u", names[i], i < nr ? counts[i] : 0);
    fputc('\n', f);
}
