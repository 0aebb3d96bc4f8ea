/* wdt scenario: our Intel 6300ESB watchdog (8086:25ab). (1) By hand,
 * before any driver: the config registers at 0x60/0x68 and the reload
 * register decode by width as QEMU's i6300esb does, the preloads take a
 * write only after the 0x80/0x86 unlock sequence, and an enabled timer
 * runs out in two stages: the host sees "expired" and "reset_requested"
 * on the management socket, the device resets itself and only the timeout
 * flag (reload register bit 9) survives. (2) Linux's i6300esb (watchdog
 * core) binds, reports that flag as WDIOF_CARDRESET, opens, takes a 2 s
 * timeout, is pinged past it, then left to run out (the host sees the
 * expiry, no earlier than the timeout) and, after a magic close, stays
 * stopped. The host answers "events NAME" with how many it saw. */
#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vg.h"

#define CONFIG_REG 0x60
#define LOCK_REG 0x68
#define TIMER1 0x0
#define TIMER2 0x4
#define RELOAD 0xc
/* One preload tick at the 1 kHz scale: 2^15 cycles of 33 MHz, in ns. */
#define TICK_NS (32768ull * 1000 / 33)

struct wdt {
    const char *bdf;
    struct vg_bar bar;
};

static uint64_t
cfg_read(struct wdt *w, unsigned off, unsigned width)
{
    char path[256];
    uint64_t v = 0;
    int fd;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", w->bdf);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || pread(fd, &v, width, off) != (ssize_t)width)
        v = ~0ull;
    if (fd >= 0)
        close(fd);
    return v;
}

/* sysfs turns an aligned write of 1, 2 or 4 bytes into one config access
 * of that width. */
static void
cfg_write(struct wdt *w, unsigned off, unsigned width, uint64_t v)
{
    char path[256];
    int fd;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", w->bdf);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (pwrite(fd, &v, width, off) != (ssize_t)width)
            vg_note("wdt: config write @0x%x: %s", off, strerror(errno));
        close(fd);
    }
}

static void
unlock(struct wdt *w, unsigned width)
{
    vg_write(&w->bar, RELOAD, width, 0x80);
    vg_write(&w->bar, RELOAD, width, 0x86);
}

static uint64_t
host_get(const char *name)
{
    uint64_t v = ~0ull;

    vg_ask_u64(&v, "get %s", name);
    return v;
}

static uint64_t
events(const char *name)
{
    uint64_t n = ~0ull;

    vg_ask_u64(&n, "events %s", name);
    return n;
}

/* Polls the host until it has seen `want` events NAME, for at most ms;
 * the ms it took, or ~0 when they did not come. */
static uint64_t
wait_event(const char *name, uint64_t want, uint64_t since, unsigned ms)
{
    uint64_t end = since + (uint64_t)ms * 1000000;

    while (vg_now_ns() < end) {
        if (events(name) >= want)
            return (vg_now_ns() - since) / 1000000;
        vg_sleep_ms(50);
    }
    return ~0ull;
}

/* ------------------------------------------------------- (1) by hand */

/* Ordinary PCI config registers: any width, byte lanes. */
static void
check_config(struct wdt *w)
{
    uint64_t reset = cfg_read(w, CONFIG_REG, 2), set, host, after_byte;
    uint64_t dword, lock = cfg_read(w, LOCK_REG, 1);

    cfg_write(w, CONFIG_REG, 2, 0x0003);
    set = cfg_read(w, CONFIG_REG, 2);
    host = host_get("wdt_config");
    cfg_write(w, CONFIG_REG, 1, 0x24);
    after_byte = cfg_read(w, CONFIG_REG, 2);
    dword = cfg_read(w, CONFIG_REG, 4);
    cfg_write(w, CONFIG_REG, 2, 0x0000);
    vg_result("wdt.config",
              reset == 0 && lock == 0 && set == 3 && host == 3 &&
                  after_byte == 0x24 && dword == 0x24,
              "0x60 (16-bit) 0x%04llx at reset, 0x%04llx after a word write "
              "of 3 (server: 0x%llx), 0x%04llx after a byte write of 0x24, "
              "0x%llx as a dword; 0x68 0x%02llx",
              (unsigned long long)reset, (unsigned long long)set,
              (unsigned long long)host, (unsigned long long)after_byte,
              (unsigned long long)dword, (unsigned long long)lock);
}

static void
check_unlock(struct wdt *w)
{
    uint64_t locked, taken, wrong_width, t2, rd_t1, rd_reload;

    vg_write(&w->bar, TIMER1, 4, 1000);
    locked = host_get("timer1");
    unlock(w, 1);
    vg_write(&w->bar, TIMER1, 4, 1000);
    taken = host_get("timer1");
    unlock(w, 1);
    vg_write(&w->bar, TIMER1, 2, 0x1234); /* spends the unlock */
    vg_write(&w->bar, TIMER1, 4, 2000);
    wrong_width = host_get("timer1");
    unlock(w, 2);
    vg_write(&w->bar, TIMER2, 4, 0x123456);
    t2 = host_get("timer2");
    rd_t1 = vg_read(&w->bar, TIMER1, 4);
    rd_reload = vg_read(&w->bar, RELOAD, 2);
    vg_result("wdt.unlock",
              locked == 0xfffff && taken == 1000 && wrong_width == 1000 &&
                  t2 == 0x23456 && rd_t1 == 0 && rd_reload == 0,
              "timer1 0x%llx after a locked write, %llu after 0x80/0x86 "
              "(byte writes), still %llu after a word write spent the "
              "unlock; timer2 0x%llx (20 bits) after a word-write unlock; "
              "timer1 reads 0x%llx, reload 0x%llx",
              (unsigned long long)locked, (unsigned long long)taken,
              (unsigned long long)wrong_width, (unsigned long long)t2,
              (unsigned long long)rd_t1, (unsigned long long)rd_reload);
}

static void
check_expire_raw(struct wdt *w)
{
    uint64_t e0 = events("expired"), r0 = events("reset_requested");
    uint64_t t0, ms, resets, lock, flag, flag_b, flag_l, cfg, locked;
    const uint64_t want_ms = 2 * 50 * TICK_NS / 1000000;

    unlock(w, 1);
    vg_write(&w->bar, TIMER1, 4, 50);
    unlock(w, 1);
    vg_write(&w->bar, TIMER2, 4, 50);
    cfg_write(w, CONFIG_REG, 2, 0x0000); /* reboot on, 1 kHz */
    t0 = vg_now_ns();
    cfg_write(w, LOCK_REG, 1, 0x03); /* enable, lock */
    cfg_write(w, LOCK_REG, 1, 0x00); /* locked: ignored */
    locked = cfg_read(w, LOCK_REG, 1);
    ms = wait_event("expired", e0 + 1, t0, 5000);
    resets = events("reset_requested") - r0;
    lock = cfg_read(w, LOCK_REG, 1);
    cfg = cfg_read(w, CONFIG_REG, 2);
    flag = vg_read(&w->bar, RELOAD, 2);
    flag_b = vg_read(&w->bar, RELOAD, 1);
    flag_l = vg_read(&w->bar, RELOAD, 4);
    vg_result("wdt.expire-raw",
              locked == 3 && ms != ~0ull && ms >= want_ms && resets == 1 &&
                  lock == 0 && cfg == 0 && flag == 0x1200 && flag_b == 0 &&
                  flag_l == 0,
              "preloads 50+50 (%llu ms), enabled and locked (0x68 0x%02llx "
              "after a write of 0): expired after %lld ms, "
              "%llu reset_requested; then 0x68 0x%02llx and 0x60 0x%04llx "
              "(the device reset itself), reload reads 0x%04llx as a word "
              "(timeout flag kept), 0x%llx as a byte, 0x%llx as a dword",
              (unsigned long long)want_ms, (unsigned long long)locked,
              (long long)ms, (unsigned long long)resets,
              (unsigned long long)lock, (unsigned long long)cfg,
              (unsigned long long)flag, (unsigned long long)flag_b,
              (unsigned long long)flag_l);
}

/* ------------------------------------------------ (2) Linux's i6300esb */

static int
wdt_attr(const char *name, char *buf, size_t len)
{
    char path[128];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/sys/class/watchdog/watchdog0/%s", name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static bool
check_driver(struct wdt *w, const char *name)
{
    char path[256], link[256] = "", boot[16] = "", ident[64] = "";
    uint64_t flag;
    ssize_t n;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", w->bdf);
    n = readlink(path, link, sizeof(link) - 1);
    if (n > 0)
        link[n] = '\0';
    wdt_attr("bootstatus", boot, sizeof(boot));
    wdt_attr("identity", ident, sizeof(ident));
    flag = host_get("state.timed_out");
    /* WDIOF_CARDRESET: the last reset was the watchdog's. */
    return vg_result(
        name, strstr(link, "/i6300ESB") && !strcmp(boot, "32") && flag == 0,
        "driver '%s', watchdog0 '%s', bootstatus %s (32: "
        "WDIOF_CARDRESET from the flag), server's flag %llu "
        "after the driver cleared it",
        link, ident, boot, (unsigned long long)flag);
}

static int
modules(const char *cmd)
{
    int rc = system(cmd);

    return rc == 0 ? 0 : -EIO;
}

static void
check_watchdog(struct wdt *w)
{
    uint64_t e0, r0, lock, t1, t_last = 0, ms, lock_after;
    const uint64_t want_ms = 2 * (2ull << 9) * TICK_NS / 1000000;
    int fd, timeout = 2, pings = 0;
    bool quiet;

    fd = open("/dev/watchdog0", O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        vg_result("wdt.open", false, "/dev/watchdog0: %s", strerror(errno));
        return;
    }
    lock = host_get("wdt_lock");
    if (ioctl(fd, WDIOC_SETTIMEOUT, &timeout) < 0)
        timeout = -errno;
    t1 = host_get("timer1");
    vg_result("wdt.open", lock == 2 && timeout == 2 && t1 == 2u << 9,
              "open: 0x68 0x%02llx (enabled); WDIOC_SETTIMEOUT 2 -> %d, "
              "timer1 %llu (2 << 9)",
              (unsigned long long)lock, timeout, (unsigned long long)t1);
    e0 = events("expired");
    r0 = events("reset_requested");
    for (uint64_t end = vg_now_ns() + 3200000000ull; vg_now_ns() < end;) {
        t_last = vg_now_ns();
        if (ioctl(fd, WDIOC_KEEPALIVE, 0) == 0)
            pings++;
        vg_sleep_ms(400);
    }
    quiet = events("expired") == e0;
    vg_result("wdt.keepalive", quiet && pings >= 7,
              "%d pings over 3.2 s against a 2 s timeout: %s", pings,
              quiet ? "no expiry" : "it EXPIRED");
    t_last = vg_now_ns();
    ioctl(fd, WDIOC_KEEPALIVE, 0);
    ms = wait_event("expired", e0 + 1, t_last, 6000);
    lock_after = cfg_read(w, LOCK_REG, 1);
    vg_result("wdt.expire",
              ms != ~0ull && ms >= want_ms && ms < want_ms + 3000 &&
                  events("reset_requested") == r0 + 1 && lock_after == 0,
              "left alone after the last ping: the host saw 'expired' "
              "after %lld ms (two stages of 1024 ticks: %llu ms) and "
              "'reset_requested'; 0x68 then 0x%02llx",
              (long long)ms, (unsigned long long)want_ms,
              (unsigned long long)lock_after);
    if (write(fd, "V", 1) != 1)
        vg_note("wdt: magic close: %s", strerror(errno));
    close(fd);
}

static void
check_stop(void)
{
    uint64_t e0 = events("expired"), lock;
    int fd = open("/dev/watchdog0", O_WRONLY | O_CLOEXEC), timeout = 1;

    if (fd < 0) {
        vg_result("wdt.stop", false, "/dev/watchdog0: %s", strerror(errno));
        return;
    }
    ioctl(fd, WDIOC_SETTIMEOUT, &timeout);
    if (write(fd, "V", 1) != 1)
        vg_note("wdt: magic close: %s", strerror(errno));
    close(fd);
    lock = host_get("wdt_lock");
    vg_sleep_ms(1600);
    vg_result("wdt.stop", events("expired") == e0 && lock == 0,
              "1 s timeout, then a magic close: 0x68 0x%02llx, no expiry "
              "in 1.6 s",
              (unsigned long long)lock);
}

int
vg_wdt_main(int argc, char **argv)
{
    struct wdt w = {0};
    int rc;

    if (argc != 2)
        return vg_result("wdt.usage", false, "wdt BDF"), 1;
    w.bdf = argv[1];
    rc = vg_pci_enable(w.bdf, false);
    if (rc == 0)
        rc = vg_bar_map(w.bdf, 0, &w.bar);
    if (!vg_result("wdt.setup", rc == 0 && w.bar.mem, "BAR0 of %s: %s", w.bdf,
                   rc ? strerror(-rc) : "mapped"))
        return 1;
    check_config(&w);
    check_unlock(&w);
    check_expire_raw(&w);
    if (modules("insmod /modules/watchdog.ko && "
                "insmod /modules/i6300esb.ko") < 0) {
        vg_result("wdt.insmod", false, "watchdog.ko, i6300esb.ko");
        return 1;
    }
    if (check_driver(&w, "wdt.driver"))
        check_watchdog(&w);
    /* The expiry under the driver set the flag again: a fresh probe
     * reports it. */
    if (modules("rmmod i6300esb && insmod /modules/i6300esb.ko") == 0)
        check_driver(&w, "wdt.reprobe");
    else
        vg_result("wdt.reprobe", false, "rmmod/insmod i6300esb failed");
    check_stop();
    return vg_failures() ? 1 : 0;
}
