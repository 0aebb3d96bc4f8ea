/* GPIO scenario: Linux's gpio-pci-idio-16 drives our PCI-IDIO-16 server.
 * Outputs set through the GPIO character device (v2 uAPI) must be what the
 * server's BAR2 holds, inputs the host sets must be what the guest reads,
 * and an input change must reach the guest as a line event (INTx). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vg.h"

#define DRIVER "pci-idio-16"
#define EVENT_TIMEOUT_MS 10000

static bool
check_bound(const char *bdf)
{
    char path[256], link[256];
    ssize_t n;
    const char *base;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
    n = readlink(path, link, sizeof(link) - 1);
    if (n < 0)
        return vg_result("gpio.bind", false, "%s has no driver (%s)", bdf,
                         strerror(errno));
    link[n] = '\0';
    base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
    return vg_result("gpio.bind", !strcmp(base, DRIVER),
                     "%s driver is '%s' (want %s)", bdf, base, DRIVER);
}

static int
open_chip(const char *bdf)
{
    char path[256], dev[300] = "";
    struct dirent *e;
    DIR *d;
    int fd;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
    d = opendir(path);
    if (!d)
        return -errno;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "gpiochip", 8))
            snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
    closedir(d);
    if (!dev[0])
        return -ENOENT;
    fd = open(dev, O_RDWR | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Requests lines FIRST..FIRST+N-1 with FLAGS; the line fd or -errno. */
static int
request_lines(int chip, unsigned first, unsigned n, uint64_t flags)
{
    struct gpio_v2_line_request req;

    memset(&req, 0, sizeof(req));
    for (unsigned i = 0; i < n; i++)
        req.offsets[i] = first + i;
    req.num_lines = n;
    req.config.flags = flags;
    snprintf(req.consumer, sizeof(req.consumer), "vdev-guest");
    if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req) < 0)
        return -errno;
    return req.fd;
}

static int
get_values(int line_fd, unsigned n, uint64_t *bits)
{
    struct gpio_v2_line_values v = {.mask = (1ull << n) - 1};

    if (ioctl(line_fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &v) < 0)
        return -errno;
    *bits = v.bits;
    return 0;
}

static void
check_outputs(int chip)
{
    static const uint16_t patterns[] = {0xa55a, 0x0001, 0x8000,
                                        0xffff, 0x1234, 0x0000};
    int fd = request_lines(chip, 0, 16, GPIO_V2_LINE_FLAG_OUTPUT);
    bool ok = true;

    if (fd < 0) {
        vg_result("gpio.outputs", false, "request OUT0-15: %s", strerror(-fd));
        return;
    }
    for (size_t i = 0; ok && i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        struct gpio_v2_line_values v = {.bits = patterns[i], .mask = 0xffff};
        uint64_t lo = 0, hi = 0, back = 0;

        if (ioctl(fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0) {
            ok = vg_result("gpio.outputs", false, "set 0x%04x: %s", patterns[i],
                           strerror(errno));
            break;
        }
        if (vg_ask_u64(&lo, "get out0_7") < 0 ||
            vg_ask_u64(&hi, "get out8_15") < 0 || get_values(fd, 16, &back))
            ok = vg_result("gpio.outputs", false, "reading back 0x%04x failed",
                           patterns[i]);
        else if ((hi << 8 | lo) != patterns[i] || back != patterns[i])
            ok = vg_result("gpio.outputs", false,
                           "set 0x%04x: server BAR2 holds 0x%04llx, the "
                           "driver reads 0x%04llx",
                           patterns[i], (unsigned long long)(hi << 8 | lo),
                           (unsigned long long)back);
    }
    if (ok)
        vg_result("gpio.outputs", true,
                  "6 patterns on OUT0-15 reached the server's BAR2");
    close(fd);
}

static void
check_inputs(int chip)
{
    static const uint16_t patterns[] = {0xffff, 0x0000, 0x5aa5,
                                        0x0100, 0x0080, 0xfedc};
    int fd = request_lines(chip, 16, 16, GPIO_V2_LINE_FLAG_INPUT);
    bool ok = true;

    if (fd < 0) {
        vg_result("gpio.inputs", false, "request IIN0-15: %s", strerror(-fd));
        return;
    }
    for (size_t i = 0; ok && i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        uint64_t got = 0, echo = 0;

        if (vg_ask_u64(&echo, "set state.inputs 0x%04x", patterns[i]) < 0 ||
            get_values(fd, 16, &got) < 0)
            ok = vg_result("gpio.inputs", false, "pins 0x%04x: failed",
                           patterns[i]);
        else if (got != patterns[i])
            ok = vg_result("gpio.inputs", false,
                           "host set pins 0x%04x, guest reads 0x%04llx",
                           patterns[i], (unsigned long long)got);
    }
    if (ok)
        vg_result("gpio.inputs", true,
                  "6 pin patterns set on the host read back in the guest");
    close(fd);
}

/* Waits for one event on FD; its id, 0 on timeout, -errno on error. */
static int
wait_event(int fd, unsigned timeout_ms, unsigned *offset)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct gpio_v2_line_event ev;
    int rc = poll(&p, 1, (int)timeout_ms);

    if (rc <= 0)
        return rc < 0 ? -errno : 0;
    if (read(fd, &ev, sizeof(ev)) != (ssize_t)sizeof(ev))
        return -EIO;
    *offset = ev.offset;
    return (int)ev.id;
}

static void
check_events(int chip)
{
    static const struct {
        uint16_t pins;
        int edge;
    } steps[] = {
        {0x0001, GPIO_V2_LINE_EVENT_RISING_EDGE},
        {0x0000, GPIO_V2_LINE_EVENT_FALLING_EDGE},
        {0x0101, GPIO_V2_LINE_EVENT_RISING_EDGE},
        {0x0100, GPIO_V2_LINE_EVENT_FALLING_EDGE},
    };
    uint64_t v, pending = 1;
    unsigned off = 0;
    int fd, id;

    if (vg_ask_u64(&v, "set state.inputs 0") < 0)
        return;
    fd = request_lines(chip, 16, 1,
                       GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING |
                           GPIO_V2_LINE_FLAG_EDGE_FALLING);
    if (fd < 0) {
        vg_result("gpio.irq", false, "request IIN0 with edges: %s",
                  strerror(-fd));
        return;
    }
    while (wait_event(fd, 300, &off) > 0)
        ;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        uint64_t t0 = vg_now_ns();

        if (vg_ask_u64(&v, "set state.inputs 0x%04x", steps[i].pins) < 0)
            goto out;
        id = wait_event(fd, EVENT_TIMEOUT_MS, &off);
        if (id != steps[i].edge || off != 16) {
            vg_result("gpio.irq", false,
                      "pins -> 0x%04x: want a %s event on line 16 within "
                      "%u ms, got %s (id %d, line %u)",
                      steps[i].pins,
                      steps[i].edge == GPIO_V2_LINE_EVENT_RISING_EDGE
                          ? "rising"
                          : "falling",
                      EVENT_TIMEOUT_MS, id == 0 ? "none" : "another", id, off);
            goto out;
        }
        vg_note("gpio.irq: pins -> 0x%04x, event after %llu us", steps[i].pins,
                (unsigned long long)(vg_now_ns() - t0) / 1000);
    }
    id = wait_event(fd, 500, &off);
    if (vg_ask_u64(&pending, "get irq_status.pending") < 0)
        goto out;
    vg_result("gpio.irq", id == 0 && pending == 0,
              "4 input changes, 4 line events; then %s, irq_status.pending "
              "%llu",
              id == 0 ? "no spurious event" : "a spurious event",
              (unsigned long long)pending);
out:
    close(fd);
}

int
vg_gpio_main(int argc, char **argv)
{
    struct gpiochip_info info;
    int chip;

    if (argc != 2)
        return vg_result("gpio.usage", false, "gpio BDF"), 1;
    if (!check_bound(argv[1]))
        return 1;
    chip = open_chip(argv[1]);
    if (chip < 0)
        return vg_result("gpio.chip", false, "no gpiochip under %s: %s",
                         argv[1], strerror(-chip)),
               1;
    memset(&info, 0, sizeof(info));
    if (ioctl(chip, GPIO_GET_CHIPINFO_IOCTL, &info) < 0 || info.lines != 32)
        vg_result("gpio.chip", false, "chip info: %u lines (want 32)",
                  info.lines);
    else
        vg_result("gpio.chip", true, "%s, label %s, 32 lines", info.name,
                  info.label);
    check_outputs(chip);
    check_inputs(chip);
    check_events(chip);
    close(chip);
    return vg_failures() ? 1 : 0;
}
