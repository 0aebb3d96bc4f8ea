/* Device object: its model's setup and teardown (vdev_dev_create, in
 * server/create.c, adds what serves it), BARs and device-specific regions,
 * reset, logging and statistics. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device/device.h"
#include "device/irq.h"

#define PAGE_SIZE_4K 4096u

void
vdev_region_init(struct vdev_region *r)
{
    memset(r, 0, sizeof(*r));
    r->mem_fd = -1;
}

static void
region_release(struct vdev_region *r)
{
    if (r->mem)
        munmap(r->mem, r->size < PAGE_SIZE_4K ? PAGE_SIZE_4K : r->size);
    if (r->mem_fd >= 0)
        close(r->mem_fd);
    r->mem = NULL;
    r->mem_fd = -1;
}

void
vdev_device_release(struct vdev_dev *dev)
{
    for (unsigned i = 0; i < VDEV_MAX_REGIONS; i++)
        region_release(&dev->regions[i]);
}

int
vdev_device_init(struct vdev_dev *dev, const char *name,
                 const struct vdev_pci_ident *ident)
{
    struct vdev_region *cfg;

    for (unsigned i = 0; i < VDEV_MAX_REGIONS; i++)
        vdev_region_init(&dev->regions[i]);
    dev->name = talloc_strdup(dev, name ? name : "vdev");
    if (!dev->name)
        return -ENOMEM;
    if (!ident || ident->intx_pin > 4)
        return -EINVAL;
    dev->ident = *ident;
    dev->log.max = VDEV_LOG_WARN;
    dev->nr_regions = VDEV_NR_PCI_REGIONS;
    dev->running = true;

    /* As vfio-pci's cfg_size: 256 bytes until a PCI Express or extended
     * capability makes it 4096 (pci_caps.c). */
    cfg = &dev->regions[VDEV_CONFIG_INDEX];
    cfg->present = true;
    cfg->size = VDEV_CONFIG_LEGACY_SIZE;
    cfg->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

    vdev_config_init(dev);
    return vdev_irqs_init(dev);
}

const char *
vdev_dev_name(const struct vdev_dev *dev)
{
    return dev->name;
}

void
vdev_set_private(struct vdev_dev *dev, void *priv)
{
    dev->priv = priv;
}

void *
vdev_private(const struct vdev_dev *dev)
{
    return dev->priv;
}

void
vdev_set_reset_cb(struct vdev_dev *dev, vdev_reset_fn *fn, void *opaque)
{
    dev->reset_fn = fn;
    dev->reset_opaque = opaque;
}

void
vdev_reset(struct vdev_dev *dev)
{
    vdev_config_reset(dev);
    vdev_irqs_reset(dev);
    if (dev->reset_fn)
        dev->reset_fn(dev, dev->reset_opaque);
}

/* ------------------------------------------------------------ BARs */

static bool
is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int
bar_check(const struct vdev_dev *dev, unsigned index,
          const struct vdev_bar_desc *d)
{
    bool rom = index == VDEV_ROM_INDEX;

    if (index > VDEV_ROM_INDEX || !d || !is_pow2(d->size))
        return -EINVAL;
    if (dev->regions[index].present)
        return -EEXIST;
    /* The slot may be the upper half of a 64-bit BAR below it. */
    if (index > 0 && index < VDEV_NR_BARS && dev->regions[index - 1].present &&
        dev->regions[index - 1].kind == VDEV_BAR_MEM64)
        return -EBUSY;
    if (rom)
        return d->size >= 2048 && d->size <= (1u << 24) ? 0 : -EINVAL;
    switch (d->kind) {
    case VDEV_BAR_IO:
        /* PCI limits an I/O BAR to 256 bytes; mapping ports is not a thing. */
        if (d->size < 4 || d->size > 256 || d->nr_mmap_areas || d->prefetchable)
            return -EINVAL;
        return 0;
    case VDEV_BAR_MEM32:
        return d->size >= 16 && d->size <= (1ull << 31) ? 0 : -EINVAL;
    case VDEV_BAR_MEM64:
        if (index + 1 >= VDEV_NR_BARS)
            return -EINVAL;
        if (dev->regions[index + 1].present)
            return -EBUSY;
        return d->size >= 16 && d->size <= (1ull << 62) ? 0 : -EINVAL;
    }
    return -EINVAL;
}

static int
areas_check(const struct vdev_bar_desc *d)
{
    if (d->nr_mmap_areas && (!d->backed || !d->mmap_areas))
        return -EINVAL;
    for (unsigned i = 0; i < d->nr_mmap_areas; i++) {
        const struct vdev_mmap_area *a = &d->mmap_areas[i];
        if (!a->size || (a->offset | a->size) % PAGE_SIZE_4K ||
            a->offset > d->size || a->size > d->size - a->offset)
            return -EINVAL;
    }
    return 0;
}

static int
bar_back(struct vdev_dev *dev, struct vdev_region *r, unsigned index)
{
    /* Below a page the memfd still needs one page to be mapped here. */
    size_t len = r->size < PAGE_SIZE_4K ? PAGE_SIZE_4K : r->size;
    char name[64];

    snprintf(name, sizeof(name), "%s-bar%u", dev->name, index);
    r->mem_fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (r->mem_fd < 0)
        return -errno;
    /* The client gets this fd to mmap the BAR: sealed, it cannot shrink
     * the file under our own mapping. */
    if (ftruncate(r->mem_fd, (off_t)len) < 0 ||
        fcntl(r->mem_fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        goto fail;
    r->mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->mem_fd, 0);
    if (r->mem == MAP_FAILED) {
        r->mem = NULL;
        goto fail;
    }
    return 0;
fail : {
    int err = -errno;
    region_release(r);
    return err;
}
}

int
vdev_bar_add(struct vdev_dev *dev, unsigned index,
             const struct vdev_bar_desc *desc)
{
    struct vdev_region *r;
    bool mappable;
    int rc;

    if ((rc = bar_check(dev, index, desc)) < 0 || (rc = areas_check(desc)) < 0)
        return rc;
    r = &dev->regions[index];
    vdev_region_init(r);
    r->size = desc->size;
    r->kind = index == VDEV_ROM_INDEX ? VDEV_BAR_MEM32 : desc->kind;
    r->prefetchable = desc->prefetchable;
    r->access = desc->access;
    r->opaque = desc->opaque;
    r->flags = VFIO_REGION_INFO_FLAG_READ;
    if (index != VDEV_ROM_INDEX)
        r->flags |= VFIO_REGION_INFO_FLAG_WRITE;

    if (desc->backed && (rc = bar_back(dev, r, index)) < 0)
        return rc;
    mappable =
        desc->backed && r->kind != VDEV_BAR_IO && r->size >= PAGE_SIZE_4K;
    if (mappable && desc->nr_mmap_areas) {
        r->areas = talloc_memdup(dev, desc->mmap_areas,
                                 desc->nr_mmap_areas * sizeof(*r->areas));
        if (!r->areas) {
            region_release(r);
            return -ENOMEM;
        }
        r->nr_areas = desc->nr_mmap_areas;
        r->flags |= VFIO_REGION_INFO_FLAG_CAPS;
    }
    if (mappable)
        r->flags |= VFIO_REGION_INFO_FLAG_MMAP;
    r->present = true;
    vdev_config_bar_init(dev, index);
    return 0;
}

void *
vdev_bar_memory(struct vdev_dev *dev, unsigned index)
{
    if (index > VDEV_ROM_INDEX || !dev->regions[index].present)
        return NULL;
    return dev->regions[index].mem;
}

int
vdev_region_add_typed(struct vdev_dev *dev, uint32_t type, uint32_t subtype,
                      uint64_t size, vdev_region_access_fn *access,
                      void *opaque)
{
    unsigned index = dev->nr_regions;
    struct vdev_region *r;

    if (!size || !access || !type)
        return -EINVAL;
    if (index >= VDEV_MAX_REGIONS)
        return -ENOSPC;
    r = &dev->regions[index];
    vdev_region_init(r);
    r->present = true;
    r->size = size;
    r->access = access;
    r->opaque = opaque;
    r->cap_type = type;
    r->cap_subtype = subtype;
    r->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
               VFIO_REGION_INFO_FLAG_CAPS;
    dev->nr_regions = index + 1;
    return (int)index;
}

/* ------------------------------------------------------------ log, stats */

void
vdev_set_log(struct vdev_dev *dev, vdev_log_fn *fn, void *opaque,
             enum vdev_log_level max_level)
{
    dev->log.fn = fn;
    dev->log.opaque = opaque;
    dev->log.max = max_level;
}

void
vdev_log(struct vdev_dev *dev, enum vdev_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdev_log_vwrite(&dev->log, level, fmt, ap);
    va_end(ap);
}

void
vdev_get_stats(const struct vdev_dev *dev, struct vdev_stats *out)
{
    *out = dev->stats;
}
