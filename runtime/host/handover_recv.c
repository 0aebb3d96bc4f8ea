/* Seamless upgrade, the successor's side: receive the hand-over record
 * (handover.h) and its fds, validate all of it as hostile input, install
 * the sockets, connection, DMA maps, IRQ fds and device state, and
 * acknowledge. Until the acknowledgement nothing is touched that the old
 * server or the client could notice. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fdio.h"
#include "base/fdkind.h"
#include "device/dma.h"
#include "device/irq.h"
#include "migration/migration.h"
#include "server/conn.h"
#include "host/handover.h"
#include "host/mgmt.h"

/* The received fd table: entries are set to -1 as they are taken. */
struct hov_in {
    int *fds;
    uint32_t nr_fds;
    const uint8_t *rec;
    uint64_t len;
    /* sections, once each (NULL if absent) */
    const uint8_t *sect[HOV_SECT_MAX + 1];
    uint64_t sect_len[HOV_SECT_MAX + 1];
};

static int
take_fd(struct hov_in *in, uint32_t slot, int *out)
{
    if (slot == HOV_NO_FD) {
        *out = -1;
        return 0;
    }
    if (slot >= in->nr_fds || in->fds[slot] < 0)
        return -EBADF; /* out of the table, or named twice */
    *out = in->fds[slot];
    in->fds[slot] = -1;
    return 0;
}

/* An interrupt fd: signalled by the loop, so an eventfd like any a
 * client's SET_IRQS brings. On error *out is set all the same (and closed
 * with the index). */
static int
take_eventfd(struct hov_in *in, uint32_t slot, int *out)
{
    int rc = take_fd(in, slot, out);

    if (rc == 0 && *out >= 0 && vdev_fd_check_eventfd(*out) < 0)
        return -EPROTO;
    return rc;
}

/* ------------------------------------------------------------ channel */

/* One packet into buf (at most cap bytes; longer ones fail). fds, if not
 * NULL, gets up to max_fds received fds (*nr_fds their number); more, or
 * fds the kernel could not pass, fail the packet. fds of a packet that
 * expects none are closed. */
static ssize_t
recv_pkt(int sock, void *buf, size_t cap, int *fds, unsigned max_fds,
         unsigned *nr_fds, int64_t deadline, int cancel_fd)
{
    struct vdev_fds_in in = {.fds = fds, .max = fds ? max_fds : 0};
    ssize_t n;

    if (nr_fds)
        *nr_fds = 0;
    do {
        int rc = vdev_wait_fd(sock, POLLIN, deadline, cancel_fd);

        if (rc < 0)
            return rc;
        n = vdev_recv_fds(sock, buf, cap, MSG_DONTWAIT, fds ? &in : NULL);
    } while (n == -EAGAIN);
    if (n == -EMSGSIZE || (n >= 0 && in.lost)) {
        vdev_close_fds(in.fds, in.nr);
        return -EPROTO;
    }
    if (n < 0)
        return n;
    if (nr_fds)
        *nr_fds = in.nr;
    return n == 0 ? -ECONNRESET : n;
}

/* cancel_fd: the stop eventfd, so SIGTERM ends the wait. */
static int
recv_record(int sock, void *ctx, struct hov_in *in, int cancel_fd)
{
    int64_t deadline = vdev_now_ms() + HOV_TIMEOUT_MS;
    struct hov_head h;
    uint8_t *rec;
    uint64_t got = 0;
    ssize_t n;

    n = recv_pkt(sock, &h, sizeof(h), NULL, 0, NULL, deadline, cancel_fd);
    if (n < 0)
        return (int)n;
    if ((size_t)n != sizeof(h) || memcmp(h.magic, HOV_MAGIC, 8) ||
        h.head_size != sizeof(h))
        return -EPROTO;
    if (h.version != HOV_VERSION)
        return -EPROTONOSUPPORT;
    if (h.record_len == 0 || h.record_len > HOV_MAX_RECORD ||
        h.nr_fds > HOV_MAX_FDS)
        return -EPROTO;
    in->fds = talloc_array(ctx, int, h.nr_fds ? h.nr_fds : 1);
    rec = talloc_size(ctx, h.record_len);
    if (!in->fds || !rec)
        return -ENOMEM;
    while (in->nr_fds < h.nr_fds) {
        struct hov_fds f;
        unsigned k;
        n = recv_pkt(sock, &f, sizeof(f), in->fds + in->nr_fds,
                     h.nr_fds - in->nr_fds, &k, deadline, cancel_fd);
        if (n < 0)
            return (int)n;
        in->nr_fds += k; /* owned by the table from here on */
        if ((size_t)n != sizeof(f) || f.first != in->nr_fds - k ||
            f.count != k || k == 0)
            return -EPROTO;
    }
    while (got < h.record_len) {
        n = recv_pkt(sock, rec + got,
                     h.record_len - got < HOV_DATA_PKT ? h.record_len - got
                                                       : HOV_DATA_PKT,
                     NULL, 0, NULL, deadline, cancel_fd);
        if (n < 0)
            return (int)n;
        got += (uint64_t)n;
    }
    in->rec = rec;
    in->len = h.record_len;
    return 0;
}

/* Splits the record into its sections. */
static int
index_sections(struct hov_in *in)
{
    uint64_t off = 0;

    while (off < in->len) {
        struct hov_sect s;
        uint64_t padded;

        if (in->len - off < sizeof(s))
            return -EPROTO;
        memcpy(&s, in->rec + off, sizeof(s));
        off += sizeof(s);
        if (s.len > in->len - off)
            return -EPROTO;
        padded = (s.len + 7) & ~(uint64_t)7;
        if (padded > in->len - off)
            return -EPROTO;
        if (s.type >= 1 && s.type <= HOV_SECT_MAX) {
            if (in->sect[s.type])
                return -EPROTO;
            in->sect[s.type] = in->rec + off;
            in->sect_len[s.type] = s.len;
        } else if (!(s.flags & HOV_SECT_OPTIONAL)) {
            return -EPROTONOSUPPORT;
        }
        off += padded;
    }
    if (!in->sect[HOV_SECT_SOCKETS] || !in->sect[HOV_SECT_IRQ] ||
        !in->sect[HOV_SECT_REGIONS] || !in->sect[HOV_SECT_STATE])
        return -EPROTO;
    /* A connection comes whole or not at all. */
    if (!in->sect[HOV_SECT_CONN] != !in->sect[HOV_SECT_INPUT] ||
        !in->sect[HOV_SECT_CONN] != !in->sect[HOV_SECT_OUTPUT] ||
        !in->sect[HOV_SECT_CONN] != !in->sect[HOV_SECT_DMA] ||
        (in->sect[HOV_SECT_DIRTY] && !in->sect[HOV_SECT_CONN]))
        return -EPROTO;
    return 0;
}

/* ------------------------------------------------------------ install */

/* Client-mappable BAR memory: map the old server's memfd over ours, at the
 * same address, so the model's pointers stay valid and the client keeps
 * sharing the pages. */
static int
install_regions(struct vdev_dev *dev, struct hov_in *in)
{
    const uint8_t *p = in->sect[HOV_SECT_REGIONS];
    uint64_t len = in->sect_len[HOV_SECT_REGIONS];
    uint32_t n;

    if (len < sizeof(n))
        return -EPROTO;
    memcpy(&n, p, sizeof(n));
    if (n > VDEV_MAX_REGIONS ||
        len != sizeof(n) + n * sizeof(struct hov_region))
        return -EPROTO;
    for (uint32_t i = 0; i < n; i++) {
        struct hov_region h;
        struct vdev_region *r;
        struct stat st;
        size_t maplen;
        int fd, rc;

        memcpy(&h, p + sizeof(n) + i * sizeof(h), sizeof(h));
        if (h.index >= VDEV_MAX_REGIONS)
            return -EPROTO;
        r = &dev->regions[h.index];
        if (!r->present || r->mem_fd < 0 || !r->mem || r->size != h.size)
            return -EPROTONOSUPPORT; /* not the same device layout */
        if ((rc = take_fd(in, h.fd, &fd)) < 0)
            return rc;
        if (fd < 0)
            return -EPROTO;
        maplen = r->size < 4096 ? 4096 : r->size;
        if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < maplen ||
            mmap(r->mem, maplen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                 fd, 0) == MAP_FAILED) {
            close(fd);
            return -EINVAL;
        }
        close(r->mem_fd);
        r->mem_fd = fd;
    }
    return 0;
}

static int
install_state(struct vdev_dev *dev, struct hov_in *in)
{
    if (!dev->mig)
        return -ENOTSUP;
    return vdev_mig_stream_load(dev, in->sect[HOV_SECT_STATE],
                                in->sect_len[HOV_SECT_STATE]);
}

static int
install_irqs(struct vdev_dev *dev, struct hov_in *in)
{
    const uint8_t *p = in->sect[HOV_SECT_IRQ];
    uint64_t len = in->sect_len[HOV_SECT_IRQ], off = 0;
    int rc;

    if ((rc = vdev_irqs_init(dev)) < 0)
        return rc;
    for (unsigned i = 0; i < VDEV_NR_IRQ_INDEXES; i++) {
        struct vdev_irq_index *x = &dev->irqs.index[i];
        struct hov_irq_index h;

        if (len - off < sizeof(h))
            return -EPROTO;
        memcpy(&h, p + off, sizeof(h));
        off += sizeof(h);
        if (h.count != x->count)
            return -EPROTONOSUPPORT;
        if ((len - off) / sizeof(struct hov_irq_vector) < h.count)
            return -EPROTO;
        for (unsigned v = 0; v < h.count; v++) {
            struct hov_irq_vector iv;
            memcpy(&iv, p + off, sizeof(iv));
            off += sizeof(iv);
            if (iv.masked > 1 || iv.pending > 1)
                return -EPROTO;
            if ((rc = take_eventfd(in, iv.trigger_fd, &x->trigger_fd[v])) < 0 ||
                (rc = take_eventfd(in, iv.mask_fd, &x->mask_fd[v])) < 0 ||
                (rc = take_eventfd(in, iv.unmask_fd, &x->unmask_fd[v])) < 0)
                return rc;
            x->masked[v] = iv.masked;
            x->pending[v] = iv.pending;
        }
    }
    return off == len ? 0 : -EPROTO;
}

static int
install_sockets(struct vdev_dev *dev, struct hov_in *in, char **path,
                char **mgmt)
{
    const uint8_t *p = in->sect[HOV_SECT_SOCKETS];
    uint64_t len = in->sect_len[HOV_SECT_SOCKETS];
    struct hov_sockets s;
    int fd, rc;

    if (len < sizeof(s))
        return -EPROTO;
    memcpy(&s, p, sizeof(s));
    if (s.path_len >= HOV_MAX_PATH || s.mgmt_len >= HOV_MAX_PATH ||
        len != sizeof(s) + s.path_len + s.mgmt_len)
        return -EPROTO;
    *path = talloc_strndup(in->fds, (const char *)p + sizeof(s), s.path_len);
    *mgmt = talloc_strndup(in->fds, (const char *)p + sizeof(s) + s.path_len,
                           s.mgmt_len);
    if (!*path || !*mgmt)
        return -ENOMEM;
    if (strlen(*path) != s.path_len || strlen(*mgmt) != s.mgmt_len)
        return -EPROTO; /* a NUL inside */
    if ((rc = take_fd(in, s.listen_fd, &fd)) < 0)
        return rc;
    if ((rc = vdev_listen_fd(dev, fd)) < 0) {
        if (dev->srv->listen_fd != fd)
            close(fd);
        return rc;
    }
    if ((rc = take_fd(in, s.mgmt_fd, &fd)) < 0)
        return rc;
    if (fd >= 0 && (rc = vdev_mgmt_adopt(dev, fd)) < 0) {
        close(fd);
        return rc;
    }
    return 0;
}

/* The bytes and fds the old server had not served, and the replies it had
 * not sent. */
static int
install_backlog(struct vdev_conn *c, struct hov_in *in)
{
    const uint8_t *p = in->sect[HOV_SECT_INPUT];
    uint64_t len = in->sect_len[HOV_SECT_INPUT];
    int fds[VDEV_MAX_MSG_FDS * 4];
    struct vdev_conn_backlog b = {0};
    struct hov_input h;
    int rc = 0;

    if (len < sizeof(h))
        return -EPROTO;
    memcpy(&h, p, sizeof(h));
    if (h.len > HOV_MAX_INPUT || len != sizeof(h) + h.len ||
        h.skip > UINT32_MAX || h.nr_fds > VDEV_MAX_MSG_FDS * 4 ||
        h.fds_lost > 1 || (h.skip && h.len))
        return -EPROTO;
    /* Pending fds belong to the partial message the bytes end with. */
    if (h.nr_fds && (h.fds_msg_end == 0 || h.fds_msg_end > h.len))
        return -EPROTO;
    if (in->sect_len[HOV_SECT_OUTPUT] > HOV_MAX_OUTPUT)
        return -EPROTO;
    for (unsigned i = 0; i < h.nr_fds && rc == 0; i++) {
        if ((rc = take_fd(in, h.fds[i], &fds[i])) < 0)
            break;
        b.nr_fds = i + 1;
        if (fds[i] < 0)
            rc = -EPROTO;
    }
    b.in = p + sizeof(h);
    b.in_len = h.len;
    b.skip = h.skip;
    b.fds = fds;
    b.fds_lost = h.fds_lost;
    b.fds_msg_end = h.fds_msg_end;
    b.out = in->sect[HOV_SECT_OUTPUT];
    b.out_len = in->sect_len[HOV_SECT_OUTPUT];
    if (rc < 0) {
        vdev_close_fds(fds, b.nr_fds);
        return rc;
    }
    return vdev_conn_restore(c, &b);
}

static int
install_dma(struct vdev_conn *c, struct hov_in *in)
{
    const uint8_t *p = in->sect[HOV_SECT_DMA];
    uint64_t len = in->sect_len[HOV_SECT_DMA];
    struct hov_dma d;
    int rc;

    if (len < sizeof(d))
        return -EPROTO;
    memcpy(&d, p, sizeof(d));
    if (d.nr_maps > VDEV_MAX_DMA_MAPS ||
        len != sizeof(d) + (uint64_t)d.nr_maps * sizeof(struct hov_map))
        return -EPROTO;
    for (uint32_t i = 0; i < d.nr_maps; i++) {
        struct hov_map m;
        int fd;

        memcpy(&m, p + sizeof(d) + i * sizeof(m), sizeof(m));
        if ((rc = take_fd(in, m.fd, &fd)) < 0)
            return rc;
        /* Validates like a DMA_MAP from the client; owns fd either way. */
        if ((rc = vdev_dma_add(&c->dma, m.iova, m.size, fd, m.offset, m.prot)) <
            0)
            return rc;
    }
    c->dma.next_id = d.next_id;
    return 0;
}

/* Restarts the migration's logging on the installed maps, then puts the
 * bits gathered so far back. */
static int
install_dirty(struct vdev_conn *c, struct hov_in *in)
{
    const uint8_t *p = in->sect[HOV_SECT_DIRTY];
    uint64_t len = in->sect_len[HOV_SECT_DIRTY], off;
    struct vdev_log_range *ranges = NULL;
    struct hov_dirty d;
    int rc;

    if (len < sizeof(d))
        return -EPROTO;
    memcpy(&d, p, sizeof(d));
    if ((d.gen != VDEV_MIG_V1 && d.gen != VDEV_MIG_V2) ||
        d.nr_ranges > VDEV_MIG_MAX_LOG_RANGES ||
        (len - sizeof(d)) / sizeof(*ranges) < d.nr_ranges)
        return -EPROTO;
    off = sizeof(d) + d.nr_ranges * sizeof(*ranges);
    if (d.nr_ranges) {
        ranges = talloc_array(in->fds, struct vdev_log_range, d.nr_ranges);
        if (!ranges)
            return -ENOMEM;
        memcpy(ranges, p + sizeof(d), d.nr_ranges * sizeof(*ranges));
        /* As LOGGING_START left them: sorted, non-empty, disjoint. */
        for (unsigned i = 0; i < d.nr_ranges; i++) {
            const struct vdev_log_range *g = &ranges[i];
            if (!g->length || g->iova + g->length - 1 < g->iova ||
                (i && g->iova - g[-1].iova < g[-1].length))
                return -EPROTO;
        }
    }
    /* Checks pgsize and ranges as a client's LOGGING_START would be. */
    rc = vdev_mig_log_start(c->dev, (enum vdev_mig_generation)d.gen, d.pgsize,
                            ranges, d.nr_ranges);
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < c->dma.nr_maps; i++) {
        struct vdev_dma_map *m = c->dma.maps[i];
        uint64_t n, want = m->dirty ? talloc_get_size(m->dirty) : 0;

        if (len - off < sizeof(n))
            return -EPROTO;
        memcpy(&n, p + off, sizeof(n));
        off += sizeof(n);
        if (n != want || len - off < n)
            return -EPROTO;
        if (n)
            memcpy(m->dirty, p + off, n);
        off += n;
    }
    return off == len ? 0 : -EPROTO;
}

static int
install_conn(struct vdev_dev *dev, struct hov_in *in)
{
    struct hov_conn h;
    struct vdev_conn *c;
    int fd, rc;

    if (in->sect_len[HOV_SECT_CONN] != sizeof(h))
        return -EPROTO;
    memcpy(&h, in->sect[HOV_SECT_CONN], sizeof(h));
    /* The peer's limits are any uint32 a VERSION may carry: kept as is. */
    if (h.negotiated > 1 || h.write_multi > 1 || h.qemu_dma_layout > 1 ||
        h.dma_layout_unknown > 1)
        return -EPROTO;
    if ((rc = take_fd(in, h.fd, &fd)) < 0)
        return rc;
    if (fd < 0)
        return -EPROTO;
    if ((rc = vdev_conn_adopt(dev, fd)) < 0)
        return rc;
    c = dev->srv->conn;
    if ((rc = take_fd(in, h.twin_fd, &c->twin_fd)) < 0)
        return rc;
    c->negotiated = h.negotiated;
    c->major = h.major;
    c->minor = h.minor;
    c->peer_max_msg_fds = h.peer_max_msg_fds;
    c->peer_max_data_xfer = h.peer_max_data_xfer;
    c->write_multi = h.write_multi;
    c->next_msg_id = h.next_msg_id;
    /* The client's DMA layout as the predecessor knew it; new clients get
     * this server's own setting. */
    c->dma_layout = h.dma_layout_unknown ? VDEV_DMA_LAYOUT_AUTO
                    : h.qemu_dma_layout  ? VDEV_DMA_LAYOUT_QEMU
                                         : VDEV_DMA_LAYOUT_SPEC;
    if ((rc = install_backlog(c, in)) < 0 || (rc = install_dma(c, in)) < 0)
        return rc;
    if (in->sect[HOV_SECT_DIRTY] && (rc = install_dirty(c, in)) < 0)
        return rc;
    return 0;
}

/* The loop serves handed-over input only after a read: start it through
 * the output path instead, which flushes, then serves the buffer. */
static int
kick_conn(struct vdev_dev *dev)
{
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = VDEV_EV_CONN};

    if (!dev->srv->conn)
        return 0;
    dev->srv->conn->out_blocked = true;
    return epoll_ctl(dev->srv->epoll_fd, EPOLL_CTL_MOD, dev->srv->conn->fd,
                     &ev) < 0
               ? -errno
               : 0;
}

static int
send_ack(int sock, int status)
{
    struct hov_ack a = {.status = status, .pid = (uint32_t)getpid()};
    ssize_t n;

    memcpy(a.magic, HOV_ACK_MAGIC, sizeof(a.magic));
    do {
        n = send(sock, &a, sizeof(a), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(a) ? 0 : -ECONNRESET;
}

static int
install(struct vdev_dev *dev, struct hov_in *in, char **path, char **mgmt)
{
    int rc;

    /* Device state first, while no IRQ fd is installed: whatever the
     * load raises was delivered by the old server already. */
    if ((rc = install_regions(dev, in)) < 0 ||
        (rc = install_state(dev, in)) < 0)
        return rc;
    if ((rc = install_sockets(dev, in, path, mgmt)) < 0)
        return rc;
    if (in->sect[HOV_SECT_CONN] && (rc = install_conn(dev, in)) < 0)
        return rc;
    if ((rc = install_irqs(dev, in)) < 0)
        return rc;
    if (in->sect[HOV_SECT_STATS] &&
        in->sect_len[HOV_SECT_STATS] == sizeof(dev->stats))
        memcpy(&dev->stats, in->sect[HOV_SECT_STATS], sizeof(dev->stats));
    return kick_conn(dev);
}

int
vdev_handover_receive(struct vdev_dev *dev, int sock)
{
    void *ctx;
    struct hov_in in = {0};
    char *path = NULL, *mgmt = NULL;
    int rc;

    if (!dev || sock < 0)
        return -EINVAL;
    if (dev->srv->listen_fd >= 0 || dev->srv->conn)
        return -EBUSY;
    ctx = talloc_new(NULL);
    if (!ctx)
        return -ENOMEM;
    rc = recv_record(sock, ctx, &in, dev->srv->stop_fd);
    if (rc == 0)
        rc = index_sections(&in);
    if (rc == 0)
        rc = install(dev, &in, &path, &mgmt);
    if (rc == 0)
        rc = send_ack(sock, 0);
    if (rc == 0) {
        /* Ours now: removed when we stop. */
        if (*path && !(dev->srv->socket_path = talloc_strdup(dev, path)))
            VDEV_LOG(dev, VDEV_LOG_WARN, "hand-over: socket path lost");
        if (*mgmt)
            vdev_mgmt_own_path(dev, mgmt);
        VDEV_LOG(dev, VDEV_LOG_INFO, "hand-over received: %u fds, %llu bytes",
                 in.nr_fds, (unsigned long long)in.len);
    } else {
        send_ack(sock, rc);
        VDEV_LOG(dev, VDEV_LOG_ERROR, "hand-over refused: %s", strerror(-rc));
    }
    for (uint32_t i = 0; i < in.nr_fds; i++)
        if (in.fds[i] >= 0)
            close(in.fds[i]);
    close(sock);
    talloc_free(ctx);
    return rc;
}
