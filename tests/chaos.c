/* The chaos client (see chaos.h): randomized sessions, abuse, churn,
 * hostile fds and management clients against a model server, each batch
 * checking what it can see of the server's answers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"
#include "hostile_fd.h"
#include "rawsock.h"

#define HDR ((uint32_t)sizeof(struct vfio_user_header))
#define PIPELINE 32   /* messages sent before their replies are read */
#define MAX_WANT 1024 /* replies awaited in one session */
#define MAX_KEEP 128  /* client ends of hostile fds held in one session */
#define MAX_REPLY (2u << 20)
#define TIMEOUT_S 12 /* later than the server's own waits (5 s): frozen */

static const char caps_json[] = "{\"capabilities\":{\"max_msg_fds\":16,"
                                "\"write_multiple\":true}}";

/* ------------------------------------------------------------ random */

static uint64_t
rnd(struct chaos *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 0x2545f4914f6cdd1dull;
}

static unsigned
below(struct chaos *c, unsigned n)
{
    return n ? (unsigned)(rnd(c) % n) : 0;
}

static bool
chance(struct chaos *c, unsigned percent)
{
    return below(c, 100) < percent;
}

static void
fill(struct chaos *c, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd(c);
}

static int
fail(struct chaos *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return -1;
}

uint64_t
chaos_seed(void)
{
    const char *s = getenv("VDEV_CHAOS_SEED");
    struct timespec ts;

    if (s && *s)
        return strtoull(s, NULL, 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^
           (uint64_t)getpid() << 40;
}

void
chaos_init(struct chaos *c, uint64_t seed, const char *sock, const char *mgmt,
           const char *dir)
{
    memset(c, 0, sizeof(*c));
    c->rng = seed ? seed : 1;
    c->sock = sock;
    c->mgmt = mgmt;
    c->dir = dir;
}

const char *
chaos_kind_name(enum chaos_kind k)
{
    static const char *const names[] = {"odd", "abuse", "churn", "fds", "mgmt"};

    return k < CHAOS_NR_KINDS ? names[k] : "?";
}

enum chaos_kind
chaos_pick(struct chaos *c)
{
    return (enum chaos_kind)below(c, CHAOS_NR_KINDS);
}

/* ------------------------------------------------------------ sessions */

/* A raw connection whose every reply is checked against what was sent.
 * Its socket is non-blocking and driven like a real client's: while it
 * has bytes to send it reads too (replies, and the server's requests,
 * answered at once), so neither side waits on the other's full buffer. */
struct session {
    struct chaos *c;
    int fd;
    uint16_t next_id;
    struct {
        uint16_t id, cmd;
        bool done;
    } want[MAX_WANT];
    unsigned nwant, head;
    unsigned requests; /* the server's DMA requests seen */
    bool loose;        /* after abuse: framing only, no order */
    int keep[MAX_KEEP];
    unsigned nkeep;
    uint8_t answer; /* server requests: 0 error, 1 data, 2 a wrong id */
    uint8_t *out;   /* to send */
    size_t out_len, out_cap;
    uint8_t *in; /* received, not yet a whole message */
    size_t in_len;
};

static int
connect_to(const char *path)
{
    struct timeval tv = {.tv_sec = TIMEOUT_S};
    int fd = raw_connect(path);

    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
session_close(struct session *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    for (unsigned i = 0; i < s->nkeep; i++)
        close(s->keep[i]);
    s->nkeep = 0;
    free(s->out);
    free(s->in);
    s->out = s->in = NULL;
}

static int session_send(struct session *s, uint16_t cmd, uint32_t flags,
                        const void *body, size_t len, const int *fds,
                        unsigned nfds);

static int
session_open(struct chaos *c, struct session *s, bool negotiate)
{
    uint8_t body[4 + sizeof(caps_json)];
    struct vfio_user_version v = {.major = 0, .minor = 1};

    memset(s, 0, sizeof(*s));
    s->c = c;
    s->in = malloc(MAX_REPLY);
    s->fd = connect_to(c->sock);
    if (s->fd < 0)
        return fail(c, "connect: %s", strerror(-s->fd));
    fcntl(s->fd, F_SETFL, O_NONBLOCK);
    s->answer = (uint8_t)below(c, 3);
    if (!negotiate)
        return 0;
    memcpy(body, &v, 4);
    memcpy(body + 4, caps_json, sizeof(caps_json));
    return session_send(s, VFIO_USER_VERSION, 0, body, sizeof(body), NULL, 0);
}

/* Bytes to send after what is queued. */
static void
queue(struct session *s, const void *buf, size_t len)
{
    if (s->out_len + len > s->out_cap) {
        s->out_cap = (s->out_len + len) * 2;
        s->out = realloc(s->out, s->out_cap);
    }
    memcpy(s->out + s->out_len, buf, len);
    s->out_len += len;
}

/* The client's side of a DMA_READ/WRITE: an error, the data, or a reply
 * to another id first. */
static void
answer_request(struct session *s, const struct vfio_user_header *h,
               const uint8_t *body)
{
    struct vfio_user_header r = {
        .msg_id = h->msg_id,
        .cmd = h->cmd,
        .msg_size = HDR,
        .flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
        .error_no = EFAULT,
    };
    uint64_t count = 0;
    uint8_t *out;

    if (s->answer == 2) {
        struct vfio_user_header stale = r;

        stale.msg_id ^= 0x5a5a;
        queue(s, &stale, HDR);
    }
    if (s->answer == 0 || h->msg_size < HDR + 16) {
        queue(s, &r, HDR);
        return;
    }
    memcpy(&count, body + 8, 8);
    if (h->cmd != VFIO_USER_DMA_READ || count > 65536)
        count = 0;
    out = calloc(1, HDR + 16 + count);
    r.flags = VFIO_USER_F_TYPE_REPLY;
    r.error_no = 0;
    r.msg_size = (uint32_t)(HDR + 16 + count);
    memcpy(out, &r, HDR);
    memcpy(out + HDR, body, 16);
    queue(s, out, r.msg_size);
    free(out);
}

/* One message from the server: a reply (in order; but while a region
 * access waits for the answer to a request of the server's, the commands
 * behind it are served first, server/s2c.c: then any message awaiting a
 * reply), or a request, answered. */
static int
take(struct session *s, const struct vfio_user_header *h, const uint8_t *body)
{
    struct chaos *c = s->c;
    unsigned i = s->head;

    if ((h->flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY) {
        if (h->cmd != VFIO_USER_DMA_READ && h->cmd != VFIO_USER_DMA_WRITE)
            return fail(c, "server sent command %u", h->cmd);
        s->requests++;
        if (getenv("VDEV_CHAOS_LOG"))
            fprintf(stderr, "chaos: request id %u cmd %u size %u\n", h->msg_id,
                    h->cmd, h->msg_size);
        answer_request(s, h, body);
        return 0;
    }
    if ((h->flags & VFIO_USER_F_ERROR) && h->msg_size != HDR)
        return fail(c, "error reply of %u bytes (cmd %u)", h->msg_size, h->cmd);
    c->replies++;
    if (s->loose)
        return 0;
    while (s->requests && i < s->nwant &&
           (s->want[i].done || h->msg_id != s->want[i].id ||
            h->cmd != s->want[i].cmd))
        i++;
    if (i == s->nwant || h->msg_id != s->want[i].id || h->cmd != s->want[i].cmd)
        return fail(c, "reply id %u cmd %u where id %u cmd %u was due",
                    h->msg_id, h->cmd,
                    s->head < s->nwant ? s->want[s->head].id : 0,
                    s->head < s->nwant ? s->want[s->head].cmd : 0);
    s->want[i].done = true;
    while (s->head < s->nwant && s->want[s->head].done)
        s->head++;
    return 0;
}

/* Reads what is there and takes every whole message. */
static int
read_in(struct session *s)
{
    size_t off = 0;
    ssize_t n = recv(s->fd, s->in + s->in_len, MAX_REPLY - s->in_len, 0);

    if (n == 0)
        return -ECONNRESET;
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    s->in_len += (size_t)n;
    while (s->in_len - off >= HDR) {
        struct vfio_user_header h;
        int rc;

        memcpy(&h, s->in + off, HDR);
        if (h.msg_size < HDR || h.msg_size > MAX_REPLY)
            return fail(s->c,
                        "badly framed message from the server "
                        "(size %u)",
                        h.msg_size);
        if (s->in_len - off < h.msg_size)
            break;
        if ((rc = take(s, &h, s->in + off + HDR)) < 0)
            return rc;
        off += h.msg_size;
    }
    memmove(s->in, s->in + off, s->in_len - off);
    s->in_len -= off;
    return 1;
}

static int64_t
now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Sends and reads: with ms < 0, until what is queued is sent and (with
 * replies) every awaited reply is in; else for ms milliseconds (0: one
 * look), a hang-up then being no failure. 0, or -1 (with c->err) when the
 * server is gone, silent for TIMEOUT_S, or wrong. */
static int
pump(struct session *s, bool replies, int ms)
{
    struct chaos *c = s->c;
    int64_t end = now_ms() + (ms > 0 ? ms : 0);

    for (;;) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        int n, rc, wait;

        if (ms < 0 && !s->out_len && (!replies || s->head == s->nwant))
            return 0;
        wait = ms < 0 ? TIMEOUT_S * 1000 : (int)(end - now_ms());
        if (s->out_len)
            p.events |= POLLOUT;
        n = poll(&p, 1, wait > 0 ? wait : 0);
        if (n == 0 && ms >= 0)
            return 0;
        if (n == 0)
            return fail(c,
                        "no reply to id %u (cmd %u), %u of %u: nothing in "
                        "%d s",
                        s->want[s->head].id, s->want[s->head].cmd, s->head,
                        s->nwant, TIMEOUT_S);
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) &&
            (rc = read_in(s)) < 0) {
            if (ms >= 0 && rc == -ECONNRESET)
                return 0;
            return c->err[0] ? -1
                             : fail(c, "server: %s (%u of %u replies)",
                                    strerror(-rc), s->head, s->nwant);
        }
        if ((p.revents & POLLOUT) && s->out_len) {
            ssize_t k =
                send(s->fd, s->out, s->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);

            if (k < 0 && errno != EAGAIN && errno != EINTR)
                return ms >= 0 ? 0 : fail(c, "send: %s", strerror(errno));
            if (k > 0) {
                memmove(s->out, s->out + k, s->out_len - (size_t)k);
                s->out_len -= (size_t)k;
            }
        }
        if (ms == 0 || (ms > 0 && now_ms() >= end))
            return 0;
    }
}

/* Every reply awaited: in, well framed, for its message. */
static int
session_drain(struct session *s)
{
    int rc = pump(s, true, -1);

    if (rc == 0)
        s->head = s->nwant = 0;
    return rc;
}

static int
c_err_or(struct session *s, int rc)
{
    return s->c->err[0] ? -1 : fail(s->c, "server: %s", strerror(-rc));
}

/* A message with fds on its first byte: what is queued goes first. */
static int
send_with_fds(struct session *s, const uint8_t *buf, size_t len, const int *fds,
              unsigned nfds)
{
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(sizeof(int) * 32)];
    } ctl;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    struct cmsghdr *cm;
    ssize_t n;
    int rc;

    if ((rc = pump(s, false, -1)) < 0)
        return rc;
    memset(&ctl, 0, sizeof(ctl));
    mh.msg_control = ctl.b;
    mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    /* Answers the server asks for meanwhile go first: it may be waiting
     * for them before it reads on. */
    while ((n = sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0) {
        struct pollfd p = {.fd = s->fd, .events = POLLOUT | POLLIN};

        if (errno != EAGAIN && errno != EINTR)
            return fail(s->c, "send: %s", strerror(errno));
        if (poll(&p, 1, TIMEOUT_S * 1000) <= 0)
            return fail(s->c, "the server takes no more");
        if ((p.revents & POLLIN) && (rc = read_in(s)) < 0)
            return c_err_or(s, rc);
        if (s->out_len && (rc = pump(s, false, -1)) < 0)
            return rc;
    }
    if ((size_t)n < len)
        queue(s, buf + n, len - (size_t)n);
    return 0;
}

static int
session_send(struct session *s, uint16_t cmd, uint32_t flags, const void *body,
             size_t len, const int *fds, unsigned nfds)
{
    uint16_t id = s->next_id++;
    struct vfio_user_header h = {
        .msg_id = id,
        .cmd = cmd,
        .msg_size = (uint32_t)(HDR + len),
        .flags = flags,
    };
    uint8_t *buf = malloc(HDR + len);
    int rc = 0;

    memcpy(buf, &h, HDR);
    if (len)
        memcpy(buf + HDR, body, len);
    if (nfds)
        rc = send_with_fds(s, buf, HDR + len, fds, nfds);
    else
        queue(s, buf, HDR + len);
    free(buf);
    if (rc < 0)
        return rc;
    s->c->messages++;
    if (!(flags & VFIO_USER_F_NO_REPLY)) {
        s->want[s->nwant].id = id;
        s->want[s->nwant].cmd = cmd;
        s->want[s->nwant].done = false;
        s->nwant++;
    }
    if (s->nwant - s->head >= PIPELINE || s->nwant == MAX_WANT)
        return session_drain(s);
    return pump(s, false, 0);
}

/* The device's regions and IRQs, once, from a session of its own. */
static int
learn(struct chaos *c)
{
    int fd;

    if (c->learnt)
        return 0;
    if ((fd = connect_to(c->sock)) < 0)
        return fail(c, "connect: %s", strerror(-fd));
    if (raw_version(fd, caps_json, NULL) < 0) {
        close(fd);
        return fail(c, "VERSION refused");
    }
    for (uint32_t i = 0; i < 9; i++) {
        struct vfio_region_info in = {.argsz = sizeof(in), .index = i};
        struct raw_reply r;

        if (raw_call(fd, 2, VFIO_USER_DEVICE_GET_REGION_INFO, &in, sizeof(in),
                     &r) == 0 &&
            r.len >= sizeof(in)) {
            memcpy(&in, r.payload, sizeof(in));
            c->region_size[i] = in.size;
        }
        raw_reply_free(&r);
    }
    for (uint32_t i = 0; i < 5; i++) {
        struct vfio_irq_info in = {.argsz = sizeof(in), .index = i};
        struct raw_reply r;

        if (raw_call(fd, 3, VFIO_USER_DEVICE_GET_IRQ_INFO, &in, sizeof(in),
                     &r) == 0 &&
            r.len >= sizeof(in)) {
            memcpy(&in, r.payload, sizeof(in));
            c->irq_count[i] = in.count;
        }
        raw_reply_free(&r);
    }
    close(fd);
    for (uint32_t i = 0; i < 7; i++)
        if (c->region_size[i] >= 4096 &&
            c->region_size[i] > c->region_size[c->big_region])
            c->big_region = i;
    c->learnt = true;
    return 0;
}

/* ------------------------------------------------------------ messages */

static const uint32_t widths[] = {1, 2, 3, 4, 8, 16, 64, 256, 4096};

/* A region and an offset in it (now and then out of it). */
static void
pick_place(struct chaos *c, uint32_t *region, uint64_t *off, uint32_t *count)
{
    uint64_t size;

    do
        *region = below(c, 9);
    while (!c->region_size[*region] && !chance(c, 5));
    size = c->region_size[*region];
    *count = widths[below(c, sizeof(widths) / sizeof(*widths))];
    *off = size ? rnd(c) % size : rnd(c) % 64;
    if (chance(c, 50))
        *off &= ~(uint64_t)(*count < 8 ? *count - 1 : 7);
    if (chance(c, 5))
        *off = size - (chance(c, 50) ? 0 : 1);
    if (chance(c, 3))
        *region = 9 + below(c, 8);
}

static int
odd_access(struct session *s)
{
    struct chaos *c = s->c;
    uint8_t buf[16 + 4096];
    struct vfio_user_region_access a;
    uint32_t region, count;
    uint64_t off;
    bool write = chance(c, 40);

    pick_place(c, &region, &off, &count);
    a.offset = off;
    a.region = region;
    a.count = count;
    memcpy(buf, &a, sizeof(a));
    if (!write)
        return session_send(s, VFIO_USER_REGION_READ,
                            chance(c, 5) ? VFIO_USER_F_NO_REPLY : 0, buf, 16,
                            NULL, 0);
    fill(c, buf + 16, count);
    return session_send(s, VFIO_USER_REGION_WRITE,
                        chance(c, 10) ? VFIO_USER_F_NO_REPLY : 0, buf,
                        16 + count, NULL, 0);
}

static int
odd_multi(struct session *s)
{
    struct chaos *c = s->c;
    uint8_t buf[8 + 4 * 24];
    uint64_t n = 1 + below(c, 4);

    memcpy(buf, &n, 8);
    for (uint64_t i = 0; i < n; i++) {
        struct vfio_user_write_multi_entry e = {0};
        uint32_t region, count;
        uint64_t off;

        pick_place(c, &region, &off, &count);
        e.offset = off;
        e.region = region;
        e.count = 1u << below(c, 4);
        fill(c, e.data, sizeof(e.data));
        memcpy(buf + 8 + 24 * i, &e, 24);
    }
    return session_send(s, VFIO_USER_REGION_WRITE_MULTI, 0, buf, 8 + 24 * n,
                        NULL, 0);
}

static int
odd_info(struct session *s)
{
    struct chaos *c = s->c;
    struct vfio_region_info ri = {.argsz = sizeof(ri)};
    struct vfio_irq_info ii = {.argsz = sizeof(ii)};

    switch (below(c, 4)) {
    case 0:
        ri.index = below(c, 12);
        if (chance(c, 30))
            ri.argsz = (uint32_t)(sizeof(ri) + below(c, 256));
        return session_send(s, VFIO_USER_DEVICE_GET_REGION_INFO, 0, &ri,
                            sizeof(ri), NULL, 0);
    case 1:
        ii.index = below(c, 7);
        return session_send(s, VFIO_USER_DEVICE_GET_IRQ_INFO, 0, &ii,
                            sizeof(ii), NULL, 0);
    case 2: {
        struct vfio_device_info di = {.argsz = 16};

        return session_send(s, VFIO_USER_DEVICE_GET_INFO, 0, &di, 16, NULL, 0);
    }
    default:
        return session_send(s, VFIO_USER_DEVICE_RESET, 0, NULL, 0, NULL, 0);
    }
}

/* SET_IRQS: fds (from kinds; -1 for a plain eventfd) or none. */
static int
set_irqs(struct session *s, uint32_t flags, uint32_t index, uint32_t start,
         uint32_t count, const uint8_t *kinds, unsigned nfds)
{
    uint8_t buf[sizeof(struct vfio_irq_set) + 16];
    struct vfio_irq_set is = {
        .argsz = sizeof(is),
        .flags = flags,
        .index = index,
        .start = start,
        .count = count,
    };
    int fds[16] = {0};
    unsigned n = 0;
    int rc;

    for (unsigned i = 0; i < nfds && i < 16; i++) {
        int keep, fd = hostile_fd_make(kinds ? kinds[i] : HFD_EVENTFD, &keep);

        if (keep >= 0 && s->nkeep < MAX_KEEP)
            s->keep[s->nkeep++] = keep;
        else if (keep >= 0)
            close(keep);
        if (fd >= 0)
            fds[n++] = fd;
    }
    if (flags & VFIO_IRQ_SET_DATA_BOOL) {
        memset(buf + sizeof(is), 1, count < 16 ? count : 16);
        is.argsz += count < 16 ? count : 16;
    }
    memcpy(buf, &is, sizeof(is));
    rc = session_send(s, VFIO_USER_DEVICE_SET_IRQS, 0, buf, is.argsz, fds, n);
    for (unsigned i = 0; i < n; i++)
        close(fds[i]);
    return rc;
}

static int
odd_irqs(struct session *s)
{
    struct chaos *c = s->c;
    static const uint32_t data[] = {VFIO_IRQ_SET_DATA_NONE,
                                    VFIO_IRQ_SET_DATA_BOOL,
                                    VFIO_IRQ_SET_DATA_EVENTFD};
    static const uint32_t action[] = {VFIO_IRQ_SET_ACTION_MASK,
                                      VFIO_IRQ_SET_ACTION_UNMASK,
                                      VFIO_IRQ_SET_ACTION_TRIGGER};
    uint32_t index = below(c, 5), n = c->irq_count[index];
    uint32_t d = data[below(c, 3)], count = n ? 1 + below(c, n) : 1;

    if (chance(c, 10))
        count = 0;
    return set_irqs(s, d | action[below(c, 3)], index, 0, count, NULL,
                    d == VFIO_IRQ_SET_DATA_EVENTFD && chance(c, 80) ? count
                                                                    : 0);
}

static int
memfd_of(size_t size)
{
    int fd = memfd_create("vdev-chaos", MFD_CLOEXEC);

    if (fd >= 0 && ftruncate(fd, (off_t)size) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int
dma_map(struct session *s, uint64_t iova, uint64_t size, int fd)
{
    struct vfio_user_dma_map m = {
        .argsz = sizeof(m),
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .addr = iova,
        .size = size,
    };

    return session_send(s, VFIO_USER_DMA_MAP, 0, &m, sizeof(m), &fd,
                        fd >= 0 ? 1 : 0);
}

static int
dma_unmap_all(struct session *s)
{
    struct vfio_user_dma_unmap u = {
        .argsz = sizeof(u),
        .flags = VFIO_USER_F_DMA_UNMAP_ALL,
    };

    return session_send(s, VFIO_USER_DMA_UNMAP, 0, &u, sizeof(u), NULL, 0);
}

/* edu's DMA engine (0x80 source, 0x88 destination, 0x90 count, 0x98
 * command) between a map and its buffer at 0x40000: on other models these
 * are writes to wherever BAR0 has room. */
static int
odd_dma(struct session *s)
{
    struct chaos *c = s->c;
    uint64_t iova = 0x100000, size = 0x10000;
    int fd = chance(c, 50) ? memfd_of(size) : -1;
    uint8_t buf[16 + 8];
    int rc = session_drain(s);

    if (rc == 0)
        rc = dma_map(s, iova, size, fd);

    if (fd >= 0)
        close(fd);
    for (unsigned i = 0; rc == 0 && i < 3; i++) {
        static const uint64_t regs[] = {0x80, 0x88, 0x90, 0x98};
        uint64_t v[4] = {iova + below(c, 0x1000), 0x40000 + below(c, 0x800),
                         1 + below(c, 0x800), 1 | (uint64_t)below(c, 4) << 1};
        bool to_ram = v[3] & 2;

        if (to_ram) {
            uint64_t t = v[0];
            v[0] = v[1];
            v[1] = t;
        }
        for (unsigned r = 0; rc == 0 && r < 4; r++) {
            struct vfio_user_region_access a = {
                .offset = regs[r], .region = 0, .count = 8};

            memcpy(buf, &a, 16);
            memcpy(buf + 16, &v[r], 8);
            rc = session_send(s, VFIO_USER_REGION_WRITE, 0, buf, 24, NULL, 0);
            /* One at a time, as a vCPU does: a client that piles commands
             * in front of its answer to the server's DMA request leaves the
             * server nothing to read it with, and is dropped (s2c.c). */
            if (rc == 0)
                rc = session_drain(s);
        }
    }
    return rc ? rc : dma_unmap_all(s);
}

static int
feature_state(struct session *s, uint32_t state)
{
    uint8_t buf[8 + 8];
    struct vfio_user_device_feature f = {
        .argsz = sizeof(buf),
        .flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
    };
    struct vfio_device_feature_mig_state m = {.device_state = state,
                                              .data_fd = -1};

    memcpy(buf, &f, 8);
    memcpy(buf + 8, &m, 8);
    return session_send(s, VFIO_USER_DEVICE_FEATURE, 0, buf, sizeof(buf), NULL,
                        0);
}

/* A migration round trip, cut short or garbled now and then; it always
 * ends in a reset, so the device runs for the next batch. */
static int
odd_migration(struct session *s)
{
    struct chaos *c = s->c;
    struct {
        uint32_t argsz, size;
        uint8_t data[256];
    } rd = {.argsz = 8, .size = 1 + below(c, 65536)};
    int rc = feature_state(s, VFIO_DEVICE_STATE_STOP);

    if (rc == 0 && chance(c, 70))
        rc = feature_state(s, VFIO_DEVICE_STATE_STOP_COPY);
    for (unsigned i = 0; rc == 0 && i < below(c, 4); i++)
        rc = session_send(s, VFIO_USER_MIG_DATA_READ, 0, &rd, 8, NULL, 0);
    if (rc == 0 && chance(c, 50)) {
        rc = feature_state(s, VFIO_DEVICE_STATE_STOP);
        if (rc == 0)
            rc = feature_state(s, VFIO_DEVICE_STATE_RESUMING);
        rd.size = (uint32_t)below(c, sizeof(rd.data));
        rd.argsz = 8 + rd.size;
        fill(c, rd.data, rd.size);
        if (rc == 0)
            rc = session_send(s, VFIO_USER_MIG_DATA_WRITE, 0, &rd, rd.argsz,
                              NULL, 0);
        if (rc == 0)
            rc = feature_state(s, VFIO_DEVICE_STATE_STOP);
    }
    return rc ? rc
              : session_send(s, VFIO_USER_DEVICE_RESET, 0, NULL, 0, NULL, 0);
}

/* ------------------------------------------------------------ batches */

static int
batch_odd(struct chaos *c)
{
    struct session s;
    unsigned n = 20 + below(c, 200);
    int rc = session_open(c, &s, true);

    for (unsigned i = 0; rc == 0 && i < n; i++) {
        unsigned what = below(c, 100);

        if (what < 60)
            rc = odd_access(&s);
        else if (what < 68)
            rc = odd_multi(&s);
        else if (what < 80)
            rc = odd_info(&s);
        else if (what < 90)
            rc = odd_irqs(&s);
        else if (what < 95)
            rc = odd_dma(&s);
        else
            rc = odd_migration(&s);
    }
    if (rc == 0)
        rc = session_drain(&s);
    session_close(&s);
    return rc;
}

/* One piece of abuse on an open connection. */
static void
abuse_one(struct chaos *c, struct session *s)
{
    uint8_t buf[512];
    struct vfio_user_header h = {
        .msg_id = s->next_id++,
        .cmd = (uint16_t)below(c, 24),
        .msg_size = HDR,
    };
    size_t len = HDR;
    int fds[20];
    unsigned nfds = 0;

    switch (below(c, 8)) {
    case 0: /* a size below the header */
        h.msg_size = below(c, HDR);
        break;
    case 1: /* a size past the limit, part of a body after it */
        h.msg_size = 0x200000 + below(c, 0x7fffffff);
        len += below(c, sizeof(buf) - HDR);
        break;
    case 2: /* a size that lies about the body */
        len += below(c, 64);
        h.msg_size = (uint32_t)(HDR + below(c, 128));
        break;
    case 3: /* a reply, or reserved flags */
        h.flags = chance(c, 50) ? VFIO_USER_F_TYPE_REPLY : 1u << below(c, 32);
        break;
    case 4: /* unknown command */
        h.cmd = (uint16_t)(VFIO_USER_MAX_COMMAND + below(c, 0xff00));
        break;
    case 5: /* fds on a message that takes none, or too many */
        nfds = chance(c, 50) ? 1 : 17 + below(c, 3);
        break;
    case 6: /* garbage */
        len = 1 + below(c, sizeof(buf));
        fill(c, buf, len);
        queue(s, buf, len);
        return;
    default: /* a valid read of nothing in particular */
        h.cmd = VFIO_USER_DEVICE_GET_INFO;
        break;
    }
    memcpy(buf, &h, HDR);
    fill(c, buf + HDR, len - HDR);
    for (unsigned i = 0; i < nfds; i++) {
        int keep, fd = hostile_fd_make(below(c, HFD_NR_KINDS), &keep);

        if (keep >= 0)
            close(keep);
        if (fd >= 0)
            fds[i] = fd;
        else
            fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if (nfds)
        send_with_fds(s, buf, len, fds, nfds); /* may be refused: fine */
    else
        queue(s, buf, len);
    for (unsigned i = 0; i < nfds; i++)
        close(fds[i]);
}

static int
batch_abuse(struct chaos *c)
{
    struct session s;
    unsigned n = 1 + below(c, 40);
    int rc = session_open(c, &s, chance(c, 80));

    if (rc == 0)
        rc = session_drain(&s);
    /* What comes back must be well framed; its order is anyone's guess. */
    s.loose = true;
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        abuse_one(c, &s);
        if (chance(c, 20))
            rc = pump(&s, false, 5);
    }
    if (rc == 0)
        rc = pump(&s, false, 20);
    c->err[0] = rc ? c->err[0] : 0;
    session_close(&s);
    return rc;
}

static int
batch_churn(struct chaos *c)
{
    unsigned n = 1 + below(c, 20);
    int rc = 0;

    for (unsigned i = 0; rc == 0 && i < n; i++) {
        struct session s;
        uint8_t buf[64];
        struct vfio_user_header h = {.cmd = VFIO_USER_REGION_READ,
                                     .msg_size = HDR + 16};

        if ((rc = session_open(c, &s, chance(c, 60))) < 0)
            break;
        switch (below(c, 5)) {
        case 0: /* gone at once */
            break;
        case 1: /* inside a header */
            raw_send(s.fd, &h, 1 + below(c, HDR - 1), NULL, 0);
            break;
        case 2: /* inside a body */
            memcpy(buf, &h, HDR);
            raw_send(s.fd, buf, HDR + below(c, 16), NULL, 0);
            break;
        case 3: /* many requests, no reads */
            for (unsigned k = 0; k < 50 + below(c, 400); k++) {
                struct vfio_user_region_access a = {
                    .offset = 0, .region = c->big_region, .count = 4096};

                h.msg_id = (uint16_t)k;
                memcpy(buf, &h, HDR);
                memcpy(buf + HDR, &a, 16);
                if (send(s.fd, buf, HDR + 16, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                    break;
            }
            break;
        default: /* served, then gone with replies unread */
            rc = odd_access(&s);
            break;
        }
        if (chance(c, 30))
            shutdown(s.fd, SHUT_WR);
        session_close(&s);
    }
    return rc;
}

/* Every hostile kind as an IRQ fd, triggered again and again; DMA maps
 * of every kind. The server must answer each message in time. */
static int
batch_fds(struct chaos *c)
{
    struct session s;
    int rc = session_open(c, &s, true);
    unsigned triggers = 100 + below(c, 2000);

    for (unsigned index = 0; rc == 0 && index < 3; index++) {
        uint32_t n = c->irq_count[index];
        uint8_t kinds[16];

        if (!n)
            continue;
        for (unsigned i = 0; i < n && i < 16; i++)
            kinds[i] = (uint8_t)below(c, HFD_NR_KINDS);
        rc = set_irqs(&s,
                      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                      index, 0, n < 16 ? n : 16, kinds, n < 16 ? n : 16);
    }
    for (unsigned i = 0; rc == 0 && i < triggers; i++) {
        uint32_t index = below(c, 3), n = c->irq_count[index];

        if (!n)
            continue;
        rc = set_irqs(&s, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                      index, below(c, n), 1, NULL, 0);
        if (rc == 0 && index == 0) /* INTx masks itself: unmask */
            rc = set_irqs(&s,
                          VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
                          0, 0, 1, NULL, 0);
    }
    for (unsigned k = 0; rc == 0 && k < HFD_NR_KINDS; k++) {
        int keep, fd = hostile_fd_make(k, &keep);

        rc = dma_map(&s, 0x1000000 + (uint64_t)k * 0x10000, 0x10000, fd);
        if (fd >= 0)
            close(fd);
        if (keep >= 0)
            close(keep);
    }
    if (rc == 0)
        rc = dma_unmap_all(&s);
    if (rc == 0)
        rc = session_drain(&s);
    session_close(&s);
    return rc;
}

/* ------------------------------------------------------------ mgmt */

static int
mgmt_connect(struct chaos *c)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = TIMEOUT_S};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    strncpy(sa.sun_path, c->mgmt, sizeof(sa.sun_path) - 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
mgmt_junk(struct chaos *c, int fd)
{
    static const char *const lines[] = {
        "help\n",
        "info\n",
        "list\n",
        "values\n",
        "stats\n",
        "get nothing\n",
        "doc \n",
        "set x 1\n",
        "\n\n\r\n",
        "get\tid\n",
        "set a b c d e f\n",
        "save /\n",
        "load /dev/null\n",
    };
    char buf[2048];
    size_t len;

    switch (below(c, 6)) {
    case 0: /* a long line */
        len = 513 + below(c, sizeof(buf) - 514);
        memset(buf, 'x', len);
        buf[len++] = '\n';
        break;
    case 1: /* binary */
        len = 1 + below(c, 64);
        fill(c, (uint8_t *)buf, len);
        break;
    case 2: /* half a line */
        len = (size_t)snprintf(buf, sizeof(buf), "values");
        break;
    case 3: /* save and load in the server's folder */
        len = (size_t)snprintf(buf, sizeof(buf), "%s %s/chaos.state\n",
                               chance(c, 50) ? "save" : "load", c->dir);
        break;
    default: {
        const char *l = lines[below(c, sizeof(lines) / sizeof(*lines))];

        len = strlen(l);
        memcpy(buf, l, len);
        break;
    }
    }
    if (send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
        /* dropped or full: what the server decides */
    }
}

static int
batch_mgmt(struct chaos *c)
{
    int fds[12];
    unsigned n = 1 + below(c, 12);
    char buf[4096];

    for (unsigned i = 0; i < n; i++) {
        fds[i] = mgmt_connect(c);
        if (fds[i] < 0)
            n = i;
    }
    for (unsigned round = 0; round < 1 + below(c, 20); round++)
        for (unsigned i = 0; i < n; i++)
            if (fds[i] >= 0 && chance(c, 70))
                mgmt_junk(c, fds[i]);
    /* Most read what came back, some never do. */
    for (unsigned i = 0; i < n; i++) {
        if (fds[i] < 0)
            continue;
        if (chance(c, 70))
            while (recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) > 0)
                ;
        close(fds[i]);
    }
    return 0;
}

/* ------------------------------------------------------------ entry */

int
chaos_batch(struct chaos *c, enum chaos_kind kind)
{
    int rc;

    c->err[0] = 0;
    if ((rc = learn(c)) < 0)
        return rc;
    c->batches[kind]++;
    switch (kind) {
    case CHAOS_ODD:
        return batch_odd(c);
    case CHAOS_ABUSE:
        return batch_abuse(c);
    case CHAOS_CHURN:
        return batch_churn(c);
    case CHAOS_FDS:
        return batch_fds(c);
    default:
        return batch_mgmt(c);
    }
}
