/* Management channel: named values over the mgmt socket, driven through the
 * client functions and raw sockets while vdev_run() serves in a thread. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "vdev.h"
#include "vdev_client.h"

static uint64_t t_pins, t_level, t_count, t_wide;
static int t_busy_calls;
static struct vdev_dev *t_dev;
static pthread_t t_thread;
static char t_dir[64], t_path[128];

static uint64_t
pins_get(struct vdev_dev *d)
{
    return t_pins;
}
static int
pins_set(struct vdev_dev *d, uint64_t v)
{
    t_pins = v;
    return 0;
}
static uint64_t
level_get(struct vdev_dev *d)
{
    return t_level;
}
static int
level_set(struct vdev_dev *d, uint64_t v)
{
    t_level = v;
    return 0;
}
static uint64_t
count_get(struct vdev_dev *d)
{
    return t_count;
}
static uint64_t
wide_get(struct vdev_dev *d)
{
    return t_wide;
}
static int
wide_set(struct vdev_dev *d, uint64_t v)
{
    t_wide = v;
    return 0;
}
static uint64_t
busy_get(struct vdev_dev *d)
{
    return 0;
}
static int
busy_set(struct vdev_dev *d, uint64_t v)
{
    t_busy_calls++;
    return -EBUSY;
}

static const struct vdev_var t_vars[] = {
    {.name = "pins",
     .bits = 16,
     .external = true,
     .get = pins_get,
     .set = pins_set,
     .doc = "input pins,\n\tone per bit"},
    {.name = "state.level",
     .bits = 1,
     .external = true,
     .get = level_get,
     .set = level_set},
    {.name = "count",
     .bits = 32,
     .get = count_get,
     .doc = "messages \"counted\""},
    {.name = "wide",
     .bits = 64,
     .external = true,
     .get = wide_get,
     .set = wide_set},
    {.name = "busy",
     .bits = 8,
     .external = true,
     .get = busy_get,
     .set = busy_set},
};

static void *
run_thread(void *arg)
{
    return (void *)(intptr_t)vdev_run(arg);
}

static struct vdev_dev *
make_dev(void *ctx)
{
    static const struct vdev_pci_ident ident = {
        .vendor_id = 0x494f,
        .device_id = 0x0dc8,
        .class_code = 0xff0000,
    };
    return vdev_dev_create(ctx, "mgmt-test", &ident);
}

static void
setup(void)
{
    strcpy(t_dir, "/tmp/vdev-mgmt-XXXXXX");
    cr_assert_not_null(mkdtemp(t_dir));
    snprintf(t_path, sizeof(t_path), "%s/dev.mgmt", t_dir);
    t_pins = 0x00ff;
    t_level = 0;
    t_count = 42;
    t_wide = 0;
    t_busy_calls = 0;
    t_dev = make_dev(NULL);
    cr_assert_not_null(t_dev);
    vdev_set_log(t_dev, NULL, NULL, VDEV_LOG_ERROR); /* drops are expected */
    cr_assert_eq(vdev_register_vars(t_dev, t_vars, 5), 0);
    cr_assert_eq(vdev_mgmt_listen(t_dev, t_path), 0);
    cr_assert_eq(pthread_create(&t_thread, NULL, run_thread, t_dev), 0);
}

static void
teardown(void)
{
    void *ret;

    vdev_stop(t_dev);
    pthread_join(t_thread, &ret);
    cr_expect_eq((intptr_t)ret, 0);
    talloc_free(t_dev);
    cr_expect_eq(access(t_path, F_OK), -1, "mgmt socket file left behind");
    rmdir(t_dir);
}

TestSuite(mgmt, .init = setup, .fini = teardown, .timeout = 30);

static void
expect_reply(const char *line, int rc, const char *reply)
{
    char buf[1024];
    int got = vdev_mgmt_client_command(t_path, line, buf, sizeof(buf));

    cr_expect_eq(got, rc, "'%s': rc %d, want %d (%s)", line, got, rc, buf);
    if (reply)
        cr_expect_str_eq(buf, reply, "'%s'", line);
}

static void
expect_error(const char *line, const char *part)
{
    char buf[1024];
    int got = vdev_mgmt_client_command(t_path, line, buf, sizeof(buf));

    cr_expect_eq(got, -EREMOTEIO, "'%s' -> %d %s", line, got, buf);
    cr_expect(!strncmp(buf, "error: ", 7), "'%s' -> '%s'", line, buf);
    cr_expect_not_null(strstr(buf, part), "'%s' -> '%s'", line, buf);
}

Test(mgmt, socket_is_private)
{
    struct stat st;

    cr_assert_eq(stat(t_path, &st), 0);
    cr_expect(S_ISSOCK(st.st_mode));
    cr_expect_eq(st.st_mode & 0777, 0600, "mode %o", st.st_mode & 0777);
}

Test(mgmt, list_names_widths_and_access)
{
    expect_reply("list", 0,
                 "ok pins:16:ext state.level:1:ext count:32:ro wide:64:ext "
                 "busy:8:ext");
    expect_reply("help", 0, NULL);
}

Test(mgmt, get_reads_through_the_getter)
{
    uint64_t v = 0;

    expect_reply("get pins", 0, "ok pins=0x00ff");
    expect_reply("get count", 0, "ok count=0x0000002a");
    t_count = 7;
    cr_expect_eq(vdev_mgmt_client_get(t_path, "count", &v), 0);
    cr_expect_eq(v, 7);
}

Test(mgmt, set_external_reaches_the_device)
{
    uint64_t v = 0;

    expect_reply("set pins 0xbeef", 0, "ok pins=0xbeef");
    cr_expect_eq(t_pins, 0xbeef);
    expect_reply("set state.level 1", 0, "ok state.level=0x1");
    cr_expect_eq(t_level, 1);
    expect_reply("set pins 0b101", 0, "ok pins=0x0005");
    cr_expect_eq(vdev_mgmt_client_set(t_path, "pins", 1234), 0);
    cr_expect_eq(t_pins, 1234);
    cr_expect_eq(vdev_mgmt_client_get(t_path, "pins", &v), 0);
    cr_expect_eq(v, 1234);
    expect_reply("set wide 0xffffffffffffffff", 0,
                 "ok wide=0xffffffffffffffff");
    cr_expect_eq(t_wide, UINT64_MAX);
}

Test(mgmt, set_read_only_is_refused)
{
    expect_error("set count 1", "read-only");
    cr_expect_eq(t_count, 42);
}

Test(mgmt, out_of_range_and_bad_values_are_refused)
{
    expect_error("set pins 0x10000", "out of range");
    expect_error("set pins 65536", "out of range");
    expect_error("set state.level 2", "out of range");
    expect_error("set wide 0x10000000000000000", "bad value");
    expect_error("set pins -1", "bad value");
    expect_error("set pins 12abc", "bad value");
    expect_error("set pins 0x", "bad value");
    cr_expect_eq(t_pins, 0x00ff);
    cr_expect_eq(t_level, 0);
}

Test(mgmt, setter_errors_are_reported)
{
    expect_error("set busy 3", "set busy");
    cr_expect_eq(t_busy_calls, 1);
}

Test(mgmt, unknown_names_and_commands)
{
    uint64_t v;

    expect_error("get nosuch", "unknown name");
    expect_error("set nosuch 1", "unknown name");
    expect_error("frobnicate", "unknown command");
    expect_error("get", "usage");
    expect_error("get pins extra", "usage");
    expect_error("set a b c d e f", "too many");
    cr_expect_eq(vdev_mgmt_client_get(t_path, "nosuch", &v), -EREMOTEIO);
}

Test(mgmt, stats_and_info)
{
    char buf[512];

    cr_assert_eq(vdev_mgmt_client_command(t_path, "stats", buf, sizeof(buf)),
                 0);
    cr_expect(!strncmp(buf, "ok messages=0 errors=0 ", 23), "%s", buf);
    cr_expect_not_null(strstr(buf, "connections="));
    cr_assert_eq(vdev_mgmt_client_command(t_path, "info", buf, sizeof(buf)), 0);
    cr_expect_not_null(strstr(buf, "vendor=0x494f device=0x0dc8"), "%s", buf);
}

/* Raw socket helpers for what the client functions refuse to send. */
static int
raw_connect(void)
{
    int fd = vdev_mgmt_client_open(t_path);

    cr_assert_geq(fd, 0, "connect: %s", strerror(-fd));
    return fd;
}

static void
raw_send(int fd, const void *buf, size_t len)
{
    cr_assert_eq(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Reads one reply line from a raw connection. */
static void
raw_reply(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    while (n + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        cr_assert_eq(poll(&p, 1, 5000), 1, "no reply");
        cr_assert_eq(recv(fd, buf + n, 1, 0), 1);
        if (buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
}

Test(mgmt, several_requests_on_one_connection)
{
    static const char batch[] = "get pins\nset pins 3\r\n\n \t\nget pins\n";
    int fd = raw_connect();
    char buf[256];

    raw_send(fd, batch, sizeof(batch) - 1);
    raw_reply(fd, buf, sizeof(buf));
    cr_expect_str_eq(buf, "ok pins=0x00ff");
    raw_reply(fd, buf, sizeof(buf));
    cr_expect_str_eq(buf, "ok pins=0x0003", "CRLF accepted");
    raw_reply(fd, buf, sizeof(buf));
    cr_expect_str_eq(buf, "ok pins=0x0003", "blank lines get no reply");
    cr_expect_eq(vdev_mgmt_client_exchange(fd, "list", buf, 8), 0);
    cr_expect_str_eq(buf, "ok pins", "reply cut to the buffer");
    cr_expect_eq(vdev_mgmt_client_exchange(fd, "get count", buf, sizeof(buf)),
                 0);
    cr_expect_str_eq(buf, "ok count=0x0000002a", "stream stays in step");
    close(fd);
}

Test(mgmt, overlong_line_is_refused_and_the_stream_recovers)
{
    char line[2000], buf[256];
    int fd;

    memset(line, 'x', sizeof(line));
    line[sizeof(line) - 1] = '\0';
    cr_expect_eq(vdev_mgmt_client_command(t_path, line, buf, sizeof(buf)),
                 -EINVAL, "client refuses to send it");
    line[sizeof(line) - 1] = '\n';
    fd = raw_connect();
    raw_send(fd, line, sizeof(line));
    raw_send(fd, "set pins 9\n", 11);
    raw_reply(fd, buf, sizeof(buf));
    cr_expect(!strncmp(buf, "error: line too long", 20), "%s", buf);
    raw_reply(fd, buf, sizeof(buf));
    cr_expect_str_eq(buf, "ok pins=0x0009");
    cr_expect_eq(t_pins, 9);
    close(fd);
}

Test(mgmt, garbage_bytes_get_an_error)
{
    static const char junk[] = "\x01\x02\xff\xfe set pins 1\n";
    char buf[256];
    int fd = raw_connect();

    raw_send(fd, junk, sizeof(junk) - 1);
    raw_send(fd, "get pins\n", 9);
    raw_reply(fd, buf, sizeof(buf));
    cr_expect(!strncmp(buf, "error: ", 7), "%s", buf);
    raw_reply(fd, buf, sizeof(buf));
    cr_expect_str_eq(buf, "ok pins=0x00ff", "the junk line did not set");
    close(fd);
}

static int64_t
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A vfio-user client on the wrong socket: its header holds a NUL. It is
 * told at once and hung up on, not left waiting for a newline. */
Test(mgmt, binary_data_is_refused_and_the_connection_closed)
{
    static const char version[] = "\x01\x00\x01\x00\x20\x00\x00\x00"
                                  "\x00\x00\x00\x00\x00\x00\x00\x00"
                                  "\x00\x00\x00\x00{\"capabilities\":{}}";
    char buf[256];
    int fd = raw_connect();
    struct pollfd p = {.fd = fd, .events = POLLIN};

    raw_send(fd, version, sizeof(version) - 1);
    raw_reply(fd, buf, sizeof(buf));
    cr_expect(!strncmp(buf,
                       "error: binary data; this is a vdev management "
                       "socket",
                       52),
              "%s", buf);
    cr_assert_eq(poll(&p, 1, 2000), 1, "not hung up on");
    cr_expect_leq(recv(fd, buf, sizeof(buf), 0), 0, "bytes after the error");
    close(fd);
    expect_reply("get pins", 0, "ok pins=0x00ff");
}

Test(mgmt, values_and_docs)
{
    expect_reply("values", 0,
                 "ok pins=0x00ff state.level=0x0 count=0x0000002a "
                 "wide=0x0000000000000000 busy=0x00");
    /* control characters of a doc string become spaces: one line */
    expect_reply("doc pins", 0, "ok input pins,  one per bit");
    expect_reply("doc count", 0, "ok messages \"counted\"");
    expect_reply("doc wide", 0, "ok");
    expect_error("doc nosuch", "unknown name 'nosuch'");
    expect_error("doc", "usage: doc NAME");
    expect_error("values x", "usage: values");
}

/* Short requests are padded to a header's size, and a reply that cannot
 * begin "ok" or "error" is refused without waiting for a newline: a
 * management request sent to a vfio-user socket fails at once. */
Test(mgmt, binary_reply_fails_fast)
{
    int sv[2];
    char req[64];
    static const char hdr[16] = {0x69, 0x6e, 0x66, 0x6f, 0x10};

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(send(sv[1], hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
    int64_t t0 = mono_ms();
    cr_expect_eq(vdev_mgmt_client_exchange(sv[0], "info", NULL, 0), -EPROTO);
    cr_expect_lt(mono_ms() - t0, 1000);
    ssize_t n = recv(sv[1], req, sizeof(req), MSG_DONTWAIT);
    cr_expect_eq(n, 16, "request padded to %zd bytes", n);
    cr_expect_eq(memcmp(req, "info           \n", 16), 0);
    close(sv[0]);
    close(sv[1]);
}

Test(mgmt, silent_clients_do_not_block_others)
{
    int silent[12];

    /* More than the server keeps: half a line each, then nothing. */
    for (unsigned i = 0; i < 12; i++) {
        silent[i] = raw_connect();
        raw_send(silent[i], "get pi", 6);
    }
    expect_reply("get pins", 0, "ok pins=0x00ff");
    expect_reply("set pins 0x42", 0, "ok pins=0x0042");
    for (unsigned i = 0; i < 12; i++)
        close(silent[i]);
    expect_reply("get pins", 0, "ok pins=0x0042");
}

Test(mgmt, a_client_that_never_reads_is_dropped)
{
    char req[4096];
    int fd = raw_connect();
    size_t sent = 0;

    for (size_t i = 0; i + 5 <= sizeof(req); i += 5)
        memcpy(req + i, "list\n", 5);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    /* Keep asking without reading until the server hangs up or the
     * socket is full; either way others must still be served. */
    for (int k = 0; k < 4000; k++) {
        ssize_t n = send(fd, req, sizeof(req) - sizeof(req) % 5, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            usleep(1000);
            continue;
        }
        if (n < 0)
            break; /* dropped: EPIPE / ECONNRESET */
        sent += (size_t)n;
    }
    expect_reply("get pins", 0, "ok pins=0x00ff");
    /* And that connection was hung up on, not kept waiting forever. */
    {
        struct timeval tv = {.tv_sec = 5};
        char sink[65536];
        ssize_t n;

        fcntl(fd, F_SETFL, 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        while ((n = recv(fd, sink, sizeof(sink), 0)) > 0)
            ;
        cr_expect(n == 0 || errno == ECONNRESET, "sent %zu, recv: %s", sent,
                  strerror(errno));
    }
    close(fd);
}

Test(mgmt, half_closed_client_still_gets_its_reply)
{
    char buf[256];
    int fd = raw_connect();

    raw_send(fd, "get pins\n", 9);
    shutdown(fd, SHUT_WR);
    raw_reply(fd, buf, sizeof(buf));
    cr_expect_str_eq(buf, "ok pins=0x00ff");
    close(fd);
}

/* Suite without the fixture: registration and socket rules. */
Test(mgmt_setup, register_vars_validates)
{
    void *ctx = talloc_new(NULL);
    struct vdev_dev *dev = make_dev(ctx);
    struct vdev_var bad[] = {
        {.name = "zero", .bits = 0, .get = count_get},
        {.name = "ext-no-set", .bits = 8, .external = true, .get = count_get},
        {.name = "has space", .bits = 8, .get = count_get},
        {.name = "noget", .bits = 8, .get = NULL},
        {.name = "wide", .bits = 65, .get = count_get},
        {.name = "a=b", .bits = 8, .get = count_get},
        {.name = "", .bits = 8, .get = count_get},
    };

    cr_assert_not_null(dev);
    for (unsigned i = 0; i < 7; i++)
        cr_expect_eq(vdev_register_vars(dev, &bad[i], 1), -EINVAL, "%u", i);
    cr_expect_eq(vdev_register_vars(dev, t_vars, 2), 0);
    cr_expect_eq(vdev_register_vars(dev, &t_vars[1], 1), -EEXIST);
    cr_expect_eq(vdev_register_vars(dev, &t_vars[2], 3), 0, "appends");
    talloc_free(ctx);
}

Test(mgmt_setup, live_socket_refused_stale_replaced)
{
    char dir[] = "/tmp/vdev-mgmt-XXXXXX", path[128];
    void *ctx = talloc_new(NULL);
    struct vdev_dev *a, *b;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/m", dir);
    a = make_dev(ctx);
    b = make_dev(ctx);
    cr_assert_eq(vdev_mgmt_listen(a, path), 0);
    cr_expect_eq(vdev_mgmt_listen(a, path), -EBUSY);
    cr_expect_eq(vdev_mgmt_listen(b, path), -EADDRINUSE);
    talloc_free(a);
    cr_expect_eq(access(path, F_OK), -1, "removed with its device");

    /* A socket file nobody listens on: stale. */
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    cr_expect_eq(vdev_mgmt_listen(b, path), 0);
    talloc_free(b);

    /* Not a socket: left alone. */
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    close(fd);
    b = make_dev(ctx);
    cr_expect_eq(vdev_mgmt_listen(b, path), -EEXIST);
    cr_expect_eq(access(path, F_OK), 0);
    unlink(path);
    rmdir(dir);
    talloc_free(ctx);
}

/* Sockets this process holds (Criterion's own fds come and go). */
static unsigned
open_fds(void)
{
    unsigned n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    char link[PATH_MAX], target[64];

    cr_assert_not_null(d);
    while ((e = readdir(d))) {
        ssize_t len;
        snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
        len = readlink(link, target, sizeof(target) - 1);
        if (len > 0 && !strncmp(target, "socket:", 7))
            n++;
    }
    closedir(d);
    return n;
}

Test(mgmt, connect_disconnect_does_not_leak_fds)
{
    char buf[64];
    unsigned before;

    expect_reply("get pins", 0, "ok pins=0x00ff"); /* warm up */
    before = open_fds();
    for (int i = 0; i < 300; i++) {
        int fd = raw_connect();
        if (i % 3 == 0)
            cr_assert_eq(
                vdev_mgmt_client_exchange(fd, "get pins", buf, sizeof(buf)), 0);
        else if (i % 3 == 1)
            raw_send(fd, "get pi", 6); /* gone mid-line */
        close(fd);
    }
    expect_reply("get pins", 0, "ok pins=0x00ff");
    /* The server sees the hang-ups in its own time. */
    for (int i = 0; i < 200 && open_fds() > before; i++)
        usleep(10000);
    /* before may still count the warm-up connection's server side. */
    cr_expect_leq(open_fds(), before, "%u sockets -> %u", before, open_fds());
}

/* vdev_fd() + vdev_dispatch() in the caller's own loop serve it too. */
static volatile int own_loop_quit;

static void *
own_loop(void *arg)
{
    struct vdev_dev *dev = arg;

    while (!own_loop_quit) {
        struct pollfd p = {.fd = vdev_fd(dev), .events = POLLIN};
        if (poll(&p, 1, 20) > 0 && vdev_dispatch(dev) < 0)
            return (void *)1;
    }
    return NULL;
}

Test(mgmt_setup, served_by_the_callers_own_poll_loop, .timeout = 30)
{
    char dir[] = "/tmp/vdev-mgmt-XXXXXX", path[128], buf[64];
    struct vdev_dev *dev = make_dev(NULL);
    pthread_t th;
    void *ret;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/m", dir);
    t_pins = 1;
    cr_assert_eq(vdev_register_vars(dev, t_vars, 1), 0);
    cr_assert_eq(vdev_mgmt_listen(dev, path), 0);
    own_loop_quit = 0;
    cr_assert_eq(pthread_create(&th, NULL, own_loop, dev), 0);
    cr_expect_eq(vdev_mgmt_client_command(path, "set pins 7", buf, sizeof(buf)),
                 0);
    cr_expect_str_eq(buf, "ok pins=0x0007");
    own_loop_quit = 1;
    pthread_join(th, &ret);
    cr_expect_null(ret);
    cr_expect_eq(t_pins, 7);
    talloc_free(dev);
    rmdir(dir);
}
