/* GET_IRQ_INFO and SET_IRQS over a real socket: eventfds passed with
 * SCM_RIGHTS reach the device, bad requests get EINVAL, their fds are
 * closed by the server, and the next message is served. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "device/device.h"
#include "rawsock.h"
#include "proto_fixture.h"
#include "testdev.h"

static struct testsrv srv;
static int fd = -1;

static void
setup(void)
{
    proto_fixture_up(&srv, &fd, false, true);
}

static void
teardown(void)
{
    proto_fixture_down(&srv, &fd);
}

TestSuite(proto_irq, .init = setup, .fini = teardown, .timeout = 30);

static void
assert_served(void)
{
    uint32_t v = 0x1234abcd, back = 0;

    cr_assert_eq(raw_region_write(fd, 0, TESTDEV_REG_SCRATCH, &v, 4), 0);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_SCRATCH, &back, 4), 0);
    cr_assert_eq(back, v);
}

static int
irq_info(uint32_t index, struct vfio_irq_info *out)
{
    struct vfio_irq_info in = {.argsz = sizeof(in), .index = index};
    struct raw_reply r;
    int rc =
        raw_call(fd, 7, VFIO_USER_DEVICE_GET_IRQ_INFO, &in, sizeof(in), &r);

    if (rc == 0) {
        cr_assert_eq(r.len, sizeof(*out));
        memcpy(out, r.payload, sizeof(*out));
    }
    raw_reply_free(&r);
    return rc;
}

/* SET_IRQS with fds; returns 0 or the reply's -errno. */
static int
set_irqs(uint32_t argsz, uint32_t flags, uint32_t index, uint32_t start,
         uint32_t count, const int *fds, unsigned nr_fds)
{
    struct vfio_irq_set s = {
        .argsz = argsz,
        .flags = flags,
        .index = index,
        .start = start,
        .count = count,
    };
    struct raw_reply r;
    int rc;

    cr_assert_eq(raw_send_msg(fd, 11, VFIO_USER_DEVICE_SET_IRQS, 0, &s,
                              sizeof(s), fds, nr_fds),
                 0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    rc = (r.hdr.flags & VFIO_USER_F_ERROR) ? -(int)r.hdr.error_no : 0;
    if (rc == 0)
        cr_expect_eq(r.hdr.msg_size, sizeof(struct vfio_user_header));
    raw_reply_free(&r);
    return rc;
}

static uint64_t
events(int efd)
{
    uint64_t n = 0;

    if (read(efd, &n, sizeof(n)) != sizeof(n))
        return 0;
    return n;
}

static int
wait_fd_count(int want)
{
    int n = raw_count_fds();

    for (int i = 0; i < 200 && n != want; i++) {
        usleep(10000);
        n = raw_count_fds();
    }
    return n;
}

Test(proto_irq, irq_info)
{
    struct vfio_irq_info o;

    cr_assert_eq(irq_info(VFIO_PCI_INTX_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 1);
    cr_expect_eq(o.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
                              VFIO_IRQ_INFO_AUTOMASKED);
    cr_assert_eq(irq_info(VFIO_PCI_REQ_IRQ_INDEX, &o), 0);
    cr_expect_eq(o.count, 1);
    cr_expect_eq(o.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
    cr_expect_eq(irq_info(VDEV_NR_IRQ_INDEXES, &o), -EINVAL);
    assert_served();
}

/* Loopback as vfio-pci: the eventfd fires each time, whatever the mask,
 * and never masks itself (runtime/KERNEL.md, S7); the device's own
 * interrupts do (kernel_irqs tests the rest). */
Test(proto_irq, intx_eventfd_loopback_and_automask)
{
    const uint32_t sz = sizeof(struct vfio_irq_set);
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    uint16_t cmd = PCI_COMMAND_INTX_DISABLE;

    cr_assert_geq(efd, 0);
    cr_assert_eq(
        set_irqs(sz, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                 VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd, 1),
        0);
    /* The client triggering INTx itself reaches the eventfd... */
    cr_assert_eq(set_irqs(sz,
                          VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                          VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0),
                 0);
    cr_expect_eq(events(efd), 1);
    /* ...again, and while masked. */
    cr_assert_eq(set_irqs(sz,
                          VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                          VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0),
                 0);
    cr_expect_eq(events(efd), 1);
    cr_assert_eq(set_irqs(sz, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
                          VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0),
                 0);
    cr_assert_eq(set_irqs(sz,
                          VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                          VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0),
                 0);
    cr_expect_eq(events(efd), 1);
    cr_assert_eq(set_irqs(sz,
                          VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
                          VFIO_PCI_INTX_IRQ_INDEX, 0, 1, NULL, 0),
                 0);

    /* Interrupt Disable through config space sticks. */
    cr_assert_eq(raw_region_write(fd, VDEV_CONFIG_INDEX, PCI_COMMAND, &cmd, 2),
                 0);
    cmd = 0;
    cr_assert_eq(raw_region_read(fd, VDEV_CONFIG_INDEX, PCI_COMMAND, &cmd, 2),
                 0);
    cr_expect_eq(cmd, PCI_COMMAND_INTX_DISABLE);

    /* Disable the index: the server's copy is closed. */
    {
        int before = raw_count_fds();

        cr_assert_eq(
            set_irqs(sz, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                     VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL, 0),
            0);
        cr_expect_eq(wait_fd_count(before - 1), before - 1);
    }
    close(efd);
    assert_served();
}

Test(proto_irq, bad_set_irqs_closes_fds_and_stream_continues)
{
    const uint32_t sz = sizeof(struct vfio_irq_set);
    const uint32_t trig =
        VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
    int efd[2];
    int base;

    efd[0] = eventfd(0, EFD_CLOEXEC);
    efd[1] = eventfd(0, EFD_CLOEXEC);
    base = raw_count_fds();
    /* Wrong number of fds. */
    cr_expect_eq(set_irqs(sz, trig, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, efd, 2),
                 -EINVAL);
    /* Past the index's count. */
    cr_expect_eq(set_irqs(sz, trig, VFIO_PCI_INTX_IRQ_INDEX, 0, 2, efd, 2),
                 -EINVAL);
    cr_expect_eq(set_irqs(sz, trig, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, efd, 1),
                 -EINVAL);
    /* Unknown index, argsz too small, fds with DATA_NONE. */
    cr_expect_eq(set_irqs(sz, trig, VDEV_NR_IRQ_INDEXES, 0, 1, efd, 1),
                 -EINVAL);
    cr_expect_eq(set_irqs(sz - 4, trig, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, efd, 1),
                 -EINVAL);
    cr_expect_eq(set_irqs(sz,
                          VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                          VFIO_PCI_INTX_IRQ_INDEX, 0, 1, efd, 1),
                 -EINVAL);
    /* Every copy the server received was closed. */
    cr_expect_eq(wait_fd_count(base), base);
    assert_served();
    close(efd[0]);
    close(efd[1]);
}

Test(proto_irq, disconnect_drops_irq_fds)
{
    const uint32_t sz = sizeof(struct vfio_irq_set);
    int efd = eventfd(0, EFD_CLOEXEC);
    int base = raw_count_fds();

    cr_assert_eq(
        set_irqs(sz, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                 VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd, 1),
        0);
    cr_expect_eq(raw_count_fds(), base + 1);
    close(fd);
    fd = -1;
    /* Our socket and the server's eventfd copy are gone. */
    cr_expect_eq(wait_fd_count(base - 2), base - 2);
    close(efd);
    fd = raw_connect(srv.path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(raw_negotiate(fd), 0);
    assert_served();
}
