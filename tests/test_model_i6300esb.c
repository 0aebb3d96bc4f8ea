/* The Intel 6300ESB watchdog model (models/i6300esb.vdev) on a virtual
 * clock: identity, config registers, the unlock sequence and its width
 * rules, both stages to the nanosecond at either tick rate, pings, the
 * events the host sees, the self-reset that keeps only the timeout flag,
 * the lock, free-running mode and the reset output turned off. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define CFG VFIO_PCI_CONFIG_REGION_INDEX
#define TIMER1 0x0
#define TIMER2 0x4
#define GINTSR 0x8
#define RELOAD 0xc
#define CONFIG 0x60
#define LOCK 0x68
/* Nanoseconds per tick: 2^15 (1 kHz) or 2^5 (1 MHz) cycles of 33 MHz. */
#define KHZ_NS(t) (((uint64_t)(t) << 15) * 1000 / 33)
#define MHZ_NS(t) (((uint64_t)(t) << 5) * 1000 / 33)

static struct model_server srv;
static int events = -1; /* a management connection subscribed to events */

static void
setup(void)
{
    static const char *const virt[] = {"--clock=virtual", NULL};
    char r[128];

    model_server_start_args(&srv, "bin/vdev-i6300esb", virt);
    events = vdev_mgmt_client_open(srv.mgmt);
    cr_assert_geq(events, 0);
    cr_assert_eq(vdev_mgmt_client_exchange(events, "events", r, sizeof(r)), 0);
}

static void
teardown(void)
{
    if (events >= 0)
        close(events);
    events = -1;
    model_server_stop(&srv);
}

TestSuite(model_i6300esb, .init = setup, .fini = teardown, .timeout = 30);

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

static uint64_t
cfg_rd(uint64_t off, unsigned width)
{
    return model_rd(&srv, CFG, off, width);
}

static void
cfg_wr(uint64_t off, unsigned width, uint64_t v)
{
    model_wr(&srv, CFG, off, width, v);
}

static void
unlock(unsigned width)
{
    wr(RELOAD, width, 0x80);
    wr(RELOAD, width, 0x86);
}

static void
advance(uint64_t ns)
{
    char line[64], reply[256];

    snprintf(line, sizeof(line), "clock advance %llu", (unsigned long long)ns);
    cr_assert_eq(vdev_mgmt_client_command(srv.mgmt, line, reply, sizeof(reply)),
                 0, "%s: %s", line, reply);
}

/* The next event line's name (it must come within a second). */
static const char *
next_event(char *buf, size_t len)
{
    char line[256];
    unsigned long long t;

    cr_assert_eq(vdev_mgmt_client_next_line(events, line, sizeof(line), 1000),
                 0, "no event");
    cr_assert_eq(sscanf(line, "event %63s %llu", buf, &t), 2, "%s", line);
    (void)len;
    return buf;
}

static void
no_event(void)
{
    char line[256];

    cr_assert_eq(vdev_mgmt_client_next_line(events, line, sizeof(line), 50),
                 -ETIMEDOUT, "unexpected: %s", line);
}

static void
preload(uint32_t t1, uint32_t t2)
{
    unlock(1);
    wr(TIMER1, 4, t1);
    unlock(1);
    wr(TIMER2, 4, t2);
}

Test(model_i6300esb, identity_and_reset_values)
{
    cr_assert_eq(cfg_rd(PCI_VENDOR_ID, 2), 0x8086);
    cr_assert_eq(cfg_rd(PCI_DEVICE_ID, 2), 0x25ab);
    cr_assert_eq(cfg_rd(PCI_CLASS_REVISION, 4) >> 8, 0x088000);
    cr_assert_eq(cfg_rd(CONFIG, 2), 0);
    cr_assert_eq(cfg_rd(LOCK, 1), 0);
    cr_assert_eq(model_get(&srv, "timer1"), 0xfffff);
    cr_assert_eq(model_get(&srv, "timer2"), 0xfffff);
    cr_assert_eq(rd(TIMER1, 4), 0, "the preloads read 0");
    cr_assert_eq(rd(RELOAD, 2), 0);
    cr_assert_eq(model_get(&srv, "state.stage"), 1);
}

/* Preloads take a 32-bit write after 0x80, 0x86 at 0xc; a 16-bit write
 * spends the unlock, a byte write leaves it; only 20 bits count. */
Test(model_i6300esb, unlock_by_width)
{
    wr(TIMER1, 4, 5);
    cr_assert_eq(model_get(&srv, "timer1"), 0xfffff, "locked");
    unlock(1);
    wr(TIMER1, 1, 5);
    cr_assert_eq(model_get(&srv, "timer1"), 0xfffff, "a byte write");
    wr(TIMER1, 4, 0xabcdef12);
    cr_assert_eq(model_get(&srv, "timer1"), 0xdef12, "still unlocked: 20 bits");
    wr(TIMER1, 4, 7);
    cr_assert_eq(model_get(&srv, "timer1"), 0xdef12, "one write per unlock");
    unlock(2);
    wr(TIMER2, 2, 9);
    wr(TIMER2, 4, 9);
    cr_assert_eq(model_get(&srv, "timer2"), 0xfffff, "a word write spent it");
    unlock(4);
    wr(TIMER2, 4, 9);
    cr_assert_eq(model_get(&srv, "timer2"), 9, "dword unlock");
    wr(RELOAD, 2, 0x86);
    wr(TIMER1, 4, 3);
    cr_assert_eq(model_get(&srv, "timer1"), 0xdef12, "0x86 alone unlocks not");
}

/* Enabled: timer 1 runs out, raising GINTSR, then timer 2: the host hears
 * of it, the device resets itself and keeps the timeout flag. */
Test(model_i6300esb, two_stages_and_self_reset)
{
    char ev[64];

    preload(100, 200);
    cfg_wr(CONFIG, 2, 0x0000); /* reset output on, 1 kHz, IRQ */
    cfg_wr(LOCK, 1, 0x02);
    cr_assert_eq(cfg_rd(LOCK, 1), 0x02);
    advance(KHZ_NS(100) - 1);
    cr_assert_eq(model_get(&srv, "state.stage"), 1);
    cr_assert_eq(rd(GINTSR, 4), 0);
    advance(1);
    cr_assert_eq(model_get(&srv, "state.stage"), 2);
    cr_assert_eq(rd(GINTSR, 4), 1, "timer 1 out: interrupt status");
    wr(GINTSR, 4, 1);
    cr_assert_eq(rd(GINTSR, 4), 0, "w1c");
    no_event();
    advance(KHZ_NS(200) - 1);
    no_event();
    advance(1);
    cr_assert_str_eq(next_event(ev, sizeof(ev)), "expired");
    cr_assert_str_eq(next_event(ev, sizeof(ev)), "reset_requested");
    /* The reset: config, lock, preloads back to their reset values. */
    cr_assert_eq(cfg_rd(LOCK, 1), 0);
    cr_assert_eq(model_get(&srv, "timer1"), 0xfffff);
    cr_assert_eq(model_get(&srv, "state.timed_out"), 1, "sticky");
    cr_assert_eq(rd(RELOAD, 2), 0x1200, "bits 9 and 12 read as a word");
    cr_assert_eq(rd(RELOAD, 1), 0, "not as a byte");
    cr_assert_eq(rd(RELOAD, 4), 0, "not as a dword");
    advance(KHZ_NS(0xfffff) * 3);
    no_event();
    /* The flag clears with 0x200 after an unlock, as a word. */
    unlock(1);
    wr(RELOAD, 1, 0x00);
    unlock(1);
    wr(RELOAD, 2, 0x200);
    cr_assert_eq(rd(RELOAD, 2), 0);
    cr_assert_eq(model_get(&srv, "state.timed_out"), 0);
}

/* 0x100 after an unlock reloads timer 1: pinged in time, it never fires. */
Test(model_i6300esb, pings_keep_it_quiet)
{
    preload(10, 10);
    cfg_wr(LOCK, 1, 0x02);
    for (int i = 0; i < 5; i++) {
        advance(KHZ_NS(10) + KHZ_NS(10) / 2); /* into stage 2 */
        cr_assert_eq(model_get(&srv, "state.stage"), 2);
        unlock(1);
        wr(RELOAD, 2, 0x100);
        cr_assert_eq(model_get(&srv, "state.stage"), 1);
    }
    no_event();
    /* A byte write of 0x100's low byte is no ping. */
    advance(KHZ_NS(10) + KHZ_NS(10) / 2);
    unlock(1);
    wr(RELOAD, 1, 0x00);
    advance(KHZ_NS(10));
    char ev[64];
    cr_assert_str_eq(next_event(ev, sizeof(ev)), "expired");
}

/* 1 MHz ticks; output off: an expiry but no reset; free-running: timer 1
 * starts over. */
Test(model_i6300esb, fast_ticks_no_output_free_run)
{
    char ev[64];

    preload(1000, 2000);
    cfg_wr(CONFIG, 2, 0x0024); /* output off, 1 MHz */
    cfg_wr(LOCK, 1, 0x06);     /* free run, enable */
    advance(MHZ_NS(1000) + MHZ_NS(2000));
    cr_assert_str_eq(next_event(ev, sizeof(ev)), "expired");
    no_event();
    cr_assert_eq(model_get(&srv, "state.timed_out"), 0);
    cr_assert_eq(cfg_rd(LOCK, 1), 0x06, "no reset");
    cr_assert_eq(model_get(&srv, "state.stage"), 1, "timer 1 again");
    advance(MHZ_NS(1000) + MHZ_NS(2000));
    cr_assert_str_eq(next_event(ev, sizeof(ev)), "expired");
    cfg_wr(LOCK, 1, 0x00);
    advance(MHZ_NS(5000));
    no_event();
}

/* Locked, the lock register ignores writes until a reset: the watchdog
 * cannot be stopped. */
Test(model_i6300esb, locked)
{
    char ev[64];

    preload(1, 1);
    cfg_wr(LOCK, 1, 0x03);
    cfg_wr(LOCK, 1, 0x00);
    cr_assert_eq(cfg_rd(LOCK, 1), 0x03);
    advance(KHZ_NS(2));
    cr_assert_str_eq(next_event(ev, sizeof(ev)), "expired");
    cr_assert_str_eq(next_event(ev, sizeof(ev)), "reset_requested");
    cr_assert_eq(cfg_rd(LOCK, 1), 0, "the reset unlocked it");
}
