/* Interrupt delivery: INTx line with Interrupt Status/Disable and VFIO
 * auto-masking, MSI and MSI-X with guest and client masks and pending bits,
 * the MSI-X table/PBA, and the client's eventfds per IRQ index. */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <unistd.h>

#include "base/evsignal.h"
#include "device/irq.h"
#include "device/pci_priv.h"

/* One talloc chunk per index holds all its arrays, so one destructor closes
 * every fd of it: ints for trigger, mask, unmask fds, then two bool arrays. */
#define SLOT_BYTES (3 * sizeof(int) + 2 * sizeof(bool))

static int
index_chunk_destructor(int *fds)
{
    size_t n = talloc_get_size(fds) / SLOT_BYTES;

    for (size_t i = 0; i < 3 * n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return 0;
}

unsigned
vdev_irq_count(const struct vdev_dev *dev, unsigned index)
{
    switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        return dev->ident.intx_pin >= 1 && dev->ident.intx_pin <= 4;
    case VFIO_PCI_MSI_IRQ_INDEX:
        return dev->cfg.msi_cap ? dev->irqs.msi_vectors : 0;
    case VFIO_PCI_MSIX_IRQ_INDEX:
        return dev->cfg.msix_cap ? dev->irqs.msix.nr_vectors : 0;
    case VFIO_PCI_ERR_IRQ_INDEX:
        /* vfio-pci: error reporting belongs to PCI Express devices. */
        return dev->cfg.pcie_cap ? 1 : 0;
    case VFIO_PCI_REQ_IRQ_INDEX:
        return 1;
    default:
        return 0;
    }
}

bool
vdev_irq_armed(const struct vdev_dev *dev, unsigned index)
{
    const struct vdev_irq_index *x = &dev->irqs.index[index];

    for (unsigned v = 0; v < x->count; v++)
        if (x->trigger_fd[v] >= 0)
            return true;
    return false;
}

static int
index_resize(struct vdev_dev *dev, struct vdev_irq_index *x, unsigned n)
{
    int *chunk = NULL;
    unsigned keep = x->count < n ? x->count : n;

    if (n) {
        chunk = talloc_size(dev, n * SLOT_BYTES);
        if (!chunk)
            return -ENOMEM;
        for (unsigned i = 0; i < 3 * n; i++)
            chunk[i] = -1;
        memset(chunk + 3 * n, 0, 2 * n * sizeof(bool));
        talloc_set_destructor(chunk, index_chunk_destructor);
    }
    /* Carry over what the client already set up; the rest is closed with
     * the old chunk. */
    for (unsigned i = 0; i < keep; i++) {
        chunk[i] = x->trigger_fd[i];
        chunk[n + i] = x->mask_fd[i];
        chunk[2 * n + i] = x->unmask_fd[i];
        x->trigger_fd[i] = x->mask_fd[i] = x->unmask_fd[i] = -1;
    }
    if (x->trigger_fd)
        talloc_free(x->trigger_fd);
    x->count = n;
    x->trigger_fd = chunk;
    x->mask_fd = chunk ? chunk + n : NULL;
    x->unmask_fd = chunk ? chunk + 2 * n : NULL;
    x->masked = chunk ? (bool *)(chunk + 3 * n) : NULL;
    x->pending = chunk ? x->masked + n : NULL;
    return 0;
}

/* Safe to call again whenever a capability changes an index's count. */
int
vdev_irqs_init(struct vdev_dev *dev)
{
    for (unsigned i = 0; i < VDEV_NR_IRQ_INDEXES; i++) {
        struct vdev_irq_index *x = &dev->irqs.index[i];
        unsigned n = vdev_irq_count(dev, i);

        if (x->count != n || (n && !x->trigger_fd)) {
            int rc = index_resize(dev, x, n);

            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

void
vdev_irqs_reset(struct vdev_dev *dev)
{
    struct vdev_irqs *q = &dev->irqs;
    struct vdev_msix *m = &q->msix;

    q->intx_level = false;
    q->levels = 0;
    q->msi_pending = 0;
    dev->cfg.data[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
    for (unsigned i = 0; i < VDEV_NR_IRQ_INDEXES; i++) {
        struct vdev_irq_index *x = &q->index[i];

        for (unsigned v = 0; v < x->count; v++)
            x->masked[v] = x->pending[v] = false;
    }
    if (m->table) {
        memset(m->table, 0, (size_t)m->nr_vectors * PCI_MSIX_ENTRY_SIZE);
        for (unsigned v = 0; v < m->nr_vectors; v++)
            m->table[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] =
                PCI_MSIX_ENTRY_CTRL_MASKBIT;
    }
    if (m->pba)
        memset(m->pba, 0, talloc_get_size(m->pba));
    m->table_used = false;
}

static void
close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void
vdev_irq_disable_index(struct vdev_dev *dev, unsigned index)
{
    struct vdev_irq_index *x = &dev->irqs.index[index];

    for (unsigned v = 0; v < x->count; v++) {
        close_fd(&x->trigger_fd[v]);
        close_fd(&x->mask_fd[v]);
        close_fd(&x->unmask_fd[v]);
        x->masked[v] = x->pending[v] = false;
    }
}

void
vdev_irqs_drop_fds(struct vdev_dev *dev)
{
    for (unsigned i = 0; i < VDEV_NR_IRQ_INDEXES; i++)
        vdev_irq_disable_index(dev, i);
}

/* Signals a client eventfd; never blocks (base/evsignal.c). A full
 * counter is an edge that coalesces with one the client has not read yet,
 * a failed signal a lost one: both are counted, and the client still has
 * an event pending for the first. Returns whether the client has one. */
static bool
signal_fd(struct vdev_dev *dev, int fd)
{
    int rc;

    if (fd < 0)
        return false;
    rc = vdev_eventfd_signal(fd);
    if (rc > 0) {
        dev->stats.irqs_sent++;
        return true;
    }
    dev->stats.irqs_dropped++;
    return rc == 0;
}

void
vdev_irq_notify_mask(struct vdev_dev *dev, unsigned index, unsigned vector,
                     bool masked)
{
    struct vdev_irq_index *x = &dev->irqs.index[index];
    int fd;

    if (vector >= x->count)
        return;
    fd = masked ? x->mask_fd[vector] : x->unmask_fd[vector];
    if (fd >= 0 && vdev_eventfd_signal(fd) <= 0)
        dev->stats.irqs_dropped++;
}

/* ------------------------------------------------------------ INTx */

static bool
msi_enabled(const struct vdev_dev *dev)
{
    const struct vdev_config *c = &dev->cfg;

    return c->msi_cap && (vdev_le16(c->data + c->msi_cap + PCI_MSI_FLAGS) &
                          PCI_MSI_FLAGS_ENABLE);
}

static uint16_t
msix_flags(const struct vdev_dev *dev)
{
    const struct vdev_config *c = &dev->cfg;

    return c->msix_cap ? vdev_le16(c->data + c->msix_cap + PCI_MSIX_FLAGS) : 0;
}

void
vdev_irq_intx_update(struct vdev_dev *dev)
{
    struct vdev_irq_index *x = &dev->irqs.index[VFIO_PCI_INTX_IRQ_INDEX];
    uint8_t *status = &dev->cfg.data[PCI_STATUS];
    uint16_t cmd = vdev_le16(dev->cfg.data + PCI_COMMAND);

    if (dev->irqs.intx_level)
        *status |= PCI_STATUS_INTERRUPT;
    else
        *status &= (uint8_t)~PCI_STATUS_INTERRUPT;
    if (x->count == 0 || !dev->irqs.intx_level || !dev->running)
        return;
    /* A function using MSI or MSI-X must not use its INTx pin. */
    if ((cmd & PCI_COMMAND_INTX_DISABLE) || msi_enabled(dev) ||
        (msix_flags(dev) & PCI_MSIX_FLAGS_ENABLE))
        return;
    if (x->masked[0])
        return;
    if (signal_fd(dev, x->trigger_fd[0])) {
        /* As vfio-pci: INTx masks itself until the client unmasks it. */
        x->masked[0] = true;
        vdev_irq_notify_mask(dev, VFIO_PCI_INTX_IRQ_INDEX, 0, true);
    }
}

int
vdev_irq_intx_set(struct vdev_dev *dev, bool level)
{
    if (vdev_irq_count(dev, VFIO_PCI_INTX_IRQ_INDEX) == 0)
        return -EINVAL;
    dev->irqs.intx_level = level;
    vdev_irq_intx_update(dev);
    return 0;
}

/* ------------------------------------------------------------ MSI */

unsigned
vdev_msi_mask_off(const struct vdev_dev *dev)
{
    const struct vdev_config *c = &dev->cfg;
    uint16_t flags = vdev_le16(c->data + c->msi_cap + PCI_MSI_FLAGS);

    return c->msi_cap +
           ((flags & PCI_MSI_FLAGS_64BIT) ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

unsigned
vdev_msi_enabled_vectors(const struct vdev_dev *dev)
{
    const struct vdev_config *c = &dev->cfg;
    uint16_t flags;
    unsigned n;

    if (!msi_enabled(dev))
        return 0;
    flags = vdev_le16(c->data + c->msi_cap + PCI_MSI_FLAGS);
    n = 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4);
    return n < dev->irqs.msi_vectors ? n : dev->irqs.msi_vectors;
}

static bool
msi_has_maskbits(const struct vdev_dev *dev)
{
    const struct vdev_config *c = &dev->cfg;

    return vdev_le16(c->data + c->msi_cap + PCI_MSI_FLAGS) &
           PCI_MSI_FLAGS_MASKBIT;
}

static void
msi_sync_pending(struct vdev_dev *dev)
{
    if (msi_has_maskbits(dev))
        vdev_put32(dev->cfg.data + vdev_msi_mask_off(dev) + 4,
                   dev->irqs.msi_pending);
}

/* Delivers MSI vector v if it is pending and nothing masks it. */
static void
msi_try(struct vdev_dev *dev, unsigned v)
{
    struct vdev_irq_index *x = &dev->irqs.index[VFIO_PCI_MSI_IRQ_INDEX];
    uint32_t bit = 1u << v;

    if (!(dev->irqs.msi_pending & bit) || v >= x->count || x->masked[v] ||
        !dev->running)
        return;
    if (msi_has_maskbits(dev) &&
        (vdev_le32(dev->cfg.data + vdev_msi_mask_off(dev)) & bit))
        return;
    dev->irqs.msi_pending &= ~bit;
    msi_sync_pending(dev);
    signal_fd(dev, x->trigger_fd[v]);
}

int
vdev_irq_msi_send(struct vdev_dev *dev, unsigned vector)
{
    if (!dev->cfg.msi_cap || vector >= dev->irqs.msi_vectors)
        return -EINVAL;
    if (!msi_enabled(dev))
        return -ENOTCONN;
    if (vector >= vdev_msi_enabled_vectors(dev))
        return -EINVAL;
    dev->irqs.msi_pending |= 1u << vector;
    msi_sync_pending(dev);
    msi_try(dev, vector);
    return 0;
}

/* ------------------------------------------------------------ MSI-X */

static bool
pba_test(const struct vdev_msix *m, unsigned v)
{
    return m->pba[v / 64] & (1ull << (v % 64));
}

static void
pba_set(struct vdev_msix *m, unsigned v, bool on)
{
    if (on)
        m->pba[v / 64] |= 1ull << (v % 64);
    else
        m->pba[v / 64] &= ~(1ull << (v % 64));
}

/* A client that emulates the table itself (QEMU does) never writes ours and
 * masks vectors with SET_IRQS MASK/UNMASK instead; our copy would stay
 * masked from reset forever. So the table's mask bits count once the client
 * has written the table through us. */
static bool
msix_vector_masked(const struct vdev_msix *m, unsigned v)
{
    return m->table_used &&
           (m->table[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] &
            PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static bool
msix_entry_masked(const struct vdev_msix *m, unsigned v)
{
    return m->table[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] &
           PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

static void
msix_try(struct vdev_dev *dev, unsigned v)
{
    struct vdev_msix *m = &dev->irqs.msix;
    struct vdev_irq_index *x = &dev->irqs.index[VFIO_PCI_MSIX_IRQ_INDEX];
    uint16_t flags = msix_flags(dev);

    if (!pba_test(m, v) || v >= x->count || x->masked[v] || !dev->running)
        return;
    if (!(flags & PCI_MSIX_FLAGS_ENABLE) || (flags & PCI_MSIX_FLAGS_MASKALL) ||
        msix_vector_masked(m, v))
        return;
    pba_set(m, v, false);
    signal_fd(dev, x->trigger_fd[v]);
}

int
vdev_irq_msix_send(struct vdev_dev *dev, unsigned vector)
{
    struct vdev_msix *m = &dev->irqs.msix;

    if (!dev->cfg.msix_cap || vector >= m->nr_vectors)
        return -EINVAL;
    if (!(msix_flags(dev) & PCI_MSIX_FLAGS_ENABLE))
        return -ENOTCONN;
    pba_set(m, vector, true);
    msix_try(dev, vector);
    return 0;
}

void
vdev_irq_msi_update(struct vdev_dev *dev)
{
    unsigned n = vdev_msi_enabled_vectors(dev);
    struct vdev_msix *m = &dev->irqs.msix;

    for (unsigned v = 0; v < n; v++)
        msi_try(dev, v);
    if (dev->cfg.msix_cap && (msix_flags(dev) & PCI_MSIX_FLAGS_ENABLE))
        for (unsigned v = 0; v < m->nr_vectors; v++)
            if (m->pba[v / 64] && pba_test(m, v))
                msix_try(dev, v);
}

static bool
within(uint64_t off, uint32_t count, uint64_t start, uint64_t len,
       bool *partial)
{
    bool hit = off < start + len && start < off + count;

    *partial = hit && (off < start || off + count > start + len);
    return hit;
}

static void
msix_table_write(struct vdev_dev *dev, uint64_t rel, const uint8_t *src,
                 uint32_t count)
{
    struct vdev_msix *m = &dev->irqs.msix;
    unsigned first = (unsigned)(rel / PCI_MSIX_ENTRY_SIZE);
    unsigned last = (unsigned)((rel + count - 1) / PCI_MSIX_ENTRY_SIZE);

    m->table_used = true;
    for (unsigned v = first; v <= last; v++) {
        bool before = msix_entry_masked(m, v);

        for (unsigned b = 0; b < PCI_MSIX_ENTRY_SIZE; b++) {
            uint64_t pos = (uint64_t)v * PCI_MSIX_ENTRY_SIZE + b;
            uint8_t val;

            if (pos < rel || pos >= rel + count)
                continue;
            val = src[pos - rel];
            /* Vector Control: only the mask bit is implemented. */
            if (b == PCI_MSIX_ENTRY_VECTOR_CTRL)
                val &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
            else if (b > PCI_MSIX_ENTRY_VECTOR_CTRL)
                val = 0;
            m->table[pos] = val;
        }
        if (before != msix_entry_masked(m, v)) {
            vdev_irq_notify_mask(dev, VFIO_PCI_MSIX_IRQ_INDEX, v, !before);
            if (before)
                msix_try(dev, v);
        }
    }
}

int
vdev_msix_access(struct vdev_dev *dev, unsigned bar, uint64_t offset, void *buf,
                 uint32_t count, bool is_write)
{
    struct vdev_msix *m = &dev->irqs.msix;
    uint64_t tlen = (uint64_t)m->nr_vectors * PCI_MSIX_ENTRY_SIZE;
    uint64_t plen = ((uint64_t)m->nr_vectors + 63) / 64 * 8;
    bool partial;

    if (!dev->cfg.msix_cap || !m->table || count == 0)
        return 0;
    if (offset > UINT64_MAX - count)
        return -EINVAL;
    if (bar == m->table_bar &&
        within(offset, count, m->table_offset, tlen, &partial)) {
        uint64_t rel = offset - m->table_offset;

        if (partial)
            return -EINVAL;
        if (is_write)
            msix_table_write(dev, rel, buf, count);
        else
            memcpy(buf, m->table + rel, count);
        return 1;
    }
    if (bar == m->pba_bar &&
        within(offset, count, m->pba_offset, plen, &partial)) {
        uint64_t rel = offset - m->pba_offset;
        uint8_t *dst = buf;

        if (partial)
            return -EINVAL;
        /* The PBA is read-only: writes are ignored, as the spec allows. */
        if (!is_write)
            for (uint32_t i = 0; i < count; i++)
                dst[i] =
                    (uint8_t)(m->pba[(rel + i) / 8] >> (8 * ((rel + i) % 8)));
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------ device API */

static int
intx_pulse(struct vdev_dev *dev)
{
    bool was = dev->irqs.intx_level;
    int rc;

    if (was) /* already asserted: the guest has yet to service it */
        return 0;
    rc = vdev_irq_intx_set(dev, true);
    if (rc == 0)
        rc = vdev_irq_intx_set(dev, false);
    return rc;
}

int
vdev_irq_set_level(struct vdev_dev *dev, unsigned vector, bool level)
{
    struct vdev_irqs *q = &dev->irqs;
    uint32_t bit;
    bool rising;

    if (vector >= 32)
        return -EINVAL;
    bit = 1u << vector;
    rising = level && !(q->levels & bit);
    q->levels = level ? q->levels | bit : q->levels & ~bit;
    /* The INTx line tracks the levels in every mode, so that switching
     * back to INTx finds it right; only delivery depends on the mode. */
    if (vdev_irq_count(dev, VFIO_PCI_INTX_IRQ_INDEX))
        vdev_irq_intx_set(dev, q->levels != 0);
    if (msix_flags(dev) & PCI_MSIX_FLAGS_ENABLE)
        return rising ? vdev_irq_msix_send(dev, vector) : 0;
    if (msi_enabled(dev))
        return rising ? vdev_irq_msi_send(dev, vector) : 0;
    return vdev_irq_count(dev, VFIO_PCI_INTX_IRQ_INDEX) ? 0 : -ENOTCONN;
}

int
vdev_irq_send(struct vdev_dev *dev, unsigned vector)
{
    if (msix_flags(dev) & PCI_MSIX_FLAGS_ENABLE)
        return vdev_irq_msix_send(dev, vector);
    if (msi_enabled(dev))
        return vdev_irq_msi_send(dev, vector);
    if (vdev_irq_count(dev, VFIO_PCI_INTX_IRQ_INDEX) == 0)
        return -ENOTCONN;
    return intx_pulse(dev);
}

/* ------------------------------------------------------------ SET_IRQS */

void
vdev_irq_set_fd(struct vdev_dev *dev, unsigned index, unsigned vector,
                uint32_t action, int fd)
{
    struct vdev_irq_index *x = &dev->irqs.index[index];
    int *slot;

    if (action == VFIO_IRQ_SET_ACTION_MASK)
        slot = &x->mask_fd[vector];
    else if (action == VFIO_IRQ_SET_ACTION_UNMASK)
        slot = &x->unmask_fd[vector];
    else
        slot = &x->trigger_fd[vector];
    if (*slot >= 0 && *slot != fd)
        close(*slot);
    *slot = fd;
}

void
vdev_irq_client_mask(struct vdev_dev *dev, unsigned index, unsigned vector,
                     bool masked)
{
    struct vdev_irq_index *x = &dev->irqs.index[index];

    x->masked[vector] = masked;
    if (masked)
        return;
    if (index == VFIO_PCI_INTX_IRQ_INDEX)
        vdev_irq_intx_update(dev);
    else if (index == VFIO_PCI_MSI_IRQ_INDEX)
        msi_try(dev, vector);
    else if (index == VFIO_PCI_MSIX_IRQ_INDEX)
        msix_try(dev, vector);
}

/* The client raising a device interrupt itself (loopback). As vfio-pci
 * does (vfio_send_intx_eventfd, vfio_pci_set_msi_trigger): INTx signals
 * its eventfd whatever the mask, without masking itself, unless the guest
 * set Interrupt Disable; MSI and MSI-X signal the vector, and a vector the
 * client masked (which vfio-pci cannot do) goes pending instead. */
void
vdev_irq_client_trigger(struct vdev_dev *dev, unsigned index, unsigned vector)
{
    struct vdev_irq_index *x = &dev->irqs.index[index];

    if (index == VFIO_PCI_INTX_IRQ_INDEX) {
        if (!(vdev_le16(dev->cfg.data + PCI_COMMAND) &
              PCI_COMMAND_INTX_DISABLE))
            signal_fd(dev, x->trigger_fd[vector]);
        return;
    }
    if (x->masked[vector]) {
        if (index == VFIO_PCI_MSI_IRQ_INDEX) {
            dev->irqs.msi_pending |= 1u << vector;
            msi_sync_pending(dev);
        } else if (index == VFIO_PCI_MSIX_IRQ_INDEX) {
            pba_set(&dev->irqs.msix, vector, true);
        }
        return;
    }
    signal_fd(dev, x->trigger_fd[vector]);
}
