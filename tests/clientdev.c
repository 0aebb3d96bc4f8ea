/* tests/testdev.c's device with what the client tests need on top: a DMA
 * engine and IRQ trigger (BAR4, which also holds the MSI-X table), an I/O
 * BAR and the capabilities vdevctl decodes. Served by testsrv's thread. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>

#include "clientdev.h"

struct engine {
    struct vdev_dev *dev;
    uint64_t dma_addr;
    uint32_t dma_len;
    int32_t status;
    uint8_t buf[CLIENTDEV_BUF_SIZE];
    uint8_t io[CLIENTDEV_IO_SIZE];
};

struct clientdev {
    struct testsrv srv;
    struct engine eng; /* touched only by the serving thread */
};

static int
dma_cmd(struct engine *e, uint32_t cmd)
{
    if (e->dma_len > sizeof(e->buf))
        return -EINVAL;
    if (cmd == 1)
        return vdev_dma_read(e->dev, e->dma_addr, e->buf, e->dma_len);
    if (cmd == 2)
        return vdev_dma_write(e->dev, e->dma_addr, e->buf, e->dma_len);
    return -EINVAL;
}

static int
reg_write(struct engine *e, uint64_t off, uint64_t v, uint32_t count)
{
    switch (off) {
    case CLIENTDEV_REG_DMA_ADDR:
        e->dma_addr = count == 8 ? v : (e->dma_addr & ~0xffffffffull) | v;
        return 0;
    case CLIENTDEV_REG_DMA_ADDR + 4:
        e->dma_addr = (e->dma_addr & 0xffffffffull) | v << 32;
        return 0;
    case CLIENTDEV_REG_DMA_LEN:
        e->dma_len = (uint32_t)v;
        return 0;
    case CLIENTDEV_REG_DMA_CMD:
        e->status = dma_cmd(e, (uint32_t)v);
        return 0;
    case CLIENTDEV_REG_IRQ:
        e->status = vdev_irq_send(e->dev, (unsigned)v);
        return 0;
    default:
        return -EINVAL;
    }
}

static uint64_t
reg_read(const struct engine *e, uint64_t off)
{
    switch (off) {
    case CLIENTDEV_REG_DMA_ADDR:
        return e->dma_addr;
    case CLIENTDEV_REG_DMA_ADDR + 4:
        return e->dma_addr >> 32;
    case CLIENTDEV_REG_DMA_LEN:
        return e->dma_len;
    case CLIENTDEV_REG_STATUS:
        return (uint32_t)e->status;
    default:
        return 0;
    }
}

static int
engine_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
              uint32_t count, bool is_write)
{
    struct engine *e = opaque;
    uint64_t v = 0;

    if (offset >= CLIENTDEV_BUF &&
        offset + count <= CLIENTDEV_BUF + CLIENTDEV_BUF_SIZE) {
        uint8_t *p = e->buf + (offset - CLIENTDEV_BUF);
        if (is_write)
            memcpy(p, buf, count);
        else
            memcpy(buf, p, count);
        return 0;
    }
    if (!((count == 4 && offset % 4 == 0) ||
          (count == 8 && offset == CLIENTDEV_REG_DMA_ADDR)))
        return -EINVAL;
    if (is_write) {
        memcpy(&v, buf, count);
        return reg_write(e, offset, v, count);
    }
    v = reg_read(e, offset);
    memcpy(buf, &v, count);
    return 0;
}

static int
io_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
          uint32_t count, bool is_write)
{
    struct engine *e = opaque;

    if (is_write)
        memcpy(e->io + offset, buf, count);
    else
        memcpy(buf, e->io + offset, count);
    return 0;
}

/* testdev adds PM, MSI, PCIe and DSN only when built with its caps. */
static bool
has_caps(struct vdev_dev *dev)
{
    uint16_t status = 0;

    vdev_config_read(dev, PCI_STATUS, &status, sizeof(status));
    return status & PCI_STATUS_CAP_LIST;
}

static int
extend(struct vdev_dev *dev, struct engine *e)
{
    static const uint8_t vbody[5] = {0xde, 0xad, 0xbe, 0xef, 0x01};
    static const uint8_t vsec[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const struct vdev_bar_desc eng = {.kind = VDEV_BAR_MEM32,
                                      .size = CLIENTDEV_ENG_SIZE,
                                      .access = engine_access,
                                      .opaque = e};
    const struct vdev_bar_desc io = {.kind = VDEV_BAR_IO,
                                     .size = CLIENTDEV_IO_SIZE,
                                     .access = io_access,
                                     .opaque = e};
    int rc;

    e->dev = dev;
    if ((rc = vdev_bar_add(dev, CLIENTDEV_ENG_BAR, &eng)) < 0 ||
        (rc = vdev_bar_add(dev, CLIENTDEV_IO_BAR, &io)) < 0)
        return rc;
    if (!has_caps(dev) &&
        ((rc = vdev_cap_pm(dev, 0)) < 0 ||
         (rc = vdev_cap_msi(dev, 0, CLIENTDEV_MSI_VECTORS, true, true)) < 0 ||
         (rc = vdev_cap_pcie(dev, 0, VDEV_PCIE_ENDPOINT, 1, 1)) < 0 ||
         (rc = vdev_ext_cap_dsn(dev, 0, CLIENTDEV_DSN)) < 0))
        return rc;
    if ((rc = vdev_cap_msix(dev, 0, CLIENTDEV_MSIX_VECTORS, CLIENTDEV_ENG_BAR,
                            CLIENTDEV_MSIX_TABLE, CLIENTDEV_ENG_BAR,
                            CLIENTDEV_MSIX_PBA)) < 0 ||
        (rc = vdev_cap_vendor(dev, 0, vbody, sizeof(vbody), NULL)) < 0 ||
        (rc = vdev_ext_cap_vendor(dev, 0, CLIENTDEV_VSEC_ID, CLIENTDEV_VSEC_REV,
                                  vsec, sizeof(vsec), NULL)) < 0)
        return rc;
    return 0;
}

struct clientdev *
clientdev_start(void)
{
    struct clientdev *d = calloc(1, sizeof(*d));
    int rc;

    cr_assert_not_null(d);
    rc = testsrv_init(&d->srv);
    cr_assert_eq(rc, 0, "testsrv_init: %s", strerror(-rc));
    rc = extend(d->srv.dev, &d->eng);
    cr_assert_eq(rc, 0, "extending the test device: %s", strerror(-rc));
    rc = testsrv_start(&d->srv);
    cr_assert_eq(rc, 0, "testsrv_start: %s", strerror(-rc));
    return d;
}

const char *
clientdev_path(const struct clientdev *d)
{
    return d->srv.path;
}

void
clientdev_stop(struct clientdev *d)
{
    if (!d)
        return;
    if (testsrv_stop(&d->srv) < 0)
        return; /* still serving: leaking beats freeing under it */
    testsrv_free(&d->srv);
    free(d);
}
