/* IRQ state and delivery (irq.c): INTx, MSI and MSI-X as the guest
 * configured them, the client's eventfds and masks. Used by config space,
 * the SET_IRQS handler, migration and the hand-over. */
#ifndef VDEV_DEVICE_IRQ_H
#define VDEV_DEVICE_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "device/device.h"

int vdev_irqs_init(struct vdev_dev *dev);
void vdev_irqs_reset(struct vdev_dev *dev);
/* Closes every eventfd the client gave us (on disconnect). */
void vdev_irqs_drop_fds(struct vdev_dev *dev);
/* MSI-X table/PBA accesses: returns 1 if [offset, offset+count) in BAR
 * `bar` was served, 0 if it is not MSI-X space, -errno on error. */
int vdev_msix_access(struct vdev_dev *dev, unsigned bar, uint64_t offset,
                     void *buf, uint32_t count, bool is_write);
/* Re-evaluates INTx after command/mask changes. */
void vdev_irq_intx_update(struct vdev_dev *dev);
/* Delivers MSI/MSI-X pending vectors after the guest unmasked them. */
void vdev_irq_msi_update(struct vdev_dev *dev);

/* Number of interrupts of an index, derived from the current capabilities. */
unsigned vdev_irq_count(const struct vdev_dev *dev, unsigned index);
/* Whether the client installed a trigger eventfd on any vector of index
 * (the index is "enabled", in vfio-pci's words). */
bool vdev_irq_armed(const struct vdev_dev *dev, unsigned index);
/* Signals the client's mask/unmask eventfd of a vector, if it set one. */
void vdev_irq_notify_mask(struct vdev_dev *dev, unsigned index, unsigned vector,
                          bool masked);
/* SET_IRQS actions on one vector (index and vector already validated). */
void vdev_irq_set_fd(struct vdev_dev *dev, unsigned index, unsigned vector,
                     uint32_t action, int fd);
void vdev_irq_client_mask(struct vdev_dev *dev, unsigned index, unsigned vector,
                          bool masked);
void vdev_irq_client_trigger(struct vdev_dev *dev, unsigned index,
                             unsigned vector);
/* Drops every fd and client mask of an index (SET_IRQS count 0). */
void vdev_irq_disable_index(struct vdev_dev *dev, unsigned index);
/* MSI: enabled vector count (0 when disabled), mask/pending offsets. */
unsigned vdev_msi_enabled_vectors(const struct vdev_dev *dev);
unsigned vdev_msi_mask_off(const struct vdev_dev *dev);

#endif /* VDEV_DEVICE_IRQ_H */
