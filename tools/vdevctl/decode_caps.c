/* vdevctl: the capability lists of a config-space image (PM, MSI, MSI-X,
 * PCI Express, vendor-specific; extended DSN and VSEC) as lspci shows them. */
#include <inttypes.h>
#include <linux/pci_regs.h>
#include <stdbool.h>

#include "decode.h"

static void
print_pm(FILE *f, const uint8_t *cfg, unsigned at)
{
    static const unsigned aux_ma[] = {0, 55, 100, 160, 220, 270, 320, 375};
    uint16_t pmc = rd16(cfg, at + PCI_PM_PMC);
    uint16_t csr = rd16(cfg, at + PCI_PM_CTRL);

    fprintf(f, "\tCapabilities: [%02x] Power Management version %u\n", at,
            pmc & PCI_PM_CAP_VER_MASK);
    fprintf(f,
            "\t\tFlags: PMEClk%c DSI%c D1%c D2%c AuxCurrent=%umA "
            "PME(D0%c,D1%c,D2%c,D3hot%c,D3cold%c)\n",
            flag(pmc, PCI_PM_CAP_PME_CLOCK), flag(pmc, PCI_PM_CAP_DSI),
            flag(pmc, PCI_PM_CAP_D1), flag(pmc, PCI_PM_CAP_D2),
            aux_ma[(pmc & PCI_PM_CAP_AUX_POWER) >> 6],
            flag(pmc, PCI_PM_CAP_PME_D0), flag(pmc, PCI_PM_CAP_PME_D1),
            flag(pmc, PCI_PM_CAP_PME_D2), flag(pmc, PCI_PM_CAP_PME_D3hot),
            flag(pmc, PCI_PM_CAP_PME_D3cold));
    fprintf(f,
            "\t\tStatus: D%u NoSoftRst%c PME-Enable%c DSel=%u DScale=%u "
            "PME%c\n",
            csr & PCI_PM_CTRL_STATE_MASK, flag(csr, PCI_PM_CTRL_NO_SOFT_RESET),
            flag(csr, PCI_PM_CTRL_PME_ENABLE),
            (csr & PCI_PM_CTRL_DATA_SEL_MASK) >> 9,
            (csr & PCI_PM_CTRL_DATA_SCALE_MASK) >> 13,
            flag(csr, PCI_PM_CTRL_PME_STATUS));
}

static void
print_msi(FILE *f, const uint8_t *cfg, unsigned at)
{
    uint16_t ctl = rd16(cfg, at + PCI_MSI_FLAGS);
    bool is64 = ctl & PCI_MSI_FLAGS_64BIT;
    bool mask = ctl & PCI_MSI_FLAGS_MASKBIT;
    unsigned data_at = at + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
    uint64_t addr = rd32(cfg, at + PCI_MSI_ADDRESS_LO);

    if (is64)
        addr |= (uint64_t)rd32(cfg, at + PCI_MSI_ADDRESS_HI) << 32;
    fprintf(f,
            "\tCapabilities: [%02x] MSI: Enable%c Count=%u/%u Maskable%c "
            "64bit%c\n",
            at, flag(ctl, PCI_MSI_FLAGS_ENABLE),
            1u << ((ctl & PCI_MSI_FLAGS_QSIZE) >> 4),
            1u << ((ctl & PCI_MSI_FLAGS_QMASK) >> 1), mask ? '+' : '-',
            is64 ? '+' : '-');
    fprintf(f, "\t\tAddress: %0*" PRIx64 "  Data: %04x\n", is64 ? 16 : 8, addr,
            rd16(cfg, data_at));
    if (mask)
        fprintf(
            f, "\t\tMasking: %08x  Pending: %08x\n",
            rd32(cfg, at + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32)),
            rd32(cfg, at + (is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32)));
}

static void
print_msix(FILE *f, const uint8_t *cfg, unsigned at)
{
    uint16_t ctl = rd16(cfg, at + PCI_MSIX_FLAGS);
    uint32_t table = rd32(cfg, at + PCI_MSIX_TABLE);
    uint32_t pba = rd32(cfg, at + PCI_MSIX_PBA);

    fprintf(f, "\tCapabilities: [%02x] MSI-X: Enable%c Count=%u Masked%c\n", at,
            flag(ctl, PCI_MSIX_FLAGS_ENABLE), (ctl & PCI_MSIX_FLAGS_QSIZE) + 1,
            flag(ctl, PCI_MSIX_FLAGS_MASKALL));
    fprintf(f, "\t\tVector table: BAR=%u offset=%08x\n",
            table & PCI_MSIX_TABLE_BIR, table & PCI_MSIX_TABLE_OFFSET);
    fprintf(f, "\t\tPBA: BAR=%u offset=%08x\n", pba & PCI_MSIX_PBA_BIR,
            pba & PCI_MSIX_PBA_OFFSET);
}

static const char *
pcie_type(unsigned t)
{
    switch (t) {
    case PCI_EXP_TYPE_ENDPOINT:
        return "Endpoint";
    case PCI_EXP_TYPE_LEG_END:
        return "Legacy Endpoint";
    case PCI_EXP_TYPE_ROOT_PORT:
        return "Root Port (Slot-)";
    case PCI_EXP_TYPE_UPSTREAM:
        return "Upstream Port";
    case PCI_EXP_TYPE_DOWNSTREAM:
        return "Downstream Port (Slot-)";
    case PCI_EXP_TYPE_PCI_BRIDGE:
        return "PCI-Express to PCI/PCI-X Bridge";
    case PCI_EXP_TYPE_PCIE_BRIDGE:
        return "PCI/PCI-X to PCI-Express Bridge";
    case PCI_EXP_TYPE_RC_END:
        return "Root Complex Integrated Endpoint";
    case PCI_EXP_TYPE_RC_EC:
        return "Root Complex Event Collector";
    default:
        return "Unknown type";
    }
}

static const char *
link_speed(unsigned s)
{
    static const char *const speeds[] = {"unknown", "2.5GT/s", "5GT/s", "8GT/s",
                                         "16GT/s",  "32GT/s",  "64GT/s"};
    return s < sizeof(speeds) / sizeof(speeds[0]) ? speeds[s] : "unknown";
}

static void
print_pcie(FILE *f, const uint8_t *cfg, unsigned at)
{
    uint16_t flags = rd16(cfg, at + PCI_EXP_FLAGS);
    unsigned type = (flags & PCI_EXP_FLAGS_TYPE) >> 4;
    uint32_t devcap = rd32(cfg, at + PCI_EXP_DEVCAP);
    uint16_t devctl = rd16(cfg, at + PCI_EXP_DEVCTL);

    fprintf(f, "\tCapabilities: [%02x] Express (v%u) %s, MSI %02x\n", at,
            flags & PCI_EXP_FLAGS_VERS, pcie_type(type),
            (flags & PCI_EXP_FLAGS_IRQ) >> 9);
    fprintf(f, "\t\tDevCap:\tMaxPayload %u bytes, PhantFunc %u\n",
            128u << (devcap & PCI_EXP_DEVCAP_PAYLOAD),
            (devcap & PCI_EXP_DEVCAP_PHANTOM) >> 3);
    fprintf(f, "\t\t\tExtTag%c AttnBtn%c AttnInd%c PwrInd%c RBE%c FLReset%c\n",
            flag(devcap, PCI_EXP_DEVCAP_EXT_TAG),
            flag(devcap, PCI_EXP_DEVCAP_ATN_BUT),
            flag(devcap, PCI_EXP_DEVCAP_ATN_IND),
            flag(devcap, PCI_EXP_DEVCAP_PWR_IND),
            flag(devcap, PCI_EXP_DEVCAP_RBER),
            flag(devcap, PCI_EXP_DEVCAP_FLR));
    fprintf(
        f, "\t\tDevCtl:\tCorrErr%c NonFatalErr%c FatalErr%c UnsupReq%c\n",
        flag(devctl, PCI_EXP_DEVCTL_CERE), flag(devctl, PCI_EXP_DEVCTL_NFERE),
        flag(devctl, PCI_EXP_DEVCTL_FERE), flag(devctl, PCI_EXP_DEVCTL_URRE));
    fprintf(f, "\t\t\tMaxPayload %u bytes, MaxReadReq %u bytes\n",
            128u << ((devctl & PCI_EXP_DEVCTL_PAYLOAD) >> 5),
            128u << ((devctl & PCI_EXP_DEVCTL_READRQ) >> 12));
    /* integrated endpoints and event collectors have no link */
    if (type == PCI_EXP_TYPE_RC_END || type == PCI_EXP_TYPE_RC_EC)
        return;
    uint32_t lnkcap = rd32(cfg, at + PCI_EXP_LNKCAP);
    uint16_t lnksta = rd16(cfg, at + PCI_EXP_LNKSTA);
    fprintf(f, "\t\tLnkCap:\tPort #%u, Speed %s, Width x%u\n", lnkcap >> 24,
            link_speed(lnkcap & PCI_EXP_LNKCAP_SLS),
            (lnkcap & PCI_EXP_LNKCAP_MLW) >> 4);
    fprintf(f, "\t\tLnkSta:\tSpeed %s, Width x%u\n",
            link_speed(lnksta & PCI_EXP_LNKSTA_CLS),
            (lnksta & PCI_EXP_LNKSTA_NLW) >> PCI_EXP_LNKSTA_NLW_SHIFT);
}

static void
print_cap(FILE *f, const uint8_t *cfg, const struct vdevctl_cap *c)
{
    unsigned at = c->offset;

    switch (c->id) {
    case PCI_CAP_ID_PM:
        print_pm(f, cfg, at);
        break;
    case PCI_CAP_ID_MSI:
        print_msi(f, cfg, at);
        break;
    case PCI_CAP_ID_MSIX:
        print_msix(f, cfg, at);
        break;
    case PCI_CAP_ID_EXP:
        print_pcie(f, cfg, at);
        break;
    case PCI_CAP_ID_VNDR:
        fprintf(f,
                "\tCapabilities: [%02x] Vendor Specific Information: "
                "Len=%02x <?>\n",
                at, cfg[at + PCI_CAP_FLAGS]);
        break;
    default:
        fprintf(f, "\tCapabilities: [%02x] #%02x\n", at, c->id);
        break;
    }
}

static void
print_ext_cap(FILE *f, const uint8_t *cfg, const struct vdevctl_cap *c)
{
    unsigned at = c->offset;

    if (c->id == PCI_EXT_CAP_ID_DSN && at + 12 <= PCI_CFG_SPACE_EXP_SIZE) {
        uint32_t lo = rd32(cfg, at + 4), hi = rd32(cfg, at + 8);
        fprintf(f,
                "\tCapabilities: [%03x v%u] Device Serial Number "
                "%02x-%02x-%02x-%02x-%02x-%02x-%02x-%02x\n",
                at, c->version, hi >> 24, (hi >> 16) & 0xff, (hi >> 8) & 0xff,
                hi & 0xff, lo >> 24, (lo >> 16) & 0xff, (lo >> 8) & 0xff,
                lo & 0xff);
    } else if (c->id == PCI_EXT_CAP_ID_VNDR &&
               at + 8 <= PCI_CFG_SPACE_EXP_SIZE) {
        uint32_t v = rd32(cfg, at + PCI_VNDR_HEADER);
        fprintf(f,
                "\tCapabilities: [%03x v%u] Vendor Specific Information: "
                "ID=%04x Rev=%u Len=%03x <?>\n",
                at, c->version, PCI_VNDR_HEADER_ID(v), PCI_VNDR_HEADER_REV(v),
                PCI_VNDR_HEADER_LEN(v));
    } else {
        fprintf(f, "\tCapabilities: [%03x v%u] Extended Capability ID %#x\n",
                at, c->version, c->id);
    }
}

static unsigned
list_std_caps(const uint8_t *cfg, struct vdevctl_cap *out, unsigned max)
{
    uint8_t seen[256] = {0};
    unsigned at = cfg[PCI_CAPABILITY_LIST] & 0xfc, n = 0;

    if (!(rd16(cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    while (at >= PCI_STD_HEADER_SIZEOF && at <= 0xfc && !seen[at] && n < max) {
        seen[at] = 1;
        out[n++] = (struct vdevctl_cap){
            .offset = at,
            .id = cfg[at + PCI_CAP_LIST_ID],
        };
        at = cfg[at + PCI_CAP_LIST_NEXT] & 0xfc;
    }
    return n;
}

static unsigned
list_ext_caps(const uint8_t *cfg, struct vdevctl_cap *out, unsigned max)
{
    uint8_t seen[PCI_CFG_SPACE_EXP_SIZE / 4] = {0};
    unsigned at = PCI_CFG_SPACE_SIZE, n = 0;

    while (at >= PCI_CFG_SPACE_SIZE && at <= PCI_CFG_SPACE_EXP_SIZE - 4 &&
           !seen[at / 4] && n < max) {
        seen[at / 4] = 1;
        uint32_t h = rd32(cfg, at);
        if (h == 0 || h == 0xffffffff)
            break;
        out[n++] = (struct vdevctl_cap){
            .offset = at,
            .id = PCI_EXT_CAP_ID(h),
            .version = PCI_EXT_CAP_VER(h),
            .extended = true,
        };
        at = PCI_EXT_CAP_NEXT(h);
    }
    return n;
}

unsigned
vdevctl_list_caps(const uint8_t *cfg, size_t size, struct vdevctl_cap *out,
                  unsigned max)
{
    unsigned n = list_std_caps(cfg, out, max);

    if (size >= PCI_CFG_SPACE_EXP_SIZE)
        n += list_ext_caps(cfg, out + n, max - n);
    return n;
}

const char *
vdevctl_cap_name(const struct vdevctl_cap *c)
{
    if (c->extended) {
        switch (c->id) {
        case PCI_EXT_CAP_ID_ERR:
            return "Advanced Error Reporting";
        case PCI_EXT_CAP_ID_DSN:
            return "Device Serial Number";
        case PCI_EXT_CAP_ID_VNDR:
            return "Vendor Specific Information";
        default:
            return NULL;
        }
    }
    switch (c->id) {
    case PCI_CAP_ID_PM:
        return "Power Management";
    case PCI_CAP_ID_MSI:
        return "MSI";
    case PCI_CAP_ID_VNDR:
        return "Vendor Specific Information";
    case PCI_CAP_ID_EXP:
        return "Express";
    case PCI_CAP_ID_MSIX:
        return "MSI-X";
    default:
        return NULL;
    }
}

void
vdevctl_print_caps(FILE *f, const uint8_t *cfg, size_t size)
{
    /* each entry takes at least 4 bytes: 1024 bounds both lists */
    static struct vdevctl_cap caps[1024 + 64];
    unsigned n = vdevctl_list_caps(cfg, size, caps, 1024 + 64);

    for (unsigned i = 0; i < n; i++) {
        if (caps[i].extended)
            print_ext_cap(f, cfg, &caps[i]);
        else
            print_cap(f, cfg, &caps[i]);
    }
}
