/* runtime/KERNEL.md, S rows: SET_IRQS validated and acted on as vfio-pci
 * (vfio_set_irqs_validate_and_prepare, vfio_pci_set_irqs_ioctl) does,
 * over a real socket, against the test device with MSI, MSI-X and PCIe. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <unistd.h>

#include "kernel_fixture.h"

static struct kfix k;

static void
setup(void)
{
    kfix_up(&k, true, false);
}

static void
teardown(void)
{
    kfix_down(&k);
}

TestSuite(kernel_irqs, .init = setup, .fini = teardown, .timeout = 30);

#define SZ ((uint32_t)sizeof(struct vfio_irq_set))
#define D_NONE VFIO_IRQ_SET_DATA_NONE
#define D_BOOL VFIO_IRQ_SET_DATA_BOOL
#define D_EFD VFIO_IRQ_SET_DATA_EVENTFD
#define A_MASK VFIO_IRQ_SET_ACTION_MASK
#define A_UNMASK VFIO_IRQ_SET_ACTION_UNMASK
#define A_TRIG VFIO_IRQ_SET_ACTION_TRIGGER
#define INTX VFIO_PCI_INTX_IRQ_INDEX
#define MSI VFIO_PCI_MSI_IRQ_INDEX
#define MSIX VFIO_PCI_MSIX_IRQ_INDEX
#define ERR VFIO_PCI_ERR_IRQ_INDEX
#define REQ VFIO_PCI_REQ_IRQ_INDEX

static int
none(uint32_t flags, uint32_t index, uint32_t start, uint32_t count)
{
    return kfix_set_irqs(&k, 0, D_NONE | flags, index, start, count, NULL, 0,
                         NULL, 0);
}

/* Installs trigger eventfds on [0, n) of index; the test's copies in e. */
static void
install(uint32_t index, unsigned n, int *e)
{
    int give[8];

    for (unsigned i = 0; i < n; i++) {
        e[i] = kfix_eventfd();
        give[i] = dup(e[i]);
    }
    cr_assert_eq(
        kfix_set_irqs(&k, 0, D_EFD | A_TRIG, index, 0, n, NULL, 0, give, n), 0);
    for (unsigned i = 0; i < n; i++)
        close(give[i]);
}

static void
close_all(int *e, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        close(e[i]);
}

/* S1 */
Test(kernel_irqs, validate_header)
{
    int e = kfix_eventfd();

    cr_expect_eq(kfix_set_irqs(&k, SZ - 1, D_NONE | A_TRIG, INTX, 0, 1, NULL, 0,
                               NULL, 0),
                 -EINVAL);
    cr_expect_eq(none(A_TRIG | (1u << 6), INTX, 0, 1), -EINVAL);
    cr_expect_eq(none(A_TRIG, 5, 0, 1), -EINVAL);
    cr_expect_eq(none(A_TRIG, MSI, 0xffffffffu, 2), -EINVAL);
    cr_expect_eq(none(A_TRIG, MSI, 1, 0xffffffffu), -EINVAL);
    {
        uint8_t body[8] = {0};
        cr_expect_eq(
            kfix_call(&k, VFIO_USER_DEVICE_SET_IRQS, body, 8, &e, 1, NULL),
            -EINVAL);
    }
    cr_expect(kfix_fd_open(e));
    close(e);
}

/* S2: argsz above what the request needs is accepted. */
Test(kernel_irqs, argsz_larger_accepted)
{
    int e[1];
    uint8_t one = 1;

    install(INTX, 1, e);
    cr_assert_eq(
        kfix_set_irqs(&k, 4096, D_NONE | A_TRIG, INTX, 0, 1, NULL, 0, NULL, 0),
        0);
    cr_expect_eq(kfix_events(e[0]), 1);
    cr_assert_eq(
        kfix_set_irqs(&k, 4096, D_BOOL | A_TRIG, INTX, 0, 1, &one, 1, NULL, 0),
        0);
    cr_expect_eq(kfix_events(e[0]), 1);
    close_all(e, 1);
}

/* S3 */
Test(kernel_irqs, range_checked_even_for_count_0)
{
    cr_expect_eq(none(A_TRIG, INTX, 1, 1), -EINVAL);
    cr_expect_eq(none(A_TRIG, MSIX, 0, TESTDEV_MSIX_VECTORS + 1), -EINVAL);
    cr_expect_eq(none(A_TRIG, MSIX, TESTDEV_MSIX_VECTORS, 0), -EINVAL);
    /* start within the index: a count-0 disable, as the kernel's */
    cr_expect_eq(none(A_TRIG, MSIX, 2, 0), 0);
    /* an index without interrupts has no start to give */
    kfix_down(&k);
    kfix_up(&k, false, false);
    cr_expect_eq(none(A_TRIG, MSI, 0, 0), -EINVAL);
    cr_expect_eq(none(A_TRIG, ERR, 0, 0), -EINVAL);
}

/* S4, S5 */
Test(kernel_irqs, data_and_action_flags)
{
    cr_expect_eq(none(D_BOOL | A_TRIG, INTX, 0, 1), -EINVAL);
    cr_expect_eq(kfix_set_irqs(&k, 0, A_TRIG, INTX, 0, 1, NULL, 0, NULL, 0),
                 -EINVAL);
    cr_expect_eq(none(A_TRIG | A_MASK, INTX, 0, 1), -ENOTTY);
    cr_expect_eq(none(0, INTX, 0, 1), -ENOTTY);
}

/* S6 */
Test(kernel_irqs, bool_data_must_be_present)
{
    static const uint8_t bools[4] = {1, 1, 1, 1};

    /* argsz short of count bools; bools short of count in the message */
    cr_expect_eq(kfix_set_irqs(&k, SZ + 2, D_BOOL | A_TRIG, MSIX, 0, 4, bools,
                               4, NULL, 0),
                 -EINVAL);
    cr_expect_eq(kfix_set_irqs(&k, SZ + 4, D_BOOL | A_TRIG, MSIX, 0, 4, bools,
                               2, NULL, 0),
                 -EINVAL);
}

/* S7: loopback on INTx signals the eventfd each time, masked or not, and
 * never masks; not while the guest's Interrupt Disable is set; EINVAL when
 * INTx has no eventfd. */
Test(kernel_irqs, intx_loopback)
{
    int e[1];
    uint16_t cmd;

    cr_expect_eq(none(A_TRIG, INTX, 0, 1), -EINVAL);
    install(INTX, 1, e);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(none(A_TRIG, INTX, 0, 1), 0);
        cr_expect_eq(kfix_events(e[0]), 1, "round %d", i);
    }
    cr_assert_eq(none(A_MASK, INTX, 0, 1), 0);
    cr_assert_eq(none(A_TRIG, INTX, 0, 1), 0);
    cr_expect_eq(kfix_events(e[0]), 1, "signalled while masked");
    cr_assert_eq(none(A_UNMASK, INTX, 0, 1), 0);
    cmd = PCI_COMMAND_INTX_DISABLE;
    cr_assert_eq(kfix_write(&k, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, &cmd,
                            2, NULL),
                 0);
    cr_assert_eq(none(A_TRIG, INTX, 0, 1), 0);
    cr_expect_eq(kfix_events(e[0]), 0, "not while Interrupt Disable is set");
    close_all(e, 1);
}

/* S8: MSI/MSI-X loopback signals the selected vectors, whatever mode the
 * guest set (the raise is the client's own, as in vfio-pci); EINVAL when
 * the index has no eventfd. */
Test(kernel_irqs, msi_loopback)
{
    static const uint8_t sel[4] = {0, 1, 0, 1};
    int e[4];

    cr_expect_eq(none(A_TRIG, MSIX, 0, 4), -EINVAL);
    install(MSIX, 4, e);
    cr_assert_eq(none(A_TRIG, MSIX, 1, 2), 0);
    cr_expect_eq(kfix_events(e[0]), 0);
    cr_expect_eq(kfix_events(e[1]), 1);
    cr_expect_eq(kfix_events(e[2]), 1);
    cr_assert_eq(
        kfix_set_irqs(&k, 0, D_BOOL | A_TRIG, MSIX, 0, 4, sel, 4, NULL, 0), 0);
    for (int i = 0; i < 4; i++)
        cr_expect_eq(kfix_events(e[i]), sel[i], "vector %d", i);
    close_all(e, 4);
}

/* S9 */
Test(kernel_irqs, err_req_trigger)
{
    static const uint8_t one = 1;
    int e[1];

    cr_expect_eq(none(A_TRIG, REQ, 0, 1), -EINVAL, "no eventfd");
    cr_expect_eq(
        kfix_set_irqs(&k, 0, D_BOOL | A_TRIG, REQ, 0, 1, &one, 1, NULL, 0), 0,
        "BOOL without an eventfd: nothing to signal, success");
    install(REQ, 1, e);
    cr_assert_eq(none(A_TRIG, REQ, 0, 1), 0);
    cr_expect_eq(kfix_events(e[0]), 1);
    cr_assert_eq(
        kfix_set_irqs(&k, 0, D_BOOL | A_TRIG, REQ, 0, 1, &one, 1, NULL, 0), 0);
    cr_expect_eq(kfix_events(e[0]), 1);
    close_all(e, 1);
    install(ERR, 1, e);
    cr_assert_eq(none(A_TRIG, ERR, 0, 1), 0);
    cr_expect_eq(kfix_events(e[0]), 1);
    close_all(e, 1);
}

/* S10 */
Test(kernel_irqs, count_0_disables)
{
    int e[4];

    install(MSIX, 4, e);
    cr_assert_eq(none(A_TRIG, MSIX, 0, 0), 0);
    cr_expect_eq(none(A_TRIG, MSIX, 0, 1), -EINVAL, "disabled: no eventfd");
    cr_expect_eq(
        kfix_set_irqs(&k, 0, D_BOOL | A_TRIG, MSIX, 0, 0, NULL, 0, NULL, 0),
        -EINVAL);
    cr_expect_eq(
        kfix_set_irqs(&k, 0, D_EFD | A_TRIG, MSIX, 0, 0, NULL, 0, NULL, 0),
        -EINVAL);
    cr_expect_eq(none(A_MASK, MSIX, 0, 0), -EINVAL);
    /* ERR/REQ: only an enabled one */
    cr_expect_eq(none(A_TRIG, REQ, 0, 0), -EINVAL);
    close_all(e, 4);
    install(REQ, 1, e);
    cr_expect_eq(none(A_TRIG, REQ, 0, 0), 0);
    cr_expect_eq(none(A_TRIG, REQ, 0, 1), -EINVAL, "disabled");
    close_all(e, 1);
}

/* S11 */
Test(kernel_irqs, intx_mask_unmask)
{
    int e[1];

    cr_expect_eq(none(A_MASK, INTX, 0, 1), -EINVAL, "INTx not enabled");
    cr_expect_eq(none(A_UNMASK, INTX, 0, 1), -EINVAL, "INTx not enabled");
    install(INTX, 1, e);
    cr_expect_eq(none(A_MASK, INTX, 0, 0), -EINVAL);
    cr_expect_eq(none(A_MASK, INTX, 0, 1), 0);
    cr_expect_eq(none(A_UNMASK, INTX, 0, 1), 0);
    close_all(e, 1);
}

/* S12: MSI-X vectors masked by the client hold a raise until unmasked. */
Test(kernel_irqs, msi_mask_served)
{
    int e[4];
    uint16_t flags = PCI_MSIX_FLAGS_ENABLE;
    unsigned cap = 0;
    uint8_t id, next = 0;

    install(MSIX, 4, e);
    cr_assert_eq(kfix_read(&k, VFIO_PCI_CONFIG_REGION_INDEX,
                           PCI_CAPABILITY_LIST, &next, 1, NULL),
                 0);
    while (next && !cap) {
        cr_assert_eq(
            kfix_read(&k, VFIO_PCI_CONFIG_REGION_INDEX, next, &id, 1, NULL), 0);
        if (id == PCI_CAP_ID_MSIX)
            cap = next;
        else
            cr_assert_eq(kfix_read(&k, VFIO_PCI_CONFIG_REGION_INDEX, next + 1,
                                   &next, 1, NULL),
                         0);
    }
    cr_assert_neq(cap, 0);
    cr_assert_eq(kfix_write(&k, VFIO_PCI_CONFIG_REGION_INDEX,
                            cap + PCI_MSIX_FLAGS, &flags, 2, NULL),
                 0);
    cr_assert_eq(none(A_MASK, MSIX, 2, 1), 0);
    cr_assert_eq(vdev_irq_msix_send(k.srv.dev, 2), 0);
    cr_expect_eq(kfix_events(e[2]), 0, "held while masked");
    cr_assert_eq(none(A_UNMASK, MSIX, 2, 1), 0);
    cr_expect_eq(kfix_events(e[2]), 1, "delivered on unmask");
    close_all(e, 4);
}

/* S13 */
Test(kernel_irqs, err_req_not_maskable)
{
    int e = kfix_eventfd();

    cr_expect_eq(none(A_MASK, REQ, 0, 1), -ENOTTY);
    cr_expect_eq(none(A_UNMASK, ERR, 0, 1), -ENOTTY);
    cr_expect_eq(
        kfix_set_irqs(&k, 0, D_EFD | A_MASK, REQ, 0, 1, NULL, 0, &e, 1),
        -ENOTTY);
    close(e);
}

/* S14: an eventfd signalled when the guest masks INTx (here: the device's
 * interrupt fires and masks itself). */
Test(kernel_irqs, intx_mask_eventfd)
{
    int e[1], m = kfix_eventfd(), give = dup(m);

    install(INTX, 1, e);
    cr_assert_eq(
        kfix_set_irqs(&k, 0, D_EFD | A_MASK, INTX, 0, 1, NULL, 0, &give, 1), 0);
    close(give);
    cr_assert_eq(vdev_irq_intx_set(k.srv.dev, true), 0);
    cr_expect_eq(kfix_events(e[0]), 1);
    cr_expect_eq(kfix_events(m), 1, "the automask signalled the mask fd");
    close(m);
    close_all(e, 1);
}

/* S15 */
Test(kernel_irqs, intx_unmask_eventfd_refused)
{
    int e[1], u = kfix_eventfd();

    install(INTX, 1, e);
    cr_expect_eq(
        kfix_set_irqs(&k, 0, D_EFD | A_UNMASK, INTX, 0, 1, NULL, 0, &u, 1),
        -EINVAL);
    close(u);
    close_all(e, 1);
}

/* S16: eventfds on INTx, MSI and MSI-X at once; each index stands alone. */
Test(kernel_irqs, indexes_independent)
{
    int ei[1], em[4], ex[4];

    install(INTX, 1, ei);
    install(MSI, 4, em);
    install(MSIX, 4, ex);
    cr_assert_eq(none(A_TRIG, INTX, 0, 1), 0);
    cr_assert_eq(none(A_TRIG, MSI, 3, 1), 0);
    cr_assert_eq(none(A_TRIG, MSIX, 0, 1), 0);
    cr_expect_eq(kfix_events(ei[0]), 1);
    cr_expect_eq(kfix_events(em[3]), 1);
    cr_expect_eq(kfix_events(ex[0]), 1);
    cr_assert_eq(none(A_TRIG, MSI, 0, 0), 0);
    cr_assert_eq(none(A_TRIG, INTX, 0, 1), 0, "INTx still enabled");
    cr_expect_eq(kfix_events(ei[0]), 1);
    close_all(ei, 1);
    close_all(em, 4);
    close_all(ex, 4);
}

/* S17 */
Test(kernel_irqs, eventfd_count_must_match)
{
    int e[3] = {kfix_eventfd(), kfix_eventfd(), kfix_eventfd()};

    cr_expect_eq(
        kfix_set_irqs(&k, 0, D_EFD | A_TRIG, MSIX, 0, 2, NULL, 0, e, 3),
        -EINVAL);
    cr_expect_eq(
        kfix_set_irqs(&k, 0, D_EFD | A_TRIG, MSIX, 0, 4, NULL, 0, e, 3),
        -EINVAL);
    cr_expect_eq(
        kfix_set_irqs(&k, 0, D_NONE | A_TRIG, MSIX, 0, 1, NULL, 0, e, 1),
        -EINVAL);
    /* none de-assigns */
    cr_expect_eq(
        kfix_set_irqs(&k, 0, D_EFD | A_TRIG, MSIX, 0, 2, NULL, 0, NULL, 0), 0);
    close_all(e, 3);
}
