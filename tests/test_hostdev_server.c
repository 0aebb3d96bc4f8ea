/* Issue 11 end to end on the standalone test server (vdev-hostdev,
 * tests/hostdev.c): --clock=virtual and the management channel's clock,
 * clock advance and events; vdevctl clock / events (text and --json, by
 * their schemas); --stream and its option errors; a seamless upgrade that
 * carries the virtual clock, armed timers and the stream's connected host
 * client; and all of it under --seccomp. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "hostdev.h"
#include "model_server.h"
#include "rawsock.h"
#include "vdevctl_run.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define PROG "tests/vdev-hostdev"

static struct model_server srv;

static void
start(bool seccomp)
{
    static const char *const args[] = {"--clock=virtual",
                                       "--stream=serial=unix:%s/serial", NULL};
    static const char *const confined[] = {
        "--clock=virtual", "--stream=serial=unix:%s/serial", "--seccomp", NULL};

    const char *asan = getenv("ASAN_OPTIONS");
    char *saved = asan ? strdup(asan) : NULL;

    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    /* LeakSanitizer's exit-time scan uses ptrace, which the filter does
     * not allow (as in test_seccomp): a confined sanitizer build runs
     * without it. */
    if (seccomp) {
        char *opts =
            talloc_asprintf(NULL, "%s%sdetect_leaks=0", asan ? asan : "",
                            asan && *asan ? ":" : "");
        setenv("ASAN_OPTIONS", opts, 1);
        talloc_free(opts);
    }
    model_server_start_args(&srv, PROG, seccomp ? confined : args);
    if (seccomp && saved)
        setenv("ASAN_OPTIONS", saved, 1);
    else if (seccomp)
        unsetenv("ASAN_OPTIONS");
    free(saved);
}

static void
stop(void)
{
    model_server_stop(&srv);
}

/* A management request that must succeed; its reply (after "ok ") in a
 * talloc string. */
static char *
ask(void *ctx, const char *line)
{
    char reply[4096];
    int rc = vdev_mgmt_client_command(srv.mgmt, line, reply, sizeof(reply));

    cr_assert_eq(rc, 0, "%s: %d %s", line, rc, reply);
    return talloc_strdup(ctx, reply + 3);
}

static char *
refused(void *ctx, const char *line)
{
    char reply[4096];
    int rc = vdev_mgmt_client_command(srv.mgmt, line, reply, sizeof(reply));

    cr_assert_eq(rc, -EREMOTEIO, "%s: %d %s", line, rc, reply);
    return talloc_strdup(ctx, reply);
}

static uint64_t
now_of(const char *clock_reply)
{
    unsigned long long now = 0;

    cr_assert_eq(sscanf(clock_reply, "now=%llu", &now), 1, "%s", clock_reply);
    return now;
}

static void
wr(unsigned reg, uint32_t v)
{
    model_wr(&srv, BAR0, reg, 4, v);
}

static uint32_t
rd(unsigned reg)
{
    return (uint32_t)model_rd(&srv, BAR0, reg, 4);
}

static int
stream_client(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/serial", srv.dir);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s",
                 strerror(errno));
    return fd;
}

/* Bytes within timeout_ms, up to cap. */
static size_t
read_some(int fd, char *buf, size_t cap, size_t want, int timeout_ms)
{
    size_t n = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};

    while (n < want && poll(&p, 1, timeout_ms) == 1) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return n;
}

/* The stream echoes through the device (HD_ECHO). */
static void
echo_check(int fd, const char *msg)
{
    char buf[64];
    size_t len = strlen(msg);

    cr_assert_eq(write(fd, msg, len), (ssize_t)len);
    cr_assert_eq(read_some(fd, buf, sizeof(buf), len, 5000), len);
    cr_assert_eq(memcmp(buf, msg, len), 0);
}

Test(hostdev_server, clock_over_the_management_socket)
{
    void *ctx = talloc_new(NULL);
    char *r;
    uint64_t t0;

    start(false);
    r = ask(ctx, "clock");
    cr_assert(strstr(r, " mode=virtual running=yes tick:off:0:0 "
                        "watchdog:off:0:0"),
              "%s", r);
    t0 = now_of(r);
    /* nothing moves by itself */
    cr_assert_eq(now_of(ask(ctx, "clock")), t0);
    wr(HD_TICK, HD_PERIODIC | 1000);
    r = ask(ctx, "clock advance 10ms");
    cr_assert(strstr(r, "fired=10") && !strstr(r, "left="), "%s", r);
    cr_assert_eq(now_of(r), t0 + 10000000);
    cr_assert_eq(rd(HD_TICKS), 10);
    r = ask(ctx, "clock");
    cr_assert(strstr(r, "tick:on:1000000:1000000"), "%s", r);
    cr_assert(strstr(ask(ctx, "clock advance 999999"), "fired=0"));
    cr_assert(strstr(ask(ctx, "clock advance 1ns"), "fired=1"));
    cr_assert(strstr(ask(ctx, "clock advance 2us"), "fired=0"));
    /* the device's own view of now agrees */
    cr_assert_eq(rd(HD_NOW_LO), (uint32_t)now_of(ask(ctx, "clock")));
    cr_assert(strstr(refused(ctx, "clock advance"), "usage: clock"));
    cr_assert(strstr(refused(ctx, "clock rewind 1s"), "usage: clock"));
    cr_assert(strstr(refused(ctx, "clock advance -1"), "bad duration"));
    cr_assert(strstr(refused(ctx, "clock advance 1h"), "bad duration"));
    cr_assert(strstr(refused(ctx, "clock advance 99999999999999999999s"),
                     "bad duration"));
    cr_assert(strstr(refused(ctx, "clock advance 18446744073709551615"),
                     "Value too large"));
    cr_assert(strstr(ask(ctx, "help"), "clock advance NS, events"));
    stop();
    talloc_free(ctx);
}

/* The budget per request: left= says what is left, vdevctl asks again. */
Test(hostdev_server, advance_in_budgeted_steps)
{
    void *ctx = talloc_new(NULL);
    struct vdevctl_run v;
    char *r;

    start(false);
    wr(HD_TICK, HD_PERIODIC | 1); /* every microsecond */
    r = ask(ctx, "clock advance 100ms");
    cr_assert(strstr(r, "fired=65536 left=34464000"), "%s", r);
    vdevctl_run(&v, srv.mgmt, "clock", "advance", "100ms", NULL);
    cr_assert_eq(v.status, 0, "%s", v.err);
    cr_assert(strstr(v.out, "fired 100000 timer expiries\n"), "%s", v.out);
    cr_assert(strstr(v.out, "timer tick: next in 1000 ns, every 1000 ns\n"),
              "%s", v.out);
    vdevctl_run_free(&v);
    cr_assert_eq(rd(HD_TICKS), 165536);
    stop();
    talloc_free(ctx);
}

Test(hostdev_server, events_reach_every_subscriber)
{
    void *ctx = talloc_new(NULL);
    char line[256], r[256];
    int a = -1, b = -1, quiet = -1;
    unsigned long long t;
    uint64_t now;

    start(false);
    a = vdev_mgmt_client_open(srv.mgmt);
    b = vdev_mgmt_client_open(srv.mgmt);
    quiet = vdev_mgmt_client_open(srv.mgmt);
    cr_assert(a >= 0 && b >= 0 && quiet >= 0);
    cr_assert_eq(vdev_mgmt_client_exchange(a, "events", r, sizeof(r)), 0);
    cr_assert_str_eq(r, "ok subscribed");
    cr_assert_eq(vdev_mgmt_client_exchange(b, "events", r, sizeof(r)), 0);
    cr_assert_eq(vdev_mgmt_client_exchange(quiet, "info", r, sizeof(r)), 0);
    now = now_of(ask(ctx, "clock"));
    wr(HD_EVENT, 1);
    cr_assert_eq(vdev_mgmt_client_next_line(a, line, sizeof(line), 5000), 0);
    cr_assert_eq(sscanf(line, "event poke %llu", &t), 1, "%s", line);
    cr_assert_eq(t, now, "virtual clock: the event carries device time");
    cr_assert_eq(vdev_mgmt_client_next_line(b, line, sizeof(line), 5000), 0);
    cr_assert(!strncmp(line, "event poke ", 11), "%s", line);
    /* the watchdog: an event at its deadline, and a reset */
    wr(HD_WDOG, 500);
    ask(ctx, "clock advance 1ms");
    cr_assert_eq(vdev_mgmt_client_next_line(a, line, sizeof(line), 5000), 0);
    cr_assert_eq(sscanf(line, "event watchdog-expired %llu", &t), 1, "%s",
                 line);
    cr_assert_eq(t, now + 500000);
    cr_assert_eq(rd(HD_RESETS), 1);
    /* a subscriber keeps its requests answered; replies come in order */
    cr_assert_eq(vdev_mgmt_client_exchange(b, "get resets", r, sizeof(r)),
                 -EPROTO, "the pending event line comes first");
    cr_assert_eq(vdev_mgmt_client_next_line(b, line, sizeof(line), 5000), 0);
    cr_assert_str_eq(line, "ok resets=0x00000001");
    /* not subscribed: nothing */
    cr_assert_eq(vdev_mgmt_client_next_line(quiet, line, sizeof(line), 100),
                 -ETIMEDOUT);
    close(a);
    close(b);
    close(quiet);
    stop();
    talloc_free(ctx);
}

/* A subscriber that never reads is dropped once 64 KiB wait for it; the
 * server goes on. */
Test(hostdev_server, subscriber_that_does_not_read_is_dropped)
{
    void *ctx = talloc_new(NULL);
    char r[64], buf[4096];
    int fd, size = 4096;
    ssize_t n;

    start(false);
    fd = vdev_mgmt_client_open(srv.mgmt);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    cr_assert_eq(vdev_mgmt_client_exchange(fd, "events", r, sizeof(r)), 0);
    wr(HD_TICK, HD_PERIODIC | HD_TICK_EVENT | 1);
    ask(ctx, "clock advance 50ms"); /* 50,000 events, ~1.2 MB of lines */
    wr(HD_TICK, 0);
    /* what was sent, then the end */
    do {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        cr_assert_eq(poll(&p, 1, 5000), 1, "never closed");
        n = read(fd, buf, sizeof(buf));
    } while (n > 0);
    cr_assert_eq(n, 0);
    close(fd);
    cr_assert(strstr(ask(ctx, "clock"), "mode=virtual"), "still serving");
    stop();
    talloc_free(ctx);
}

Test(hostdev_server, vdevctl_clock_and_events_json)
{
    char why[2048], buf[4096] = "";
    struct vdevctl_run v;
    int pipefd[2];
    pid_t pid;
    int status;

    start(false);
    wr(HD_TICK, 2000);
    vdevctl_run(&v, "--json", srv.mgmt, "clock", NULL);
    cr_assert_eq(v.status, 0, "%s", v.err);
    cr_assert_eq(json_schema_check("clock", v.out, false, why, sizeof(why)), 0,
                 "%s\n%s", v.out, why);
    cr_assert(strstr(v.out, "\"remaining_ns\":2000000"), "%s", v.out);
    vdevctl_run_free(&v);
    vdevctl_run(&v, "--json", srv.mgmt, "clock", "advance", "2ms", NULL);
    cr_assert_eq(v.status, 0, "%s", v.err);
    cr_assert_eq(json_schema_check("clock", v.out, false, why, sizeof(why)), 0,
                 "%s\n%s", v.out, why);
    cr_assert(strstr(v.out, "\"fired\":1"), "%s", v.out);
    vdevctl_run_free(&v);
    vdevctl_run(&v, srv.mgmt, "clock", "advance", "2 ms", NULL);
    cr_assert_eq(v.status, 2, "%s", v.err);
    vdevctl_run_free(&v);
    vdevctl_run(&v, srv.mgmt, "clock", "advance", "2min", NULL);
    cr_assert_eq(v.status, 2);
    cr_assert(strstr(v.err, "invalid duration '2min'"), "%s", v.err);
    vdevctl_run_free(&v);
    vdevctl_run(&v, srv.mgmt, "clock", "backwards", NULL);
    cr_assert_eq(v.status, 2);
    vdevctl_run_free(&v);

    /* events: two, then vdevctl exits 0 on its own */
    cr_assert_eq(pipe(pipefd), 0);
    const char *argv[] = {"--json", "--count=2", srv.mgmt, "events", NULL};
    pid = vdevctl_spawn(pipefd[1], argv);
    close(pipefd[1]);
    /* until it has subscribed, pokes go nowhere: poke until both came */
    bool done = false;
    for (int i = 0; i < 1000 && !done; i++) {
        wr(HD_EVENT, 1);
        done = waitpid(pid, &status, WNOHANG) == pid;
        if (!done)
            usleep(10000);
    }
    cr_assert(done, "vdevctl events did not exit after two events");
    cr_assert(read_until(pipefd[0], buf, sizeof(buf), "\n{", 5000), "%s", buf);
    close(pipefd[0]);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "0x%x", status);
    cr_assert_eq(json_schema_check("events", buf, true, why, sizeof(why)), 0,
                 "%s\n%s", buf, why);
    cr_assert(strstr(buf, "{\"event\":\"poke\",\"time_ns\":"), "%s", buf);
    stop();
}

Test(hostdev_server, real_clock_cannot_be_advanced)
{
    void *ctx = talloc_new(NULL);
    struct vdevctl_run v;

    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    model_server_start_prog(&srv, PROG);
    cr_assert(strstr(ask(ctx, "clock"), "mode=real"));
    cr_assert(strstr(refused(ctx, "clock advance 1ms"), "--clock=virtual"));
    vdevctl_run(&v, srv.mgmt, "clock", "advance", "1ms", NULL);
    cr_assert_eq(v.status, 1);
    cr_assert(strstr(v.err, "the clock is real"), "%s", v.err);
    vdevctl_run_free(&v);
    stop();
    talloc_free(ctx);
}

/* Exit status and first line of stderr of vdev-hostdev with options. */
static int
run_server(char *err, size_t cap, const char *a1, const char *a2,
           const char *a3)
{
    const char *b = getenv("VDEV_BUILD");
    char cmd[PATH_MAX * 2];
    FILE *p;
    int st;

    snprintf(cmd, sizeof(cmd), "%s/%s %s %s %s 2>&1 >/dev/null",
             b ? b : "build", PROG, a1, a2 ? a2 : "", a3 ? a3 : "");
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    if (!fgets(err, (int)cap, p))
        err[0] = '\0';
    while (fgetc(p) != EOF)
        ;
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(hostdev_server, option_errors)
{
    char err[512], dir[] = "/tmp/vdev-hdopt-XXXXXX", sock[64], bad[96];

    cr_assert_not_null(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "--socket-path=%s/s", dir);
    cr_assert_eq(run_server(err, sizeof(err), sock, "--clock=fast", NULL), 2);
    cr_assert(strstr(err, "bad --clock 'fast'"), "%s", err);
    cr_assert_eq(run_server(err, sizeof(err), sock, "--stream=serial", NULL),
                 2);
    cr_assert_eq(run_server(err, sizeof(err), sock, "--stream==pty", NULL), 2);
    cr_assert_eq(run_server(err, sizeof(err), "--handover-fd=3",
                            "--stream=serial=pty", NULL),
                 2);
    cr_assert_eq(run_server(err, sizeof(err), "--handover-fd=3",
                            "--clock=virtual", NULL),
                 2);
    cr_assert_eq(run_server(err, sizeof(err), sock, "--stream=modem=pty", NULL),
                 1);
    cr_assert(strstr(err, "the device has no stream 'modem'"), "%s", err);
    cr_assert_eq(
        run_server(err, sizeof(err), sock, "--stream=serial=tcp:1", NULL), 1);
    cr_assert(strstr(err, "SPEC is unix:PATH, pty, file:PATH or stdio"), "%s",
              err);
    snprintf(bad, sizeof(bad), "--stream=serial=unix:%s/no/such/dir/s", dir);
    cr_assert_eq(run_server(err, sizeof(err), sock, bad, NULL), 1);
    cr_assert(strstr(err, "No such file or directory"), "%s", err);
    cr_assert_neq(access(sock + 14, F_OK), 0, "nothing left behind");
    rmdir(dir);
}

static pid_t
upgrade(void *ctx)
{
    char binary[PATH_MAX], line[PATH_MAX + 16], *r;
    const char *b = getenv("VDEV_BUILD");
    int pid = -1;

    snprintf(line, sizeof(line), "%s/%s", b ? b : "build", PROG);
    cr_assert_not_null(realpath(line, binary));
    snprintf(line, sizeof(line), "upgrade %s", binary);
    r = ask(ctx, line);
    cr_assert_eq(sscanf(r, "handed over to pid %d", &pid), 1, "%s", r);
    return pid;
}

static void
wait_exit(pid_t pid)
{
    int status = 0;

    for (int i = 0; i < 2000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "0x%x",
                      status);
            return;
        }
        usleep(10000);
    }
    cr_assert_fail("pid %d did not exit", (int)pid);
}

/* The successor takes the virtual clock where it stood, the timers with
 * their remaining time and period, and the stream's socket and connected
 * client: the host at the other end of the stream notices nothing. */
Test(hostdev_server, upgrade_carries_clock_timers_and_stream)
{
    void *ctx = talloc_new(NULL);
    char *before, *after, serial[200];
    pid_t old, pid;
    int fd;

    start(false);
    fd = stream_client();
    wr(HD_ECHO, 1);
    echo_check(fd, "before");
    wr(HD_TICK, HD_PERIODIC | 1000);
    wr(HD_WDOG, 9000);
    ask(ctx, "clock advance 2500us");
    cr_assert_eq(rd(HD_TICKS), 2);
    before = ask(ctx, "clock");

    /* the VMM's connection stays up all along */
    old = srv.pid;
    pid = upgrade(ctx);
    wait_exit(old);
    srv.pid = pid;

    after = ask(ctx, "clock");
    cr_assert_str_eq(after, before);
    cr_assert(strstr(after, "tick:on:500000:1000000 watchdog:on:6500000:0"),
              "%s", after);
    cr_assert_eq(rd(HD_TICKS), 2);
    echo_check(fd, "after the upgrade");
    cr_assert(strstr(ask(ctx, "clock advance 500us"), "fired=1"));
    cr_assert_eq(rd(HD_TICKS), 3);
    close(fd);
    /* the next host client is served by the successor too */
    fd = stream_client();
    echo_check(fd, "next");
    close(fd);
    snprintf(serial, sizeof(serial), "%s/serial", srv.dir);
    stop();
    cr_assert_neq(access(serial, F_OK), 0, "the successor removed it");
    talloc_free(ctx);
}

/* Confined: the tick's timerfd, the stream's socket and the events all
 * work inside the seccomp filter. */
Test(hostdev_server, works_under_seccomp)
{
    void *ctx = talloc_new(NULL);
    char r[64], line[128];
    int fd, ev;

    start(true);
    ev = vdev_mgmt_client_open(srv.mgmt);
    cr_assert_eq(vdev_mgmt_client_exchange(ev, "events", r, sizeof(r)), 0);
    fd = stream_client();
    wr(HD_ECHO, 1);
    echo_check(fd, "confined");
    wr(HD_TICK, HD_PERIODIC | HD_TICK_EVENT | 100);
    ask(ctx, "clock advance 1ms");
    cr_assert_eq(rd(HD_TICKS), 10);
    cr_assert_eq(vdev_mgmt_client_next_line(ev, line, sizeof(line), 5000), 0);
    cr_assert(!strncmp(line, "event tick ", 11), "%s", line);
    wr(HD_TICK, 0);
    close(fd);
    close(ev);
    cr_assert_eq(waitpid(srv.pid, NULL, WNOHANG), 0, "still alive");
    stop();
    talloc_free(ctx);
}

/* CPU time the server used so far, in clock ticks. */
static long
cpu_ticks(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    p = strrchr(buf, ')');
    cr_assert_eq(sscanf(p + 2,
                        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                        &ut, &st),
                 2);
    return (long)(ut + st);
}

/* While a register write waits for the client to answer its DMA, the
 * stream's host sends: the loop neither runs device code for it nor
 * spins on the readable socket; once the wait is over (the client went
 * away) the bytes reach the device. */
Test(hostdev_server, streams_wait_quietly_while_a_handler_waits)
{
    struct vfio_user_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .addr = 0x100000,
        .size = 4096,
    };
    uint8_t m[sizeof(struct vfio_user_region_access) + 4];
    struct vfio_user_region_access a = {
        .offset = HD_DMA, .region = BAR0, .count = 4};
    uint32_t v = 1, iova = 0x100000;
    struct raw_reply r;
    char buf[8];
    long t0;
    int raw = -1, fd;

    start(false);
    model_server_detach(&srv);
    for (int i = 0; i < 300 && raw < 0; i++) {
        raw = raw_connect(srv.sock);
        if (raw >= 0 && raw_negotiate(raw) < 0) {
            close(raw);
            raw = -1;
            usleep(10000);
        }
    }
    cr_assert_geq(raw, 0);
    cr_assert_eq(raw_region_write(raw, BAR0, HD_ECHO, &v, 4), 0);
    fd = stream_client();
    echo_check(fd, "x");
    cr_assert_eq(raw_call(raw, 3, VFIO_USER_DMA_MAP, &map, sizeof(map), NULL),
                 0);
    memcpy(m, &a, sizeof(a));
    memcpy(m + sizeof(a), &iova, 4);
    cr_assert_eq(
        raw_send_msg(raw, 9, VFIO_USER_REGION_WRITE, 0, m, sizeof(m), NULL, 0),
        0);
    cr_assert_eq(raw_recv(raw, &r), 0); /* the server's request: unanswered */
    raw_reply_free(&r);
    cr_assert_eq(write(fd, "abc", 3), 3);
    t0 = cpu_ticks(srv.pid);
    usleep(1000000);
    cr_assert_lt(cpu_ticks(srv.pid) - t0, 30, "the loop spun while waiting");
    cr_assert_eq(read_some(fd, buf, sizeof(buf), 3, 50), 0,
                 "no device code ran meanwhile");
    close(raw); /* the wait ends: the client is gone */
    cr_assert_eq(read_some(fd, buf, sizeof(buf), 3, 5000), 3);
    cr_assert_eq(memcmp(buf, "abc", 3), 0);
    close(fd);
    model_server_attach(&srv);
    stop();
}
