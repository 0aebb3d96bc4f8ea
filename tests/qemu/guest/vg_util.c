/* vdev-guest plumbing: result lines, the host channel on the second serial
 * port, sysfs PCI helpers, BAR mapping and sized accesses. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vg.h"

/* The host answers every request; an upgrade under load takes seconds. */
#define ASK_TIMEOUT_MS 60000
#define IORESOURCE_IO 0x100

static int failures;
static int ctl_fd = -1;

bool
vg_result(const char *name, bool ok, const char *fmt, ...)
{
    char detail[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    /* One write per line: the kernel may print on the console too. */
    printf("VDEV-RESULT %s %s %s\n", name, ok ? "PASS" : "FAIL", detail);
    fflush(stdout);
    if (!ok)
        failures++;
    return ok;
}

void
vg_note(const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    printf("VDEV-NOTE %s\n", line);
    fflush(stdout);
}

int
vg_failures(void)
{
    return failures;
}

static int
ctl_open(void)
{
    struct termios t;

    if (ctl_fd >= 0)
        return 0;
    ctl_fd = open("/dev/ttyS1", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (ctl_fd < 0)
        return -errno;
    if (tcgetattr(ctl_fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(ctl_fd, TCSANOW, &t);
    }
    return 0;
}

static int
ctl_read_line(char *reply, size_t len)
{
    size_t n = 0;
    uint64_t deadline = vg_now_ns() + (uint64_t)ASK_TIMEOUT_MS * 1000000;

    for (;;) {
        struct pollfd p = {.fd = ctl_fd, .events = POLLIN};
        int64_t left = (int64_t)(deadline - vg_now_ns()) / 1000000;
        char c;

        if (left <= 0 || poll(&p, 1, (int)left) == 0)
            return -ETIMEDOUT;
        if (read(ctl_fd, &c, 1) != 1)
            return -EIO;
        if (c == '\r')
            continue;
        if (c == '\n')
            break;
        if (n + 1 < len)
            reply[n++] = c;
    }
    reply[n] = '\0';
    return 0;
}

int
vg_ask(char *reply, size_t len, const char *fmt, ...)
{
    char req[256];
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(req, sizeof(req) - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(req) - 1)
        return -EINVAL;
    req[n++] = '\n';
    rc = ctl_open();
    if (rc == 0 && write(ctl_fd, req, (size_t)n) != n)
        rc = -EIO;
    if (rc == 0)
        rc = ctl_read_line(reply, len);
    if (rc < 0) {
        req[n - 1] = '\0';
        vg_result("host-channel", false, "request '%s': %s", req,
                  strerror(-rc));
        return rc;
    }
    return strncmp(reply, "error", 5) ? 0 : -EREMOTEIO;
}

int
vg_ask_u64(uint64_t *out, const char *fmt, ...)
{
    char req[256], reply[256], *end;
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(req, sizeof(req), fmt, ap);
    va_end(ap);
    rc = vg_ask(reply, sizeof(reply), "%s", req);
    if (rc < 0)
        return rc;
    errno = 0;
    *out = strtoull(reply, &end, 0);
    return errno || end == reply ? -EPROTO : 0;
}

static void
sysfs_path(char *path, size_t len, const char *bdf, const char *name)
{
    snprintf(path, len, "/sys/bus/pci/devices/%s/%s", bdf, name);
}

int
vg_sysfs_read(const char *bdf, const char *name, char *buf, size_t len)
{
    char path[256];
    ssize_t n;
    int fd;

    sysfs_path(path, sizeof(path), bdf, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return 0;
}

int
vg_sysfs_write(const char *bdf, const char *name, const char *value)
{
    char path[256];
    ssize_t n;
    int fd;

    sysfs_path(path, sizeof(path), bdf, name);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    n = write(fd, value, strlen(value));
    close(fd);
    return n < 0 ? -errno : 0;
}

int
vg_pci_enable(const char *bdf, bool master)
{
    char path[256];
    uint16_t cmd;
    int fd, rc = 0;

    sysfs_path(path, sizeof(path), bdf, "config");
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (pread(fd, &cmd, 2, 4) != 2) {
        rc = -EIO;
    } else {
        cmd |= 0x3 | (master ? 0x4 : 0);
        if (pwrite(fd, &cmd, 2, 4) != 2)
            rc = -EIO;
    }
    close(fd);
    return rc;
}

int
vg_bar_map(const char *bdf, unsigned index, struct vg_bar *bar)
{
    char res[1024], name[32], *line = res;
    unsigned long long start, end, flags;
    void *p;
    int fd, rc;

    memset(bar, 0, sizeof(*bar));
    rc = vg_sysfs_read(bdf, "resource", res, sizeof(res));
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < index && line; i++) {
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    if (!line || sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3 ||
        !end)
        return -ENODEV;
    bar->size = end - start + 1;
    if (flags & IORESOURCE_IO) {
        if (iopl(3) < 0)
            return -errno;
        bar->port = (uint16_t)start;
        return 0;
    }
    snprintf(name, sizeof(name), "resource%u", index);
    sysfs_path(res, sizeof(res), bdf, name);
    fd = open(res, O_RDWR | O_SYNC | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    p = mmap(NULL, bar->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -errno;
    bar->mem = p;
    return 0;
}

void
vg_bar_unmap(struct vg_bar *bar)
{
    if (bar->mem)
        munmap((void *)bar->mem, bar->size);
    bar->mem = NULL;
}

uint64_t
vg_read(const struct vg_bar *bar, uint64_t off, unsigned width)
{
    volatile uint8_t *p = bar->mem + off;

    if (!bar->mem) {
        uint16_t port = (uint16_t)(bar->port + off);
        return width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
    }
    switch (width) {
    case 1:
        return *p;
    case 2:
        return *(volatile uint16_t *)p;
    case 4:
        return *(volatile uint32_t *)p;
    default:
        return *(volatile uint64_t *)p;
    }
}

void
vg_write(const struct vg_bar *bar, uint64_t off, unsigned width, uint64_t val)
{
    volatile uint8_t *p = bar->mem + off;

    if (!bar->mem) {
        uint16_t port = (uint16_t)(bar->port + off);
        if (width == 1)
            outb((uint8_t)val, port);
        else if (width == 2)
            outw((uint16_t)val, port);
        else
            outl((uint32_t)val, port);
        return;
    }
    switch (width) {
    case 1:
        *p = (uint8_t)val;
        break;
    case 2:
        *(volatile uint16_t *)p = (uint16_t)val;
        break;
    case 4:
        *(volatile uint32_t *)p = (uint32_t)val;
        break;
    default:
        *(volatile uint64_t *)p = val;
        break;
    }
}

uint64_t
vg_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
vg_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}
