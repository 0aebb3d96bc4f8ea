/* Host byte streams (device/stream.c, server/stream_io.c), in process on
 * hostdev with the loop pumped by hand (vdev_dispatch): bytes both ways
 * over a UNIX socket, a pty, a file; back-pressure when the host does not
 * read and when it sends more than the device takes; one host client at a
 * time; an unbound stream drains; a stopped device holds its streams. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "device/device.h"
#include "hostdev.h"
#include "migration/migration.h"
#include "server/server.h"

static struct vdev_dev *dev;
static struct hostdev *h;
static char dir[64], path[96];

static void
quiet(void *opaque, enum vdev_log_level level, const char *msg)
{
}

static void
setup(void)
{
    strcpy(dir, "/tmp/vdev-stream-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/serial", dir);
    dev = hostdev_create(NULL);
    cr_assert_not_null(dev);
    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    h = hostdev_of(dev);
}

static void
teardown(void)
{
    char f[160];

    talloc_free(dev);
    snprintf(f, sizeof(f), "%s/out", dir);
    unlink(f);
    unlink(path);
    rmdir(dir);
}

TestSuite(streams, .init = setup, .fini = teardown);

/* Serves whatever is ready, a few rounds. */
static void
pump(void)
{
    for (int i = 0; i < 8; i++) {
        struct pollfd p = {.fd = vdev_fd(dev), .events = POLLIN};
        if (poll(&p, 1, i ? 5 : 20) != 1)
            break;
        cr_assert_eq(vdev_dispatch(dev), 0);
    }
}

static int
client(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert_geq(fd, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s",
                 strerror(errno));
    pump(); /* accepted */
    return fd;
}

/* Reads what is there within a short wait. */
static size_t
host_read(int fd, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};

    while (n < cap && poll(&p, 1, 50) == 1) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return n;
}

static void
guest_send(const char *s)
{
    for (; *s; s++)
        hostdev_write(dev, HD_DATA, (uint8_t)*s);
}

static size_t
guest_recv(char *buf, size_t cap)
{
    size_t n = 0;

    while (n + 1 < cap && (hostdev_read(dev, HD_STATUS) & HD_ST_RX))
        buf[n++] = (char)hostdev_read(dev, HD_DATA);
    buf[n] = '\0';
    return n;
}

Test(streams, unix_socket_both_ways)
{
    uint8_t buf[64];
    char got[64];
    int fd;

    cr_assert_eq(vdev_stream_bind(dev, "serial", "nonsense"), -EINVAL);
    cr_assert_eq(vdev_stream_bind(dev, "nope", "stdio"), -ENXIO);
    cr_assert_null(vdev_stream_where(dev, "serial"));
    cr_assert_eq(
        vdev_stream_bind(dev, "serial", talloc_asprintf(dev, "unix:%s", path)),
        0);
    cr_assert_eq(vdev_stream_bind(dev, "serial", "pty"), -EBUSY);
    cr_assert_str_eq(vdev_stream_where(dev, "serial"),
                     talloc_asprintf(dev, "unix:%s", path));
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_not(vdev_stream_connected(dev, (unsigned)h->stream));

    /* Nobody connected: output goes nowhere, the FIFO does not fill. */
    guest_send("lost");
    pump();
    cr_assert_eq(hostdev_read(dev, HD_STATUS) & HD_ST_TXEMPTY, HD_ST_TXEMPTY);

    fd = client();
    cr_assert(vdev_stream_connected(dev, (unsigned)h->stream));
    guest_send("hello");
    pump();
    cr_assert_eq(host_read(fd, buf, sizeof(buf)), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    cr_assert_geq(h->st.txempty, 1, "tx_empty after draining");

    cr_assert_eq(write(fd, "world", 5), 5);
    pump();
    cr_assert_eq(guest_recv(got, sizeof(got)), 5);
    cr_assert_str_eq(got, "world");

    /* The client goes: the stream waits for the next one. */
    close(fd);
    pump();
    cr_assert_not(vdev_stream_connected(dev, (unsigned)h->stream));
    fd = client();
    cr_assert_eq(write(fd, "again", 5), 5);
    pump();
    cr_assert_eq(guest_recv(got, sizeof(got)), 5);
    cr_assert_str_eq(got, "again");
    close(fd);
}

/* The host sends 4 KiB to a device with a 16-byte FIFO that nobody
 * empties: the device gets 16, the rest waits in the socket, and comes
 * in order as the guest reads. */
Test(streams, host_sending_too_much_is_held_back)
{
    uint8_t out[4096];
    char got[32];
    size_t total = 0;
    int fd;

    for (size_t i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)('a' + i % 26);
    vdev_stream_bind(dev, "serial", talloc_asprintf(dev, "unix:%s", path));
    fd = client();
    cr_assert_eq(write(fd, out, sizeof(out)), (ssize_t)sizeof(out));
    pump();
    cr_assert_eq(h->st.rx.count, HOSTDEV_FIFO);
    pump(); /* full: the loop does not spin on it or lose bytes */
    cr_assert_eq(h->st.rx.count, HOSTDEV_FIFO);
    while (total < sizeof(out)) {
        size_t n = guest_recv(got, sizeof(got)); /* reading kicks */
        cr_assert_eq(memcmp(got, out + total, n), 0, "at %zu", total);
        total += n;
        if (total < sizeof(out)) {
            cr_assert_gt(n, 0, "stalled at %zu", total);
            pump();
        }
    }
    cr_assert_eq(total, sizeof(out));
    close(fd);
}

/* A host that does not read: the socket fills, then the device's FIFO,
 * and the device sees it full; nothing is lost once the host reads. */
Test(streams, host_not_reading_fills_the_device_fifo)
{
    uint8_t *seen = talloc_size(dev, 1 << 22);
    size_t sent = 0, got = 0;
    int fd, sz = 4096;

    vdev_stream_bind(dev, "serial", talloc_asprintf(dev, "unix:%s", path));
    fd = client();
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
    /* The guest writes until its FIFO stays full. */
    for (int rounds = 0; rounds < 100000; rounds++) {
        if (hostdev_read(dev, HD_STATUS) & HD_ST_TXFULL) {
            pump();
            if (hostdev_read(dev, HD_STATUS) & HD_ST_TXFULL)
                break;
        }
        hostdev_write(dev, HD_DATA, (uint8_t)sent++);
        if (sent % 16 == 0)
            pump();
    }
    cr_assert(hostdev_read(dev, HD_STATUS) & HD_ST_TXFULL, "never full");
    cr_assert_lt(sent, 1u << 22, "the socket never filled");
    /* Now the host reads: every byte, in order. */
    while (got < sent) {
        size_t n = host_read(fd, seen + got, (1u << 22) - got);
        pump();
        if (!n && !(n = host_read(fd, seen + got, (1u << 22) - got)))
            break;
        got += n;
    }
    cr_assert_eq(got, sent);
    for (size_t i = 0; i < got; i++)
        cr_assert_eq(seen[i], (uint8_t)i, "byte %zu", i);
    cr_assert(hostdev_read(dev, HD_STATUS) & HD_ST_TXEMPTY);
    close(fd);
}

Test(streams, one_host_client_at_a_time)
{
    uint8_t buf[16];
    int a, b;

    vdev_stream_bind(dev, "serial", talloc_asprintf(dev, "unix:%s", path));
    a = client();
    b = client(); /* waits in the backlog */
    guest_send("A");
    pump();
    cr_assert_eq(host_read(a, buf, sizeof(buf)), 1);
    cr_assert_eq(host_read(b, buf, sizeof(buf)), 0);
    close(a);
    pump();
    guest_send("B");
    pump();
    cr_assert_eq(host_read(b, buf, sizeof(buf)), 1);
    cr_assert_eq(buf[0], 'B');
    close(b);
}

/* Echo: the device's receive hook transmits what arrives. */
Test(streams, echo_through_the_device)
{
    uint8_t buf[300], msg[300];
    size_t n = 0;
    int fd;

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)i;
    vdev_stream_bind(dev, "serial", talloc_asprintf(dev, "unix:%s", path));
    hostdev_write(dev, HD_ECHO, 1);
    fd = client();
    cr_assert_eq(write(fd, msg, sizeof(msg)), (ssize_t)sizeof(msg));
    for (int i = 0; i < 50 && n < sizeof(msg); i++) {
        pump();
        n += host_read(fd, buf + n, sizeof(buf) - n);
    }
    cr_assert_eq(n, sizeof(msg));
    cr_assert_eq(memcmp(buf, msg, n), 0);
    close(fd);
}

Test(streams, pty_both_ways)
{
    const char *where;
    char got[16];
    uint8_t buf[16];
    int fd;

    cr_assert_eq(vdev_stream_bind(dev, "serial", "pty"), 0);
    where = vdev_stream_where(dev, "serial");
    cr_assert(where && !strncmp(where, "pty:/dev/pts/", 13), "%s", where);
    cr_assert(vdev_stream_connected(dev, (unsigned)h->stream));
    /* written before anyone opens the terminal: it waits there */
    guest_send("early");
    pump();
    fd = open(where + 4, O_RDWR | O_NOCTTY);
    cr_assert_geq(fd, 0, "%s: %s", where + 4, strerror(errno));
    cr_assert_eq(host_read(fd, buf, sizeof(buf)), 5);
    cr_assert_eq(memcmp(buf, "early", 5), 0);
    cr_assert_eq(write(fd, "\r\n\x03", 3), 3, "raw: no translation");
    pump();
    cr_assert_eq(guest_recv(got, sizeof(got)), 3);
    cr_assert_eq(memcmp(got, "\r\n\x03", 3), 0);
    close(fd);
    /* the terminal closed: the loop does not spin on a hang-up */
    guest_send("x");
    pump();
    cr_assert(hostdev_read(dev, HD_STATUS) & HD_ST_TXEMPTY);
}

Test(streams, file_output_appends)
{
    char file[160], spec[170], buf[64] = "";
    FILE *f;

    snprintf(file, sizeof(file), "%s/out", dir);
    snprintf(spec, sizeof(spec), "file:%s", file);
    cr_assert_eq(vdev_stream_bind(dev, "serial", spec), 0);
    guest_send("one ");
    pump();
    guest_send("two");
    pump();
    f = fopen(file, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    cr_assert_str_eq(buf, "one two");
    struct stat st;
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(vdev_stream_bind(dev, "serial", "file:"), -EBUSY);
}

Test(streams, unbound_stream_drains_and_receives_nothing)
{
    guest_send("0123456789abcdefXYZ"); /* more than the FIFO */
    pump();
    cr_assert(hostdev_read(dev, HD_STATUS) & HD_ST_TXEMPTY);
    cr_assert_geq(h->st.txempty, 1);
    cr_assert_eq(hostdev_read(dev, HD_STATUS) & HD_ST_RX, 0);
    cr_assert_eq(vdev_stream_bind(dev, "serial", "unix:"), -EINVAL);
    cr_assert_eq(vdev_stream_bind(dev, "serial", "file:"), -EINVAL);
}

/* Stopped for migration: the device's FIFOs hold still; bytes wait on
 * both sides and move once it runs again. */
Test(streams, stopped_device_holds_its_streams)
{
    uint8_t buf[16];
    char got[16];
    int fd;

    vdev_stream_bind(dev, "serial", talloc_asprintf(dev, "unix:%s", path));
    fd = client();
    cr_assert_eq(vdev_mig_set_state(dev, VFIO_DEVICE_STATE_STOP, VDEV_MIG_V2),
                 0);
    h->st.tx.buf[0] = 'Q'; /* as a load would have left it */
    h->st.tx.count = 1;
    vdev_stream_kick(dev, (unsigned)h->stream);
    cr_assert_eq(write(fd, "in", 2), 2);
    pump();
    cr_assert_eq(host_read(fd, buf, sizeof(buf)), 0);
    cr_assert_eq(h->st.rx.count, 0);
    cr_assert_eq(h->st.tx.count, 1);
    cr_assert_eq(
        vdev_mig_set_state(dev, VFIO_DEVICE_STATE_RUNNING, VDEV_MIG_V2), 0);
    pump();
    cr_assert_eq(host_read(fd, buf, sizeof(buf)), 1);
    cr_assert_eq(buf[0], 'Q');
    cr_assert_eq(guest_recv(got, sizeof(got)), 2);
    cr_assert_str_eq(got, "in");
    close(fd);
}

/* The stream API's own checks. */
static size_t
z_space(struct vdev_dev *d, void *o)
{
    return 0;
}
static void
z_rx(struct vdev_dev *d, void *o, const uint8_t *b, size_t n)
{
}
static size_t
z_peek(struct vdev_dev *d, void *o, uint8_t *b, size_t n)
{
    return 0;
}
static void
z_consume(struct vdev_dev *d, void *o, size_t n)
{
}

Test(streams, add_checks_its_arguments)
{
    struct vdev_stream_ops ops = {z_space, z_rx, z_peek, z_consume, NULL};
    struct vdev_stream_ops bad = ops;
    char name[16];

    cr_assert_eq(vdev_stream_add(dev, "serial", &ops, NULL), -EEXIST);
    cr_assert_eq(vdev_stream_add(dev, "a b", &ops, NULL), -EINVAL);
    bad.tx_peek = NULL;
    cr_assert_eq(vdev_stream_add(dev, "x", &bad, NULL), -EINVAL);
    for (unsigned i = 1; i < VDEV_MAX_STREAMS; i++) {
        snprintf(name, sizeof(name), "s%u", i);
        cr_assert_eq(vdev_stream_add(dev, name, &ops, NULL), (int)i);
    }
    cr_assert_eq(vdev_stream_add(dev, "more", &ops, NULL), -ENOSPC);
    vdev_stream_kick(dev, 999); /* ignored */
    cr_assert_not(vdev_stream_connected(dev, 999));
    pump();
}

/* What a hand-over does with endpoints, in one process: the endpoint of
 * one device (fds duplicated as SCM_RIGHTS would) adopted by a second,
 * the first letting go; the host side notices nothing. */
static void
move_endpoint(struct vdev_dev *to)
{
    struct vdev_stream_ep ep;
    int *fds[] = {&ep.listen_fd, &ep.in_fd, &ep.out_fd, &ep.hold_fd};
    bool shared;

    cr_assert_eq(vdev_stream_ep_get(dev, (unsigned)h->stream, &ep), 0);
    shared = ep.in_fd >= 0 && ep.in_fd == ep.out_fd;
    ep.where = talloc_strdup(to, ep.where);
    ep.path = ep.path ? talloc_strdup(to, ep.path) : NULL;
    for (unsigned i = 0; i < 4; i++)
        if (*fds[i] >= 0 && !(i == 2 && shared))
            *fds[i] = dup(*fds[i]);
    if (shared)
        ep.out_fd = ep.in_fd;
    cr_assert_eq(vdev_stream_ep_adopt(to, 0, &ep), 0);
    vdev_streams_disown(dev);
    cr_assert_null(vdev_stream_where(dev, "serial"));
    if (ep.path)
        vdev_stream_own_path(to, 0, ep.path);
}

static void
pump_dev(struct vdev_dev *d)
{
    for (int i = 0; i < 8; i++) {
        struct pollfd p = {.fd = vdev_fd(d), .events = POLLIN};
        if (poll(&p, 1, i ? 5 : 20) != 1)
            break;
        cr_assert_eq(vdev_dispatch(d), 0);
    }
}

Test(streams, endpoints_move_to_another_device)
{
    struct vdev_dev *to = hostdev_create(NULL);
    char buf[16], file[160], spec[170];
    struct stat st;
    int fd;

    vdev_set_log(to, quiet, NULL, VDEV_LOG_DEBUG);
    hostdev_write(to, HD_ECHO, 1);
    /* unix, with its client connected */
    vdev_stream_bind(dev, "serial", talloc_asprintf(dev, "unix:%s", path));
    fd = client();
    move_endpoint(to);
    cr_assert_eq(stat(path, &st), 0, "the socket file stays");
    cr_assert_eq(write(fd, "moved", 5), 5);
    pump_dev(to);
    cr_assert_eq(host_read(fd, (uint8_t *)buf, sizeof(buf)), 5);
    cr_assert_eq(memcmp(buf, "moved", 5), 0);
    close(fd);
    talloc_free(to);
    cr_assert_neq(stat(path, &st), 0, "removed by its new owner");

    /* a pty and its terminal */
    to = hostdev_create(NULL);
    vdev_set_log(to, quiet, NULL, VDEV_LOG_DEBUG);
    hostdev_write(to, HD_ECHO, 1);
    cr_assert_eq(vdev_stream_bind(dev, "serial", "pty"), 0);
    fd = open(vdev_stream_where(dev, "serial") + 4, O_RDWR | O_NOCTTY);
    cr_assert_geq(fd, 0);
    move_endpoint(to);
    cr_assert_eq(write(fd, "tty", 3), 3);
    pump_dev(to);
    cr_assert_eq(host_read(fd, (uint8_t *)buf, sizeof(buf)), 3);
    cr_assert_eq(memcmp(buf, "tty", 3), 0);
    close(fd);
    talloc_free(to);

    /* a file: appending goes on */
    to = hostdev_create(NULL);
    vdev_set_log(to, quiet, NULL, VDEV_LOG_DEBUG);
    snprintf(file, sizeof(file), "%s/out", dir);
    snprintf(spec, sizeof(spec), "file:%s", file);
    cr_assert_eq(vdev_stream_bind(dev, "serial", spec), 0);
    guest_send("a");
    pump();
    move_endpoint(to);
    hostdev_write(to, HD_DATA, 'b');
    pump_dev(to);
    FILE *f = fopen(file, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    cr_assert_str_eq(buf, "ab");
    talloc_free(to);
}

/* Adoption checks the fds it is given. */
Test(streams, adopt_refuses_fds_of_the_wrong_kind)
{
    struct vdev_dev *to = hostdev_create(NULL);
    int sv[2], rc;
    struct vdev_stream_ep ep = {.kind = VDEV_STREAM_UNIX,
                                .listen_fd = -1,
                                .in_fd = -1,
                                .out_fd = -1,
                                .hold_fd = -1,
                                .where = "unix:x"};

    vdev_set_log(to, quiet, NULL, VDEV_LOG_DEBUG);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ep.listen_fd = sv[0]; /* connected, not listening */
    cr_assert_eq(vdev_stream_ep_adopt(to, 0, &ep), -EINVAL);
    ep.kind = VDEV_STREAM_PTY;
    ep.listen_fd = -1;
    ep.in_fd = ep.out_fd = sv[0]; /* a socket, not a terminal */
    ep.hold_fd = sv[1];
    cr_assert_eq(vdev_stream_ep_adopt(to, 0, &ep), -EINVAL);
    ep.kind = (enum vdev_stream_kind)9;
    cr_assert_eq(vdev_stream_ep_adopt(to, 0, &ep), -EINVAL);
    ep.kind = VDEV_STREAM_STDIO;
    ep.hold_fd = -1;
    cr_assert_eq(vdev_stream_ep_adopt(to, 0, &ep), -EINVAL, "one fd both ways");
    ep.out_fd = sv[1];
    rc = vdev_stream_ep_adopt(to, 7, &ep);
    cr_assert_eq(rc, -EINVAL, "no stream 7");
    cr_assert_eq(vdev_stream_ep_adopt(to, 0, &ep), 0);
    cr_assert_eq(vdev_stream_ep_adopt(to, 0, &ep), -EBUSY);
    talloc_free(to); /* closes sv[0], sv[1] */
}
