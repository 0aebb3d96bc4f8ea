/* Fault tests against a real model server (vdev-edu): a client vanishes at
 * every message boundary of a scripted session and in the middle of every
 * message (fds in flight too), mid-migration included; the next client is
 * served, the device state is intact and the server's fds return to their
 * baseline. Silent and slow clients cannot delay SIGTERM.
 *
 * What a disconnect mid-migration leaves (runtime/migration.c,
 * vdev_migration_conn_gone): the migration *state* survives, a half-done
 * data transfer does not. PRE_COPY returns to RUNNING; STOP_COPY stays,
 * with the stream taken again so the next client reads it from byte 0;
 * RESUMING stays with the partial input dropped, so the next client's whole
 * stream loads; STOP stays (a migrated-away source must not run on its
 * own). The next client's MIG_DEVICE_STATE RUNNING (or DEVICE_RESET)
 * returns the device to RUNNING. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "model_server.h"
#include "rawsock.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define LIVENESS 0x04
#define FACT 0x08
#define IRQ_STATUS 0x24
#define DMA_SRC 0x80
#define DMA_DST 0x88
#define DMA_COUNT 0x90
#define DMA_CMD 0x98
#define DMA_BUF 0x40000
#define IOVA 0x100000ull
#define RAM_SIZE 0x10000u
#define DMA_LEN 64u

#define MAX_STEPS 24
#define HDR ((uint32_t)sizeof(struct vfio_user_header))

/* One scripted message: its bytes, its fds, and the migration state the
 * device is in once it was served and its client then vanished. */
struct step {
    uint8_t *msg;
    size_t len;
    int fds[2];
    unsigned nr_fds;
    uint32_t state_after;
};

struct script {
    struct step s[MAX_STEPS];
    unsigned n;
};

static struct model_server srv;
static void *ctx;
static int ram_fd = -1, irq_fd[2] = {-1, -1};
static int base_fds;

/* ------------------------------------------------------------ helpers */

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

/* The server tears a vanished client down on its next loop: wait for it. */
static int
settled_fds(int want)
{
    int n = proc_fds(srv.pid);

    for (int i = 0; i < 300 && n != want; i++) {
        usleep(10000);
        n = proc_fds(srv.pid);
    }
    return n;
}

static void
add(struct script *sc, uint16_t cmd, const void *payload, size_t len,
    const int *fds, unsigned nr_fds, uint32_t state_after)
{
    struct step *st = &sc->s[sc->n++];
    struct vfio_user_header h = {
        .msg_id = (uint16_t)(sc->n + 100),
        .cmd = cmd,
        .msg_size = (uint32_t)(HDR + len),
    };

    cr_assert_leq(sc->n, MAX_STEPS);
    st->msg = talloc_size(ctx, HDR + len);
    memcpy(st->msg, &h, HDR);
    if (len)
        memcpy(st->msg + HDR, payload, len);
    st->len = HDR + len;
    st->nr_fds = nr_fds;
    for (unsigned i = 0; i < nr_fds; i++)
        st->fds[i] = fds[i];
    st->state_after = state_after;
}

static void
add_version(struct script *sc)
{
    static const char json[] = "{\"capabilities\":{\"max_msg_fds\":8}}";
    uint8_t p[sizeof(struct vfio_user_version) + sizeof(json)];
    struct vfio_user_version v = {.major = 0, .minor = 1};

    memcpy(p, &v, sizeof(v));
    memcpy(p + sizeof(v), json, sizeof(json));
    add(sc, VFIO_USER_VERSION, p, sizeof(p), NULL, 0,
        VFIO_DEVICE_STATE_RUNNING);
}

static void
add_write64(struct script *sc, uint64_t off, uint64_t v, uint32_t state)
{
    uint8_t p[sizeof(struct vfio_user_region_access) + 8];
    struct vfio_user_region_access a = {
        .offset = off, .region = BAR0, .count = 8};

    memcpy(p, &a, sizeof(a));
    memcpy(p + sizeof(a), &v, 8);
    add(sc, VFIO_USER_REGION_WRITE, p, sizeof(p), NULL, 0, state);
}

static void
add_write32(struct script *sc, uint64_t off, uint32_t v, uint32_t state)
{
    uint8_t p[sizeof(struct vfio_user_region_access) + 4];
    struct vfio_user_region_access a = {
        .offset = off, .region = BAR0, .count = 4};

    memcpy(p, &a, sizeof(a));
    memcpy(p + sizeof(a), &v, 4);
    add(sc, VFIO_USER_REGION_WRITE, p, sizeof(p), NULL, 0, state);
}

static void
add_mig_state(struct script *sc, uint32_t state, uint32_t after)
{
    struct {
        struct vfio_user_device_feature h;
        struct vfio_device_feature_mig_state st;
    } __attribute__((packed)) req = {
        {sizeof(req),
         VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE},
        {state, -1},
    };
    add(sc, VFIO_USER_DEVICE_FEATURE, &req, sizeof(req), NULL, 0, after);
}

static void
add_mig_read(struct script *sc, uint32_t n, uint32_t after)
{
    struct vfio_user_mig_data req = {(uint32_t)sizeof(req) + n, n};

    add(sc, VFIO_USER_MIG_DATA_READ, &req, sizeof(req), NULL, 0, after);
}

static void
add_mig_write(struct script *sc, const uint8_t *data, uint32_t n,
              uint32_t after)
{
    struct vfio_user_mig_data h = {(uint32_t)sizeof(h), n};
    uint8_t *p = talloc_size(ctx, sizeof(h) + n);

    memcpy(p, &h, sizeof(h));
    memcpy(p + sizeof(h), data, n);
    add(sc, VFIO_USER_MIG_DATA_WRITE, p, sizeof(h) + n, NULL, 0, after);
}

/* The device work every script starts with: a memfd DMA map, eventfds for
 * INTx and MSI, register writes and a DMA from guest RAM into the device. */
static void
add_session(struct script *sc)
{
    const uint32_t R = VFIO_DEVICE_STATE_RUNNING;
    struct vfio_user_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .offset = 0,
        .addr = IOVA,
        .size = RAM_SIZE,
    };
    struct vfio_irq_set set = {
        .argsz = sizeof(set),
        .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
        .start = 0,
        .count = 1,
    };

    add_version(sc);
    add(sc, VFIO_USER_DMA_MAP, &map, sizeof(map), &ram_fd, 1, R);
    set.index = VFIO_PCI_INTX_IRQ_INDEX;
    add(sc, VFIO_USER_DEVICE_SET_IRQS, &set, sizeof(set), &irq_fd[0], 1, R);
    set.index = VFIO_PCI_MSI_IRQ_INDEX;
    add(sc, VFIO_USER_DEVICE_SET_IRQS, &set, sizeof(set), &irq_fd[1], 1, R);
    add_write32(sc, LIVENESS, 0x12345678, R);
    add_write32(sc, FACT, 5, R);
    add_write64(sc, DMA_SRC, IOVA + 0x100, R);
    add_write64(sc, DMA_DST, DMA_BUF, R);
    add_write64(sc, DMA_COUNT, DMA_LEN, R);
    add_write64(sc, DMA_CMD, 1, R); /* RAM -> buffer, no interrupt */
}

/* Runs steps [0, k) on a new connection, each awaiting its reply. */
static int
run_steps(const struct script *sc, unsigned k)
{
    int fd = raw_connect(srv.sock);

    cr_assert_geq(fd, 0, "connect: %s", strerror(-fd));
    for (unsigned i = 0; i < k; i++) {
        const struct step *st = &sc->s[i];
        struct raw_reply r;

        cr_assert_eq(raw_send(fd, st->msg, st->len, st->fds, st->nr_fds), 0);
        cr_assert_eq(raw_recv(fd, &r), 0, "step %u: no reply", i);
        cr_assert_eq(r.hdr.flags & VFIO_USER_F_ERROR, 0,
                     "step %u (cmd %u): error %u", i, r.hdr.cmd,
                     r.hdr.error_no);
        raw_reply_free(&r);
    }
    return fd;
}

/* ------------------------------------------------------------ oracle */

struct snap {
    uint32_t liveness, fact, irq_status;
    uint64_t dma[4]; /* src, dst, count, cmd */
    uint8_t buf[DMA_LEN];
};

/* Registers as read, and the head of the device's DMA buffer, copied out
 * by its own engine into a scratch map (the engine's registers are put
 * back afterwards, so the device's state is as found). */
static void
take_snap(struct snap *s)
{
    const uint64_t scratch = 0x200000;
    int mfd = memfd_create("scratch", MFD_CLOEXEC);
    uint8_t *g;

    s->liveness = (uint32_t)model_rd(&srv, BAR0, LIVENESS, 4);
    s->fact = (uint32_t)model_rd(&srv, BAR0, FACT, 4);
    s->irq_status = (uint32_t)model_rd(&srv, BAR0, IRQ_STATUS, 4);
    for (unsigned i = 0; i < 4; i++)
        s->dma[i] = model_rd(&srv, BAR0, DMA_SRC + 8 * i, 8);
    cr_assert_geq(mfd, 0);
    cr_assert_eq(ftruncate(mfd, 4096), 0);
    cr_assert_eq(vdev_client_dma_map(srv.cl, scratch, 4096, mfd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
    model_wr(&srv, BAR0, DMA_SRC, 8, DMA_BUF);
    model_wr(&srv, BAR0, DMA_DST, 8, scratch);
    model_wr(&srv, BAR0, DMA_COUNT, 8, DMA_LEN);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1 | 2); /* buffer -> RAM */
    g = mmap(NULL, 4096, PROT_READ, MAP_SHARED, mfd, 0);
    cr_assert_neq(g, MAP_FAILED);
    memcpy(s->buf, g, DMA_LEN);
    munmap(g, 4096);
    close(mfd);
    cr_assert_eq(vdev_client_dma_unmap(srv.cl, scratch, 4096, 0), 0);
    /* dma_cmd takes a write only with the start bit (as QEMU's edu): an
     * empty transfer puts its other bits back. */
    cr_assert_eq(s->dma[3] & 5, 0, "dma_cmd 0x%llx",
                 (unsigned long long)s->dma[3]);
    model_wr(&srv, BAR0, DMA_COUNT, 8, 0);
    model_wr(&srv, BAR0, DMA_CMD, 8, s->dma[3] | 1);
    for (unsigned i = 0; i < 3; i++)
        model_wr(&srv, BAR0, DMA_SRC + 8 * i, 8, s->dma[i]);
}

static struct snap ref;
static uint8_t *ref_stream;
static size_t ref_len;

/* A new client is served, finds the migration state the disconnect rules
 * promise, brings the device back to RUNNING the way a VMM would, and reads
 * the registers back as they were. */
static void
check_next_client(uint32_t want_state, const char *what)
{
    uint32_t st = 0;
    struct snap now;

    model_server_attach(&srv);
    cr_assert_eq(vdev_client_mig_get_state(srv.cl, &st), 0);
    cr_assert_eq(st, want_state, "%s: state %u, want %u", what, st, want_state);
    if (st == VFIO_DEVICE_STATE_STOP_COPY) {
        /* The stream starts over, whole, for the new client. */
        uint8_t *buf;
        size_t len;
        cr_assert_eq(vdev_client_mig_save(srv.cl, ctx, &buf, &len), 0);
        cr_assert_eq(len, ref_len, "%s: stream of %zu bytes, want %zu", what,
                     len, ref_len);
        cr_assert_eq(memcmp(buf, ref_stream, len), 0, "%s: stream", what);
        talloc_free(buf);
    } else if (st == VFIO_DEVICE_STATE_RESUMING) {
        /* Earlier partial input is gone: a whole stream loads. */
        cr_assert_eq(vdev_client_mig_load(srv.cl, ref_stream, ref_len), 0,
                     "%s: load after a partial one", what);
    }
    if (st != VFIO_DEVICE_STATE_RUNNING)
        cr_assert_eq(
            vdev_client_mig_set_state(srv.cl, VFIO_DEVICE_STATE_RUNNING), 0,
            "%s: back to RUNNING", what);
    take_snap(&now);
    cr_assert_eq(now.liveness, ref.liveness, "%s: liveness", what);
    cr_assert_eq(now.fact, ref.fact, "%s: fact", what);
    cr_assert_eq(now.irq_status, ref.irq_status, "%s: irq_status", what);
    cr_assert_eq(memcmp(now.dma, ref.dma, sizeof(now.dma)), 0,
                 "%s: DMA registers", what);
    cr_assert_eq(memcmp(now.buf, ref.buf, DMA_LEN), 0, "%s: DMA buffer", what);
    model_server_detach(&srv);
    cr_assert_eq(settled_fds(base_fds), base_fds,
                 "%s: server fds not back to %d", what, base_fds);
}

/* ------------------------------------------------------------ fixture */

static void
setup(void)
{
    uint8_t *ram;

    ctx = talloc_new(NULL);
    model_server_start(&srv, "edu");
    ram_fd = memfd_create("guest-ram", MFD_CLOEXEC);
    cr_assert_geq(ram_fd, 0);
    cr_assert_eq(ftruncate(ram_fd, RAM_SIZE), 0);
    ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
    cr_assert_neq(ram, MAP_FAILED);
    for (unsigned i = 0; i < RAM_SIZE; i++)
        ram[i] = (uint8_t)(i * 7 + 3);
    munmap(ram, RAM_SIZE);
    irq_fd[0] = model_eventfd();
    irq_fd[1] = model_eventfd();
    model_server_detach(&srv);
    /* Baseline: no client; the first one's teardown has settled when the
     * count stops moving. */
    usleep(50000);
    base_fds = proc_fds(srv.pid);
}

static void
teardown(void)
{
    model_server_stop(&srv);
    for (int i = 0; i < 2; i++)
        if (irq_fd[i] >= 0)
            close(irq_fd[i]);
    if (ram_fd >= 0)
        close(ram_fd);
    ram_fd = irq_fd[0] = irq_fd[1] = -1;
    talloc_free(ctx);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = 120);

/* Runs the whole session once and records what every later client must
 * find: registers, DMA buffer and the stopped device's stream. */
static void
make_reference(const struct script *session)
{
    int fd = run_steps(session, session->n);

    close(fd);
    model_server_attach(&srv);
    cr_assert_eq(vdev_client_mig_save(srv.cl, ctx, &ref_stream, &ref_len), 0);
    cr_assert_gt(ref_len, 0);
    cr_assert_eq(vdev_client_mig_set_state(srv.cl, VFIO_DEVICE_STATE_RUNNING),
                 0);
    take_snap(&ref);
    model_server_detach(&srv);
    cr_assert_eq(ref.liveness, ~0x12345678u, "edu inverts liveness");
    cr_assert_eq(ref.fact, 120);
    for (unsigned i = 0; i < DMA_LEN; i++)
        cr_assert_eq(ref.buf[i], (uint8_t)((0x100 + i) * 7 + 3));
}

static void
saving_script(struct script *sc)
{
    const uint32_t R = VFIO_DEVICE_STATE_RUNNING;

    add_session(sc);
    /* PRE_COPY with data partly read, then STOP_COPY likewise: a vanished
     * client leaves PRE_COPY as RUNNING and STOP_COPY as it was. */
    add_mig_state(sc, VFIO_DEVICE_STATE_PRE_COPY, R);
    add_mig_read(sc, 64, R);
    add_mig_state(sc, VFIO_DEVICE_STATE_STOP_COPY, VFIO_DEVICE_STATE_STOP_COPY);
    add_mig_read(sc, 64, VFIO_DEVICE_STATE_STOP_COPY);
    add_mig_read(sc, 64, VFIO_DEVICE_STATE_STOP_COPY);
}

static void
resuming_script(struct script *sc)
{
    const uint32_t RS = VFIO_DEVICE_STATE_RESUMING;
    size_t half = ref_len / 2;

    add_session(sc);
    add_mig_state(sc, RS, RS);
    add_mig_write(sc, ref_stream, (uint32_t)half, RS);
    add_mig_write(sc, ref_stream + half, (uint32_t)((ref_len - half) / 2), RS);
}

static void
boundaries(const struct script *sc, const char *name)
{
    char what[96];

    for (unsigned k = 0; k <= sc->n; k++) {
        int fd = run_steps(sc, k);
        close(fd);
        snprintf(what, sizeof(what), "%s: gone after %u messages", name, k);
        check_next_client(
            k ? sc->s[k - 1].state_after : VFIO_DEVICE_STATE_RUNNING, what);
    }
}

/* Cut points within a message of len bytes: in the header, at its end, in
 * the body and one byte short of the whole. */
static unsigned
cut_points(size_t len, size_t *out)
{
    const size_t cand[] = {1, 4, 8, 15, 16, 17, 24, len / 2, len - 1};
    unsigned n = 0;

    for (unsigned i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
        bool dup = false;
        if (cand[i] == 0 || cand[i] >= len)
            continue;
        for (unsigned j = 0; j < n; j++)
            dup |= out[j] == cand[i];
        if (!dup)
            out[n++] = cand[i];
    }
    return n;
}

static void
mid_message(const struct script *sc, const char *name)
{
    char what[128];
    size_t cuts[16];

    for (unsigned k = 0; k < sc->n; k++) {
        const struct step *st = &sc->s[k];
        unsigned nc = cut_points(st->len, cuts);
        for (unsigned c = 0; c < nc; c++) {
            int fd = run_steps(sc, k);
            /* fds ride on the first byte, as a VMM sends them. */
            cr_assert_eq(raw_send(fd, st->msg, cuts[c], st->fds, st->nr_fds),
                         0);
            close(fd);
            snprintf(what, sizeof(what),
                     "%s: gone %zu bytes into message %u (cmd %u, %u fds)",
                     name, cuts[c], k,
                     ((struct vfio_user_header *)st->msg)->cmd, st->nr_fds);
            check_next_client(
                k ? sc->s[k - 1].state_after : VFIO_DEVICE_STATE_RUNNING, what);
        }
    }
}

Test(faults, vanish_at_every_boundary_while_saving)
{
    struct script sc = {0};

    saving_script(&sc);
    make_reference(&sc);
    boundaries(&sc, "saving");
    cr_assert_eq(settled_fds(base_fds), base_fds);
}

Test(faults, vanish_mid_message_while_saving)
{
    struct script sc = {0};

    saving_script(&sc);
    make_reference(&sc);
    mid_message(&sc, "saving");
    cr_assert_eq(settled_fds(base_fds), base_fds);
}

Test(faults, vanish_at_every_boundary_while_resuming)
{
    struct script sc = {0}, session = {0};

    add_session(&session);
    make_reference(&session);
    resuming_script(&sc);
    boundaries(&sc, "resuming");
    cr_assert_eq(settled_fds(base_fds), base_fds);
}

Test(faults, vanish_mid_message_while_resuming)
{
    struct script sc = {0}, session = {0};

    add_session(&session);
    make_reference(&session);
    resuming_script(&sc);
    mid_message(&sc, "resuming");
    cr_assert_eq(settled_fds(base_fds), base_fds);
}

/* Bytes and the hang-up can reach the server in one epoll event (the client
 * wrote and closed before it was accepted): the server must still see the
 * EOF, or the connection and the whole backlog behind it hang. */
Test(faults, partial_message_then_close_before_accept)
{
    static const uint8_t junk[5] = {1, 2, 3, 4, 5};
    int fds[8];

    for (unsigned round = 0; round < 4; round++) {
        /* Queue them all in the backlog before the server gets to them. */
        for (unsigned i = 0; i < 8; i++) {
            fds[i] = raw_connect(srv.sock);
            cr_assert_geq(fds[i], 0);
            cr_assert_eq(raw_send(fds[i], junk, 1 + i % 5,
                                  i % 2 ? &ram_fd : NULL, i % 2),
                         0);
        }
        for (unsigned i = 0; i < 8; i++)
            close(fds[i]);
        model_server_attach(&srv);
        cr_assert_eq(model_rd(&srv, BAR0, 0, 4), 0x010000edu);
        model_server_detach(&srv);
    }
    cr_assert_eq(settled_fds(base_fds), base_fds);
}

/* The VMM dies while the device waits for it: a DMA through a map without
 * an fd makes the server ask the client (DMA_READ) in the middle of serving
 * a REGION_WRITE; the client hangs up instead of answering, after reading
 * the request or before. The DMA fails, the next client is served. */
Test(faults, vanish_while_the_server_waits_for_dma)
{
    struct script sc = {0};
    struct vfio_user_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE,
        .addr = IOVA,
        .size = RAM_SIZE,
    };
    const uint32_t R = VFIO_DEVICE_STATE_RUNNING;

    add_version(&sc);
    add(&sc, VFIO_USER_DMA_MAP, &map, sizeof(map), NULL, 0, R);
    add_write64(&sc, DMA_SRC, IOVA, R);
    add_write64(&sc, DMA_DST, DMA_BUF, R);
    add_write64(&sc, DMA_COUNT, 16, R);
    add_write64(&sc, DMA_CMD, 1, R);
    for (int read_it = 0; read_it < 2; read_it++) {
        int fd = run_steps(&sc, sc.n - 1);
        const struct step *go = &sc.s[sc.n - 1];
        cr_assert_eq(raw_send(fd, go->msg, go->len, NULL, 0), 0);
        if (read_it) {
            struct raw_reply r;
            cr_assert_eq(raw_recv(fd, &r), 0);
            /* the DMA_READ, or first the zero-length DMA_WRITE that asks
             * which DMA layout the client speaks (s2c.c) */
            cr_assert(r.hdr.cmd == VFIO_USER_DMA_READ ||
                          r.hdr.cmd == VFIO_USER_DMA_WRITE,
                      "expected a server request, got cmd %u", r.hdr.cmd);
            raw_reply_free(&r);
        }
        close(fd);
        model_server_attach(&srv);
        model_wr(&srv, BAR0, LIVENESS, 4, 7);
        cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~7u);
        model_server_detach(&srv);
        cr_assert_eq(settled_fds(base_fds), base_fds);
    }
}

/* A device a vanished VMM left stopped is not stuck: DEVICE_RESET by the
 * next client runs it again (with reset register values). */
Test(faults, reset_after_vanished_stop_copy)
{
    struct script sc = {0};
    uint32_t st = 0;

    saving_script(&sc);
    close(run_steps(&sc, sc.n));
    model_server_attach(&srv);
    cr_assert_eq(vdev_client_mig_get_state(srv.cl, &st), 0);
    cr_assert_eq(st, VFIO_DEVICE_STATE_STOP_COPY);
    cr_assert_eq(vdev_client_reset(srv.cl), 0);
    cr_assert_eq(vdev_client_mig_get_state(srv.cl, &st), 0);
    cr_assert_eq(st, VFIO_DEVICE_STATE_RUNNING);
    model_wr(&srv, BAR0, LIVENESS, 4, 1);
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~1u);
    model_server_detach(&srv);
    cr_assert_eq(settled_fds(base_fds), base_fds);
}

/* ------------------------------------------------------------ SIGTERM */

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* SIGTERM, then the server must exit 0 within a second while `poke` (if
 * any) keeps dribbling a byte every 100 ms. */
static void
term_within_1s(int poke)
{
    double t0;
    int status = -1;
    pid_t got = 0;

    kill(srv.pid, SIGTERM);
    t0 = now_s();
    while (now_s() - t0 < 1.0) {
        got = waitpid(srv.pid, &status, WNOHANG);
        if (got == srv.pid) {
            child_check("the server", status);
            break;
        }
        if (poke >= 0) {
            static const uint8_t b = 0;
            send(poke, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        usleep(poke >= 0 ? 100000 : 5000);
    }
    cr_assert_eq(got, srv.pid, "server still running %.2f s after SIGTERM",
                 now_s() - t0);
    srv.pid = -1;
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "server status 0x%x", status);
}

Test(faults, silent_client_does_not_delay_sigterm)
{
    int fd = raw_connect(srv.sock);

    cr_assert_geq(fd, 0);
    usleep(100000);
    term_within_1s(-1);
    close(fd);
}

Test(faults, slow_client_does_not_delay_sigterm)
{
    int fd = raw_connect(srv.sock);
    struct vfio_user_header h = {
        .msg_id = 1, .cmd = VFIO_USER_VERSION, .msg_size = 64};

    cr_assert_geq(fd, 0);
    cr_assert_eq(raw_negotiate(fd), 0);
    /* A header trickling in, a byte at a time. */
    for (unsigned i = 0; i < 5; i++) {
        cr_assert_eq(send(fd, (uint8_t *)&h + i, 1, MSG_NOSIGNAL), 1);
        usleep(100000);
    }
    term_within_1s(fd);
    close(fd);
}

Test(faults, slow_client_with_fd_in_flight_does_not_delay_sigterm)
{
    int fd = raw_connect(srv.sock);
    struct vfio_user_dma_map map = {
        .argsz = sizeof(map),
        .flags = VFIO_USER_F_DMA_REGION_READ,
        .addr = IOVA,
        .size = RAM_SIZE,
    };
    struct vfio_user_header h = {
        .msg_id = 2, .cmd = VFIO_USER_DMA_MAP, .msg_size = HDR + sizeof(map)};
    uint8_t msg[HDR + sizeof(map)];

    cr_assert_geq(fd, 0);
    cr_assert_eq(raw_negotiate(fd), 0);
    memcpy(msg, &h, HDR);
    memcpy(msg + HDR, &map, sizeof(map));
    cr_assert_eq(raw_send(fd, msg, 20, &ram_fd, 1), 0);
    term_within_1s(fd);
    close(fd);
}

/* Management clients that say nothing, or half a line, hold nothing up. */
Test(faults, idle_mgmt_clients_do_not_delay_sigterm)
{
    int m1 = vdev_mgmt_client_open(srv.mgmt);
    int m2 = vdev_mgmt_client_open(srv.mgmt);

    cr_assert_geq(m1, 0);
    cr_assert_geq(m2, 0);
    cr_assert_eq(send(m2, "get liv", 7, MSG_NOSIGNAL), 7);
    usleep(100000);
    term_within_1s(m2);
    close(m1);
    close(m2);
}

/* A client that sends requests and never reads a reply: the server's
 * output fills up, and SIGTERM still ends it promptly. */
Test(faults, client_not_reading_does_not_delay_sigterm)
{
    int fd = raw_connect(srv.sock);
    uint8_t msg[HDR + sizeof(struct vfio_user_region_access)];
    struct vfio_user_header h = {
        .msg_id = 3, .cmd = VFIO_USER_REGION_READ, .msg_size = sizeof(msg)};
    struct vfio_user_region_access a = {
        .offset = DMA_BUF, .region = BAR0, .count = 4096};
    struct timeval tv = {.tv_usec = 200000};

    cr_assert_geq(fd, 0);
    cr_assert_eq(raw_negotiate(fd), 0);
    memcpy(msg, &h, HDR);
    memcpy(msg + HDR, &a, sizeof(a));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    /* Until our own send blocks: the server has stopped reading. */
    for (unsigned i = 0; i < 100000; i++)
        if (send(fd, msg, sizeof(msg), MSG_NOSIGNAL) != (ssize_t)sizeof(msg))
            break;
    term_within_1s(-1);
    close(fd);
}

/* The server drops a client that vanishes in each way above, and its fd
 * count is where it started, also with the management channel used. */
Test(faults, fds_back_to_baseline_after_many_clients)
{
    struct script sc = {0};

    add_session(&sc);
    for (unsigned i = 0; i < 20; i++) {
        int fd = run_steps(&sc, 1 + i % sc.n);
        if (i % 3 == 0)
            raw_send(fd, sc.s[1].msg, 7, &ram_fd, 1);
        close(fd);
    }
    {
        char reply[256];
        cr_assert_eq(
            vdev_mgmt_client_command(srv.mgmt, "stats", reply, sizeof(reply)),
            0);
    }
    model_server_attach(&srv);
    cr_assert_eq(vdev_client_reset(srv.cl), 0);
    model_server_detach(&srv);
    cr_assert_eq(settled_fds(base_fds), base_fds);
}
