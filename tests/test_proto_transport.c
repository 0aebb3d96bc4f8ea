/* Transport and device object: the socket file, one client at a time,
 * reconnects without leaking fds, stalled clients, stop, BAR validation. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "server/server.h"
#include "rawsock.h"
#include "testdev.h"

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(transport, socket_mode_and_live_socket_refused, .timeout = 30)
{
    struct testsrv s;
    struct stat st;
    struct testdev td2;
    struct vdev_dev *dev2;

    cr_assert_eq(testsrv_init(&s), 0);
    cr_assert_eq(stat(s.path, &st), 0);
    cr_assert(S_ISSOCK(st.st_mode));
    cr_assert_eq(st.st_mode & 0777, 0600);
    /* a second server on the same live path is refused */
    dev2 = testdev_create(NULL, &td2);
    cr_assert_not_null(dev2);
    cr_assert_eq(vdev_listen(dev2, s.path), -EADDRINUSE);
    talloc_free(dev2);
    /* and did not remove the live socket */
    cr_assert_eq(stat(s.path, &st), 0);
    testsrv_free(&s);
    /* freeing the device removed the file it created */
    cr_assert_neq(stat(s.path, &st), 0);
}

Test(transport, stale_socket_replaced, .timeout = 30)
{
    struct testsrv s;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int old;

    cr_assert_eq(testsrv_init(&s), 0);
    talloc_free(s.dev); /* removes the file; make a stale one by hand */
    old = socket(AF_UNIX, SOCK_STREAM, 0);
    strcpy(sa.sun_path, s.path);
    cr_assert_eq(bind(old, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(old); /* bound, never listening, now closed: stale */
    s.dev = testdev_create(NULL, &s.td);
    cr_assert_eq(vdev_listen(s.dev, s.path), 0);
    cr_assert_eq(testsrv_start(&s), 0);
    int fd = raw_connect(s.path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(raw_negotiate(fd), 0);
    close(fd);
    cr_assert_eq(testsrv_stop(&s), 0);
    testsrv_free(&s);
}

Test(transport, regular_file_not_replaced, .timeout = 30)
{
    struct testsrv s;
    int f;

    cr_assert_eq(testsrv_init(&s), 0);
    talloc_free(s.dev);
    f = creat(s.path, 0600);
    cr_assert_geq(f, 0);
    close(f);
    s.dev = testdev_create(NULL, &s.td);
    cr_assert_eq(vdev_listen(s.dev, s.path), -EADDRINUSE);
    testsrv_free(&s);
    unlink(s.path);
}

Test(transport, inherited_listen_fd, .timeout = 30)
{
    struct testsrv s;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int lfd, fd;

    cr_assert_eq(testsrv_init(&s), 0);
    talloc_free(s.dev);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    strcpy(sa.sun_path, s.path);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    s.dev = testdev_create(NULL, &s.td);
    /* not listening yet */
    cr_assert_eq(vdev_listen_fd(s.dev, lfd), -EINVAL);
    cr_assert_eq(listen(lfd, 4), 0);
    cr_assert_eq(vdev_listen_fd(s.dev, lfd), 0);
    cr_assert_eq(testsrv_start(&s), 0);
    fd = raw_connect(s.path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(raw_negotiate(fd), 0);
    close(fd);
    cr_assert_eq(testsrv_stop(&s), 0);
    testsrv_free(&s);
    unlink(s.path);
}

/* Connects after fd closes: served only once the server let go of it. */
static int
wait_fd_count(int want)
{
    int n = raw_count_fds();
    for (int i = 0; i < 200 && n != want; i++) {
        usleep(10000);
        n = raw_count_fds();
    }
    return n;
}

Test(transport, reconnect_1000_times_no_fd_growth, .timeout = 120)
{
    struct testsrv s;
    struct vdev_stats st;
    int before;

    cr_assert_eq(testsrv_init(&s), 0);
    cr_assert_eq(testsrv_start(&s), 0);
    before = raw_count_fds();
    for (int i = 0; i < 1000; i++) {
        int fd = raw_connect(s.path);
        cr_assert_geq(fd, 0, "connect %d: %s", i, strerror(-fd));
        cr_assert_eq(raw_negotiate(fd), 0, "negotiate %d", i);
        close(fd);
    }
    cr_assert_eq(wait_fd_count(before), before);
    cr_assert_eq(testsrv_stop(&s), 0);
    vdev_get_stats(s.dev, &st);
    cr_assert_eq(st.connections, 1000);
    cr_assert_geq(st.messages, 1000);
    testsrv_free(&s);
}

Test(transport, second_client_waits_for_first, .timeout = 30)
{
    struct testsrv s;
    int a, b;
    struct pollfd p;

    cr_assert_eq(testsrv_init(&s), 0);
    cr_assert_eq(testsrv_start(&s), 0);
    a = raw_connect(s.path);
    cr_assert_eq(raw_negotiate(a), 0);
    b = raw_connect(s.path); /* completes in the backlog */
    cr_assert_geq(b, 0);
    cr_assert_eq(
        raw_send_msg(b, 1, VFIO_USER_VERSION, 0, "\0\0\1\0", 4, NULL, 0), 0);
    p.fd = b;
    p.events = POLLIN;
    cr_assert_eq(poll(&p, 1, 200), 0); /* not served while a is connected */
    uint32_t v;
    cr_assert_eq(raw_region_read(a, 0, TESTDEV_REG_ID, &v, 4), 0);
    close(a);
    struct raw_reply r;
    cr_assert_eq(raw_recv(b, &r), 0);
    cr_assert_eq(r.hdr.cmd, VFIO_USER_VERSION);
    cr_assert_eq(r.hdr.flags, VFIO_USER_F_TYPE_REPLY);
    raw_reply_free(&r);
    close(b);
    cr_assert_eq(testsrv_stop(&s), 0);
    testsrv_free(&s);
}

/* Half a message, then silence. */
static int
stall(const char *path)
{
    int fd = raw_connect(path);
    struct {
        struct vfio_user_header h;
        struct vfio_user_region_access a;
    } __attribute__((packed)) m = {
        .h = {.msg_id = 1, .cmd = VFIO_USER_REGION_READ, .msg_size = 32},
        .a = {.offset = 0, .region = 0, .count = 4},
    };

    cr_assert_geq(fd, 0);
    cr_assert_eq(raw_negotiate(fd), 0);
    cr_assert_eq(raw_send(fd, &m, 20, NULL, 0), 0);
    return fd;
}

Test(transport, stalled_client_does_not_block_stop, .timeout = 30)
{
    struct testsrv s;
    int fd;
    int64_t t0;

    cr_assert_eq(testsrv_init(&s), 0);
    cr_assert_eq(testsrv_start(&s), 0);
    fd = stall(s.path);
    usleep(100000);
    t0 = now_ms();
    cr_assert_eq(testsrv_stop(&s), 0);
    cr_assert_lt(now_ms() - t0, 1000);
    cr_assert_eq(s.run_rc, 0);
    close(fd);
    testsrv_free(&s);
}

Test(transport, stalled_client_then_next_accepted, .timeout = 30)
{
    struct testsrv s;
    int a, b;
    uint32_t v;

    cr_assert_eq(testsrv_init(&s), 0);
    cr_assert_eq(testsrv_start(&s), 0);
    a = stall(s.path);
    b = raw_connect(s.path);
    cr_assert_geq(b, 0);
    usleep(50000);
    close(a); /* leaves mid-message */
    cr_assert_eq(raw_negotiate(b), 0);
    cr_assert_eq(raw_region_read(b, 0, TESTDEV_REG_ID, &v, 4), 0);
    cr_assert_eq(v, TESTDEV_ID_VALUE);
    close(b);
    cr_assert_eq(testsrv_stop(&s), 0);
    testsrv_free(&s);
}

/* The caller's own loop: vdev_dispatch never blocks on a stalled client,
 * and finishes the message once the rest arrives. */
Test(transport, dispatch_is_nonblocking, .timeout = 30)
{
    struct testsrv s;
    struct raw_reply r;
    struct pollfd p;
    int fd;
    int64_t t0;
    static const uint8_t tail[12] = {0};

    cr_assert_eq(testsrv_init(&s), 0);
    fd = raw_connect(s.path);
    cr_assert_geq(fd, 0);
    p.fd = vdev_fd(s.dev);
    p.events = POLLIN;
    cr_assert_eq(poll(&p, 1, 1000), 1);
    cr_assert_eq(vdev_dispatch(s.dev), 0); /* accept */
    cr_assert(vdev_connected(s.dev));
    struct vfio_user_version v = {0, 1};
    cr_assert_eq(
        raw_send_msg(fd, 1, VFIO_USER_VERSION, 0, &v, sizeof(v), NULL, 0), 0);
    cr_assert_eq(poll(&p, 1, 1000), 1);
    cr_assert_eq(vdev_dispatch(s.dev), 0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    raw_reply_free(&r);
    /* 20 of 32 bytes */
    struct {
        struct vfio_user_header h;
        uint32_t first[1];
    } __attribute__((packed)) half = {
        .h = {.msg_id = 2, .cmd = VFIO_USER_REGION_READ, .msg_size = 32},
        .first = {0},
    };
    cr_assert_eq(raw_send(fd, &half, sizeof(half), NULL, 0), 0);
    t0 = now_ms();
    for (int i = 0; i < 50; i++)
        cr_assert_eq(vdev_dispatch(s.dev), 0);
    cr_assert_lt(now_ms() - t0, 500);
    /* rest of the access: region 0, count 4 */
    uint8_t rest[12];
    memcpy(rest, tail, sizeof(rest));
    uint32_t region = 0, count = 4;
    memcpy(rest + 4, &region, 4);
    memcpy(rest + 8, &count, 4);
    cr_assert_eq(raw_send(fd, rest, sizeof(rest), NULL, 0), 0);
    cr_assert_eq(poll(&p, 1, 1000), 1);
    cr_assert_eq(vdev_dispatch(s.dev), 0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.msg_id, 2);
    cr_assert_eq(r.hdr.flags, VFIO_USER_F_TYPE_REPLY);
    uint32_t id;
    memcpy(&id, r.payload + 16, 4);
    cr_assert_eq(id, TESTDEV_ID_VALUE);
    raw_reply_free(&r);
    close(fd);
    cr_assert_eq(poll(&p, 1, 1000), 1);
    cr_assert_eq(vdev_dispatch(s.dev), 0);
    cr_assert(!vdev_connected(s.dev));
    testsrv_free(&s);
}

Test(transport, stop_before_run_returns)
{
    struct testdev td;
    struct vdev_dev *dev = testdev_create(NULL, &td);

    cr_assert_not_null(dev);
    vdev_stop(dev);
    cr_assert_eq(vdev_run(dev), 0);
    talloc_free(dev);
}

/* ------------------------------------------------------------ device API */

static int
add(struct vdev_dev *dev, unsigned idx, enum vdev_bar_kind kind, uint64_t size)
{
    struct vdev_bar_desc d = {.kind = kind, .size = size, .backed = true};
    return vdev_bar_add(dev, idx, &d);
}

Test(device_api, bar_validation)
{
    struct vdev_pci_ident id = {.vendor_id = 1, .device_id = 2};
    struct vdev_dev *dev = vdev_dev_create(NULL, "bars", &id);
    struct vdev_mmap_area bad_area = {.offset = 100, .size = 4096};
    struct vdev_mmap_area big_area = {.offset = 4096, .size = 8192};
    struct vdev_bar_desc d = {.kind = VDEV_BAR_MEM32,
                              .size = 8192,
                              .backed = true,
                              .mmap_areas = &bad_area,
                              .nr_mmap_areas = 1};

    cr_assert_not_null(dev);
    cr_assert_eq(add(dev, 7, VDEV_BAR_MEM32, 4096), -EINVAL);
    cr_assert_eq(add(dev, 0, VDEV_BAR_MEM32, 3000), -EINVAL);
    cr_assert_eq(add(dev, 0, VDEV_BAR_MEM32, 8), -EINVAL);
    cr_assert_eq(add(dev, 0, VDEV_BAR_IO, 2), -EINVAL);
    cr_assert_eq(add(dev, 5, VDEV_BAR_MEM64, 4096), -EINVAL);
    cr_assert_eq(vdev_bar_add(dev, 1, &d), -EINVAL);
    d.mmap_areas = &big_area;
    cr_assert_eq(vdev_bar_add(dev, 1, &d), -EINVAL);
    cr_assert_eq(add(dev, 0, VDEV_BAR_MEM64, 4096), 0);
    cr_assert_eq(add(dev, 1, VDEV_BAR_MEM32, 4096), -EBUSY);
    cr_assert_eq(add(dev, 0, VDEV_BAR_MEM32, 4096), -EEXIST);
    cr_assert_eq(add(dev, 3, VDEV_BAR_MEM32, 4096), 0);
    cr_assert_eq(add(dev, 2, VDEV_BAR_MEM64, 4096), -EBUSY);
    cr_assert_eq(add(dev, 4, VDEV_BAR_IO, 32), 0);
    cr_assert_not_null(vdev_bar_memory(dev, 0));
    cr_assert_null(vdev_bar_memory(dev, 5));
    talloc_free(dev);
}

Test(device_api, free_releases_fds)
{
    struct testdev td;
    int before = raw_count_fds();
    struct vdev_dev *dev = testdev_create(NULL, &td);

    cr_assert_not_null(dev);
    cr_assert_gt(raw_count_fds(), before);
    talloc_free(dev);
    cr_assert_eq(raw_count_fds(), before);
}

Test(device_api, log_levels)
{
    struct vdev_pci_ident id = {.vendor_id = 1, .device_id = 2};
    struct vdev_dev *dev = vdev_dev_create(NULL, "log", &id);

    cr_assert_eq(dev->log.max, VDEV_LOG_WARN);
    cr_assert_str_eq(vdev_dev_name(dev), "log");
    talloc_free(dev);
}
