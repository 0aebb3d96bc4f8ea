/* VFIO_USER_DEVICE_GET_IRQ_INFO and VFIO_USER_DEVICE_SET_IRQS: validation of
 * the client's request and hand-off of its eventfds to irq.c. */
#include <errno.h>
#include <string.h>

#include "base/fdkind.h"
#include "device/irq.h"
#include "server/conn.h"

/* GET_IRQ_INFO flags as vfio-pci reports them (vfio_pci_ioctl_get_irq_info,
 * runtime/KERNEL.md Q2-Q5): INTx maskable and masking itself when it fires,
 * every other index set up as a whole (NORESIZE, as MSI-X without dynamic
 * allocation). We could resize, and mask MSI/MSI-X vectors (S12), but
 * clients are written against the kernel's flags. */
static uint32_t
irq_info_flags(unsigned index)
{
    if (index == VFIO_PCI_INTX_IRQ_INDEX)
        return VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
               VFIO_IRQ_INFO_AUTOMASKED;
    return VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE;
}

int
vdev_handle_irq_info(struct vdev_conn *c, struct vdev_msg *m,
                     struct vdev_reply *r)
{
    struct vfio_irq_info in, out;
    void *p;

    if (m->body_len < sizeof(in))
        return -EINVAL;
    memcpy(&in, m->body, sizeof(in));
    if (in.argsz < sizeof(in) || in.index >= VDEV_NR_IRQ_INDEXES)
        return -EINVAL;
    /* vfio-pci has no ERR interrupt but on PCI Express devices. */
    if (in.index == VFIO_PCI_ERR_IRQ_INDEX && !vdev_irq_count(c->dev, in.index))
        return -EINVAL;
    /* Replies are packed back to back: the payload may be unaligned. */
    p = vdev_reply_alloc(r, c, sizeof(out));
    if (!p)
        return -ENOMEM;
    out.argsz = sizeof(out);
    out.flags = irq_info_flags(in.index);
    out.index = in.index;
    out.count = vdev_irq_count(c->dev, in.index);
    memcpy(p, &out, sizeof(out));
    return 0;
}

/* ------------------------------------------------------------ SET_IRQS */

/* A validated SET_IRQS request. */
struct irq_set {
    uint32_t index, start, count;
    uint32_t data, action;
    const uint8_t *bools; /* DATA_BOOL: count of them */
    int *fds;             /* DATA_EVENTFD: count of them, or none */
    unsigned nr_fds;
};

static bool
one_bit(uint32_t v)
{
    return v && !(v & (v - 1));
}

/* Whether the request acts on vector i: always, or as its bool says. */
static bool
selected(const struct irq_set *q, uint32_t i)
{
    return q->data == VFIO_IRQ_SET_DATA_NONE || q->bools[i];
}

/* The client's eventfds go to irq.c (the fds become irq.c's); none
 * de-assigns. A level still asserted, or vectors pending, reach a new
 * trigger fd. */
static void
install_fds(struct vdev_dev *dev, struct irq_set *q)
{
    for (uint32_t i = 0; i < q->count; i++) {
        int fd = q->nr_fds ? q->fds[i] : -1;

        vdev_irq_set_fd(dev, q->index, q->start + i, q->action, fd);
        if (q->nr_fds)
            q->fds[i] = -1;
    }
    if (q->action != VFIO_IRQ_SET_ACTION_TRIGGER)
        return;
    if (q->index == VFIO_PCI_INTX_IRQ_INDEX)
        vdev_irq_intx_update(dev);
    else
        vdev_irq_msi_update(dev);
}

/* TRIGGER with DATA_NONE or DATA_BOOL: the client raises the interrupt
 * itself (loopback), which needs the index enabled (an eventfd installed;
 * vfio-pci: EINVAL). */
static int
loopback(struct vdev_dev *dev, const struct irq_set *q)
{
    if (!vdev_irq_armed(dev, q->index))
        return -EINVAL;
    for (uint32_t i = 0; i < q->count; i++)
        if (selected(q, i))
            vdev_irq_client_trigger(dev, q->index, q->start + i);
    return 0;
}

/* INTx, MSI, MSI-X (vfio_pci_set_intx_*, vfio_pci_set_msi_trigger). */
static int
set_device_irq(struct vdev_dev *dev, struct irq_set *q)
{
    bool intx = q->index == VFIO_PCI_INTX_IRQ_INDEX;

    if (q->action == VFIO_IRQ_SET_ACTION_TRIGGER) {
        if (q->data == VFIO_IRQ_SET_DATA_EVENTFD) {
            install_fds(dev, q);
            return 0;
        }
        return loopback(dev, q);
    }
    /* MASK/UNMASK. vfio-pci has them for INTx only, enabled, start 0,
     * count 1; MSI/MSI-X masking is ours (KERNEL.md S11, S12). */
    if (intx && (!vdev_irq_armed(dev, q->index) || q->count != 1))
        return -EINVAL;
    if (q->data == VFIO_IRQ_SET_DATA_EVENTFD) {
        /* vfio-pci reads an INTx UNMASK eventfd the other way round: a
         * resample fd the client signals to unmask, where the spec has an
         * event on the guest's unmask. Refused; QEMU falls back to UNMASK
         * messages (S15). */
        if (intx && q->action == VFIO_IRQ_SET_ACTION_UNMASK)
            return -EINVAL;
        install_fds(dev, q);
        return 0;
    }
    for (uint32_t i = 0; i < q->count; i++)
        if (selected(q, i))
            vdev_irq_client_mask(dev, q->index, q->start + i,
                                 q->action == VFIO_IRQ_SET_ACTION_MASK);
    return 0;
}

/* ERR and REQ: TRIGGER only (vfio_pci_set_ctx_trigger_single). */
static int
set_err_req(struct vdev_dev *dev, struct irq_set *q)
{
    if (q->action != VFIO_IRQ_SET_ACTION_TRIGGER)
        return -ENOTTY;
    if (q->data == VFIO_IRQ_SET_DATA_EVENTFD) {
        install_fds(dev, q);
        return 0;
    }
    if (q->data == VFIO_IRQ_SET_DATA_BOOL) {
        if (q->bools[0] && vdev_irq_armed(dev, q->index))
            vdev_irq_client_trigger(dev, q->index, 0);
        return 0;
    }
    return loopback(dev, q);
}

/* Checks in vfio-pci's order (vfio_set_irqs_validate_and_prepare, then
 * vfio_pci_set_irqs_ioctl), so the errno is the kernel's: EINVAL for a bad
 * header, range or data, ENOTTY for an action the index lacks. fds: none,
 * or one per vector, with DATA_EVENTFD only (they travel as ancillary data
 * here, so the kernel's argsz rule for them does not apply). */
static int
irq_set_parse(struct vdev_dev *dev, struct vdev_msg *m, struct irq_set *q)
{
    struct vfio_irq_set s;
    uint32_t n;

    if (m->body_len < sizeof(s))
        return -EINVAL;
    memcpy(&s, m->body, sizeof(s));
    if (s.argsz < sizeof(s) || s.index >= VDEV_NR_IRQ_INDEXES ||
        s.count >= UINT32_MAX - s.start ||
        (s.flags &
         ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)))
        return -EINVAL;
    n = vdev_irq_count(dev, s.index);
    if (s.start >= n || s.start + s.count > n)
        return -EINVAL;
    *q = (struct irq_set){.index = s.index,
                          .start = s.start,
                          .count = s.count,
                          .data = s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK,
                          .action = s.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK,
                          .bools = m->body + sizeof(s),
                          .fds = m->fds,
                          .nr_fds = m->nr_fds};
    if (!one_bit(q->data))
        return -EINVAL;
    if (q->data == VFIO_IRQ_SET_DATA_BOOL &&
        (s.argsz - sizeof(s) < s.count || m->body_len - sizeof(s) < s.count))
        return -EINVAL;
    if (!one_bit(q->action))
        return -ENOTTY;
    if (q->data == VFIO_IRQ_SET_DATA_EVENTFD
            ? q->nr_fds && q->nr_fds != q->count
            : q->nr_fds != 0)
        return -EINVAL;
    /* Eventfds only: the loop signals them, and anything else (a pipe, a
     * socket, a file) could block it or mean nothing. */
    for (unsigned i = 0; i < q->nr_fds; i++)
        if (vdev_fd_check_eventfd(q->fds[i]) < 0)
            return -EINVAL;
    return 0;
}

/* Validates everything before changing anything: on error the fds stay in
 * m->fds and the dispatcher closes them. Count 0 with DATA_NONE TRIGGER
 * disables the index (ERR/REQ: only an enabled one, as vfio-pci); with any
 * other data or action count 0 is refused (KERNEL.md S10). */
int
vdev_handle_set_irqs(struct vdev_conn *c, struct vdev_msg *m,
                     struct vdev_reply *r)
{
    struct vdev_dev *dev = c->dev;
    bool err_req;
    struct irq_set q;
    int rc;

    (void)r;
    if ((rc = irq_set_parse(dev, m, &q)) < 0)
        return rc;
    err_req =
        q.index == VFIO_PCI_ERR_IRQ_INDEX || q.index == VFIO_PCI_REQ_IRQ_INDEX;
    if (err_req && q.action != VFIO_IRQ_SET_ACTION_TRIGGER)
        return -ENOTTY;
    if (q.count == 0) {
        if (q.data != VFIO_IRQ_SET_DATA_NONE ||
            q.action != VFIO_IRQ_SET_ACTION_TRIGGER ||
            (err_req && !vdev_irq_armed(dev, q.index)))
            return -EINVAL;
        vdev_irq_disable_index(dev, q.index);
        return 0;
    }
    return err_req ? set_err_req(dev, &q) : set_device_irq(dev, &q);
}
