/* A region write that starts a message-based DMA, as QEMU 10.2 drives it:
 * the edu model server (--qemu-dma-layout) must answer the client's next
 * region read while its DMA_READ is still unanswered (QEMU's vCPU waits
 * for that read holding the lock its DMA handler needs), and size its
 * DMA_READ/WRITE requests as QEMU's handlers check them. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "rawsock.h"

#define IOVA 0x10000000ull
#define EDU_BUF 0x40000u

static pid_t pid = -1;
static int fd = -1;
static char dir[64];

static void
start_edu(void)
{
    const char *b = getenv("VDEV_BUILD");
    char prog[PATH_MAX], sock[128], arg[160];

    snprintf(dir, sizeof(dir), "/tmp/vdev-s2c-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/edu.sock", dir);
    snprintf(prog, sizeof(prog), "%s/bin/vdev-edu", b ? b : "build");
    snprintf(arg, sizeof(arg), "--socket-path=%s", sock);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (null >= 0)
            dup2(null, 1);
        execl(prog, prog, arg, "--no-mgmt", "--qemu-dma-layout", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000 && fd < 0; i++) {
        fd = raw_connect(sock);
        if (fd < 0)
            usleep(10000);
    }
    cr_assert_geq(fd, 0, "cannot connect to %s", sock);
    cr_assert_eq(raw_negotiate(fd), 0);
}

static void
stop_edu(void)
{
    char path[128];

    if (fd >= 0)
        close(fd);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    snprintf(path, sizeof(path), "%s/edu.sock", dir);
    unlink(path);
    rmdir(dir);
}

TestSuite(s2c_served, .init = start_edu, .fini = stop_edu, .timeout = 30);

/* A posted write, as QEMU sends it: the reply is read later. */
static void
post_write(uint16_t id, uint64_t off, uint64_t val)
{
    struct {
        struct vfio_user_region_access a;
        uint64_t v;
    } __attribute__((packed))
    w = {{.offset = off, .region = 0, .count = 8}, val};

    cr_assert_eq(
        raw_send_msg(fd, id, VFIO_USER_REGION_WRITE, 0, &w, sizeof(w), NULL, 0),
        0);
}

/* The next message within ms, else fails the test. */
static void
next_msg(struct raw_reply *r, int ms, const char *what)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    cr_assert_eq(poll(&p, 1, ms), 1, "no %s within %d ms", what, ms);
    cr_assert_eq(raw_recv(fd, r), 0);
}

static bool
is_reply(const struct raw_reply *r, uint16_t id)
{
    return (r->hdr.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY &&
           r->hdr.msg_id == id;
}

Test(s2c_served, region_read_is_answered_while_the_dma_waits)
{
    struct vfio_user_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .addr = IOVA,
        .size = 0x10000,
    };
    struct vfio_user_region_access rd = {.offset = 0x98, .count = 4};
    struct raw_reply r, dma_req = {0};
    bool read_seen = false;
    uint8_t out[16 + 12 + 16 + 4] = {0};
    uint32_t cnt = 16, cmd;
    uint64_t addr;

    /* No fd: the server reaches this memory by DMA_READ/WRITE only. */
    cr_assert_eq(raw_call(fd, 2, VFIO_USER_DMA_MAP, &map, sizeof(map), NULL),
                 0);
    post_write(10, 0x80, IOVA);
    post_write(11, 0x88, EDU_BUF);
    post_write(12, 0x90, cnt);
    post_write(13, 0x98, 1); /* start, RAM -> buffer */
    cr_assert_eq(raw_send_msg(fd, 14, VFIO_USER_REGION_READ, 0, &rd, sizeof(rd),
                              NULL, 0),
                 0);
    while (!read_seen) {
        next_msg(&r, 2000, "answer to the region read");
        if (r.hdr.cmd == VFIO_USER_DMA_READ &&
            (r.hdr.flags & VFIO_USER_F_TYPE_MASK) == 0) {
            dma_req = r;
            continue;
        }
        cr_assert_neq(r.hdr.msg_id, 13,
                      "the write was answered before its "
                      "DMA was");
        if (is_reply(&r, 14)) {
            read_seen = true;
            cr_assert_eq(r.len, sizeof(rd) + 4);
            memcpy(&cmd, r.payload + sizeof(rd), 4);
            cr_assert_eq(cmd & 1, 1, "dma_cmd.start reads 0 mid-transfer");
        }
        raw_reply_free(&r);
    }
    /* QEMU refuses a DMA_READ shorter than header + 16 bytes. */
    cr_assert_not_null(dma_req.payload, "no DMA_READ before the read reply");
    cr_assert_eq(dma_req.len, 16);
    memcpy(&addr, dma_req.payload, 8);
    cr_assert_eq(addr, IOVA);
    cr_assert_eq(memcmp(dma_req.payload + 8, &cnt, 4), 0);

    /* Answer as QEMU does: address, count, data, 4 bytes of padding. */
    struct vfio_user_header h = {.msg_id = dma_req.hdr.msg_id,
                                 .cmd = VFIO_USER_DMA_READ,
                                 .msg_size = sizeof(out),
                                 .flags = VFIO_USER_F_TYPE_REPLY};
    memcpy(out, &h, 16);
    memcpy(out + 16, &addr, 8);
    memcpy(out + 24, &cnt, 4);
    for (unsigned i = 0; i < cnt; i++)
        out[28 + i] = (uint8_t)(0xa0 + i);
    raw_reply_free(&dma_req);
    cr_assert_eq(raw_send(fd, out, sizeof(out), NULL, 0), 0);
    next_msg(&r, 2000, "write reply");
    cr_assert(is_reply(&r, 13));
    raw_reply_free(&r);

    /* Back to RAM: a DMA_WRITE with QEMU's 4 bytes behind the data. */
    post_write(20, 0x80, EDU_BUF);
    post_write(21, 0x88, IOVA + 0x100);
    post_write(22, 0x98, 3);
    for (;;) {
        next_msg(&r, 2000, "DMA_WRITE");
        if (r.hdr.cmd == VFIO_USER_DMA_WRITE)
            break;
        raw_reply_free(&r);
    }
    cr_assert_eq(r.len, 12 + cnt + 4);
    memcpy(&addr, r.payload, 8);
    cr_assert_eq(addr, IOVA + 0x100);
    cr_assert_eq(memcmp(r.payload + 12, out + 28, cnt), 0);
    h.msg_id = r.hdr.msg_id;
    h.cmd = VFIO_USER_DMA_WRITE;
    h.msg_size = sizeof(h); /* QEMU answers a write with the header */
    raw_reply_free(&r);
    cr_assert_eq(raw_send(fd, &h, sizeof(h), NULL, 0), 0);
    next_msg(&r, 2000, "write reply");
    cr_assert(is_reply(&r, 22));
    raw_reply_free(&r);
    cr_assert_eq(raw_region_read(fd, 0, 0x98, &cmd, 4), 0);
    cr_assert_eq(cmd, 2, "dma_cmd after the transfer: 0x%x", cmd);
}
