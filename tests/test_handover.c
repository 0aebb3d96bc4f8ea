/* Seamless upgrade: a client keeps talking to the edu device while the
 * management channel hands the server over to a second build
 * (vdev-edunext) and back; every request is answered, registers, DMA maps
 * and IRQ eventfds survive, and the old process exits 0. Failed hand-overs
 * (missing binary, one that exits, another device) leave the old server
 * serving; a hostile record makes the successor refuse. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "host/handover.h"
#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define LIVENESS 0x04
#define IRQ_STATUS 0x24
#define IRQ_RAISE 0x60
#define IRQ_ACK 0x64
#define DMA_SRC 0x80
#define DMA_DST 0x88
#define DMA_COUNT 0x90
#define DMA_CMD 0x98
#define DMA_BUF 0x40000
#define IOVA 0x100000u
#define GUEST_SIZE (64u * 1024u)

static struct model_server srv;
static uint8_t *guest;
static int irq_fd = -1;

static void
build_path(char *out, size_t cap, const char *rel)
{
    const char *b = getenv("VDEV_BUILD");
    char tmp[PATH_MAX];

    snprintf(tmp, sizeof(tmp), "%s/%s", b ? b : "build", rel);
    cr_assert_not_null(realpath(tmp, out), "%s not built", tmp);
    cr_assert_lt(strlen(out), cap);
}

static pid_t find_child(pid_t skip);

static void
setup(void)
{
    /* Successors are the old server's children: reap them here. */
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    model_server_start(&srv, "edu");
}

static void
teardown(void)
{
    pid_t orphan;

    model_server_stop(&srv);
    /* a successor left behind by a failed assertion */
    while ((orphan = find_child(-1)) > 0) {
        kill(orphan, SIGTERM);
        child_reap(orphan, "a successor left behind");
    }
    if (guest)
        munmap(guest, GUEST_SIZE);
    guest = NULL;
    if (irq_fd >= 0)
        close(irq_fd);
    irq_fd = -1;
}

TestSuite(handover, .init = setup, .fini = teardown, .timeout = 90);

/* ------------------------------------------------------------ helpers */

static void
wr64(uint64_t off, uint64_t v)
{
    model_wr(&srv, BAR0, off, 8, v);
}

static uint64_t
rd64(uint64_t off)
{
    return model_rd(&srv, BAR0, off, 8);
}

/* A memfd guest buffer mapped for DMA and an INTx eventfd. */
static void
attach_dma_and_irq(void)
{
    int mfd = memfd_create("guest", MFD_CLOEXEC);

    cr_assert_geq(mfd, 0);
    cr_assert_eq(ftruncate(mfd, GUEST_SIZE), 0);
    guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    cr_assert_neq(guest, MAP_FAILED);
    cr_assert_eq(vdev_client_dma_map(srv.cl, IOVA, GUEST_SIZE, mfd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
    close(mfd);
    irq_fd = model_eventfd();
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 1, &irq_fd, NULL),
                 0);
}

/* INTx: raise, see the eventfd fire, acknowledge, unmask. */
static void
check_irq(uint32_t value)
{
    cr_assert_eq(rd64(IRQ_STATUS) & 0xffffffff, 0, "no stale interrupt");
    model_wr(&srv, BAR0, IRQ_RAISE, 4, value);
    cr_assert(model_fired(irq_fd, 5000), "raise 0x%x did not interrupt", value);
    cr_assert_eq(model_rd(&srv, BAR0, IRQ_STATUS, 4), value);
    model_wr(&srv, BAR0, IRQ_ACK, 4, value);
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_INTX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_NONE |
                                          VFIO_IRQ_SET_ACTION_UNMASK,
                                      0, 1, NULL, NULL),
                 0);
}

/* RAM -> device buffer -> RAM through the memfd map. */
static void
check_dma(uint8_t seed)
{
    for (unsigned i = 0; i < 200; i++)
        guest[0x100 + i] = (uint8_t)(i * 13 + seed);
    memset(guest + 0x4000, 0, 256);
    wr64(DMA_SRC, IOVA + 0x100);
    wr64(DMA_DST, DMA_BUF + 64);
    wr64(DMA_COUNT, 200);
    wr64(DMA_CMD, 1);
    wr64(DMA_SRC, DMA_BUF + 64);
    wr64(DMA_DST, IOVA + 0x4000);
    wr64(DMA_COUNT, 200);
    wr64(DMA_CMD, 1 | 2);
    cr_assert_eq(memcmp(guest + 0x4000, guest + 0x100, 200), 0,
                 "DMA round trip (seed %u)", seed);
}

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for a child (the old server) to exit; returns its status. */
static int
wait_exit(pid_t pid)
{
    int status = 0;

    for (int64_t end = now_ms() + 20000; now_ms() < end;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            child_check("a server", status);
            return status;
        }
        cr_assert_eq(r, 0, "waitpid: %s", strerror(errno));
        usleep(10000);
    }
    cr_assert_fail("pid %d did not exit", (int)pid);
    return -1;
}

/* Sends "upgrade BINARY" on a fresh management connection; the reply is
 * read later with mgmt_reply(). */
static int
mgmt_send_upgrade(const char *binary)
{
    char line[PATH_MAX + 16];
    int fd = vdev_mgmt_client_open(srv.mgmt);
    int n = snprintf(line, sizeof(line), "upgrade %s\n", binary);

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, line, (size_t)n), n);
    return fd;
}

static bool
mgmt_reply(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t len = 0;
    int64_t end = now_ms() + timeout_ms;

    while (len + 1 < cap) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = end - now_ms();
        ssize_t n;

        if (left <= 0 || poll(&p, 1, (int)left) != 1)
            return false;
        n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        if (memchr(buf, '\n', len)) {
            *strchr(buf, '\n') = '\0';
            return true;
        }
    }
    return false;
}

/* Sends "upgrade BINARY" and waits for the reply: the new pid, or -1
 * with the error in err. */
static pid_t
upgrade_sync(const char *binary, char *err, size_t cap)
{
    char reply[256];
    int fd = mgmt_send_upgrade(binary);
    int pid = -1;

    cr_assert(mgmt_reply(fd, reply, sizeof(reply), 30000), "no reply");
    close(fd);
    if (sscanf(reply, "ok handed over to pid %d", &pid) == 1)
        return pid;
    snprintf(err, cap, "%s", reply);
    return -1;
}

/* `vdevctl MGMT upgrade BINARY`, BINARY relative to our cwd as a person
 * would type it: the new pid, or -1. */
static pid_t
vdevctl_upgrade(const char *rel_binary)
{
    const char *b = getenv("VDEV_BUILD");
    char cmd[PATH_MAX * 2], out[256] = "";
    int pid = -1;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "%s/bin/vdevctl '%s' upgrade '%s' 2>&1",
             b ? b : "build", srv.mgmt, rel_binary);
    p = popen(cmd, "r");
    cr_assert_not_null(p);
    if (!fgets(out, sizeof(out), p))
        out[0] = '\0';
    cr_assert_eq(pclose(p), 0, "vdevctl: %s", out);
    cr_assert_eq(sscanf(out, "handed over to pid %d", &pid), 1, "%s", out);
    return pid;
}

static void
check_exe(pid_t pid, const char *binary)
{
    char proc[64], exe[PATH_MAX];
    ssize_t n;

    snprintf(proc, sizeof(proc), "/proc/%d/exe", (int)pid);
    n = readlink(proc, exe, sizeof(exe) - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    cr_assert_str_eq(exe, binary, "pid %d runs %s", (int)pid, exe);
}

/* The old server exited 0 and the successor serves as srv.pid. */
static void
switch_to(pid_t successor, const char *binary)
{
    pid_t old = srv.pid;
    int status;

    cr_assert_gt(successor, 0);
    cr_assert_neq(successor, old);
    status = wait_exit(old);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "old server: status 0x%x", status);
    srv.pid = successor;
    check_exe(successor, binary);
    cr_assert_eq(access(srv.sock, F_OK), 0, "socket file kept");
    cr_assert_eq(access(srv.mgmt, F_OK), 0, "management socket kept");
}

/* ------------------------------------------------------------ raw traffic */

static uint16_t raw_id = 0x8000;

struct raw_req {
    uint16_t id;
    bool is_read;
    uint64_t expect;
};

static size_t
build_access(uint8_t *buf, uint16_t id, uint16_t cmd, uint64_t off,
             const uint64_t *val)
{
    struct vfio_user_header h = {
        .msg_id = id,
        .cmd = cmd,
        .msg_size =
            (uint32_t)(sizeof(h) + sizeof(struct vfio_user_region_access) +
                       (val ? 8 : 0)),
    };
    struct vfio_user_region_access a = {
        .offset = off, .region = BAR0, .count = 8};

    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), &a, sizeof(a));
    if (val)
        memcpy(buf + sizeof(h) + sizeof(a), val, 8);
    return h.msg_size;
}

struct raw_round {
    unsigned round, nr;
    struct raw_req reqs[32];
};

/* One pipelined round: 16 write/read pairs of DMA_SRC sent in one go;
 * raw_check() then checks every reply, in order. */
static void
raw_send(struct raw_round *rr, unsigned round)
{
    uint8_t buf[32 * 48];
    size_t len = 0;

    rr->round = round;
    rr->nr = 0;
    for (unsigned i = 0; i < 16; i++) {
        uint64_t v = ((uint64_t)round << 32) | (i * 0x1111u + 7);
        rr->reqs[rr->nr++] = (struct raw_req){raw_id, false, 0};
        len += build_access(buf + len, raw_id++, VFIO_USER_REGION_WRITE,
                            DMA_SRC, &v);
        rr->reqs[rr->nr++] = (struct raw_req){raw_id, true, v};
        len += build_access(buf + len, raw_id++, VFIO_USER_REGION_READ, DMA_SRC,
                            NULL);
    }
    cr_assert_eq(vdev_client_send_raw(srv.cl, buf, len, NULL, 0), 0);
}

static void
raw_check(const struct raw_round *rr)
{
    unsigned round = rr->round;

    for (unsigned i = 0; i < rr->nr; i++) {
        uint8_t r[64];
        struct vfio_user_header h;
        ssize_t n = vdev_client_recv_raw(srv.cl, r, sizeof(r), NULL, NULL);

        cr_assert_geq(n, (ssize_t)sizeof(h), "round %u reply %u: %zd", round, i,
                      n);
        memcpy(&h, r, sizeof(h));
        cr_assert_eq(h.msg_id, rr->reqs[i].id, "round %u: reply order", round);
        cr_assert_eq(h.flags & VFIO_USER_F_ERROR, 0, "round %u: error %u",
                     round, h.error_no);
        if (rr->reqs[i].is_read) {
            uint64_t v;
            cr_assert_eq((size_t)n, sizeof(h) +
                                        sizeof(struct vfio_user_region_access) +
                                        8);
            memcpy(&v, r + sizeof(h) + sizeof(struct vfio_user_region_access),
                   8);
            cr_assert_eq(v, rr->reqs[i].expect, "round %u: read 0x%llx", round,
                         (unsigned long long)v);
        }
    }
}

/* ------------------------------------------------------------ tests */

Test(handover, upgrade_between_builds_under_traffic)
{
    char next[PATH_MAX], edu[PATH_MAX], reply[256];
    uint8_t partial[64];
    uint64_t v = 0xfeedface12345678ull;
    size_t plen;
    pid_t pid;
    int mfd;
    unsigned rounds = 0, after = 0;

    build_path(next, sizeof(next), "tests/vdev-edunext");
    build_path(edu, sizeof(edu), "bin/vdev-edu");
    check_exe(srv.pid, edu);
    attach_dma_and_irq();
    model_wr(&srv, BAR0, LIVENESS, 4, 0x12345678);
    check_irq(0x10);
    check_dma(1);

    /* 1. edu -> edunext with half a request in the server's buffer: the
     * successor serves it once the rest arrives. */
    plen = build_access(partial, raw_id, VFIO_USER_REGION_WRITE, DMA_DST, &v);
    cr_assert_eq(vdev_client_send_raw(srv.cl, partial, 20, NULL, 0), 0);
    usleep(100000); /* the old server reads those 20 bytes */
    {
        const char *b = getenv("VDEV_BUILD");
        char rel[PATH_MAX];
        snprintf(rel, sizeof(rel), "%s/tests/vdev-edunext", b ? b : "build");
        pid = vdevctl_upgrade(rel);
    }
    switch_to(pid, next);
    cr_assert_eq(vdev_client_send_raw(srv.cl, partial + 20, plen - 20, NULL, 0),
                 0);
    {
        uint8_t r[64];
        struct vfio_user_header h;
        ssize_t n = vdev_client_recv_raw(srv.cl, r, sizeof(r), NULL, NULL);
        cr_assert_geq(n, 16);
        memcpy(&h, r, sizeof(h));
        cr_assert_eq(h.msg_id, raw_id);
        cr_assert_eq(h.flags & VFIO_USER_F_ERROR, 0);
        raw_id++;
    }
    cr_assert_eq(rd64(DMA_DST), v, "the split request was served");
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~0x12345678u,
                 "register state moved");
    check_dma(2);
    check_irq(0x20);

    /* 2. edunext -> edu while pipelined requests keep coming: two rounds
     * of 32 requests always in flight, the upgrade asked in between. */
    {
        struct raw_round rr[2];
        raw_send(&rr[0], rounds++);
        raw_send(&rr[1], rounds++);
        mfd = mgmt_send_upgrade(edu);
        for (int64_t end = now_ms() + 60000; now_ms() < end && after < 30;) {
            struct pollfd p = {.fd = mfd, .events = POLLIN};
            raw_check(&rr[rounds % 2]);
            raw_send(&rr[rounds % 2], rounds);
            rounds++;
            if (after || poll(&p, 1, 0) == 1)
                after++;
        }
        raw_check(&rr[rounds % 2]);
        raw_check(&rr[(rounds + 1) % 2]);
    }
    cr_assert(mgmt_reply(mfd, reply, sizeof(reply), 30000), "no reply");
    close(mfd);
    cr_assert_eq(sscanf(reply, "ok handed over to pid %d", &pid), 1, "%s",
                 reply);
    switch_to(pid, edu);
    cr_log_info("%u pipelined rounds of 32 requests across the hand-over",
                rounds);
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~0x12345678u);
    check_dma(3);
    check_irq(0x40);

    /* 3. New clients still find the successor once this one leaves. */
    model_server_detach(&srv);
    model_server_attach(&srv);
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~0x12345678u);

    /* 4. The successor owns the socket files: it removes them on SIGTERM
     * and exits 0 like any server. */
    model_server_detach(&srv);
    cr_assert_eq(kill(srv.pid, SIGTERM), 0);
    {
        int status = wait_exit(srv.pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "successor: status 0x%x", status);
    }
    srv.pid = -1;
    cr_assert_neq(access(srv.sock, F_OK), 0, "socket file removed");
    cr_assert_neq(access(srv.mgmt, F_OK), 0, "management socket removed");
}

Test(handover, failed_upgrades_leave_the_server_serving)
{
    char reply[256], gpio[PATH_MAX], edu[PATH_MAX];
    pid_t pid = srv.pid;

    build_path(gpio, sizeof(gpio), "bin/vdev-gpio-pci-idio-16");
    build_path(edu, sizeof(edu), "bin/vdev-edu");
    attach_dma_and_irq();
    model_wr(&srv, BAR0, LIVENESS, 4, 0xa5a5a5a5);

    cr_assert_eq(upgrade_sync("/nonexistent/vdev-edu", reply, sizeof(reply)),
                 -1);
    cr_assert(strstr(reply, "error: upgrade"), "%s", reply);
    /* exits at once without acknowledging */
    cr_assert_eq(upgrade_sync("/bin/false", reply, sizeof(reply)), -1);
    cr_assert(strstr(reply, "error: upgrade"), "%s", reply);
    /* another device: its regions, IRQs and state do not fit */
    cr_assert_eq(upgrade_sync(gpio, reply, sizeof(reply)), -1);
    cr_assert(strstr(reply, "error: upgrade"), "%s", reply);

    cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "the old server runs");
    cr_assert_eq(access(srv.sock, F_OK), 0);
    cr_assert_eq(access(srv.mgmt, F_OK), 0);
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~0xa5a5a5a5u);
    check_dma(4);
    check_irq(0x8);

    /* ...and a real upgrade still works afterwards. */
    pid = upgrade_sync(edu, reply, sizeof(reply));
    cr_assert_gt(pid, 0, "%s", reply);
    switch_to(pid, edu);
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~0xa5a5a5a5u);
    check_dma(5);
    check_irq(0x8);
}

/* Half a DMA_MAP, whose fd came with its first bytes, waits in the old
 * server's buffer: the successor gets bytes and fd, and maps it once the
 * rest arrives. */
Test(handover, partial_message_with_its_fd)
{
    char next[PATH_MAX], reply[256];
    uint8_t msg[16 + 32], r[64];
    struct vfio_user_header h = {
        .msg_id = 0x7001, .cmd = VFIO_USER_DMA_MAP, .msg_size = sizeof(msg)};
    struct vfio_user_dma_map dm = {
        .argsz = 32,
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .addr = 0x200000,
        .size = 4 * 4096,
    };
    int mfd = memfd_create("second", MFD_CLOEXEC);
    uint8_t *g2;
    uint64_t v;
    pid_t pid;
    ssize_t n;

    build_path(next, sizeof(next), "tests/vdev-edunext");
    attach_dma_and_irq();
    cr_assert_geq(mfd, 0);
    cr_assert_eq(ftruncate(mfd, 4 * 4096), 0);
    g2 = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    cr_assert_neq(g2, MAP_FAILED);
    memcpy(msg, &h, 16);
    memcpy(msg + 16, &dm, 32);
    cr_assert_eq(vdev_client_send_raw(srv.cl, msg, 24, &mfd, 1), 0);
    close(mfd);
    usleep(100000);
    pid = upgrade_sync(next, reply, sizeof(reply));
    cr_assert_gt(pid, 0, "%s", reply);
    switch_to(pid, next);
    cr_assert_eq(
        vdev_client_send_raw(srv.cl, msg + 24, sizeof(msg) - 24, NULL, 0), 0);
    n = vdev_client_recv_raw(srv.cl, r, sizeof(r), NULL, NULL);
    cr_assert_geq(n, 16);
    memcpy(&h, r, 16);
    cr_assert_eq(h.msg_id, 0x7001);
    cr_assert_eq(h.flags & VFIO_USER_F_ERROR, 0, "DMA_MAP: error %u",
                 h.error_no);
    /* the device writes through the map the successor made from it */
    v = 0x0badc0ffee0ddf00ull;
    memcpy(guest + 0x800, &v, 8);
    wr64(DMA_SRC, IOVA + 0x800); /* first map -> device buffer */
    wr64(DMA_DST, DMA_BUF);
    wr64(DMA_COUNT, 8);
    wr64(DMA_CMD, 1);
    v = 0;
    wr64(DMA_SRC, DMA_BUF); /* device buffer -> the new map */
    wr64(DMA_DST, 0x200000 + 0x2000);
    wr64(DMA_COUNT, 8);
    wr64(DMA_CMD, 1 | 2);
    memcpy(&v, g2 + 0x2000, 8);
    cr_assert_eq(v, 0x0badc0ffee0ddf00ull);
    check_dma(9); /* the first map still works too */
    munmap(g2, 4 * 4096);
}

/* A message over the size limit was answered and is being skipped when
 * the hand-over comes: the successor drops the rest of it and serves what
 * follows. */
Test(handover, oversized_message_being_skipped)
{
    char next[PATH_MAX], reply[256];
    const uint32_t size = VDEV_MAX_MSG_SIZE + 4 * 4096;
    struct vfio_user_header h = {
        .msg_id = 0x6001, .cmd = VFIO_USER_REGION_WRITE, .msg_size = size};
    uint8_t *junk = calloc(1, size);
    uint8_t r[64];
    ssize_t n;
    pid_t pid;

    cr_assert_not_null(junk);
    build_path(next, sizeof(next), "tests/vdev-edunext");
    memcpy(junk, &h, sizeof(h));
    cr_assert_eq(vdev_client_send_raw(srv.cl, junk, 4096, NULL, 0), 0);
    n = vdev_client_recv_raw(srv.cl, r, sizeof(r), NULL, NULL);
    cr_assert_eq(n, 16);
    memcpy(&h, r, 16);
    cr_assert_eq(h.msg_id, 0x6001);
    cr_assert_eq(h.error_no, EMSGSIZE);
    pid = upgrade_sync(next, reply, sizeof(reply));
    cr_assert_gt(pid, 0, "%s", reply);
    switch_to(pid, next);
    cr_assert_eq(
        vdev_client_send_raw(srv.cl, junk + 4096, size - 4096, NULL, 0), 0);
    free(junk);
    wr64(DMA_SRC, 0x1234567);
    cr_assert_eq(rd64(DMA_SRC), 0x1234567);
}

/* More fds than one SCM_RIGHTS message may carry (253): 300 DMA maps,
 * each its own memfd, travel in several batches and all still work. */
Test(handover, more_fds_than_one_message_carries)
{
    enum { NR = 300 };
    const uint64_t base = 0x10000000;
    char next[PATH_MAX], reply[256];
    uint8_t *pages[NR];
    pid_t pid;

    build_path(next, sizeof(next), "tests/vdev-edunext");
    attach_dma_and_irq();
    for (unsigned i = 0; i < NR; i++) {
        int fd = memfd_create("page", MFD_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(ftruncate(fd, 4096), 0);
        pages[i] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        cr_assert_neq(pages[i], MAP_FAILED);
        cr_assert_eq(vdev_client_dma_map(srv.cl, base + i * 8192ull, 4096, fd,
                                         0,
                                         VFIO_USER_F_DMA_REGION_READ |
                                             VFIO_USER_F_DMA_REGION_WRITE),
                     0);
        close(fd);
    }
    pid = upgrade_sync(next, reply, sizeof(reply));
    cr_assert_gt(pid, 0, "%s", reply);
    switch_to(pid, next);
    for (unsigned i = 0; i < NR; i += 37) {
        uint64_t v = 0xabcd0000u + i, got;
        memcpy(guest + 0x800, &v, 8);
        wr64(DMA_SRC, IOVA + 0x800);
        wr64(DMA_DST, DMA_BUF);
        wr64(DMA_COUNT, 8);
        wr64(DMA_CMD, 1);
        wr64(DMA_SRC, DMA_BUF);
        wr64(DMA_DST, base + i * 8192ull + 64);
        wr64(DMA_CMD, 1 | 2);
        memcpy(&got, pages[i] + 64, 8);
        cr_assert_eq(got, v, "map %u", i);
    }
    for (unsigned i = 0; i < NR; i++)
        munmap(pages[i], 4096);
}

/* DEVICE_FEATURE DMA_LOGGING_START over the whole guest buffer. */
static void
log_start(void)
{
    uint8_t buf[8 + 16 + 16];
    struct vfio_user_device_feature f = {
        sizeof(buf),
        VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START};
    struct vfio_user_dma_logging_control ctl = {4096, 1, 0};
    uint64_t range[2] = {IOVA, GUEST_SIZE};

    memcpy(buf, &f, 8);
    memcpy(buf + 8, &ctl, 16);
    memcpy(buf + 24, range, 16);
    cr_assert_eq(vdev_client_call(srv.cl, VFIO_USER_DEVICE_FEATURE, buf,
                                  sizeof(buf), NULL, 0, NULL, 0, NULL, NULL,
                                  NULL),
                 0);
}

/* The dirty bitmap of the guest buffer (one bit per 4 KiB page); reading
 * it clears it. */
static uint16_t
log_report(void)
{
    uint8_t buf[8 + 24], reply[8 + 24 + 8];
    struct vfio_user_device_feature f = {
        sizeof(reply),
        VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT};
    struct vfio_user_dma_logging_report q = {IOVA, GUEST_SIZE, 4096};
    size_t len = 0;
    uint64_t bits;

    memcpy(buf, &f, 8);
    memcpy(buf + 8, &q, 24);
    cr_assert_eq(vdev_client_call(srv.cl, VFIO_USER_DEVICE_FEATURE, buf,
                                  sizeof(buf), NULL, 0, reply, sizeof(reply),
                                  &len, NULL, NULL),
                 0);
    cr_assert_eq(len, sizeof(reply));
    memcpy(&bits, reply + 32, 8);
    return (uint16_t)bits;
}

/* Device writes to guest memory at iova + off (buffer -> RAM). */
static void
dma_to_guest(uint64_t off)
{
    wr64(DMA_SRC, DMA_BUF);
    wr64(DMA_DST, IOVA + off);
    wr64(DMA_COUNT, 16);
    wr64(DMA_CMD, 1 | 2);
}

/* A migration's dirty logging goes on in the successor with the bits
 * gathered so far; a migration that stopped the device blocks the
 * upgrade until it is back to running. */
Test(handover, dirty_logging_and_migration_state)
{
    char edu[PATH_MAX], next[PATH_MAX], reply[256];
    pid_t pid;

    build_path(edu, sizeof(edu), "bin/vdev-edu");
    build_path(next, sizeof(next), "tests/vdev-edunext");
    attach_dma_and_irq();

    cr_assert_eq(vdev_client_mig_set_state(srv.cl, VFIO_DEVICE_STATE_STOP), 0);
    cr_assert_eq(upgrade_sync(next, reply, sizeof(reply)), -1);
    cr_assert(strstr(reply, "migration is in progress"), "%s", reply);
    cr_assert_eq(vdev_client_mig_set_state(srv.cl, VFIO_DEVICE_STATE_RUNNING),
                 0);

    log_start();
    dma_to_guest(0x3000); /* page 3 */
    pid = upgrade_sync(next, reply, sizeof(reply));
    cr_assert_gt(pid, 0, "%s", reply);
    switch_to(pid, next);
    dma_to_guest(0x9000); /* page 9, by the successor */
    cr_assert_eq(log_report(), (1u << 3) | (1u << 9));
    cr_assert_eq(log_report(), 0, "a report clears");
    dma_to_guest(0x1000);
    cr_assert_eq(log_report(), 1u << 1);
    check_irq(0x2);
}

/* ivshmem: the client's mmap of the shared-memory BAR (1 MiB, more than
 * the migration stream carries) keeps sharing pages with the successor,
 * and MSI-X eventfds, table masks and pending bits carry over. */
Test(handover, ivshmem_shared_memory_and_msix)
{
    char ivshmem[PATH_MAX], reply[256];
    struct vfio_region_info ri;
    int efd[4], fd = -1;
    unsigned msix;
    uint16_t flags;
    uint8_t *m;
    uint64_t v;
    pid_t pid;
    const uint64_t vctl3 = 3 * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;

    model_server_stop(&srv);
    model_server_start(&srv, "ivshmem");
    build_path(ivshmem, sizeof(ivshmem), "bin/vdev-ivshmem");
    cr_assert_eq(vdev_client_region_info(srv.cl, VFIO_PCI_BAR2_REGION_INDEX,
                                         &ri, NULL, 0, NULL, &fd),
                 0);
    cr_assert_geq(fd, 0);
    m = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             (off_t)ri.offset);
    cr_assert_neq(m, MAP_FAILED);
    close(fd);
    memcpy(m + 0x80000, "before", 7);

    for (unsigned i = 0; i < 4; i++)
        efd[i] = model_eventfd();
    cr_assert_eq(vdev_client_set_irqs(srv.cl, VFIO_PCI_MSIX_IRQ_INDEX,
                                      VFIO_IRQ_SET_DATA_EVENTFD |
                                          VFIO_IRQ_SET_ACTION_TRIGGER,
                                      0, 4, efd, NULL),
                 0);
    msix = model_find_cap(&srv, PCI_CAP_ID_MSIX);
    cr_assert_eq(
        vdev_client_config_read(srv.cl, msix + PCI_MSIX_FLAGS, &flags, 2), 0);
    flags |= PCI_MSIX_FLAGS_ENABLE;
    cr_assert_eq(
        vdev_client_config_write(srv.cl, msix + PCI_MSIX_FLAGS, &flags, 2), 0);
    for (unsigned i = 0; i < 4; i++)
        model_wr(&srv, VFIO_PCI_BAR1_REGION_INDEX,
                 i * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4,
                 i == 3 ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
    model_set(&srv, "state.ring", 3); /* masked: pending in the PBA */
    cr_assert(!model_fired(efd[3], 50));

    pid = upgrade_sync(ivshmem, reply, sizeof(reply));
    cr_assert_gt(pid, 0, "%s", reply);
    switch_to(pid, ivshmem);

    char buf[8];
    cr_assert_eq(vdev_client_region_read(srv.cl, VFIO_PCI_BAR2_REGION_INDEX,
                                         0x80000, buf, 7),
                 0);
    cr_assert_str_eq(buf, "before");
    memcpy(m + 0x90000, "after", 6);
    cr_assert_eq(vdev_client_region_read(srv.cl, VFIO_PCI_BAR2_REGION_INDEX,
                                         0x90000, buf, 6),
                 0);
    cr_assert_str_eq(buf, "after", "the client's mapping is the device's");
    model_wr(&srv, VFIO_PCI_BAR2_REGION_INDEX, 0xa0000, 8, 0x1122334455ull);
    memcpy(&v, m + 0xa0000, 8);
    cr_assert_eq(v, 0x1122334455ull, "and the other way round");

    /* the pending vector is delivered on unmask, by the successor */
    cr_assert_eq(model_rd(&srv, VFIO_PCI_BAR1_REGION_INDEX, 0x800, 8) & 8, 8);
    model_wr(&srv, VFIO_PCI_BAR1_REGION_INDEX, vctl3, 4, 0);
    cr_assert(model_fired(efd[3], 5000), "pending vector after hand-over");
    model_set(&srv, "state.ring", 1);
    cr_assert(model_fired(efd[1], 5000));
    munmap(m, ri.size);
    for (unsigned i = 0; i < 4; i++)
        close(efd[i]);
}

/* The running child of ours (a reaped orphan) whose parent is us and
 * whose pid is not skip, or -1. */
static pid_t
find_child(pid_t skip)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    pid_t found = -1;

    cr_assert_not_null(d);
    while ((e = readdir(d)) && found < 0) {
        char path[300], buf[512], *p;
        long pid = strtol(e->d_name, &p, 10);
        FILE *f;
        int ppid;

        if (*p || pid <= 0 || pid == skip)
            continue;
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        if (!(f = fopen(path, "r")))
            continue;
        if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
            sscanf(p + 1, " %*c %d", &ppid) == 1 && ppid == getpid() &&
            p[2] != 'Z')
            found = (pid_t)pid;
        fclose(f);
    }
    closedir(d);
    return found;
}

/* SIGUSR2 with --upgrade-to: the same hand-over without the management
 * channel. */
Test(handover, sigusr2_upgrades_to_the_named_binary)
{
    char next[PATH_MAX], edu[PATH_MAX], sock[200], arg1[256],
        arg2[PATH_MAX + 16];
    pid_t old, pid = -1;
    int rc = -1;

    build_path(next, sizeof(next), "tests/vdev-edunext");
    build_path(edu, sizeof(edu), "bin/vdev-edu");
    /* a server of our own, started with --upgrade-to */
    snprintf(sock, sizeof(sock), "%s/usr2.sock", srv.dir);
    snprintf(arg1, sizeof(arg1), "--socket-path=%s", sock);
    snprintf(arg2, sizeof(arg2), "--upgrade-to=%s", next);
    old = fork();
    cr_assert_geq(old, 0);
    if (old == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        execl(edu, edu, arg1, arg2, "--no-mgmt", (char *)NULL);
        _exit(127);
    }
    struct vdev_client *cl = NULL;
    for (int i = 0; i < 1000 && rc < 0; i++) {
        rc = vdev_client_connect(NULL, sock, &cl);
        if (rc < 0)
            usleep(10000);
    }
    cr_assert_eq(rc, 0);
    cr_assert_eq(vdev_client_negotiate(cl, NULL), 0);
    uint32_t v = 0x5eed1234, r = 0;
    cr_assert_eq(vdev_client_region_write(cl, BAR0, LIVENESS, &v, 4), 0);

    cr_assert_eq(kill(old, SIGUSR2), 0);
    int status = wait_exit(old);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "0x%x", status);
    pid = find_child(srv.pid);
    cr_assert_gt(pid, 0, "no successor");
    check_exe(pid, next);
    cr_assert_eq(vdev_client_region_read(cl, BAR0, LIVENESS, &r, 4), 0);
    cr_assert_eq(r, ~v);
    vdev_client_close(cl);
    kill(pid, SIGTERM);
    status = wait_exit(pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "0x%x", status);
    cr_assert_neq(access(sock, F_OK), 0, "removed by the successor");
}

/* A device without migration cannot hand its state over: refused before
 * anything starts, and it keeps serving. */
Test(handover, device_without_migration_refuses)
{
    char ts[PATH_MAX], edu[PATH_MAX], sock[200], mgmt[220], arg[256];
    char reply[256];
    pid_t pid;
    int rc = -1, status;

    build_path(ts, sizeof(ts), "tests/vdev-testserver");
    build_path(edu, sizeof(edu), "bin/vdev-edu");
    snprintf(sock, sizeof(sock), "%s/ts.sock", srv.dir);
    snprintf(mgmt, sizeof(mgmt), "%s.mgmt", sock);
    snprintf(arg, sizeof(arg), "--socket-path=%s", sock);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, 1);
        execl(ts, ts, arg, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1000 && rc < 0; i++) {
        rc = vdev_mgmt_client_command(mgmt, "info", reply, sizeof(reply));
        if (rc < 0)
            usleep(10000);
    }
    cr_assert_eq(rc, 0);
    char line[PATH_MAX + 16];
    snprintf(line, sizeof(line), "upgrade %s", edu);
    rc = vdev_mgmt_client_command(mgmt, line, reply, sizeof(reply));
    cr_assert_eq(rc, -EREMOTEIO, "%s", reply);
    cr_assert(strstr(reply, "no migratable state"), "%s", reply);
    cr_assert_eq(vdev_mgmt_client_command(mgmt, "info", reply, sizeof(reply)),
                 0, "still serving");
    cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0);
    kill(pid, SIGTERM);
    status = wait_exit(pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "0x%x", status);
}

/* ------------------------------------------------------------ hostile */

/* Starts vdev-edu --handover-fd on one end of a pair; returns the other. */
static int
spawn_successor(pid_t *pid)
{
    char edu[PATH_MAX], arg[32];
    int sv[2];

    build_path(edu, sizeof(edu), "bin/vdev-edu");
    cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    snprintf(arg, sizeof(arg), "--handover-fd=%d", sv[1]);
    *pid = fork();
    cr_assert_geq(*pid, 0);
    if (*pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        close(sv[0]);
        /* A sanitizer report (sanitized builds) exits 66, told apart
         * from a refusal's 1. */
        for (unsigned i = 0; i < 2; i++) {
            const char *name = i ? "UBSAN_OPTIONS" : "ASAN_OPTIONS";
            const char *o = getenv(name);
            char opts[1024];
            snprintf(opts, sizeof(opts), "%s%sexitcode=66", o ? o : "",
                     o && *o ? ":" : "");
            setenv(name, opts, 1);
        }
        execl(edu, edu, arg, (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    return sv[0];
}

/* The successor must answer with a refusal and exit non-zero. */
static void
expect_refusal(int sock, pid_t pid)
{
    struct hov_ack a;
    struct pollfd p = {.fd = sock, .events = POLLIN};
    int status;
    ssize_t n;

    cr_assert_eq(poll(&p, 1, 20000), 1);
    n = recv(sock, &a, sizeof(a), 0);
    if (n == sizeof(a))
        cr_assert_lt(a.status, 0, "refused");
    else
        cr_assert_leq(n, 0);
    close(sock);
    status = wait_exit(pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0, "status 0x%x",
              status);
}

static void
send_head(int sock, const char *magic, uint32_t version, uint64_t len,
          uint32_t nr_fds)
{
    struct hov_head h = {.version = version,
                         .head_size = sizeof(h),
                         .record_len = len,
                         .nr_fds = nr_fds};

    memcpy(h.magic, magic, 8);
    cr_assert_eq(send(sock, &h, sizeof(h), 0), (ssize_t)sizeof(h));
}

Test(handover, successor_refuses_bad_magic)
{
    pid_t pid;
    int s = spawn_successor(&pid);

    send_head(s, "NOTAHOV!", HOV_VERSION, 64, 0);
    expect_refusal(s, pid);
}

Test(handover, successor_refuses_other_version_and_huge_records)
{
    pid_t pid;
    int s = spawn_successor(&pid);

    send_head(s, HOV_MAGIC, HOV_VERSION + 1, 64, 0);
    expect_refusal(s, pid);
    s = spawn_successor(&pid);
    send_head(s, HOV_MAGIC, HOV_VERSION, (uint64_t)HOV_MAX_RECORD + 1, 0);
    expect_refusal(s, pid);
    s = spawn_successor(&pid);
    send_head(s, HOV_MAGIC, HOV_VERSION, 64, HOV_MAX_FDS + 1);
    expect_refusal(s, pid);
}

Test(handover, successor_refuses_bad_sections_and_fd_indexes)
{
    uint8_t rec[256];
    struct hov_sect sect = {.type = HOV_SECT_SOCKETS,
                            .len = sizeof(struct hov_sockets)};
    struct hov_sockets so = {.listen_fd = 5, .mgmt_fd = HOV_NO_FD};
    struct hov_fds f = {.first = 0, .count = 1};
    pid_t pid;
    int s, fd;

    /* a section longer than the record */
    s = spawn_successor(&pid);
    send_head(s, HOV_MAGIC, HOV_VERSION, sizeof(sect), 0);
    sect.len = 1000;
    cr_assert_eq(send(s, &sect, sizeof(sect), 0), (ssize_t)sizeof(sect));
    expect_refusal(s, pid);

    /* the sockets section names fd 5 of a one-fd table; no state either */
    s = spawn_successor(&pid);
    send_head(s, HOV_MAGIC, HOV_VERSION, sizeof(sect) + sizeof(so), 1);
    {
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int))];
        } ctl = {0};
        struct iovec iov = {.iov_base = &f, .iov_len = sizeof(f)};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        fd = model_eventfd();
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        cr_assert_eq(sendmsg(s, &mh, 0), (ssize_t)sizeof(f));
        close(fd);
    }
    sect.len = sizeof(so);
    memcpy(rec, &sect, sizeof(sect));
    memcpy(rec + sizeof(sect), &so, sizeof(so));
    cr_assert_eq(send(s, rec, sizeof(sect) + sizeof(so), 0),
                 (ssize_t)(sizeof(sect) + sizeof(so)));
    expect_refusal(s, pid);
}

/* ------------------------------------------------------------ replay */

struct fd_kind {
    char type; /* L, S, M, E (see tests/hovdump/main.c) */
    long long size;
};

static void *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    uint8_t *buf;
    long n;

    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* A fresh fd of the kind the record expects (or an eventfd if wrong). */
static int
make_fd(const struct fd_kind *k, bool wrong, int *peer)
{
    int fd, sv[2];

    *peer = -1;
    if (wrong)
        return model_eventfd();
    switch (k->type) {
    case 'L': {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        /* an autobound (abstract) address: no file to clean up */
        cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa_family_t)), 0);
        cr_assert_eq(listen(fd, 4), 0);
        return fd;
    }
    case 'S':
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        *peer = sv[1];
        return sv[0];
    case 'M':
        fd = memfd_create("replay", MFD_CLOEXEC);
        cr_assert_eq(ftruncate(fd, (off_t)k->size), 0);
        return fd;
    default:
        return model_eventfd();
    }
}

static void
send_fd_batch(int s, uint32_t first, const int *fds, uint32_t n)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * HOV_FDS_PER_PKT)];
    } ctl;
    struct hov_fds f = {first, n};
    struct iovec iov = {.iov_base = &f, .iov_len = sizeof(f)};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl.buf,
                        .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
    struct cmsghdr *cm;

    memset(&ctl, 0, sizeof(ctl));
    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
    sendmsg(s, &mh, MSG_NOSIGNAL); /* a successor that gave up: fine */
}

/* Replays a record with fresh fds to vdev-edu --handover-fd. Returns the
 * successor's answer (0, -errno, or 1 for none). It must never crash or
 * trip a sanitizer (exit code 66), whatever the record says. */
static int
replay(const uint8_t *rec, size_t len, const struct fd_kind *kinds,
       unsigned nr_fds, bool wrong_fds)
{
    struct hov_head h = {.version = HOV_VERSION,
                         .head_size = sizeof(h),
                         .record_len = len,
                         .nr_fds = nr_fds};
    int fds[64], peers[64], s, status, answer = 1;
    struct hov_ack a;
    struct pollfd p;
    pid_t pid;

    cr_assert_leq(nr_fds, 64u);
    s = spawn_successor(&pid);
    memcpy(h.magic, HOV_MAGIC, 8);
    send(s, &h, sizeof(h), MSG_NOSIGNAL);
    for (unsigned i = 0; i < nr_fds; i++)
        fds[i] = make_fd(&kinds[i], wrong_fds, &peers[i]);
    if (nr_fds)
        send_fd_batch(s, 0, fds, nr_fds);
    for (size_t off = 0; off < len; off += HOV_DATA_PKT)
        send(s, rec + off, len - off < HOV_DATA_PKT ? len - off : HOV_DATA_PKT,
             MSG_NOSIGNAL);
    for (unsigned i = 0; i < nr_fds; i++) {
        close(fds[i]);
        if (peers[i] >= 0)
            close(peers[i]);
    }
    p = (struct pollfd){.fd = s, .events = POLLIN};
    if (poll(&p, 1, 20000) == 1 && recv(s, &a, sizeof(a), 0) == sizeof(a))
        answer = a.status;
    close(s);
    if (answer == 0)
        kill(pid, SIGKILL); /* it took over: stop it before it serves */
    status = wait_exit(pid);
    cr_assert(!WIFSIGNALED(status) ||
                  (answer == 0 && WTERMSIG(status) == SIGKILL),
              "successor died of signal %d", WTERMSIG(status));
    cr_assert(!WIFEXITED(status) || WEXITSTATUS(status) != 66,
              "sanitizer report in the successor");
    if (answer != 0)
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0,
                  "refused but exited 0");
    return answer;
}

/* A real record (from a server with a client, DMA map, IRQ eventfd and
 * state), captured by vdev-hovdump, replayed intact (accepted) and with
 * corrupted bytes, cut short, fds missing or of the wrong kind: every
 * variant is refused or accepted, none crashes the successor. */
Test(handover, successor_survives_mutated_records, .timeout = 240)
{
    char dump[PATH_MAX], path[300], reply[256];
    struct fd_kind kinds[64];
    unsigned nr = 0, refused = 0;
    uint8_t *rec, *mut;
    char *text, *line, *save = NULL;
    size_t len, tlen;
    uint32_t seed = 12345;

    build_path(dump, sizeof(dump), "tests/vdev-hovdump");
    attach_dma_and_irq();
    model_wr(&srv, BAR0, LIVENESS, 4, 0x600d);
    cr_assert_eq(upgrade_sync(dump, reply, sizeof(reply)), -1);
    cr_assert(strstr(reply, "error: upgrade"), "%s", reply);
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~0x600du, "still serving");

    snprintf(path, sizeof(path), "%s/record", srv.dir);
    rec = slurp(path, &len);
    snprintf(path, sizeof(path), "%s/fds", srv.dir);
    text = slurp(path, &tlen);
    for (line = strtok_r(text, "\n", &save); line && nr < 64;
         line = strtok_r(NULL, "\n", &save)) {
        kinds[nr].type = line[0];
        kinds[nr].size = line[0] == 'M' ? atoll(line + 2) : 0;
        nr++;
    }
    free(text);
    cr_assert_geq(nr, 4u, "listen, mgmt, client, DMA memfd, eventfd...");
    unlink(path);
    snprintf(path, sizeof(path), "%s/record", srv.dir);
    unlink(path);

    cr_assert_eq(replay(rec, len, kinds, nr, false), 0,
                 "the intact record is accepted");
    cr_assert_neq(replay(rec, len, kinds, nr - 1, false), 0, "an fd short");
    cr_assert_neq(replay(rec, len, kinds, nr, true), 0, "fds of wrong kinds");

    mut = malloc(len);
    cr_assert_not_null(mut);
    for (unsigned i = 0; i < 80; i++) {
        size_t mlen = len, pos;
        uint32_t word;

        memcpy(mut, rec, len);
        seed = seed * 1103515245u + 12345u;
        pos = (seed >> 8) % len;
        switch (i % 5) {
        case 0: /* one bit */
            mut[pos] ^= (uint8_t)(1u << (seed & 7));
            break;
        case 1: /* a huge count, length or index */
        case 2: /* zero */
        case 3: /* a small one */
            pos &= ~(size_t)3;
            if (pos + 4 > len)
                pos = len - 4;
            word = i % 5 == 1   ? 0xffffffffu
                   : i % 5 == 2 ? 0
                                : (seed >> 4) % 300;
            memcpy(mut + pos, &word, 4);
            break;
        default: /* cut short */
            mlen = pos ? pos : 1;
        }
        if (replay(mut, mlen, kinds, nr, false) != 0)
            refused++;
    }
    cr_log_info("%u of 80 corrupted records refused", refused);
    cr_assert_gt(refused, 20u);
    free(mut);
    free(rec);
}
