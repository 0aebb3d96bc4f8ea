/* The kernel-behaviour tests' fixture (see kernel_fixture.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kernel_fixture.h"

static int
rom_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
           uint32_t count, bool is_write)
{
    uint8_t *b = buf;

    if (is_write)
        return -EIO; /* never reached: the ROM has no write flag */
    for (uint32_t i = 0; i < count; i++)
        b[i] = offset + i < 2 ? (uint8_t[]){0x55, 0xaa}[offset + i] : 0;
    return 0;
}

void
kfix_up(struct kfix *k, bool caps, bool rom)
{
    const struct vdev_bar_desc desc = {
        .size = KFIX_ROM_SIZE,
        .access = rom_access,
    };

    memset(k, 0, sizeof(*k));
    k->fd = -1;
    k->id = 100;
    cr_assert_eq(caps ? testsrv_init_caps(&k->srv) : testsrv_init(&k->srv), 0);
    if (rom)
        cr_assert_eq(vdev_bar_add(k->srv.dev, 6, &desc), 0);
    cr_assert_eq(testsrv_start(&k->srv), 0);
    k->fd = raw_connect(k->srv.path);
    cr_assert_geq(k->fd, 0);
    cr_assert_eq(raw_negotiate(k->fd), 0);
}

void
kfix_down(struct kfix *k)
{
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    cr_assert_eq(testsrv_stop(&k->srv), 0);
    testsrv_free(&k->srv);
}

int
kfix_call(struct kfix *k, uint16_t cmd, const void *payload, size_t len,
          const int *fds, unsigned nr_fds, struct raw_reply *r)
{
    struct raw_reply local;
    uint16_t id = k->id++;
    int rc;

    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    rc = raw_send_msg(k->fd, id, cmd, 0, payload, len, fds, nr_fds);
    if (rc == 0)
        rc = raw_recv(k->fd, r);
    if (rc == 0 &&
        (r->hdr.msg_id != id || r->hdr.cmd != cmd ||
         (r->hdr.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY))
        rc = -EPROTO;
    if (rc == 0 && (r->hdr.flags & VFIO_USER_F_ERROR))
        rc = r->len ? -EPROTO : -(int)r->hdr.error_no;
    if (r == &local)
        raw_reply_free(r);
    return rc;
}

int
kfix_set_irqs(struct kfix *k, uint32_t argsz, uint32_t flags, uint32_t index,
              uint32_t start, uint32_t count, const void *data, size_t dlen,
              const int *fds, unsigned nr_fds)
{
    uint8_t buf[256];
    struct vfio_irq_set s = {
        .argsz = argsz ? argsz : (uint32_t)(sizeof(s) + dlen),
        .flags = flags,
        .index = index,
        .start = start,
        .count = count,
    };

    cr_assert_leq(sizeof(s) + dlen, sizeof(buf));
    memcpy(buf, &s, sizeof(s));
    if (dlen)
        memcpy(buf + sizeof(s), data, dlen);
    return kfix_call(k, VFIO_USER_DEVICE_SET_IRQS, buf, sizeof(s) + dlen, fds,
                     nr_fds, NULL);
}

int
kfix_read(struct kfix *k, uint32_t region, uint64_t offset, void *buf,
          uint32_t count, uint32_t *done)
{
    struct vfio_user_region_access a = {
        .offset = offset, .region = region, .count = count};
    struct raw_reply r;
    int rc = kfix_call(k, VFIO_USER_REGION_READ, &a, sizeof(a), NULL, 0, &r);

    if (rc == 0) {
        memcpy(&a, r.payload, sizeof(a));
        cr_assert_eq(r.len, sizeof(a) + a.count);
        cr_assert_leq(a.count, count);
        memcpy(buf, r.payload + sizeof(a), a.count);
        if (done)
            *done = a.count;
    }
    raw_reply_free(&r);
    return rc;
}

int
kfix_write(struct kfix *k, uint32_t region, uint64_t offset, const void *buf,
           uint32_t count, uint32_t *done)
{
    struct vfio_user_region_access a = {
        .offset = offset, .region = region, .count = count};
    uint8_t *msg = malloc(sizeof(a) + count);
    struct raw_reply r;
    int rc;

    cr_assert_not_null(msg);
    memcpy(msg, &a, sizeof(a));
    memcpy(msg + sizeof(a), buf, count);
    rc = kfix_call(k, VFIO_USER_REGION_WRITE, msg, sizeof(a) + count, NULL, 0,
                   &r);
    free(msg);
    if (rc == 0) {
        cr_assert_eq(r.len, sizeof(a));
        memcpy(&a, r.payload, sizeof(a));
        if (done)
            *done = a.count;
    }
    raw_reply_free(&r);
    return rc;
}

int
kfix_eventfd(void)
{
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    cr_assert_geq(fd, 0);
    return fd;
}

uint64_t
kfix_events(int fd)
{
    uint64_t n = 0;

    if (read(fd, &n, sizeof(n)) != sizeof(n))
        return 0;
    return n;
}

bool
kfix_fd_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}
