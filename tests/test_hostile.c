/* A hostile vfio-user client against each model server process: fds of
 * every kind offered as interrupt eventfds and triggered thousands of
 * times (by the client and by the device), a client that stops answering
 * server->client requests, and floods on one socket while the other is
 * timed. Throughout, the server answers both sockets, and SIGTERM ends it
 * within a second. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "base/evsignal.h"
#include "base/fdkind.h"
#include "child.h"
#include "model_server.h"
#include "rawsock.h"

#define TRIGGERS 3000              /* loopback triggers per fd kind */
#define RAISES 600                 /* device-raised interrupts per fd kind */
#define ALIVE_MS 1000              /* each socket must answer within this */
#define FULL 0xfffffffffffffffeull /* an eventfd counter that takes no more */

static int64_t
now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ session */

struct hs {
    struct model_server srv;
    int fd;   /* raw vfio-user client */
    int mgmt; /* management client */
    uint16_t id;
};

static void
hs_connect(struct hs *h)
{
    h->fd = -1;
    for (int i = 0; i < 300 && h->fd < 0; i++) {
        h->fd = raw_connect(h->srv.sock);
        cr_assert_geq(h->fd, 0);
        /* The previous client's teardown may still be under way. */
        if (raw_negotiate(h->fd) < 0) {
            close(h->fd);
            h->fd = -1;
            usleep(10000);
        }
    }
    cr_assert_geq(h->fd, 0, "cannot negotiate");
}

static void
hs_start(struct hs *h, const char *model)
{
    memset(h, 0, sizeof(*h));
    model_server_start(&h->srv, model);
    model_server_detach(&h->srv);
    hs_connect(h);
    h->mgmt = vdev_mgmt_client_open(h->srv.mgmt);
    cr_assert_geq(h->mgmt, 0);
}

static int
server_fds(const struct hs *h)
{
    char path[64];
    struct dirent *e;
    DIR *d;
    int n = 0;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)h->srv.pid);
    d = opendir(path);
    cr_assert_not_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* SIGTERM ends the server, cleanly, within a second. */
static void
hs_term_within_1s(struct hs *h)
{
    int64_t t0 = now_ms();
    int status = 0;
    pid_t r = 0;

    cr_assert_eq(kill(h->srv.pid, SIGTERM), 0);
    while ((r = waitpid(h->srv.pid, &status, WNOHANG)) == 0 &&
           now_ms() - t0 < 1000)
        usleep(2000);
    if (r == 0) {
        kill(h->srv.pid, SIGKILL);
        waitpid(h->srv.pid, NULL, 0);
    }
    h->srv.pid = -1;
    cr_assert_eq(r > 0, true, "still running 1 s after SIGTERM");
    child_check(h->srv.sock, status);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "exit status 0x%x after SIGTERM", status);
    close(h->fd);
    close(h->mgmt);
    model_server_stop(&h->srv);
}

static uint64_t
stat_of(const char *reply, const char *key)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), " %s=", key);
    p = strstr(reply, pat);
    cr_assert_not_null(p, "no %s in '%s'", key, reply);
    return strtoull(p + strlen(pat), NULL, 10);
}

/* Both sockets answer, each within ALIVE_MS. Returns irqs_dropped. */
static uint64_t
hs_alive(struct hs *h, uint32_t region, uint64_t off)
{
    char reply[512];
    uint32_t v;
    int64_t t0 = now_ms();

    cr_assert_eq(raw_region_read(h->fd, region, off, &v, 4), 0,
                 "the vfio-user socket stopped answering");
    cr_assert_lt(now_ms() - t0, ALIVE_MS, "vfio-user answered late");
    t0 = now_ms();
    cr_assert_eq(
        vdev_mgmt_client_exchange(h->mgmt, "stats", reply, sizeof(reply)), 0,
        "the management socket stopped answering");
    cr_assert_lt(now_ms() - t0, ALIVE_MS, "management answered late");
    return stat_of(reply, "irqs_dropped");
}

/* ------------------------------------------------------------ messages */

/* Messages sent back to back with No_reply, then one round trip. */
struct batch {
    uint8_t buf[32768];
    size_t len;
};

static void
batch_flush(struct hs *h, struct batch *b)
{
    if (b->len)
        cr_assert_eq(raw_send(h->fd, b->buf, b->len, NULL, 0), 0);
    b->len = 0;
}

static void
batch_add(struct hs *h, struct batch *b, uint16_t cmd, const void *p,
          size_t len)
{
    struct vfio_user_header hdr = {
        .msg_id = h->id++,
        .cmd = cmd,
        .msg_size = (uint32_t)(sizeof(hdr) + len),
        .flags = VFIO_USER_F_NO_REPLY,
    };

    if (b->len + hdr.msg_size > sizeof(b->buf))
        batch_flush(h, b);
    memcpy(b->buf + b->len, &hdr, sizeof(hdr));
    memcpy(b->buf + b->len + sizeof(hdr), p, len);
    b->len += hdr.msg_size;
}

static void
batch_irqs(struct hs *h, struct batch *b, uint32_t index, uint32_t flags,
           uint32_t vector)
{
    struct vfio_irq_set s = {
        .argsz = sizeof(s),
        .flags = flags,
        .index = index,
        .start = vector,
        .count = 1,
    };

    batch_add(h, b, VFIO_USER_DEVICE_SET_IRQS, &s, sizeof(s));
}

static void
batch_write32(struct hs *h, struct batch *b, uint32_t region, uint64_t off,
              uint32_t v)
{
    uint8_t m[sizeof(struct vfio_user_region_access) + 4];
    struct vfio_user_region_access a = {
        .offset = off, .region = region, .count = 4};

    memcpy(m, &a, sizeof(a));
    memcpy(m + sizeof(a), &v, 4);
    batch_add(h, b, VFIO_USER_REGION_WRITE, m, sizeof(m));
}

/* SET_IRQS DATA_EVENTFD for one vector; returns 0 or the -errno reply. */
static int
set_irq_fd(struct hs *h, uint32_t index, uint32_t action, uint32_t vector,
           int efd)
{
    struct vfio_irq_set s = {
        .argsz = sizeof(s),
        .flags = VFIO_IRQ_SET_DATA_EVENTFD | action,
        .index = index,
        .start = vector,
        .count = 1,
    };
    struct raw_reply r;
    uint16_t id = h->id++;
    int rc;

    cr_assert_eq(raw_send_msg(h->fd, id, VFIO_USER_DEVICE_SET_IRQS, 0, &s,
                              sizeof(s), &efd, 1),
                 0);
    rc = raw_recv(h->fd, &r);
    cr_assert_eq(rc, 0, "no reply to SET_IRQS");
    cr_assert_eq(r.hdr.msg_id, id);
    rc = (r.hdr.flags & VFIO_USER_F_ERROR) ? -(int)r.hdr.error_no : 0;
    raw_reply_free(&r);
    return rc;
}

static void
cfg_write16(struct hs *h, unsigned off, uint16_t v)
{
    cr_assert_eq(
        raw_region_write(h->fd, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, 2), 0);
}

static unsigned
find_cap(struct hs *h, uint8_t id)
{
    uint8_t at = 0, hdr[2];

    cr_assert_eq(raw_region_read(h->fd, VFIO_PCI_CONFIG_REGION_INDEX,
                                 PCI_CAPABILITY_LIST, &at, 1),
                 0);
    for (int n = 0; at >= 0x40 && n < 48; n++) {
        cr_assert_eq(
            raw_region_read(h->fd, VFIO_PCI_CONFIG_REGION_INDEX, at, hdr, 2),
            0);
        if (hdr[0] == id)
            return at;
        at = hdr[1] & ~3u;
    }
    cr_assert_fail("capability 0x%x not found", id);
    return 0;
}

/* ------------------------------------------------------------ models */

/* What each model raises its interrupt with, and where we install fds. */
struct model {
    const char *name;
    uint32_t index;        /* IRQ index the fds go to */
    uint32_t probe_region; /* a register to read for liveness */
    uint64_t probe_off;
    void (*setup)(struct hs *h);
    void (*raise)(struct hs *h, struct batch *b); /* one device interrupt */
};

/* edu: irq_raise then irq_ack: one INTx edge; then the client's unmask
 * (INTx masks itself when signalled). */
static void
edu_raise(struct hs *h, struct batch *b)
{
    batch_write32(h, b, VFIO_PCI_BAR0_REGION_INDEX, 0x60, 1);
    batch_write32(h, b, VFIO_PCI_BAR0_REGION_INDEX, 0x64, 1);
    batch_irqs(h, b, VFIO_PCI_INTX_IRQ_INDEX,
               VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0);
}

/* GPIO: reading irq_ctl enables the change interrupt. */
static void
gpio_setup(struct hs *h)
{
    uint8_t v;

    cr_assert_eq(raw_region_read(h->fd, VFIO_PCI_BAR2_REGION_INDEX, 2, &v, 1),
                 0);
}

/* An input change from the outside world (the management socket), then
 * the driver's clear (a write to in0_7) and unmask. */
static void
gpio_raise(struct hs *h, struct batch *b)
{
    static unsigned level;
    char line[64], reply[128];
    uint8_t zero = 0;

    batch_flush(h, b);
    snprintf(line, sizeof(line), "set state.inputs %u",
             (level++ & 1) ? 0x1 : 0x100);
    cr_assert_eq(vdev_mgmt_client_exchange(h->mgmt, line, reply, sizeof(reply)),
                 0, "%s", reply);
    cr_assert_eq(
        raw_region_write(h->fd, VFIO_PCI_BAR2_REGION_INDEX, 1, &zero, 1), 0);
    batch_irqs(h, b, VFIO_PCI_INTX_IRQ_INDEX,
               VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0);
    batch_flush(h, b);
}

/* ivshmem: MSI-X on; a doorbell for our own ID rings vector 0. Also
 * toggles vector 0's mask bit in the table (mask/unmask eventfds). */
static void
ivshmem_setup(struct hs *h)
{
    unsigned cap = find_cap(h, PCI_CAP_ID_MSIX);

    cfg_write16(h, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE);
}

static void
ivshmem_raise(struct hs *h, struct batch *b)
{
    batch_write32(h, b, VFIO_PCI_BAR0_REGION_INDEX, 0xc, 0);
    batch_write32(h, b, VFIO_PCI_BAR1_REGION_INDEX, PCI_MSIX_ENTRY_VECTOR_CTRL,
                  PCI_MSIX_ENTRY_CTRL_MASKBIT);
    batch_write32(h, b, VFIO_PCI_BAR1_REGION_INDEX, PCI_MSIX_ENTRY_VECTOR_CTRL,
                  0);
}

static const struct model models[] = {
    {"gpio-pci-idio-16", VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_BAR2_REGION_INDEX, 0,
     gpio_setup, gpio_raise},
    {"edu", VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_BAR0_REGION_INDEX, 0, NULL,
     edu_raise},
    {"ivshmem", VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_BAR0_REGION_INDEX, 8,
     ivshmem_setup, ivshmem_raise},
};

/* ------------------------------------------------------------ fd kinds */

/* Every kind of fd a client could pass as an "eventfd". The client keeps
 * its own copy (the server gets a duplicate) to look at afterwards. */
enum kind {
    K_EVENTFD_FULL_BLOCKING, /* counter 2^64-2, blocking: write(2) waits */
    K_EVENTFD_FULL_NONBLOCKING,
    K_EVENTFD_FULL_SEMAPHORE,
    K_SOCKET_BLOCKING, /* a UNIX socket end nobody reads */
    K_PIPE_WRITE,      /* fills after 64 KiB */
    K_PIPE_READ,
    K_DEV_NULL,
    K_MEMFD,
    K_REGULAR_FILE,
    K_UDP_SOCKET, /* a socket of another family */
    K_TIMERFD,    /* an anon inode, but not an eventfd */
    K_EPOLL,
    NR_KINDS
};

static const char *const kind_names[NR_KINDS] = {
    "blocking eventfd at 2^64-2",
    "non-blocking eventfd at 2^64-2",
    "semaphore eventfd at 2^64-2",
    "blocking UNIX socket",
    "pipe (write end)",
    "pipe (read end)",
    "/dev/null",
    "memfd",
    "regular file",
    "UDP socket",
    "timerfd",
    "epoll fd",
};

struct hostile_fd {
    int fd;
    int other; /* the other end of a pair, or -1 */
};

static struct hostile_fd
make_kind(enum kind k)
{
    struct hostile_fd f = {-1, -1};
    uint64_t full = FULL;
    int p[2];

    switch (k) {
    case K_EVENTFD_FULL_BLOCKING:
    case K_EVENTFD_FULL_NONBLOCKING:
    case K_EVENTFD_FULL_SEMAPHORE:
        f.fd = eventfd(
            0, EFD_CLOEXEC |
                   (k == K_EVENTFD_FULL_NONBLOCKING ? EFD_NONBLOCK : 0) |
                   (k == K_EVENTFD_FULL_SEMAPHORE ? EFD_SEMAPHORE : 0));
        cr_assert_eq(write(f.fd, &full, sizeof(full)), (ssize_t)sizeof(full));
        break;
    case K_SOCKET_BLOCKING:
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
        f.fd = p[0];
        f.other = p[1];
        break;
    case K_PIPE_WRITE:
    case K_PIPE_READ:
        cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
        f.fd = k == K_PIPE_WRITE ? p[1] : p[0];
        f.other = k == K_PIPE_WRITE ? p[0] : p[1];
        break;
    case K_DEV_NULL:
        f.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        break;
    case K_MEMFD:
        f.fd = memfd_create("hostile", MFD_CLOEXEC);
        break;
    case K_REGULAR_FILE:
        f.fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        break;
    case K_UDP_SOCKET:
        f.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        break;
    case K_TIMERFD:
        f.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
        break;
    case K_EPOLL:
        f.fd = epoll_create1(EPOLL_CLOEXEC);
        break;
    default:
        break;
    }
    cr_assert_geq(f.fd, 0, "cannot make a %s", kind_names[k]);
    return f;
}

static bool
is_eventfd(enum kind k)
{
    return k <= K_EVENTFD_FULL_SEMAPHORE;
}

static void
free_kind(struct hostile_fd *f)
{
    close(f->fd);
    if (f->other >= 0)
        close(f->other);
}

/* The counter of an eventfd we hold, read without blocking. */
static uint64_t
eventfd_count(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    uint64_t v = 0;

    if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
        cr_assert_eq(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
    return v;
}

/* One kind against one model: a good eventfd first, then the hostile fd
 * as trigger (and, for MSI-X, as mask and unmask fd). A refused fd leaves
 * the good one in place and no fd behind in the server; an eventfd at its
 * limit is accepted and its edges counted as dropped, never waited on. */
static void
hostile_kind(struct hs *h, const struct model *md, enum kind k)
{
    struct hostile_fd f = make_kind(k);
    int good = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    uint32_t tr = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
    struct batch *b = calloc(1, sizeof(*b));
    uint64_t dropped0, dropped;
    int fds0, want = is_eventfd(k) ? 0 : -EINVAL;

    cr_assert_not_null(b);
    cr_assert_eq(set_irq_fd(h, md->index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, good),
                 0);
    dropped0 = hs_alive(h, md->probe_region, md->probe_off);
    fds0 = server_fds(h);
    cr_assert_eq(set_irq_fd(h, md->index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, f.fd),
                 want, "%s: %s as trigger fd", md->name, kind_names[k]);
    if (md->index == VFIO_PCI_MSIX_IRQ_INDEX) {
        cr_assert_eq(
            set_irq_fd(h, md->index, VFIO_IRQ_SET_ACTION_MASK, 0, f.fd), want,
            "%s: %s as mask fd", md->name, kind_names[k]);
        cr_assert_eq(
            set_irq_fd(h, md->index, VFIO_IRQ_SET_ACTION_UNMASK, 0, f.fd), want,
            "%s: %s as unmask fd", md->name, kind_names[k]);
    }
    if (!is_eventfd(k))
        cr_assert_eq(server_fds(h), fds0, "%s: a refused %s stayed open",
                     md->name, kind_names[k]);

    for (int i = 0; i < TRIGGERS; i++) {
        batch_irqs(h, b, md->index, tr, 0);
        if (md->index == VFIO_PCI_INTX_IRQ_INDEX)
            batch_irqs(h, b, md->index,
                       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0);
    }
    batch_flush(h, b);
    hs_alive(h, md->probe_region, md->probe_off);
    for (int i = 0; i < RAISES; i++)
        md->raise(h, b);
    batch_flush(h, b);
    dropped = hs_alive(h, md->probe_region, md->probe_off);

    if (is_eventfd(k)) {
        /* Nothing was added to a counter that could take nothing. */
        cr_assert_eq(eventfd_count(f.fd),
                     k == K_EVENTFD_FULL_SEMAPHORE ? 1 : FULL, "%s: %s",
                     md->name, kind_names[k]);
        cr_assert_geq(dropped - dropped0, TRIGGERS, "%s: %s: %llu dropped",
                      md->name, kind_names[k],
                      (unsigned long long)(dropped - dropped0));
    } else {
        cr_assert_gt(eventfd_count(good), 0, "%s: the good eventfd lost",
                     md->name);
    }
    free_kind(&f);
    close(good);
    free(b);
}

/* The checks and the signal themselves, in this process: each kind is
 * what fdkind.c says, and a signal never waits, whatever the counter. */
Test(hostile, fd_kinds_and_signals)
{
    for (int k = 0; k < NR_KINDS; k++) {
        struct hostile_fd f = make_kind((enum kind)k);
        bool mappable = k == K_MEMFD || k == K_REGULAR_FILE;

        cr_assert_eq(vdev_fd_check_eventfd(f.fd), is_eventfd(k) ? 0 : -EINVAL,
                     "%s", kind_names[k]);
        cr_assert_eq(vdev_fd_check_mappable(f.fd), mappable ? 0 : -EINVAL, "%s",
                     kind_names[k]);
        if (is_eventfd(k)) {
            cr_assert_eq(vdev_eventfd_signal(f.fd), 0, "%s: not coalesced",
                         kind_names[k]);
            cr_assert_eq(eventfd_count(f.fd),
                         k == K_EVENTFD_FULL_SEMAPHORE ? 1 : FULL);
        }
        free_kind(&f);
    }
    cr_assert_eq(vdev_fd_check_eventfd(-1), -EBADF);
    cr_assert_eq(vdev_fd_check_mappable(1000000), -EBADF);

    /* One short of full, blocking: signalled, and now full. */
    int e = eventfd(0, EFD_CLOEXEC);
    uint64_t v = FULL - 1;
    cr_assert_eq(write(e, &v, sizeof(v)), (ssize_t)sizeof(v));
    cr_assert_eq(vdev_eventfd_signal(e), 1);
    cr_assert_eq(vdev_eventfd_signal(e), 0);
    cr_assert_eq(eventfd_count(e), FULL);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(vdev_eventfd_signal(e), 1);
    cr_assert_eq(eventfd_count(e), 1000);
    close(e);
    cr_assert_eq(vdev_eventfd_signal(e), -EBADF);
}

static void
hostile_model(const struct model *md)
{
    struct hs h;

    hs_start(&h, md->name);
    if (md->setup)
        md->setup(&h);
    for (int k = 0; k < NR_KINDS; k++)
        hostile_kind(&h, md, (enum kind)k);
    hs_term_within_1s(&h);
}

TestSuite(hostile, .timeout = 120);

Test(hostile, irq_fds_gpio)
{
    hostile_model(&models[0]);
}

Test(hostile, irq_fds_edu)
{
    hostile_model(&models[1]);
}

Test(hostile, irq_fds_ivshmem)
{
    hostile_model(&models[2]);
}

/* ------------------------------------------------------------ racing */

struct refiller {
    int fd;
    volatile int stop;
};

static void
on_usr1(int sig)
{
    (void)sig;
}

/* Keeps the counter swinging between empty and full: a poll that found
 * room, followed by a write(2), would find none and wait for the next
 * read. Its own blocked reads and writes end with SIGUSR1 (no SA_RESTART),
 * sent every 200 us by a timer. */
static void *
refill(void *arg)
{
    struct refiller *r = arg;
    uint64_t v, full = FULL;
    struct sigevent sev = {
        .sigev_notify = SIGEV_THREAD_ID,
        .sigev_signo = SIGUSR1,
        ._sigev_un._tid = gettid(),
    };
    struct itimerspec its = {.it_value = {0, 200000},
                             .it_interval = {0, 200000}};
    timer_t tm;

    if (timer_create(CLOCK_MONOTONIC, &sev, &tm) < 0 ||
        timer_settime(tm, 0, &its, NULL) < 0)
        return NULL;
    while (!r->stop) {
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, 0) == 1 && read(r->fd, &v, sizeof(v)) < 0)
            continue;
        if (write(r->fd, &full, sizeof(full)) < 0)
            continue;
    }
    timer_delete(tm);
    return NULL;
}

/* A client that refills its blocking eventfd while the server signals
 * it: whatever the timing, the server never waits. */
Test(hostile, irq_eventfd_refilled_concurrently)
{
    const struct model *md = &models[1];
    struct refiller r = {.fd = eventfd(0, EFD_CLOEXEC)};
    struct batch *b = calloc(1, sizeof(*b));
    struct hs h;
    pthread_t t;

    struct sigaction sa = {.sa_handler = on_usr1};

    cr_assert_not_null(b);
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    hs_start(&h, md->name);
    cr_assert_eq(
        set_irq_fd(&h, md->index, VFIO_IRQ_SET_ACTION_TRIGGER, 0, r.fd), 0);
    cr_assert_eq(pthread_create(&t, NULL, refill, &r), 0);
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < TRIGGERS; i++) {
            batch_irqs(&h, b, md->index,
                       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0);
            batch_irqs(&h, b, md->index,
                       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0);
        }
        batch_flush(&h, b);
        hs_alive(&h, md->probe_region, md->probe_off);
    }
    r.stop = 1;
    while (pthread_tryjoin_np(t, NULL) != 0) {
        pthread_kill(t, SIGUSR1);
        usleep(1000);
    }
    hs_term_within_1s(&h);
    close(r.fd);
    free(b);
}

/* ------------------------------------------- server->client requests */

#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define GUEST_RAM 0x100000ull

static void
write64(struct hs *h, uint64_t off, uint64_t v)
{
    cr_assert_eq(
        raw_region_write(h->fd, VFIO_PCI_BAR0_REGION_INDEX, off, &v, 8), 0);
}

/* edu's DMA engine reads guest RAM the client mapped without an fd: the
 * server asks the client (DMA_READ, after a DMA_WRITE probing its layout)
 * while serving the write that started it. Returns once the first request
 * has been sent. */
static void
start_dma_nobody_answers(struct hs *h, bool twin)
{
    struct vfio_user_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .addr = GUEST_RAM,
        .size = 4096,
    };
    uint8_t m[sizeof(struct vfio_user_region_access) + 8];
    struct vfio_user_region_access a = {.offset = EDU_DMA_CMD,
                                        .region = VFIO_PCI_BAR0_REGION_INDEX,
                                        .count = 8};
    uint64_t start = 1;
    struct raw_reply r;

    cr_assert_eq(raw_call(h->fd, 3, VFIO_USER_DMA_MAP, &map, sizeof(map), NULL),
                 0);
    write64(h, EDU_DMA_SRC, GUEST_RAM);
    write64(h, EDU_DMA_DST, 0x40000);
    write64(h, EDU_DMA_COUNT, 8);
    memcpy(m, &a, sizeof(a));
    memcpy(m + sizeof(a), &start, 8);
    cr_assert_eq(raw_send_msg(h->fd, 9, VFIO_USER_REGION_WRITE, 0, m, sizeof(m),
                              NULL, 0),
                 0);
    if (twin)
        return; /* the request went to the twin socket, which we ignore */
    cr_assert_eq(raw_recv(h->fd, &r), 0);
    /* DMA_READ, or the zero-length DMA_WRITE that asks which layout the
     * client speaks first: a request either way. */
    cr_assert(r.hdr.cmd == VFIO_USER_DMA_READ ||
                  r.hdr.cmd == VFIO_USER_DMA_WRITE,
              "cmd %u", r.hdr.cmd);
    raw_reply_free(&r);
}

/* SIGTERM while the server waits for an answer that never comes. */
Test(hostile, sigterm_while_dma_unanswered)
{
    struct hs h;

    hs_start(&h, "edu");
    start_dma_nobody_answers(&h, false);
    usleep(100000);
    hs_term_within_1s(&h);
}

/* A twin-socket client that never answers: the management socket answers
 * meanwhile (what changes something once the loop is back), the request
 * times out, the client is dropped and the next one is served. */
Test(hostile, dma_unanswered_client_dropped)
{
    struct raw_reply r;
    char reply[512];
    int64_t t0;
    int twin;
    struct hs h;

    hs_start(&h, "edu");
    close(h.fd); /* a new session, with a twin socket */
    h.fd = -1;
    for (int i = 0; i < 300 && h.fd < 0; i++) {
        h.fd = raw_connect(h.srv.sock);
        cr_assert_geq(h.fd, 0);
        if (raw_version(h.fd,
                        "{\"capabilities\":{\"max_msg_fds\":8,"
                        "\"twin_socket\":{\"supported\":true}}}",
                        &r) < 0) {
            close(h.fd);
            h.fd = -1;
            usleep(10000);
        }
    }
    cr_assert_geq(h.fd, 0);
    cr_assert_eq(r.nr_fds, 1, "no twin socket offered");
    twin = r.fds[0];
    r.nr_fds = 0; /* ours to keep open, and never read */
    raw_reply_free(&r);
    start_dma_nobody_answers(&h, true);
    t0 = now_ms();
    cr_assert_eq(
        vdev_mgmt_client_exchange(h.mgmt, "stats", reply, sizeof(reply)), 0);
    cr_assert_lt(now_ms() - t0, ALIVE_MS,
                 "management waited for the unanswered request");
    /* What changes something waits for the loop (answered below). */
    cr_assert_eq(send(h.mgmt, "set nothing 1\n", 14, MSG_NOSIGNAL), 14);
    /* The client sees its write answered (the DMA failed), then EOF. The
     * server gives up on its request after 5 s; wait longer than that
     * for it, so a loaded machine does not time the reading out first. */
    {
        struct timeval tv = {.tv_sec = 15};
        cr_assert_eq(setsockopt(h.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
                     0);
    }
    for (;;) {
        int rc = raw_recv(h.fd, &r);
        if (rc < 0) {
            cr_assert(rc == -ECONNRESET || rc == -EPIPE || rc == -EIO ||
                          rc == -EPROTO,
                      "not dropped: %d", rc);
            break;
        }
        raw_reply_free(&r);
    }
    cr_assert_geq(now_ms() - t0, 4000, "the request did not wait");
    cr_assert_lt(now_ms() - t0, 7000);
    {
        struct pollfd p = {.fd = h.mgmt, .events = POLLIN};
        ssize_t n;

        cr_assert_eq(poll(&p, 1, 2000), 1, "the put-off request unanswered");
        n = recv(h.mgmt, reply, sizeof(reply) - 1, 0);
        cr_assert_gt(n, 0);
        reply[n] = '\0';
        cr_assert(!strncmp(reply, "error: unknown name", 19), "%s", reply);
    }
    close(twin);
    close(h.fd);
    hs_connect(&h);
    hs_alive(&h, VFIO_PCI_BAR0_REGION_INDEX, 0);
    hs_term_within_1s(&h);
}

/* ------------------------------------------------------------ floods */

struct flood {
    struct hs *h;
    int fd;
    volatile int stop;
    unsigned long sent;
};

/* The vfio-user socket kept full: liveness writes with No_reply. */
static void *
vfio_flood(void *arg)
{
    struct flood *f = arg;
    struct hs h = {.fd = f->fd};
    struct batch *b = calloc(1, sizeof(*b));

    while (b && !f->stop) {
        /* 800 writes fit one batch: batch_add never flushes (and asserts)
         * here, in a thread, on a socket the test closes under it. */
        for (int i = 0; i < 800; i++)
            batch_write32(&h, b, VFIO_PCI_BAR0_REGION_INDEX, 0x04, (uint32_t)i);
        if (raw_send(h.fd, b->buf, b->len, NULL, 0) < 0)
            break;
        b->len = 0;
        f->sent += 800;
    }
    free(b);
    return NULL;
}

static void
flood_vfio_start(struct flood *f, pthread_t *t)
{
    cr_assert_eq(pthread_create(t, NULL, vfio_flood, f), 0);
    while (f->sent < 20000)
        usleep(1000);
}

/* While a client floods the vfio-user socket, management requests are
 * answered promptly. */
Test(hostile, vfio_flood_does_not_starve_mgmt)
{
    struct flood f = {0};
    char reply[512];
    int64_t worst = 0, end;
    uint64_t m0, m1;
    pthread_t t;
    struct hs h;

    hs_start(&h, "edu");
    f.fd = h.fd;
    cr_assert_eq(
        vdev_mgmt_client_exchange(h.mgmt, "stats", reply, sizeof(reply)), 0);
    m0 = stat_of(reply, "messages");
    flood_vfio_start(&f, &t);
    end = now_ms() + 1500;
    while (now_ms() < end) {
        int64_t t0 = now_ms();
        cr_assert_eq(
            vdev_mgmt_client_exchange(h.mgmt, "stats", reply, sizeof(reply)),
            0);
        if (now_ms() - t0 > worst)
            worst = now_ms() - t0;
        usleep(20000);
    }
    m1 = stat_of(reply, "messages");
    f.stop = 1;
    pthread_join(t, NULL);
    cr_assert_gt(m1 - m0, 20000, "no flood: %llu messages",
                 (unsigned long long)(m1 - m0));
    cr_assert_lt(worst, 500, "a management request waited %lld ms",
                 (long long)worst);
    hs_term_within_1s(&h);
}

/* SIGTERM ends a server whose client floods it. */
Test(hostile, sigterm_during_vfio_flood)
{
    struct flood f = {0};
    pthread_t t;
    struct hs h;

    hs_start(&h, "edu");
    f.fd = h.fd;
    flood_vfio_start(&f, &t);
    hs_term_within_1s(&h); /* closes h.fd under the flooder: it stops */
    f.stop = 1;
    pthread_join(t, NULL);
}

#define MGMT_FLOODERS 16

struct mgmt_flood {
    const char *path;
    volatile int stop;
    unsigned long lines;
};

/* Sixteen management clients sending requests as fast as the socket
 * takes them, reading (and dropping) the replies. */
static void *
mgmt_flood(void *arg)
{
    struct mgmt_flood *f = arg;
    int fds[MGMT_FLOODERS];
    char req[64 * 5], junk[65536];

    for (size_t i = 0; i < sizeof(req); i += 5)
        memcpy(req + i, "info\n", 5);
    for (int i = 0; i < MGMT_FLOODERS; i++) {
        fds[i] = vdev_mgmt_client_open(f->path);
        if (fds[i] >= 0)
            fcntl(fds[i], F_SETFL, O_NONBLOCK);
    }
    while (!f->stop) {
        for (int i = 0; i < MGMT_FLOODERS; i++) {
            ssize_t n;
            if (fds[i] < 0)
                continue;
            n = send(fds[i], req, sizeof(req), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                f->lines += (unsigned long)n / 5;
            while (recv(fds[i], junk, sizeof(junk), MSG_DONTWAIT) > 0)
                ;
        }
    }
    for (int i = 0; i < MGMT_FLOODERS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return NULL;
}

/* While sixteen management clients flood the management socket, the
 * vfio-user client is answered promptly. */
Test(hostile, mgmt_flood_does_not_starve_vfio)
{
    struct mgmt_flood f = {0};
    int64_t worst = 0, end;
    pthread_t t;
    struct hs h;

    hs_start(&h, "edu");
    f.path = h.srv.mgmt;
    cr_assert_eq(pthread_create(&t, NULL, mgmt_flood, &f), 0);
    while (f.lines < 2000)
        usleep(1000);
    end = now_ms() + 1500;
    while (now_ms() < end) {
        uint32_t v;
        int64_t t0 = now_ms();
        cr_assert_eq(
            raw_region_read(h.fd, VFIO_PCI_BAR0_REGION_INDEX, 0, &v, 4), 0);
        if (now_ms() - t0 > worst)
            worst = now_ms() - t0;
        usleep(10000);
    }
    f.stop = 1;
    pthread_join(t, NULL);
    cr_assert_lt(worst, 500, "a vfio-user request waited %lld ms",
                 (long long)worst);
    hs_term_within_1s(&h);
}

/* ------------------------------------------------------------ memory */

#define MAX_MSG (1048576u + 4096u) /* base/limits.h VDEV_MAX_MSG_SIZE */
#define MiB (1024u * 1024u)

static long
rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* One message of size bytes in all (header included), sent whole; the
 * body is filler unless given. A reply, if it comes, is read and
 * dropped. */
static void
send_sized(struct hs *h, uint16_t cmd, uint32_t flags, const void *head,
           size_t head_len, size_t size, bool reply)
{
    uint8_t *m = calloc(1, size);
    struct vfio_user_header hdr = {
        .msg_id = h->id++,
        .cmd = cmd,
        .msg_size = (uint32_t)size,
        .flags = flags,
    };
    struct raw_reply r;

    cr_assert_not_null(m);
    memset(m + sizeof(hdr), 'x', size - sizeof(hdr));
    memcpy(m, &hdr, sizeof(hdr));
    if (head_len)
        memcpy(m + sizeof(hdr), head, head_len);
    cr_assert_eq(raw_send(h->fd, m, size, NULL, 0), 0);
    free(m);
    if (reply) {
        cr_assert_eq(raw_recv(h->fd, &r), 0, "cmd %u: no reply", cmd);
        raw_reply_free(&r);
    }
}

/* The largest message of every kind, and the largest replies. */
static void
burst(struct hs *h)
{
    struct vfio_user_region_access rd = {
        .offset = 0, .region = VFIO_PCI_BAR2_REGION_INDEX, .count = MiB};
    struct vfio_irq_set irqs = {
        .argsz = MAX_MSG - 16,
        .flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
        .index = VFIO_PCI_MSIX_IRQ_INDEX,
        .count = 4,
    };
    uint64_t entries =
        (MAX_MSG - 16 - 8) / sizeof(struct vfio_user_write_multi_entry);
    struct vfio_user_write_multi_entry e = {
        .offset = 0, .region = VFIO_PCI_BAR2_REGION_INDEX, .count = 4};
    uint8_t *multi;
    size_t multi_len = 8 + entries * sizeof(e);

    /* Every command number, at the largest size, and past it. */
    for (uint16_t cmd = 0; cmd <= 20; cmd++) {
        send_sized(h, cmd, 0, NULL, 0, MAX_MSG, true);
        send_sized(h, cmd, VFIO_USER_F_NO_REPLY, NULL, 0, MAX_MSG, false);
    }
    send_sized(h, VFIO_USER_REGION_WRITE, 0, NULL, 0, 4 * MiB, true);
    /* The largest accepted ones: 1 MiB written, read back, written in
     * 4-byte pieces, and interrupts by the bool. */
    send_sized(h, VFIO_USER_REGION_WRITE, 0, &rd, sizeof(rd),
               16 + sizeof(rd) + MiB, true);
    send_sized(h, VFIO_USER_REGION_READ, 0, &rd, sizeof(rd), 16 + sizeof(rd),
               true);
    multi = calloc(1, multi_len);
    cr_assert_not_null(multi);
    memcpy(multi, &entries, 8);
    for (uint64_t i = 0; i < entries; i++) {
        e.offset = (i * 4) % MiB;
        memcpy(multi + 8 + i * sizeof(e), &e, sizeof(e));
    }
    send_sized(h, VFIO_USER_REGION_WRITE_MULTI, 0, multi, multi_len,
               16 + multi_len, true);
    free(multi);
    send_sized(h, VFIO_USER_DEVICE_SET_IRQS, 0, &irqs, sizeof(irqs), MAX_MSG,
               true);
}

/* Every DMA map the server allows (message-based: no fd), then all gone. */
static void
all_dma_maps(struct hs *h)
{
    struct batch *b = calloc(1, sizeof(*b));
    struct vfio_user_dma_unmap all = {.argsz = sizeof(all),
                                      .flags = VFIO_USER_F_DMA_UNMAP_ALL};

    cr_assert_not_null(b);
    for (uint64_t i = 0; i < 65535; i++) {
        struct vfio_user_dma_map map = {
            .argsz = sizeof(map),
            .flags = VFIO_USER_F_DMA_REGION_READ,
            .addr = i * 8192,
            .size = 4096,
        };
        batch_add(h, b, VFIO_USER_DMA_MAP, &map, sizeof(map));
    }
    batch_flush(h, b);
    cr_assert_eq(
        raw_call(h->fd, 5, VFIO_USER_DMA_UNMAP, &all, sizeof(all), NULL), 0);
    free(b);
}

/* A VERSION whose JSON is as large as a message can be, on a fresh
 * connection (then a normal one). */
static void
huge_version(struct hs *h)
{
    size_t len = MAX_MSG - 16 - 4;
    char *json = malloc(len);
    struct raw_reply r;

    cr_assert_not_null(json);
    close(h->fd);
    h->fd = -1;
    for (int i = 0; i < 300 && h->fd < 0; i++) {
        h->fd = raw_connect(h->srv.sock);
        cr_assert_geq(h->fd, 0);
        /* A long array of small objects: what makes a parser allocate. */
        strcpy(json, "{\"capabilities\":{\"max_msg_fds\":8},\"x\":[");
        for (size_t o = strlen(json); o + 8 < len; o += 6)
            memcpy(json + o, "{\"a\":1}," + 1, 6), json[o] = '{';
        strcpy(json + len - 8, "{}]}");
        if (raw_version(h->fd, json, &r) == -EAGAIN) {
            close(h->fd);
            h->fd = -1;
            usleep(10000);
            continue;
        }
        raw_reply_free(&r);
    }
    free(json);
    cr_assert_eq(raw_negotiate(h->fd), 0);
}

/* The state stream through 1 MiB MIG_DATA_READ/WRITE (library client). */
static void
migrate_through(struct hs *h)
{
    uint8_t *buf = NULL;
    size_t len = 0;

    close(h->fd);
    model_server_attach(&h->srv);
    cr_assert_eq(vdev_client_mig_save(h->srv.cl, NULL, &buf, &len), 0);
    cr_assert_eq(vdev_client_mig_load(h->srv.cl, buf, len), 0);
    cr_assert_eq(
        vdev_client_mig_set_state(h->srv.cl, VFIO_DEVICE_STATE_RUNNING), 0);
    talloc_free(buf);
    model_server_detach(&h->srv);
    hs_connect(h);
}

/* The device's own memory (ivshmem's 1 MiB shared BAR), written all over
 * in small pieces: part of a used device's resident set, not the burst's. */
static void
touch_bar_memory(struct hs *h)
{
    static uint8_t page[4096];

    for (uint64_t off = 0; off < MiB; off += sizeof(page))
        cr_assert_eq(raw_region_write(h->fd, VFIO_PCI_BAR2_REGION_INDEX, off,
                                      page, sizeof(page)),
                     0);
}

static void
small_of_everything(struct hs *h)
{
    struct vfio_user_region_access rd = {
        .offset = 0, .region = VFIO_PCI_BAR2_REGION_INDEX, .count = 64};

    for (uint16_t cmd = 0; cmd <= 20; cmd++)
        send_sized(h, cmd, 0, NULL, 0, 64, true);
    send_sized(h, VFIO_USER_REGION_READ, 0, &rd, sizeof(rd), 16 + sizeof(rd),
               true);
    hs_alive(h, VFIO_PCI_BAR0_REGION_INDEX, 8);
}

/* After each stage, with a small message to let the connection settle. */
static void
rss_check(struct hs *h, long before, long *worst, const char *stage)
{
    long now;

    small_of_everything(h);
    usleep(50000);
    now = rss_kib(h->srv.pid);
    if (now > *worst)
        *worst = now;
    cr_log_info("server RSS after %s: %ld KiB (%+ld)", stage, now,
                now - before);
#if !defined(__SANITIZE_ADDRESS__) /* ASan's quarantine keeps what was freed   \
                                    */
    cr_assert_leq(now, before + 256, "RSS %ld KiB -> %ld KiB after %s", before,
                  now, stage);
#endif
}

/* RSS (VmRSS of the server process) after a burst of the largest messages
 * of every kind is back within 256 KiB of where it was, after each kind of
 * burst and with the connection still open: buffers grown for large
 * messages are given back, and so is what the allocator kept. */
Test(hostile, rss_back_after_burst, .timeout = 120)
{
    long before, worst = 0;
    struct hs h;

    hs_start(&h, "ivshmem");
    /* Warm up: every code path the burst takes, at small sizes, the BAR
     * memory, and one round of migration, so that pages of code and the
     * steady-state buffers are in before the first measure. */
    small_of_everything(&h);
    touch_bar_memory(&h);
    migrate_through(&h);
    small_of_everything(&h);
    usleep(100000);
    before = rss_kib(h.srv.pid);
    for (int round = 0; round < 3; round++) {
        burst(&h);
        rss_check(&h, before, &worst, "the largest messages");
        all_dma_maps(&h);
        rss_check(&h, before, &worst, "65535 DMA maps and UNMAP_ALL");
        huge_version(&h);
        rss_check(&h, before, &worst, "a 1 MiB VERSION");
        migrate_through(&h);
        rss_check(&h, before, &worst, "a migration");
    }
    cr_log_info("server RSS: %ld KiB before the bursts, at most %ld KiB "
                "after one",
                before, worst);
    hs_term_within_1s(&h);
}

/* save/load through the management socket never wait on a FIFO. */
Test(hostile, mgmt_state_files_never_wait)
{
    char fifo[256], line[300], reply[512];
    int64_t t0;
    struct hs h;

    hs_start(&h, "edu");
    snprintf(fifo, sizeof(fifo), "%s/fifo", h.srv.dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    for (int i = 0; i < 2; i++) {
        snprintf(line, sizeof(line), "%s %s", i ? "load" : "save", fifo);
        t0 = now_ms();
        cr_assert_eq(
            vdev_mgmt_client_exchange(h.mgmt, line, reply, sizeof(reply)),
            -EREMOTEIO, "%s: %s", line, reply);
        cr_assert_lt(now_ms() - t0, ALIVE_MS, "%s waited", line);
    }
    unlink(fifo);
    hs_alive(&h, VFIO_PCI_BAR0_REGION_INDEX, 0);
    hs_term_within_1s(&h);
}
