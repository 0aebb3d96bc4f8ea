/* PCI configuration space: the type-0 header, BAR sizing, guest accesses
 * through write/W1C masks, and what a guest write sets in motion. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "device/irq.h"
#include "device/pci_priv.h"

#define CMD_WMASK                                                              \
    (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |                \
     PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
#define STATUS_W1C                                                             \
    (PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT |                         \
     PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT |               \
     PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY)

void
vdev_config_init(struct vdev_dev *dev)
{
    struct vdev_config *c = &dev->cfg;
    const struct vdev_pci_ident *id = &dev->ident;

    memset(c->data, 0, sizeof(c->data));
    memset(c->wmask, 0, sizeof(c->wmask));
    memset(c->w1cmask, 0, sizeof(c->w1cmask));
    memset(c->bar_mask, 0, sizeof(c->bar_mask));
    c->next_cap = 0;
    c->last_ext_cap = 0;
    c->free_cap = PCI_STD_HEADER_SIZEOF;
    c->free_ext_cap = PCI_CFG_SPACE_SIZE;
    c->msi_cap = c->msix_cap = c->pcie_cap = c->pm_cap = 0;

    vdev_put16(c->data + PCI_VENDOR_ID, id->vendor_id);
    vdev_put16(c->data + PCI_DEVICE_ID, id->device_id);
    c->data[PCI_REVISION_ID] = id->revision;
    c->data[PCI_CLASS_PROG] = (uint8_t)id->class_code;
    vdev_put16(c->data + PCI_CLASS_DEVICE, (uint16_t)(id->class_code >> 8));
    c->data[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
    vdev_put16(c->data + PCI_SUBSYSTEM_VENDOR_ID, id->subsys_vendor_id);
    vdev_put16(c->data + PCI_SUBSYSTEM_ID, id->subsys_id);
    c->data[PCI_INTERRUPT_PIN] = id->intx_pin <= 4 ? id->intx_pin : 0;

    vdev_cfg_wmask16(c, PCI_COMMAND, CMD_WMASK);
    vdev_put16(c->w1cmask + PCI_STATUS, STATUS_W1C);
    c->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    c->wmask[PCI_LATENCY_TIMER] = 0xff;
    c->wmask[PCI_INTERRUPT_LINE] = 0xff;

    memcpy(c->poweron, c->data, sizeof(c->poweron));
}

void
vdev_config_bar_init(struct vdev_dev *dev, unsigned index)
{
    struct vdev_config *c = &dev->cfg;
    const struct vdev_region *r;
    uint64_t size_mask;
    uint32_t flags = 0;
    unsigned off;

    if (index > VDEV_ROM_INDEX)
        return;
    r = &dev->regions[index];
    if (index == VDEV_ROM_INDEX) {
        uint64_t size = r->size < 2048 ? 2048 : r->size;

        off = PCI_ROM_ADDRESS;
        c->bar_mask[index] = (uint32_t) ~(size - 1) & PCI_ROM_ADDRESS_MASK;
        vdev_cfg_set32(c, off, 0);
        vdev_cfg_wmask32(
            c, off,
            r->present ? c->bar_mask[index] | PCI_ROM_ADDRESS_ENABLE : 0);
        if (!r->present)
            c->bar_mask[index] = 0;
        return;
    }

    off = PCI_BASE_ADDRESS_0 + 4 * index;
    if (!r->present || r->size == 0) {
        c->bar_mask[index] = 0;
        vdev_cfg_set32(c, off, 0);
        vdev_cfg_wmask32(c, off, 0);
        return;
    }
    size_mask = ~(r->size - 1);
    switch (r->kind) {
    case VDEV_BAR_IO:
        flags = PCI_BASE_ADDRESS_SPACE_IO;
        c->bar_mask[index] = (uint32_t)size_mask & ~3u;
        break;
    case VDEV_BAR_MEM64:
        flags = PCI_BASE_ADDRESS_MEM_TYPE_64;
        /* fall through */
    case VDEV_BAR_MEM32:
    default:
        if (r->prefetchable)
            flags |= PCI_BASE_ADDRESS_MEM_PREFETCH;
        c->bar_mask[index] = (uint32_t)size_mask & ~0xfu;
        break;
    }
    vdev_cfg_set32(c, off, flags);
    vdev_cfg_wmask32(c, off, c->bar_mask[index]);
    if (r->kind == VDEV_BAR_MEM64 && index + 1 < VDEV_NR_BARS) {
        /* The upper half sizes like the lower: all-ones above the size. */
        c->bar_mask[index + 1] = (uint32_t)(size_mask >> 32);
        vdev_cfg_set32(c, off + 4, 0);
        vdev_cfg_wmask32(c, off + 4, c->bar_mask[index + 1]);
    }
}

void
vdev_config_reset(struct vdev_dev *dev)
{
    struct vdev_config *c = &dev->cfg;

    /* Read-only bits hold the device's structure and state; only what the
     * guest could change goes back to its power-on value. This also clears
     * MSI/MSI-X enables, MSI masks and the ROM enable. */
    for (unsigned i = 0; i < VDEV_CONFIG_SIZE; i += 8) {
        uint64_t d, w, w1, p, m;

        memcpy(&d, c->data + i, 8);
        memcpy(&w, c->wmask + i, 8);
        memcpy(&w1, c->w1cmask + i, 8);
        memcpy(&p, c->poweron + i, 8);
        m = w | w1;
        d = (d & ~m) | (p & m);
        memcpy(c->data + i, &d, 8);
    }
    c->data[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
    if (c->msi_cap && (vdev_le16(c->data + c->msi_cap + PCI_MSI_FLAGS) &
                       PCI_MSI_FLAGS_MASKBIT))
        memset(c->data + vdev_msi_mask_off(dev) + 4, 0, 4);
}

static bool
range_has(uint64_t off, uint32_t count, unsigned pos)
{
    return pos >= off && pos < off + count;
}

static bool
range_overlaps(uint64_t off, uint32_t count, unsigned start, unsigned len)
{
    return off < start + len && start < off + count;
}

struct cfg_before {
    uint16_t cmd;
    uint16_t msi_flags;
    uint32_t msi_mask;
    uint16_t msix_flags;
    uint16_t pmcsr;
};

static void
snapshot(const struct vdev_dev *dev, struct cfg_before *b)
{
    const struct vdev_config *c = &dev->cfg;

    memset(b, 0, sizeof(*b));
    b->cmd = vdev_le16(c->data + PCI_COMMAND);
    if (c->msi_cap) {
        b->msi_flags = vdev_le16(c->data + c->msi_cap + PCI_MSI_FLAGS);
        if (b->msi_flags & PCI_MSI_FLAGS_MASKBIT)
            b->msi_mask = vdev_le32(c->data + vdev_msi_mask_off(dev));
    }
    if (c->msix_cap)
        b->msix_flags = vdev_le16(c->data + c->msix_cap + PCI_MSIX_FLAGS);
    if (c->pm_cap)
        b->pmcsr = vdev_le16(c->data + c->pm_cap + PCI_PM_CTRL);
}

static void
after_msi_write(struct vdev_dev *dev, const struct cfg_before *b)
{
    struct vdev_config *c = &dev->cfg;
    unsigned off = c->msi_cap + PCI_MSI_FLAGS;
    uint16_t flags = vdev_le16(c->data + off);
    unsigned qmask = (flags & PCI_MSI_FLAGS_QMASK) >> 1;

    /* Multiple Message Enable above what the device can do is undefined;
     * clamp it so every later decision can trust the field. */
    if ((unsigned)((flags & PCI_MSI_FLAGS_QSIZE) >> 4) > qmask) {
        flags = (uint16_t)((flags & ~PCI_MSI_FLAGS_QSIZE) | qmask << 4);
        vdev_put16(c->data + off, flags);
    }
    if (flags & PCI_MSI_FLAGS_MASKBIT) {
        uint32_t now = vdev_le32(c->data + vdev_msi_mask_off(dev));
        uint32_t changed = now ^ b->msi_mask;

        for (unsigned v = 0; changed && v < 32; v++)
            if (changed & (1u << v))
                vdev_irq_notify_mask(dev, VFIO_PCI_MSI_IRQ_INDEX, v,
                                     now & (1u << v));
    }
}

static void
after_write(struct vdev_dev *dev, uint64_t off, uint32_t count,
            const struct cfg_before *b)
{
    struct vdev_config *c = &dev->cfg;
    bool intx = false, msi = false;

    if (range_overlaps(off, count, PCI_COMMAND, 2) &&
        ((b->cmd ^ vdev_le16(c->data + PCI_COMMAND)) &
         PCI_COMMAND_INTX_DISABLE)) {
        bool now = vdev_le16(c->data + PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE;

        vdev_irq_notify_mask(dev, VFIO_PCI_INTX_IRQ_INDEX, 0, now);
        intx = true;
    }
    if (c->pm_cap && range_overlaps(off, count, c->pm_cap + PCI_PM_CTRL, 2)) {
        unsigned p = c->pm_cap + PCI_PM_CTRL;
        uint16_t v = vdev_le16(c->data + p);
        uint16_t st = v & PCI_PM_CTRL_STATE_MASK;

        /* D1 and D2 are not supported: such writes leave the state. */
        if (st == 1 || st == 2)
            vdev_put16(c->data + p,
                       (uint16_t)((v & ~PCI_PM_CTRL_STATE_MASK) |
                                  (b->pmcsr & PCI_PM_CTRL_STATE_MASK)));
    }
    if (c->msi_cap && range_overlaps(off, count, c->msi_cap, 24)) {
        after_msi_write(dev, b);
        if ((b->msi_flags ^ vdev_le16(c->data + c->msi_cap + PCI_MSI_FLAGS)) &
            PCI_MSI_FLAGS_ENABLE)
            intx = true;
        msi = true;
    }
    if (c->msix_cap && range_overlaps(off, count, c->msix_cap, 4)) {
        uint16_t now = vdev_le16(c->data + c->msix_cap + PCI_MSIX_FLAGS);

        if ((b->msix_flags ^ now) & PCI_MSIX_FLAGS_ENABLE)
            intx = true;
        msi = true;
    }
    if (intx)
        vdev_irq_intx_update(dev);
    if (msi)
        vdev_irq_msi_update(dev);
}

int
vdev_config_access(struct vdev_dev *dev, uint64_t offset, void *buf,
                   uint32_t count, bool is_write)
{
    if (count == 0 || offset >= VDEV_CONFIG_SIZE ||
        count > VDEV_CONFIG_SIZE - offset)
        return -EINVAL;
    if (dev->cfg.nr_windows &&
        vdev_config_window_at(dev, (unsigned)offset, count))
        return vdev_config_window_access(dev, offset, buf, count, is_write);
    return vdev_config_access_plain(dev, offset, buf, count, is_write);
}

/* Config space the runtime keeps: bounds are checked by the caller. */
int
vdev_config_access_plain(struct vdev_dev *dev, uint64_t offset, void *buf,
                         uint32_t count, bool is_write)
{
    struct vdev_config *c = &dev->cfg;
    const uint8_t *src = buf;
    struct cfg_before before;
    bool flr = false;

    if (!is_write) {
        memcpy(buf, c->data + offset, count);
        return 0;
    }

    snapshot(dev, &before);
    for (uint32_t i = 0; i < count; i++) {
        unsigned o = (unsigned)offset + i;
        uint8_t v = src[i];
        uint8_t d = c->data[o];

        d = (uint8_t)((d & ~c->wmask[o]) | (v & c->wmask[o]));
        d &= (uint8_t) ~(v & c->w1cmask[o]);
        c->data[o] = d;
    }
    if (c->pcie_cap) {
        /* Initiate FLR is write-only (reads 0): act on the written bit. */
        unsigned p = c->pcie_cap + PCI_EXP_DEVCTL + 1;
        uint32_t devcap = vdev_le32(c->data + c->pcie_cap + PCI_EXP_DEVCAP);

        if (range_has(offset, count, p) &&
            (src[p - offset] & (PCI_EXP_DEVCTL_BCR_FLR >> 8)) &&
            (devcap & PCI_EXP_DEVCAP_FLR))
            flr = true;
    }
    after_write(dev, offset, count, &before);
    if (flr)
        vdev_reset(dev);
    if (c->hook)
        c->hook(dev, c->hook_opaque, (unsigned)offset, count);
    return 0;
}

int
vdev_config_read(struct vdev_dev *dev, unsigned offset, void *buf, unsigned len)
{
    if (!dev || !buf || offset >= VDEV_CONFIG_SIZE ||
        len > VDEV_CONFIG_SIZE - offset)
        return -EINVAL;
    memcpy(buf, dev->cfg.data + offset, len);
    return 0;
}

int
vdev_config_write(struct vdev_dev *dev, unsigned offset, const void *buf,
                  unsigned len)
{
    const uint8_t *src = buf;
    struct vdev_config *c;

    if (!dev || !buf || offset >= VDEV_CONFIG_SIZE ||
        len > VDEV_CONFIG_SIZE - offset)
        return -EINVAL;
    c = &dev->cfg;
    /* Device code defines values, which become the power-on state too;
     * but status bits it raises (W1C) are events a reset clears. */
    memcpy(c->data + offset, buf, len);
    for (unsigned i = 0; i < len; i++) {
        unsigned o = offset + i;

        c->poweron[o] = (uint8_t)((src[i] & ~c->w1cmask[o]) |
                                  (c->poweron[o] & c->w1cmask[o]));
    }
    return 0;
}

void
vdev_set_config_hook(struct vdev_dev *dev, vdev_config_hook_fn *fn,
                     void *opaque)
{
    dev->cfg.hook = fn;
    dev->cfg.hook_opaque = opaque;
}
