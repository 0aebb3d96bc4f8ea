/* The language's time and host constructs, run: the servers built from
 * tests/golden/lang/30-timers .. 33-events driven over vfio-user, the
 * management socket and a stream's unix socket. Timers run on the virtual
 * clock (--clock=virtual, management `clock advance`), so nothing here
 * sleeps for them: an interrupt must fire exactly at its deadline. A
 * device with an armed timer and a non-empty FIFO is saved and loaded
 * into a second server, which goes on from the same remaining time with
 * the same FIFO contents. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "mig_testdev.h"
#include "model_server.h"
#include "vdevc.h"
#include "vdevc_test.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX

/* tests/golden/lang/30-timers.vdev */
#define TICKER "tests/vdev-lang-30-timers"
#define T_CTRL 0x0
#define T_RUN 1u
#define T_PERIODIC 2u
#define T_IRQ_EN 4u
#define T_PERIOD 0x4
#define T_STATUS 0x8
#define T_EXPIRED 1u
#define T_RUNNING 2u
#define T_LEFT 0xc
#define T_EXPIRIES 0x10
#define T_STAMP 0x18
#define T_TIME 0x20

/* tests/golden/lang/31-fifos.vdev */
#define QUEUE "tests/vdev-lang-31-fifos"
#define Q_PUSH 0x0
#define Q_POP 0x2
#define Q_PEEK 0x4
#define Q_STATUS 0x8
#define Q_FULL 0x100u
#define Q_EMPTY 0x200u
#define Q_CTRL 0xc
#define Q_CLEAR 1u
#define Q_IRQ_FULL 2u

/* tests/golden/lang/32-streams.vdev */
#define UART "tests/vdev-lang-32-streams"
#define U_DATA 0x0
#define U_STATUS 0x4
#define U_READY 1u
#define U_OVERRUN 4u
#define U_SENT 8u
#define U_WAITING(st) (((st) >> 8) & 0xff)
#define U_CTRL 0x8
#define U_IRQ_TX 2u

/* tests/golden/lang/33-events.vdev */
#define THERMAL "tests/vdev-lang-33-events"
#define E_TEMP 0x0
#define E_CMD 0x8

static const char *const virtual_clock[] = {"--clock=virtual", NULL};

static uint64_t
rd(struct model_server *s, uint64_t off, unsigned width)
{
    return model_rd(s, BAR0, off, width);
}

static void
wr(struct model_server *s, uint64_t off, unsigned width, uint64_t v)
{
    model_wr(s, BAR0, off, width, v);
}

/* `clock advance ARG` on the management socket; the expiries it fired. */
static unsigned
advance(struct model_server *s, const char *arg)
{
    char line[64], reply[512];
    unsigned fired = 0;

    snprintf(line, sizeof(line), "clock advance %s", arg);
    cr_assert_eq(vdev_mgmt_client_command(s->mgmt, line, reply, sizeof(reply)),
                 0, "%s: %s", line, reply);
    const char *f = strstr(reply, "fired=");
    cr_assert_not_null(f, "%s", reply);
    cr_assert_eq(sscanf(f, "fired=%u", &fired), 1, "%s", reply);
    return fired;
}

static int
intx(struct model_server *s)
{
    int efd = model_eventfd();

    cr_assert_eq(vdev_client_set_irqs(s->cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &efd, NULL),
                 0);
    return efd;
}

static void
intx_unmask(struct model_server *s)
{
    cr_assert_eq(vdev_client_set_irqs(s->cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_NONE |
                                          VFIO_IRQ_SET_ACTION_UNMASK,
                                      0, 1, NULL, NULL),
                 0);
}

/* ------------------------------------------------------------ timers */

Test(lang_host, timer_interrupt_fires_exactly_when_due)
{
    struct model_server s = {0};
    model_server_start_args(&s, TICKER, virtual_clock);
    int efd = intx(&s);
    uint64_t t0 = rd(&s, T_TIME, 8);

    wr(&s, T_PERIOD, 4, 100); /* us */
    wr(&s, T_CTRL, 4, T_RUN | T_IRQ_EN);
    cr_expect_eq(rd(&s, T_STATUS, 4), T_RUNNING);
    cr_expect_eq(rd(&s, T_LEFT, 4), 100);
    cr_expect_eq(advance(&s, "99999ns"), 0);
    cr_expect(!model_fired(efd, 0), "an interrupt 1 ns early");
    cr_expect_eq(rd(&s, T_EXPIRIES, 4), 0);
    cr_expect_eq(rd(&s, T_STATUS, 4), T_RUNNING);
    cr_expect_eq(advance(&s, "1ns"), 1);
    cr_expect(model_fired(efd, 0), "no interrupt at the deadline");
    cr_expect_eq(rd(&s, T_STATUS, 4), T_EXPIRED, "expired, stopped");
    cr_expect_eq(rd(&s, T_EXPIRIES, 4), 1);
    cr_expect_eq(rd(&s, T_STAMP, 8), t0 + 100000, "now is the deadline");
    cr_expect_eq(rd(&s, T_STAMP, 8), 0, "one stamp only");
    cr_expect_eq(rd(&s, T_TIME, 8), t0 + 100000);
    cr_expect_eq(advance(&s, "1ms"), 0, "a one-shot timer fires once");

    /* Periodic, from a fresh edge of the interrupt. */
    wr(&s, T_STATUS, 4, T_EXPIRED);
    intx_unmask(&s);
    cr_expect(!model_fired(efd, 0));
    uint64_t t1 = rd(&s, T_TIME, 8);
    wr(&s, T_CTRL, 4, T_RUN | T_PERIODIC | T_IRQ_EN);
    cr_expect_eq(advance(&s, "250us"), 2);
    cr_expect(model_fired(efd, 0));
    cr_expect_eq(rd(&s, T_EXPIRIES, 4), 3);
    cr_expect_eq(rd(&s, T_LEFT, 4), 50);
    cr_expect_eq(rd(&s, T_STAMP, 8), t1 + 100000);
    cr_expect_eq(rd(&s, T_STAMP, 8), t1 + 200000);
    cr_expect_eq(rd(&s, T_STAMP, 8), 0);

    /* stop */
    wr(&s, T_CTRL, 4, 0);
    cr_expect_eq(rd(&s, T_STATUS, 4) & T_RUNNING, 0);
    cr_expect_eq(rd(&s, T_LEFT, 4), 0);
    cr_expect_eq(advance(&s, "1ms"), 0);
    cr_expect_eq(rd(&s, T_EXPIRIES, 4), 3);
    close(efd);
    model_server_stop(&s);
}

/* A device reset stops the timers and empties the FIFOs; device time goes
 * on. A timer can be armed again after it. */
Test(lang_host, reset_stops_timers_and_empties_fifos)
{
    struct model_server s = {0};
    model_server_start_args(&s, TICKER, virtual_clock);
    wr(&s, T_PERIOD, 4, 10);
    wr(&s, T_CTRL, 4, T_RUN | T_PERIODIC);
    cr_expect_eq(advance(&s, "25us"), 2);
    uint64_t before = rd(&s, T_TIME, 8);
    cr_assert_eq(vdev_client_reset(s.cl), 0);
    cr_expect_eq(rd(&s, T_STATUS, 4), 0, "stopped");
    cr_expect_eq(rd(&s, T_EXPIRIES, 4), 0);
    cr_expect_eq(rd(&s, T_STAMP, 8), 0, "the FIFO is empty");
    cr_expect_eq(rd(&s, T_PERIOD, 4), 1000, "reset value");
    cr_expect_eq(advance(&s, "10ms"), 0);
    cr_expect_geq(rd(&s, T_TIME, 8), before, "device time is not reset");
    wr(&s, T_CTRL, 4, T_RUN);
    cr_expect_eq(advance(&s, "1ms"), 1);
    model_server_stop(&s);
}

/* Saved with an armed timer (300 of its 1000 us gone) and three stamps
 * queued; loaded into another server, the timer expires 700 us later and
 * the stamps come out in order. */
Test(lang_host, armed_timer_and_fifo_migrate)
{
    struct model_server src = {0}, dst = {0};
    char file[256], reply[512];
    uint64_t t0, stamps[3];

    model_server_start_args(&src, TICKER, virtual_clock);
    t0 = rd(&src, T_TIME, 8);
    wr(&src, T_PERIOD, 4, 100);
    wr(&src, T_CTRL, 4, T_RUN | T_PERIODIC);
    cr_assert_eq(advance(&src, "350us"), 3);
    for (unsigned i = 0; i < 3; i++)
        stamps[i] = t0 + 100000 * (i + 1);
    wr(&src, T_PERIOD, 4, 1000);
    wr(&src, T_CTRL, 4, T_RUN);
    cr_assert_eq(advance(&src, "300us"), 0);
    cr_assert_eq(rd(&src, T_LEFT, 4), 700);
    uint64_t saved_at = rd(&src, T_TIME, 8);
    snprintf(file, sizeof(file), "%s/ticker.state", src.dir);
    cr_assert_eq(vdev_mgmt_client_save(src.mgmt, file, reply, sizeof(reply)), 0,
                 "%s", reply);

    model_server_start_args(&dst, TICKER, virtual_clock);
    cr_assert_eq(vdev_mgmt_client_load(dst.mgmt, file, reply, sizeof(reply)), 0,
                 "%s", reply);
    cr_expect_eq(rd(&dst, T_TIME, 8), saved_at, "device time travelled");
    cr_expect_eq(rd(&dst, T_STATUS, 4), T_EXPIRED | T_RUNNING);
    cr_expect_eq(rd(&dst, T_LEFT, 4), 700);
    cr_expect_eq(rd(&dst, T_EXPIRIES, 4), 3);
    for (unsigned i = 0; i < 3; i++)
        cr_expect_eq(rd(&dst, T_STAMP, 8), stamps[i], "stamp %u", i);
    cr_expect_eq(rd(&dst, T_STAMP, 8), 0);
    cr_expect_eq(advance(&dst, "699us"), 0);
    cr_expect_eq(advance(&dst, "1us"), 1);
    cr_expect_eq(rd(&dst, T_EXPIRIES, 4), 4);
    cr_expect_eq(rd(&dst, T_STAMP, 8), saved_at + 700000);
    model_server_stop(&dst);
    model_server_stop(&src);
}

/* ------------------------------------------------------------ FIFOs */

Test(lang_host, fifo_push_pop_peek_clear_and_full_interrupt)
{
    struct model_server s = {0};
    model_server_start_prog(&s, QUEUE);
    int efd = intx(&s);

    cr_expect_eq(rd(&s, Q_STATUS, 4), 0x080000 | Q_EMPTY, "empty, depth 8");
    cr_expect_eq(rd(&s, Q_POP, 2), 0, "pop of an empty FIFO");
    wr(&s, Q_CTRL, 4, Q_IRQ_FULL);
    for (unsigned i = 0; i < 8; i++) {
        cr_expect(!model_fired(efd, 0), "interrupt before full (%u)", i);
        wr(&s, Q_PUSH, 2, 0x100 + i);
    }
    cr_expect(model_fired(efd, 0), "full: interrupt");
    wr(&s, Q_PUSH, 2, 0xdead); /* dropped */
    cr_expect_eq(rd(&s, Q_STATUS, 4), 0x080000 | Q_FULL | 8);
    cr_expect_eq(rd(&s, Q_PEEK, 2), 0x100);
    cr_expect_eq(rd(&s, Q_POP, 2), 0x100);
    cr_expect_eq(rd(&s, Q_STATUS, 4), 0x080000 | 7, "no longer full");
    intx_unmask(&s);
    cr_expect(!model_fired(efd, 0), "the level went down with the pop");
    wr(&s, Q_PUSH, 2, 0x108); /* wraps around the ring */
    cr_expect(model_fired(efd, 0), "full again");
    for (unsigned i = 1; i <= 8; i++)
        cr_expect_eq(rd(&s, Q_POP, 2), 0x100 + i, "in order (%u)", i);
    cr_expect_eq(rd(&s, Q_STATUS, 4), 0x080000 | Q_EMPTY);
    wr(&s, Q_PUSH, 2, 1);
    wr(&s, Q_PUSH, 2, 2);
    wr(&s, Q_CTRL, 4, Q_CLEAR);
    cr_expect_eq(rd(&s, Q_STATUS, 4), 0x080000 | Q_EMPTY, "cleared");
    wr(&s, Q_PUSH, 2, 3);
    cr_assert_eq(vdev_client_reset(s.cl), 0);
    cr_expect_eq(rd(&s, Q_STATUS, 4), 0x080000 | Q_EMPTY, "reset empties");
    close(efd);
    model_server_stop(&s);
}

/* A saved FIFO whose head or count is past its depth is a hostile
 * stream: the load is refused and the device keeps what it had. */
Test(lang_host, fifo_out_of_shape_is_refused_on_load)
{
    struct model_server src = {0}, dst = {0};
    char file[256], reply[512];
    size_t len;

    model_server_start_prog(&src, QUEUE);
    model_server_start_quiet(&dst, QUEUE); /* it says what it refuses */
    for (unsigned i = 1; i <= 3; i++)
        wr(&src, Q_PUSH, 2, 0x111 * i);
    snprintf(file, sizeof(file), "%s/queue.state", src.dir);
    cr_assert_eq(vdev_mgmt_client_save(src.mgmt, file, reply, sizeof(reply)), 0,
                 "%s", reply);
    uint8_t *buf = (uint8_t *)vt_read(NULL, file, &len);
    cr_assert_not_null(buf);
    /* The field: u32 id, u32 size (head, count, 8 x u16), the bytes. */
    uint32_t hdr[2] = {vdevc_fnv1a("state.cmds"), 8 + 8 * 2}, v;
    uint8_t *f = memmem(buf, len, hdr, sizeof(hdr));
    cr_assert_not_null(f, "no state.cmds field in the stream");
    f += sizeof(hdr);
    memcpy(&v, f + 4, 4);
    cr_assert_eq(v, 3, "count");

    static const struct {
        unsigned at;
        uint32_t value;
    } bad[] = {{4, 9}, {0, 8}};
    for (unsigned k = 0; k < 2; k++) {
        uint32_t keep;
        memcpy(&keep, f + bad[k].at, 4);
        memcpy(f + bad[k].at, &bad[k].value, 4);
        mt_fix_crc(buf, len);
        FILE *out = fopen(file, "w");
        cr_assert_eq(fwrite(buf, 1, len, out), len);
        fclose(out);
        cr_expect_eq(
            vdev_mgmt_client_load(dst.mgmt, file, reply, sizeof(reply)),
            -EREMOTEIO, "%s", reply);
        cr_expect_eq(rd(&dst, Q_STATUS, 4), 0x080000 | Q_EMPTY);
        memcpy(f + bad[k].at, &keep, 4);
    }
    mt_fix_crc(buf, len);
    FILE *out = fopen(file, "w");
    cr_assert_eq(fwrite(buf, 1, len, out), len);
    fclose(out);
    cr_assert_eq(vdev_mgmt_client_load(dst.mgmt, file, reply, sizeof(reply)), 0,
                 "%s", reply);
    for (unsigned i = 1; i <= 3; i++)
        cr_expect_eq(rd(&dst, Q_POP, 2), 0x111 * i);
    talloc_free(buf);
    model_server_stop(&dst);
    model_server_stop(&src);
}

/* ------------------------------------------------------------ streams */

static int
stream_client(struct model_server *s)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert_geq(fd, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/serial", s->dir);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s",
                 strerror(errno));
    return fd;
}

/* Polls a register until (value & mask) == want, for up to 5 s of the
 * server moving bytes; returns the last value read. */
static uint64_t
wait_reg(struct model_server *s, uint64_t off, uint64_t mask, uint64_t want)
{
    uint64_t v = 0;
    for (int i = 0; i < 5000; i++) {
        v = rd(s, off, 4);
        if ((v & mask) == want)
            break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return v;
}

static size_t
read_some(int fd, char *buf, size_t cap, size_t want)
{
    size_t n = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};

    while (n < want && poll(&p, 1, 5000) == 1) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return n;
}

/* Host bytes arrive in order, 16 at a time (rx's depth): the rest wait in
 * the host until the guest reads; the guest's bytes reach the host and
 * `on transmit` raises the interrupt once tx drained. */
Test(lang_host, stream_echo_through_the_guest_with_back_pressure)
{
    static const char *const args[] = {"--stream=serial=unix:%s/serial", NULL};
    struct model_server s = {0};
    char msg[100], got[100];

    model_server_start_args(&s, UART, args);
    int efd = intx(&s);
    int fd = stream_client(&s);
    for (unsigned i = 0; i < sizeof(msg); i++)
        msg[i] = (char)('A' + i % 53);
    cr_assert_eq(write(fd, msg, sizeof(msg)), (ssize_t)sizeof(msg));

    uint64_t st = wait_reg(&s, U_STATUS, 0xff00, 16 << 8);
    cr_assert_eq(U_WAITING(st), 16, "rx holds its depth, no more");
    cr_expect(st & U_READY);
    cr_expect(st & U_OVERRUN, "on receive saw rx full");
    /* The guest reads: room again, the host's next bytes come in. */
    for (size_t n = 0; n < sizeof(msg); n++) {
        wait_reg(&s, U_STATUS, U_READY, U_READY);
        got[n] = (char)rd(&s, U_DATA, 1);
    }
    cr_expect_eq(memcmp(got, msg, sizeof(msg)), 0, "in order, none lost");
    cr_expect_eq(rd(&s, U_STATUS, 4) & (U_READY | 0xff00), 0);

    /* Guest to host; `on transmit` once the server drained tx. */
    wr(&s, U_CTRL, 4, U_IRQ_TX);
    for (const char *p = "hello"; *p; p++)
        wr(&s, U_DATA, 1, (uint8_t)*p);
    cr_assert_eq(read_some(fd, got, sizeof(got), 5), 5);
    cr_expect_eq(memcmp(got, "hello", 5), 0);
    cr_expect_eq(wait_reg(&s, U_STATUS, U_SENT, U_SENT) & U_SENT, U_SENT);
    cr_expect(model_fired(efd, 5000), "on transmit raised the interrupt");
    close(fd);
    close(efd);
    model_server_stop(&s);
}

/* ------------------------------------------------------------ events */

Test(lang_host, events_reach_a_subscriber)
{
    struct model_server s = {0};
    char reply[256], line[256];
    unsigned long long when = 0;

    model_server_start_prog(&s, THERMAL);
    int fd = vdev_mgmt_client_open(s.mgmt);
    cr_assert_geq(fd, 0);
    cr_assert_eq(vdev_mgmt_client_exchange(fd, "events", reply, sizeof(reply)),
                 0, "%s", reply);
    wr(&s, E_TEMP, 4, 95);
    cr_assert_eq(vdev_mgmt_client_next_line(fd, line, sizeof(line), 5000), 0);
    cr_expect_eq(sscanf(line, "event overheat %llu", &when), 1, "%s", line);
    wr(&s, E_TEMP, 4, 99); /* still over: no new event */
    wr(&s, E_CMD, 4, 0x1234);
    wr(&s, E_CMD, 4, 0x5a5a);
    cr_assert_eq(vdev_mgmt_client_next_line(fd, line, sizeof(line), 5000), 0);
    cr_expect(strncmp(line, "event shutdown_requested ", 25) == 0, "%s", line);
    cr_expect_eq(vdev_mgmt_client_next_line(fd, line, sizeof(line), 50),
                 -ETIMEDOUT, "%s", line);
    close(fd);
    model_server_stop(&s);
}
