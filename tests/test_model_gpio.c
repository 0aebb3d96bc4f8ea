/* The PCI-IDIO-16 model (models/gpio-pci-idio-16.vdev) end to end: the
 * register protocol of Linux's gpio-pci-idio-16 / gpio-idio-16 drivers
 * against the real server, inputs driven over the management channel. */
#include <criterion/criterion.h>
#include <linux/pci_regs.h>
#include <talloc.h>
#include <unistd.h>

#include "model_server.h"

#define BAR2 VFIO_PCI_BAR2_REGION_INDEX
#define OUT0_7 0x0
#define IN0_7 0x1   /* write: clear interrupt */
#define IRQ_CTL 0x2 /* read: enable, write: disable */
#define FILTER_CTL 0x3
#define OUT8_15 0x4
#define IN8_15 0x5
#define IRQ_STATUS 0x6

static struct model_server srv;

static void
setup(void)
{
    model_server_start(&srv, "gpio-pci-idio-16");
}

static void
teardown(void)
{
    model_server_stop(&srv);
}

TestSuite(model_gpio, .init = setup, .fini = teardown, .timeout = 30);

static uint8_t
rd8(uint64_t off)
{
    return (uint8_t)model_rd(&srv, BAR2, off, 1);
}

static void
wr8(uint64_t off, uint8_t v)
{
    model_wr(&srv, BAR2, off, 1, v);
}

Test(model_gpio, identity_and_bar2)
{
    uint16_t id[2];
    struct vfio_region_info ri;

    cr_assert_eq(vdev_client_config_read(srv.cl, PCI_VENDOR_ID, id, 4), 0);
    cr_assert_eq(id[0], 0x494f);
    cr_assert_eq(id[1], 0x0dc8);
    cr_assert_eq(
        vdev_client_region_info(srv.cl, BAR2, &ri, NULL, 0, NULL, NULL), 0);
    cr_assert_geq(ri.size, 7, "the driver uses offsets 0..6");
    uint8_t pin;
    cr_assert_eq(vdev_client_config_read(srv.cl, PCI_INTERRUPT_PIN, &pin, 1),
                 0);
    cr_assert_eq(pin, 1, "INTA");
}

Test(model_gpio, outputs_read_back)
{
    /* idio_16_gpio_set: read-modify-write of each output byte */
    wr8(OUT0_7, 0xa5);
    wr8(OUT8_15, 0x3c);
    cr_assert_eq(rd8(OUT0_7), 0xa5);
    cr_assert_eq(rd8(OUT8_15), 0x3c);
    wr8(OUT0_7, rd8(OUT0_7) | 0x02);
    cr_assert_eq(rd8(OUT0_7), 0xa7);
    /* outputs are not inputs */
    cr_assert_eq(rd8(IN0_7), 0);
    cr_assert_eq(rd8(IN8_15), 0);
    cr_assert_eq(model_get(&srv, "out0_7"), 0xa7);
    cr_assert_eq(model_get(&srv, "out8_15"), 0x3c);
    /* only inputs are external: outputs belong to the guest */
    cr_assert_lt(vdev_mgmt_client_set(srv.mgmt, "out0_7", 1), 0);
}

Test(model_gpio, inputs_from_management_channel)
{
    model_set(&srv, "state.inputs", 0xbeef);
    cr_assert_eq(rd8(IN0_7), 0xef);
    cr_assert_eq(rd8(IN8_15), 0xbe);
    /* a guest write to in8_15 is ignored; one to in0_7 only clears */
    wr8(IN8_15, 0);
    wr8(IN0_7, 0);
    cr_assert_eq(rd8(IN0_7), 0xef);
    cr_assert_eq(rd8(IN8_15), 0xbe);
    cr_assert_eq(model_get(&srv, "state.inputs"), 0xbeef);
    /* out of range for 16 pins */
    cr_assert_lt(vdev_mgmt_client_set(srv.mgmt, "state.inputs", 0x10000), 0);
}

/* Probe of the driver: disable IRQ, deactivate filters, clear pending. */
static void
driver_probe(void)
{
    wr8(IRQ_CTL, 0);
    wr8(FILTER_CTL, 0);
    wr8(IN0_7, 0);
}

static void
unmask_intx(void)
{
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_NONE |
                                          VFIO_IRQ_SET_ACTION_UNMASK,
                                      0, 1, NULL, NULL),
                 0);
}

static bool
intx_status(void)
{
    uint16_t st;
    cr_assert_eq(vdev_client_config_read(srv.cl, PCI_STATUS, &st, 2), 0);
    return st & PCI_STATUS_INTERRUPT;
}

Test(model_gpio, irq_on_input_change)
{
    int efd = model_eventfd();
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &efd, NULL),
                 0);
    driver_probe();
    cr_assert_eq(model_get(&srv, "state.filters"), 0);

    /* disabled: a change latches nothing */
    model_set(&srv, "state.inputs", 0x0001);
    cr_assert(!model_fired(efd, 50));
    cr_assert_eq(rd8(IRQ_STATUS), 0);

    /* handle_mask_sync on first unmask: clear, then read to enable */
    wr8(IN0_7, 0);
    (void)rd8(IRQ_CTL);
    cr_assert_eq(model_get(&srv, "state.irq_enabled"), 1);

    model_set(&srv, "state.inputs", 0x0009); /* IIN3 rises */
    cr_assert(model_fired(efd, 2000), "INTx not signalled");
    uint8_t st = rd8(IRQ_STATUS);
    /* the old driver's test: (status & 3) && (status & 4) */
    cr_assert(st & 0x3);
    cr_assert(st & 0x4);
    cr_assert_eq(st, 0x5, "low byte changed");
    cr_assert(intx_status(), "Interrupt Status must follow the line");
    /* the handler reads the inputs, then clears */
    cr_assert_eq(rd8(IN0_7), 0x09);
    wr8(IN0_7, 0);
    cr_assert_eq(rd8(IRQ_STATUS), 0);
    cr_assert(!intx_status());
    unmask_intx();
    cr_assert(!model_fired(efd, 50), "cleared interrupt signalled again");

    /* same value again: no change, no interrupt */
    model_set(&srv, "state.inputs", 0x0009);
    cr_assert(!model_fired(efd, 50));
    cr_assert_eq(rd8(IRQ_STATUS), 0);

    /* high byte */
    model_set(&srv, "state.inputs", 0x1009);
    cr_assert(model_fired(efd, 2000), "INTx not signalled for IIN12");
    cr_assert_eq(rd8(IRQ_STATUS), 0x6);
    cr_assert_eq(rd8(IN8_15), 0x10);

    /* disable with the interrupt pending: the line drops */
    wr8(IRQ_CTL, 0);
    cr_assert(!intx_status());
    wr8(IN0_7, 0);
    unmask_intx();
    model_set(&srv, "state.inputs", 0);
    cr_assert(!model_fired(efd, 50));
    cr_assert_eq(rd8(IRQ_STATUS), 0);
    close(efd);
}

Test(model_gpio, reset_clears_state)
{
    wr8(OUT0_7, 0xff);
    (void)rd8(IRQ_CTL);
    cr_assert_eq(vdev_client_reset(srv.cl), 0);
    cr_assert_eq(rd8(OUT0_7), 0);
    cr_assert_eq(model_get(&srv, "state.irq_enabled"), 0);
}

/* Pin state, interrupt state and the enable bit move to a second server
 * through the v2 migration messages, and the card keeps working there. */
Test(model_gpio, state_migrates_to_second_server)
{
    struct model_server dst;
    uint8_t *stream = NULL;
    size_t len = 0;

    wr8(OUT0_7, 0x5a);
    wr8(OUT8_15, 0x81);
    driver_probe();
    (void)rd8(IRQ_CTL);
    model_set(&srv, "state.inputs", 0x4003);
    cr_assert_eq(rd8(IRQ_STATUS), 0x7);
    cr_assert_eq(vdev_client_mig_save(srv.cl, NULL, &stream, &len), 0);
    cr_assert_gt(len, 0);

    model_server_start(&dst, "gpio-pci-idio-16");
    int efd = model_eventfd();
    cr_assert_eq(vdev_client_set_irqs(dst.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &efd, NULL),
                 0);
    cr_assert_eq(vdev_client_mig_load(dst.cl, stream, len), 0);
    cr_assert_eq(vdev_client_mig_set_state(dst.cl, VFIO_DEVICE_STATE_RUNNING),
                 0);
    talloc_free(stream);
    cr_assert_eq(model_rd(&dst, BAR2, OUT0_7, 1), 0x5a);
    cr_assert_eq(model_rd(&dst, BAR2, OUT8_15, 1), 0x81);
    cr_assert_eq(model_rd(&dst, BAR2, IN0_7, 1), 0x03);
    cr_assert_eq(model_rd(&dst, BAR2, IN8_15, 1), 0x40);
    cr_assert_eq(model_rd(&dst, BAR2, IRQ_STATUS, 1), 0x7);
    cr_assert_eq(model_get(&dst, "state.inputs"), 0x4003);
    cr_assert_eq(model_get(&dst, "state.irq_enabled"), 1);
    /* the pending interrupt is asserted on the destination */
    cr_assert(model_fired(efd, 2000), "loaded pending IRQ not signalled");
    model_wr(&dst, BAR2, IN0_7, 1, 0);
    cr_assert_eq(model_rd(&dst, BAR2, IRQ_STATUS, 1), 0);
    cr_assert_eq(vdev_client_set_irqs(dst.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_NONE |
                                          VFIO_IRQ_SET_ACTION_UNMASK,
                                      0, 1, NULL, NULL),
                 0);
    model_set(&dst, "state.inputs", 0x4007);
    cr_assert(model_fired(efd, 2000), "destination stopped interrupting");
    cr_assert_eq(model_rd(&dst, BAR2, IRQ_STATUS, 1), 0x5);
    close(efd);
    model_server_stop(&dst);
}
