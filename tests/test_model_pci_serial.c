/* The 16550A UART model (models/pci-serial.vdev, QEMU's pci-serial
 * identity) with its line on a unix socket and a virtual clock: identity,
 * reset values, the DLAB banks and the IIR/FCR pair, receive trigger
 * levels and the character timeout to the nanosecond, the THRE interrupt,
 * transmission and back-pressure through the stream, loopback, the FIFO
 * resets, and received bytes with their timeout moving to a second server
 * by migration. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <talloc.h>
#include <unistd.h>

#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define CFG VFIO_PCI_CONFIG_REGION_INDEX
enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2 };
enum { LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
/* 8N1 at divisor 1: 10 bits of 1/115200 s; the timeout is 4 of them. */
#define CHAR_NS (10ull * 1000000000 / 115200)
#define CTI_NS (4 * CHAR_NS)

static const char *const args[] = {"--clock=virtual",
                                   "--stream=console=unix:%s/console", NULL};

static struct model_server srv;
static int line = -1; /* the host end of the serial line */
static int intx = -1; /* the INTx eventfd */

static int
connect_line(struct model_server *s)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert_geq(fd, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/console", s->dir);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s",
                 strerror(errno));
    return fd;
}

static void
setup(void)
{
    model_server_start_args(&srv, "bin/vdev-pci-serial", args);
    line = connect_line(&srv);
    intx = model_eventfd();
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &intx, NULL),
                 0);
}

static void
teardown(void)
{
    if (line >= 0)
        close(line);
    if (intx >= 0)
        close(intx);
    line = intx = -1;
    model_server_stop(&srv);
}

TestSuite(model_pci_serial, .init = setup, .fini = teardown, .timeout = 30);

static uint8_t
in(unsigned reg)
{
    return (uint8_t)model_rd(&srv, BAR0, reg, 1);
}

static void
out(unsigned reg, uint8_t v)
{
    model_wr(&srv, BAR0, reg, 1, v);
}

/* The INTx line rose since the last unmask (then unmasks again). */
static bool
fired(int ms)
{
    bool f = model_fired(intx, ms);

    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_NONE |
                                          VFIO_IRQ_SET_ACTION_UNMASK,
                                      0, 1, NULL, NULL),
                 0);
    return f;
}

static void
advance(uint64_t ns)
{
    char cmd[64], reply[256];

    snprintf(cmd, sizeof(cmd), "clock advance %llu", (unsigned long long)ns);
    cr_assert_eq(vdev_mgmt_client_command(srv.mgmt, cmd, reply, sizeof(reply)),
                 0, "%s: %s", cmd, reply);
}

static void
send_host(const char *s)
{
    cr_assert_eq(write(line, s, strlen(s)), (ssize_t)strlen(s));
}

/* Up to n bytes the device sent, waiting up to ms for them. */
static size_t
recv_host(char *buf, size_t n, int ms)
{
    struct pollfd p = {.fd = line, .events = POLLIN};
    size_t got = 0;

    while (got < n && poll(&p, 1, ms) == 1) {
        ssize_t r = read(line, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* Waits (real time: the server reads the socket on its loop) until the
 * register's bits under mask read want. */
static uint8_t
wait_reg(unsigned reg, uint8_t mask, uint8_t want)
{
    return (uint8_t)model_poll(&srv, BAR0, reg, 1, mask, want, 5000);
}

/* 8N1, divisor 1, FIFOs on with trigger code `trig` and empty. */
static void
line_setup(uint8_t trig)
{
    out(LCR, 0x83);
    out(DLL, 1);
    out(DLM, 0);
    out(LCR, 0x03);
    out(FCR, (uint8_t)(trig << 6 | 0x07));
    in(IIR);
    fired(0);
}

Test(model_pci_serial, identity_and_reset_values)
{
    static const uint8_t reset[8] = {0, 0, 0x01, 0, 0x08, 0x60, 0xb0, 0};

    cr_assert_eq(model_rd(&srv, CFG, PCI_VENDOR_ID, 2), 0x1b36);
    cr_assert_eq(model_rd(&srv, CFG, PCI_DEVICE_ID, 2), 0x0002);
    cr_assert_eq(model_rd(&srv, CFG, PCI_CLASS_REVISION, 4), 0x07000201);
    cr_assert_eq(model_rd(&srv, CFG, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
    cr_assert_eq(model_rd(&srv, CFG, PCI_SUBSYSTEM_ID, 2), 0x1100);
    cr_assert_eq(model_rd(&srv, CFG, PCI_INTERRUPT_PIN, 1), 1);
    cr_assert_eq(model_rd(&srv, CFG, PCI_BASE_ADDRESS_0, 4) & 1, 1, "I/O");
    for (unsigned r = 0; r < 8; r++)
        cr_assert_eq(in(r), reset[r], "register %u", r);
    out(LCR, 0x80);
    cr_assert_eq(in(DLL), 0x0c, "9600 baud");
    cr_assert_eq(in(DLM), 0);
}

/* DLL/DLM over RBR/THR/IER while LCR.DLAB; IIR reads where FCR writes. */
Test(model_pci_serial, banks)
{
    out(IER, 0x05);
    out(LCR, 0x83);
    out(DLL, 0x34);
    out(DLM, 0x12);
    cr_assert_eq(in(DLL), 0x34);
    cr_assert_eq(in(DLM), 0x12);
    cr_assert_eq(model_get(&srv, "dll"), 0x34);
    out(LCR, 0x03);
    cr_assert_eq(in(IER), 0x05, "IER kept under DLM");
    out(SCR, 0x5a);
    cr_assert_eq(in(SCR), 0x5a);
    cr_assert_eq(in(IIR), 0x01, "FIFOs off");
    out(FCR, 0x01);
    cr_assert_eq(in(IIR), 0xc1, "FIFOs on: IIR bits 7:6");
    cr_assert_eq(model_get(&srv, "fcr"), 0x01);
    out(FCR, 0xc7);
    cr_assert_eq(model_get(&srv, "fcr"), 0xc1, "reset bits do not stay");
    cr_assert_eq(model_get(&srv, "state.rx_trigger"), 14);
}

/* Below the trigger level nothing is pending until 4 character times
 * pass without FIFO activity; then the timeout; a read restarts it. */
Test(model_pci_serial, trigger_and_character_timeout)
{
    char c;

    line_setup(2); /* 8 bytes */
    out(IER, 0x01);
    send_host("ABCDEFG");
    wait_reg(LSR, 0x01, 0x01);
    cr_assert_eq(in(IIR), 0xc1, "7 < 8: nothing yet");
    cr_assert(!fired(20));
    advance(CTI_NS - 1);
    cr_assert_eq(in(IIR), 0xc1, "1 ns before the timeout");
    advance(1);
    cr_assert(fired(1000), "the timeout interrupts");
    cr_assert_eq(in(IIR), 0xcc);
    c = (char)in(RBR);
    cr_assert_eq(c, 'A');
    cr_assert_eq(in(IIR), 0xc1, "a read clears it");
    advance(CTI_NS);
    cr_assert_eq(in(IIR), 0xcc, "and starts it over");
    for (const char *p = "BCDEFG"; *p; p++)
        cr_assert_eq(in(RBR), (uint8_t)*p);
    cr_assert_eq(in(LSR)&1, 0);
    cr_assert_eq(in(IIR), 0xc1);
    advance(10 * CTI_NS);
    cr_assert_eq(in(IIR), 0xc1, "an empty FIFO times out never");
    fired(0);
    /* Eight bytes: received data available at once. */
    send_host("12345678");
    wait_reg(IIR, 0xff, 0xc4);
    cr_assert(fired(1000));
    cr_assert_eq(in(RBR), '1');
    cr_assert_eq(in(IIR), 0xc1, "7 left: below the level");
}

/* Every trigger level, and 16450 mode (FIFOs off: every byte). */
Test(model_pci_serial, trigger_levels)
{
    static const unsigned level[4] = {1, 4, 8, 14};
    static const char data[] = "abcdefghijklmn";

    for (unsigned code = 0; code < 4; code++) {
        char buf[16];

        line_setup((uint8_t)code);
        out(IER, 0x01);
        memcpy(buf, data, level[code] - 1);
        buf[level[code] - 1] = '\0';
        if (level[code] > 1) {
            send_host(buf);
            wait_reg(LSR, 0x01, 0x01);
            cr_assert_eq(in(IIR), 0xc1, "level %u: %u bytes", level[code],
                         level[code] - 1);
        }
        send_host("z");
        wait_reg(IIR, 0xff, 0xc4);
        out(FCR, (uint8_t)(code << 6 | 0x03));
        cr_assert_eq(in(LSR)&1, 0, "receive FIFO reset");
        cr_assert_eq(in(IIR), 0xc1);
    }
    out(FCR, 0);
    out(IER, 0x01);
    send_host("x");
    wait_reg(IIR, 0xff, 0x04);
    cr_assert_eq(in(RBR), 'x');
    cr_assert_eq(in(IIR), 0x01);
}

/* THRE: enabling it with the FIFO empty interrupts at once; reading IIR
 * acknowledges it; the FIFO going out to the host raises it again. */
Test(model_pci_serial, transmit_and_thre)
{
    char buf[16] = "";

    line_setup(0);
    out(IER, 0x02);
    cr_assert(fired(1000));
    cr_assert_eq(in(IIR), 0xc2);
    cr_assert_eq(in(IIR), 0xc1, "acknowledged by the read");
    for (const char *p = "hello"; *p; p++)
        out(THR, (uint8_t)*p);
    cr_assert_eq(recv_host(buf, 5, 2000), 5);
    cr_assert_str_eq(buf, "hello");
    cr_assert_eq(wait_reg(LSR, 0x60, 0x60) & 0x60, 0x60, "THRE, TEMT");
    cr_assert(fired(1000));
    cr_assert_eq(in(IIR), 0xc2);
}

/* A host that sends more than the FIFO holds waits: every byte arrives,
 * in order, as the guest reads. */
Test(model_pci_serial, back_pressure)
{
    char want[200], got[200];
    unsigned n = 0;

    line_setup(3);
    for (unsigned i = 0; i < sizeof(want); i++)
        want[i] = (char)('!' + i % 90);
    cr_assert_eq(write(line, want, sizeof(want)), (ssize_t)sizeof(want));
    for (int tries = 0; n < sizeof(got) && tries < 5000; tries++) {
        if (!(in(LSR)&1)) {
            usleep(1000);
            continue;
        }
        got[n++] = (char)in(RBR);
    }
    cr_assert_eq(n, sizeof(got));
    cr_assert_eq(memcmp(want, got, sizeof(got)), 0);
}

/* Loopback: what is sent is received, MSR shows MCR's outputs, nothing
 * reaches the host. */
Test(model_pci_serial, loopback)
{
    char buf[4];

    line_setup(0);
    out(MCR, 0x1f);
    cr_assert_eq(in(MSR), 0xf0);
    out(MCR, 0x11);
    cr_assert_eq(in(MSR), 0x20, "DTR -> DSR");
    out(THR, 'L');
    cr_assert_eq(in(LSR)&1, 1);
    cr_assert_eq(in(RBR), 'L');
    out(MCR, 0x08);
    cr_assert_eq(in(MSR), 0xb0);
    cr_assert_eq(recv_host(buf, 1, 100), 0);
}

/* Received bytes and their running timeout move to a second server. */
Test(model_pci_serial, fifo_and_timeout_migrate)
{
    struct model_server dst = {0};
    void *ctx = talloc_new(NULL);
    uint8_t *stream;
    size_t len;

    line_setup(3);
    out(IER, 0x01);
    send_host("mig");
    wait_reg(LSR, 0x01, 0x01);
    advance(CTI_NS / 2);
    cr_assert_eq(vdev_client_mig_save(srv.cl, ctx, &stream, &len), 0);
    model_server_start_args(&dst, "bin/vdev-pci-serial", args);
    cr_assert_eq(vdev_client_mig_load(dst.cl, stream, len), 0);
    cr_assert_eq(vdev_client_mig_set_state(dst.cl, VFIO_DEVICE_STATE_RUNNING),
                 0);
    cr_assert_eq(model_rd(&dst, BAR0, IIR, 1), 0xc1);
    char cmd[64], reply[256];
    snprintf(cmd, sizeof(cmd), "clock advance %llu",
             (unsigned long long)(CTI_NS - CTI_NS / 2));
    cr_assert_eq(vdev_mgmt_client_command(dst.mgmt, cmd, reply, sizeof(reply)),
                 0);
    cr_assert_eq(model_rd(&dst, BAR0, IIR, 1), 0xcc, "the timeout came along");
    for (const char *p = "mig"; *p; p++)
        cr_assert_eq(model_rd(&dst, BAR0, RBR, 1), (uint8_t)*p);
    model_server_stop(&dst);
    talloc_free(ctx);
}
