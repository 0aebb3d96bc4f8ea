/* End to end, migration v2: an edu server process with registers, a
 * factorial result, raised interrupts and a DMA engine is migrated to a
 * second edu process with DEVICE_FEATURE MIG_DEVICE_STATE and
 * MIG_DATA_READ/WRITE (pre-copy, then stop-and-copy) while DMA logging
 * records the guest pages the device wrote. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pci_regs.h>

#include "mig_e2e.h"

static struct model_server src, dst;
static struct e2e_guest gsrc = {.fd = -1}, gdst = {.fd = -1};

static void
setup(void)
{
    model_server_start(&src, "edu");
    /* The destination refuses bad streams on purpose: keep that quiet. */
    model_server_start_quiet(&dst, "bin/vdev-edu");
    e2e_guest_new(&gsrc, E2E_PAGES);
    e2e_guest_new(&gdst, E2E_PAGES);
    e2e_guest_map(&gsrc, &src);
    e2e_guest_map(&gdst, &dst);
}

static void
teardown(void)
{
    model_server_stop(&src);
    model_server_stop(&dst);
    e2e_guest_free(&gsrc);
    e2e_guest_free(&gdst);
}

TestSuite(mig_e2e_v2, .init = setup, .fini = teardown, .timeout = 60);

/* ------------------------------------------------------------ messages */

static int
log_start(struct model_server *s, uint64_t iova, uint64_t len)
{
    struct {
        struct vfio_user_device_feature h;
        struct vfio_user_dma_logging_control c;
        struct vfio_device_feature_dma_logging_range r;
    } __attribute__((packed)) q = {
        {sizeof(q),
         VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START},
        {E2E_PG, 1, 0},
        {iova, len},
    };
    uint8_t rep[64];
    size_t n;

    return vdev_client_call(s->cl, VFIO_USER_DEVICE_FEATURE, &q, sizeof(q),
                            NULL, 0, rep, sizeof(rep), &n, NULL, NULL);
}

/* DMA_LOGGING_REPORT of the whole guest: one u64 covers 64 pages. */
static uint64_t
log_report(struct model_server *s, const struct e2e_guest *g)
{
    struct {
        struct vfio_user_device_feature h;
        struct vfio_user_dma_logging_report r;
    } __attribute__((packed)) q = {
        {sizeof(q) + 8,
         VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT},
        {g->iova, g->size, E2E_PG},
    };
    uint8_t rep[sizeof(q) + 8];
    uint64_t bits;
    size_t n;

    cr_assert_eq(g->size, 64 * E2E_PG);
    cr_assert_eq(vdev_client_call(s->cl, VFIO_USER_DEVICE_FEATURE, &q,
                                  sizeof(q), NULL, 0, rep, sizeof(rep), &n,
                                  NULL, NULL),
                 0);
    cr_assert_eq(n, sizeof(rep));
    memcpy(&bits, rep + sizeof(q), 8);
    return bits;
}

/* MIG_DATA_READ of `want` bytes; returns how many came back. */
static uint32_t
data_read(struct model_server *s, uint8_t *out, uint32_t want)
{
    struct vfio_user_mig_data q = {sizeof(q) + want, want}, got;
    uint8_t *rep = malloc(sizeof(q) + want);
    size_t n;

    cr_assert_eq(vdev_client_call(s->cl, VFIO_USER_MIG_DATA_READ, &q, sizeof(q),
                                  NULL, 0, rep, sizeof(q) + want, &n, NULL,
                                  NULL),
                 0);
    cr_assert_geq(n, sizeof(got));
    memcpy(&got, rep, sizeof(got));
    cr_assert_leq(got.size, want);
    cr_assert_eq(n, sizeof(got) + got.size);
    memcpy(out, rep + sizeof(got), got.size);
    free(rep);
    return got.size;
}

/* Reads until a zero-size read, in odd-sized pieces. */
static size_t
read_all(struct model_server *s, uint8_t *buf, size_t off, size_t cap)
{
    uint32_t got;

    do {
        cr_assert_lt(off + 1000, cap);
        got = data_read(s, buf + off, 1000);
        off += got;
    } while (got);
    return off;
}

static int
data_write(struct model_server *s, const uint8_t *p, uint32_t len)
{
    struct vfio_user_mig_data *q = malloc(sizeof(*q) + len);
    uint8_t rep[64];
    size_t n;
    int rc;

    q->argsz = (uint32_t)sizeof(*q) + len;
    q->size = len;
    memcpy(q->data, p, len);
    rc = vdev_client_call(s->cl, VFIO_USER_MIG_DATA_WRITE, q, sizeof(*q) + len,
                          NULL, 0, rep, sizeof(rep), &n, NULL, NULL);
    free(q);
    return rc;
}

static void
write_all(struct model_server *s, const uint8_t *p, size_t len)
{
    for (size_t off = 0; off < len; off += 777) {
        uint32_t n = (uint32_t)(len - off < 777 ? len - off : 777);
        cr_assert_eq(data_write(s, p + off, n), 0);
    }
}

static uint32_t
state_of(struct model_server *s)
{
    uint32_t st;

    cr_assert_eq(vdev_client_mig_get_state(s->cl, &st), 0);
    return st;
}

static void
set_state(struct model_server *s, uint32_t st)
{
    int rc = vdev_client_mig_set_state(s->cl, st);

    cr_assert_eq(rc, 0, "-> %u: %s", st, strerror(-rc));
    cr_assert_eq(state_of(s), st);
}

static void
pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

/* The server survived whatever it was sent and exits cleanly (under the
 * sanitizers: no error, no leak). */
static void
clean_exit(struct model_server *s)
{
    int st = model_server_stop(s);

    cr_assert_eq(st, 0, "server wait status 0x%x", st);
}

/* ------------------------------------------------------------ tests */

Test(mig_e2e_v2, pre_copy_then_stop_copy)
{
    static uint8_t stream[256 * 1024];
    uint8_t buf_a[4096], got[4096], cfg_src[256], cfg_dst[256];
    struct e2e_snapshot before, after;
    size_t pre, len;

    /* The migration feature over the wire: both flows offered. */
    {
        struct vfio_user_device_feature q = {sizeof(q) + 8,
                                             VFIO_DEVICE_FEATURE_GET |
                                                 VFIO_DEVICE_FEATURE_MIGRATION};
        uint8_t rep[sizeof(q) + 8];
        uint64_t flags;
        size_t n;

        cr_assert_eq(vdev_client_call(src.cl, VFIO_USER_DEVICE_FEATURE, &q,
                                      sizeof(q), NULL, 0, rep, sizeof(rep), &n,
                                      NULL, NULL),
                     0);
        cr_assert_eq(n, sizeof(rep));
        memcpy(&flags, rep + sizeof(q), 8);
        cr_assert_eq(flags, VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY);
    }
    /* What a guest driver sets up in config space: memory decoding, bus
     * mastering, an MSI address (MSI itself left off: INTx carries the
     * interrupt). */
    {
        unsigned msi = model_find_cap(&src, PCI_CAP_ID_MSI);
        uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
        uint32_t addr = 0xfee01000u;

        cr_assert_neq(msi, 0);
        cr_assert_eq(vdev_client_config_write(src.cl, PCI_COMMAND, &cmd, 2), 0);
        cr_assert_eq(vdev_client_config_write(src.cl, msi + PCI_MSI_ADDRESS_LO,
                                              &addr, 4),
                     0);
    }

    /* Registers, a factorial with its interrupt, a raised value. */
    model_wr(&src, EDU_BAR0, EDU_LIVENESS, 4, 0x12345678);
    model_wr(&src, EDU_BAR0, EDU_STATUS, 4, 0x80);
    model_wr(&src, EDU_BAR0, EDU_FACT, 4, 10);
    model_poll(&src, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    model_wr(&src, EDU_BAR0, EDU_IRQ_RAISE, 4, 0x40);
    cr_assert_eq(model_rd(&src, EDU_BAR0, EDU_FACT, 4), 3628800);

    /* Guest page 2 -> the device buffer (reads dirty nothing). */
    cr_assert_eq(log_start(&src, gsrc.iova, gsrc.size), 0);
    pattern(buf_a, sizeof(buf_a), 1);
    memcpy(gsrc.p + 2 * E2E_PG, buf_a, sizeof(buf_a));
    e2e_edu_dma(&src, false, gsrc.iova + 2 * E2E_PG, EDU_DMA_BUF, 4096);
    /* The buffer -> guest pages 5 and 6 (straddling). */
    e2e_edu_dma(&src, true, EDU_DMA_BUF + 0x100, gsrc.iova + 5 * E2E_PG + 0x800,
                0xf00);
    cr_assert(memcmp(gsrc.p + 5 * E2E_PG + 0x800, buf_a + 0x100, 0xf00) == 0);

    /* Pre-copy: the device still runs while its data is read. */
    set_state(&src, VFIO_DEVICE_STATE_PRE_COPY);
    pre = read_all(&src, stream, 0, sizeof(stream));
    cr_assert_gt(pre, 0);
    cr_assert_eq(log_report(&src, &gsrc), (1ull << 5) | (1ull << 6),
                 "exactly the pages the DMA wrote");
    cr_assert_eq(log_report(&src, &gsrc), 0, "a report clears what it says");

    model_wr(&src, EDU_BAR0, EDU_LIVENESS, 4, 0xcafef00d);
    model_wr(&src, EDU_BAR0, EDU_IRQ_ACK, 4, 0x40);
    e2e_edu_dma(&src, true, EDU_DMA_BUF, gsrc.iova + 9 * E2E_PG + 0xff0, 16);
    cr_assert_eq(log_report(&src, &gsrc), 1ull << 9);
    e2e_snapshot(&src, &before);
    cr_assert_eq(vdev_client_config_dump(src.cl, cfg_src, sizeof(cfg_src)), 0);
    cr_assert(cfg_src[PCI_STATUS] & PCI_STATUS_INTERRUPT,
              "irq_status is not 0: the INTx line is up");

    /* Stop-and-copy: the rest, until a zero-size read. */
    set_state(&src, VFIO_DEVICE_STATE_STOP_COPY);
    len = read_all(&src, stream, pre, sizeof(stream));
    cr_assert_gt(len, pre);
    cr_assert_eq(log_report(&src, &gsrc), 0, "a stopped device wrote nothing");
    set_state(&src, VFIO_DEVICE_STATE_STOP);

    /* Destination: STOP -> RESUMING, the data, -> STOP -> RUNNING. */
    model_wr(&dst, EDU_BAR0, EDU_LIVENESS, 4, 1);
    set_state(&dst, VFIO_DEVICE_STATE_STOP);
    set_state(&dst, VFIO_DEVICE_STATE_RESUMING);
    write_all(&dst, stream, len);
    set_state(&dst, VFIO_DEVICE_STATE_STOP);
    set_state(&dst, VFIO_DEVICE_STATE_RUNNING);

    e2e_snapshot(&dst, &after);
    e2e_snapshot_equal(&before, &after);
    /* Config space came along, the interrupt line with it. */
    cr_assert_eq(vdev_client_config_dump(dst.cl, cfg_dst, sizeof(cfg_dst)), 0);
    for (unsigned i = 0; i < sizeof(cfg_src); i++)
        cr_assert_eq(cfg_dst[i], cfg_src[i], "config byte 0x%x", i);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_LIVENESS, 4), ~0xcafef00du);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_FACT, 4), 3628800);
    cr_assert_eq(e2e_snapshot_get(&after, "status.irq_fact"), 1);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_IRQ_STATUS, 4), 0x1);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_DMA_DST, 8),
                 gsrc.iova + 9 * E2E_PG + 0xff0);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_DMA_COUNT, 8), 16);
    cr_assert_eq(e2e_snapshot_get(&after, "dma_cmd.dir"), 1);
    e2e_edu_buffer(&dst, &gdst, got);
    cr_assert(memcmp(got, buf_a, sizeof(got)) == 0, "the DMA buffer moved");

    /* The destination keeps working: a factorial, DMA both ways. */
    model_wr(&dst, EDU_BAR0, EDU_FACT, 4, 5);
    model_poll(&dst, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_FACT, 4), 120);
    model_wr(&dst, EDU_BAR0, EDU_IRQ_ACK, 4, 0x1);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_IRQ_STATUS, 4), 0);
    cr_assert_eq(vdev_client_config_dump(dst.cl, cfg_dst, sizeof(cfg_dst)), 0);
    cr_assert_eq(cfg_dst[PCI_STATUS] & PCI_STATUS_INTERRUPT, 0,
                 "acknowledged: the line is down");
    pattern(gdst.p + 3 * E2E_PG, 4096, 2);
    e2e_edu_dma(&dst, false, gdst.iova + 3 * E2E_PG, EDU_DMA_BUF, 4096);
    e2e_edu_buffer(&dst, &gdst, got);
    cr_assert(memcmp(got, gdst.p + 3 * E2E_PG, sizeof(got)) == 0);
    /* The source stays stopped: its registers refuse access. */
    cr_assert_eq(state_of(&src), VFIO_DEVICE_STATE_STOP);
    {
        uint32_t v;
        cr_assert_eq(vdev_client_region_read(src.cl, EDU_BAR0, EDU_FACT, &v, 4),
                     -EBUSY);
    }
    clean_exit(&dst);
    clean_exit(&src);
}

/* A refused stream leaves the destination as it was; a reset gets it
 * out of RESUMING and it serves on. */
static void
refused_load(const uint8_t *stream, size_t len)
{
    struct e2e_snapshot before, after;
    int rc;

    e2e_snapshot(&dst, &before);
    set_state(&dst, VFIO_DEVICE_STATE_RESUMING);
    write_all(&dst, stream, len);
    rc = vdev_client_mig_set_state(dst.cl, VFIO_DEVICE_STATE_STOP);
    cr_assert_lt(rc, 0, "the load is refused");
    cr_assert_neq(rc, -ETIMEDOUT);
    cr_assert_eq(state_of(&dst), VFIO_DEVICE_STATE_RESUMING);
    e2e_snapshot_vars(&dst, &after);
    e2e_snapshot_equal(&before, &after);
    cr_assert_eq(vdev_client_reset(dst.cl), 0);
    cr_assert_eq(state_of(&dst), VFIO_DEVICE_STATE_RUNNING);
    model_wr(&dst, EDU_BAR0, EDU_FACT, 4, 3);
    model_poll(&dst, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_FACT, 4), 6);
    model_wr(&dst, EDU_BAR0, EDU_LIVENESS, 4, 0x22);
    model_wr(&dst, EDU_BAR0, EDU_FACT, 4, 4);
    model_poll(&dst, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
}

static size_t
save_src(uint8_t *stream, size_t cap)
{
    size_t len;

    set_state(&src, VFIO_DEVICE_STATE_STOP_COPY);
    len = read_all(&src, stream, 0, cap);
    set_state(&src, VFIO_DEVICE_STATE_STOP);
    return len;
}

Test(mig_e2e_v2, corrupted_streams_refused)
{
    static uint8_t good[64 * 1024], bad[64 * 1024];
    size_t len;
    uint32_t v;

    model_wr(&src, EDU_BAR0, EDU_LIVENESS, 4, 0x11);
    model_wr(&src, EDU_BAR0, EDU_FACT, 4, 6);
    model_poll(&src, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    model_wr(&dst, EDU_BAR0, EDU_LIVENESS, 4, 0x22);
    model_wr(&dst, EDU_BAR0, EDU_FACT, 4, 4);
    model_poll(&dst, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    len = save_src(good, sizeof(good));
    cr_assert_gt(len, 64);

    /* Truncated: at the header, mid-field, without the checksum. */
    refused_load(good, 10);
    refused_load(good, len / 2);
    refused_load(good, len - 1);
    /* A flipped byte in the device's fields (the checksum catches it). */
    memcpy(bad, good, len);
    bad[len - 40] ^= 0x10;
    refused_load(bad, len);
    /* A newer state version, resealed so only the version is wrong. */
    memcpy(bad, good, len);
    {
        uint16_t nlen;
        memcpy(&nlen, bad + 12, 2);
        memcpy(&v, bad + 14 + nlen, 4);
        v += 1;
        memcpy(bad + 14 + nlen, &v, 4);
    }
    e2e_reseal(bad, len);
    refused_load(bad, len);
    /* A total length larger than the bytes sent. */
    memcpy(bad, good, len);
    v = (uint32_t)len + 4096;
    memcpy(bad + 8, &v, 4);
    refused_load(bad, len);
    /* An oversized field: the device section's first field claims more
     * bytes than its section holds. */
    memcpy(bad, good, len);
    {
        uint16_t nlen;
        uint32_t rt_len, big = 0x7ffffff0u;
        size_t at;
        memcpy(&nlen, bad + 12, 2);
        at = 14u + nlen + 4u; /* runtime section */
        memcpy(&rt_len, bad + at + 4, 4);
        at += 8u + rt_len; /* device section */
        cr_assert_lt(at + 16, len);
        memcpy(&v, bad + at, 4);
        cr_assert_eq(v, 2, "the device section follows the runtime's");
        memcpy(bad + at + 12, &big, 4);
    }
    e2e_reseal(bad, len);
    refused_load(bad, len);
    /* Every single-byte flip of the header, resealed: no crash. */
    for (size_t i = 0; i < 24; i++) {
        memcpy(bad, good, len);
        bad[i] ^= 0x80;
        if (i < 8 || i >= 12)
            e2e_reseal(bad, len);
        refused_load(bad, len);
    }
    /* The good stream still loads after all that. */
    set_state(&dst, VFIO_DEVICE_STATE_RESUMING);
    write_all(&dst, good, len);
    set_state(&dst, VFIO_DEVICE_STATE_STOP);
    set_state(&dst, VFIO_DEVICE_STATE_RUNNING);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_LIVENESS, 4), ~0x11u);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_FACT, 4), 720);
    clean_exit(&dst);
    clean_exit(&src);
}
