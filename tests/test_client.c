/* The client library against a real vdev server (tests/clientdev.c: the
 * test device of tests/testdev.c, extended) over a UNIX socket: negotiation,
 * info, region and config I/O, DMA through a memfd and through DMA_READ/WRITE
 * messages, SET_IRQS with eventfds, reset, server errors as -errno. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clientdev.h"
#include "vdev_client.h"

static struct clientdev *dev;
static struct vdev_client *cl;

static void
setup_with(const struct vdev_client_caps *want)
{
    dev = clientdev_start();
    int rc = vdev_client_connect(NULL, clientdev_path(dev), &cl);
    cr_assert_eq(rc, 0, "connect: %s", strerror(-rc));
    rc = vdev_client_negotiate(cl, want);
    cr_assert_eq(rc, 0, "negotiate: %s", strerror(-rc));
}

static void
setup(void)
{
    setup_with(NULL);
}

static void
teardown(void)
{
    vdev_client_close(cl);
    cl = NULL;
    clientdev_stop(dev);
    dev = NULL;
}

static uint32_t
rd32(uint32_t region, uint64_t off)
{
    uint32_t v = 0;
    int rc = vdev_client_region_read(cl, region, off, &v, 4);
    cr_assert_eq(rc, 0, "read %u+%#lx: %s", region, (unsigned long)off,
                 strerror(-rc));
    return v;
}

static void
wr32(uint32_t region, uint64_t off, uint32_t v)
{
    int rc = vdev_client_region_write(cl, region, off, &v, 4);
    cr_assert_eq(rc, 0, "write %u+%#lx: %s", region, (unsigned long)off,
                 strerror(-rc));
}

static void
wr64(uint32_t region, uint64_t off, uint64_t v)
{
    int rc = vdev_client_region_write(cl, region, off, &v, 8);
    cr_assert_eq(rc, 0, "write64: %s", strerror(-rc));
}

/* The engine's DMA buffer, through its BAR window. */
static void
buf_read(void *buf, uint32_t n)
{
    int rc =
        vdev_client_region_read(cl, CLIENTDEV_ENG_BAR, CLIENTDEV_BUF, buf, n);
    cr_assert_eq(rc, 0, "buffer read: %s", strerror(-rc));
}

static void
buf_write(const void *buf, uint32_t n)
{
    int rc =
        vdev_client_region_write(cl, CLIENTDEV_ENG_BAR, CLIENTDEV_BUF, buf, n);
    cr_assert_eq(rc, 0, "buffer write: %s", strerror(-rc));
}

/* Config-space offset of a capability, 0 if absent. */
static unsigned
find_cap(const uint8_t *cfg, uint8_t id)
{
    unsigned at = cfg[PCI_CAPABILITY_LIST] & 0xfc;
    for (int n = 0; at && n < 48; n++) {
        if (cfg[at] == id)
            return at;
        at = cfg[at + 1] & 0xfc;
    }
    return 0;
}

static bool
fd_fired(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return false;
    uint64_t v;
    return read(fd, &v, sizeof(v)) == sizeof(v) && v > 0;
}

Test(client, negotiate_and_device_info, .init = setup, .fini = teardown)
{
    const struct vdev_client_caps *c = vdev_client_server_caps(cl);
    cr_assert_geq(c->max_msg_fds, 1);
    cr_assert_geq(c->max_data_xfer_size, 4096);
    cr_assert_neq(c->pgsizes & 4096, 0);
    cr_assert(!c->twin_socket);

    struct vfio_device_info di;
    cr_assert_eq(vdev_client_device_info(cl, &di), 0);
    cr_assert_neq(di.flags & VFIO_DEVICE_FLAGS_PCI, 0);
    cr_assert_neq(di.flags & VFIO_DEVICE_FLAGS_RESET, 0);
    cr_assert_geq(di.num_regions, VFIO_PCI_NUM_REGIONS);
    cr_assert_eq(di.num_irqs, VFIO_PCI_NUM_IRQS);

    struct vfio_irq_info ii;
    cr_assert_eq(vdev_client_irq_info(cl, VFIO_PCI_INTX_IRQ_INDEX, &ii), 0);
    cr_assert_eq(ii.count, 1);
    cr_assert_eq(vdev_client_irq_info(cl, VFIO_PCI_MSI_IRQ_INDEX, &ii), 0);
    cr_assert_eq(ii.count, CLIENTDEV_MSI_VECTORS);
    cr_assert_eq(vdev_client_irq_info(cl, VFIO_PCI_MSIX_IRQ_INDEX, &ii), 0);
    cr_assert_eq(ii.count, CLIENTDEV_MSIX_VECTORS);
    cr_assert_neq(ii.flags & VFIO_IRQ_INFO_EVENTFD, 0);
    cr_assert_lt(vdev_client_irq_info(cl, 9, &ii), 0);
}

Test(client, region_info_and_mmap, .init = setup, .fini = teardown)
{
    struct vfio_region_info ri;
    uint8_t caps[256];
    size_t caps_len;
    int fd;

    cr_assert_eq(
        vdev_client_region_info(cl, 0, &ri, caps, sizeof(caps), &caps_len, &fd),
        0);
    cr_assert_eq(ri.size, TESTDEV_BAR0_SIZE);
    cr_assert_eq(ri.flags & VFIO_REGION_INFO_FLAG_MMAP, 0);
    cr_assert_eq(fd, -1);

    cr_assert_eq(
        vdev_client_region_info(cl, 2, &ri, caps, sizeof(caps), &caps_len, &fd),
        0);
    cr_assert_eq(ri.size, TESTDEV_BAR2_SIZE);
    cr_assert_neq(ri.flags & VFIO_REGION_INFO_FLAG_MMAP, 0);
    cr_assert_neq(ri.flags & VFIO_REGION_INFO_FLAG_CAPS, 0);
    cr_assert_geq(fd, 0);
    cr_assert_geq(ri.cap_offset, sizeof(ri));
    size_t at = ri.cap_offset - sizeof(ri);
    cr_assert_leq(at + 16 + 16, caps_len);
    struct vfio_info_cap_header h;
    memcpy(&h, caps + at, sizeof(h));
    cr_assert_eq(h.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
    uint32_t nr;
    memcpy(&nr, caps + at + 8, 4);
    cr_assert_eq(nr, 1);
    struct vfio_region_sparse_mmap_area a;
    memcpy(&a, caps + at + 16, sizeof(a));
    cr_assert_eq(a.offset, 0);
    cr_assert_eq(a.size, TESTDEV_BAR2_MMAP_SIZE);

    /* what REGION_WRITE puts in the BAR is what the mapping shows */
    uint8_t pat[64];
    for (unsigned i = 0; i < sizeof(pat); i++)
        pat[i] = (uint8_t)(i ^ 0x5a);
    cr_assert_eq(
        vdev_client_region_write(cl, 2, a.offset + 0x10, pat, sizeof(pat)), 0);
    uint8_t *m = mmap(NULL, a.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                      (off_t)(ri.offset + a.offset));
    cr_assert_neq(m, MAP_FAILED);
    cr_assert_eq(memcmp(m + 0x10, pat, sizeof(pat)), 0);
    m[0x200] = 0x77;
    uint8_t b = 0;
    cr_assert_eq(vdev_client_region_read(cl, 2, a.offset + 0x200, &b, 1), 0);
    cr_assert_eq(b, 0x77);
    munmap(m, a.size);
    close(fd);

    /* a small caps buffer still reports the chain's full length */
    cr_assert_eq(vdev_client_region_info(cl, 2, &ri, caps, 4, &caps_len, NULL),
                 0);
    cr_assert_geq(caps_len, 32);
    /* an absent BAR is there with size 0 and no flags, as in vfio-pci */
    cr_assert_eq(vdev_client_region_info(cl, 1, &ri, NULL, 0, NULL, NULL), 0);
    cr_assert_eq(ri.size, 0);
    cr_assert_eq(ri.flags, 0);

    /* device-specific region: a TYPE capability */
    cr_assert_eq(vdev_client_region_info(cl, TESTDEV_TYPED_INDEX, &ri, caps,
                                         sizeof(caps), &caps_len, &fd),
                 0);
    cr_assert_eq(ri.size, TESTDEV_TYPED_SIZE);
    cr_assert_eq(fd, -1);
    cr_assert_neq(ri.flags & VFIO_REGION_INFO_FLAG_CAPS, 0);
    memcpy(&h, caps + (ri.cap_offset - sizeof(ri)), sizeof(h));
    cr_assert_eq(h.id, VFIO_REGION_INFO_CAP_TYPE);
    uint32_t ts[2];
    memcpy(ts, caps + (ri.cap_offset - sizeof(ri)) + sizeof(h), sizeof(ts));
    cr_assert_eq(ts[0], TESTDEV_TYPED_TYPE);
    cr_assert_eq(ts[1], TESTDEV_TYPED_SUBTYPE);
}

Test(client, registers_and_errors, .init = setup, .fini = teardown)
{
    cr_assert_eq(rd32(0, TESTDEV_REG_ID), TESTDEV_ID_VALUE);
    wr32(0, TESTDEV_REG_SCRATCH, 0xcafef00d);
    cr_assert_eq(rd32(0, TESTDEV_REG_SCRATCH), 0xcafef00d);
    uint32_t v;
    /* the engine refuses a 2-byte register access: its errno comes back */
    cr_assert_eq(vdev_client_region_read(cl, CLIENTDEV_ENG_BAR,
                                         CLIENTDEV_REG_STATUS, &v, 2),
                 -EINVAL);
    /* server-side validation */
    cr_assert_lt(vdev_client_region_read(cl, 0, TESTDEV_BAR0_SIZE - 2, &v, 4),
                 0);
    cr_assert_lt(vdev_client_region_read(cl, 42, 0, &v, 4), 0);
    cr_assert_lt(vdev_client_region_read(cl, 1, 0, &v, 4), 0);
    /* and the connection still serves */
    cr_assert_eq(rd32(0, TESTDEV_REG_SCRATCH), 0xcafef00d);
    /* I/O BAR */
    uint16_t w = 0xbeef, r = 0;
    cr_assert_eq(vdev_client_region_write(cl, CLIENTDEV_IO_BAR, 6, &w, 2), 0);
    cr_assert_eq(vdev_client_region_read(cl, CLIENTDEV_IO_BAR, 6, &r, 2), 0);
    cr_assert_eq(r, 0xbeef);
}

Test(client, config_dump, .init = setup, .fini = teardown)
{
    uint8_t cfg[4096];
    cr_assert_eq(vdev_client_config_dump(cl, cfg, sizeof(cfg)), 0);
    cr_assert_eq(cfg[0] | cfg[1] << 8, TESTDEV_VENDOR);
    cr_assert_eq(cfg[2] | cfg[3] << 8, TESTDEV_DEVICE);
    cr_assert_eq(cfg[PCI_REVISION_ID], 1);
    cr_assert_eq(cfg[PCI_SUBSYSTEM_VENDOR_ID] | cfg[PCI_SUBSYSTEM_VENDOR_ID + 1]
                                                    << 8,
                 TESTDEV_VENDOR);
    cr_assert_eq(cfg[PCI_INTERRUPT_PIN], 1);
    cr_assert_neq(find_cap(cfg, PCI_CAP_ID_MSIX), 0);
    cr_assert_neq(find_cap(cfg, PCI_CAP_ID_EXP), 0);
    cr_assert_eq(vdev_client_config_dump(cl, cfg, 100), -EINVAL);

    /* BAR sizing through config writes */
    uint32_t ones = 0xffffffff, bar;
    cr_assert_eq(vdev_client_config_write(cl, PCI_BASE_ADDRESS_0, &ones, 4), 0);
    cr_assert_eq(vdev_client_config_read(cl, PCI_BASE_ADDRESS_0, &bar, 4), 0);
    cr_assert_eq(bar & PCI_BASE_ADDRESS_MEM_MASK,
                 (uint32_t) ~(TESTDEV_BAR0_SIZE - 1));
    /* any width and alignment */
    uint8_t b;
    cr_assert_eq(vdev_client_config_read(cl, 1, &b, 1), 0);
    cr_assert_eq(b, TESTDEV_VENDOR >> 8);
}

Test(client, chunked_transfers, .fini = teardown)
{
    struct vdev_client_caps want = {.max_msg_fds = 8,
                                    .max_data_xfer_size = 4096,
                                    .max_dma_maps = 16,
                                    .pgsizes = 4096};
    setup_with(&want);
    size_t n = 16384;
    uint8_t *out = malloc(n), *in = malloc(n);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(i * 31 + 7);
    /* 16 KiB through a 4 KiB limit: four messages each way */
    cr_assert_eq(vdev_client_region_write(cl, 2, 0, out, (uint32_t)n), 0);
    cr_assert_eq(vdev_client_region_read(cl, 2, 0, in, (uint32_t)n), 0);
    cr_assert_eq(memcmp(in, out, n), 0);
    free(out);
    free(in);
}

Test(client, dma_map_memfd, .init = setup, .fini = teardown)
{
    const size_t size = 64 * 1024;
    const uint64_t iova = 0x100000;
    int mfd = memfd_create("guest", MFD_CLOEXEC);
    cr_assert_geq(mfd, 0);
    cr_assert_eq(ftruncate(mfd, (off_t)size), 0);
    uint8_t *g = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    cr_assert_neq(g, MAP_FAILED);
    for (size_t i = 0; i < 256; i++)
        g[0x2000 + i] = (uint8_t)(255 - i);

    cr_assert_eq(vdev_client_dma_map(cl, iova, size, mfd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
    close(mfd);
    /* overlapping map refused */
    int fd2 = memfd_create("g2", MFD_CLOEXEC);
    cr_assert_eq(ftruncate(fd2, 4096), 0);
    cr_assert_lt(vdev_client_dma_map(cl, iova + 4096, 4096, fd2, 0, 3), 0);
    close(fd2);

    /* device reads guest memory into its buffer */
    wr64(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_ADDR, iova + 0x2000);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_LEN, 256);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_CMD, 1);
    cr_assert_eq((int32_t)rd32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_STATUS), 0);
    uint8_t buf[256];
    buf_read(buf, 256);
    cr_assert_eq(memcmp(buf, g + 0x2000, 256), 0);

    /* and writes its buffer back elsewhere */
    memset(buf, 0xab, sizeof(buf));
    buf_write(buf, 128);
    wr64(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_ADDR, iova + 0x8000);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_LEN, 128);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_CMD, 2);
    cr_assert_eq((int32_t)rd32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_STATUS), 0);
    cr_assert_eq(g[0x8000], 0xab);
    cr_assert_eq(g[0x8000 + 127], 0xab);
    cr_assert_neq(g[0x8000 + 128], 0xab);

    cr_assert_eq(vdev_client_dma_unmap(cl, iova, size, 0), 0);
    /* after unmap the device's DMA fails, and a second unmap is refused */
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_CMD, 1);
    cr_assert_lt((int32_t)rd32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_STATUS), 0);
    cr_assert_lt(vdev_client_dma_unmap(cl, iova, size, 0), 0);
    munmap(g, size);
}

/* Message-based DMA: no fd, the server asks the client for the bytes. */
static void
message_dma(void)
{
    static uint8_t guest[8192];
    const uint64_t iova = 0x40000;

    for (size_t i = 0; i < sizeof(guest); i++)
        guest[i] = (uint8_t)(i * 13);
    cr_assert_eq(vdev_client_add_dma_memory(cl, iova, guest, sizeof(guest)), 0);
    cr_assert_eq(vdev_client_dma_map(cl, iova, sizeof(guest), -1, 0, 3), 0);

    wr64(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_ADDR, iova + 100);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_LEN, 200);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_CMD, 1);
    cr_assert_eq((int32_t)rd32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_STATUS), 0);
    uint8_t buf[256];
    buf_read(buf, 200);
    cr_assert_eq(memcmp(buf, guest + 100, 200), 0);

    memset(buf, 0x3c, sizeof(buf));
    buf_write(buf, 64);
    wr64(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_ADDR, iova + 4000);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_LEN, 64);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_DMA_CMD, 2);
    cr_assert_eq((int32_t)rd32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_STATUS), 0);
    cr_assert_eq(guest[4000], 0x3c);
    cr_assert_eq(guest[4063], 0x3c);
    cr_assert_eq(guest[4064], (uint8_t)(4064 * 13));
}

Test(client, dma_messages_main_socket, .init = setup, .fini = teardown)
{
    message_dma();
}

Test(client, dma_messages_twin_socket, .fini = teardown)
{
    struct vdev_client_caps want = {.max_msg_fds = 8,
                                    .max_data_xfer_size = 1 << 20,
                                    .max_dma_maps = 64,
                                    .pgsizes = 4096,
                                    .twin_socket = true};
    setup_with(&want);
    /* twin mode is the server's choice (spec: optional) */
    if (!vdev_client_server_caps(cl)->twin_socket)
        cr_skip_test("server declined twin-socket mode");
    message_dma();
}

Test(client, set_irqs_eventfds, .init = setup, .fini = teardown)
{
    int intx = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    cr_assert_eq(vdev_client_set_irqs(cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &intx, NULL),
                 0);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_IRQ, 0);
    cr_assert(fd_fired(intx, 2000), "INTx eventfd not signalled");

    /* MSI-X: enable it in config space, wire 8 eventfds, fire vector 3 */
    int efd[CLIENTDEV_MSIX_VECTORS];
    for (unsigned i = 0; i < CLIENTDEV_MSIX_VECTORS; i++)
        efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    cr_assert_eq(vdev_client_set_irqs(cl, VFIO_PCI_MSIX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, CLIENTDEV_MSIX_VECTORS, efd, NULL),
                 0);
    uint8_t cfg[256];
    cr_assert_eq(vdev_client_config_dump(cl, cfg, sizeof(cfg)), 0);
    unsigned msix = find_cap(cfg, PCI_CAP_ID_MSIX);
    cr_assert_neq(msix, 0);
    uint16_t ctl;
    cr_assert_eq(vdev_client_config_read(cl, msix + PCI_MSIX_FLAGS, &ctl, 2),
                 0);
    ctl |= PCI_MSIX_FLAGS_ENABLE;
    cr_assert_eq(vdev_client_config_write(cl, msix + PCI_MSIX_FLAGS, &ctl, 2),
                 0);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_IRQ, 3);
    cr_assert_eq((int32_t)rd32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_STATUS), 0);
    cr_assert(fd_fired(efd[3], 2000), "MSI-X vector 3 not signalled");
    /* masked in the table, a raise only sets the PBA bit... */
    const uint64_t vctl = CLIENTDEV_MSIX_TABLE + 3 * 16 + 12;
    wr32(CLIENTDEV_ENG_BAR, vctl, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    wr32(CLIENTDEV_ENG_BAR, CLIENTDEV_REG_IRQ, 3);
    cr_assert(!fd_fired(efd[3], 0), "masked vector 3 delivered");
    cr_assert_eq(rd32(CLIENTDEV_ENG_BAR, CLIENTDEV_MSIX_PBA) & (1u << 3),
                 1u << 3);
    /* ...and unmasking delivers the pending message */
    wr32(CLIENTDEV_ENG_BAR, vctl, 0);
    cr_assert(fd_fired(efd[3], 2000), "pending vector 3 not delivered");
    cr_assert_eq(rd32(CLIENTDEV_ENG_BAR, CLIENTDEV_MSIX_PBA) & (1u << 3), 0);
    for (unsigned i = 0; i < CLIENTDEV_MSIX_VECTORS; i++)
        if (i != 3)
            cr_assert(!fd_fired(efd[i], 0), "vector %u fired", i);

    /* disarm the index, then past-the-end vectors are refused */
    cr_assert_eq(vdev_client_set_irqs(cl, VFIO_PCI_MSIX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_NONE |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 0, NULL, NULL),
                 0);
    cr_assert_lt(vdev_client_set_irqs(cl, VFIO_PCI_MSIX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      CLIENTDEV_MSIX_VECTORS, 1, efd, NULL),
                 0);
    for (unsigned i = 0; i < CLIENTDEV_MSIX_VECTORS; i++)
        close(efd[i]);
    close(intx);
}

Test(client, reset, .init = setup, .fini = teardown)
{
    wr32(0, TESTDEV_REG_SCRATCH, 0x1234);
    uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    cr_assert_eq(vdev_client_config_write(cl, PCI_COMMAND, &cmd, 2), 0);
    cr_assert_eq(vdev_client_reset(cl), 0);
    /* the device's reset callback and the runtime's config reset ran */
    cr_assert_eq(rd32(0, TESTDEV_REG_SCRATCH), 0);
    cr_assert_eq(vdev_client_config_read(cl, PCI_COMMAND, &cmd, 2), 0);
    cr_assert_eq(cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), 0);
}

Test(client, raw_malformed_then_valid, .init = setup, .fini = teardown)
{
    struct vfio_user_header h = {.msg_id = 0x4242,
                                 .cmd = 99,
                                 .msg_size = sizeof(h) + 4,
                                 .flags = VFIO_USER_F_TYPE_COMMAND};
    uint8_t msg[sizeof(h) + 4] = {0};
    memcpy(msg, &h, sizeof(h));
    cr_assert_eq(vdev_client_send_raw(cl, msg, sizeof(msg), NULL, 0), 0);
    uint8_t rep[64];
    ssize_t n = vdev_client_recv_raw(cl, rep, sizeof(rep), NULL, NULL);
    cr_assert_eq(n, (ssize_t)sizeof(h));
    struct vfio_user_header rh;
    memcpy(&rh, rep, sizeof(rh));
    cr_assert_eq(rh.msg_id, 0x4242);
    cr_assert_neq(rh.flags & VFIO_USER_F_ERROR, 0);
    cr_assert_neq(rh.error_no, 0);
    cr_assert_eq(rd32(0, TESTDEV_REG_ID), TESTDEV_ID_VALUE);
}

Test(client, connect_errors)
{
    struct vdev_client *c = NULL;
    cr_assert_eq(vdev_client_connect(NULL, "/nonexistent/dir/sock", &c),
                 -ENOENT);
    char longp[200];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = 0;
    cr_assert_eq(vdev_client_connect(NULL, longp, &c), -ENAMETOOLONG);
    cr_assert_eq(vdev_client_from_fd(NULL, -1, &c), -EBADF);
}

static int
count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* Every fd the client owns (socket, twin socket, fds in replies it does
 * not hand out) goes when the client does. */
Test(client, connect_close_loop_keeps_fds, .init = setup, .fini = teardown)
{
    struct vdev_client_caps want;
    memset(&want, 0, sizeof(want));
    want.max_msg_fds = 4;
    want.max_data_xfer_size = 65536;
    want.max_dma_maps = 16;
    want.pgsizes = 4096;
    want.twin_socket = true;
    /* the fixture's client holds the server: let it go first */
    vdev_client_close(cl);
    cl = NULL;
    int before = count_fds();
    for (int i = 0; i < 200; i++) {
        struct vdev_client *c;
        cr_assert_eq(vdev_client_connect(NULL, clientdev_path(dev), &c), 0);
        cr_assert_eq(vdev_client_negotiate(c, &want), 0);
        struct vfio_region_info ri;
        /* the region fd is not asked for: the client closes it */
        cr_assert_eq(vdev_client_region_info(c, 2, &ri, NULL, 0, NULL, NULL),
                     0);
        vdev_client_close(c);
    }
    /* the server drops each connection on its own thread; allow it a
     * moment and a little slack for the one in flight */
    int after = count_fds();
    for (int i = 0; i < 100 && after > before; i++) {
        usleep(10000);
        after = count_fds();
    }
    cr_assert_leq(after, before + 2, "fds grew from %d to %d", before, after);
}
