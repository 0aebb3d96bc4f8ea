/* Config-space windows served by device code (device/pci_window.c) and a
 * device resetting itself (vdev_request_reset): windows are refused over
 * the header, capabilities and each other, capabilities are placed around
 * them, accesses across a window edge are split there with the width the
 * guest used, and a reset asked for inside a callback runs once the
 * callback returned, keeping sticky state. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <talloc.h>

#include "device/device.h"
#include "hostdev.h"
#include "migration/migration.h"

static void
quiet(void *opaque, enum vdev_log_level level, const char *msg)
{
}

static struct vdev_dev *
bare_dev(void)
{
    static const struct vdev_pci_ident id = {.vendor_id = 0x1b36,
                                             .device_id = 0x11f2};
    struct vdev_dev *dev = vdev_dev_create(NULL, "cfgwin", &id);

    cr_assert_not_null(dev);
    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    return dev;
}

/* A window that logs what it sees. */
struct seen {
    uint64_t off[8];
    uint32_t count[8];
    unsigned n;
    uint8_t bytes[VDEV_CONFIG_SIZE];
};

static int
log_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
           uint32_t count, bool is_write)
{
    struct seen *s = opaque;

    if (s->n < 8) {
        s->off[s->n] = offset;
        s->count[s->n] = count;
    }
    s->n++;
    if (is_write)
        memcpy(s->bytes + offset, buf, count);
    else
        memcpy(buf, s->bytes + offset, count);
    return 0;
}

static int
cfg_rw(struct vdev_dev *dev, unsigned off, void *buf, unsigned len, bool wr)
{
    return vdev_region_access(dev, VDEV_CONFIG_INDEX, off, buf, len, wr);
}

Test(cfgwin, refused_over_header_caps_and_other_windows)
{
    struct vdev_dev *dev = bare_dev();
    struct seen s = {0};
    int msi;

    cr_assert_eq(vdev_config_add(dev, 0x3c, 8, log_access, &s), -EBUSY);
    cr_assert_eq(vdev_config_add(dev, 0x40, 0, log_access, &s), -EINVAL);
    cr_assert_eq(vdev_config_add(dev, 0xffc, 8, log_access, &s), -EINVAL);
    cr_assert_eq(vdev_config_add(dev, 0x40, 4, NULL, &s), -EINVAL);
    msi = vdev_cap_msi(dev, 0x40, 1, true, false);
    cr_assert_eq(msi, 0x40);
    cr_assert_eq(vdev_config_add(dev, 0x48, 4, log_access, &s), -EBUSY,
                 "over MSI");
    cr_assert_eq(vdev_config_add(dev, 0x50, 0x10, log_access, &s), 0);
    cr_assert_eq(vdev_config_add(dev, 0x5c, 8, log_access, &s), -EBUSY);
    cr_assert_eq(vdev_config_add(dev, 0x60, 4, log_access, &s), 0);
    /* a fixed capability over a window */
    cr_assert_eq(vdev_cap_pm(dev, 0x50), -EBUSY);
    /* an automatic one goes around both: 0x50..0x63 are taken */
    cr_assert_eq(vdev_cap_pm(dev, 0), 0x64);
    /* extended space: a window at 0x100 leaves no room for the list head */
    cr_assert_eq(vdev_config_add(dev, 0x100, 4, log_access, &s), 0);
    cr_assert_eq(vdev_ext_cap_dsn(dev, 0, 1), -EBUSY);
    for (unsigned i = 3; i < VDEV_MAX_CONFIG_WINDOWS; i++)
        cr_assert_eq(
            vdev_config_add(dev, (uint16_t)(0x200 + 4 * i), 4, log_access, &s),
            0, "window %u", i);
    cr_assert_eq(vdev_config_add(dev, 0xf00, 4, log_access, &s), -ENOSPC);
    talloc_free(dev);
}

Test(cfgwin, accesses_split_at_window_edges)
{
    struct vdev_dev *dev = bare_dev();
    struct seen s = {0};
    uint8_t buf[16];
    uint32_t v;

    cr_assert_eq(vdev_config_add(dev, 0x44, 4, log_access, &s), 0);
    cr_assert_eq(vdev_config_add(dev, 0x4a, 2, log_access, &s), 0);
    memcpy(s.bytes + 0x44, "\x11\x22\x33\x44", 4);
    /* a 4-byte read at the window: one callback, width 4 */
    cr_assert_eq(cfg_rw(dev, 0x44, &v, 4, false), 0);
    cr_assert_eq(v, 0x44332211);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.off[0], 0x44);
    cr_assert_eq(s.count[0], 4);
    /* 16 bytes from 0x40: runtime bytes, window, runtime, window, runtime */
    s.n = 0;
    memset(buf, 0xee, sizeof(buf));
    cr_assert_eq(cfg_rw(dev, 0x40, buf, 16, false), 0);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.off[0], 0x44);
    cr_assert_eq(s.count[0], 4);
    cr_assert_eq(s.off[1], 0x4a);
    cr_assert_eq(s.count[1], 2);
    cr_assert_eq(memcmp(buf, "\0\0\0\0\x11\x22\x33\x44\0\0", 10), 0);
    /* a write across 0x46..0x49: the window's half, then config bytes the
     * guest cannot write (unchanged) */
    s.n = 0;
    v = 0xa5a5a5a5;
    cr_assert_eq(cfg_rw(dev, 0x46, &v, 4, true), 0);
    cr_assert_eq(s.n, 1);
    cr_assert_eq(s.off[0], 0x46);
    cr_assert_eq(s.count[0], 2);
    cr_assert_eq(memcmp(s.bytes + 0x44, "\x11\x22\xa5\xa5", 4), 0);
    cr_assert_eq(dev->cfg.data[0x48], 0);
    /* the header is the runtime's as before */
    cr_assert_eq(cfg_rw(dev, PCI_VENDOR_ID, &v, 4, false), 0);
    cr_assert_eq(v, 0x11f21b36);
    talloc_free(dev);
}

Test(cfgwin, stopped_device_refuses_window_accesses)
{
    struct vdev_dev *dev = hostdev_create(NULL);
    uint32_t v = 0;

    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    cr_assert_eq(vdev_mig_set_state(dev, VFIO_DEVICE_STATE_STOP, VDEV_MIG_V2),
                 0);
    cr_assert_eq(cfg_rw(dev, HD_CFG_REG, &v, 4, false), -EBUSY);
    cr_assert_eq(cfg_rw(dev, PCI_VENDOR_ID, &v, 4, false), 0, "header served");
    cr_assert_eq(
        vdev_mig_set_state(dev, VFIO_DEVICE_STATE_RUNNING, VDEV_MIG_V2), 0);
    cr_assert_eq(cfg_rw(dev, HD_CFG_REG, &v, 4, false), 0);
    talloc_free(dev);
}

/* hostdev's window sees the guest's width: 1, 2 and 4 bytes. */
Test(cfgwin, hooks_see_the_access_width)
{
    struct vdev_dev *dev = hostdev_create(NULL);
    uint32_t v = 0;
    uint8_t b = 0x5a;
    uint16_t w = 0xbeef;

    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    cr_assert_eq(cfg_rw(dev, HD_CFG_REG + 1, &b, 1, true), 0);
    cr_assert_eq(cfg_rw(dev, HD_CFG_WIDTH, &v, 4, false), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(cfg_rw(dev, HD_CFG_REG + 2, &w, 2, true), 0);
    cr_assert_eq(cfg_rw(dev, HD_CFG_WIDTH, &v, 4, false), 0);
    cr_assert_eq(v, 2);
    cr_assert_eq(cfg_rw(dev, HD_CFG_REG, &v, 4, false), 0);
    cr_assert_eq(v, 0xbeef5a00);
    cr_assert_eq(cfg_rw(dev, HD_CFG_REG2, &w, 2, false), 0);
    cr_assert_eq(w, 0);
    talloc_free(dev);
}

/* ------------------------------------------------------------ self reset */

Test(self_reset, deferred_to_the_end_of_the_access)
{
    struct vdev_dev *dev = hostdev_create(NULL);
    struct hostdev *h = hostdev_of(dev);
    uint16_t cmd = PCI_COMMAND_MEMORY;

    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL);
    cr_assert_eq(cfg_rw(dev, PCI_COMMAND, &cmd, 2, true), 0);
    hostdev_write(dev, HD_STICKY, 0x1234);
    hostdev_write(dev, HD_SCRATCH, 0x5678);
    hostdev_write(dev, HD_TICK, HD_PERIODIC | 100);
    hostdev_write(dev, HD_RESET, 1);
    /* inside the write nothing had been reset; after it everything was */
    cr_assert_eq(h->st.resets, 1);
    cr_assert_eq(hostdev_read(dev, HD_SEEN_RESET), 0);
    cr_assert_eq(hostdev_read(dev, HD_STICKY), 0x1234, "sticky kept");
    cr_assert_eq(hostdev_read(dev, HD_SCRATCH), 0);
    cr_assert_not(vdev_timer_running(h->tick));
    cr_assert_eq(cfg_rw(dev, PCI_COMMAND, &cmd, 2, false), 0);
    cr_assert_eq(cmd & PCI_COMMAND_MEMORY, 0, "config space reset too");
    cr_assert_not(dev->reset_pending);
    talloc_free(dev);
}

/* From a config window (the width register takes 0xdead), from a timer
 * (the watchdog, which also emits an event), from the management channel
 * (vars) the same: one reset each, after the callback. */
static unsigned events;
static char last_event[64];

static void
sink(struct vdev_dev *dev, const char *name, uint64_t now)
{
    events++;
    snprintf(last_event, sizeof(last_event), "%s", name);
}

Test(self_reset, from_config_window_timer_and_requests_coalesce)
{
    struct vdev_dev *dev = hostdev_create(NULL);
    struct hostdev *h = hostdev_of(dev);
    uint32_t v = 0xdead;

    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL);
    cr_assert_eq(cfg_rw(dev, HD_CFG_WIDTH, &v, 4, true), 0);
    cr_assert_eq(h->st.resets, 1);

    dev->event_sink = sink;
    events = 0;
    hostdev_write(dev, HD_WDOG, 1000);
    cr_assert_eq(vdev_clock_advance(dev, 1000000), 1);
    cr_assert_eq(h->st.resets, 2);
    cr_assert_eq(events, 1);
    cr_assert_str_eq(last_event, "watchdog-expired");

    /* several requests before the end of a callback are one reset */
    vdev_request_reset(dev);
    vdev_request_reset(dev);
    cr_assert(dev->reset_pending);
    vdev_dev_settle(dev);
    cr_assert_eq(h->st.resets, 3);
    vdev_dev_settle(dev);
    cr_assert_eq(h->st.resets, 3);
    /* a client reset takes a pending request with it */
    vdev_request_reset(dev);
    vdev_reset(dev);
    vdev_dev_settle(dev);
    cr_assert_eq(h->st.resets, 4);
    talloc_free(dev);
}

/* Outside any callback (device code on its own): the loop's next turn. */
Test(self_reset, outside_callbacks_on_the_next_turn)
{
    struct vdev_dev *dev = hostdev_create(NULL);
    struct hostdev *h = hostdev_of(dev);

    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    vdev_request_reset(dev);
    cr_assert_eq(h->st.resets, 0);
    for (int i = 0; i < 20 && !h->st.resets; i++) {
        struct pollfd p = {.fd = vdev_fd(dev), .events = POLLIN};
        if (poll(&p, 1, 100) == 1)
            vdev_dispatch(dev);
    }
    cr_assert_eq(h->st.resets, 1);
    talloc_free(dev);
}

Test(events, names_are_checked_and_reach_the_sink)
{
    struct vdev_dev *dev = hostdev_create(NULL);

    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    dev->event_sink = sink;
    events = 0;
    vdev_event_emit(dev, "bad name");
    vdev_event_emit(dev, "");
    vdev_event_emit(dev, NULL);
    cr_assert_eq(events, 0);
    hostdev_write(dev, HD_EVENT, 1);
    cr_assert_eq(events, 1);
    cr_assert_str_eq(last_event, "poke");
    talloc_free(dev);
}
