/* Happy paths of the device and region messages over a real socket:
 * device and region info (caps, fds), reads and writes, WRITE_MULTI,
 * REGION_IO_FDS, reset, pipelining, No_reply and a 1 MiB write in pieces. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device/device.h"
#include "rawsock.h"
#include "proto_fixture.h"
#include "testdev.h"

static struct testsrv srv;
static int fd = -1;

static void
setup(void)
{
    proto_fixture_up(&srv, &fd, false, true);
}

static void
teardown(void)
{
    proto_fixture_down(&srv, &fd);
}

TestSuite(proto_region, .init = setup, .fini = teardown, .timeout = 30);

static int
region_info(uint32_t index, uint32_t argsz, struct raw_reply *r,
            struct vfio_region_info *out)
{
    struct vfio_region_info ri = {.argsz = argsz, .index = index};
    int rc =
        raw_call(fd, 20, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri), r);
    if (rc == 0) {
        cr_assert_geq(r->len, sizeof(*out));
        memcpy(out, r->payload, sizeof(*out));
    }
    return rc;
}

Test(proto_region, device_info)
{
    struct vfio_device_info di = {.argsz = sizeof(di)}, out;
    struct raw_reply r;

    cr_assert_eq(raw_call(fd, 2, VFIO_USER_DEVICE_GET_INFO, &di, 16, &r), 0);
    cr_assert_eq(r.len, 16);
    memcpy(&out, r.payload, 16);
    cr_assert_eq(out.argsz, 16);
    cr_assert(out.flags & VFIO_DEVICE_FLAGS_PCI);
    cr_assert(out.flags & VFIO_DEVICE_FLAGS_RESET);
    cr_assert_eq(out.num_regions, TESTDEV_TYPED_INDEX + 1);
    cr_assert_eq(out.num_irqs, VDEV_NR_IRQ_INDEXES);
    raw_reply_free(&r);
    di.argsz = 8;
    cr_assert_eq(raw_call(fd, 3, VFIO_USER_DEVICE_GET_INFO, &di, 16, NULL),
                 -EINVAL);
    cr_assert_eq(raw_call(fd, 4, VFIO_USER_DEVICE_GET_INFO, &di, 4, NULL),
                 -EINVAL);
}

Test(proto_region, bar0_registers)
{
    struct vfio_region_info out;
    struct raw_reply r;

    cr_assert_eq(region_info(0, 256, &r, &out), 0);
    cr_assert_eq(out.size, TESTDEV_BAR0_SIZE);
    cr_assert_eq(out.flags,
                 VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
    cr_assert_eq(out.argsz, sizeof(out));
    cr_assert_eq(r.nr_fds, 0);
    raw_reply_free(&r);
}

Test(proto_region, config_region)
{
    struct vfio_region_info out;
    struct raw_reply r;
    uint16_t ids[2];

    /* 256 bytes: the test device (without its capabilities here) is not
     * PCI Express (runtime/KERNEL.md, R6). */
    cr_assert_eq(region_info(VDEV_CONFIG_INDEX, sizeof(out), &r, &out), 0);
    cr_assert_eq(out.size, VDEV_CONFIG_LEGACY_SIZE);
    cr_assert_eq(out.flags,
                 VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
    raw_reply_free(&r);
    cr_assert_eq(raw_region_read(fd, VDEV_CONFIG_INDEX, 0, ids, 4), 0);
    cr_assert_eq(ids[0], TESTDEV_VENDOR);
    cr_assert_eq(ids[1], TESTDEV_DEVICE);
}

Test(proto_region, bar2_sparse_mmap_and_fd)
{
    struct vfio_region_info out;
    struct vfio_region_info_cap_sparse_mmap sp;
    struct vfio_region_sparse_mmap_area area;
    struct raw_reply r;
    const char msg[] = "written through REGION_WRITE";
    uint8_t *map;

    cr_assert_eq(region_info(2, 4096, &r, &out), 0);
    cr_assert_eq(out.flags,
                 VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
                     VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS);
    cr_assert_eq(out.size, TESTDEV_BAR2_SIZE);
    cr_assert_eq(out.offset, 0);
    cr_assert_eq(out.cap_offset, sizeof(out));
    cr_assert_eq(out.argsz, sizeof(out) + sizeof(sp) + sizeof(area));
    cr_assert_eq(r.len, out.argsz);
    memcpy(&sp, r.payload + out.cap_offset, sizeof(sp));
    cr_assert_eq(sp.header.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
    cr_assert_eq(sp.header.version, 1);
    cr_assert_eq(sp.header.next, 0);
    cr_assert_eq(sp.nr_areas, 1);
    memcpy(&area, r.payload + out.cap_offset + sizeof(sp), sizeof(area));
    cr_assert_eq(area.offset, 0);
    cr_assert_eq(area.size, TESTDEV_BAR2_MMAP_SIZE);
    cr_assert_eq(r.nr_fds, 1);

    /* the fd maps the same memory the server serves */
    cr_assert_eq(raw_region_write(fd, 2, 4096, msg, sizeof(msg)), 0);
    map = mmap(NULL, area.size, PROT_READ | PROT_WRITE, MAP_SHARED, r.fds[0],
               (off_t)(out.offset + area.offset));
    cr_assert_neq(map, MAP_FAILED);
    cr_assert_eq(memcmp(map + 4096, msg, sizeof(msg)), 0);
    map[8192] = 0xa5;
    uint8_t b = 0;
    cr_assert_eq(raw_region_read(fd, 2, 8192, &b, 1), 0);
    cr_assert_eq(b, 0xa5);
    munmap(map, area.size);
    raw_reply_free(&r);
}

Test(proto_region, typed_region_cap)
{
    struct vfio_region_info out;
    struct vfio_region_info_cap_type t;
    struct raw_reply r;
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, back[8];

    cr_assert_eq(region_info(TESTDEV_TYPED_INDEX, 4096, &r, &out), 0);
    cr_assert(out.flags & VFIO_REGION_INFO_FLAG_CAPS);
    cr_assert_eq(out.size, TESTDEV_TYPED_SIZE);
    cr_assert_eq(out.cap_offset, sizeof(out));
    memcpy(&t, r.payload + out.cap_offset, sizeof(t));
    cr_assert_eq(t.header.id, VFIO_REGION_INFO_CAP_TYPE);
    cr_assert_eq(t.type, TESTDEV_TYPED_TYPE);
    cr_assert_eq(t.subtype, TESTDEV_TYPED_SUBTYPE);
    cr_assert_eq(r.nr_fds, 0);
    raw_reply_free(&r);
    cr_assert_eq(raw_region_write(fd, TESTDEV_TYPED_INDEX, 248, buf, 8), 0);
    cr_assert_eq(raw_region_read(fd, TESTDEV_TYPED_INDEX, 248, back, 8), 0);
    cr_assert_eq(memcmp(buf, back, 8), 0);
}

Test(proto_region, io_fds_none_offered)
{
    struct vfio_user_region_io_fds_request q = {.argsz = 256, .index = 2};
    struct vfio_user_region_io_fds_reply out;
    struct raw_reply r;

    cr_assert_eq(
        raw_call(fd, 30, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q, sizeof(q), &r),
        0);
    cr_assert_eq(r.len, sizeof(out));
    memcpy(&out, r.payload, sizeof(out));
    cr_assert_eq(out.count, 0);
    cr_assert_eq(out.index, 2);
    cr_assert_eq(out.argsz, sizeof(out));
    cr_assert_eq(r.nr_fds, 0);
    raw_reply_free(&r);
    q.index = 4;
    cr_assert_eq(raw_call(fd, 31, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
                          sizeof(q), NULL),
                 -EINVAL);
    q.index = 0;
    q.argsz = 8;
    cr_assert_eq(raw_call(fd, 32, VFIO_USER_DEVICE_GET_REGION_IO_FDS, &q,
                          sizeof(q), NULL),
                 -EINVAL);
}

Test(proto_region, id_register_read_only_any_width)
{
    uint32_t v = 0xffffffffu, back;
    uint8_t b;
    uint16_t w;

    cr_assert_eq(raw_region_write(fd, 0, TESTDEV_REG_ID, &v, 4), 0);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_ID, &back, 4), 0);
    cr_assert_eq(back, TESTDEV_ID_VALUE);
    cr_assert_eq(raw_region_read(fd, 0, 1, &b, 1), 0);
    cr_assert_eq(b, (TESTDEV_ID_VALUE >> 8) & 0xff);
    cr_assert_eq(raw_region_read(fd, 0, 3, &w, 2), 0); /* straddles two regs */
    cr_assert_eq(w, TESTDEV_ID_VALUE >> 24);
}

static void
write_multi(uint64_t n, const struct vfio_user_write_multi_entry *e, int want)
{
    size_t len = 8 + n * sizeof(*e);
    uint8_t *buf = malloc(len);
    struct raw_reply r;
    uint64_t cnt;

    memcpy(buf, &n, 8);
    memcpy(buf + 8, e, n * sizeof(*e));
    cr_assert_eq(raw_call(fd, 40, VFIO_USER_REGION_WRITE_MULTI, buf, len, &r),
                 want);
    if (want == 0) {
        cr_assert_eq(r.len, 8);
        memcpy(&cnt, r.payload, 8);
        cr_assert_eq(cnt, n);
    }
    raw_reply_free(&r);
    free(buf);
}

Test(proto_region, write_multi)
{
    struct vfio_user_write_multi_entry e[3] = {
        {.offset = TESTDEV_REG_SCRATCH,
         .region = 0,
         .count = 2,
         .data = {0x34, 0x12}},
        {.offset = TESTDEV_REG_SCRATCH + 2,
         .region = 0,
         .count = 2,
         .data = {0x78, 0x56}},
        {.offset = 64,
         .region = 2,
         .count = 8,
         .data = {1, 2, 3, 4, 5, 6, 7, 8}},
    };
    uint32_t v;
    uint64_t q;

    write_multi(3, e, 0);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_SCRATCH, &v, 4), 0);
    cr_assert_eq(v, 0x56781234);
    cr_assert_eq(raw_region_read(fd, 2, 64, &q, 8), 0);
    cr_assert_eq(q, 0x0807060504030201ull);
    /* a bad entry rejects the whole message, nothing applied */
    e[0].data[0] = 0;
    e[1].count = 9;
    write_multi(2, e, -EINVAL);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_SCRATCH, &v, 4), 0);
    cr_assert_eq(v, 0x56781234);
    e[1].count = 2;
    e[1].region = 4;
    write_multi(2, e, -EINVAL);
    /* wr_cnt disagreeing with the body */
    e[1].region = 0;
    uint8_t buf[8 + 2 * sizeof(e[0])];
    uint64_t n = 3;
    memcpy(buf, &n, 8);
    memcpy(buf + 8, e, 2 * sizeof(e[0]));
    cr_assert_eq(
        raw_call(fd, 41, VFIO_USER_REGION_WRITE_MULTI, buf, sizeof(buf), NULL),
        -EINVAL);
}

Test(proto_region, write_multi_needs_negotiation)
{
    struct vfio_user_write_multi_entry e = {
        .offset = 4,
        .region = 0,
        .count = 4,
    };
    int fd2;

    close(fd);
    fd = -1;
    fd2 = raw_connect(srv.path);
    cr_assert_geq(fd2, 0);
    fd = fd2;
    cr_assert_eq(raw_version(fd, "{\"capabilities\":{}}", NULL), 0);
    write_multi(1, &e, -EINVAL);
}

Test(proto_region, reset)
{
    uint32_t v = 0xcafe;

    cr_assert_eq(raw_region_write(fd, 0, TESTDEV_REG_SCRATCH, &v, 4), 0);
    cr_assert_eq(raw_call(fd, 50, VFIO_USER_DEVICE_RESET, NULL, 0, NULL), 0);
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_SCRATCH, &v, 4), 0);
    cr_assert_eq(v, 0);
    /* A body is ignored, as VFIO_DEVICE_RESET ignores its argument. */
    cr_assert_eq(raw_call(fd, 51, VFIO_USER_DEVICE_RESET, "x", 1, NULL), 0);
}

Test(proto_region, pipelined_in_order)
{
    enum { N = 16 };
    struct {
        struct vfio_user_header h;
        struct vfio_user_region_access a;
    } __attribute__((packed)) req[N];
    uint32_t words[N];

    for (unsigned i = 0; i < N; i++)
        words[i] = 0x1000u * i + 7;
    cr_assert_eq(raw_region_write(fd, 2, 0, words, sizeof(words)), 0);
    for (unsigned i = 0; i < N; i++) {
        req[i].h = (struct vfio_user_header){.msg_id = (uint16_t)(100 + i),
                                             .cmd = VFIO_USER_REGION_READ,
                                             .msg_size = sizeof(req[i])};
        req[i].a = (struct vfio_user_region_access){
            .offset = 4 * i, .region = 2, .count = 4};
    }
    cr_assert_eq(raw_send(fd, req, sizeof(req), NULL, 0), 0);
    for (unsigned i = 0; i < N; i++) {
        struct raw_reply r;
        uint32_t v;
        cr_assert_eq(raw_recv(fd, &r), 0);
        cr_assert_eq(r.hdr.msg_id, 100 + i);
        cr_assert_eq(r.hdr.flags, VFIO_USER_F_TYPE_REPLY);
        cr_assert_eq(r.len, 20);
        memcpy(&v, r.payload + 16, 4);
        cr_assert_eq(v, words[i]);
        raw_reply_free(&r);
    }
}

Test(proto_region, no_reply_honoured)
{
    struct {
        struct vfio_user_region_access a;
        uint32_t v;
    } __attribute__((packed)) w = {
        .a = {.offset = TESTDEV_REG_SCRATCH, .region = 0, .count = 4},
        .v = 0xfeedf00d,
    };
    uint32_t v;

    cr_assert_eq(raw_send_msg(fd, 60, VFIO_USER_REGION_WRITE,
                              VFIO_USER_F_NO_REPLY, &w, sizeof(w), NULL, 0),
                 0);
    /* the next reply is the read's, and it sees the write */
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_SCRATCH, &v, 4), 0);
    cr_assert_eq(v, 0xfeedf00d);
}

Test(proto_region, max_xfer_write_in_pieces)
{
    const uint32_t count = VDEV_MAX_DATA_XFER;
    size_t total = 32 + (size_t)count;
    uint8_t *msg = malloc(total), *back = malloc(count);
    struct vfio_user_header h = {.msg_id = 70,
                                 .cmd = VFIO_USER_REGION_WRITE,
                                 .msg_size = (uint32_t)total};
    struct vfio_user_region_access a = {
        .offset = 0, .region = 2, .count = count};
    struct raw_reply r;

    cr_assert_not_null(msg);
    cr_assert_not_null(back);
    memcpy(msg, &h, 16);
    memcpy(msg + 16, &a, 16);
    for (uint32_t i = 0; i < count; i++)
        msg[32 + i] = (uint8_t)(i * 7 + (i >> 12));
    /* uneven pieces with pauses, so the server sees many partial reads */
    for (size_t off = 0; off < total;) {
        size_t n = off == 0 ? 10 : 50000 + off % 7919;
        if (n > total - off)
            n = total - off;
        cr_assert_eq(raw_send(fd, msg + off, n, NULL, 0), 0);
        off += n;
        usleep(200);
    }
    cr_assert_eq(raw_recv(fd, &r), 0);
    cr_assert_eq(r.hdr.msg_id, 70);
    cr_assert_eq(r.hdr.flags, VFIO_USER_F_TYPE_REPLY);
    raw_reply_free(&r);
    /* read it back whole */
    cr_assert_eq(raw_region_read(fd, 2, 0, back, count), 0);
    cr_assert_eq(memcmp(back, msg + 32, count), 0);
    free(msg);
    free(back);
}

struct flood {
    int fd;
    unsigned n;
    uint32_t count;
    int rc;
};

static void *
flood_thread(void *arg)
{
    struct flood *f = arg;
    struct {
        struct vfio_user_header h;
        struct vfio_user_region_access a;
    } __attribute__((packed)) req;

    for (unsigned i = 0; i < f->n && f->rc == 0; i++) {
        req.h = (struct vfio_user_header){
            .msg_id = (uint16_t)i,
            .cmd = VFIO_USER_REGION_READ,
            .msg_size = sizeof(req),
        };
        req.a = (struct vfio_user_region_access){
            .offset = (i * 4096u) % TESTDEV_BAR2_SIZE,
            .region = 2,
            .count = f->count,
        };
        f->rc = raw_send(f->fd, &req, sizeof(req), NULL, 0);
    }
    return NULL;
}

/* A client that sends far more than it reads: the server stops reading
 * while its replies wait, then answers everything, in order. */
Test(proto_region, backpressure_keeps_order)
{
    struct flood f = {.fd = fd, .n = 3000, .count = 4096};
    uint32_t marks[TESTDEV_BAR2_SIZE / 4096];
    pthread_t t;

    for (unsigned i = 0; i < TESTDEV_BAR2_SIZE / 4096; i++) {
        marks[i] = 0xab000000u | i;
        cr_assert_eq(raw_region_write(fd, 2, i * 4096u, &marks[i], 4), 0);
    }
    cr_assert_eq(pthread_create(&t, NULL, flood_thread, &f), 0);
    usleep(300000); /* let both socket buffers fill */
    for (unsigned i = 0; i < f.n; i++) {
        struct raw_reply r;
        uint32_t v;
        cr_assert_eq(raw_recv(fd, &r), 0, "reply %u", i);
        cr_assert_eq(r.hdr.msg_id, (uint16_t)i);
        cr_assert_eq(r.len, 16 + f.count);
        memcpy(&v, r.payload + 16, 4);
        cr_assert_eq(v, marks[i % (TESTDEV_BAR2_SIZE / 4096)]);
        raw_reply_free(&r);
    }
    pthread_join(t, NULL);
    cr_assert_eq(f.rc, 0);
}
