/* The ivshmem doorbell model (models/ivshmem.vdev) end to end: identity
 * and capabilities, the shared memory through mmap of the region fd, and
 * doorbells (the guest's and a peer's over the management channel) as
 * MSI-X vector eventfds. */
#include <criterion/criterion.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define BAR1 VFIO_PCI_BAR1_REGION_INDEX
#define BAR2 VFIO_PCI_BAR2_REGION_INDEX
#define INTRMASK 0x0
#define IVPOSITION 0x8
#define DOORBELL 0xc
#define NR_VECTORS 4
#define PBA 0x800

static struct model_server srv;
static int efd[NR_VECTORS];

static void
setup(void)
{
    model_server_start(&srv, "ivshmem");
    for (unsigned i = 0; i < NR_VECTORS; i++)
        efd[i] = -1;
}

static void
teardown(void)
{
    model_server_stop(&srv);
    for (unsigned i = 0; i < NR_VECTORS; i++)
        if (efd[i] >= 0)
            close(efd[i]);
}

TestSuite(model_ivshmem, .init = setup, .fini = teardown, .timeout = 30);

Test(model_ivshmem, identity_and_capabilities)
{
    uint8_t cfg[256];

    cr_assert_eq(vdev_client_config_dump(srv.cl, cfg, sizeof(cfg)), 0);
    cr_assert_eq(cfg[0] | cfg[1] << 8, 0x1af4);
    cr_assert_eq(cfg[2] | cfg[3] << 8, 0x1110);
    cr_assert_eq(cfg[PCI_REVISION_ID], 1);
    cr_assert_eq(cfg[PCI_CLASS_DEVICE + 1], 0x05, "memory controller");
    /* BAR2: 64-bit prefetchable memory */
    uint32_t bar2 = (uint32_t)cfg[PCI_BASE_ADDRESS_2] |
                    (uint32_t)cfg[PCI_BASE_ADDRESS_2 + 1] << 8;
    cr_assert_eq(bar2 & PCI_BASE_ADDRESS_MEM_TYPE_MASK,
                 PCI_BASE_ADDRESS_MEM_TYPE_64);
    cr_assert(bar2 & PCI_BASE_ADDRESS_MEM_PREFETCH);
    cr_assert_neq(model_find_cap(&srv, PCI_CAP_ID_EXP), 0, "PCIe cap");
    unsigned msix = model_find_cap(&srv, PCI_CAP_ID_MSIX);
    cr_assert_neq(msix, 0);
    uint16_t flags = (uint16_t)(cfg[msix + 2] | cfg[msix + 3] << 8);
    cr_assert_eq((flags & PCI_MSIX_FLAGS_QSIZE) + 1, NR_VECTORS);
    uint32_t table = (uint32_t)cfg[msix + 4] | (uint32_t)cfg[msix + 5] << 8;
    cr_assert_eq(table & PCI_MSIX_TABLE_BIR, 1, "table in BAR1");
    /* registers reset to 0; IVPosition follows the management value */
    cr_assert_eq(model_rd(&srv, BAR0, IVPOSITION, 4), 0);
    model_set(&srv, "state.position", 7);
    cr_assert_eq(model_rd(&srv, BAR0, IVPOSITION, 4), 7);
    model_wr(&srv, BAR0, IVPOSITION, 4, 9);
    cr_assert_eq(model_rd(&srv, BAR0, IVPOSITION, 4), 7, "read-only");
    model_wr(&srv, BAR0, INTRMASK, 4, 0xffffffff);
    cr_assert_eq(model_rd(&srv, BAR0, INTRMASK, 4), 0xffffffff);
}

Test(model_ivshmem, shared_memory_mmap)
{
    struct vfio_region_info ri;
    uint8_t caps[256];
    size_t caps_len = 0;
    int fd = -1;

    cr_assert_eq(vdev_client_region_info(srv.cl, BAR2, &ri, caps, sizeof(caps),
                                         &caps_len, &fd),
                 0);
    cr_assert_eq(ri.size, 1u << 20);
    cr_assert(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
    cr_assert_geq(fd, 0, "no fd for the shared memory");
    uint8_t *m = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                      (off_t)ri.offset);
    cr_assert_neq(m, MAP_FAILED);
    close(fd);

    /* what the client writes through the mapping the device sees... */
    memcpy(m + 0x1000, "hello, peer", 12);
    m[ri.size - 1] = 0x5a;
    char buf[12];
    cr_assert_eq(vdev_client_region_read(srv.cl, BAR2, 0x1000, buf, 12), 0);
    cr_assert_str_eq(buf, "hello, peer");
    cr_assert_eq(model_rd(&srv, BAR2, ri.size - 1, 1), 0x5a);
    /* ...and region writes show up in the mapping */
    model_wr(&srv, BAR2, 0x8000, 8, 0x0123456789abcdefull);
    uint64_t v;
    memcpy(&v, m + 0x8000, 8);
    cr_assert_eq(v, 0x0123456789abcdefull);
    munmap(m, ri.size);
}

/* MSI-X on, eventfds on every vector, all unmasked in the table. */
static void
enable_msix(void)
{
    unsigned msix = model_find_cap(&srv, PCI_CAP_ID_MSIX);
    uint16_t flags;

    for (unsigned i = 0; i < NR_VECTORS; i++)
        efd[i] = model_eventfd();
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_MSIX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, NR_VECTORS, efd, NULL),
                 0);
    cr_assert_eq(
        vdev_client_config_read(srv.cl, msix + PCI_MSIX_FLAGS, &flags, 2), 0);
    flags |= PCI_MSIX_FLAGS_ENABLE;
    cr_assert_eq(
        vdev_client_config_write(srv.cl, msix + PCI_MSIX_FLAGS, &flags, 2), 0);
    for (unsigned i = 0; i < NR_VECTORS; i++)
        model_wr(&srv, BAR1,
                 i * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
}

static void
only_fired(unsigned v)
{
    cr_assert(model_fired(efd[v], 2000), "vector %u not sent", v);
    for (unsigned i = 0; i < NR_VECTORS; i++)
        if (i != v)
            cr_assert(!model_fired(efd[i], 0), "vector %u sent too", i);
}

Test(model_ivshmem, guest_doorbell)
{
    enable_msix();
    model_set(&srv, "state.position", 3);
    /* to itself: its own vector 2 */
    model_wr(&srv, BAR0, DOORBELL, 4, 3u << 16 | 2);
    only_fired(2);
    /* to another peer: recorded for the outside world, nothing local */
    model_wr(&srv, BAR0, DOORBELL, 4, 5u << 16 | 1);
    for (unsigned i = 0; i < NR_VECTORS; i++)
        cr_assert(!model_fired(efd[i], 0));
    cr_assert_eq(model_get(&srv, "state.doorbell"), 5u << 16 | 1);
    cr_assert_eq(model_get(&srv, "state.doorbells"), 2);
    cr_assert_eq(model_rd(&srv, BAR0, DOORBELL, 4), 0, "write-only");
    /* a vector the device lacks is ignored */
    model_wr(&srv, BAR0, DOORBELL, 4, 3u << 16 | 9);
    for (unsigned i = 0; i < NR_VECTORS; i++)
        cr_assert(!model_fired(efd[i], 0));
}

Test(model_ivshmem, peer_rings_vector)
{
    enable_msix();
    model_set(&srv, "state.ring", 1);
    only_fired(1);
    model_set(&srv, "state.ring", 1);
    only_fired(1);
    /* masked in the table: pending in the PBA, sent on unmask */
    const uint64_t vctl = 3 * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;
    model_wr(&srv, BAR1, vctl, 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    model_set(&srv, "state.ring", 3);
    cr_assert(!model_fired(efd[3], 50), "masked vector sent");
    cr_assert_eq(model_rd(&srv, BAR1, PBA, 8) & (1u << 3), 1u << 3);
    model_wr(&srv, BAR1, vctl, 4, 0);
    only_fired(3);
    cr_assert_eq(model_rd(&srv, BAR1, PBA, 8) & (1u << 3), 0);
}
