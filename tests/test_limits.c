/* Client-controlled sizes and counts hit their bounds (runtime/LIMITS.md)
 * against a real model server process: the bound is refused with an error
 * reply, the connection keeps being served, and fds sent with refused
 * messages do not stay open in the server. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <talloc.h>
#include <unistd.h>

#include "model_server.h"
#include "rawsock.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define LIVENESS 0x04

static struct model_server srv;
static int fd = -1;

static int
proc_fds(pid_t pid)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    d = opendir(path);
    cr_assert_not_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void
setup(void)
{
    model_server_start(&srv, "edu");
    model_server_detach(&srv);
    for (int i = 0; i < 300; i++) {
        fd = raw_connect(srv.sock);
        cr_assert_geq(fd, 0);
        /* The library client's teardown may still be under way: the
         * server accepts us once it is done. */
        if (raw_negotiate(fd) == 0)
            break;
        close(fd);
        fd = -1;
        usleep(10000);
    }
    cr_assert_geq(fd, 0);
}

static void
teardown(void)
{
    if (fd >= 0)
        close(fd);
    fd = -1;
    model_server_stop(&srv);
}

TestSuite(limits, .init = setup, .fini = teardown, .timeout = 60);

static void
assert_served(void)
{
    uint32_t v = 0x1234u + (uint32_t)rand(), back = 0;

    cr_assert_eq(raw_region_write(fd, BAR0, LIVENESS, &v, 4), 0);
    cr_assert_eq(raw_region_read(fd, BAR0, LIVENESS, &back, 4), 0);
    cr_assert_eq(back, ~v);
}

static int64_t
cap_int(struct json_object *o, const char *name)
{
    struct json_object *v;

    cr_assert(json_object_object_get_ex(o, name, &v), "no %s", name);
    return json_object_get_int64(v);
}

/* Every bound the protocol has a field for is in the VERSION reply. */
Test(limits, version_reply_has_the_bounds)
{
    struct raw_reply r;
    struct json_object *root, *caps, *mig;
    int c = raw_connect(srv.sock);

    /* One client at a time: ours must go first. */
    close(fd);
    fd = -1;
    for (int i = 0; i < 300; i++) {
        int rc = raw_version(c,
                             "{\"capabilities\":{\"migration\":"
                             "{\"pgsize\":4096}}}",
                             &r);
        if (rc == 0)
            break;
        close(c);
        usleep(10000);
        c = raw_connect(srv.sock);
    }
    cr_assert_gt(r.len, sizeof(struct vfio_user_version));
    root = json_tokener_parse((const char *)r.payload +
                              sizeof(struct vfio_user_version));
    cr_assert_not_null(root);
    cr_assert(json_object_object_get_ex(root, "capabilities", &caps));
    cr_assert_eq(cap_int(caps, "max_msg_fds"), 16);
    cr_assert_eq(cap_int(caps, "max_data_xfer_size"), 1 << 20);
    cr_assert_eq(cap_int(caps, "max_dma_maps"), 65535);
    cr_assert(json_object_object_get_ex(caps, "migration", &mig));
    cr_assert_eq(cap_int(mig, "pgsize"), 4096);
    cr_assert_eq(cap_int(mig, "max_bitmap_size"), 1 << 20);
    json_object_put(root);
    raw_reply_free(&r);
    close(c);
}

static int
log_start(uint32_t nr_ranges, uint64_t len_each)
{
    size_t n = sizeof(struct vfio_user_device_feature) +
               sizeof(struct vfio_user_dma_logging_control) +
               (size_t)nr_ranges * 16;
    uint8_t *p = calloc(1, n);
    struct vfio_user_device_feature h = {
        (uint32_t)n,
        VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START};
    struct vfio_user_dma_logging_control ctl = {.page_size = 4096,
                                                .num_ranges = nr_ranges};
    int rc;

    cr_assert_not_null(p);
    memcpy(p, &h, sizeof(h));
    memcpy(p + sizeof(h), &ctl, sizeof(ctl));
    for (uint32_t i = 0; i < nr_ranges; i++) {
        uint64_t rg[2] = {(uint64_t)i * len_each, len_each};
        memcpy(p + sizeof(h) + sizeof(ctl) + 16 * i, rg, 16);
    }
    rc = raw_call(fd, 20, VFIO_USER_DEVICE_FEATURE, p, n, NULL);
    free(p);
    return rc;
}

static int
log_stop(void)
{
    struct vfio_user_device_feature h = {
        sizeof(h),
        VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP};

    return raw_call(fd, 21, VFIO_USER_DEVICE_FEATURE, &h, sizeof(h), NULL);
}

Test(limits, dma_logging_ranges_bounded)
{
    cr_assert_eq(log_start(1025, 4096), -E2BIG);
    assert_served();
    cr_assert_eq(log_start(1024, 4096), 0);
    cr_assert_eq(log_stop(), 0);
    assert_served();
}

static int
dma_map(uint64_t iova, uint64_t size, const int *mfd)
{
    struct vfio_user_dma_map m = {
        .argsz = sizeof(m),
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .addr = iova,
        .size = size,
    };
    struct raw_reply r;
    int rc = raw_send_msg(fd, 30, VFIO_USER_DMA_MAP, 0, &m, sizeof(m), mfd,
                          mfd ? 1 : 0);

    if (rc < 0)
        return rc;
    cr_assert_eq(raw_recv(fd, &r), 0);
    rc = r.hdr.flags & VFIO_USER_F_ERROR ? -(int)r.hdr.error_no : 0;
    raw_reply_free(&r);
    return rc;
}

/* Dirty bitmaps for all maps together are bounded (256 MiB): a client
 * cannot make the server allocate one for a 2^44-byte map. */
Test(limits, dirty_bitmap_memory_bounded)
{
    cr_assert_eq(dma_map(1ull << 44, 1ull << 44, NULL), 0);
    cr_assert_eq(log_start(0, 0), -ENOMEM);
    assert_served();
    {
        struct vfio_user_dma_unmap u = {sizeof(u), 0, 1ull << 44, 1ull << 44};
        cr_assert_eq(raw_call(fd, 31, VFIO_USER_DMA_UNMAP, &u, sizeof(u), NULL),
                     0);
    }
    /* A map added while logging is refused the same way. */
    cr_assert_eq(dma_map(0, 1ull << 30, NULL), 0);
    cr_assert_eq(log_start(1, 1ull << 30), 0);
    cr_assert_eq(dma_map(1ull << 46, 1ull << 45, NULL), -ENOMEM);
    cr_assert_eq(log_stop(), 0);
    assert_served();
}

/* The legacy unmap-with-bitmap asks for at most 256 MiB of bitmap. */
Test(limits, unmap_bitmap_bounded)
{
    struct {
        struct vfio_user_dma_unmap u;
        struct vfio_user_bitmap b;
    } __attribute__((packed)) req = {
        {sizeof(req), VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP, 1ull << 32,
         1u << 16},
        {4096, (256ull << 20) + 8},
    };

    cr_assert_eq(dma_map(1ull << 32, 1u << 16, NULL), 0);
    cr_assert_eq(log_start(0, 0), 0);
    cr_assert_eq(raw_call(fd, 40, VFIO_USER_DMA_UNMAP, &req, sizeof(req), NULL),
                 -EINVAL);
    assert_served();
    req.b.size = 8; /* 16 pages: 2 bytes needed, 8 given */
    req.u.argsz = sizeof(req) + 8;
    cr_assert_eq(raw_call(fd, 41, VFIO_USER_DMA_UNMAP, &req, sizeof(req), NULL),
                 0);
    cr_assert_eq(log_stop(), 0);
}

/* fds that come with refused messages are closed: the server's count is
 * back where it was, whatever the refusal. */
Test(limits, fds_of_refused_messages_closed)
{
    int efd[17], base, mfd = memfd_create("m", MFD_CLOEXEC);
    struct vfio_irq_set set = {
        .argsz = sizeof(set),
        .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        .index = VFIO_PCI_MSI_IRQ_INDEX,
        .start = 0,
        .count = 1,
    };
    struct vfio_user_region_access a = {
        .offset = LIVENESS, .region = BAR0, .count = 4};
    struct vfio_user_dma_map bad = {.argsz = 7, .addr = 0, .size = 4096};
    struct raw_reply r;

    cr_assert_geq(mfd, 0);
    cr_assert_eq(ftruncate(mfd, 4096), 0);
    for (int i = 0; i < 17; i++)
        cr_assert_geq(efd[i] = eventfd(0, EFD_CLOEXEC), 0);
    assert_served();
    base = proc_fds(srv.pid);

    /* More fds than vectors; more than max_msg_fds; fds on a command that
     * takes none (closed, the command served: runtime/KERNEL.md, H4); a
     * DMA_MAP with a bad argsz; a map past the file's end; SET_IRQS for an
     * index that does not exist. */
    set.count = 1;
    cr_assert_eq(raw_send_msg(fd, 50, VFIO_USER_DEVICE_SET_IRQS, 0, &set,
                              sizeof(set), efd, 2),
                 0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert(r.hdr.flags & VFIO_USER_F_ERROR);
    raw_reply_free(&r);
    cr_assert_eq(raw_send_msg(fd, 51, VFIO_USER_DEVICE_SET_IRQS, 0, &set,
                              sizeof(set), efd, 17),
                 0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert(r.hdr.flags & VFIO_USER_F_ERROR);
    raw_reply_free(&r);
    cr_assert_eq(
        raw_send_msg(fd, 52, VFIO_USER_REGION_READ, 0, &a, sizeof(a), efd, 3),
        0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_not(r.hdr.flags & VFIO_USER_F_ERROR);
    raw_reply_free(&r);
    cr_assert_eq(
        raw_send_msg(fd, 53, VFIO_USER_DMA_MAP, 0, &bad, sizeof(bad), &mfd, 1),
        0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert(r.hdr.flags & VFIO_USER_F_ERROR);
    raw_reply_free(&r);
    cr_assert_eq(dma_map(0x10000, 1u << 20, &mfd), -EINVAL);
    set.index = 9;
    cr_assert_eq(raw_send_msg(fd, 54, VFIO_USER_DEVICE_SET_IRQS, 0, &set,
                              sizeof(set), efd, 1),
                 0);
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert(r.hdr.flags & VFIO_USER_F_ERROR);
    raw_reply_free(&r);
    assert_served();
    cr_assert_eq(proc_fds(srv.pid), base,
                 "server kept fds of refused "
                 "messages");
    for (int i = 0; i < 17; i++)
        close(efd[i]);
    close(mfd);
}

#define MGMT_CLIENTS 16 /* host/mgmt.c MGMT_MAX_CLIENTS */

static bool
sees_eof(int m, int timeout_ms)
{
    struct pollfd p = {.fd = m, .events = POLLIN};
    char b[256];

    /* Replies it had coming are read first. */
    while (poll(&p, 1, timeout_ms) == 1) {
        ssize_t n = recv(m, b, sizeof(b), MSG_DONTWAIT);
        if (n <= 0)
            return n == 0;
    }
    return false;
}

static void
open_all(int *m, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        m[i] = vdev_mgmt_client_open(srv.mgmt);
        cr_assert_geq(m[i], 0);
    }
}

/* Sends part of a request line: that client is in the middle of a
 * command. The server has read it once a later client got an answer. */
static void
half_line(int m, const char *part)
{
    cr_assert_eq(send(m, part, strlen(part), MSG_NOSIGNAL),
                 (ssize_t)strlen(part));
}

static void
finish_line(int m, const char *rest)
{
    char reply[128];
    ssize_t n;

    cr_assert_eq(send(m, rest, strlen(rest), MSG_NOSIGNAL),
                 (ssize_t)strlen(rest));
    struct pollfd p = {.fd = m, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, 5000), 1, "no reply to a finished command");
    n = recv(m, reply, sizeof(reply) - 1, 0);
    cr_assert_gt(n, 0, "closed in the middle of a command");
    reply[n] = '\0';
    cr_assert(!strncmp(reply, "ok ", 3), "%s", reply);
}

/* The management channel holds 16 clients; a 17th takes the slot of the
 * least recently active idle one, which is closed. */
Test(limits, mgmt_clients_bounded)
{
    int m[MGMT_CLIENTS + 1];
    char reply[128];

    /* The 17th connects once the others are in (else it could take the
     * place of one that has not spoken yet: idle too). */
    open_all(m, MGMT_CLIENTS);
    for (int i = 0; i < MGMT_CLIENTS; i++)
        cr_assert_eq(
            vdev_mgmt_client_exchange(m[i], "stats", reply, sizeof(reply)), 0);
    open_all(m + MGMT_CLIENTS, 1);
    cr_assert_eq(vdev_mgmt_client_exchange(m[MGMT_CLIENTS], "stats", reply,
                                           sizeof(reply)),
                 0);
    /* m[0] was the least recently active: it sees EOF. */
    cr_assert(sees_eof(m[0], 2000));
    for (int i = 0; i <= MGMT_CLIENTS; i++)
        close(m[i]);
    assert_served();
}

/* A client in the middle of a command is never the one evicted, even when
 * it is the least recently active: the oldest idle one goes instead. */
Test(limits, mgmt_eviction_spares_a_command)
{
    int m[MGMT_CLIENTS + 1];
    char reply[128];

    open_all(m, MGMT_CLIENTS);
    half_line(m[0], "sta");
    for (int i = 1; i < MGMT_CLIENTS; i++)
        cr_assert_eq(
            vdev_mgmt_client_exchange(m[i], "info", reply, sizeof(reply)), 0);
    open_all(m + MGMT_CLIENTS, 1);
    cr_assert_eq(vdev_mgmt_client_exchange(m[MGMT_CLIENTS], "stats", reply,
                                           sizeof(reply)),
                 0);
    cr_assert(sees_eof(m[1], 2000), "the oldest idle client stays");
    finish_line(m[0], "ts\n");
    for (int i = 0; i <= MGMT_CLIENTS; i++)
        close(m[i]);
    assert_served();
}

/* Every client in the middle of a command: the newcomer is told the
 * server is busy and closed; each command then completes. */
Test(limits, mgmt_all_busy_refuses_newcomer)
{
    int m[MGMT_CLIENTS], late;
    char reply[256];
    ssize_t n;

    open_all(m, MGMT_CLIENTS);
    for (int i = 0; i < MGMT_CLIENTS; i++)
        half_line(m[i], "sta");
    /* The server reads the half lines as it accepts: wait for that. */
    usleep(200000);
    late = vdev_mgmt_client_open(srv.mgmt);
    cr_assert_geq(late, 0);
    struct pollfd p = {.fd = late, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, 5000), 1);
    n = recv(late, reply, sizeof(reply) - 1, 0);
    cr_assert_gt(n, 0);
    reply[n] = '\0';
    cr_assert(strstr(reply, "error: busy"), "%s", reply);
    cr_assert(sees_eof(late, 2000));
    close(late);
    for (int i = 0; i < MGMT_CLIENTS; i++) {
        finish_line(m[i], "ts\n");
        close(m[i]);
    }
    assert_served();
}

/* A command stalled for two seconds (half a line, then silence) no longer
 * holds its slot against a newcomer. */
Test(limits, mgmt_stalled_client_evicted)
{
    int m[MGMT_CLIENTS], late;
    char reply[128];

    open_all(m, MGMT_CLIENTS);
    for (int i = 0; i < MGMT_CLIENTS; i++)
        half_line(m[i], "sta");
    usleep(2200000);
    late = vdev_mgmt_client_open(srv.mgmt);
    cr_assert_geq(late, 0);
    cr_assert_eq(vdev_mgmt_client_exchange(late, "stats", reply, sizeof(reply)),
                 0);
    cr_assert(sees_eof(m[0], 2000), "the oldest stalled client stays");
    close(late);
    for (int i = 0; i < MGMT_CLIENTS; i++)
        close(m[i]);
    assert_served();
}
