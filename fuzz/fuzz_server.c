/* libFuzzer harness: client sessions (fuzz/msgseq.h: messages with hostile
 * fds, raw bytes, answers to the server's requests, reconnects) served in
 * process, without socket or thread: a memory connection
 * (runtime/server/memconn.c) to one of the three model devices, each made
 * once and reset between inputs. Checks, per input:
 *   - every byte the server sends is well framed; while the session is
 *     clean (messages only, honest sizes, command flags), every message
 *     that wants a reply gets exactly one, in order, for its command, and
 *     before the next record is served;
 *   - the server keeps the client until it shuts down, and then drops it;
 *   - once it is gone: no IRQ fd, no DMA table, open fds back to where
 *     they were; after a reset the device saves the same state as a fresh
 *     one (nothing of a client outlives it).
 * fuzz/msgseq_mutate.c mutates records; fuzz/replay_main.c replays inputs
 * without libFuzzer (tests/fuzz-regressions/server/ in make check). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "edu.h"
#include "gpio-pci-idio-16.h"
#include "hostile_fd.h"
#include "i6300esb.h"
#include "ivshmem.h"
#include "migration/migration.h"
#include "msgseq.h"
#include "pci-serial.h"
#include "server/server.h"
#include "testdev.h"

#define HDR ((uint32_t)sizeof(struct vfio_user_header))
#define MAX_KEEP 256   /* client-side ends held during one input */
#define MAX_EXPECT 512 /* replies awaited */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "fuzz_server: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

/* ------------------------------------------------------------ models */

/* What a client can change of a device, and a reset must put back. */
struct snap {
    uint8_t cfg[VDEV_CONFIG_SIZE];
    uint8_t state[8192]; /* the model's state block */
    uint8_t msix[64 * 16];
    uint64_t pba;
    bool intx_level, running;
    uint32_t levels, msi_pending, mig_state;
    bool masked[VDEV_NR_IRQ_INDEXES][8], pending[VDEV_NR_IRQ_INDEXES][8];
};

struct model {
    const char *name;
    struct vdev_dev *(*create)(void *mem_ctx);
    struct vdev_dev *dev;
    struct snap fresh; /* right after creation */
    /* Bits of the state block a reset keeps (find_sticky). */
    uint8_t sticky[sizeof(((struct snap *)0)->state)];
    bool has_sticky;
};

/* The tests' device (tests/testdev.c) with every capability: sparse mmap
 * areas, a typed region, MSI and MSI-X in BAR0, which no model has. */
static struct vdev_dev *
testdev_full(void *mem_ctx)
{
    static struct testdev td;
    struct vdev_dev *dev = testdev_create(mem_ctx, &td);

    if (dev && testdev_add_caps(dev) < 0)
        return NULL;
    return dev;
}

static struct model models[] = {
    {.name = "edu", .create = edu_create},
    {.name = "gpio", .create = idio16_create},
    {.name = "ivshmem", .create = ivshmem_create},
    {.name = "testdev", .create = testdev_full},
    {.name = "serial", .create = serial_create},     /* a byte stream */
    {.name = "i6300esb", .create = i6300esb_create}, /* a config window */
};
#define NR_MODELS (sizeof(models) / sizeof(models[0]))

static void
snap_take(const struct vdev_dev *dev, struct snap *sn)
{
    const struct vdev_msix *x = &dev->irqs.msix;
    const struct vdev_migration *mig = dev->mig;

    memset(sn, 0, sizeof(*sn));
    memcpy(sn->cfg, dev->cfg.data, sizeof(sn->cfg));
    if (mig) {
        if (mig->desc.state_size > sizeof(sn->state))
            fail("%s: state block of %zu bytes", dev->name,
                 mig->desc.state_size);
        memcpy(sn->state, mig->desc.state, mig->desc.state_size);
        sn->mig_state = mig->state;
    }
    if (x->table)
        memcpy(sn->msix, x->table,
               x->nr_vectors * 16 < sizeof(sn->msix) ? x->nr_vectors * 16
                                                     : sizeof(sn->msix));
    if (x->pba)
        sn->pba = x->pba[0];
    sn->intx_level = dev->irqs.intx_level;
    sn->running = dev->running;
    sn->levels = dev->irqs.levels;
    sn->msi_pending = dev->irqs.msi_pending;
    for (unsigned i = 0; i < VDEV_NR_IRQ_INDEXES; i++) {
        const struct vdev_irq_index *q = &dev->irqs.index[i];

        for (unsigned v = 0; v < q->count && v < 8; v++) {
            sn->masked[i][v] = q->masked[v];
            sn->pending[i][v] = q->pending[v];
        }
    }
}

static void
quiet_log(void *opaque, enum vdev_log_level level, const char *msg)
{
    (void)opaque;
    if (getenv("FUZZ_LOG")) /* the server's log, to study an input */
        fprintf(stderr, "vdev %d: %s\n", (int)level, msg);
}

/* Memory a device reset rightly keeps (RAM behind BARs) and that travels
 * in the saved state (migration.h): cleared so that one input's bytes do
 * not reach the next. Larger BAR memory (ivshmem's 1 MiB) is only data
 * that reads return; clearing it would cost more than the input. */
static void
clear_bar_memory(struct vdev_dev *dev)
{
    for (unsigned i = 0; i < dev->nr_regions; i++)
        if (dev->regions[i].mem && dev->regions[i].size <= VDEV_MIG_BAR_MAX)
            memset(dev->regions[i].mem, 0, dev->regions[i].size);
}

/* State a reset keeps on purpose (a `sticky` variable, as i6300esb's
 * "the last reset was the watchdog's"): the bits of the state block that
 * hold whatever they held through a reset, found once by resetting the
 * block filled with two patterns. The reset check skips them, and puts
 * them back to their fresh values after it, so that no input sees what
 * the one before left there. */
static void
find_sticky(struct model *m)
{
    static const uint8_t pat[2] = {0xa5, 0x5a};
    struct vdev_migration *mig = m->dev->mig;
    uint8_t *st;
    size_t n;

    if (!mig)
        return;
    st = mig->desc.state;
    n = mig->desc.state_size;
    memset(m->sticky, 0xff, n);
    for (unsigned p = 0; p < 2; p++) {
        memset(st, pat[p], n);
        vdev_reset(m->dev);
        for (size_t i = 0; i < n; i++)
            m->sticky[i] &= (uint8_t) ~(st[i] ^ pat[p]);
    }
    memcpy(st, m->fresh.state, n);
    vdev_reset(m->dev);
    for (size_t i = 0; i < n; i++)
        m->has_sticky |= m->sticky[i] != 0;
}

static struct model *
model_get(unsigned i)
{
    struct model *m = &models[i % NR_MODELS];

    if (m->dev)
        return m;
    if (!(m->dev = m->create(NULL)))
        fail("%s: cannot create the device", m->name);
    vdev_set_log(m->dev, quiet_log, NULL, VDEV_LOG_DEBUG);
    /* Device time moves only when an input says (MSGSEQ_CTL_CLOCK), so
     * that timers fire, and an input runs the same each time. */
    if (vdev_set_clock(m->dev, VDEV_CLOCK_VIRTUAL) < 0)
        fail("%s: no virtual clock", m->name);
    clear_bar_memory(m->dev);
    snap_take(m->dev, &m->fresh);
    find_sticky(m);
    return m;
}

/* ------------------------------------------------------------ fds */

/* Open fds, counted with one getdents64 pass over /proc/self/fd. */
static int proc_fd_dir = -1;

static long
count_fds(void)
{
    char buf[8192];
    long n = 0, len;

    if (lseek(proc_fd_dir, 0, SEEK_SET) < 0)
        abort();
    while ((len = syscall(SYS_getdents64, proc_fd_dir, buf, sizeof(buf))) > 0) {
        for (long off = 0; off < len;) {
            unsigned short reclen;
            const char *name = buf + off + 19;

            memcpy(&reclen, buf + off + 16, sizeof(reclen));
            if (name[0] != '.')
                n++;
            off += reclen;
        }
    }
    return n;
}

/* The same without pipes (a readlink each: the slow path): libFuzzer's
 * symbolizer opens some between inputs. */
static long
count_fds_but_pipes(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    long n = 0;

    if (!d)
        abort();
    while ((e = readdir(d))) {
        char link[64];
        ssize_t len;

        if (e->d_name[0] == '.')
            continue;
        len = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);
        if (len < 0)
            continue;
        link[len] = 0;
        if (strncmp(link, "pipe:", 5))
            n++;
    }
    closedir(d);
    return n - 1; /* opendir's own */
}

/* ------------------------------------------------------------ fd pool */

/* One fd of each hostile kind (tests/hostile_fd.h), made once; a message
 * carries a dup() of it. Making fresh ones (a memfd, a socket pair, an
 * open of /dev/null) and tearing them down cost more than a short session
 * itself. A dup is a new fd of the same open file: the server's checks see
 * the same kind, flags and fullness, and closing it is the server's job as
 * before (check_fds). What a session may have changed in the shared file
 * is put back after it, for the kinds it used: the bytes the server wrote
 * to a pipe or socket (read off the client's end) and a memfd's contents
 * (written through a DMA map). Eventfds need nothing: the server only
 * signals them (base/evsignal.c), and a counter that saturated (full
 * kinds) stays full, as it was made. */
static struct {
    int fd, keep;
} pool[HFD_NR_KINDS];
static uint32_t pool_used; /* kinds handed out since the last restore */

static void
pool_init(void)
{
    for (unsigned k = 0; k < HFD_NR_KINDS; k++) {
        pool[k].fd = hostile_fd_make(k, &pool[k].keep);
        if (pool[k].fd < 0)
            fail("cannot make a %s: %s", hostile_fd_name(k),
                 strerror(-pool[k].fd));
        /* The client's own ends: drained without blocking. */
        if (pool[k].keep >= 0 &&
            fcntl(pool[k].keep, F_SETFL,
                  fcntl(pool[k].keep, F_GETFL) | O_NONBLOCK) < 0)
            abort();
    }
}

/* A new fd of kind (modulo HFD_NR_KINDS), or -1. */
static int
pool_take(unsigned kind)
{
    int fd;

    kind %= HFD_NR_KINDS;
    if ((fd = fcntl(pool[kind].fd, F_DUPFD_CLOEXEC, 3)) < 0)
        return -1; /* EMFILE: sent without it, as a failed make was */
    pool_used |= 1u << kind;
    return fd;
}

static void
pool_restore(void)
{
    static const unsigned drain[] = {HFD_PIPE_W, HFD_SOCKET};
    static const struct {
        unsigned kind;
        off_t size;
    } memfds[] = {{HFD_MEMFD_4K, 4096}, {HFD_MEMFD_64K, 65536}};
    uint8_t buf[4096];

    for (unsigned i = 0; i < sizeof(drain) / sizeof(drain[0]); i++)
        if (pool_used & (1u << drain[i]))
            while (read(pool[drain[i]].keep, buf, sizeof(buf)) > 0)
                ;
    for (unsigned i = 0; i < sizeof(memfds) / sizeof(memfds[0]); i++)
        if ((pool_used & (1u << memfds[i].kind)) &&
            fallocate(pool[memfds[i].kind].fd,
                      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                      memfds[i].size) < 0)
            fail("cannot clear a memfd: %s", strerror(errno));
    pool_used = 0;
}

/* ------------------------------------------------------------ session */

struct session {
    struct model *m;
    struct vdev_conn *c; /* NULL after EOF until a reconnect */
    bool qemu_layout;
    uint16_t next_id;
    /* How the client answers the server's requests. */
    unsigned answer, requests;
    /* Bytes the client still reads (SIZE_MAX: all), and whether it has
     * closed (the server's sends fail). */
    size_t window;
    bool gone;
    /* A request left unanswered, or a twin socket (whose answers are
     * whatever the input wrote there): the server may drop the client
     * (runtime/LIMITS.md), and does when the exchange broke. */
    bool unanswered, twin;
    bool eof; /* the client has shut down its sending side */
    const uint8_t *ans_data;
    size_t ans_len;
    /* Ends the client keeps (pipe readers, socket peers, twin ends). */
    int keep[MAX_KEEP];
    unsigned nr_keep;
    /* Fds the server got or made for this client (the twin socket). */
    int given[MAX_KEEP];
    const char *given_what[MAX_KEEP];
    unsigned nr_given;
    /* What the server sent, not yet a whole message. */
    uint8_t *out;
    size_t out_len, out_cap;
    /* Replies awaited, in order, while the session is clean. */
    bool clean;
    struct {
        uint16_t id, cmd;
        bool done;
    } expect[MAX_EXPECT];
    unsigned nr_expect, head;
};

static void
note_given(struct session *s, int fd, const char *what)
{
    if (s->nr_given < MAX_KEEP) {
        s->given[s->nr_given] = fd;
        s->given_what[s->nr_given++] = what;
    }
}

static void
keep_fd(struct session *s, int fd)
{
    if (fd < 0)
        return;
    if (s->nr_keep == MAX_KEEP) {
        close(fd);
        return;
    }
    s->keep[s->nr_keep++] = fd;
}

static void
expect_reply(struct session *s, uint16_t id, uint16_t cmd)
{
    if (!s->clean)
        return;
    if (s->nr_expect == MAX_EXPECT) {
        s->clean = false; /* too long to follow: framing is still checked */
        return;
    }
    s->expect[s->nr_expect].id = id;
    s->expect[s->nr_expect].cmd = cmd;
    s->expect[s->nr_expect].done = false;
    s->nr_expect++;
}

/* Replies come in order, except that while a region access waits for
 * the client's answer to a request of the server's, the commands behind
 * it are served first (server/s2c.c): once a request was seen, a reply
 * may answer any message still awaiting one. */
static void
check_reply(struct session *s, const struct vfio_user_header *h)
{
    unsigned i = s->head;

    if ((h->flags & VFIO_USER_F_ERROR) && h->msg_size != HDR)
        fail("error reply with a body (%u bytes, cmd %u)", h->msg_size, h->cmd);
    if (!s->clean)
        return;
    while (s->requests && i < s->nr_expect &&
           (s->expect[i].done || h->msg_id != s->expect[i].id ||
            h->cmd != s->expect[i].cmd))
        i++;
    if (i == s->nr_expect)
        fail("unasked reply (id %u, cmd %u)", h->msg_id, h->cmd);
    if (h->msg_id != s->expect[i].id || h->cmd != s->expect[i].cmd)
        fail("reply id %u cmd %u, expected id %u cmd %u", h->msg_id, h->cmd,
             s->expect[i].id, s->expect[i].cmd);
    s->expect[i].done = true;
    while (s->head < s->nr_expect && s->expect[s->head].done)
        s->head++;
}

/* ------------------------------------------------------------ answers */

/* The client's side of a DMA_READ/WRITE on the main socket, as the input
 * says (enum msgseq_answer). */
static void
send_to_server(struct session *s, const void *buf, size_t len)
{
    if (s->c && len)
        vdev_mem_send(s->c, buf, len, NULL, 0);
}

/* The largest message the server may send: any, but the legacy DMA_UNMAP
 * reply carrying a dirty bitmap, which cannot be split and may be as
 * large as the legacy max_bitmap_size default (runtime/LIMITS.md). */
static uint32_t
max_server_msg(const struct vfio_user_header *h)
{
    if (h->cmd == VFIO_USER_DMA_UNMAP &&
        (h->flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY)
        return HDR + sizeof(struct vfio_user_dma_unmap) +
               sizeof(struct vfio_user_bitmap) + (256u << 20);
    return VDEV_MAX_MSG_SIZE;
}

static uint8_t answer_buf[HDR + 16 + VDEV_MAX_DATA_XFER];

static void
answer_request(struct session *s, const struct vfio_user_header *h,
               const uint8_t *body)
{
    size_t hl = s->qemu_layout ? 12 : 16;
    uint64_t count = 0;
    uint8_t *r;
    size_t len, data = 0;
    struct vfio_user_header rh = {
        .msg_id = h->msg_id,
        .cmd = h->cmd,
        .flags = VFIO_USER_F_TYPE_REPLY,
    };

    s->requests++;
    if (h->msg_size - HDR < hl)
        fail("short request of %u bytes (cmd %u)", h->msg_size, h->cmd);
    memcpy(&count, body + 8, hl - 8);
    if (h->cmd == VFIO_USER_DMA_READ)
        data = (size_t)count;
    if (data > VDEV_MAX_DATA_XFER)
        fail("DMA_READ of %zu bytes", data);
    len = HDR + hl + data;
    r = answer_buf;
    memcpy(r + HDR, body, hl);
    for (size_t i = 0; i < data; i++)
        r[HDR + hl + i] = s->ans_len ? s->ans_data[i % s->ans_len] : 0;
    rh.msg_size = (uint32_t)len;
    switch (s->answer) {
    case MSGSEQ_ANS_ERROR:
        rh.flags |= VFIO_USER_F_ERROR;
        rh.error_no = s->ans_len ? s->ans_data[0] : EFAULT;
        rh.msg_size = HDR;
        break;
    case MSGSEQ_ANS_NONE:
        s->unanswered = true;
        return;
    case MSGSEQ_ANS_SHORT:
        rh.msg_size--;
        break;
    case MSGSEQ_ANS_STALE: {
        struct vfio_user_header st = rh;

        st.msg_id--;
        st.msg_size = HDR;
        send_to_server(s, &st, HDR);
        break;
    }
    case MSGSEQ_ANS_WRONG_CMD:
        rh.cmd ^= 1;
        break;
    case MSGSEQ_ANS_INTERLEAVE: {
        /* A command of ours in front of the reply: the server must keep
         * it for after the handler. */
        struct {
            struct vfio_user_header h;
            struct vfio_user_region_access a;
        } __attribute__((packed)) rd = {
            .h = {.msg_id = s->next_id++,
                  .cmd = VFIO_USER_REGION_READ,
                  .msg_size = HDR + 16},
            .a = {.offset = 0, .region = VDEV_CONFIG_INDEX, .count = 4},
        };
        expect_reply(s, rd.h.msg_id, rd.h.cmd);
        send_to_server(s, &rd, sizeof(rd));
        break;
    }
    default:
        break;
    }
    memcpy(r, &rh, HDR);
    if (s->answer == MSGSEQ_ANS_SPLIT && rh.msg_size > HDR) {
        /* An fd on the head ends the server's read there (as the kernel
         * ends one): the rest is read while the head is buffered. */
        int fd = pool_take(HFD_EVENTFD);

        if (s->c)
            vdev_mem_send(s->c, r, HDR + 1, &fd, fd >= 0);
        else if (fd >= 0)
            close(fd);
        send_to_server(s, r + HDR + 1, rh.msg_size - HDR - 1);
    } else {
        send_to_server(s, r, rh.msg_size);
    }
}

/* The twin socket's client end (a VERSION reply's fd): the input's answer
 * bytes are all the server will read from it, then EOF. */
static void
take_twin(struct session *s, int fd)
{
    int t = fcntl(fd, F_DUPFD_CLOEXEC, 0);

    if (t < 0)
        abort();
    s->twin = true;
    if (s->ans_len &&
        send(t, s->ans_data, s->ans_len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* a full buffer: the server reads what is there */
    }
    shutdown(t, SHUT_WR);
    keep_fd(s, t);
}

/* Everything the server sends comes here (struct vdev_mem_peer), as much
 * as the client's window takes. */
static ssize_t
peer_recv(void *opaque, struct vdev_conn *c, const uint8_t *buf, size_t len,
          const int *fds, unsigned nr_fds)
{
    struct session *s = opaque;
    size_t off = 0;

    if (s->gone)
        return -EPIPE;
    if (len > s->window)
        len = s->window;
    if (!len)
        return 0;
    if (s->window != SIZE_MAX)
        s->window -= len;

    for (unsigned i = 0; i < nr_fds; i++) {
        int type = 0;
        socklen_t tl = sizeof(type);

        if (getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
            c->twin_fd >= 0) {
            note_given(s, fds[i], "twin socket, client end");
            note_given(s, c->twin_fd, "twin socket, server end");
            take_twin(s, fds[i]);
        }
    }
    if (s->out_len + len > s->out_cap) {
        s->out_cap = s->out_len + len;
        if (!(s->out = realloc(s->out, s->out_cap)))
            abort();
    }
    memcpy(s->out + s->out_len, buf, len);
    s->out_len += len;
    while (s->out_len - off >= HDR) {
        struct vfio_user_header h;

        memcpy(&h, s->out + off, HDR);
        if (h.msg_size < HDR || h.msg_size > max_server_msg(&h))
            fail("server framing: msg_size %u (cmd %u)", h.msg_size, h.cmd);
        if (s->out_len - off < h.msg_size)
            break;
        if ((h.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY)
            check_reply(s, &h);
        else if (h.cmd == VFIO_USER_DMA_READ || h.cmd == VFIO_USER_DMA_WRITE)
            answer_request(s, &h, s->out + off + HDR);
        else
            fail("server sent command %u, flags 0x%x", h.cmd, h.flags);
        off += h.msg_size;
    }
    memmove(s->out, s->out + off, s->out_len - off);
    s->out_len -= off;
    return (ssize_t)len;
}

/* ------------------------------------------------------------ records */

static void
connect_client(struct session *s)
{
    const struct vdev_mem_peer peer = {.recv = peer_recv, .opaque = s};

    if (vdev_mem_adopt(s->m->dev, &peer) < 0)
        fail("%s: cannot adopt a client", s->m->name);
    s->c = s->m->dev->srv->conn;
    s->out_len = 0;
    s->nr_expect = s->head = 0;
}

static void
serve(struct session *s, bool hup)
{
    int rc;

    hup |= s->eof; /* after its EOF, every turn may end in the drop */
    rc = vdev_conn_serve(s->m->dev, hup);

    if (rc < 0) {
        /* A client that stops reading may be dropped (a reply with fds
         * waits for it only so long), and one that broke an exchange the
         * server started (runtime/LIMITS.md): any session with a request
         * of the server's, whose answers here may be late, split, stale
         * or missing. */
        if (!hup && s->window == SIZE_MAX && !s->unanswered && !s->twin &&
            !s->requests)
            fail("%s dropped the client: %s", s->m->name, strerror(-rc));
        s->c = NULL;
        return;
    }
    /* Kept after its EOF only while it waits for the client to read. */
    if (hup && !s->m->dev->srv->conn->out_blocked)
        fail("%s kept the client after its EOF", s->m->name);
    if (s->clean && s->head != s->nr_expect)
        fail("%s: %u replies missing (of %u)", s->m->name,
             s->nr_expect - s->head, s->nr_expect);
}

/* The client shuts down its side (and is gone, at the end). */
static void
hang_up(struct session *s, bool gone)
{
    if (!s->c)
        return;
    s->gone = gone;
    s->eof = true;
    vdev_mem_shutdown(s->c);
    serve(s, true);
}

static void
send_fds(struct session *s, const uint8_t *p, size_t len,
         const struct msgseq_rec *r)
{
    int fds[MSGSEQ_MAX_FDS];
    unsigned n = r->nfds & MSGSEQ_MAX_FDS, nf = 0;
    size_t cut = len;

    for (unsigned i = 0; i < n; i++) {
        unsigned kind = r->kinds[i] % HFD_NR_KINDS;
        int fd = pool_take(kind);

        if (fd < 0)
            continue;
        fds[nf++] = fd;
        note_given(s, fd, hostile_fd_name(kind));
    }
    if ((r->op & MSGSEQ_SPLIT) && len > 1)
        cut = 1 + (size_t)(uint8_t)r->adj % (len - 1);
    vdev_mem_send(s->c, p, cut, fds, nf);
    if (cut < len)
        vdev_mem_send(s->c, p + cut, len - cut, NULL, 0);
}

/* A message as sent: header and body, up to a BIG record's size. */
static uint8_t msg_buf[HDR + 65535 * 16];

static void
do_message(struct session *s, const struct msgseq_rec *r)
{
    size_t blen = r->blen, len;
    struct vfio_user_header h = {
        .msg_id =
            (r->op & MSGSEQ_ID) ? (uint16_t)(uint8_t)r->adj : s->next_id++,
        .cmd = r->cmd,
        .flags = r->flags,
    };
    uint8_t *buf;

    if ((r->op & MSGSEQ_BIG) && blen)
        blen = (size_t)r->len * 16;
    len = HDR + blen;
    h.msg_size = (uint32_t)len;
    if (r->op & MSGSEQ_SIZE) {
        h.msg_size += (uint32_t)(int32_t)r->adj;
        s->clean = false;
    }
    /* A twin socket may come of it even when its reply (with the fd) is
     * not sent: requests there find the client gone. */
    if (r->cmd == VFIO_USER_VERSION && memmem(r->body, r->blen, "twin", 4))
        s->twin = true;
    if (r->flags & VFIO_USER_F_TYPE_MASK)
        s->clean = false; /* may be taken for a reply to a request */
    else if (!(r->flags & VFIO_USER_F_NO_REPLY))
        expect_reply(s, h.msg_id, h.cmd);
    buf = msg_buf;
    memcpy(buf, &h, HDR);
    if (blen == r->blen) {
        memcpy(buf + HDR, r->body, blen);
    } else {
        for (size_t i = 0; i < blen; i++)
            buf[HDR + i] = r->body[i % r->blen];
    }
    send_fds(s, buf, len, r);
}

static void
do_control(struct session *s, const struct msgseq_rec *r)
{
    switch (r->cmd % MSGSEQ_CTL_NR) {
    case MSGSEQ_CTL_ANSWER:
        s->answer = r->flags % MSGSEQ_ANS_NR;
        s->ans_data = r->body;
        s->ans_len = r->blen;
        break;
    case MSGSEQ_CTL_RECONNECT:
        if (s->c)
            vdev_conn_close(s->m->dev);
        connect_client(s);
        s->clean = true;
        s->window = SIZE_MAX;
        s->gone = s->unanswered = s->twin = s->eof = false;
        break;
    case MSGSEQ_CTL_WINDOW: {
        uint32_t w = (uint32_t)r->flags * 256;

        if (r->blen >= 4)
            memcpy(&w, r->body, 4);
        s->window = w == UINT32_MAX ? SIZE_MAX : w;
        if (s->window != SIZE_MAX)
            s->clean = false; /* replies wait: the order check is off */
        if (s->c)
            serve(s, false);
        break;
    }
    case MSGSEQ_CTL_CLOCK: {
        uint64_t ns = (uint64_t)r->flags << 14, left;

        if (r->blen >= 8)
            memcpy(&ns, r->body, 8);
        /* Due timers fire, 256 at most: a periodic one of 1 ns would
         * otherwise run for as long as the input asked. */
        vdev_clock_advance_budget(s->m->dev, ns, 256, &left);
        if (s->c)
            serve(s, false);
        break;
    }
    default:
        hang_up(s, false);
        break;
    }
}

static void
version_first(struct session *s, bool twin)
{
    static const char plain[] =
        "{\"capabilities\":{\"max_msg_fds\":16,"
        "\"max_data_xfer_size\":65536,\"write_multiple\":true}}";
    static const char with_twin[] =
        "{\"capabilities\":{\"max_msg_fds\":16,"
        "\"max_data_xfer_size\":65536,\"write_multiple\":true,"
        "\"twin_socket\":{\"supported\":true}}}";
    const char *caps = twin ? with_twin : plain;
    size_t jlen = strlen(caps) + 1;
    uint8_t msg[256];
    struct vfio_user_version v = {.major = 0, .minor = 1};
    struct vfio_user_header h = {
        .msg_id = s->next_id++,
        .cmd = VFIO_USER_VERSION,
        .msg_size = (uint32_t)(HDR + 4 + jlen),
    };

    memcpy(msg, &h, HDR);
    memcpy(msg + HDR, &v, 4);
    memcpy(msg + HDR + 4, caps, jlen);
    expect_reply(s, h.msg_id, h.cmd);
    vdev_mem_send(s->c, msg, h.msg_size, NULL, 0);
    serve(s, false);
}

/* The state version_first's VERSION leaves, set directly: most inputs
 * start here, and JSON is not parsed and built for each. */
static void
negotiated(struct vdev_conn *c)
{
    c->negotiated = true;
    c->major = VFIO_USER_MAJOR;
    c->minor = 1;
    c->write_multi = true;
    c->peer_max_msg_fds = 16;
    c->peer_max_data_xfer = 65536;
}

/* ------------------------------------------------------------ checks */

static long base_fds = -1, base_but_pipes = -1;

/* Open fds back to where they were before the input: every fd the
 * server was given or made for the client is closed; and every 256th
 * input (a /proc walk costs more than most inputs), the count. */
static void
check_fds(const struct session *s)
{
    static unsigned runs;
    long n, np;

    for (unsigned i = 0; i < s->nr_given; i++)
        if (fcntl(s->given[i], F_GETFD) >= 0)
            fail("%s: fd %d (%s) still open after the session", s->m->name,
                 s->given[i], s->given_what[i]);
    if (++runs % 256)
        return;
    n = count_fds();
    if (n == base_fds)
        return;
    np = count_fds_but_pipes();
    if (np != base_but_pipes)
        fail("%s: open fds other than pipes %ld, %ld before", s->m->name, np,
             base_but_pipes);
    base_fds = n; /* the other pipes are libFuzzer's */
}

static void
check_gone(struct model *m)
{
    struct vdev_dev *dev = m->dev;

    if (dev->srv->conn || dev->dma)
        fail("%s: the client outlived its session", m->name);
    for (unsigned i = 0; i < VDEV_NR_IRQ_INDEXES; i++) {
        const struct vdev_irq_index *x = &dev->irqs.index[i];

        for (unsigned v = 0; v < x->count; v++)
            if (x->trigger_fd[v] >= 0 || x->mask_fd[v] >= 0 ||
                x->unmask_fd[v] >= 0)
                fail("%s: IRQ fd kept (index %u, vector %u)", m->name, i, v);
    }
}

/* Back to a fresh device: the same state, config space and interrupt
 * state. */
static void
reset_and_check(struct model *m)
{
    static struct snap now;
    const uint8_t *a = (const uint8_t *)&now, *b = (const uint8_t *)&m->fresh;
    size_t i = 0;

    vdev_reset(m->dev);
    vdev_migration_reset(m->dev);
    clear_bar_memory(m->dev);
    snap_take(m->dev, &now);
    if (m->has_sticky) {
        uint8_t *st = m->dev->mig->desc.state;

        for (size_t j = 0; j < m->dev->mig->desc.state_size; j++) {
            uint8_t k = m->sticky[j];

            st[j] = (uint8_t)((st[j] & ~k) | (m->fresh.state[j] & k));
            now.state[j] = st[j];
        }
    }
    if (!memcmp(&now, &m->fresh, sizeof(now)))
        return;
    while (a[i] == b[i])
        i++;
    fail("%s: after a reset the device differs from a fresh one at byte %zu "
         "of its snapshot (config space: 0-4095, state block: 4096-)",
         m->name, i);
}

/* ------------------------------------------------------------ one input */

/* A smaller quarantine than ASan's 256 MiB: freed memory comes back while
 * it is still mapped (each input frees a connection's 128 KiB), and a use
 * after free within the last few hundred inputs is still caught. */
const char *__asan_default_options(void);
const char *
__asan_default_options(void)
{
    return "quarantine_size_mb=32";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* As the model servers (host/server_main.c): a client's pipe or
     * socket without a reader is an error, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    proc_fd_dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (proc_fd_dir < 0)
        abort();
    pool_init();
    for (unsigned i = 0; i < NR_MODELS; i++)
        model_get(i);
    base_fds = count_fds();
    base_but_pipes = count_fds_but_pipes();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct session s;
    struct msgseq_rec r;
    unsigned mode;

    if (size < 1)
        return 0;
    if (base_fds < 0)
        LLVMFuzzerInitialize(NULL, NULL);
    mode = data[0];
    data++;
    size--;
    memset(&s, 0, offsetof(struct session, out));
    s.m = model_get((mode & 3) | (mode >> 7) << 2);
    s.qemu_layout = mode & 0x10;
    s.answer = (mode >> 6) & 1; /* ok or error (others: CTL_ANSWER) */
    s.clean = true;
    s.window = SIZE_MAX;
    s.gone = s.unanswered = s.twin = s.eof = false;
    /* QEMU's DMA_READ/WRITE layout, or found out per client (the
     * default: a probe the answers below take for the spec's). */
    vdev_set_dma_layout(s.m->dev, s.qemu_layout ? VDEV_DMA_LAYOUT_QEMU
                                                : VDEV_DMA_LAYOUT_AUTO);
    vdev_clock_set_now(s.m->dev, 0); /* each input from device time 0 */
    /* Every log line formatted for one input in eight (the same ones each
     * run): the messages' formats are exercised, the rest run faster. */
    vdev_set_log(s.m->dev, quiet_log, NULL,
                 getenv("FUZZ_LOG") || size % 8 == 0 ? VDEV_LOG_DEBUG
                                                     : VDEV_LOG_ERROR);
    connect_client(&s);
    if (mode & 4)
        version_first(&s, mode & 8);
    else if (mode & 0x20)
        negotiated(s.c);

    while (msgseq_next(&data, &size, &r)) {
        if (msgseq_kind(&r) == MSGSEQ_CTL) {
            do_control(&s, &r);
            continue;
        }
        if (!s.c)
            continue; /* hung up: until a reconnect */
        if (msgseq_is_msg(&r)) {
            do_message(&s, &r);
        } else if (r.blen) {
            s.clean = false;
            send_fds(&s, r.body, r.blen, &r);
        }
        if (!(r.op & MSGSEQ_HOLD))
            serve(&s, false);
    }
    hang_up(&s, true);
    if (getenv("FUZZ_LOG")) {
        const struct vdev_stats *st = &s.m->dev->stats;

        fprintf(stderr,
                "fuzz_server: %s: %llu messages, %llu errors, %llu "
                "IRQs sent, %u requests, %u replies checked\n",
                s.m->name, (unsigned long long)st->messages,
                (unsigned long long)st->errors,
                (unsigned long long)st->irqs_sent, s.requests,
                s.clean ? s.head : 0);
        memset(&s.m->dev->stats, 0, sizeof(*st));
    }

    check_gone(s.m);
    for (unsigned i = 0; i < s.nr_keep; i++)
        close(s.keep[i]);
    reset_and_check(s.m);
    check_fds(&s);
    pool_restore();
    return 0;
}
