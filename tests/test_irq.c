/* Interrupt delivery through eventfds installed with the SET_IRQS handler:
 * INTx status/disable/auto-mask, MSI and MSI-X masks and pending bits,
 * IRQ_INFO, and SET_IRQS's malformed variants. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "device/irq.h"
#include "server/server.h"

static const struct vdev_pci_ident ident = {
    .vendor_id = 0x1b36,
    .device_id = 0x0005,
    .class_code = 0xff0000,
    .intx_pin = 1,
};

static int
dummy_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
             uint32_t count, bool is_write)
{
    if (!is_write)
        memset(buf, 0, count);
    return 0;
}

struct fixture {
    struct vdev_dev *dev;
    struct vdev_conn *conn;
    int msi, msix;
};

/* BAR0 4 KiB holds the MSI-X table at 0 and the PBA at 0x800. */
static void
setup(struct fixture *f)
{
    struct vdev_bar_desc d = {
        .kind = VDEV_BAR_MEM32,
        .size = 4096,
        .access = dummy_access,
    };

    f->dev = vdev_dev_create(NULL, "irqtest", &ident);
    cr_assert_not_null(f->dev);
    cr_assert_eq(vdev_bar_add(f->dev, 0, &d), 0);
    f->msi = vdev_cap_msi(f->dev, 0, 4, true, true);
    cr_assert_gt(f->msi, 0);
    f->msix = vdev_cap_msix(f->dev, 0, 8, 0, 0, 0, 0x800);
    cr_assert_gt(f->msix, 0);
    f->conn = talloc_zero(f->dev, struct vdev_conn);
    f->conn->dev = f->dev;
    f->conn->fd = f->conn->twin_fd = -1;
}

static uint32_t
rd(struct vdev_dev *dev, unsigned off, unsigned len)
{
    uint8_t b[4] = {0};

    cr_assert_eq(vdev_config_access(dev, off, b, len, false), 0);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static void
wr(struct vdev_dev *dev, unsigned off, unsigned len, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};

    cr_assert_eq(vdev_config_access(dev, off, b, len, true), 0);
}

/* Events pending on an eventfd (0 if none); reading resets it. */
static uint64_t
events(int fd)
{
    uint64_t n = 0;

    if (read(fd, &n, sizeof(n)) != sizeof(n))
        return 0;
    return n;
}

static bool
fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

/* Calls the handler as server/loop.c would, then closes the fds it left. */
static int
set_irqs(struct fixture *f, uint32_t argsz, uint32_t flags, uint32_t index,
         uint32_t start, uint32_t count, const uint8_t *data, size_t dlen,
         int *fds, unsigned nr_fds)
{
    uint8_t body[256];
    struct vfio_irq_set s = {
        .argsz = argsz,
        .flags = flags,
        .index = index,
        .start = start,
        .count = count,
    };
    struct vfio_user_header hdr = {.cmd = VFIO_USER_DEVICE_SET_IRQS};
    struct vdev_reply r;
    struct vdev_msg m = {
        .hdr = &hdr,
        .body = body,
        .body_len = (uint32_t)(sizeof(s) + dlen),
        .fds = fds,
        .nr_fds = nr_fds,
    };
    int rc;

    memset(&r, 0, sizeof(r));
    memcpy(body, &s, sizeof(s));
    if (dlen)
        memcpy(body + sizeof(s), data, dlen);
    rc = vdev_handle_set_irqs(f->conn, &m, &r);
    for (unsigned i = 0; i < nr_fds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

/* Installs trigger eventfds for [start, start+n); returns the test's own
 * copies for reading in efd[]. */
static void
install(struct fixture *f, unsigned index, unsigned start, unsigned n, int *efd)
{
    int give[32];

    for (unsigned i = 0; i < n; i++) {
        efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        cr_assert_geq(efd[i], 0);
        give[i] = dup(efd[i]);
    }
    cr_assert_eq(
        set_irqs(f, sizeof(struct vfio_irq_set),
                 VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, index,
                 start, n, NULL, 0, give, n),
        0);
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(give[i], -1, "fd %u taken", i);
}

static int
simple(struct fixture *f, uint32_t flags, uint32_t index, uint32_t start,
       uint32_t count)
{
    return set_irqs(f, sizeof(struct vfio_irq_set), flags, index, start, count,
                    NULL, 0, NULL, 0);
}

Test(irq, intx_status_follows_line_and_automask)
{
    struct fixture f;
    int efd;

    setup(&f);
    install(&f, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd);
    cr_expect_eq(rd(f.dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);

    cr_assert_eq(vdev_irq_intx_set(f.dev, true), 0);
    cr_expect_neq(rd(f.dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
    cr_expect_eq(events(efd), 1);
    /* Auto-masked: a new edge is not signalled until the client unmasks. */
    vdev_irq_intx_set(f.dev, false);
    cr_expect_eq(rd(f.dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
    vdev_irq_intx_set(f.dev, true);
    cr_expect_eq(events(efd), 0);
    /* Unmask while still asserted: signalled again, and masked again. */
    cr_assert_eq(simple(&f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
                        VFIO_PCI_INTX_IRQ_INDEX, 0, 1),
                 0);
    cr_expect_eq(events(efd), 1);
    cr_assert_eq(simple(&f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
                        VFIO_PCI_INTX_IRQ_INDEX, 0, 1),
                 0);
    cr_expect_eq(events(efd), 1);
    /* Deasserted at unmask: nothing. */
    vdev_irq_intx_set(f.dev, false);
    cr_assert_eq(simple(&f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
                        VFIO_PCI_INTX_IRQ_INDEX, 0, 1),
                 0);
    cr_expect_eq(events(efd), 0);
    cr_expect_geq(f.dev->stats.irqs_sent, 3);
    close(efd);
    talloc_free(f.dev);
}

Test(irq, intx_disable_masks_and_sticks)
{
    struct fixture f;
    int efd;

    setup(&f);
    install(&f, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd);
    wr(f.dev, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    cr_expect_eq(rd(f.dev, PCI_COMMAND, 2), PCI_COMMAND_INTX_DISABLE);
    vdev_irq_intx_set(f.dev, true);
    /* Status still shows the line; delivery is masked. */
    cr_expect_neq(rd(f.dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
    cr_expect_eq(events(efd), 0);
    /* Unrelated command writes keep it disabled. */
    wr(f.dev, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE | PCI_COMMAND_MEMORY);
    cr_expect_eq(events(efd), 0);
    /* Clearing Interrupt Disable with the line up delivers it. */
    wr(f.dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    cr_expect_eq(events(efd), 1);
    close(efd);
    talloc_free(f.dev);
}

Test(irq, intx_masked_while_msi_enabled)
{
    struct fixture f;
    int efd;

    setup(&f);
    install(&f, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd);
    wr(f.dev, f.msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    vdev_irq_intx_set(f.dev, true);
    cr_expect_eq(events(efd), 0);
    wr(f.dev, f.msi + PCI_MSI_FLAGS, 2, 0);
    cr_expect_eq(events(efd), 1);
    close(efd);
    talloc_free(f.dev);
}

Test(irq, msi_delivery_masks_and_pending)
{
    struct fixture f;
    int efd[4];
    unsigned mask;

    setup(&f);
    mask = f.msi + PCI_MSI_MASK_64;
    install(&f, VFIO_PCI_MSI_IRQ_INDEX, 0, 4, efd);
    cr_expect_eq(vdev_irq_msi_send(f.dev, 0), -ENOTCONN);
    /* Enable with 2 of the 4 vectors. */
    wr(f.dev, f.msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | 1 << 4);
    cr_expect_eq(vdev_irq_msi_send(f.dev, 2), -EINVAL);
    cr_expect_eq(vdev_irq_msi_send(f.dev, 4), -EINVAL);
    cr_expect_eq(vdev_irq_msi_send(f.dev, 1), 0);
    cr_expect_eq(events(efd[1]), 1);
    cr_expect_eq(events(efd[0]), 0);

    /* Per-vector mask: pending bit set, nothing delivered. */
    wr(f.dev, mask, 4, 0x2);
    cr_expect_eq(vdev_irq_msi_send(f.dev, 1), 0);
    cr_expect_eq(events(efd[1]), 0);
    cr_expect_eq(rd(f.dev, mask + 4, 4), 0x2);
    /* The pending register is read-only. */
    wr(f.dev, mask + 4, 4, 0);
    cr_expect_eq(rd(f.dev, mask + 4, 4), 0x2);
    /* Unmask: delivered, pending cleared. */
    wr(f.dev, mask, 4, 0);
    cr_expect_eq(events(efd[1]), 1);
    cr_expect_eq(rd(f.dev, mask + 4, 4), 0);

    /* Client-side mask (SET_IRQS MASK with DATA_BOOL) works the same. */
    {
        uint8_t sel[2] = {1, 0};

        cr_assert_eq(set_irqs(&f, sizeof(struct vfio_irq_set) + 2,
                              VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK,
                              VFIO_PCI_MSI_IRQ_INDEX, 0, 2, sel, 2, NULL, 0),
                     0);
    }
    cr_expect_eq(vdev_irq_msi_send(f.dev, 0), 0);
    cr_expect_eq(vdev_irq_msi_send(f.dev, 1), 0);
    cr_expect_eq(events(efd[0]), 0);
    cr_expect_eq(events(efd[1]), 1);
    cr_assert_eq(simple(&f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
                        VFIO_PCI_MSI_IRQ_INDEX, 0, 1),
                 0);
    cr_expect_eq(events(efd[0]), 1);
    for (int i = 0; i < 4; i++)
        close(efd[i]);
    talloc_free(f.dev);
}

static void
msix_rw(struct fixture *f, uint64_t off, void *buf, uint32_t len, bool w)
{
    cr_assert_eq(vdev_msix_access(f->dev, 0, off, buf, len, w), 1);
}

Test(irq, msix_delivery_masks_and_pba)
{
    struct fixture f;
    int efd[8];
    uint32_t ctrl;
    uint64_t q, pba;

    setup(&f);
    install(&f, VFIO_PCI_MSIX_IRQ_INDEX, 0, 8, efd);
    cr_expect_eq(vdev_irq_msix_send(f.dev, 3), -ENOTCONN);
    cr_expect_eq(vdev_irq_msix_send(f.dev, 8), -EINVAL);
    wr(f.dev, f.msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);

    /* Vectors come up masked; once the guest drives the table through
     * us, a send to a masked vector lands in the PBA. */
    msix_rw(&f, 3 * 16 + 12, &ctrl, 4, false);
    cr_expect_eq(ctrl, 1);
    q = 0xfee00000ull;
    msix_rw(&f, 3 * 16, &q, 8, true);
    cr_expect_eq(vdev_irq_msix_send(f.dev, 3), 0);
    cr_expect_eq(events(efd[3]), 0);
    msix_rw(&f, 0x800, &pba, 8, false);
    cr_expect_eq(pba, 1u << 3);
    /* PBA writes are ignored. */
    q = 0;
    msix_rw(&f, 0x800, &q, 8, true);
    msix_rw(&f, 0x800, &pba, 8, false);
    cr_expect_eq(pba, 1u << 3);

    /* Program the entry with 8-byte writes; unmasking delivers. */
    q = 0x41 | 1ull << 32; /* data 0x41, still masked */
    msix_rw(&f, 3 * 16 + 8, &q, 8, true);
    cr_expect_eq(events(efd[3]), 0);
    ctrl = 0xfffffffe; /* reserved bits read back zero */
    msix_rw(&f, 3 * 16 + 12, &ctrl, 4, true);
    cr_expect_eq(events(efd[3]), 1);
    msix_rw(&f, 0x800, &pba, 8, false);
    cr_expect_eq(pba, 0);
    msix_rw(&f, 3 * 16 + 8, &q, 8, false);
    cr_expect_eq(q, 0x41);
    cr_expect_eq(vdev_irq_msix_send(f.dev, 3), 0);
    cr_expect_eq(events(efd[3]), 1);

    /* Function mask: pending, delivered when cleared in config space. */
    wr(f.dev, f.msix + PCI_MSIX_FLAGS, 2,
       PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    cr_expect_eq(vdev_irq_msix_send(f.dev, 3), 0);
    cr_expect_eq(events(efd[3]), 0);
    msix_rw(&f, 0x800, &pba, 8, false);
    cr_expect_eq(pba, 1u << 3);
    wr(f.dev, f.msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
    cr_expect_eq(events(efd[3]), 1);

    /* Outside MSI-X space, and straddling its edge. */
    cr_expect_eq(vdev_msix_access(f.dev, 0, 0x400, &q, 4, false), 0);
    cr_expect_eq(vdev_msix_access(f.dev, 1, 0, &q, 4, false), 0);
    cr_expect_eq(vdev_msix_access(f.dev, 0, 0x7c, &q, 8, false), -EINVAL);

    /* Reset masks every vector again. */
    vdev_reset(f.dev);
    msix_rw(&f, 3 * 16 + 12, &ctrl, 4, false);
    cr_expect_eq(ctrl, 1);
    cr_expect_eq(rd(f.dev, f.msix + PCI_MSIX_FLAGS, 2), 7);
    for (int i = 0; i < 8; i++)
        close(efd[i]);
    talloc_free(f.dev);
}

/* QEMU emulates the MSI-X table itself and masks with SET_IRQS. */
Test(irq, msix_client_owned_table)
{
    struct fixture f;
    int efd[8];
    uint64_t pba;

    setup(&f);
    install(&f, VFIO_PCI_MSIX_IRQ_INDEX, 0, 8, efd);
    wr(f.dev, f.msix + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
    cr_expect_eq(vdev_irq_msix_send(f.dev, 5), 0);
    cr_expect_eq(events(efd[5]), 1);
    cr_assert_eq(simple(&f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
                        VFIO_PCI_MSIX_IRQ_INDEX, 5, 1),
                 0);
    cr_expect_eq(vdev_irq_msix_send(f.dev, 5), 0);
    cr_expect_eq(events(efd[5]), 0);
    msix_rw(&f, 0x800, &pba, 8, false);
    cr_expect_eq(pba, 1u << 5);
    cr_assert_eq(simple(&f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
                        VFIO_PCI_MSIX_IRQ_INDEX, 5, 1),
                 0);
    cr_expect_eq(events(efd[5]), 1);
    msix_rw(&f, 0x800, &pba, 8, false);
    cr_expect_eq(pba, 0);
    for (int i = 0; i < 8; i++)
        close(efd[i]);
    talloc_free(f.dev);
}

Test(irq, msi_enable_clamped_to_capability)
{
    struct fixture f;

    setup(&f);
    wr(f.dev, f.msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | 7 << 4);
    cr_expect_eq(rd(f.dev, f.msi + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE,
                 2 << 4);
    cr_expect_eq(vdev_irq_msi_send(f.dev, 3), 0);
    talloc_free(f.dev);
}

Test(irq, mask_eventfd_signalled_on_guest_mask)
{
    struct fixture f;
    int efd[8], mfd, give;
    uint32_t ctrl = 0;

    setup(&f);
    install(&f, VFIO_PCI_MSIX_IRQ_INDEX, 0, 8, efd);
    mfd = eventfd(0, EFD_NONBLOCK);
    give = dup(mfd);
    cr_assert_eq(
        set_irqs(&f, sizeof(struct vfio_irq_set),
                 VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
                 VFIO_PCI_MSIX_IRQ_INDEX, 2, 1, NULL, 0, &give, 1),
        0);
    msix_rw(&f, 2 * 16 + 12, &ctrl, 4, true);
    cr_expect_eq(events(mfd), 1);
    close(mfd);
    for (int i = 0; i < 8; i++)
        close(efd[i]);
    talloc_free(f.dev);
}

Test(irq, set_level_and_send_follow_mode)
{
    struct fixture f;
    int ifd, mfd[4];

    setup(&f);
    install(&f, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &ifd);
    install(&f, VFIO_PCI_MSI_IRQ_INDEX, 0, 4, mfd);
    /* INTx mode: the line is the OR of the levels. */
    cr_expect_eq(vdev_irq_set_level(f.dev, 0, true), 0);
    cr_expect_eq(vdev_irq_set_level(f.dev, 1, true), 0);
    cr_expect_eq(vdev_irq_set_level(f.dev, 0, false), 0);
    cr_expect_neq(rd(f.dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
    cr_expect_eq(events(ifd), 1);
    cr_expect_eq(vdev_irq_set_level(f.dev, 1, false), 0);
    cr_expect_eq(rd(f.dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
    cr_expect_eq(vdev_irq_set_level(f.dev, 32, true), -EINVAL);

    /* MSI mode: a rising edge sends the vector once. */
    wr(f.dev, f.msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | 2 << 4);
    cr_expect_eq(vdev_irq_set_level(f.dev, 2, true), 0);
    cr_expect_eq(vdev_irq_set_level(f.dev, 2, true), 0);
    cr_expect_eq(events(mfd[2]), 1);
    cr_expect_eq(vdev_irq_send(f.dev, 3), 0);
    cr_expect_eq(events(mfd[3]), 1);
    close(ifd);
    for (int i = 0; i < 4; i++)
        close(mfd[i]);
    talloc_free(f.dev);
}

Test(irq, disable_index_and_drop_fds_close)
{
    struct fixture f;
    int efd[8], kept[8];

    setup(&f);
    install(&f, VFIO_PCI_MSIX_IRQ_INDEX, 0, 8, efd);
    for (int i = 0; i < 8; i++)
        kept[i] = f.dev->irqs.index[VFIO_PCI_MSIX_IRQ_INDEX].trigger_fd[i];
    cr_assert_eq(simple(&f,
                        VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                        VFIO_PCI_MSIX_IRQ_INDEX, 0, 0),
                 0);
    for (int i = 0; i < 8; i++)
        cr_expect(!fd_open(kept[i]), "fd %d still open", kept[i]);
    for (int i = 0; i < 8; i++)
        close(efd[i]);

    install(&f, VFIO_PCI_MSI_IRQ_INDEX, 0, 4, efd);
    for (int i = 0; i < 4; i++)
        kept[i] = f.dev->irqs.index[VFIO_PCI_MSI_IRQ_INDEX].trigger_fd[i];
    vdev_irqs_drop_fds(f.dev);
    for (int i = 0; i < 4; i++) {
        cr_expect(!fd_open(kept[i]));
        cr_expect(fd_open(efd[i]));
        close(efd[i]);
    }
    /* De-assign with EVENTFD and no fds; replacing closes the old one. */
    install(&f, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, efd);
    kept[0] = f.dev->irqs.index[VFIO_PCI_REQ_IRQ_INDEX].trigger_fd[0];
    install(&f, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd[1]);
    cr_expect(!fd_open(kept[0]));
    kept[0] = f.dev->irqs.index[VFIO_PCI_REQ_IRQ_INDEX].trigger_fd[0];
    cr_assert_eq(simple(&f,
                        VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                        VFIO_PCI_REQ_IRQ_INDEX, 0, 1),
                 0);
    cr_expect(!fd_open(kept[0]));
    cr_expect_eq(f.dev->irqs.index[VFIO_PCI_REQ_IRQ_INDEX].trigger_fd[0], -1);
    close(efd[0]);
    close(efd[1]);
    /* Freeing the device closes whatever the client left installed. */
    install(&f, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, efd);
    kept[0] = f.dev->irqs.index[VFIO_PCI_REQ_IRQ_INDEX].trigger_fd[0];
    talloc_free(f.dev);
    cr_expect(!fd_open(kept[0]));
    close(efd[0]);
}

Test(irq, client_trigger_loopback)
{
    struct fixture f;
    int efd;
    uint8_t yes = 1;

    setup(&f);
    install(&f, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd);
    cr_assert_eq(simple(&f,
                        VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                        VFIO_PCI_REQ_IRQ_INDEX, 0, 1),
                 0);
    cr_expect_eq(events(efd), 1);
    cr_assert_eq(set_irqs(&f, sizeof(struct vfio_irq_set) + 1,
                          VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
                          VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &yes, 1, NULL, 0),
                 0);
    cr_expect_eq(events(efd), 1);
    close(efd);
    talloc_free(f.dev);
}

static int
info(struct fixture *f, uint32_t argsz, uint32_t index,
     struct vfio_irq_info *out)
{
    struct vfio_irq_info in = {.argsz = argsz, .index = index};
    struct vfio_user_header hdr = {.cmd = VFIO_USER_DEVICE_GET_IRQ_INFO};
    struct vdev_reply r;
    struct vdev_msg m = {
        .hdr = &hdr,
        .body = (const uint8_t *)&in,
        .body_len = sizeof(in),
    };
    int rc;

    memset(&r, 0, sizeof(r));
    rc = vdev_handle_irq_info(f->conn, &m, &r);
    if (rc == 0) {
        cr_assert_eq(r.len, sizeof(*out));
        memcpy(out, r.payload, sizeof(*out));
    }
    return rc;
}

Test(irq, irq_info)
{
    struct fixture f;
    struct vfio_irq_info o;
    static const struct vdev_pci_ident noint = {.vendor_id = 1};
    struct vdev_dev *plain;

    setup(&f);
    cr_assert_eq(info(&f, sizeof(o), VFIO_PCI_INTX_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 1);
    cr_expect_eq(o.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
                              VFIO_IRQ_INFO_AUTOMASKED);
    cr_assert_eq(info(&f, sizeof(o), VFIO_PCI_MSI_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 4);
    cr_assert_eq(info(&f, sizeof(o), VFIO_PCI_MSIX_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 8);
    cr_expect_eq(o.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
    /* No ERR interrupt without PCI Express, as vfio-pci. */
    cr_expect_eq(info(&f, sizeof(o), VFIO_PCI_ERR_IRQ_INDEX, &o), -EINVAL);
    cr_assert_eq(info(&f, sizeof(o), VFIO_PCI_REQ_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 1);
    cr_expect_eq(o.index, VFIO_PCI_REQ_IRQ_INDEX);
    cr_expect_eq(info(&f, sizeof(o), 5, &o), -EINVAL);
    cr_expect_eq(info(&f, sizeof(o) - 1, 0, &o), -EINVAL);

    /* Counts follow capabilities added after creation. */
    plain = vdev_dev_create(f.dev, "plain", &noint);
    f.conn->dev = plain;
    cr_assert_eq(info(&f, sizeof(o), VFIO_PCI_INTX_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 0);
    cr_assert_eq(info(&f, sizeof(o), VFIO_PCI_MSI_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 0);
    cr_assert_gt(vdev_cap_msi(plain, 0, 16, false, false), 0);
    cr_assert_eq(info(&f, sizeof(o), VFIO_PCI_MSI_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 16);
    cr_assert_gt(vdev_cap_pcie(plain, 0, VDEV_PCIE_ENDPOINT, 1, 1), 0);
    cr_assert_eq(info(&f, sizeof(o), VFIO_PCI_ERR_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 1);
    cr_expect_eq(vdev_irq_intx_set(plain, true), -EINVAL);
    talloc_free(f.dev);
}

/* Each malformed SET_IRQS: the errno, nothing installed, fds closed. */
static void
expect_err(struct fixture *f, int err, uint32_t argsz, uint32_t flags,
           uint32_t index, uint32_t start, uint32_t count, const uint8_t *data,
           size_t dlen, unsigned nr_fds, unsigned sent_fds)
{
    int fds[4], orig[4];
    int rc;

    for (unsigned i = 0; i < sent_fds; i++)
        orig[i] = fds[i] = eventfd(0, EFD_CLOEXEC);
    rc =
        set_irqs(f, argsz, flags, index, start, count, data, dlen, fds, nr_fds);
    cr_expect_eq(rc, err, "flags %#x index %u start %u count %u: %d", flags,
                 index, start, count, rc);
    for (unsigned i = 0; i < sent_fds; i++) {
        cr_expect_eq(fds[i], orig[i], "fd %u taken on error", i);
        cr_expect(!fd_open(orig[i]), "fd %u left open", i);
    }
}

static void
expect_bad(struct fixture *f, uint32_t argsz, uint32_t flags, uint32_t index,
           uint32_t start, uint32_t count, const uint8_t *data, size_t dlen,
           unsigned nr_fds, unsigned sent_fds)
{
    expect_err(f, -EINVAL, argsz, flags, index, start, count, data, dlen,
               nr_fds, sent_fds);
}

/* The errnos are vfio-pci's (runtime/KERNEL.md, S1-S17). */
Test(irq, set_irqs_malformed)
{
    struct fixture f;
    const uint32_t sz = sizeof(struct vfio_irq_set);
    const uint32_t efd_trig =
        VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    uint8_t bools[8] = {1, 1, 1, 1, 1, 1, 1, 1};

    setup(&f);
    /* argsz below the struct. */
    expect_bad(&f, sz - 1, efd_trig, 2, 0, 1, NULL, 0, 1, 1);
    /* Two DATA flags, none; two ACTION flags, none (ENOTTY: no handler);
     * unknown bits. */
    expect_bad(&f, sz, efd_trig | VFIO_IRQ_SET_DATA_NONE, 2, 0, 1, NULL, 0, 1,
               1);
    expect_bad(&f, sz, VFIO_IRQ_SET_ACTION_TRIGGER, 2, 0, 1, NULL, 0, 1, 1);
    expect_err(&f, -ENOTTY, sz, efd_trig | VFIO_IRQ_SET_ACTION_MASK, 2, 0, 1,
               NULL, 0, 1, 1);
    expect_err(&f, -ENOTTY, sz, VFIO_IRQ_SET_DATA_EVENTFD, 2, 0, 1, NULL, 0, 1,
               1);
    expect_bad(&f, sz, efd_trig | 1u << 6, 2, 0, 1, NULL, 0, 1, 1);
    /* Index out of range; past the index's count; start+count overflow. */
    expect_bad(&f, sz, efd_trig, 5, 0, 1, NULL, 0, 1, 1);
    expect_bad(&f, sz, efd_trig, 2, 8, 1, NULL, 0, 1, 1);
    expect_bad(&f, sz, efd_trig, 2, 6, 4, NULL, 0, 4, 4);
    expect_bad(&f, sz, efd_trig, 2, 0xffffffffu, 2, NULL, 0, 2, 2);
    expect_bad(&f, sz, efd_trig, 0, 0, 2, NULL, 0, 2, 2);
    /* count 0 is only for DATA_NONE|TRIGGER, and then without fds. */
    expect_bad(&f, sz, efd_trig, 2, 0, 0, NULL, 0, 1, 1);
    expect_bad(&f, sz, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 2, 0,
               0, NULL, 0, 0, 0);
    expect_bad(&f, sz, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 2,
               0, 0, NULL, 0, 1, 1);
    /* Fewer fds than count, more fds than count. */
    expect_bad(&f, sz, efd_trig, 2, 0, 3, NULL, 0, 2, 2);
    expect_bad(&f, sz, efd_trig, 2, 0, 2, NULL, 0, 3, 3);
    /* fds with DATA_NONE or DATA_BOOL. */
    expect_bad(&f, sz, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 2,
               0, 1, NULL, 0, 1, 1);
    expect_bad(&f, sz + 1, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK, 2,
               0, 1, bools, 1, 1, 1);
    /* DATA_BOOL shorter than count. */
    expect_bad(&f, sz + 2, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK, 2,
               0, 4, bools, 2, 0, 0);
    expect_bad(&f, sz, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK, 2, 0,
               4, bools, 4, 0, 0);
    /* INTx unmask-by-eventfd (a KVM resample fd) is refused. */
    expect_bad(&f, sz, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
               0, 0, 1, NULL, 0, 1, 1);
    /* No ERR interrupt without PCI Express; REQ is not maskable. */
    expect_bad(&f, sz, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 3, 0,
               1, NULL, 0, 0, 0);
    expect_err(&f, -ENOTTY, sz,
               VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, 4, 0, 1,
               NULL, 0, 1, 1);

    /* Nothing got installed along the way. */
    for (unsigned i = 0; i < VDEV_NR_IRQ_INDEXES; i++)
        for (unsigned v = 0; v < f.dev->irqs.index[i].count; v++) {
            cr_expect_eq(f.dev->irqs.index[i].trigger_fd[v], -1);
            cr_expect_eq(f.dev->irqs.index[i].mask_fd[v], -1);
            cr_expect(!f.dev->irqs.index[i].masked[v]);
        }
    /* A short body. */
    {
        struct vfio_user_header hdr = {.cmd = VFIO_USER_DEVICE_SET_IRQS};
        uint8_t body[8] = {0};
        struct vdev_msg m = {.hdr = &hdr, .body = body, .body_len = 8};
        struct vdev_reply r;

        memset(&r, 0, sizeof(r));
        cr_expect_eq(vdev_handle_set_irqs(f.conn, &m, &r), -EINVAL);
    }
    talloc_free(f.dev);
}
