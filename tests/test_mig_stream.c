/* State stream: round trips, version N -> N+1 and back, and hostile streams
 * (truncated, flipped, wrong header, bad sizes, duplicates) refused with the
 * destination left byte-for-byte unchanged. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mig_testdev.h"

struct snap {
    struct mt_state st;
    uint8_t cfg[VDEV_CONFIG_SIZE];
    unsigned post_loads;
};

static void
take_snap(struct mt_dev *m, struct snap *s)
{
    s->st = m->st;
    memcpy(s->cfg, m->dev->cfg.data, VDEV_CONFIG_SIZE);
    s->post_loads = m->post_loads;
}

static void
assert_unchanged(struct mt_dev *m, const struct snap *s)
{
    cr_assert(memcmp(&s->st, &m->st, sizeof(s->st)) == 0, "state changed");
    cr_assert(memcmp(s->cfg, m->dev->cfg.data, VDEV_CONFIG_SIZE) == 0,
              "config space changed");
    cr_assert_eq(s->post_loads, m->post_loads);
}

static void
save(struct mt_dev *m, uint8_t **buf, size_t *len)
{
    cr_assert_eq(vdev_mig_stream_save(m->dev, m, buf, len), 0);
    cr_assert_gt(*len, 40);
}

/* Writable config bytes, as a guest would have programmed them. */
static void
program_config(struct mt_dev *m, uint8_t seed)
{
    for (unsigned i = 0x40; i < 0x50; i++) {
        m->dev->cfg.wmask[i] = 0xff;
        m->dev->cfg.data[i] = (uint8_t)(seed + i);
    }
}

Test(mig_stream, round_trip)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    uint8_t *buf;
    size_t len;

    mt_fill(src, 3);
    program_config(src, 9);
    program_config(dst, 0);
    src->dev->irqs.intx_level = true;
    src->dev->irqs.levels = 0x5;
    mt_fill(dst, 1);
    save(src, &buf, &len);
    cr_assert_eq(len, vdev_mig_stream_bound(src->dev));
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), 0);
    cr_assert(memcmp(&src->st, &dst->st, sizeof(src->st)) == 0);
    cr_assert(
        memcmp(src->dev->cfg.data, dst->dev->cfg.data, VDEV_CONFIG_SIZE) == 0);
    cr_assert(dst->dev->irqs.intx_level);
    cr_assert_eq(dst->dev->irqs.levels, 0x5);
    cr_assert_eq(dst->post_loads, 1);
    talloc_free(ctx);
}

Test(mig_stream, read_only_config_keeps_ours)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 1, "mt"),
                  *dst = mt_create(ctx, 1, "mt");
    uint8_t *buf;
    size_t len;

    /* A byte the guest cannot write differs on the source: not taken. */
    src->dev->cfg.data[0x60] = 0xaa;
    dst->dev->cfg.data[0x60] = 0x11;
    save(src, &buf, &len);
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), 0);
    cr_assert_eq(dst->dev->cfg.data[0x60], 0x11);
    talloc_free(ctx);
}

Test(mig_stream, older_stream_gets_reset_value_for_new_field)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 1, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    uint8_t *buf;
    size_t len;

    mt_fill(src, 5);
    mt_fill(dst, 8);
    save(src, &buf, &len);
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), 0);
    cr_assert_eq(dst->st.ctrl, src->st.ctrl);
    cr_assert_eq(dst->st.counter, src->st.counter);
    cr_assert_eq(dst->st.mode, src->st.mode);
    cr_assert(memcmp(dst->st.buf, src->st.buf, sizeof(dst->st.buf)) == 0);
    cr_assert_eq(dst->st.added, 0x55, "new field must get its reset value");
    talloc_free(ctx);
}

Test(mig_stream, newer_stream_refused)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 1, "mt");
    struct mt_dev *src3 = mt_create(ctx, 3, "mt"),
                  *dst2 = mt_create(ctx, 2, "mt");
    struct snap s;
    uint8_t *buf;
    size_t len;

    mt_fill(src, 5);
    mt_fill(dst, 8);
    take_snap(dst, &s);
    save(src, &buf, &len);
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), -EPROTONOSUPPORT);
    assert_unchanged(dst, &s);
    cr_assert(strstr(dst->log, "newer") != NULL, "log: %s", dst->log);

    /* Same fields, higher state version: refused as well. */
    mt_fill(dst2, 2);
    take_snap(dst2, &s);
    save(src3, &buf, &len);
    cr_assert_eq(vdev_mig_stream_load(dst2->dev, buf, len), -EPROTONOSUPPORT);
    assert_unchanged(dst2, &s);
    talloc_free(ctx);
}

Test(mig_stream, wrong_device_refused)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 1, "other"),
                  *dst = mt_create(ctx, 1, "mt");
    struct snap s;
    uint8_t *buf;
    size_t len;

    mt_fill(dst, 4);
    take_snap(dst, &s);
    save(src, &buf, &len);
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), -EPROTONOSUPPORT);
    assert_unchanged(dst, &s);

    /* Same name, different PCI identity. */
    src = mt_create(ctx, 1, "mt");
    src->dev->cfg.data[2] ^= 1;
    save(src, &buf, &len);
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), -EPROTONOSUPPORT);
    assert_unchanged(dst, &s);
    talloc_free(ctx);
}

Test(mig_stream, validate_refusal_leaves_device_unchanged)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    struct snap s;
    uint8_t *buf;
    size_t len;

    mt_fill(src, 1);
    src->st.mode = 9; /* out of range for the device */
    mt_fill(dst, 2);
    take_snap(dst, &s);
    save(src, &buf, &len);
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), -EINVAL);
    assert_unchanged(dst, &s);
    talloc_free(ctx);
}

Test(mig_stream, truncated_at_every_byte)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    struct snap s;
    uint8_t *buf, *copy;
    size_t len;

    mt_fill(src, 1);
    mt_fill(dst, 2);
    take_snap(dst, &s);
    save(src, &buf, &len);
    for (size_t n = 0; n < len; n++) {
        /* An exact-size copy, so ASan sees any read past the end. */
        copy = talloc_memdup(ctx, buf, n ? n : 1);
        cr_assert_lt(vdev_mig_stream_load(dst->dev, copy, n), 0, "len %zu", n);
        assert_unchanged(dst, &s);
        talloc_free(copy);
    }
    talloc_free(ctx);
}

Test(mig_stream, flipped_bytes)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    struct snap s;
    uint8_t *buf;
    size_t len;

    mt_fill(src, 1);
    mt_fill(dst, 2);
    take_snap(dst, &s);
    save(src, &buf, &len);
    for (size_t i = 0; i < len; i++) {
        static const uint8_t masks[] = {0x01, 0x80, 0xff};
        for (unsigned k = 0; k < 3; k++) {
            buf[i] ^= masks[k];
            cr_assert_lt(vdev_mig_stream_load(dst->dev, buf, len), 0,
                         "byte %zu mask %x", i, masks[k]);
            assert_unchanged(dst, &s);
            buf[i] ^= masks[k];
        }
    }
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), 0);
    talloc_free(ctx);
}

/* ---------------------------------------------------- rebuilt streams */

struct sfield {
    uint32_t id, size;
    const uint8_t *data;
};

struct parsed {
    const uint8_t *hdr; /* magic .. version */
    size_t hdr_len;
    const uint8_t *rt; /* runtime section body */
    uint32_t rt_len;
    struct sfield f[16];
    unsigned nr;
};

static void
parse(const uint8_t *b, size_t len, struct parsed *p)
{
    uint16_t name_len;
    uint32_t v;
    size_t off;

    memcpy(&name_len, b + 12, 2);
    p->hdr = b;
    p->hdr_len = 14 + name_len + 4;
    off = p->hdr_len;
    memcpy(&p->rt_len, b + off + 4, 4);
    p->rt = b + off + 8;
    off += 8 + p->rt_len;
    memcpy(&v, b + off + 4, 4);
    size_t end = off + 8 + v;
    off += 8;
    p->nr = 0;
    while (off < end) {
        struct sfield *f = &p->f[p->nr++];
        memcpy(&f->id, b + off, 4);
        memcpy(&f->size, b + off + 4, 4);
        f->data = b + off + 8;
        off += 8 + f->size;
    }
    cr_assert_eq(off + 4, len);
}

/* Serialises hdr, runtime section and fields (data_len bytes each, which
 * may differ from the size written) with a correct length and checksum. */
static uint8_t *
build(void *ctx, const struct parsed *p, const struct sfield *f, unsigned nr,
      const uint32_t *data_len, size_t *out_len)
{
    size_t dev_len = 0, total, off = 0;
    uint8_t *b;
    uint32_t v;

    for (unsigned i = 0; i < nr; i++)
        dev_len += 8 + data_len[i];
    total = p->hdr_len + 8 + p->rt_len + 8 + dev_len + 4;
    b = talloc_size(ctx, total);
    memcpy(b, p->hdr, p->hdr_len);
    v = (uint32_t)total;
    memcpy(b + 8, &v, 4);
    off = p->hdr_len;
    v = 1;
    memcpy(b + off, &v, 4);
    memcpy(b + off + 4, &p->rt_len, 4);
    memcpy(b + off + 8, p->rt, p->rt_len);
    off += 8 + p->rt_len;
    v = 2;
    memcpy(b + off, &v, 4);
    v = (uint32_t)dev_len;
    memcpy(b + off + 4, &v, 4);
    off += 8;
    for (unsigned i = 0; i < nr; i++) {
        memcpy(b + off, &f[i].id, 4);
        memcpy(b + off + 4, &f[i].size, 4);
        memcpy(b + off + 8, f[i].data, data_len[i]);
        off += 8 + data_len[i];
    }
    mt_fix_crc(b, total);
    *out_len = total;
    return b;
}

struct hostile {
    void *ctx;
    struct mt_dev *src, *dst;
    struct parsed p;
    struct snap s;
    uint8_t *buf;
    size_t len;
};

static void
hostile_init(struct hostile *h)
{
    h->ctx = talloc_new(NULL);
    h->src = mt_create(h->ctx, 2, "mt");
    h->dst = mt_create(h->ctx, 2, "mt");
    mt_fill(h->src, 1);
    mt_fill(h->dst, 2);
    take_snap(h->dst, &h->s);
    save(h->src, &h->buf, &h->len);
    parse(h->buf, h->len, &h->p);
    cr_assert_eq(h->p.nr, 5);
}

static void
expect_refused(struct hostile *h, const struct sfield *f, unsigned nr,
               const uint32_t *dl, int err)
{
    size_t n;
    uint8_t *b = build(h->ctx, &h->p, f, nr, dl, &n);
    cr_assert_eq(vdev_mig_stream_load(h->dst->dev, b, n), err);
    assert_unchanged(h->dst, &h->s);
}

Test(mig_stream, rebuilt_stream_is_accepted)
{
    struct hostile h;
    uint32_t dl[5];
    size_t n;
    uint8_t *b;

    hostile_init(&h);
    for (unsigned i = 0; i < 5; i++)
        dl[i] = h.p.f[i].size;
    b = build(h.ctx, &h.p, h.p.f, 5, dl, &n);
    cr_assert_eq(n, h.len);
    cr_assert(memcmp(b, h.buf, n) == 0);
    /* Field order does not matter. */
    struct sfield rev[5];
    uint32_t rdl[5];
    for (unsigned i = 0; i < 5; i++) {
        rev[i] = h.p.f[4 - i];
        rdl[i] = dl[4 - i];
    }
    b = build(h.ctx, &h.p, rev, 5, rdl, &n);
    cr_assert_eq(vdev_mig_stream_load(h.dst->dev, b, n), 0);
    cr_assert(memcmp(&h.dst->st, &h.src->st, sizeof(h.src->st)) == 0);
    talloc_free(h.ctx);
}

Test(mig_stream, duplicate_field_refused)
{
    struct hostile h;
    struct sfield f[6];
    uint32_t dl[6];

    hostile_init(&h);
    for (unsigned i = 0; i < 5; i++) {
        f[i] = h.p.f[i];
        dl[i] = f[i].size;
    }
    f[5] = h.p.f[1];
    dl[5] = f[5].size;
    expect_refused(&h, f, 6, dl, -EPROTO);
    talloc_free(h.ctx);
}

Test(mig_stream, missing_field_refused)
{
    struct hostile h;
    uint32_t dl[5];

    hostile_init(&h);
    for (unsigned i = 0; i < 5; i++)
        dl[i] = h.p.f[i].size;
    /* Drop "state.mode" (since 1) from a version 2 stream. */
    struct sfield f[4] = {h.p.f[0], h.p.f[1], h.p.f[3], h.p.f[4]};
    uint32_t fdl[4] = {dl[0], dl[1], dl[3], dl[4]};
    expect_refused(&h, f, 4, fdl, -EPROTO);
    /* Drop "state.added" (since 2) from a version 2 stream. */
    expect_refused(&h, h.p.f, 4, dl, -EPROTO);
    talloc_free(h.ctx);
}

Test(mig_stream, unknown_field_refused)
{
    struct hostile h;
    struct sfield f[6];
    uint32_t dl[6];
    static const uint8_t junk[4] = {1, 2, 3, 4};

    hostile_init(&h);
    for (unsigned i = 0; i < 5; i++) {
        f[i] = h.p.f[i];
        dl[i] = f[i].size;
    }
    f[5] = (struct sfield){mt_fnv1a("state.future"), 4, junk};
    dl[5] = 4;
    expect_refused(&h, f, 6, dl, -EPROTONOSUPPORT);
    cr_assert(strstr(h.dst->log, "unknown field id") != NULL);
    talloc_free(h.ctx);
}

Test(mig_stream, wrong_and_oversized_sizes_refused)
{
    struct hostile h;
    struct sfield f[5];
    uint32_t dl[5];
    static uint8_t big[64];

    hostile_init(&h);
    for (unsigned i = 0; i < 5; i++) {
        f[i] = h.p.f[i];
        dl[i] = f[i].size;
    }
    /* Size and bytes agree but differ from the field's size. */
    f[0].size = 8;
    f[0].data = big;
    dl[0] = 8;
    expect_refused(&h, f, 5, dl, -EPROTONOSUPPORT);
    /* Declared size far past the section. */
    f[0] = h.p.f[0];
    f[0].size = 0xffffffffu;
    dl[0] = h.p.f[0].size;
    expect_refused(&h, f, 5, dl, -EPROTO);
    f[0].size = 0x7ffffff0u;
    expect_refused(&h, f, 5, dl, -EPROTO);
    talloc_free(h.ctx);
}

static void
patch_and_expect(struct hostile *h, size_t off, const void *bytes, size_t n,
                 bool fix_crc, int err)
{
    uint8_t *b = talloc_memdup(h->ctx, h->buf, h->len);
    memcpy(b + off, bytes, n);
    if (fix_crc)
        mt_fix_crc(b, h->len);
    cr_assert_eq(vdev_mig_stream_load(h->dst->dev, b, h->len), err,
                 "patch at %zu", off);
    assert_unchanged(h->dst, &h->s);
}

Test(mig_stream, header_fields_checked)
{
    struct hostile h;
    uint32_t v32;
    uint16_t v16;

    hostile_init(&h);
    v32 = 0x12345678;
    patch_and_expect(&h, 0, &v32, 4, true, -EPROTO); /* magic */
    v16 = 2;
    patch_and_expect(&h, 4, &v16, 2, true, -EPROTONOSUPPORT); /* format */
    v16 = 1;
    patch_and_expect(&h, 6, &v16, 2, true, -EPROTO); /* flags */
    v32 = (uint32_t)h.len + 1;
    patch_and_expect(&h, 8, &v32, 4, true, -EPROTO); /* length */
    v32 = 10;
    patch_and_expect(&h, 8, &v32, 4, true, -EPROTO);
    v16 = 200;
    patch_and_expect(&h, 12, &v16, 2, true, -EPROTO);          /* name len */
    patch_and_expect(&h, 14, "xx", 2, true, -EPROTONOSUPPORT); /* name */
    v32 = 3;
    patch_and_expect(&h, 16, &v32, 4, true, -EPROTONOSUPPORT); /* version */
    v32 = 0;
    patch_and_expect(&h, 16, &v32, 4, true, -EPROTO);
    v32 = 7;
    patch_and_expect(&h, 20, &v32, 4, true, -EPROTO); /* section */
    v32 = 0xfffffff0u;
    patch_and_expect(&h, 24, &v32, 4, true, -EPROTO); /* its len */
    talloc_free(h.ctx);
}

Test(mig_stream, runtime_section_checked)
{
    struct hostile h;
    uint8_t v = 2;
    size_t intx;

    hostile_init(&h);
    /* Runtime fields: config (8 + 4096), then INTx. */
    intx = h.p.hdr_len + 8 + 8 + VDEV_CONFIG_SIZE + 8;
    patch_and_expect(&h, intx, &v, 1, true, -EINVAL);
    uint32_t id = 0x999;
    patch_and_expect(&h, intx - 8, &id, 4, true, -EPROTONOSUPPORT);
    id = 1; /* config twice */
    patch_and_expect(&h, intx - 8, &id, 4, true, -EPROTO);
    talloc_free(h.ctx);
}

Test(mig_stream, concatenated_streams_last_wins)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    uint8_t *a, *b, *both;
    size_t la, lb;
    struct snap s;

    mt_fill(src, 1);
    save(src, &a, &la);
    mt_fill(src, 2);
    save(src, &b, &lb);
    both = talloc_size(ctx, la + lb);
    memcpy(both, a, la);
    memcpy(both + la, b, lb);
    cr_assert_eq(vdev_mig_stream_load(dst->dev, both, la + lb), 0);
    cr_assert(memcmp(&dst->st, &src->st, sizeof(src->st)) == 0);
    cr_assert_eq(dst->post_loads, 1);
    /* A broken second part spoils the whole. */
    mt_fill(dst, 7);
    take_snap(dst, &s);
    both[la + 30] ^= 0x10;
    cr_assert_lt(vdev_mig_stream_load(dst->dev, both, la + lb), 0);
    assert_unchanged(dst, &s);
    talloc_free(ctx);
}

static void
discard(void *opaque, enum vdev_log_level level, const char *msg)
{
}

Test(mig_stream, desc_checked)
{
    void *ctx = talloc_new(NULL);
    static const struct vdev_pci_ident ident = {.vendor_id = 1};
    struct vdev_dev *dev = vdev_dev_create(ctx, "d", &ident);
    uint8_t state[8];
    struct vdev_mig_field f[2] = {
        {"a", 1, 1, 0, 4},
        {"b", 1, 1, 4, 4},
    };
    struct vdev_mig_desc d = {
        .device = "d",
        .version = 1,
        .fields = f,
        .nr_fields = 2,
        .state = state,
        .state_size = sizeof(state),
    };

    vdev_set_log(dev, discard, NULL, VDEV_LOG_ERROR);
    cr_assert_eq(vdev_set_migration(dev, &d), -EINVAL); /* duplicate id */
    f[1].id = 2;
    f[1].offset = 6; /* past the block */
    cr_assert_eq(vdev_set_migration(dev, &d), -EINVAL);
    f[1].offset = 4;
    f[1].since = 2; /* after version */
    cr_assert_eq(vdev_set_migration(dev, &d), -EINVAL);
    f[1].since = 1;
    cr_assert_eq(vdev_set_migration(dev, &d), 0);
    cr_assert_eq(vdev_set_migration(dev, &d), -EEXIST);
    talloc_free(ctx);
}

Test(mig_stream, msix_and_bar_memory_travel)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create_full(ctx, 2, "mt", 8192);
    struct mt_dev *dst = mt_create_full(ctx, 2, "mt", 8192);
    struct mt_dev *other = mt_create_full(ctx, 2, "mt", 16384);
    struct vdev_msix *sx, *dx;
    uint8_t *bar, *buf;
    size_t len;
    struct snap s;

    cr_assert_not_null(src);
    cr_assert_not_null(dst);
    cr_assert_not_null(other);
    sx = &src->dev->irqs.msix;
    dx = &dst->dev->irqs.msix;
    cr_assert_eq(sx->nr_vectors, 4);
    for (unsigned i = 0; i < 4 * 16; i++)
        sx->table[i] = (uint8_t)(0x10 + i);
    sx->table[1 * 16 + 12] = 0xff; /* reserved control bits set */
    sx->pba[0] = 0xff;             /* bits past vector 3 set */
    sx->table_used = true;
    bar = vdev_bar_memory(src->dev, 2);
    for (unsigned i = 0; i < 8192; i++)
        bar[i] = (uint8_t)(i * 13);
    save(src, &buf, &len);
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), 0);
    cr_assert(memcmp(vdev_bar_memory(dst->dev, 2), bar, 8192) == 0);
    cr_assert_eq(dx->pba[0], 0x0f, "pending bits beyond the vectors dropped");
    cr_assert(dx->table_used);
    for (unsigned v = 0; v < 4; v++) {
        cr_assert(memcmp(dx->table + v * 16, sx->table + v * 16, 12) == 0);
        cr_assert_eq(dx->table[v * 16 + 12], sx->table[v * 16 + 12] & 1);
        cr_assert_eq(dx->table[v * 16 + 13] | dx->table[v * 16 + 14] |
                         dx->table[v * 16 + 15],
                     0);
    }
    /* A device whose BAR2 differs in size cannot take this stream. */
    take_snap(other, &s);
    cr_assert_eq(vdev_mig_stream_load(other->dev, buf, len), -EPROTONOSUPPORT);
    assert_unchanged(other, &s);
    talloc_free(ctx);
}

/* Random corruption behind a valid checksum (and length), so the parser
 * itself meets the garbage: every outcome is a refusal with the device
 * unchanged, or a load whose values passed the device's checks. */
Test(mig_stream, mutations_with_valid_checksum)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    uint8_t *buf;
    size_t len;
    unsigned seed = 12345, loaded = 0, refused = 0;

    mt_fill(src, 1);
    save(src, &buf, &len);
    for (unsigned iter = 0; iter < 3000; iter++) {
        uint8_t *b = talloc_memdup(ctx, buf, len);
        size_t n = len;
        struct snap s;
        unsigned k = 1 + rand_r(&seed) % 4;
        int rc;

        for (unsigned j = 0; j < k; j++) {
            size_t at = (size_t)rand_r(&seed) % (n - 4);
            /* Favour the structural parts: header, ids and sizes. */
            if (rand_r(&seed) % 2)
                at = (size_t)rand_r(&seed) % 64;
            b[at] = (uint8_t)rand_r(&seed);
        }
        if (rand_r(&seed) % 4 == 0) {
            n = 4 + (size_t)rand_r(&seed) % (len - 4);
            uint32_t t = (uint32_t)n;
            if (n >= 12)
                memcpy(b + 8, &t, 4);
        }
        if (n >= 4)
            mt_fix_crc(b, n);
        b = talloc_realloc(ctx, b, uint8_t, n);
        mt_fill(dst, iter);
        take_snap(dst, &s);
        rc = vdev_mig_stream_load(dst->dev, b, n);
        if (rc < 0) {
            assert_unchanged(dst, &s);
            refused++;
        } else {
            cr_assert_leq(dst->st.mode, 3);
            loaded++;
        }
        talloc_free(b);
    }
    cr_assert_gt(refused, 1000);
    cr_assert_gt(loaded, 0, "value-only mutations load");
    talloc_free(ctx);
}

/* The checksum of a large stream (the fast multi-lane path) is the plain
 * CRC-32C of its bytes. */
Test(mig_stream, large_state_checksum)
{
    void *ctx = talloc_new(NULL);
    static const struct vdev_pci_ident ident = {.vendor_id = 7};
    struct vdev_dev *dev = vdev_dev_create(ctx, "big", &ident);
    struct vdev_dev *dst = vdev_dev_create(ctx, "big", &ident);
    static uint8_t state[200001], state2[200001];
    const struct vdev_mig_field f = {"blob", 0xb10b, 1, 0, sizeof(state)};
    struct vdev_mig_desc d = {
        .device = "big",
        .version = 1,
        .fields = &f,
        .nr_fields = 1,
        .state = state,
        .state_size = sizeof(state),
    };
    uint8_t *buf;
    size_t len;
    uint32_t crc;

    for (size_t i = 0; i < sizeof(state); i++)
        state[i] = (uint8_t)(i * 7 + (i >> 9));
    vdev_set_log(dst, discard, NULL, VDEV_LOG_ERROR);
    cr_assert_eq(vdev_set_migration(dev, &d), 0);
    d.state = state2;
    cr_assert_eq(vdev_set_migration(dst, &d), 0);
    cr_assert_eq(vdev_mig_stream_save(dev, ctx, &buf, &len), 0);
    memcpy(&crc, buf + len - 4, 4);
    cr_assert_eq(crc, mt_crc32c(buf, len - 4));
    cr_assert_eq(vdev_mig_stream_load(dst, buf, len), 0);
    cr_assert(memcmp(state, state2, sizeof(state)) == 0);
    buf[len / 2] ^= 4;
    cr_assert_eq(vdev_mig_stream_load(dst, buf, len), -EPROTO);
    talloc_free(ctx);
}

Test(mig_stream, msi_pending_travels)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    uint8_t *buf;
    size_t len;
    int cap;
    uint32_t pend;

    cr_assert_gt(cap = vdev_cap_msi(src->dev, 0, 4, true, true), 0);
    cr_assert_eq(vdev_cap_msi(dst->dev, 0, 4, true, true), cap);
    src->dev->irqs.msi_pending = 0x25; /* bit 5 is past the 4 vectors */
    save(src, &buf, &len);
    cr_assert_eq(vdev_mig_stream_load(dst->dev, buf, len), 0);
    cr_assert_eq(dst->dev->irqs.msi_pending, 0x5);
    /* 64-bit capability with per-vector masks: pending bits at 0x14. */
    memcpy(&pend, dst->dev->cfg.data + cap + 0x14, 4);
    cr_assert_eq(pend, 0x5);
    talloc_free(ctx);
}
