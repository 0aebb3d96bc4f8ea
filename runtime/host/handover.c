/* Seamless upgrade, the running server's side: at a message boundary, write
 * the hand-over record (handover.h), start the new binary with one end of a
 * socket pair, send it the record and every fd, and on its acknowledgement
 * let go of the client without disturbing it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fdio.h"
#include "device/dma.h"
#include "migration/migration.h"
#include "server/conn.h"
#include "host/handover.h"
#include "host/mgmt.h"

/* The record under construction and the fds it names. */
struct hov_out {
    uint8_t *buf;
    size_t len;
    int *fds;
    unsigned nr_fds, cap_fds;
    unsigned nr_sections;
    int err;
};

static void *
out_reserve(struct hov_out *o, size_t n)
{
    size_t need = o->len + n;
    uint8_t *p;

    if (o->err)
        return NULL;
    if (need > HOV_MAX_RECORD) {
        o->err = -EFBIG;
        return NULL;
    }
    if (need > talloc_get_size(o->buf)) {
        size_t cap = talloc_get_size(o->buf) * 2;
        if (cap < need)
            cap = need;
        p = talloc_realloc_size(NULL, o->buf, cap);
        if (!p) {
            o->err = -ENOMEM;
            return NULL;
        }
        o->buf = p;
    }
    p = o->buf + o->len;
    memset(p, 0, n);
    o->len += n;
    return p;
}

static void
out_put(struct hov_out *o, const void *data, size_t n)
{
    void *p = out_reserve(o, n);

    if (p && n)
        memcpy(p, data, n);
}

/* Returns the table index of fd (HOV_NO_FD for -1). */
static uint32_t
out_fd(struct hov_out *o, int fd)
{
    if (fd < 0 || o->err)
        return HOV_NO_FD;
    if (o->nr_fds == o->cap_fds) {
        unsigned cap = o->cap_fds ? 2 * o->cap_fds : 64;
        int *p;
        if (cap > HOV_MAX_FDS) {
            o->err = -EMFILE;
            return HOV_NO_FD;
        }
        p = talloc_realloc(o->buf, o->fds, int, cap);
        if (!p) {
            o->err = -ENOMEM;
            return HOV_NO_FD;
        }
        o->fds = p;
        o->cap_fds = cap;
    }
    o->fds[o->nr_fds] = fd;
    return o->nr_fds++;
}

/* Opens a section; sect_end() fills in its length and pads it. */
static size_t
sect_begin(struct hov_out *o, uint32_t type, uint32_t flags)
{
    struct hov_sect s = {.type = type, .flags = flags};

    out_put(o, &s, sizeof(s));
    o->nr_sections++;
    return o->len;
}

static void
sect_end(struct hov_out *o, size_t start)
{
    struct hov_sect s;
    size_t pad = (8 - (o->len - start) % 8) % 8;

    if (o->err)
        return;
    memcpy(&s, o->buf + start - sizeof(s), sizeof(s));
    s.len = o->len - start;
    memcpy(o->buf + start - sizeof(s), &s, sizeof(s));
    out_reserve(o, pad);
}

static void
put_sockets(struct hov_out *o, struct vdev_dev *dev)
{
    const char *path = dev->srv->socket_path ? dev->srv->socket_path : "";
    const char *mgmt = NULL;
    int mgmt_fd = vdev_mgmt_export(dev, &mgmt);
    struct hov_sockets s = {0};
    size_t start = sect_begin(o, HOV_SECT_SOCKETS, 0);

    if (!mgmt)
        mgmt = "";
    s.listen_fd = out_fd(o, dev->srv->listen_fd);
    s.mgmt_fd = out_fd(o, mgmt_fd);
    s.path_len = (uint16_t)strnlen(path, HOV_MAX_PATH);
    s.mgmt_len = (uint16_t)strnlen(mgmt, HOV_MAX_PATH);
    out_put(o, &s, sizeof(s));
    out_put(o, path, s.path_len);
    out_put(o, mgmt, s.mgmt_len);
    sect_end(o, start);
}

static void
put_conn(struct hov_out *o, struct vdev_conn *c)
{
    struct hov_conn h = {0};
    struct hov_input in = {0};
    struct vdev_conn_backlog b;
    size_t start = sect_begin(o, HOV_SECT_CONN, 0);

    h.fd = out_fd(o, c->fd);
    h.twin_fd = out_fd(o, c->twin_fd);
    h.major = c->major;
    h.minor = c->minor;
    h.peer_max_msg_fds = c->peer_max_msg_fds;
    h.peer_max_data_xfer = c->peer_max_data_xfer;
    h.negotiated = c->negotiated;
    h.write_multi = c->write_multi;
    h.qemu_dma_layout = c->dma_layout == VDEV_DMA_LAYOUT_QEMU;
    h.dma_layout_unknown = c->dma_layout == VDEV_DMA_LAYOUT_AUTO;
    h.next_msg_id = c->next_msg_id;
    out_put(o, &h, sizeof(h));
    sect_end(o, start);

    vdev_conn_backlog(c, &b);
    start = sect_begin(o, HOV_SECT_INPUT, 0);
    in.len = b.in_len;
    in.skip = b.skip;
    in.nr_fds = b.nr_fds;
    in.fds_lost = b.fds_lost;
    in.fds_msg_end = b.fds_msg_end;
    for (unsigned i = 0; i < b.nr_fds; i++)
        in.fds[i] = out_fd(o, b.fds[i]);
    out_put(o, &in, sizeof(in));
    out_put(o, b.in, b.in_len);
    sect_end(o, start);

    start = sect_begin(o, HOV_SECT_OUTPUT, 0);
    out_put(o, b.out, b.out_len);
    sect_end(o, start);
}

static void
put_dma(struct hov_out *o, struct vdev_conn *c)
{
    struct hov_dma d = {.nr_maps = c->dma.nr_maps, .next_id = c->dma.next_id};
    size_t start = sect_begin(o, HOV_SECT_DMA, 0);

    out_put(o, &d, sizeof(d));
    for (unsigned i = 0; i < c->dma.nr_maps; i++) {
        const struct vdev_dma_map *m = c->dma.maps[i];
        struct hov_map h = {
            .iova = m->iova,
            .size = m->size,
            .offset = m->offset,
            .prot = m->prot,
            .fd = out_fd(o, m->fd),
        };
        out_put(o, &h, sizeof(h));
    }
    sect_end(o, start);
}

static void
put_irqs(struct hov_out *o, struct vdev_dev *dev)
{
    size_t start = sect_begin(o, HOV_SECT_IRQ, 0);

    for (unsigned i = 0; i < VDEV_NR_IRQ_INDEXES; i++) {
        const struct vdev_irq_index *x = &dev->irqs.index[i];
        struct hov_irq_index h = {.count = x->count};

        out_put(o, &h, sizeof(h));
        for (unsigned v = 0; v < x->count; v++) {
            struct hov_irq_vector iv = {
                .trigger_fd = out_fd(o, x->trigger_fd[v]),
                .mask_fd = out_fd(o, x->mask_fd[v]),
                .unmask_fd = out_fd(o, x->unmask_fd[v]),
                .masked = x->masked[v],
                .pending = x->pending[v],
            };
            out_put(o, &iv, sizeof(iv));
        }
    }
    sect_end(o, start);
}

/* BAR memory the client may have mapped: the successor must serve the
 * same pages, not a copy. */
static void
put_regions(struct hov_out *o, struct vdev_dev *dev)
{
    size_t start = sect_begin(o, HOV_SECT_REGIONS, 0);
    uint32_t n = 0;
    size_t count_at = o->len;

    out_put(o, &n, sizeof(n));
    for (unsigned i = 0; i < VDEV_MAX_REGIONS; i++) {
        const struct vdev_region *r = &dev->regions[i];
        struct hov_region h;

        if (!r->present || r->mem_fd < 0)
            continue;
        h = (struct hov_region){
            .index = i, .fd = out_fd(o, r->mem_fd), .size = r->size};
        out_put(o, &h, sizeof(h));
        n++;
    }
    if (!o->err)
        memcpy(o->buf + count_at, &n, sizeof(n));
    sect_end(o, start);
}

static void
put_state(struct hov_out *o, struct vdev_dev *dev)
{
    uint8_t *stream = NULL;
    size_t len = 0, start;
    int rc = vdev_mig_stream_save(dev, o->buf, &stream, &len);

    if (rc < 0) {
        if (!o->err)
            o->err = rc;
        return;
    }
    start = sect_begin(o, HOV_SECT_STATE, 0);
    out_put(o, stream, len);
    sect_end(o, start);
    talloc_free(stream);

    start = sect_begin(o, HOV_SECT_STATS, HOV_SECT_OPTIONAL);
    out_put(o, &dev->stats, sizeof(dev->stats));
    sect_end(o, start);
}

static void
put_clock(struct hov_out *o, struct vdev_dev *dev)
{
    struct hov_clock h = {.virt_host = dev->clock.virt_host, .is_virtual = 1};
    size_t start;

    if (!dev->clock.is_virtual)
        return; /* the real clock needs nothing: both ends read it */
    start = sect_begin(o, HOV_SECT_CLOCK, 0);
    out_put(o, &h, sizeof(h));
    sect_end(o, start);
}

static void
put_streams(struct hov_out *o, struct vdev_dev *dev)
{
    uint32_t n = 0;
    size_t start, count_at;

    for (unsigned i = 0; i < dev->nr_streams; i++) {
        struct vdev_stream_ep ep;
        if (vdev_stream_ep_get(dev, i, &ep) == 0)
            n++;
    }
    if (!n)
        return;
    start = sect_begin(o, HOV_SECT_STREAMS, 0);
    count_at = o->len;
    out_put(o, &n, sizeof(n));
    out_reserve(o, 4); /* records start 8-aligned */
    for (unsigned i = 0; i < dev->nr_streams; i++) {
        const char *name = dev->streams[i]->name;
        struct vdev_stream_ep ep;
        struct hov_stream h;

        if (vdev_stream_ep_get(dev, i, &ep) < 0)
            continue;
        h = (struct hov_stream){
            .id = i,
            .kind = ep.kind,
            .listen_fd = out_fd(o, ep.listen_fd),
            .in_fd = out_fd(o, ep.in_fd),
            /* one fd both ways travels once */
            .out_fd = ep.out_fd == ep.in_fd ? HOV_NO_FD : out_fd(o, ep.out_fd),
            .hold_fd = out_fd(o, ep.hold_fd),
            .name_len = (uint16_t)strlen(name),
            .where_len = (uint16_t)strlen(ep.where),
            .path_len = ep.path ? (uint16_t)strnlen(ep.path, HOV_MAX_PATH) : 0,
            .in_eof = ep.in_eof,
        };
        out_put(o, &h, sizeof(h));
        out_put(o, name, h.name_len);
        out_put(o, ep.where, h.where_len);
        out_put(o, ep.path, h.path_len);
        out_reserve(
            o,
            (8 - (sizeof(h) + h.name_len + h.where_len + h.path_len) % 8) % 8);
    }
    if (!o->err)
        memcpy(o->buf + count_at, &n, sizeof(n));
    sect_end(o, start);
}

/* The bitmaps a migration's dirty logging has gathered so far. */
static void
put_dirty(struct hov_out *o, struct vdev_conn *c)
{
    struct vdev_migration *mig = c->dev->mig;
    struct hov_dirty d = {
        .gen = mig->log_gen,
        .nr_ranges = mig->nr_log_ranges,
        .pgsize = c->dma.log_pgsize,
    };
    size_t start = sect_begin(o, HOV_SECT_DIRTY, 0);

    out_put(o, &d, sizeof(d));
    out_put(o, mig->log_ranges, d.nr_ranges * sizeof(*mig->log_ranges));
    for (unsigned i = 0; i < c->dma.nr_maps; i++) {
        const struct vdev_dma_map *m = c->dma.maps[i];
        uint64_t n = m->dirty ? talloc_get_size(m->dirty) : 0;

        out_put(o, &n, sizeof(n));
        out_put(o, m->dirty, n);
    }
    sect_end(o, start);
}

/* Why this device cannot be handed over now, or 0. A migration may only
 * be logging dirty pages (its device running): that travels; one that
 * holds the device stopped or is moving its state does not. */
static int
check_ready(struct vdev_dev *dev)
{
    struct vdev_migration *mig = dev->mig;

    if (!mig)
        return -ENOTSUP; /* no migration desc: its state cannot travel */
    if (dev->srv->conn && dev->srv->conn->mem)
        return -EOPNOTSUPP; /* a memory client has no socket to pass on */
    vdev_mig_release_idle(mig);
    if (mig->state != VFIO_DEVICE_STATE_RUNNING ||
        (mig->gen != VDEV_MIG_NONE &&
         !(dev->srv->conn && vdev_mig_logging(dev))))
        return -EBUSY;
    if (dev->srv->listen_fd < 0)
        return -ENOTCONN;
    return 0;
}

static int
build_record(struct vdev_dev *dev, struct hov_out *o)
{
    int rc = check_ready(dev);

    if (rc < 0)
        return rc;
    o->buf = talloc_size(NULL, 4096);
    if (!o->buf)
        return -ENOMEM;
    put_sockets(o, dev);
    if (dev->srv->conn) {
        put_conn(o, dev->srv->conn);
        put_dma(o, dev->srv->conn);
        if (vdev_mig_logging(dev))
            put_dirty(o, dev->srv->conn);
    }
    put_irqs(o, dev);
    put_regions(o, dev);
    put_clock(o, dev);
    put_state(o, dev);
    put_streams(o, dev);
    return o->err;
}

/* ------------------------------------------------------------ channel */

/* One packet (SOCK_SEQPACKET: all of it or nothing) with its fds. */
static int
send_pkt(int sock, const void *buf, size_t len, const int *fds, unsigned nr,
         int64_t deadline, int cancel_fd)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};

    return vdev_send_all(sock, &iov, 1, fds, nr, deadline, cancel_fd);
}

/* cancel_fd: the stop eventfd, so SIGTERM ends a stuck hand-over (the
 * successor is killed and this server stops as asked). */
static int
send_record(int sock, const struct hov_out *o, int64_t deadline, int cancel_fd)
{
    struct hov_head h = {
        .version = HOV_VERSION,
        .head_size = sizeof(h),
        .record_len = o->len,
        .nr_fds = o->nr_fds,
        .nr_sections = o->nr_sections,
    };
    int rc;

    memcpy(h.magic, HOV_MAGIC, sizeof(h.magic));
    if ((rc = send_pkt(sock, &h, sizeof(h), NULL, 0, deadline, cancel_fd)) < 0)
        return rc;
    for (unsigned i = 0; i < o->nr_fds; i += HOV_FDS_PER_PKT) {
        struct hov_fds f = {.first = i, .count = o->nr_fds - i};
        if (f.count > HOV_FDS_PER_PKT)
            f.count = HOV_FDS_PER_PKT;
        rc = send_pkt(sock, &f, sizeof(f), o->fds + i, f.count, deadline,
                      cancel_fd);
        if (rc < 0)
            return rc;
    }
    for (size_t off = 0; off < o->len; off += HOV_DATA_PKT) {
        size_t n = o->len - off < HOV_DATA_PKT ? o->len - off : HOV_DATA_PKT;
        if ((rc = send_pkt(sock, o->buf + off, n, NULL, 0, deadline,
                           cancel_fd)) < 0)
            return rc;
    }
    return 0;
}

static int
wait_ack(int sock, pid_t child, int64_t deadline, int cancel_fd)
{
    struct hov_ack a;
    ssize_t n;
    int rc;

    if ((rc = vdev_wait_fd(sock, POLLIN, deadline, cancel_fd)) < 0)
        return rc;
    do {
        n = recv(sock, &a, sizeof(a), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -ECONNRESET; /* exited without acknowledging */
    if (n != sizeof(a) || memcmp(a.magic, HOV_ACK_MAGIC, sizeof(a.magic)) ||
        (pid_t)a.pid != child)
        return -EPROTO;
    if (a.status > 0 || a.status < -4095)
        return -EPROTO;
    return a.status;
}

static const char *
level_name(enum vdev_log_level l)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};

    return (unsigned)l < 4 ? names[l] : "warn";
}

/* The successor: binary --handover-fd=N --log-level=L, stdio inherited. */
static pid_t
spawn(const char *binary, int child_end, enum vdev_log_level level)
{
    char fdarg[32], lvarg[32];
    pid_t pid;

    snprintf(fdarg, sizeof(fdarg), "--handover-fd=%d", child_end);
    snprintf(lvarg, sizeof(lvarg), "--log-level=%s", level_name(level));
    pid = fork();
    if (pid != 0)
        return pid;
    /* Only this fd crosses exec; everything of ours is close-on-exec. */
    if (fcntl(child_end, F_SETFD, 0) < 0)
        _exit(127);
    execl(binary, binary, fdarg, lvarg, (char *)NULL);
    _exit(127);
}

/* The successor owns the sockets now: forget them here without closing
 * anything the client sees and without removing socket files. */
static void
let_go(struct vdev_dev *dev)
{
    talloc_free(dev->srv->conn); /* only our copies of the fds */
    if (dev->srv->listen_fd >= 0) {
        epoll_ctl(dev->srv->epoll_fd, EPOLL_CTL_DEL, dev->srv->listen_fd, NULL);
        close(dev->srv->listen_fd);
        dev->srv->listen_fd = -1;
    }
    TALLOC_FREE(dev->srv->socket_path);
    vdev_mgmt_disown(dev);
    vdev_streams_disown(dev);
    vdev_stop(dev);
}

int
vdev_upgrade(struct vdev_dev *dev, const char *binary, pid_t *pid_out)
{
    struct hov_out o = {0};
    int64_t deadline;
    int sv[2], rc;
    pid_t pid;

    if (!dev || !binary || !*binary)
        return -EINVAL;
    if (access(binary, X_OK) < 0)
        return -errno;
    if ((rc = build_record(dev, &o)) < 0)
        goto out;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        rc = -errno;
        goto out;
    }
    pid = spawn(binary, sv[1], dev->log.max);
    close(sv[1]);
    if (pid < 0) {
        rc = -errno;
        close(sv[0]);
        goto out;
    }
    deadline = vdev_now_ms() + HOV_TIMEOUT_MS;
    rc = send_record(sv[0], &o, deadline, dev->srv->stop_fd);
    if (rc == 0)
        rc = wait_ack(sv[0], pid, deadline, dev->srv->stop_fd);
    close(sv[0]);
    if (rc < 0) {
        /* Aborted: the successor never touched the client; we go on. */
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        VDEV_LOG(dev, VDEV_LOG_WARN, "hand-over to %s failed: %s", binary,
                 strerror(-rc));
        goto out;
    }
    VDEV_LOG(dev, VDEV_LOG_INFO, "handed over to %s (pid %d)", binary,
             (int)pid);
    let_go(dev);
    dev->srv->successor = pid;
    if (pid_out)
        *pid_out = pid;
out:
    talloc_free(o.buf);
    return rc;
}

pid_t
vdev_handover_successor(const struct vdev_dev *dev)
{
    return dev->srv->successor;
}
