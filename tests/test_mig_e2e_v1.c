/* End to end, legacy migration: an edu server process is migrated to a
 * second one through the migration region (struct
 * vfio_device_migration_info: device_state bits, pending_bytes,
 * data_offset, data_size and the data window), pre-copy then
 * stop-and-copy, while VFIO_USER_DIRTY_PAGES records the guest pages the
 * device's DMA engine wrote. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/pci_regs.h>

#include "mig_e2e.h"

#define OFF_STATE offsetof(struct vfio_device_migration_info, device_state)
#define OFF_PENDING offsetof(struct vfio_device_migration_info, pending_bytes)
#define OFF_DATA_OFF offsetof(struct vfio_device_migration_info, data_offset)
#define OFF_DATA_SIZE offsetof(struct vfio_device_migration_info, data_size)
#define V1_RUNNING VFIO_DEVICE_STATE_V1_RUNNING
#define V1_SAVING VFIO_DEVICE_STATE_V1_SAVING
#define V1_RESUMING VFIO_DEVICE_STATE_V1_RESUMING

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

TestSuite(mig_e2e_v1, .init = setup, .fini = teardown, .timeout = 60);

/* ------------------------------------------------------------ region */

/* The region whose type capability says legacy migration. */
static uint32_t
mig_region(struct model_server *s, uint64_t *size)
{
    struct vfio_device_info di;

    cr_assert_eq(vdev_client_device_info(s->cl, &di), 0);
    for (uint32_t i = 0; i < di.num_regions; i++) {
        struct vfio_region_info ri;
        uint8_t caps[512];
        size_t clen = 0;
        int fd = -1;

        if (vdev_client_region_info(s->cl, i, &ri, caps, sizeof(caps), &clen,
                                    &fd) < 0)
            continue;
        if (fd >= 0)
            close(fd);
        if (!(ri.flags & VFIO_REGION_INFO_FLAG_CAPS))
            continue;
        for (uint32_t at = ri.cap_offset; at;) {
            struct vfio_info_cap_header h;
            struct vfio_region_info_cap_type t;

            cr_assert_geq(at, sizeof(ri));
            cr_assert_leq(at - sizeof(ri) + sizeof(t), clen);
            memcpy(&h, caps + at - sizeof(ri), sizeof(h));
            if (h.id == VFIO_REGION_INFO_CAP_TYPE) {
                memcpy(&t, caps + at - sizeof(ri), sizeof(t));
                if (t.type == VFIO_REGION_TYPE_MIGRATION_DEPRECATED &&
                    t.subtype == VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED) {
                    *size = ri.size;
                    return i;
                }
            }
            at = h.next;
        }
    }
    cr_assert_fail("no legacy migration region");
    return 0;
}

static uint64_t
reg_rd(struct model_server *s, uint32_t rg, uint64_t off)
{
    uint64_t v = 0;
    int rc =
        vdev_client_region_read(s->cl, rg, off, &v, off == OFF_STATE ? 4 : 8);

    cr_assert_eq(rc, 0, "read migration register 0x%llx: %s",
                 (unsigned long long)off, strerror(-rc));
    return v;
}

static int
reg_wr(struct model_server *s, uint32_t rg, uint64_t off, uint64_t v)
{
    return vdev_client_region_write(s->cl, rg, off, &v,
                                    off == OFF_STATE ? 4 : 8);
}

static void
set_bits(struct model_server *s, uint32_t rg, uint32_t bits)
{
    int rc = reg_wr(s, rg, OFF_STATE, bits);

    cr_assert_eq(rc, 0, "device_state 0x%x: %s", bits, strerror(-rc));
    cr_assert_eq(reg_rd(s, rg, OFF_STATE), bits);
}

/* One save phase: iterations until pending_bytes reads 0. */
static size_t
drain(struct model_server *s, uint32_t rg, uint64_t rsize, uint8_t *out,
      size_t off, size_t cap)
{
    for (int iter = 0;; iter++) {
        uint64_t pending = reg_rd(s, rg, OFF_PENDING), at, n;

        cr_assert_lt(iter, 10000);
        if (!pending)
            return off;
        at = reg_rd(s, rg, OFF_DATA_OFF);
        n = reg_rd(s, rg, OFF_DATA_SIZE);
        cr_assert_gt(n, 0);
        cr_assert_leq(n, pending);
        cr_assert_geq(at, sizeof(struct vfio_device_migration_info));
        cr_assert_leq(at + n, rsize, "the chunk lies in the window");
        cr_assert_leq(off + n, cap);
        for (uint64_t i = 0; i < n; i += 3000) {
            uint32_t k = (uint32_t)(n - i < 3000 ? n - i : 3000);
            cr_assert_eq(
                vdev_client_region_read(s->cl, rg, at + i, out + off + i, k),
                0);
        }
        off += n;
    }
}

/* The destination: the data in window-sized pieces, each committed by
 * writing data_size. */
static void
feed(struct model_server *s, uint32_t rg, const uint8_t *p, size_t len,
     size_t piece)
{
    for (size_t off = 0; off < len; off += piece) {
        uint64_t n = len - off < piece ? len - off : piece;
        uint64_t at = reg_rd(s, rg, OFF_DATA_OFF);
        cr_assert_eq(
            vdev_client_region_write(s->cl, rg, at, p + off, (uint32_t)n), 0);
        cr_assert_eq(reg_wr(s, rg, OFF_DATA_SIZE, n), 0);
    }
}

/* ------------------------------------------------------------ dirty */

static int
dirty_pages(struct model_server *s, uint32_t flags)
{
    struct vfio_user_dirty_pages q = {sizeof(q), flags};
    uint8_t rep[64];
    size_t n;

    return vdev_client_call(s->cl, VFIO_USER_DIRTY_PAGES, &q, sizeof(q), NULL,
                            0, rep, sizeof(rep), &n, NULL, NULL);
}

/* GET_BITMAP of the whole guest: 64 pages, one u64. */
static uint64_t
get_bitmap(struct model_server *s, const struct e2e_guest *g)
{
    struct {
        struct vfio_user_dirty_pages d;
        struct vfio_user_bitmap_range r;
    } __attribute__((packed)) q = {
        {sizeof(q) + 8, VFIO_USER_DIRTY_PAGES_FLAG_GET_BITMAP},
        {g->iova, g->size, {E2E_PG, 8}},
    };
    uint8_t rep[sizeof(q) + 8];
    uint64_t bits;
    size_t n;

    cr_assert_eq(g->size, 64 * E2E_PG);
    cr_assert_eq(vdev_client_call(s->cl, VFIO_USER_DIRTY_PAGES, &q, sizeof(q),
                                  NULL, 0, rep, sizeof(rep), &n, NULL, NULL),
                 0);
    cr_assert_eq(n, sizeof(rep));
    memcpy(&bits, rep + sizeof(q), 8);
    return bits;
}

static void
pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 5 + seed * 31 + (i >> 9));
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

Test(mig_e2e_v1, pre_copy_then_stop_copy)
{
    static uint8_t stream[256 * 1024];
    uint8_t buf_a[4096], got[4096], cfg_src[256], cfg_dst[256];
    struct e2e_snapshot before, after;
    uint64_t ssize, dsize;
    uint32_t srg = mig_region(&src, &ssize), drg = mig_region(&dst, &dsize);
    size_t pre, len;

    cr_assert_eq(reg_rd(&src, srg, OFF_STATE), V1_RUNNING);
    {
        uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
        cr_assert_eq(vdev_client_config_write(src.cl, PCI_COMMAND, &cmd, 2), 0);
    }
    model_wr(&src, EDU_BAR0, EDU_LIVENESS, 4, 0x0badf00d);
    model_wr(&src, EDU_BAR0, EDU_STATUS, 4, 0x80);
    model_wr(&src, EDU_BAR0, EDU_FACT, 4, 12);
    model_poll(&src, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    model_wr(&src, EDU_BAR0, EDU_IRQ_RAISE, 4, 0x300);
    cr_assert_eq(model_rd(&src, EDU_BAR0, EDU_FACT, 4), 479001600);

    cr_assert_eq(dirty_pages(&src, VFIO_USER_DIRTY_PAGES_FLAG_START), 0);
    pattern(buf_a, sizeof(buf_a), 3);
    memcpy(gsrc.p + 1 * E2E_PG, buf_a, sizeof(buf_a));
    e2e_edu_dma(&src, false, gsrc.iova + 1 * E2E_PG, EDU_DMA_BUF, 4096);
    e2e_edu_dma(&src, true, EDU_DMA_BUF, gsrc.iova + 20 * E2E_PG, 4096);
    e2e_edu_dma(&src, true, EDU_DMA_BUF + 0x800, gsrc.iova + 40 * E2E_PG + 8,
                0x10);
    cr_assert(memcmp(gsrc.p + 20 * E2E_PG, buf_a, 4096) == 0);

    /* Pre-copy: RUNNING | SAVING; the device still runs. */
    set_bits(&src, srg, V1_RUNNING | V1_SAVING);
    pre = drain(&src, srg, ssize, stream, 0, sizeof(stream));
    cr_assert_gt(pre, 0);
    cr_assert_eq(get_bitmap(&src, &gsrc), (1ull << 20) | (1ull << 40));
    cr_assert_eq(get_bitmap(&src, &gsrc), 0, "GET_BITMAP clears");
    model_wr(&src, EDU_BAR0, EDU_LIVENESS, 4, 0x600d);
    model_wr(&src, EDU_BAR0, EDU_IRQ_ACK, 4, 0x100);
    e2e_edu_dma(&src, true, EDU_DMA_BUF + 0xff8, gsrc.iova + 63 * E2E_PG, 8);
    cr_assert_eq(get_bitmap(&src, &gsrc), 1ull << 63);
    e2e_snapshot(&src, &before);
    cr_assert_eq(vdev_client_config_dump(src.cl, cfg_src, sizeof(cfg_src)), 0);

    /* Stop-and-copy: SAVING alone, then 0 (stopped). */
    set_bits(&src, srg, V1_SAVING);
    len = drain(&src, srg, ssize, stream, pre, sizeof(stream));
    cr_assert_gt(len, pre);
    cr_assert_eq(get_bitmap(&src, &gsrc), 0);
    set_bits(&src, srg, 0);

    /* Destination: RESUMING, data in pieces, then RUNNING. */
    model_wr(&dst, EDU_BAR0, EDU_FACT, 4, 2);
    model_poll(&dst, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    cr_assert_eq(reg_wr(&dst, drg, OFF_DATA_SIZE, 16), -EINVAL,
                 "data_size is written only while resuming");
    set_bits(&dst, drg, V1_RESUMING);
    feed(&dst, drg, stream, len, 5000);
    set_bits(&dst, drg, V1_RUNNING);

    e2e_snapshot(&dst, &after);
    e2e_snapshot_equal(&before, &after);
    cr_assert_eq(vdev_client_config_dump(dst.cl, cfg_dst, sizeof(cfg_dst)), 0);
    for (unsigned i = 0; i < sizeof(cfg_src); i++)
        cr_assert_eq(cfg_dst[i], cfg_src[i], "config byte 0x%x", i);
    cr_assert(cfg_dst[PCI_STATUS] & PCI_STATUS_INTERRUPT);
    cr_assert_eq(cfg_dst[PCI_COMMAND], PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_LIVENESS, 4), ~0x600du);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_FACT, 4), 479001600);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_IRQ_STATUS, 4), 0x201);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_DMA_SRC, 8), EDU_DMA_BUF + 0xff8);
    cr_assert_eq(e2e_snapshot_get(&after, "status.irq_fact"), 1);
    e2e_edu_buffer(&dst, &gdst, got);
    cr_assert(memcmp(got, buf_a, sizeof(got)) == 0, "the DMA buffer moved");

    /* The destination keeps working. */
    model_wr(&dst, EDU_BAR0, EDU_FACT, 4, 7);
    model_poll(&dst, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_FACT, 4), 5040);
    model_wr(&dst, EDU_BAR0, EDU_LIVENESS, 4, 0);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_LIVENESS, 4), 0xffffffffu);
    pattern(gdst.p + 7 * E2E_PG, 4096, 9);
    e2e_edu_dma(&dst, false, gdst.iova + 7 * E2E_PG, EDU_DMA_BUF, 4096);
    e2e_edu_buffer(&dst, &gdst, got);
    cr_assert(memcmp(got, gdst.p + 7 * E2E_PG, sizeof(got)) == 0);
    cr_assert_eq(reg_rd(&src, srg, OFF_STATE), 0, "the source stays stopped");

    /* Migration abandoned: the source runs again and its last writes come
     * back with DMA_UNMAP's dirty bitmap, the legacy way. */
    set_bits(&src, srg, V1_RUNNING);
    e2e_edu_dma(&src, true, EDU_DMA_BUF, gsrc.iova + 33 * E2E_PG + 100, 8);
    {
        struct {
            struct vfio_user_dma_unmap u;
            struct vfio_user_bitmap b;
        } __attribute__((packed)) q = {
            {sizeof(q) + 8, VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP, gsrc.iova,
             gsrc.size},
            {E2E_PG, 8},
        };
        uint8_t rep[sizeof(q) + 8];
        uint64_t bits;
        size_t n;

        cr_assert_eq(vdev_client_call(src.cl, VFIO_USER_DMA_UNMAP, &q,
                                      sizeof(q), NULL, 0, rep, sizeof(rep), &n,
                                      NULL, NULL),
                     0);
        cr_assert_eq(n, sizeof(rep));
        memcpy(&bits, rep + sizeof(q), 8);
        cr_assert_eq(bits, 1ull << 33);
    }
    cr_assert_eq(dirty_pages(&src, VFIO_USER_DIRTY_PAGES_FLAG_STOP), 0);
    clean_exit(&dst);
    clean_exit(&src);
}

/* The legacy destination refuses a corrupted stream when it is told to run
 * and keeps its state. */
Test(mig_e2e_v1, corrupted_stream_refused)
{
    static uint8_t stream[64 * 1024];
    struct e2e_snapshot before, after;
    uint64_t ssize, dsize;
    uint32_t srg = mig_region(&src, &ssize), drg = mig_region(&dst, &dsize);
    size_t len;

    model_wr(&src, EDU_BAR0, EDU_FACT, 4, 8);
    model_poll(&src, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    model_wr(&dst, EDU_BAR0, EDU_FACT, 4, 3);
    model_poll(&dst, EDU_BAR0, EDU_STATUS, 4, 1, 0, 5000);
    model_wr(&dst, EDU_BAR0, EDU_LIVENESS, 4, 0x77);
    set_bits(&src, srg, V1_SAVING);
    len = drain(&src, srg, ssize, stream, 0, sizeof(stream));
    set_bits(&src, srg, 0);

    e2e_snapshot(&dst, &before);
    stream[len / 2] ^= 0x01;
    set_bits(&dst, drg, V1_RESUMING);
    feed(&dst, drg, stream, len, 4096);
    cr_assert_lt(reg_wr(&dst, drg, OFF_STATE, V1_RUNNING), 0);
    cr_assert_eq(reg_rd(&dst, drg, OFF_STATE), V1_RESUMING);
    e2e_snapshot_vars(&dst, &after);
    e2e_snapshot_equal(&before, &after);

    /* The good stream, sent again, loads. */
    stream[len / 2] ^= 0x01;
    feed(&dst, drg, stream, len, 4096);
    set_bits(&dst, drg, V1_RUNNING);
    cr_assert_eq(model_rd(&dst, EDU_BAR0, EDU_FACT, 4), 40320);
    clean_exit(&dst);
}

/* A stopped device's BAR registers hold still, but its migration region
 * stays served: it is the only way a legacy client gets the device going
 * again. */
Test(mig_e2e_v1, region_served_while_stopped)
{
    uint64_t size;
    uint32_t rg = mig_region(&src, &size), v;

    set_bits(&src, rg, 0);
    cr_assert_eq(vdev_client_region_read(src.cl, EDU_BAR0, EDU_FACT, &v, 4),
                 -EBUSY);
    set_bits(&src, rg, V1_SAVING);
    cr_assert_gt(reg_rd(&src, rg, OFF_PENDING), 0);
    set_bits(&src, rg, 0);
    set_bits(&src, rg, V1_RUNNING);
    cr_assert_eq(vdev_client_region_read(src.cl, EDU_BAR0, EDU_FACT, &v, 4), 0);
}
