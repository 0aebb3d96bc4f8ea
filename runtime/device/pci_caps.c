/* PCI capabilities: placement and chaining of standard (0x40-0xff) and
 * extended (0x100-0xfff) capabilities, and the layout of each kind. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "device/irq.h"
#include "device/pci_priv.h"

#define EXT_HDR(id, ver, next)                                                 \
    ((uint32_t)(id) | (uint32_t)(ver) << 16 | (uint32_t)(next) << 20)
#define PCIE_CAP_LEN 0x3c /* v2 endpoint, including slot 2 registers */
#define VSEC_HDR_LEN 8

static unsigned
msi_len(uint16_t flags)
{
    unsigned len = (flags & PCI_MSI_FLAGS_64BIT) ? 14 : 10;

    return (flags & PCI_MSI_FLAGS_MASKBIT) ? len + 10 : len;
}

/* Length of the standard capability at off, from its own registers. */
static unsigned
std_cap_len(const struct vdev_config *c, unsigned off)
{
    switch (c->data[off]) {
    case PCI_CAP_ID_PM:
        return PCI_PM_SIZEOF;
    case PCI_CAP_ID_MSI:
        return msi_len(vdev_le16(c->data + off + PCI_MSI_FLAGS));
    case PCI_CAP_ID_MSIX:
        return PCI_CAP_MSIX_SIZEOF;
    case PCI_CAP_ID_EXP:
        return PCIE_CAP_LEN;
    case PCI_CAP_ID_VNDR:
        return c->data[off + 2] < 3 ? 3 : c->data[off + 2];
    default:
        return 4;
    }
}

static unsigned
ext_cap_len(const struct vdev_config *c, unsigned off)
{
    uint32_t hdr = vdev_le32(c->data + off);

    switch (hdr & 0xffff) {
    case PCI_EXT_CAP_ID_DSN:
        return PCI_EXT_CAP_DSN_SIZEOF;
    case PCI_EXT_CAP_ID_VNDR:
        return vdev_le32(c->data + off + PCI_VNDR_HEADER) >> 20;
    default:
        return 4;
    }
}

static bool
overlaps(unsigned a, unsigned alen, unsigned b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

/* The capability lists are built only by this file, but walk with a bound
 * anyway: device code may have rewritten config space. */
static bool
std_overlap(const struct vdev_config *c, unsigned off, unsigned len)
{
    unsigned pos = c->data[PCI_CAPABILITY_LIST];

    for (unsigned n = 0; pos >= PCI_STD_HEADER_SIZEOF && n < 48; n++) {
        if (overlaps(off, len, pos, std_cap_len(c, pos)))
            return true;
        pos = c->data[pos + 1];
    }
    return false;
}

static bool
ext_overlap(const struct vdev_config *c, unsigned off, unsigned len)
{
    unsigned pos = PCI_CFG_SPACE_SIZE;

    if (!c->last_ext_cap)
        return false;
    for (unsigned n = 0; pos >= PCI_CFG_SPACE_SIZE && n < 1024; n++) {
        if (overlaps(off, len, pos, ext_cap_len(c, pos)))
            return true;
        pos = (vdev_le32(c->data + pos) >> 20) & ~3u;
    }
    return false;
}

/* Picks and validates the offset of a new standard capability: -EINVAL for
 * a misplaced or misaligned offset, -ENOSPC when it does not fit, -EBUSY when
 * it overlaps another capability. */
bool
vdev_caps_overlap(const struct vdev_dev *dev, unsigned off, unsigned len)
{
    return std_overlap(&dev->cfg, off, len) || ext_overlap(&dev->cfg, off, len);
}

/* An automatic offset moves past the config windows in its way. */
static unsigned
skip_windows(const struct vdev_dev *dev, unsigned offset, unsigned len)
{
    const struct vdev_cfg_window *w;

    while ((w = vdev_config_window_at(dev, offset, len)))
        offset = ((unsigned)w->offset + w->size + 3) & ~3u;
    return offset;
}

static int
std_place(struct vdev_dev *dev, unsigned offset, unsigned len)
{
    struct vdev_config *c = &dev->cfg;
    unsigned free_off = c->free_cap ? c->free_cap : PCI_CFG_SPACE_SIZE;

    if (offset == 0)
        offset = skip_windows(dev, free_off, len);
    else if (offset < PCI_STD_HEADER_SIZEOF || (offset & 3))
        return -EINVAL;
    if (offset >= PCI_CFG_SPACE_SIZE || len > PCI_CFG_SPACE_SIZE - offset)
        return -ENOSPC;
    if (std_overlap(c, offset, len) || vdev_config_window_at(dev, offset, len))
        return -EBUSY;
    return (int)offset;
}

static void
std_link(struct vdev_dev *dev, unsigned off, uint8_t id, unsigned len)
{
    struct vdev_config *c = &dev->cfg;
    unsigned end = (off + len + 3) & ~3u;
    unsigned free_off = c->free_cap ? c->free_cap : PCI_CFG_SPACE_SIZE;

    vdev_cfg_set8(c, off, id);
    vdev_cfg_set8(c, off + 1, 0);
    if (c->next_cap == 0) {
        vdev_cfg_set8(c, PCI_CAPABILITY_LIST, (uint8_t)off);
        vdev_cfg_set16(c, PCI_STATUS,
                       vdev_le16(c->data + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    } else {
        vdev_cfg_set8(c, c->next_cap + 1, (uint8_t)off);
    }
    c->next_cap = (uint8_t)off;
    if (end > free_off)
        c->free_cap = end >= PCI_CFG_SPACE_SIZE ? 0 : (uint8_t)end;
}

static int
ext_place(struct vdev_dev *dev, unsigned offset, unsigned len)
{
    struct vdev_config *c = &dev->cfg;

    if (offset == 0)
        offset = skip_windows(dev, c->free_ext_cap, len);
    else if (offset < PCI_CFG_SPACE_SIZE || (offset & 3))
        return -EINVAL;
    if (offset >= VDEV_CONFIG_SIZE || len > VDEV_CONFIG_SIZE - offset)
        return -ENOSPC;
    if (ext_overlap(c, offset, len) || vdev_config_window_at(dev, offset, len))
        return -EBUSY;
    /* The list starts at 0x100: a first capability elsewhere needs a null
     * header there (ext_link), which a window must not hold. */
    if (!c->last_ext_cap && offset != PCI_CFG_SPACE_SIZE &&
        vdev_config_window_at(dev, PCI_CFG_SPACE_SIZE, 4))
        return -EBUSY;
    return (int)offset;
}

static void
ext_set_next(struct vdev_config *c, unsigned pos, unsigned next)
{
    uint32_t hdr = vdev_le32(c->data + pos);

    vdev_cfg_set32(c, pos, (hdr & 0xfffff) | (uint32_t)next << 20);
}

/* PCI Express, and extended capabilities, make the config space clients
 * see 4096 bytes (vfio-pci reports pdev->cfg_size). */
static void
config_extend(struct vdev_dev *dev)
{
    dev->regions[VDEV_CONFIG_INDEX].size = VDEV_CONFIG_SIZE;
}

static void
ext_link(struct vdev_dev *dev, unsigned off, uint32_t hdr, unsigned len)
{
    struct vdev_config *c = &dev->cfg;
    unsigned end = (off + len + 3) & ~3u;

    config_extend(dev);
    vdev_cfg_set32(c, off, hdr & 0xfffff);
    if (c->last_ext_cap == 0 && off != PCI_CFG_SPACE_SIZE) {
        /* The list must start at 0x100: a null header leads to off. */
        vdev_cfg_set32(c, PCI_CFG_SPACE_SIZE, 0);
        c->last_ext_cap = PCI_CFG_SPACE_SIZE;
        if (c->free_ext_cap < PCI_CFG_SPACE_SIZE + 4)
            c->free_ext_cap = PCI_CFG_SPACE_SIZE + 4;
    }
    if (c->last_ext_cap)
        ext_set_next(c, c->last_ext_cap, off);
    c->last_ext_cap = (uint16_t)off;
    if (end > c->free_ext_cap)
        c->free_ext_cap = (uint16_t)end;
}

int
vdev_cap_pm(struct vdev_dev *dev, unsigned offset)
{
    struct vdev_config *c = &dev->cfg;
    int off;

    if (c->pm_cap)
        return -EEXIST;
    off = std_place(dev, offset, PCI_PM_SIZEOF);
    if (off < 0)
        return off;
    std_link(dev, (unsigned)off, PCI_CAP_ID_PM, PCI_PM_SIZEOF);
    /* PM 1.2, D0 and D3hot only, no PME; leaving D3hot keeps state. */
    vdev_cfg_set16(c, off + PCI_PM_PMC, 3);
    vdev_cfg_set16(c, off + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
    vdev_cfg_wmask16(c, off + PCI_PM_CTRL, PCI_PM_CTRL_STATE_MASK);
    c->pm_cap = (uint8_t)off;
    return off;
}

int
vdev_cap_msi(struct vdev_dev *dev, unsigned offset, unsigned nr_vectors,
             bool addr64, bool per_vector_mask)
{
    struct vdev_config *c = &dev->cfg;
    uint16_t flags = 0;
    unsigned log2 = 0, len, data_off, mask_off;
    int off, rc;

    if (nr_vectors == 0 || nr_vectors > 32 || (nr_vectors & (nr_vectors - 1)))
        return -EINVAL;
    if (c->msi_cap)
        return -EEXIST;
    while ((1u << log2) < nr_vectors)
        log2++;
    flags = (uint16_t)(log2 << 1);
    if (addr64)
        flags |= PCI_MSI_FLAGS_64BIT;
    if (per_vector_mask)
        flags |= PCI_MSI_FLAGS_MASKBIT;
    len = msi_len(flags);
    off = std_place(dev, offset, len);
    if (off < 0)
        return off;
    std_link(dev, (unsigned)off, PCI_CAP_ID_MSI, len);
    vdev_cfg_set16(c, off + PCI_MSI_FLAGS, flags);
    vdev_cfg_wmask16(c, off + PCI_MSI_FLAGS,
                     PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    vdev_cfg_wmask32(c, off + PCI_MSI_ADDRESS_LO, 0xfffffffcu);
    if (addr64) {
        vdev_cfg_wmask32(c, off + PCI_MSI_ADDRESS_HI, 0xffffffffu);
        data_off = off + PCI_MSI_DATA_64;
        mask_off = off + PCI_MSI_MASK_64;
    } else {
        data_off = off + PCI_MSI_DATA_32;
        mask_off = off + PCI_MSI_MASK_32;
    }
    vdev_cfg_wmask16(c, data_off, 0xffff);
    if (per_vector_mask)
        vdev_cfg_wmask32(c, mask_off,
                         nr_vectors == 32 ? 0xffffffffu
                                          : (1u << nr_vectors) - 1);
    c->msi_cap = (uint8_t)off;
    dev->irqs.msi_vectors = nr_vectors;
    rc = vdev_irqs_init(dev);
    return rc < 0 ? rc : off;
}

static bool
msix_bar_ok(const struct vdev_dev *dev, unsigned bar, uint32_t offset,
            uint64_t len)
{
    const struct vdev_region *r;

    if (bar >= VDEV_NR_BARS)
        return false;
    r = &dev->regions[bar];
    if (!r->present || r->kind == VDEV_BAR_IO || (offset & 7))
        return false;
    return offset <= r->size && len <= r->size - offset;
}

int
vdev_cap_msix(struct vdev_dev *dev, unsigned offset, unsigned nr_vectors,
              unsigned table_bar, uint32_t table_offset, unsigned pba_bar,
              uint32_t pba_offset)
{
    struct vdev_config *c = &dev->cfg;
    struct vdev_msix *m = &dev->irqs.msix;
    uint64_t tlen = (uint64_t)nr_vectors * PCI_MSIX_ENTRY_SIZE;
    uint64_t plen = ((uint64_t)nr_vectors + 63) / 64 * 8;
    int off, rc;

    if (nr_vectors == 0 || nr_vectors > 2048)
        return -EINVAL;
    if (c->msix_cap)
        return -EEXIST;
    /* The BARs must already be declared so their size is known. */
    if (!msix_bar_ok(dev, table_bar, table_offset, tlen) ||
        !msix_bar_ok(dev, pba_bar, pba_offset, plen))
        return -EINVAL;
    if (table_bar == pba_bar &&
        overlaps(table_offset, (unsigned)tlen, pba_offset, (unsigned)plen))
        return -EINVAL;
    off = std_place(dev, offset, PCI_CAP_MSIX_SIZEOF);
    if (off < 0)
        return off;

    m->table = talloc_zero_array(dev, uint8_t, (size_t)tlen);
    m->pba = talloc_zero_array(dev, uint64_t, (size_t)plen / 8);
    if (!m->table || !m->pba) {
        TALLOC_FREE(m->table);
        TALLOC_FREE(m->pba);
        return -ENOMEM;
    }
    for (unsigned v = 0; v < nr_vectors; v++)
        m->table[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] =
            PCI_MSIX_ENTRY_CTRL_MASKBIT;
    m->nr_vectors = nr_vectors;
    m->table_bar = table_bar;
    m->table_offset = table_offset;
    m->pba_bar = pba_bar;
    m->pba_offset = pba_offset;

    std_link(dev, (unsigned)off, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
    vdev_cfg_set16(c, off + PCI_MSIX_FLAGS, (uint16_t)(nr_vectors - 1));
    vdev_cfg_wmask16(c, off + PCI_MSIX_FLAGS,
                     PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    vdev_cfg_set32(c, off + PCI_MSIX_TABLE, table_offset | table_bar);
    vdev_cfg_set32(c, off + PCI_MSIX_PBA, pba_offset | pba_bar);
    c->msix_cap = (uint8_t)off;
    rc = vdev_irqs_init(dev);
    return rc < 0 ? rc : off;
}

static bool
link_width_ok(unsigned w)
{
    return w == 1 || w == 2 || w == 4 || w == 8 || w == 12 || w == 16 ||
           w == 32;
}

int
vdev_cap_pcie(struct vdev_dev *dev, unsigned offset, enum vdev_pcie_type type,
              unsigned link_speed, unsigned link_width)
{
    struct vdev_config *c = &dev->cfg;
    bool link = type != VDEV_PCIE_RC_INTEGRATED;
    int off, rc;

    if (type != VDEV_PCIE_ENDPOINT && type != VDEV_PCIE_LEGACY_ENDPOINT &&
        type != VDEV_PCIE_RC_INTEGRATED)
        return -EINVAL;
    if (link_speed < 1 || link_speed > 5 || !link_width_ok(link_width))
        return -EINVAL;
    if (c->pcie_cap)
        return -EEXIST;
    off = std_place(dev, offset, PCIE_CAP_LEN);
    if (off < 0)
        return off;
    std_link(dev, (unsigned)off, PCI_CAP_ID_EXP, PCIE_CAP_LEN);
    vdev_cfg_set16(c, off + PCI_EXP_FLAGS, (uint16_t)(2 | (unsigned)type << 4));
    /* 128-byte payload, role-based error reporting, FLR. */
    vdev_cfg_set32(c, off + PCI_EXP_DEVCAP,
                   PCI_EXP_DEVCAP_RBER | PCI_EXP_DEVCAP_FLR);
    /* Power-on: relaxed ordering, no snoop, 512-byte read requests. */
    vdev_cfg_set16(c, off + PCI_EXP_DEVCTL,
                   PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN |
                       (2u << 12));
    vdev_cfg_wmask16(c, off + PCI_EXP_DEVCTL,
                     PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE |
                         PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE |
                         PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_PAYLOAD |
                         PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_READRQ);
    vdev_put16(c->w1cmask + off + PCI_EXP_DEVSTA,
               PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | PCI_EXP_DEVSTA_FED |
                   PCI_EXP_DEVSTA_URD);
    if (link) {
        uint32_t w = link_width << 4;

        vdev_cfg_set32(c, off + PCI_EXP_LNKCAP, link_speed | w);
        vdev_cfg_wmask16(c, off + PCI_EXP_LNKCTL,
                         PCI_EXP_LNKCTL_ASPMC | PCI_EXP_LNKCTL_RCB |
                             PCI_EXP_LNKCTL_CCC | PCI_EXP_LNKCTL_ES);
        vdev_cfg_set16(c, off + PCI_EXP_LNKSTA, (uint16_t)(link_speed | w));
        vdev_cfg_set32(c, off + PCI_EXP_LNKCAP2, ((1u << link_speed) - 1) << 1);
        vdev_cfg_set16(c, off + PCI_EXP_LNKCTL2, (uint16_t)link_speed);
        vdev_cfg_wmask16(c, off + PCI_EXP_LNKCTL2, PCI_EXP_LNKCTL2_TLS);
    }
    c->pcie_cap = (uint8_t)off;
    config_extend(dev);
    /* The ERR interrupt comes with PCI Express (irq.c). */
    rc = vdev_irqs_init(dev);
    return rc < 0 ? rc : off;
}

int
vdev_cap_vendor(struct vdev_dev *dev, unsigned offset, const uint8_t *body,
                unsigned len, const uint8_t *wmask)
{
    struct vdev_config *c = &dev->cfg;
    int off;

    if (len > 255 - 3 || (len && !body))
        return -EINVAL;
    off = std_place(dev, offset, 3 + len);
    if (off < 0)
        return off;
    std_link(dev, (unsigned)off, PCI_CAP_ID_VNDR, 3 + len);
    vdev_cfg_set8(c, off + PCI_CAP_FLAGS, (uint8_t)(3 + len));
    for (unsigned i = 0; i < len; i++) {
        vdev_cfg_set8(c, off + 3 + i, body[i]);
        c->wmask[off + 3 + i] = wmask ? wmask[i] : 0;
    }
    return off;
}

int
vdev_ext_cap_dsn(struct vdev_dev *dev, unsigned offset, uint64_t serial)
{
    struct vdev_config *c = &dev->cfg;
    int off = ext_place(dev, offset, PCI_EXT_CAP_DSN_SIZEOF);

    if (off < 0)
        return off;
    ext_link(dev, (unsigned)off, EXT_HDR(PCI_EXT_CAP_ID_DSN, 1, 0),
             PCI_EXT_CAP_DSN_SIZEOF);
    vdev_cfg_set32(c, off + 4, (uint32_t)serial);
    vdev_cfg_set32(c, off + 8, (uint32_t)(serial >> 32));
    return off;
}

int
vdev_ext_cap_vendor(struct vdev_dev *dev, unsigned offset, uint16_t vsec_id,
                    uint8_t vsec_rev, const uint8_t *body, unsigned len,
                    const uint8_t *wmask)
{
    struct vdev_config *c = &dev->cfg;
    unsigned total = VSEC_HDR_LEN + len;
    int off;

    if (vsec_rev > 0xf || total > 0xfff || (len && !body))
        return -EINVAL;
    off = ext_place(dev, offset, total);
    if (off < 0)
        return off;
    ext_link(dev, (unsigned)off, EXT_HDR(PCI_EXT_CAP_ID_VNDR, 1, 0), total);
    vdev_cfg_set32(c, off + PCI_VNDR_HEADER,
                   vsec_id | (uint32_t)vsec_rev << 16 | (uint32_t)total << 20);
    for (unsigned i = 0; i < len; i++) {
        vdev_cfg_set8(c, off + VSEC_HDR_LEN + i, body[i]);
        c->wmask[off + VSEC_HDR_LEN + i] = wmask ? wmask[i] : 0;
    }
    return off;
}
