/* QEMU's edu device (models/edu.vdev) end to end: identification,
 * liveness, factorial, interrupts over INTx and MSI eventfds, and DMA
 * between a memfd-backed guest buffer and the device's buffer. */
#include <criterion/criterion.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <sys/mman.h>
#include <talloc.h>
#include <unistd.h>

#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define ID 0x00
#define LIVENESS 0x04
#define FACT 0x08
#define STATUS 0x20
#define IRQ_STATUS 0x24
#define IRQ_RAISE 0x60
#define IRQ_ACK 0x64
#define DMA_SRC 0x80
#define DMA_DST 0x88
#define DMA_COUNT 0x90
#define DMA_CMD 0x98
#define DMA_BUF 0x40000

static struct model_server srv;

static void
setup(void)
{
    model_server_start(&srv, "edu");
}

static void
teardown(void)
{
    model_server_stop(&srv);
}

TestSuite(model_edu, .init = setup, .fini = teardown, .timeout = 30);

static uint32_t
rd32(uint64_t off)
{
    return (uint32_t)model_rd(&srv, BAR0, off, 4);
}

static void
wr32(uint64_t off, uint32_t v)
{
    model_wr(&srv, BAR0, off, 4, v);
}

Test(model_edu, identification)
{
    uint16_t id[2];
    struct vfio_region_info ri;

    cr_assert_eq(vdev_client_config_read(srv.cl, PCI_VENDOR_ID, id, 4), 0);
    cr_assert_eq(id[0], 0x1234);
    cr_assert_eq(id[1], 0x11e8);
    cr_assert_eq(rd32(ID), 0x010000ed);
    wr32(ID, 0);
    cr_assert_eq(rd32(ID), 0x010000ed, "identification is read-only");
    cr_assert_eq(
        vdev_client_region_info(srv.cl, BAR0, &ri, NULL, 0, NULL, NULL), 0);
    cr_assert_eq(ri.size, 1u << 20);
    cr_assert_neq(model_find_cap(&srv, PCI_CAP_ID_MSI), 0);
}

Test(model_edu, liveness_inverts)
{
    static const uint32_t v[] = {0, 0x12345678, 0xffffffff, 0x80000001};

    for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        wr32(LIVENESS, v[i]);
        cr_assert_eq(rd32(LIVENESS), ~v[i], "liveness(0x%x)", v[i]);
    }
}

Test(model_edu, factorial)
{
    static const struct {
        uint32_t n, f;
    } t[] = {
        {0, 1},          {1, 1},
        {5, 120},        {10, 3628800},
        {12, 479001600}, {13, 1932053504u}, /* 6227020800 mod 2^32 */
        {34, 0},         {0xffffffffu, 0},
    };

    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        wr32(FACT, t[i].n);
        cr_assert_eq(rd32(STATUS) & 1, 0, "never seen computing");
        cr_assert_eq(rd32(FACT), t[i].f, "%u!", t[i].n);
    }
    cr_assert_eq(rd32(IRQ_STATUS), 0, "no interrupt unless asked");
}

static bool
intx_status(void)
{
    uint16_t st;
    cr_assert_eq(vdev_client_config_read(srv.cl, PCI_STATUS, &st, 2), 0);
    return st & PCI_STATUS_INTERRUPT;
}

Test(model_edu, intx_raise_ack)
{
    int efd = model_eventfd();
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &efd, NULL),
                 0);
    wr32(IRQ_RAISE, 0x10);
    cr_assert(model_fired(efd, 2000), "raise did not interrupt");
    cr_assert_eq(rd32(IRQ_STATUS), 0x10);
    cr_assert(intx_status());
    wr32(IRQ_RAISE, 0x2);
    cr_assert_eq(rd32(IRQ_STATUS), 0x12, "raise ORs");
    wr32(IRQ_ACK, 0x10);
    cr_assert_eq(rd32(IRQ_STATUS), 0x2);
    cr_assert(intx_status(), "still asserted while a value remains");
    wr32(IRQ_ACK, 0x2);
    cr_assert_eq(rd32(IRQ_STATUS), 0);
    cr_assert(!intx_status(), "acknowledged: line low");
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_NONE |
                                          VFIO_IRQ_SET_ACTION_UNMASK,
                                      0, 1, NULL, NULL),
                 0);
    cr_assert(!model_fired(efd, 50));

    /* factorial with "raise interrupt after factorial" */
    wr32(STATUS, 0x80);
    cr_assert_eq(rd32(STATUS), 0x80);
    wr32(FACT, 6);
    cr_assert(model_fired(efd, 2000), "factorial did not interrupt");
    cr_assert_eq(rd32(FACT), 720);
    cr_assert_eq(rd32(IRQ_STATUS), 0x1);
    wr32(IRQ_ACK, 0x1);
    cr_assert(!intx_status());
    close(efd);
}

Test(model_edu, msi_raise_ack)
{
    unsigned msi = model_find_cap(&srv, PCI_CAP_ID_MSI);
    cr_assert_neq(msi, 0);
    int efd = model_eventfd();
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_MSI_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &efd, NULL),
                 0);
    uint16_t flags;
    cr_assert_eq(
        vdev_client_config_read(srv.cl, msi + PCI_MSI_FLAGS, &flags, 2), 0);
    flags |= PCI_MSI_FLAGS_ENABLE;
    cr_assert_eq(
        vdev_client_config_write(srv.cl, msi + PCI_MSI_FLAGS, &flags, 2), 0);
    for (int round = 0; round < 3; round++) {
        wr32(IRQ_RAISE, 0x4);
        cr_assert(model_fired(efd, 2000), "MSI not sent (round %d)", round);
        cr_assert_eq(rd32(IRQ_STATUS), 0x4);
        wr32(IRQ_ACK, 0x4);
        cr_assert_eq(rd32(IRQ_STATUS), 0);
        cr_assert(!model_fired(efd, 0));
    }
    close(efd);
}

Test(model_edu, dma_to_buffer_and_back)
{
    const size_t size = 64 * 1024;
    const uint64_t iova = 0x100000;
    int mfd = memfd_create("guest", MFD_CLOEXEC);
    cr_assert_geq(mfd, 0);
    cr_assert_eq(ftruncate(mfd, (off_t)size), 0);
    uint8_t *g = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    cr_assert_neq(g, MAP_FAILED);
    for (unsigned i = 0; i < 100; i++)
        g[0x100 + i] = (uint8_t)(i * 7 + 3);
    cr_assert_eq(vdev_client_dma_map(srv.cl, iova, size, mfd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
    close(mfd);

    /* RAM -> buffer, as in edu.rst's example, with the DMA interrupt */
    model_wr(&srv, BAR0, DMA_SRC, 8, iova + 0x100);
    model_wr(&srv, BAR0, DMA_DST, 8, DMA_BUF + 16);
    model_wr(&srv, BAR0, DMA_COUNT, 8, 100);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1 | 4);
    cr_assert_eq(model_rd(&srv, BAR0, DMA_CMD, 8) & 1, 0, "still running");
    cr_assert_eq(rd32(IRQ_STATUS), 0x100);
    wr32(IRQ_ACK, 0x100);

    /* buffer -> RAM */
    model_wr(&srv, BAR0, DMA_SRC, 8, DMA_BUF + 16);
    model_wr(&srv, BAR0, DMA_DST, 8, iova + 0x2000);
    model_wr(&srv, BAR0, DMA_COUNT, 8, 100);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1 | 2);
    cr_assert_eq(model_rd(&srv, BAR0, DMA_CMD, 8) & 1, 0);
    cr_assert_eq(memcmp(g + 0x2000, g + 0x100, 100), 0, "round trip");
    cr_assert_eq(g[0x2000 + 100], 0, "nothing past the count");
    cr_assert_eq(rd32(IRQ_STATUS), 0, "no interrupt without bit 2");

    /* past the end of the 4 KiB buffer: dropped, device keeps going */
    model_wr(&srv, BAR0, DMA_SRC, 8, DMA_BUF + 4000);
    model_wr(&srv, BAR0, DMA_DST, 8, iova + 0x3000);
    model_wr(&srv, BAR0, DMA_COUNT, 8, 200);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1 | 2);
    for (unsigned i = 0; i < 200; i++)
        cr_assert_eq(g[0x3000 + i], 0);
    wr32(LIVENESS, 1);
    cr_assert_eq(rd32(LIVENESS), ~1u);
    munmap(g, size);
}

/* A guest buffer of size bytes mapped at iova on s's device. */
static uint8_t *
map_guest(struct model_server *s, uint64_t iova, size_t size)
{
    int mfd = memfd_create("guest", MFD_CLOEXEC);
    cr_assert_geq(mfd, 0);
    cr_assert_eq(ftruncate(mfd, (off_t)size), 0);
    uint8_t *g = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    cr_assert_neq(g, MAP_FAILED);
    cr_assert_eq(vdev_client_dma_map(s->cl, iova, size, mfd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
    close(mfd);
    return g;
}

/* The DMA buffer, registers and pending interrupts move to a second
 * server; its engine copies the migrated bytes out. */
/* QEMU's edu (hw/misc/edu.c) stores a command only when it has the start
 * bit; found by the QEMU tier comparing the two under a Linux guest. */
Test(model_edu, dma_cmd_without_start_is_ignored)
{
    model_wr(&srv, BAR0, DMA_COUNT, 8, 0);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1 | 2);
    cr_assert_eq(model_rd(&srv, BAR0, DMA_CMD, 8), 2);
    model_wr(&srv, BAR0, DMA_CMD, 8, 4);
    cr_assert_eq(model_rd(&srv, BAR0, DMA_CMD, 8), 2);
    wr32(DMA_CMD, 0);
    cr_assert_eq(model_rd(&srv, BAR0, DMA_CMD, 8), 2);
    cr_assert_eq(rd32(IRQ_STATUS), 0);
}

Test(model_edu, state_migrates)
{
    const uint64_t iova = 0x200000;
    const size_t size = 16 * 1024;
    struct model_server dst;
    uint8_t *stream = NULL;
    size_t len = 0;

    uint8_t *g = map_guest(&srv, iova, size);
    for (unsigned i = 0; i < 256; i++)
        g[i] = (uint8_t)(0xff - i);
    model_wr(&srv, BAR0, DMA_SRC, 8, iova);
    model_wr(&srv, BAR0, DMA_DST, 8, DMA_BUF + 0x800);
    model_wr(&srv, BAR0, DMA_COUNT, 8, 256);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1);
    wr32(LIVENESS, 0x0f0f0f0f);
    wr32(IRQ_RAISE, 0x20);
    cr_assert_eq(vdev_client_mig_save(srv.cl, NULL, &stream, &len), 0);

    model_server_start(&dst, "edu");
    cr_assert_eq(vdev_client_mig_load(dst.cl, stream, len), 0);
    cr_assert_eq(vdev_client_mig_set_state(dst.cl, VFIO_DEVICE_STATE_RUNNING),
                 0);
    talloc_free(stream);
    cr_assert_eq(model_rd(&dst, BAR0, LIVENESS, 4), 0xf0f0f0f0);
    cr_assert_eq(model_rd(&dst, BAR0, IRQ_STATUS, 4), 0x20);

    uint8_t *h = map_guest(&dst, iova, size);
    model_wr(&dst, BAR0, DMA_SRC, 8, DMA_BUF + 0x800);
    model_wr(&dst, BAR0, DMA_DST, 8, iova + 0x1000);
    model_wr(&dst, BAR0, DMA_COUNT, 8, 256);
    model_wr(&dst, BAR0, DMA_CMD, 8, 1 | 2);
    cr_assert_eq(memcmp(h + 0x1000, g, 256), 0, "buffer did not migrate");
    munmap(g, size);
    munmap(h, size);
    model_server_stop(&dst);
}
