/* Migration messages at handler level: DEVICE_FEATURE (probe, GET/SET,
 * argsz), MIG_DATA_READ/WRITE (sizes, end of data, states), DMA logging
 * reports, and the legacy generation (DIRTY_PAGES, migration region). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "dma_fixture.h"
#include "mig_testdev.h"

#define PG 4096ull
#define FGET VFIO_DEVICE_FEATURE_GET
#define FSET VFIO_DEVICE_FEATURE_SET
#define FPROBE VFIO_DEVICE_FEATURE_PROBE

static struct vdev_conn *
conn_for(struct mt_dev *m)
{
    struct vdev_conn *c = fixture_conn(m->dev);

    c->negotiated = true;
    return c;
}

/* Calls a handler with an exact-size copy of body (ASan sees overreads). */
static int
call(struct vdev_conn *c, vdev_handler_fn *fn, const void *body, size_t len,
     struct vdev_reply *r)
{
    struct vfio_user_header h = {.msg_size = (uint32_t)(16 + len)};
    void *copy = talloc_memdup(c, body, len ? len : 1);
    struct vdev_msg m = {&h, copy, (uint32_t)len, NULL, 0};
    int rc;

    memset(r, 0, sizeof(*r));
    rc = fn(c, &m, r);
    talloc_free(copy);
    return rc;
}

static int
feature(struct vdev_conn *c, uint32_t flags, uint32_t argsz, const void *data,
        size_t dlen, struct vdev_reply *r)
{
    uint8_t buf[8 + 4096];
    struct vfio_user_device_feature h = {argsz, flags};

    cr_assert_leq(dlen, 4096);
    memcpy(buf, &h, 8);
    if (dlen)
        memcpy(buf + 8, data, dlen);
    return call(c, vdev_handle_device_feature, buf, 8 + dlen, r);
}

static uint32_t
u32_at(const struct vdev_reply *r, size_t off)
{
    uint32_t v;
    cr_assert_leq(off + 4, r->len);
    memcpy(&v, r->payload + off, 4);
    return v;
}

static uint64_t
u64_at(const struct vdev_reply *r, size_t off)
{
    uint64_t v;
    cr_assert_leq(off + 8, r->len);
    memcpy(&v, r->payload + off, 8);
    return v;
}

static int
set_state(struct vdev_conn *c, uint32_t s)
{
    struct vfio_device_feature_mig_state st = {s, -1};
    struct vdev_reply r;
    int rc = feature(c, FSET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, 16, &st,
                     sizeof(st), &r);
    if (rc == 0) {
        cr_assert_eq(r.len, 16);
        cr_assert_eq(u32_at(&r, 8), s);
        cr_assert_eq((int32_t)u32_at(&r, 12), -1);
    }
    return rc;
}

static uint32_t
get_state(struct vdev_conn *c)
{
    struct vdev_reply r;
    cr_assert_eq(feature(c, FGET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, 16,
                         NULL, 0, &r),
                 0);
    cr_assert_eq(r.len, 16);
    cr_assert_eq(u32_at(&r, 0), 16);
    cr_assert_eq((int32_t)u32_at(&r, 12), -1);
    return u32_at(&r, 8);
}

Test(mig_proto, feature_probe_and_flags)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct vdev_conn *c = conn_for(m);
    struct vdev_reply r;
    static const uint8_t short_body[7];

    cr_assert_eq(
        feature(c, FPROBE | VFIO_DEVICE_FEATURE_MIGRATION, 8, NULL, 0, &r), 0);
    cr_assert_eq(r.len, 8);
    cr_assert_eq(u32_at(&r, 4), FPROBE | VFIO_DEVICE_FEATURE_MIGRATION);
    cr_assert_eq(feature(c, FPROBE | FGET | VFIO_DEVICE_FEATURE_MIGRATION, 8,
                         NULL, 0, &r),
                 0);
    cr_assert_eq(feature(c, FPROBE | FSET | VFIO_DEVICE_FEATURE_MIGRATION, 8,
                         NULL, 0, &r),
                 -EINVAL);
    cr_assert_eq(
        feature(c, FPROBE | FGET | FSET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
                8, NULL, 0, &r),
        0);
    cr_assert_eq(feature(c,
                         FPROBE | FSET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
                         8, NULL, 0, &r),
                 0);
    cr_assert_eq(feature(c,
                         FPROBE | FGET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
                         8, NULL, 0, &r),
                 -EINVAL);
    cr_assert_eq(feature(c,
                         FPROBE | FGET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
                         8, NULL, 0, &r),
                 0);
    /* Features we do not have: ENOTTY, as vfio_ioctl_device_feature. */
    cr_assert_eq(feature(c, FPROBE | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, 8,
                         NULL, 0, &r),
                 -ENOTTY);
    cr_assert_eq(
        feature(c, FPROBE | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, 8, NULL, 0, &r),
        -ENOTTY);
    cr_assert_eq(feature(c, FGET | 0x1234, 8, NULL, 0, &r), -ENOTTY);
    cr_assert_eq(feature(c, 0x1234, 8, NULL, 0, &r), -ENOTTY);
    /* GET and SET together only with PROBE; one of the three needed. */
    cr_assert_eq(feature(c, FGET | FSET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
                         16, NULL, 0, &r),
                 -EINVAL);
    cr_assert_eq(feature(c, VFIO_DEVICE_FEATURE_MIGRATION, 16, NULL, 0, &r),
                 -EINVAL);
    cr_assert_eq(feature(c, (1u << 19) | FGET | VFIO_DEVICE_FEATURE_MIGRATION,
                         16, NULL, 0, &r),
                 -EINVAL);
    cr_assert_eq(call(c, vdev_handle_device_feature, short_body, 7, &r),
                 -EINVAL);
    talloc_free(ctx);
}

Test(mig_proto, feature_without_migration)
{
    static const struct vdev_pci_ident ident = {.vendor_id = 1};
    void *ctx = talloc_new(NULL);
    struct mt_dev fake = {.dev = vdev_dev_create(ctx, "plain", &ident)};
    struct vdev_conn *c = conn_for(&fake);
    struct vdev_reply r;
    static const uint8_t rd[8] = {8 + 16, 0, 0, 0, 16};

    cr_assert_eq(
        feature(c, FPROBE | VFIO_DEVICE_FEATURE_MIGRATION, 8, NULL, 0, &r),
        -ENOTTY);
    cr_assert_eq(call(c, vdev_handle_mig_data_read, rd, 8, &r), -ENOTSUP);
    talloc_free(ctx);
}

Test(mig_proto, migration_get_and_argsz)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct vdev_conn *c = conn_for(m);
    struct vdev_reply r;
    static const uint8_t three[3];

    cr_assert_eq(
        feature(c, FGET | VFIO_DEVICE_FEATURE_MIGRATION, 16, NULL, 0, &r), 0);
    cr_assert_eq(r.len, 16);
    cr_assert_eq(u32_at(&r, 0), 16);
    cr_assert_eq(u64_at(&r, 8),
                 VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY);
    /* argsz too small: the header alone, argsz saying what is needed. */
    cr_assert_eq(
        feature(c, FGET | VFIO_DEVICE_FEATURE_MIGRATION, 8, NULL, 0, &r), 0);
    cr_assert_eq(r.len, 8);
    cr_assert_eq(u32_at(&r, 0), 16);
    /* GET reads no request data: bytes there are ignored, as the kernel
     * does; an argsz below the header is refused. */
    cr_assert_eq(
        feature(c, FGET | VFIO_DEVICE_FEATURE_MIGRATION, 16, three, 3, &r), 0);
    cr_assert_eq(r.len, 16);
    cr_assert_eq(
        feature(c, FGET | VFIO_DEVICE_FEATURE_MIGRATION, 4, NULL, 0, &r),
        -EINVAL);
    talloc_free(ctx);
}

Test(mig_proto, device_state_get_set)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct vdev_conn *c = conn_for(m);
    struct vdev_reply r;
    struct vfio_device_feature_mig_state st = {VFIO_DEVICE_STATE_STOP, 5};

    cr_assert_eq(get_state(c), VFIO_DEVICE_STATE_RUNNING);
    cr_assert_eq(feature(c, FSET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, 16,
                         &st, sizeof(st), &r),
                 0);
    cr_assert_eq((int32_t)u32_at(&r, 12), -1, "data_fd is unused: -1");
    cr_assert_eq(get_state(c), VFIO_DEVICE_STATE_STOP);
    cr_assert_eq(set_state(c, VFIO_DEVICE_STATE_RUNNING_P2P), -EINVAL);
    cr_assert_eq(set_state(c, VFIO_DEVICE_STATE_ERROR), -EINVAL);
    cr_assert_eq(get_state(c), VFIO_DEVICE_STATE_STOP);
    cr_assert_eq(
        feature(c, FSET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, 16, &st, 4, &r),
        -EINVAL);
    cr_assert_eq(set_state(c, VFIO_DEVICE_STATE_STOP_COPY), 0);
    cr_assert_eq(set_state(c, VFIO_DEVICE_STATE_PRE_COPY), -EINVAL);
    cr_assert_eq(get_state(c), VFIO_DEVICE_STATE_STOP_COPY);
    cr_assert_eq(set_state(c, VFIO_DEVICE_STATE_RUNNING), 0);
    talloc_free(ctx);
}

static int
data_read(struct vdev_conn *c, uint32_t argsz, uint32_t size,
          struct vdev_reply *r)
{
    struct vfio_user_mig_data q = {argsz, size};
    return call(c, vdev_handle_mig_data_read, &q, sizeof(q), r);
}

static int
data_write(struct vdev_conn *c, uint32_t argsz, uint32_t size, const void *data,
           size_t dlen)
{
    struct vdev_reply r;
    uint8_t *buf = talloc_size(c, 8 + dlen);
    struct vfio_user_mig_data q = {argsz, size};
    int rc;

    memcpy(buf, &q, 8);
    memcpy(buf + 8, data, dlen);
    rc = call(c, vdev_handle_mig_data_write, buf, 8 + dlen, &r);
    if (rc == 0)
        cr_assert_eq(r.len, 0);
    talloc_free(buf);
    return rc;
}

/* Reads the whole stream with the given request sizes (cycled). */
static uint8_t *
read_all(struct vdev_conn *c, const uint32_t *sizes, unsigned nr, size_t *len)
{
    uint8_t *out = talloc_size(c, 1);
    struct vdev_reply r;

    *len = 0;
    for (unsigned i = 0;; i++) {
        uint32_t want = sizes[i % nr];
        cr_assert_eq(data_read(c, 8 + want, want, &r), 0);
        uint32_t got = u32_at(&r, 4);
        cr_assert_leq(got, want);
        cr_assert_eq(u32_at(&r, 0), 8 + got);
        cr_assert_eq(r.len, 8 + got);
        out = talloc_realloc(c, out, uint8_t, *len + got + 1);
        memcpy(out + *len, r.payload + 8, got);
        *len += got;
        if (want && got < want)
            break; /* short read: the end */
    }
    return out;
}

Test(mig_proto, data_read_sizes_and_end)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct vdev_conn *c = conn_for(m);
    static const uint32_t sizes[] = {0, 1, 7, 100, 4096, 1u << 20};
    struct vdev_reply r;
    uint8_t *got, *want;
    size_t got_len, want_len;

    mt_fill(m, 3);
    cr_assert_eq(data_read(c, 8 + 16, 16, &r), -EINVAL, "not saving");
    cr_assert_eq(set_state(c, VFIO_DEVICE_STATE_STOP_COPY), 0);
    cr_assert_eq(vdev_mig_stream_save(m->dev, ctx, &want, &want_len), 0);
    cr_assert_eq(data_read(c, 8 + 9, 10, &r), -EINVAL, "argsz < size");
    cr_assert_eq(data_read(c, 16 + (2u << 20), (1u << 20) + 1, &r), -EINVAL);
    {
        static const uint8_t twelve[12] = {24, 0, 0, 0, 16};
        cr_assert_eq(call(c, vdev_handle_mig_data_read, twelve, 12, &r),
                     -EINVAL);
    }
    got = read_all(c, sizes, 6, &got_len);
    cr_assert_eq(got_len, want_len);
    cr_assert(memcmp(got, want, want_len) == 0);
    /* After the end, reads keep returning nothing. */
    cr_assert_eq(data_read(c, 8 + 64, 64, &r), 0);
    cr_assert_eq(u32_at(&r, 4), 0);
    cr_assert_eq(r.len, 8);
    talloc_free(ctx);
}

Test(mig_proto, data_write_only_while_resuming)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    struct vdev_conn *cs = conn_for(src), *cd = conn_for(dst);
    static const uint32_t sizes[] = {1000};
    uint8_t *s;
    size_t len;

    mt_fill(src, 6);
    mt_fill(dst, 1);
    cr_assert_eq(set_state(cs, VFIO_DEVICE_STATE_STOP_COPY), 0);
    s = read_all(cs, sizes, 1, &len);
    cr_assert_eq(set_state(cs, VFIO_DEVICE_STATE_STOP), 0);

    cr_assert_eq(data_write(cd, 8 + 4, 4, s, 4), -EINVAL, "RUNNING");
    cr_assert_eq(set_state(cd, VFIO_DEVICE_STATE_STOP_COPY), 0);
    cr_assert_eq(data_write(cd, 8 + 4, 4, s, 4), -EINVAL, "STOP_COPY");
    cr_assert_eq(set_state(cd, VFIO_DEVICE_STATE_RESUMING), 0);
    cr_assert_eq(data_write(cd, 8 + 4, 5, s, 4), -EINVAL, "size != data");
    cr_assert_eq(data_write(cd, 8 + 4, 3, s, 4), -EINVAL, "size != data");
    cr_assert_eq(data_write(cd, 4, 4, s, 4), -EINVAL, "argsz");
    for (size_t off = 0; off < len; off += 777) {
        size_t n = len - off < 777 ? len - off : 777;
        cr_assert_eq(data_write(cd, (uint32_t)(8 + n), (uint32_t)n, s + off, n),
                     0);
    }
    cr_assert_eq(set_state(cd, VFIO_DEVICE_STATE_RUNNING), 0);
    cr_assert(memcmp(&src->st, &dst->st, sizeof(src->st)) == 0);
    talloc_free(ctx);
}

Test(mig_proto, data_write_bounded)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct vdev_conn *c = conn_for(m);
    uint8_t *junk = talloc_zero_size(ctx, 1u << 20);
    struct vfio_user_mig_data q = {8, (1u << 20) + 1};
    struct vdev_reply r;
    int rc = 0;

    cr_assert_eq(set_state(c, VFIO_DEVICE_STATE_RESUMING), 0);
    cr_assert_eq(call(c, vdev_handle_mig_data_write, &q, 8, &r), -EINVAL);
    for (unsigned i = 0; i < 8 && rc == 0; i++)
        rc = data_write(c, 8, 1u << 20, junk, 1u << 20);
    cr_assert_eq(rc, -EFBIG, "resume data must be bounded");
    cr_assert_lt(set_state(c, VFIO_DEVICE_STATE_STOP), 0);
    cr_assert_eq(get_state(c), VFIO_DEVICE_STATE_RESUMING);
    talloc_free(ctx);
}

/* ------------------------------------------------------------ logging */

static int
log_start(struct vdev_conn *c, uint64_t pgsize, const uint64_t *ranges,
          uint32_t nr, struct vdev_reply *r)
{
    uint8_t buf[16 + 16 * 8];
    struct vfio_user_dma_logging_control ctl = {pgsize, nr, 0};

    memcpy(buf, &ctl, 16);
    if (nr)
        memcpy(buf + 16, ranges, 16 * nr);
    return feature(c, FSET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, 8 + 16, buf,
                   16 + 16 * nr, r);
}

static int
log_report(struct vdev_conn *c, uint64_t iova, uint64_t len, uint64_t pg,
           uint32_t argsz, struct vdev_reply *r)
{
    struct vfio_user_dma_logging_report q = {iova, len, pg};
    return feature(c, FGET | VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, argsz, &q,
                   sizeof(q), r);
}

static struct vdev_conn *
logging_conn(struct mt_dev *m)
{
    struct vdev_conn *c = conn_for(m);
    cr_assert_eq(vdev_dma_add(&c->dma, 0x100000, 64 * PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(&c->dma, 0x200000, 16 * PG, -1, 0, 3), 0);
    return c;
}

Test(mig_proto, dma_logging_report)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct vdev_conn *c = logging_conn(m);
    const uint64_t ranges[] = {0x200000, 16 * PG, 0x100000, 64 * PG};
    struct vdev_reply r;

    cr_assert_eq(log_report(c, 0x100000, 64 * PG, PG, 64, &r), -EINVAL,
                 "not started");
    cr_assert_eq(log_start(c, PG, ranges, 2, &r), 0);
    cr_assert_eq(r.len, 8 + 16 + 32);
    cr_assert_eq(u64_at(&r, 8), PG);
    cr_assert_eq(log_start(c, PG, ranges, 2, &r), -EBUSY);

    cr_assert_eq(vdev_dma_mark_dirty(m->dev, 0x100000 + 3 * PG, 1), 0);
    cr_assert_eq(vdev_dma_mark_dirty(m->dev, 0x100000 + 63 * PG, 8), 0);
    cr_assert_eq(vdev_dma_mark_dirty(m->dev, 0x200000 + 5 * PG, 1), 0);
    /* argsz too small for the bitmap: told the size, nothing read. */
    cr_assert_eq(log_report(c, 0x100000, 64 * PG, PG, 8 + 24, &r), 0);
    cr_assert_eq(r.len, 8);
    cr_assert_eq(u32_at(&r, 0), 8 + 24 + 8);
    cr_assert_eq(log_report(c, 0x100000, 64 * PG, PG, 8 + 24 + 8, &r), 0);
    cr_assert_eq(r.len, 8 + 24 + 8);
    cr_assert_eq(u64_at(&r, 8), 0x100000);
    cr_assert_eq(u64_at(&r, 32), (1ull << 3) | (1ull << 63));
    /* Reports clear what they return. */
    cr_assert_eq(log_report(c, 0x100000, 64 * PG, PG, 64, &r), 0);
    cr_assert_eq(u64_at(&r, 32), 0);

    /* Coarser pages than logged: bits merge. */
    cr_assert_eq(vdev_dma_mark_dirty(m->dev, 0x100000 + 3 * PG, 1), 0);
    cr_assert_eq(vdev_dma_mark_dirty(m->dev, 0x100000 + 62 * PG, 1), 0);
    cr_assert_eq(log_report(c, 0x100000, 64 * PG, 2 * PG, 64, &r), 0);
    cr_assert_eq(r.len, 8 + 24 + 8);
    cr_assert_eq(u64_at(&r, 32), (1ull << 1) | (1ull << 31));
    /* Finer pages than 4 KiB: refused, as the kernel refuses them. */
    cr_assert_eq(log_report(c, 0x200000, 16 * PG, PG / 2, 64, &r), -EINVAL);
    /* A length that ends mid-word: bits past the range stay zero. */
    cr_assert_eq(vdev_dma_mark_dirty(m->dev, 0x100000, 64 * PG), 0);
    cr_assert_eq(log_report(c, 0x100000, 10 * PG + 1, PG, 64, &r), 0);
    cr_assert_eq(u64_at(&r, 32), (1ull << 11) - 1);

    /* Bad requests. */
    cr_assert_eq(log_report(c, 0x300000, PG, PG, 64, &r), -EINVAL,
                 "outside the logged ranges");
    cr_assert_eq(log_report(c, 0x1ff000, 2 * PG, PG, 64, &r), -EINVAL,
                 "straddles a range edge");
    cr_assert_eq(log_report(c, 0x100800, PG, PG, 64, &r), -EINVAL);
    cr_assert_eq(log_report(c, 0x100000, PG, 3000, 64, &r), -EINVAL);
    cr_assert_eq(log_report(c, 0x100000, 0, PG, 64, &r), -EINVAL);

    cr_assert_eq(
        feature(c, FSET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, 8, NULL, 0, &r),
        0);
    cr_assert_eq(log_report(c, 0x100000, PG, PG, 64, &r), -EINVAL);
    cr_assert_eq(
        feature(c, FSET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, 8, NULL, 0, &r),
        0);
    talloc_free(ctx);
}

Test(mig_proto, dma_logging_start_checked)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct vdev_conn *c = logging_conn(m);
    const uint64_t overlap[] = {0x100000, 64 * PG, 0x13f000, PG};
    const uint64_t wrap[] = {~0ull - PG + 2, PG};
    const uint64_t empty[] = {0x100000, 0};
    struct vdev_reply r;
    uint8_t big[16];
    struct vfio_user_dma_logging_control ctl = {PG, 2, 0};

    cr_assert_eq(log_start(c, 0, NULL, 0, &r), -EINVAL);
    cr_assert_eq(log_start(c, 3 * PG, NULL, 0, &r), -EINVAL);
    cr_assert_eq(log_start(c, PG, overlap, 2, &r), -EINVAL);
    cr_assert_eq(log_start(c, PG, wrap, 1, &r), -EINVAL);
    {
        /* The first range ends exactly at 2^64; the second lies in it. */
        const uint64_t top[] = {0ull - 2 * PG, 2 * PG, 0ull - PG, PG};
        cr_assert_eq(log_start(c, PG, top, 2, &r), -EINVAL);
        cr_assert_eq(log_start(c, PG, top, 1, &r), 0);
        cr_assert_eq(feature(c, FSET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, 8,
                             NULL, 0, &r),
                     0);
    }
    cr_assert_eq(log_start(c, PG, empty, 1, &r), -EINVAL);
    memcpy(big, &ctl, 16);
    cr_assert_eq(feature(c, FSET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, 8,
                         big, 16, &r),
                 -EINVAL, "num_ranges vs data");
    /* The reserved field is not looked at, as the kernel does not; a
     * DMA_LOGGING_STOP with data is served. */
    ctl.num_ranges = 0;
    ctl.reserved = 1;
    memcpy(big, &ctl, 16);
    cr_assert_eq(feature(c, FSET | VFIO_DEVICE_FEATURE_DMA_LOGGING_START, 8,
                         big, 16, &r),
                 0, "reserved");
    cr_assert_eq(
        feature(c, FSET | VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, 8, big, 4, &r),
        0);
    /* A small hint becomes our smallest page; no ranges = everything. */
    cr_assert_eq(log_start(c, 1024, NULL, 0, &r), 0);
    cr_assert_eq(u64_at(&r, 8), PG);
    cr_assert_eq(log_report(c, 0, 1ull << 40, PG, ~0u, &r), -E2BIG);
    cr_assert_eq(log_report(c, 0x200000, 16 * PG, PG, 64, &r), 0);
    talloc_free(ctx);
}

/* ------------------------------------------------------------ legacy */

static int
dirty_pages(struct vdev_conn *c, uint32_t flags, uint32_t argsz,
            const struct vfio_user_bitmap_range *rg, struct vdev_reply *r)
{
    uint8_t buf[8 + sizeof(*rg)];
    struct vfio_user_dirty_pages dp = {argsz, flags};

    memcpy(buf, &dp, 8);
    if (rg)
        memcpy(buf + 8, rg, sizeof(*rg));
    return call(c, vdev_handle_dirty_pages, buf, rg ? sizeof(buf) : 8, r);
}

Test(mig_proto, legacy_dirty_pages)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct vdev_conn *c = logging_conn(m);
    struct vfio_user_bitmap_range rg = {0x100000, 64 * PG, {PG, 8}};
    const uint64_t ranges[] = {0x100000, 64 * PG};
    struct vdev_reply r;

    cr_assert_eq(
        dirty_pages(c, VFIO_USER_DIRTY_PAGES_FLAG_GET_BITMAP, 64, &rg, &r),
        -EINVAL, "not logging");
    cr_assert_eq(dirty_pages(c, VFIO_USER_DIRTY_PAGES_FLAG_START, 8, NULL, &r),
                 0);
    cr_assert_eq(r.len, 0);
    cr_assert_eq(dirty_pages(c, VFIO_USER_DIRTY_PAGES_FLAG_START, 8, NULL, &r),
                 0, "idempotent");
    cr_assert_eq(log_start(c, PG, ranges, 1, &r), -EBUSY, "v1 owns logging");
    cr_assert_eq(dirty_pages(c, 0, 8, NULL, &r), -EINVAL);
    cr_assert_eq(dirty_pages(c,
                             VFIO_USER_DIRTY_PAGES_FLAG_START |
                                 VFIO_USER_DIRTY_PAGES_FLAG_STOP,
                             8, NULL, &r),
                 -EINVAL);

    cr_assert_eq(vdev_dma_mark_dirty(m->dev, 0x100000 + 9 * PG, 1), 0);
    cr_assert_eq(dirty_pages(c, VFIO_USER_DIRTY_PAGES_FLAG_GET_BITMAP,
                             8 + 32 + 7, &rg, &r),
                 -EINVAL, "argsz");
    rg.bitmap.size = 7;
    cr_assert_eq(
        dirty_pages(c, VFIO_USER_DIRTY_PAGES_FLAG_GET_BITMAP, 64, &rg, &r),
        -EINVAL, "bitmap too small");
    rg.bitmap.size = 8;
    cr_assert_eq(
        dirty_pages(c, VFIO_USER_DIRTY_PAGES_FLAG_GET_BITMAP, 64, &rg, &r), 0);
    cr_assert_eq(r.len, 8 + 32 + 8);
    cr_assert_eq(u32_at(&r, 0), 8 + 32 + 8);
    cr_assert_eq(u64_at(&r, 8), 0x100000);
    cr_assert_eq(u64_at(&r, 40), 1ull << 9);

    /* Legacy DMA_UNMAP with a bitmap works on the same log. */
    {
        struct {
            struct vfio_user_dma_unmap u;
            struct vfio_user_bitmap b;
        } __attribute__((packed)) un = {
            {24 + 16 + 2, VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP, 0x200000,
             16 * PG},
            {PG, 2},
        };
        cr_assert_eq(vdev_dma_mark_dirty(m->dev, 0x200000 + 2 * PG, 1), 0);
        cr_assert_eq(call(c, vdev_handle_dma_unmap, &un, sizeof(un), &r), 0);
        cr_assert_eq(r.len, 24 + 16 + 2);
        cr_assert_eq(r.payload[40], 0x04);
        cr_assert_eq(r.payload[41], 0);
    }
    cr_assert_eq(dirty_pages(c, VFIO_USER_DIRTY_PAGES_FLAG_STOP, 8, NULL, &r),
                 0);
    cr_assert_eq(log_start(c, PG, ranges, 1, &r), 0, "v2 may log now");
    talloc_free(ctx);
}

struct v1 {
    struct vdev_dev *dev;
    struct vdev_region *rg;
};

static struct v1
v1_of(struct mt_dev *m)
{
    struct v1 v = {m->dev, &m->dev->regions[m->dev->mig->v1_region]};
    cr_assert(v.rg->present);
    cr_assert_eq(v.rg->cap_type, VFIO_REGION_TYPE_MIGRATION_DEPRECATED);
    cr_assert_eq(v.rg->cap_subtype, VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED);
    return v;
}

static int
v1_io(struct v1 v, uint64_t off, void *buf, uint32_t n, bool wr)
{
    return v.rg->access(v.dev, v.rg->opaque, off, buf, n, wr);
}

static uint64_t
v1_rd(struct v1 v, uint64_t off)
{
    uint64_t val = 0;
    cr_assert_eq(v1_io(v, off, &val, off ? 8 : 4, false), 0);
    return val;
}

static int
v1_wr(struct v1 v, uint64_t off, uint64_t val)
{
    return v1_io(v, off, &val, off ? 8 : 4, true);
}

/* One legacy save iteration set: read until pending_bytes is 0. */
static void
v1_drain(struct v1 v, uint8_t *out, size_t *len, size_t cap)
{
    for (;;) {
        uint64_t pending = v1_rd(v, 8), off, size;
        if (!pending)
            return;
        off = v1_rd(v, 16);
        size = v1_rd(v, 24);
        cr_assert_eq(off, VDEV_MIG_V1_DATA_OFFSET);
        cr_assert_gt(size, 0);
        cr_assert_leq(*len + size, cap);
        for (uint64_t i = 0; i < size; i += 1000) {
            uint32_t n = (uint32_t)(size - i < 1000 ? size - i : 1000);
            cr_assert_eq(v1_io(v, off + i, out + *len + i, n, false), 0);
        }
        /* Past the staged chunk: refused. */
        cr_assert_eq(v1_io(v, off + size, out, 1, false), -EINVAL);
        *len += size;
    }
}

Test(mig_proto, legacy_region_migration)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    struct v1 s = v1_of(src), d = v1_of(dst);
    struct vdev_conn *cs = conn_for(src);
    size_t cap = 64 * 1024, len = 0;
    uint8_t *buf = talloc_size(ctx, cap);
    uint32_t bad;

    cr_assert_eq(v1_rd(s, 0), VFIO_DEVICE_STATE_V1_RUNNING);
    /* Register access rules. */
    cr_assert_eq(v1_io(s, 0, &bad, 2, false), -EINVAL);
    cr_assert_eq(v1_io(s, 8, &bad, 4, false), -EINVAL);
    cr_assert_eq(v1_wr(s, 8, 1), -EINVAL, "pending_bytes is read-only");
    cr_assert_eq(v1_wr(s, 0, 6), -EINVAL, "error encoding");
    cr_assert_eq(v1_wr(s, 0, 5), -EINVAL);
    cr_assert_eq(v1_wr(s, 0, 9), -EINVAL);
    cr_assert_eq(v1_rd(s, 0), VFIO_DEVICE_STATE_V1_RUNNING);

    mt_fill(src, 1);
    cr_assert_eq(
        v1_wr(s, 0, VFIO_DEVICE_STATE_V1_RUNNING | VFIO_DEVICE_STATE_V1_SAVING),
        0);
    cr_assert_eq(src->dev->mig->state, VFIO_DEVICE_STATE_PRE_COPY);
    /* v2 may not meddle with a legacy session. */
    cr_assert_eq(set_state(cs, VFIO_DEVICE_STATE_STOP), -EBUSY);
    {
        struct vdev_reply r;
        cr_assert_eq(data_read(cs, 8 + 16, 16, &r), -EBUSY);
    }
    v1_drain(s, buf, &len, cap);
    mt_fill(src, 2); /* still running during pre-copy */
    cr_assert_eq(v1_wr(s, 0, VFIO_DEVICE_STATE_V1_SAVING), 0);
    cr_assert_eq(v1_rd(s, 0), VFIO_DEVICE_STATE_V1_SAVING);
    v1_drain(s, buf, &len, cap);
    cr_assert_eq(v1_wr(s, 0, 0), 0);
    cr_assert_eq(src->dev->mig->state, VFIO_DEVICE_STATE_STOP);

    /* Destination: RESUMING, window writes, data_size commits. */
    mt_fill(dst, 9);
    cr_assert_eq(v1_wr(d, 24, 4), -EINVAL, "not resuming");
    cr_assert_eq(v1_wr(d, 0, VFIO_DEVICE_STATE_V1_RESUMING), 0);
    for (size_t off = 0; off < len; off += 3000) {
        uint64_t n = len - off < 3000 ? len - off : 3000;
        uint64_t at = v1_rd(d, 16);
        cr_assert_eq(v1_io(d, at, buf + off, (uint32_t)n, true), 0);
        cr_assert_eq(v1_wr(d, 24, n), 0);
    }
    cr_assert_eq(v1_wr(d, 24, VDEV_MIG_V1_WINDOW + 1), -EINVAL);
    cr_assert_eq(v1_wr(d, 0, VFIO_DEVICE_STATE_V1_RUNNING), 0);
    cr_assert(memcmp(&src->st, &dst->st, sizeof(src->st)) == 0);
    cr_assert_eq(v1_rd(d, 0), VFIO_DEVICE_STATE_V1_RUNNING);
    talloc_free(ctx);
}

Test(mig_proto, generation_freed_when_its_client_leaves)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct vdev_conn *a = logging_conn(m), *b;
    struct vdev_reply r;

    cr_assert_eq(log_start(a, PG, NULL, 0, &r), 0);
    cr_assert_eq(dirty_pages(a, VFIO_USER_DIRTY_PAGES_FLAG_START, 8, NULL, &r),
                 -EBUSY);
    /* The v2 client goes away (its maps and logging with it); a legacy
     * client comes and may log and migrate. */
    talloc_free(a);
    b = logging_conn(m);
    cr_assert_eq(dirty_pages(b, VFIO_USER_DIRTY_PAGES_FLAG_START, 8, NULL, &r),
                 0);
    cr_assert_eq(m->dev->mig->gen, VDEV_MIG_V1);
    talloc_free(ctx);
}
