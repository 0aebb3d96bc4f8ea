/* uart scenario: our 16550A (QEMU's pci-serial identity) under Linux's own
 * 8250_pci driver, then by hand. (1) The driver binds and calls it a
 * 16550A; bytes cross the tty both ways intact (termios raw), and the
 * receive trigger level set through the driver's rx_trig_bytes reaches
 * the device's FCR. (2) A shell runs on the tty and the host types into
 * it over the stream socket. (3) With the driver unbound and
 * uio_pci_generic counting INTx: the DLAB banks, IIR/FCR, the THRE
 * interrupt, loopback, 16450 mode, every FIFO trigger level and the
 * character timeout, each as the 16550A datasheet has it. The host end of
 * the line is tests/qemu/stream-agent.py ("stream ..." requests). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "vg.h"

/* Registers (offsets in the I/O BAR) and bits. */
enum {
    RBR = 0,
    THR = 0,
    DLL = 0,
    IER = 1,
    DLM = 1,
    IIR = 2,
    FCR = 2,
    LCR = 3,
    MCR = 4,
    LSR = 5,
    MSR = 6,
    SCR = 7,
};
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define IIR_NONE 0xc1 /* FIFOs on, no interrupt */
#define IIR_THRI 0xc2
#define IIR_RDI 0xc4
#define IIR_CTI 0xcc
/* 115200 / 2880 = 40 baud: a 10-bit character takes 250 ms, so the
 * character timeout (4 characters) comes 1 s after the last FIFO
 * activity, long enough to look at the device before it. */
#define SLOW_DIVISOR 2880
#define CTI_MS 1000
#define XFER 4096

struct uart {
    const char *bdf;
    char tty[32]; /* ttyS2 */
    struct vg_bar bar;
    int uio;
};

static uint8_t
in(struct uart *u, unsigned reg)
{
    return (uint8_t)vg_read(&u->bar, reg, 1);
}

static void
out(struct uart *u, unsigned reg, uint8_t v)
{
    vg_write(&u->bar, reg, 1, v);
}

static uint8_t
pat(unsigned i, unsigned seed)
{
    return (uint8_t)(i * 31 + seed);
}

static uint32_t
fnv32(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void
copy(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);

    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The host end of the line: "stream CMD ..." -> "ok ..." (the rest in
 * reply). */
static int
host(char *reply, size_t len, const char *cmd)
{
    char buf[1024] = "";
    int rc = vg_ask(buf, sizeof(buf), "stream %s", cmd);

    if (rc < 0 || strncmp(buf, "ok", 2)) {
        copy(reply, len, buf);
        return rc < 0 ? rc : -EPROTO;
    }
    copy(reply, len, buf[2] ? buf + 3 : "");
    return 0;
}

static int
sysfs_attr(const char *path, char *buf, size_t len)
{
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

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

static int
sysfs_put(const char *path, const char *val)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

    if (fd < 0)
        return -errno;
    if (write(fd, val, strlen(val)) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* Interrupts on the device's line so far (/proc/interrupts). */
static unsigned long
irq_count(const char *bdf)
{
    char irq[16], line[512], want[24];
    unsigned long total = 0;
    FILE *f;

    if (vg_sysfs_read(bdf, "irq", irq, sizeof(irq)) < 0)
        return 0;
    snprintf(want, sizeof(want), "%d:", atoi(irq));
    f = fopen("/proc/interrupts", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f)) {
        char *p = line + strspn(line, " ");

        if (strncmp(p, want, strlen(want)))
            continue;
        p += strlen(want);
        for (;;) {
            char *end;
            unsigned long v = strtoul(p, &end, 10);

            if (end == p)
                break;
            total += v;
            p = end;
        }
    }
    fclose(f);
    return total;
}

/* ------------------------------------------------- (1) under the driver */

static int
find_tty(struct uart *u)
{
    char path[256];
    struct dirent *e;
    DIR *d;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/tty", u->bdf);
    d = opendir(path);
    if (!d)
        return -errno;
    while ((e = readdir(d)))
        if (!strncmp(e->d_name, "ttyS", 4))
            copy(u->tty, sizeof(u->tty), e->d_name);
    closedir(d);
    return u->tty[0] ? 0 : -ENOENT;
}

static bool
check_bind(struct uart *u)
{
    char path[256], link[256] = "", type[16] = "", fifo[16] = "";
    ssize_t n;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", u->bdf);
    n = readlink(path, link, sizeof(link) - 1);
    if (n > 0)
        link[n] = '\0';
    if (!strstr(link, "/serial") || find_tty(u) < 0)
        return vg_result("uart.bind", false,
                         "driver '%s', no ttyS under %s (is 8250_pci built "
                         "in?)",
                         link, u->bdf);
    snprintf(path, sizeof(path), "/sys/class/tty/%s/type", u->tty);
    sysfs_attr(path, type, sizeof(type));
    snprintf(path, sizeof(path), "/sys/class/tty/%s/xmit_fifo_size", u->tty);
    sysfs_attr(path, fifo, sizeof(fifo));
    /* PORT_16550A is 4. */
    return vg_result("uart.bind", !strcmp(type, "4") && !strcmp(fifo, "16"),
                     "8250_pci made %s of %s: port type %s (4: 16550A), "
                     "FIFO %s bytes",
                     u->tty, u->bdf, type, fifo);
}

/* The driver's rx_trig_bytes lands in the device's FCR trigger bits. */
static void
check_rxtrig(struct uart *u)
{
    char path[256], was[16] = "", now[16] = "";
    uint64_t fcr = 0;
    int rc;

    snprintf(path, sizeof(path), "/sys/class/tty/%s/rx_trig_bytes", u->tty);
    sysfs_attr(path, was, sizeof(was));
    rc = sysfs_put(path, "14");
    sysfs_attr(path, now, sizeof(now));
    if (rc == 0)
        rc = vg_ask_u64(&fcr, "get fcr");
    vg_result("uart.rxtrig",
              rc == 0 && !strcmp(now, "14") && (fcr & 0xc1) == 0xc1,
              "rx_trig_bytes %s -> %s; the device's FCR 0x%02llx (trigger "
              "bits 11: 14 bytes)%s",
              was, now, (unsigned long long)fcr, rc ? " (error)" : "");
}

static int
tty_open(struct uart *u, struct termios *saved)
{
    char path[64];
    struct termios t;
    int fd;

    snprintf(path, sizeof(path), "/dev/%s", u->tty);
    fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    tcgetattr(fd, saved);
    t = *saved;
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)CRTSCTS;
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 1;
    tcsetattr(fd, TCSANOW, &t);
    tcflush(fd, TCIOFLUSH);
    return fd;
}

/* XFER bytes host -> guest and guest -> host through the tty. */
static void
check_tty_data(struct uart *u)
{
    static uint8_t buf[XFER];
    struct termios saved;
    char reply[128];
    unsigned long irqs = irq_count(u->bdf);
    size_t got = 0, bad = XFER;
    uint64_t end;
    int fd = tty_open(u, &saved);

    if (fd < 0) {
        vg_result("uart.tty-rx", false, "open /dev/%s: %s", u->tty,
                  strerror(-fd));
        return;
    }
    host(reply, sizeof(reply), "drain");
    if (host(reply, sizeof(reply), "sendpat 4096 7") < 0) {
        vg_result("uart.tty-rx", false, "host: %s", reply);
    } else {
        end = vg_now_ns() + 30000000000ull;
        while (got < XFER && vg_now_ns() < end) {
            ssize_t n = read(fd, buf + got, XFER - got);

            if (n > 0)
                got += (size_t)n;
        }
        bad = 0;
        for (size_t i = 0; i < got; i++)
            bad += buf[i] != pat((unsigned)i, 7);
        vg_result("uart.tty-rx", got == XFER && !bad,
                  "%zu of %d bytes from the host arrived, %zu wrong", got, XFER,
                  bad);
    }
    for (unsigned i = 0; i < XFER; i++)
        buf[i] = pat(i, 11);
    got = 0;
    while (got < XFER) {
        ssize_t n = write(fd, buf + got, XFER - got);

        if (n <= 0)
            break;
        got += (size_t)n;
    }
    tcdrain(fd);
    if (host(reply, sizeof(reply), "recvsum 4096 30000") < 0)
        vg_result("uart.tty-tx", false, "%zu bytes written; host: %s", got,
                  reply);
    else
        vg_result("uart.tty-tx",
                  strtoul(reply, NULL, 0) == fnv32(buf, XFER) && got == XFER,
                  "%zu bytes written, the host's FNV-1a %s (want 0x%08x)", got,
                  reply, fnv32(buf, XFER));
    irqs = irq_count(u->bdf) - irqs;
    vg_result("uart.tty-irq", irqs > 0,
              "%lu interrupts on the device's INTx line meanwhile", irqs);
    tcsetattr(fd, TCSANOW, &saved);
    close(fd);
}

/* ------------------------------------------------------- (2) the shell */

static void
check_shell(struct uart *u)
{
    char path[64], reply[512];
    pid_t pid;
    int rc;

    snprintf(path, sizeof(path), "/dev/%s", u->tty);
    pid = fork();
    if (pid == 0) {
        int fd;

        setsid();
        fd = open(path, O_RDWR); /* becomes the controlling terminal */
        if (fd < 0)
            _exit(127);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
        execl("/bin/sh", "sh", "-i", (char *)NULL);
        _exit(127);
    }
    if (pid < 0) {
        vg_result("uart.shell", false, "fork: %s", strerror(errno));
        return;
    }
    rc = host(reply, sizeof(reply), "shell");
    vg_result("uart.shell", rc == 0,
              "a shell on /dev/%s, typed into from the "
              "host's end of the stream: %s",
              u->tty, reply);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* --------------------------------------------------- (3) by hand (uio) */

static bool
irq_got(struct uart *u, unsigned ms)
{
    return vg_uio_wait(u->uio, ms) > 0;
}

static void
irq_unmask(struct uart *u)
{
    vg_intx_unmask(u->bdf);
}

/* Polls until (reg & mask) == want, for at most ms; the last value. */
static uint8_t
poll_reg(struct uart *u, unsigned reg, uint8_t mask, uint8_t want, unsigned ms)
{
    uint64_t end = vg_now_ns() + (uint64_t)ms * 1000000;
    uint8_t v;

    while (((v = in(u, reg)) & mask) != want && vg_now_ns() < end)
        vg_sleep_ms(1);
    return v;
}

/* A quiet start: interrupts off, FIFOs on and empty, nothing pending. */
static void
quiesce(struct uart *u, uint8_t fcr)
{
    out(u, IER, 0);
    out(u, FCR, fcr | 0x07);
    out(u, FCR, fcr | 0x01);
    in(u, IIR);
    in(u, LSR);
    irq_unmask(u);
    while (irq_got(u, 20))
        irq_unmask(u);
}

static int
unbind(struct uart *u)
{
    int rc;

    rc = sysfs_put("/sys/bus/pci/drivers/serial/unbind", u->bdf);
    if (rc == 0)
        rc = sysfs_put("/sys/bus/pci/drivers/uio_pci_generic/new_id",
                       "1b36 0002");
    if (rc == 0)
        rc = vg_pci_enable(u->bdf, false);
    if (rc == 0)
        rc = vg_bar_map(u->bdf, 0, &u->bar);
    for (int i = 0; rc == 0 && i < 100; i++) {
        u->uio = vg_uio_open(u->bdf);
        if (u->uio >= 0)
            break;
        vg_sleep_ms(20);
    }
    if (rc == 0 && u->uio < 0)
        rc = u->uio;
    return vg_result("uart.uio", rc == 0 && !u->bar.mem,
                     "8250 unbound from %s, uio_pci_generic bound, I/O BAR "
                     "at 0x%x: %s",
                     u->bdf, u->bar.port, rc ? strerror(-rc) : "ok")
               ? 0
               : -1;
}

static void
check_regs(struct uart *u)
{
    uint8_t dll, dlm, ier, scr, lcr, iir0, iir1;
    uint64_t host_dll = 0;

    out(u, LCR, 0x83);
    out(u, DLL, 0x40);
    out(u, DLM, 0x0b);
    dll = in(u, DLL);
    dlm = in(u, DLM);
    vg_ask_u64(&host_dll, "get dll");
    out(u, LCR, 0x03);
    out(u, IER, 0x00);
    ier = in(u, IER);
    out(u, SCR, 0xa5);
    scr = in(u, SCR);
    lcr = in(u, LCR);
    vg_result("uart.dlab",
              dll == 0x40 && dlm == 0x0b && host_dll == 0x40 && ier == 0 &&
                  scr == 0xa5 && lcr == 0x03,
              "DLAB=1: DLL 0x%02x DLM 0x%02x (server's dll 0x%02llx); DLAB=0: "
              "IER 0x%02x over DLM, SCR 0x%02x, LCR 0x%02x",
              dll, dlm, (unsigned long long)host_dll, ier, scr, lcr);
    out(u, FCR, 0x00);
    iir0 = in(u, IIR);
    out(u, FCR, 0x01);
    iir1 = in(u, IIR);
    vg_result("uart.iir-fcr", iir0 == 0x01 && iir1 == IIR_NONE,
              "IIR 0x%02x with FCR 0 (16450 mode), 0x%02x with the FIFOs "
              "enabled (bits 7:6 set: a 16550A)",
              iir0, iir1);
}

static void
check_thre(struct uart *u)
{
    char reply[64] = "";
    uint8_t a, b, c, lsr;
    bool irq1, irq2, irq3;

    quiesce(u, 0);
    out(u, IER, 0x02);
    /* The interrupt first: reading IIR would acknowledge it. */
    irq1 = irq_got(u, 2000);
    a = in(u, IIR);
    b = in(u, IIR); /* reading the IIR that said THRI cleared it */
    irq_unmask(u);
    irq2 = irq_got(u, 200);
    host(reply, sizeof(reply), "drain");
    out(u, THR, 'Z');
    lsr = poll_reg(u, LSR, LSR_THRE, LSR_THRE, 2000);
    irq3 = irq_got(u, 2000);
    c = in(u, IIR);
    host(reply, sizeof(reply), "recv 1 5000");
    out(u, IER, 0);
    in(u, IIR);
    irq_unmask(u);
    vg_result("uart.thre",
              a == IIR_THRI && irq1 && b == IIR_NONE && !irq2 &&
                  (lsr & LSR_THRE) && c == IIR_THRI && irq3 &&
                  !strcmp(reply, "5a"),
              "IER.THRI on with the FIFO empty: IIR 0x%02x, interrupt %d; "
              "IIR then 0x%02x, interrupt %d; after THR 'Z' went to the "
              "host (%s) LSR 0x%02x, IIR 0x%02x, interrupt %d",
              a, irq1, b, irq2, reply, lsr, c, irq3);
}

static void
check_loopback(struct uart *u)
{
    char reply[64] = "";
    uint8_t all, cts, none, lsr, rbr, lsr2;

    quiesce(u, 0);
    host(reply, sizeof(reply), "drain");
    out(u, MCR, 0x1f);
    all = in(u, MSR);
    out(u, MCR, 0x12);
    cts = in(u, MSR);
    out(u, MCR, 0x10);
    none = in(u, MSR);
    out(u, THR, 'L');
    lsr = poll_reg(u, LSR, LSR_DR, LSR_DR, 1000);
    rbr = in(u, RBR);
    lsr2 = in(u, LSR);
    out(u, MCR, 0x08);
    host(reply, sizeof(reply), "pending");
    vg_result("uart.loopback",
              all == 0xf0 && cts == 0x10 && none == 0x00 && (lsr & LSR_DR) &&
                  rbr == 'L' && !(lsr2 & LSR_DR) && !strcmp(reply, "0"),
              "MCR.LOOP: MSR 0x%02x (all outputs on), 0x%02x (RTS->CTS), "
              "0x%02x; THR 'L' came back as RBR 0x%02x (LSR 0x%02x then "
              "0x%02x), %s bytes reached the host",
              all, cts, none, rbr, lsr, lsr2, reply);
}

static void
check_16450(struct uart *u)
{
    char reply[64];
    uint8_t iir, rbr, iir2, lsr;
    bool irq;

    quiesce(u, 0);
    out(u, FCR, 0x00);
    out(u, IER, 0x01);
    host(reply, sizeof(reply), "send 41");
    poll_reg(u, LSR, LSR_DR, LSR_DR, 2000);
    iir = in(u, IIR);
    irq = irq_got(u, 2000);
    rbr = in(u, RBR);
    iir2 = in(u, IIR);
    lsr = in(u, LSR);
    out(u, IER, 0);
    irq_unmask(u);
    vg_result("uart.rx-16450",
              iir == 0x04 && irq && rbr == 0x41 && iir2 == 0x01 &&
                  !(lsr & LSR_DR),
              "FIFOs off, one byte: IIR 0x%02x, interrupt %d, RBR 0x%02x, "
              "then IIR 0x%02x LSR 0x%02x",
              iir, irq, rbr, iir2, lsr);
}

/* Trigger level n (1, 4, 8, 14; FCR code 0-3) and the character
 * timeout, at 40 baud. */
static void
check_trigger(struct uart *u, unsigned n, unsigned code, unsigned seed)
{
    char name[32], reply[64], req[64], hex[64] = "";
    uint8_t below = IIR_NONE, at, after, cti = IIR_NONE, end_iir, lsr;
    uint8_t got[16];
    bool irq_early = false, irq_rdi, irq_cti = true, data_ok = true;
    uint64_t t0, cti_ms = 0;

    snprintf(name, sizeof(name), "uart.trigger-%u", n);
    quiesce(u, (uint8_t)(code << 6));
    out(u, IER, 0x01);
    for (unsigned i = 0; i < n; i++)
        snprintf(hex + 2 * i, sizeof(hex) - 2 * i, "%02x", pat(i, seed));
    if (n > 1) {
        /* n - 1 bytes: data ready, but below the trigger level and before
         * the timeout nothing is pending. */
        snprintf(req, sizeof(req), "send %.*s", (int)(2 * (n - 1)), hex);
        host(reply, sizeof(reply), req);
        poll_reg(u, LSR, LSR_DR, LSR_DR, 2000);
        below = in(u, IIR);
        irq_early = irq_got(u, 0);
    }
    snprintf(req, sizeof(req), "send %s", hex + 2 * (n - 1));
    host(reply, sizeof(reply), req);
    at = poll_reg(u, IIR, 0xff, IIR_RDI, 2000);
    irq_rdi = irq_got(u, 2000);
    /* One byte read: below the level again, the timeout restarts. */
    t0 = vg_now_ns();
    got[0] = in(u, RBR);
    after = in(u, IIR);
    irq_unmask(u);
    if (n > 1) {
        irq_cti = irq_got(u, 3 * CTI_MS);
        cti_ms = (vg_now_ns() - t0) / 1000000;
        cti = in(u, IIR);
    }
    for (unsigned i = 1; i < n; i++)
        got[i] = in(u, RBR);
    for (unsigned i = 0; i < n; i++)
        data_ok &= got[i] == pat(i, seed);
    end_iir = in(u, IIR);
    lsr = in(u, LSR);
    out(u, IER, 0);
    irq_unmask(u);
    if (n == 1)
        vg_result(name,
                  at == IIR_RDI && irq_rdi && after == IIR_NONE && data_ok &&
                      !(lsr & LSR_DR),
                  "trigger 1: one byte -> IIR 0x%02x, interrupt %d; read "
                  "back right, then IIR 0x%02x LSR 0x%02x",
                  at, irq_rdi, after, lsr);
    else
        vg_result(name,
                  below == IIR_NONE && !irq_early && at == IIR_RDI && irq_rdi &&
                      after == IIR_NONE && irq_cti && cti == IIR_CTI &&
                      cti_ms >= CTI_MS - 10 && cti_ms < 3 * CTI_MS && data_ok &&
                      end_iir == IIR_NONE && !(lsr & LSR_DR),
                  "%u bytes: IIR 0x%02x (interrupt %d); byte %u: IIR "
                  "0x%02x (interrupt %d); one read: IIR 0x%02x; character "
                  "timeout after %llu ms (4 chars at 40 baud: %d): IIR "
                  "0x%02x (interrupt %d); %s; then IIR 0x%02x LSR 0x%02x",
                  n - 1, below, irq_early, n, at, irq_rdi, after,
                  (unsigned long long)cti_ms, CTI_MS, cti, irq_cti,
                  data_ok ? "the bytes in order" : "WRONG bytes", end_iir, lsr);
}

static void
check_by_hand(struct uart *u)
{
    static const unsigned levels[] = {1, 4, 8, 14};

    if (unbind(u) < 0)
        return;
    check_regs(u);
    check_thre(u);
    check_loopback(u);
    check_16450(u);
    out(u, LCR, 0x83);
    out(u, DLL, SLOW_DIVISOR & 0xff);
    out(u, DLM, SLOW_DIVISOR >> 8);
    out(u, LCR, 0x03);
    for (unsigned c = 0; c < 4; c++)
        check_trigger(u, levels[c], c, 3 + c);
    out(u, LCR, 0x83);
    out(u, DLL, 1);
    out(u, DLM, 0);
    out(u, LCR, 0x03);
    quiesce(u, 0);
    out(u, FCR, 0);
}

int
vg_uart_main(int argc, char **argv)
{
    struct uart u = {.uio = -1};

    if (argc != 2)
        return vg_result("uart.usage", false, "uart BDF"), 1;
    u.bdf = argv[1];
    if (check_bind(&u)) {
        check_rxtrig(&u);
        check_tty_data(&u);
        check_shell(&u);
    }
    check_by_hand(&u);
    return vg_failures() ? 1 : 0;
}
