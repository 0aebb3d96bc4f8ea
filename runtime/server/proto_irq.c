/* VFIO_USER_DEVICE_GET_IRQ_INFO and VFIO_USER_DEVICE_SET_IRQS: validation of
 * the client's request and hand-off of its eventfds to irq.c. */
#include <errno.h>
#include <string.h>

#include "base/fdkind.h"
#include "device/irq.h"
#include "server/conn.h"

/* MSI and MSI-X vectors can be set one at a time here (unlike vfio-pci,
 * which must tear down the whole set), so NORESIZE is not reported. */
static uint32_t
irq_info_flags(unsigned index)
{
    switch (index) {
    case VFIO_PCI_INTX_IRQ_INDEX:
        return VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
               VFIO_IRQ_INFO_AUTOMASKED;
    case VFIO_PCI_MSI_IRQ_INDEX:
    case VFIO_PCI_MSIX_IRQ_INDEX:
        return VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE;
    default:
        return VFIO_IRQ_INFO_EVENTFD;
    }
}

int
vdev_handle_irq_info(struct vdev_conn *c, struct vdev_msg *m,
                     struct vdev_reply *r)
{
    struct vfio_irq_info in, out;
    void *p;

    if (m->nr_fds || m->body_len < sizeof(in))
        return -EINVAL;
    memcpy(&in, m->body, sizeof(in));
    if (in.argsz < sizeof(in) || in.index >= VDEV_NR_IRQ_INDEXES)
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

static bool
one_bit(uint32_t v)
{
    return v && !(v & (v - 1));
}

static void
apply(struct vdev_dev *dev, uint32_t index, uint32_t v, uint32_t action)
{
    if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
        vdev_irq_client_trigger(dev, index, v);
    else
        vdev_irq_client_mask(dev, index, v, action == VFIO_IRQ_SET_ACTION_MASK);
}

/* Validates everything before changing anything: on error the fds stay in
 * m->fds and the dispatcher closes them. */
int
vdev_handle_set_irqs(struct vdev_conn *c, struct vdev_msg *m,
                     struct vdev_reply *r)
{
    struct vdev_dev *dev = c->dev;
    struct vfio_irq_set s;
    uint32_t data, action, n;
    const uint8_t *bools;

    (void)r;
    if (m->body_len < sizeof(s))
        return -EINVAL;
    memcpy(&s, m->body, sizeof(s));
    if (s.argsz < sizeof(s) || s.argsz > m->body_len)
        return -EINVAL;
    data = s.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    action = s.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    if ((s.flags &
         ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) ||
        !one_bit(data) || !one_bit(action))
        return -EINVAL;
    if (s.index >= VDEV_NR_IRQ_INDEXES)
        return -EINVAL;
    n = vdev_irq_count(dev, s.index);

    if (s.count == 0) {
        /* The one count-0 form: disable every interrupt of the index. */
        if (data != VFIO_IRQ_SET_DATA_NONE ||
            action != VFIO_IRQ_SET_ACTION_TRIGGER || s.start != 0 || m->nr_fds)
            return -EINVAL;
        vdev_irq_disable_index(dev, s.index);
        return 0;
    }
    if ((uint64_t)s.start + s.count > n)
        return -EINVAL;
    if (action != VFIO_IRQ_SET_ACTION_TRIGGER &&
        (s.index == VFIO_PCI_ERR_IRQ_INDEX ||
         s.index == VFIO_PCI_REQ_IRQ_INDEX))
        return -EINVAL;
    /* vfio-pci reads an INTx UNMASK eventfd the other way round: a KVM
     * resample fd the client signals on EOI. We do not poll client fds, and
     * QEMU falls back to UNMASK messages when this is refused. */
    if (s.index == VFIO_PCI_INTX_IRQ_INDEX &&
        action == VFIO_IRQ_SET_ACTION_UNMASK &&
        data == VFIO_IRQ_SET_DATA_EVENTFD)
        return -EINVAL;
    if (data != VFIO_IRQ_SET_DATA_EVENTFD && m->nr_fds)
        return -EINVAL;
    if (data == VFIO_IRQ_SET_DATA_BOOL && s.argsz - sizeof(s) < s.count)
        return -EINVAL;
    if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
        /* No fds de-assigns; otherwise exactly one per vector. */
        if (m->nr_fds && m->nr_fds != s.count)
            return -EINVAL;
        /* Eventfds only: the loop signals them, and anything else (a
         * pipe, a socket, a file) could block it or mean nothing. */
        for (unsigned i = 0; i < m->nr_fds; i++)
            if (vdev_fd_check_eventfd(m->fds[i]) < 0)
                return -EINVAL;
    }

    switch (data) {
    case VFIO_IRQ_SET_DATA_NONE:
        for (uint32_t i = 0; i < s.count; i++)
            apply(dev, s.index, s.start + i, action);
        break;
    case VFIO_IRQ_SET_DATA_BOOL:
        bools = m->body + sizeof(s);
        for (uint32_t i = 0; i < s.count; i++)
            if (bools[i])
                apply(dev, s.index, s.start + i, action);
        break;
    default:
        for (uint32_t i = 0; i < s.count; i++) {
            int fd = m->nr_fds ? m->fds[i] : -1;

            vdev_irq_set_fd(dev, s.index, s.start + i, action, fd);
            if (m->nr_fds)
                m->fds[i] = -1;
        }
        /* A level still asserted, or vectors pending, reach the new fd. */
        if (action == VFIO_IRQ_SET_ACTION_TRIGGER) {
            if (s.index == VFIO_PCI_INTX_IRQ_INDEX)
                vdev_irq_intx_update(dev);
            else
                vdev_irq_msi_update(dev);
        }
        break;
    }
    return 0;
}
