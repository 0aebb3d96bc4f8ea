// SPDX-License-Identifier: GPL-2.0
/* QEMU tier guest module: binds to the ivshmem model (1af4:1110), enables
 * its MSI-X vectors and counts the interrupts of each one; the counts are
 * the device's sysfs attribute irq_counts ("c0 c1 c2 c3"). Debian's kernel
 * has no VFIO no-IOMMU mode and uio_pci_generic does no MSI-X, so the
 * guest side of the doorbell test is this. */
#include <linux/atomic.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>

#define VIVS_MAX_VECTORS 4

struct vivs {
    int nvec;
    atomic_t counts[VIVS_MAX_VECTORS];
};

static irqreturn_t
vivs_irq(int irq, void *arg)
{
    atomic_inc((atomic_t *)arg);
    return IRQ_HANDLED;
}

static ssize_t
irq_counts_show(struct device *dev, struct device_attribute *attr, char *buf)
{
    struct vivs *v = dev_get_drvdata(dev);
    int i, n = 0;

    for (i = 0; i < v->nvec; i++)
        n += sysfs_emit_at(buf, n, "%s%d", i ? " " : "",
                           atomic_read(&v->counts[i]));
    return n + sysfs_emit_at(buf, n, "\n");
}
static DEVICE_ATTR_RO(irq_counts);

static struct attribute *vivs_attrs[] = {&dev_attr_irq_counts.attr, NULL};
ATTRIBUTE_GROUPS(vivs);

static int
vivs_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
    struct vivs *v;
    int rc, i;

    v = devm_kzalloc(&pdev->dev, sizeof(*v), GFP_KERNEL);
    if (!v)
        return -ENOMEM;
    rc = pcim_enable_device(pdev);
    if (rc)
        return rc;
    /* An MSI is a memory write by the device: bus mastering on. */
    pci_set_master(pdev);
    v->nvec = pci_alloc_irq_vectors(pdev, 1, VIVS_MAX_VECTORS, PCI_IRQ_MSIX);
    if (v->nvec < 0)
        return v->nvec;
    for (i = 0; i < v->nvec; i++) {
        rc = devm_request_irq(&pdev->dev, pci_irq_vector(pdev, i), vivs_irq, 0,
                              "vdev-ivshmem", &v->counts[i]);
        if (rc)
            return rc;
    }
    pci_set_drvdata(pdev, v);
    return 0;
}

static const struct pci_device_id vivs_ids[] = {
    {PCI_DEVICE(0x1af4, 0x1110)},
    {0},
};
MODULE_DEVICE_TABLE(pci, vivs_ids);

static struct pci_driver vivs_driver = {
    .name = "vdev_ivshmem_irq",
    .id_table = vivs_ids,
    .probe = vivs_probe,
    .dev_groups = vivs_groups, /* the PCI core copies it to .driver */
};
module_pci_driver(vivs_driver);

MODULE_DESCRIPTION("vdev QEMU tier: ivshmem MSI-X interrupt counter");
MODULE_LICENSE("GPL");
