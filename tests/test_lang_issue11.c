/* The language reference's examples of procs and loops, banks, index/data
 * arrays, config-space registers (extended space too), a device's life (init,
 * reset, sticky state, self-reset, access width) and procs with streams, run:
 * each golden .c built into a server (build/tests/vdev-lang-NN-NAME) and driven
 * over vfio-user as a guest would. */
#include <criterion/criterion.h>
#include <linux/pci_regs.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define CONFIG VFIO_PCI_CONFIG_REGION_INDEX

static struct model_server srv;

static void
teardown(void)
{
    model_server_stop(&srv);
}

static uint64_t
rd(uint64_t off, unsigned width)
{
    return model_rd(&srv, BAR0, off, width);
}

static void
wr(uint64_t off, unsigned width, uint64_t v)
{
    model_wr(&srv, BAR0, off, width, v);
}

/* ------------------------------------------------------------ procs */

static void
start_procs(void)
{
    model_server_start_prog(&srv, "tests/vdev-lang-20-procs");
}

TestSuite(lang_procs, .init = start_procs, .fini = teardown, .timeout = 30);

/* A write runs popcount() (a loop with a bound from its argument) and
 * fold() (a proc that also counts its calls in a variable). */
Test(lang_procs, calls_and_loops)
{
    static const uint32_t v[] = {0, 1, 0xffffffffu, 0x80000001u, 0x12345678u};
    for (unsigned i = 0; i < 5; i++) {
        wr(0x0, 4, v[i]);
        unsigned sum =
            (v[i] + (v[i] >> 8) + (v[i] >> 16) + (v[i] >> 24)) & 0xff;
        cr_assert_eq(rd(0x4, 1), (unsigned)__builtin_popcount(v[i]),
                     "ones(0x%x)", v[i]);
        cr_assert_eq(rd(0x5, 1), sum, "sum(0x%x)", v[i]);
    }
    cr_assert_eq(model_get(&srv, "state.checks"), 5);
}

/* find's read hook: continue past other entries, break at the first
 * equal one; 0xff when none is. */
Test(lang_procs, break_and_continue)
{
    for (unsigned i = 0; i < 8; i++)
        wr(0x10 + 4 * i, 4, 100 + i % 4);
    wr(0x0, 4, 102);
    cr_assert_eq(rd(0x8, 1), 2);
    wr(0x0, 4, 103);
    cr_assert_eq(rd(0x8, 1), 3);
    wr(0x0, 4, 7);
    cr_assert_eq(rd(0x8, 1), 0xff);
}

/* ------------------------------------------------------------ banks */

static void
start_banks(void)
{
    model_server_start_prog(&srv, "tests/vdev-lang-21-banks");
}

TestSuite(lang_banks, .init = start_banks, .fini = teardown, .timeout = 30);

#define RBR 0x0
#define IER 0x1
#define IIR 0x2
#define LCR 0x3
#define LSR 0x5
#define DLAB 0x80

/* With DLAB clear, offset 0 is the loopback transmit/receive pair and
 * offset 1 the interrupt enable; with it set, the divisor. */
Test(lang_banks, dlab_selects)
{
    cr_assert_eq(rd(LCR, 1), 0x03, "lcr reset");
    cr_assert_eq(rd(RBR, 1), 0, "rbr before anything was sent");
    wr(RBR, 1, 0x41); /* thr */
    cr_assert_eq(rd(LSR, 1), 0x21, "data ready");
    cr_assert_eq(rd(RBR, 1), 0x41, "rbr");
    cr_assert_eq(rd(LSR, 1), 0x20, "reading rbr cleared data ready");
    wr(IER, 1, 0x05);
    wr(LCR, 1, DLAB | 0x03);
    cr_assert_eq(rd(RBR, 1), 0x0c, "dll reset value");
    cr_assert_eq(rd(IER, 1), 0x00, "dlm");
    wr(RBR, 1, 0x01);
    wr(IER, 1, 0x02);
    cr_assert_eq(rd(RBR, 1), 0x01);
    cr_assert_eq(rd(IER, 1), 0x02);
    cr_assert_eq(model_get(&srv, "rbr"), 0x41, "dll writes miss rbr");
    wr(LCR, 1, 0x03);
    cr_assert_eq(rd(IER, 1), 0x05, "ier kept while the divisor showed");
    cr_assert_eq(rd(RBR, 1), 0x41, "rbr kept");
    cr_assert_eq(model_get(&srv, "dll"), 0x01);
    cr_assert_eq(model_get(&srv, "dlm"), 0x02);
}

/* IIR (read-only) and FCR (write-only) share offset 2. */
Test(lang_banks, ro_wo_pair)
{
    cr_assert_eq(rd(IIR, 1), 0x01);
    wr(IIR, 1, 0x01); /* fcr: FIFOs on */
    cr_assert_eq(rd(IIR, 1), 0xc1);
    cr_assert_eq(model_get(&srv, "fcr"), 0x01);
    wr(IIR, 1, 0x00);
    cr_assert_eq(rd(IIR, 1), 0x01);
}

/* A 16-bit access at offset 0 covers two banked places at once. */
Test(lang_banks, access_across_banks)
{
    wr(LCR, 1, DLAB | 0x03);
    wr(0x0, 2, 0x0203);
    cr_assert_eq(model_get(&srv, "dll"), 0x03);
    cr_assert_eq(model_get(&srv, "dlm"), 0x02);
    cr_assert_eq(rd(0x0, 2), 0x0203);
}

/* ------------------------------------------------------------ index/data */

static void
start_indexed(void)
{
    model_server_start_prog(&srv, "tests/vdev-lang-22-index-data");
}

TestSuite(lang_indexed, .init = start_indexed, .fini = teardown, .timeout = 30);

Test(lang_indexed, select_picks_the_element)
{
    for (unsigned i = 0; i < 16; i++) {
        wr(0x0, 1, i);
        wr(0x4, 4, 0x1000 + i);
        cr_assert_eq(rd(0x8, 1), i, "the hook's index");
    }
    for (unsigned i = 16; i-- > 0;) {
        wr(0x0, 1, i | 0xf0); /* the index is sel & 0xf */
        cr_assert_eq(rd(0x4, 4), 0x1000 + i, "data[%u]", i);
    }
}

/* ------------------------------------------------------------ config */

static void
start_config(void)
{
    model_server_start_prog(&srv, "tests/vdev-lang-23-config");
}

TestSuite(lang_config, .init = start_config, .fini = teardown, .timeout = 30);

static uint64_t
cfg_rd(uint32_t off, unsigned width)
{
    uint64_t v = 0;
    cr_assert_eq(vdev_client_config_read(srv.cl, off, &v, width), 0,
                 "config read 0x%x", off);
    return v;
}

static void
cfg_wr(uint32_t off, unsigned width, uint64_t v)
{
    cr_assert_eq(vdev_client_config_write(srv.cl, off, &v, width), 0,
                 "config write 0x%x", off);
}

/* Capabilities sit around the registers: PM after scratch at 0x40. */
Test(lang_config, capabilities_around_registers)
{
    cr_assert_eq(cfg_rd(PCI_CAPABILITY_LIST, 1), 0x44);
    cr_assert_eq(model_find_cap(&srv, PCI_CAP_ID_PM), 0x44);
    cr_assert_eq(model_find_cap(&srv, PCI_CAP_ID_MSI), 0x4c);
}

/* Config registers at any width and alignment, hooks included. */
Test(lang_config, registers)
{
    cfg_wr(0x40, 4, 0x11223344);
    cr_assert_eq(cfg_rd(0x40, 4), 0x11223344);
    cr_assert_eq(cfg_rd(0x42, 2), 0x1122);
    cfg_wr(0x41, 1, 0xaa);
    cr_assert_eq(model_get(&srv, "scratch"), 0x1122aa44);
    cfg_wr(0x60, 2, 0xffff);
    cr_assert_eq(cfg_rd(0x60, 2), 0x24, "reserved bits read 0");
    cfg_wr(0x68, 1, 0x06);
    cr_assert_eq(cfg_rd(0x68, 1), 0x06);
    cfg_wr(0x68, 1, 0x01); /* lock: enable and free_run keep their bits */
    cr_assert_eq(cfg_rd(0x68, 1), 0x07);
    cfg_wr(0x68, 1, 0x00);
    cr_assert_eq(cfg_rd(0x68, 1), 0x07, "locked");
    cr_assert_eq(vdev_client_reset(srv.cl), 0);
    cr_assert_eq(cfg_rd(0x68, 1), 0x00, "a reset unlocks");
    cr_assert_eq(cfg_rd(0x40, 4), 0);
}

/* Extended config space (26-config-ext): the serial number heads the
 * extended list at 0x100, the registers beyond it answer config accesses,
 * the last dword of the 4 KiB included. */
static void
start_config_ext(void)
{
    model_server_start_prog(&srv, "tests/vdev-lang-26-config-ext");
}

TestSuite(lang_config_ext, .init = start_config_ext, .fini = teardown,
          .timeout = 30);

Test(lang_config_ext, registers_past_0x100)
{
    uint64_t hdr = cfg_rd(0x100, 4);
    cr_assert_eq(PCI_EXT_CAP_ID(hdr), PCI_EXT_CAP_ID_DSN, "0x100: %08llx",
                 (unsigned long long)hdr);
    cr_assert_eq(PCI_EXT_CAP_NEXT(hdr), 0, "the only extended capability");
    cr_assert_eq(cfg_rd(0x104, 4), 0x05060708);
    cr_assert_eq(cfg_rd(0x200, 4), 0x4, "mode resets to 2");
    cfg_wr(0x200, 4, 0xffffffff);
    cr_assert_eq(cfg_rd(0x200, 4), 0xf, "only the fields' bits");
    cr_assert_eq(cfg_rd(0x204, 4), 0x5a);
    cfg_wr(0x204, 4, 0);
    cr_assert_eq(cfg_rd(0x204, 4), 0x5a, "ro");
    cfg_wr(0xffc, 4, 0x1234);
    cr_assert_eq(cfg_rd(0xffc, 4), 0x1234);
    cr_assert_eq(cfg_rd(0x204, 4), 0x34, "the mailbox hook ran");
    cr_assert_eq(cfg_rd(0xffe, 2), 0, "a narrow read of the last dword");
    cr_assert_eq(model_get(&srv, "ext_ctrl.mode"), 7);
    cr_assert_eq(vdev_client_reset(srv.cl), 0);
    cr_assert_eq(cfg_rd(0x200, 4), 0x4);
    cr_assert_eq(cfg_rd(0x204, 4), 0x5a);
}

/* ------------------------------------------------------------ lifecycle */

static void
start_lifecycle(void)
{
    model_server_start_prog(&srv, "tests/vdev-lang-24-lifecycle");
}

TestSuite(lang_lifecycle, .init = start_lifecycle, .fini = teardown,
          .timeout = 30);

#define MAGIC 0x0
#define COUNT 0x4
#define SCRATCH 0x8
#define CTRL 0xc
#define PROBE 0x10
#define SEEN 0x14

Test(lang_lifecycle, init_reset_sticky)
{
    cr_assert_eq(rd(MAGIC, 4), 0x1d1e, "on init ran");
    cr_assert_eq(rd(COUNT, 2), 0);
    wr(SCRATCH, 4, 0x55aa);
    wr(CTRL, 4, 0x5a);
    cr_assert_eq(vdev_client_reset(srv.cl), 0);
    cr_assert_eq(rd(COUNT, 2), 1, "on reset ran");
    cr_assert_eq(model_get(&srv, "state.resets"), 1, "a sticky variable");
    cr_assert_eq(rd(SCRATCH, 4), 0, "scratch reset");
    cr_assert_eq(rd(CTRL, 4), 0x5a, "ctrl.keep is sticky");
    cr_assert_eq(rd(MAGIC, 4), 0x1d1e);
    cr_assert_eq(vdev_client_reset(srv.cl), 0);
    cr_assert_eq(rd(COUNT, 2), 2);
}

/* Writing ctrl.reset resets the device once the access is done. */
Test(lang_lifecycle, self_reset)
{
    wr(SCRATCH, 4, 1);
    wr(CTRL, 4, 0x80000011u);
    cr_assert_eq(rd(COUNT, 2), 1, "the device reset itself");
    cr_assert_eq(rd(SCRATCH, 4), 0);
    cr_assert_eq(rd(CTRL, 4), 0x11, "keep survived, reset reads 0");
    wr(CTRL, 4, 0x22);
    cr_assert_eq(rd(COUNT, 2), 1, "writing 0 to ctrl.reset does nothing");
}

/* `width`: the client's access size in bits. */
Test(lang_lifecycle, access_width)
{
    static const unsigned w[] = {1, 2, 4};
    for (unsigned i = 0; i < 3; i++) {
        wr(PROBE, w[i], 0);
        cr_assert_eq(rd(SEEN, 4), 8 * w[i]);
        (void)rd(PROBE, w[i]);
        cr_assert_eq(rd(SEEN, 4), 8 * w[i]);
    }
    /* An 8-byte read covering probe and seen: probe's hook sees 64. */
    (void)rd(PROBE, 8);
    cr_assert_eq(rd(SEEN, 4), 64);
}

/* ------------------------------------------------------------ procs, host */

#define B_DATA 0x0
#define B_REPEAT 0x4
#define B_CTRL 0x8
#define B_EVERY 2u
#define B_RESET 0x80000000u
#define B_COUNT 0xc
#define B_SUM 0x10
#define B_FIRST 0x14

/* Up to want bytes the server sent on the stream, within 5 s. */
static size_t
stream_read(int fd, char *buf, size_t want)
{
    size_t n = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (n < want && poll(&p, 1, 5000) == 1) {
        ssize_t r = read(fd, buf + n, want - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return n;
}

/* A proc pushes to the stream's tx, from a register hook and from a
 * timer: the host receives the bytes (the callers kicked the stream). A
 * reset empties the FIFO the proc fills while the sticky total stays. */
Test(lang_procs_host, proc_feeds_a_stream, .timeout = 30)
{
    static const char *const args[] = {"--stream=serial=unix:%s/serial",
                                       "--clock=virtual", NULL};
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char got[8], reply[256];

    model_server_start_args(&srv, "tests/vdev-lang-25-procs-host", args);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/serial", srv.dir);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

    wr(B_DATA, 1, 'h');
    wr(B_DATA, 1, 'i');
    cr_assert_eq(stream_read(fd, got, 2), 2);
    cr_expect_eq(memcmp(got, "hi", 2), 0);
    cr_expect_eq(rd(B_COUNT, 1), 2);
    cr_expect_eq(rd(B_FIRST, 1), 'h');

    wr(B_REPEAT, 1, '!');
    wr(B_CTRL, 4, B_EVERY);
    cr_assert_eq(vdev_mgmt_client_command(srv.mgmt, "clock advance 1ms", reply,
                                          sizeof(reply)),
                 0, "%s", reply);
    cr_assert_eq(stream_read(fd, got, 1), 1, "the timer's proc call");
    cr_expect_eq(got[0], '!');
    cr_expect_eq(rd(B_SUM, 4), 3);
    cr_expect_eq(rd(B_COUNT, 1), 2);

    wr(B_CTRL, 4, B_RESET);
    cr_expect_eq(rd(B_COUNT, 1), 0, "the reset emptied sent");
    cr_expect_eq(rd(B_SUM, 4), 3, "total is sticky");
    cr_assert_eq(vdev_mgmt_client_command(srv.mgmt, "clock advance 5ms", reply,
                                          sizeof(reply)),
                 0, "%s", reply);
    cr_expect(strstr(reply, "fired=0") != NULL,
              "the reset stopped the "
              "timer: %s",
              reply);
    cr_expect_eq(rd(B_SUM, 4), 3);
    close(fd);
    model_server_stop(&srv);
}
