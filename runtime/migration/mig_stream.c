/* The device state stream: a self-describing, versioned, checksummed record
 * of the runtime's state (config space, interrupts, small BAR memories) and
 * the device's migration fields; writer and a loader for hostile input.
 *
 * Layout (little-endian):
 *   u32 magic "VDMS", u16 format, u16 flags (0), u32 total length,
 *   u16 name length, name bytes, u32 state version,
 *   section RUNTIME, section DEVICE: u32 section id, u32 byte length,
 *     then fields: u32 id, u32 size, size bytes,
 *   [section CLOCK, when flags has STREAM_FLAG_CLOCK: device time and
 *     timers, mig_clock.c],
 *   u32 CRC-32C of everything before it.
 * The clock section is written only by devices that use their clock, so
 * other devices' streams are as before, and streams without it (older
 * builds) still load; a build that does not know the flag refuses it.
 * Runtime field ids are fixed here; device field ids come from the
 * vdev_mig_desc (FNV-1a of the qualified name, stable across revisions).
 *
 * The runtime section holds config space (4 KiB), the INTx level, the
 * per-vector levels, MSI vectors pending, the MSI-X table and PBA, and the
 * backing memory of BARs up to VDEV_MIG_BAR_MAX (larger ones, such as
 * shared-memory windows, are the device's or the VMM's business). It does
 * not hold what belongs to the client connection (DMA maps, eventfds,
 * SET_IRQS masks: the VMM sets them up again on the destination). Field
 * values in the device section are the device's bytes as they are; the
 * runtime's multi-byte values are little-endian, except the PBA, kept in
 * host order like the rest of a device's state.
 *
 * Loading: every length is bounded by what contains it; an unknown field
 * id (a newer or different revision), a duplicate, a size that differs
 * from this build's, a missing field the stream's version should have, a
 * different device name or PCI identity, a newer state or format version
 * are all refused. Fields added after the stream's version keep their
 * reset values. The device's validate hook sees the candidate block before
 * anything changes; config bytes the guest cannot write keep this device's
 * values (a stream can set no more than a guest could). */
#include <endian.h>
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "migration/migration.h"

#define STREAM_MAGIC 0x534d4456u /* "VDMS" */
#define STREAM_FORMAT 1u
#define SEC_RUNTIME 1u
#define SEC_DEVICE 2u
#define SEC_CLOCK 3u
#define STREAM_FLAG_CLOCK 1u
#define NAME_MAX_LEN 255u
/* Header with an empty name, two empty sections, checksum. */
#define MIN_STREAM (18u + 16u + 4u)

enum rt_field {
    RT_CONFIG = 1,
    RT_INTX = 2,
    RT_LEVELS = 3,
    RT_MSI_PENDING = 4,
    RT_MSIX_TABLE = 5,
    RT_MSIX_PBA = 6,
    RT_MSIX_USED = 7, /* the client drives the table through us */
    RT_BAR0 = 0x100,  /* + BAR index: small backing memories */
};

/* ------------------------------------------------------------ CRC-32C */

static uint32_t crc_table[256];

static void
crc_init(void)
{
    if (crc_table[1])
        return;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
        crc_table[i] = c;
    }
}

static uint32_t
crc_sw(uint32_t crc, const uint8_t *p, size_t len)
{
    crc_init();
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
/* Three independent crc32 chains hide the instruction's latency; their
 * results are joined with the linear map "CRC state after CRC_BLOCK zero
 * bytes", tabulated once. (The raw update is linear in state and data:
 * R(c, B) = R(c, zeros) ^ R(0, B).) */
#define CRC_BLOCK 8192u

static uint32_t shift_tab[4][256];
static int shift_ready;

__attribute__((target("sse4.2"))) static uint64_t
hw_run(uint64_t c, const uint8_t *p, size_t n)
{
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
    }
    return c;
}

static void
shift_init(void)
{
    static const uint8_t zeros[CRC_BLOCK];
    uint32_t basis[32];

    if (__atomic_load_n(&shift_ready, __ATOMIC_ACQUIRE))
        return;
    for (unsigned i = 0; i < 32; i++)
        basis[i] = (uint32_t)hw_run(1u << i, zeros, CRC_BLOCK);
    for (unsigned k = 0; k < 4; k++)
        for (unsigned b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (unsigned bit = 0; bit < 8; bit++)
                if (b >> bit & 1)
                    v ^= basis[k * 8 + bit];
            shift_tab[k][b] = v;
        }
    __atomic_store_n(&shift_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t
shift_block(uint32_t x)
{
    return shift_tab[0][x & 0xff] ^ shift_tab[1][(x >> 8) & 0xff] ^
           shift_tab[2][(x >> 16) & 0xff] ^ shift_tab[3][x >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
    uint64_t c = crc;

    if (len >= 3 * CRC_BLOCK)
        shift_init();
    for (; len >= 3 * CRC_BLOCK; len -= 3 * CRC_BLOCK, p += 3 * CRC_BLOCK) {
        uint64_t c1 = 0, c2 = 0;
        for (size_t i = 0; i < CRC_BLOCK; i += 8) {
            uint64_t v0, v1, v2;
            memcpy(&v0, p + i, 8);
            memcpy(&v1, p + CRC_BLOCK + i, 8);
            memcpy(&v2, p + 2 * CRC_BLOCK + i, 8);
            c = __builtin_ia32_crc32di(c, v0);
            c1 = __builtin_ia32_crc32di(c1, v1);
            c2 = __builtin_ia32_crc32di(c2, v2);
        }
        c = shift_block(shift_block((uint32_t)c) ^ (uint32_t)c1) ^ (uint32_t)c2;
    }
    c = hw_run(c, p, len);
    p += len & ~(size_t)7;
    crc = (uint32_t)c;
    for (len &= 7; len--;)
        crc = __builtin_ia32_crc32qi(crc, *p++);
    return crc;
}
#endif

static uint32_t
crc32c(const uint8_t *p, size_t len)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2"))
        return ~crc_hw(~0u, p, len);
#endif
    return ~crc_sw(~0u, p, len);
}

/* ------------------------------------------------------------ writer */

struct wr {
    uint8_t *p;
    size_t off;
};

static void
put(struct wr *w, const void *src, size_t n)
{
    if (n)
        memcpy(w->p + w->off, src, n);
    w->off += n;
}

static void
put16(struct wr *w, uint16_t v)
{
    v = htole16(v);
    put(w, &v, 2);
}

static void
put32(struct wr *w, uint32_t v)
{
    v = htole32(v);
    put(w, &v, 4);
}

static void
put_field(struct wr *w, uint32_t id, const void *src, uint32_t size)
{
    put32(w, id);
    put32(w, size);
    put(w, src, size);
}

/* The runtime fields this build writes and expects, in order. */
struct rt_plan {
    uint32_t id;
    uint32_t size;
};

static unsigned
msix_table_size(const struct vdev_dev *dev)
{
    return dev->irqs.msix.table ? dev->irqs.msix.nr_vectors * 16u : 0;
}

static unsigned
msix_pba_size(const struct vdev_dev *dev)
{
    if (!dev->irqs.msix.pba || !dev->irqs.msix.nr_vectors)
        return 0;
    return (dev->irqs.msix.nr_vectors + 63u) / 64u * 8u;
}

static bool
bar_travels(const struct vdev_dev *dev, unsigned i)
{
    const struct vdev_region *r = &dev->regions[i];
    return r->present && r->mem && r->size <= VDEV_MIG_BAR_MAX;
}

/* Fills plan (room for RT_PLAN_MAX entries); returns the count. */
static unsigned
rt_plan(const struct vdev_dev *dev, struct rt_plan *plan)
{
    unsigned n = 0;

    plan[n++] = (struct rt_plan){RT_CONFIG, VDEV_CONFIG_SIZE};
    plan[n++] = (struct rt_plan){RT_INTX, 1};
    plan[n++] = (struct rt_plan){RT_LEVELS, 4};
    plan[n++] = (struct rt_plan){RT_MSI_PENDING, 4};
    if (msix_table_size(dev)) {
        plan[n++] = (struct rt_plan){RT_MSIX_TABLE, msix_table_size(dev)};
        plan[n++] = (struct rt_plan){RT_MSIX_PBA, msix_pba_size(dev)};
        plan[n++] = (struct rt_plan){RT_MSIX_USED, 1};
    }
    for (unsigned i = 0; i < VDEV_NR_BARS; i++)
        if (bar_travels(dev, i))
            plan[n++] =
                (struct rt_plan){RT_BAR0 + i, (uint32_t)dev->regions[i].size};
    return n;
}

#define RT_PLAN_MAX (7 + VDEV_NR_BARS)

static size_t
stream_size(const struct vdev_dev *dev, const struct rt_plan *plan,
            unsigned nr_plan, size_t *rt_len, size_t *dev_len)
{
    const struct vdev_mig_desc *d = &dev->mig->desc;
    size_t r = 0, s = 0;

    for (unsigned i = 0; i < nr_plan; i++)
        r += 8 + plan[i].size;
    for (unsigned i = 0; i < d->nr_fields; i++)
        s += 8 + (size_t)d->fields[i].size;
    *rt_len = r;
    *dev_len = s;
    return 18 + strlen(d->device) + 8 + r + 8 + s + 4 +
           (vdev_mig_clock_travels(dev) ? 8 + vdev_mig_clock_size(dev) : 0);
}

static void
save_runtime(struct vdev_dev *dev, struct wr *w, const struct rt_plan *plan,
             unsigned nr_plan)
{
    for (unsigned i = 0; i < nr_plan; i++) {
        uint32_t v32;
        uint8_t v8;

        switch (plan[i].id) {
        case RT_CONFIG:
            put_field(w, RT_CONFIG, dev->cfg.data, VDEV_CONFIG_SIZE);
            break;
        case RT_INTX:
            v8 = dev->irqs.intx_level ? 1 : 0;
            put_field(w, RT_INTX, &v8, 1);
            break;
        case RT_LEVELS:
            v32 = htole32(dev->irqs.levels);
            put_field(w, RT_LEVELS, &v32, 4);
            break;
        case RT_MSI_PENDING:
            v32 = htole32(dev->irqs.msi_pending);
            put_field(w, RT_MSI_PENDING, &v32, 4);
            break;
        case RT_MSIX_TABLE:
            put_field(w, RT_MSIX_TABLE, dev->irqs.msix.table, plan[i].size);
            break;
        case RT_MSIX_PBA:
            put_field(w, RT_MSIX_PBA, dev->irqs.msix.pba, plan[i].size);
            break;
        case RT_MSIX_USED:
            v8 = dev->irqs.msix.table_used ? 1 : 0;
            put_field(w, RT_MSIX_USED, &v8, 1);
            break;
        default:
            put_field(w, plan[i].id, dev->regions[plan[i].id - RT_BAR0].mem,
                      plan[i].size);
            break;
        }
    }
}

size_t
vdev_mig_stream_bound(struct vdev_dev *dev)
{
    struct rt_plan plan[RT_PLAN_MAX];
    size_t rt_len, dev_len;

    return stream_size(dev, plan, rt_plan(dev, plan), &rt_len, &dev_len);
}

int
vdev_mig_stream_save(struct vdev_dev *dev, void *mem_ctx, uint8_t **out,
                     size_t *len)
{
    const struct vdev_mig_desc *d;
    struct rt_plan plan[RT_PLAN_MAX];
    unsigned nr_plan;
    size_t total, rt_len, dev_len;
    struct wr w;

    if (!dev->mig)
        return -ENOTSUP;
    d = &dev->mig->desc;
    nr_plan = rt_plan(dev, plan);
    total = stream_size(dev, plan, nr_plan, &rt_len, &dev_len);
    if (total > UINT32_MAX || rt_len > UINT32_MAX || dev_len > UINT32_MAX)
        return -EFBIG;
    w.p = talloc_size(mem_ctx, total);
    if (!w.p)
        return -ENOMEM;
    w.off = 0;

    put32(&w, STREAM_MAGIC);
    put16(&w, STREAM_FORMAT);
    put16(&w, vdev_mig_clock_travels(dev) ? STREAM_FLAG_CLOCK : 0);
    put32(&w, (uint32_t)total);
    put16(&w, (uint16_t)strlen(d->device));
    put(&w, d->device, strlen(d->device));
    put32(&w, d->version);

    put32(&w, SEC_RUNTIME);
    put32(&w, (uint32_t)rt_len);
    save_runtime(dev, &w, plan, nr_plan);

    put32(&w, SEC_DEVICE);
    put32(&w, (uint32_t)dev_len);
    for (unsigned i = 0; i < d->nr_fields; i++) {
        const struct vdev_mig_field *f = &d->fields[i];
        put_field(&w, f->id, (const uint8_t *)d->state + f->offset, f->size);
    }
    if (vdev_mig_clock_travels(dev)) {
        size_t clock_len = vdev_mig_clock_size(dev);

        put32(&w, SEC_CLOCK);
        put32(&w, (uint32_t)clock_len);
        vdev_mig_clock_put(dev, w.p + w.off);
        w.off += clock_len;
    }
    put32(&w, crc32c(w.p, w.off));
    *out = w.p;
    *len = w.off;
    return 0;
}

/* ------------------------------------------------------------ reader */

struct rd {
    const uint8_t *p;
    size_t len, off;
};

static bool
get(struct rd *r, void *dst, size_t n)
{
    if (n > r->len - r->off)
        return false;
    memcpy(dst, r->p + r->off, n);
    r->off += n;
    return true;
}

static bool
get16(struct rd *r, uint16_t *v)
{
    if (!get(r, v, 2))
        return false;
    *v = le16toh(*v);
    return true;
}

static bool
get32(struct rd *r, uint32_t *v)
{
    if (!get(r, v, 4))
        return false;
    *v = le32toh(*v);
    return true;
}

/* What a parsed stream would install. Pointers refer into the input. */
struct cand {
    uint32_t version;
    const uint8_t *cfg;
    uint8_t intx;
    uint32_t levels, msi_pending;
    const uint8_t *msix_table, *msix_pba;
    uint8_t msix_used;
    const uint8_t *bar[VDEV_NR_BARS];
    uint8_t *block; /* device state block */
    uint16_t flags;
    struct vdev_mig_clock_cand *clock; /* NULL: no clock section */
};

static int
parse_header(struct vdev_dev *dev, struct rd *r, struct cand *c)
{
    const char *want = dev->mig->desc.device;
    uint32_t magic, total, crc;
    uint16_t format, flags, name_len;
    char name[NAME_MAX_LEN + 1];

    if (!get32(r, &magic) || !get16(r, &format) || !get16(r, &flags) ||
        !get32(r, &total))
        VDEV_MIG_FAIL(-EPROTO, "truncated header");
    if (magic != STREAM_MAGIC)
        VDEV_MIG_FAIL(-EPROTO, "bad magic 0x%08x", magic);
    if (format != STREAM_FORMAT)
        VDEV_MIG_FAIL(-EPROTONOSUPPORT, "stream format %u, this build reads %u",
                      format, STREAM_FORMAT);
    if (flags & ~STREAM_FLAG_CLOCK)
        VDEV_MIG_FAIL(-EPROTO, "unknown header flags 0x%x", flags);
    c->flags = flags;
    if (total < MIN_STREAM || total > r->len)
        VDEV_MIG_FAIL(-EPROTO,
                      "stream length %u does not fit the %zu bytes given",
                      total, r->len);
    r->len = total; /* one stream; anything after it is the next */
    memcpy(&crc, r->p + total - 4, 4);
    if (crc32c(r->p, total - 4) != le32toh(crc))
        VDEV_MIG_FAIL(-EPROTO, "checksum mismatch");
    r->len = total - 4;
    if (!get16(r, &name_len) || name_len > NAME_MAX_LEN ||
        !get(r, name, name_len))
        VDEV_MIG_FAIL(-EPROTO, "bad device name");
    name[name_len] = 0;
    if (memchr(name, 0, name_len))
        VDEV_MIG_FAIL(-EPROTO, "device name with a NUL byte");
    if (strcmp(name, want))
        VDEV_MIG_FAIL(-EPROTONOSUPPORT,
                      "stream is for device '%s', this is '%s'", name, want);
    if (!get32(r, &c->version))
        VDEV_MIG_FAIL(-EPROTO, "truncated header");
    if (c->version > dev->mig->desc.version)
        VDEV_MIG_FAIL(-EPROTONOSUPPORT,
                      "stream has state version %u, newer than this build's %u",
                      c->version, dev->mig->desc.version);
    if (c->version == 0)
        VDEV_MIG_FAIL(-EPROTO, "state version 0");
    return 0;
}

/* Reads a section header; the section's bytes become sub. */
static int
parse_section(struct vdev_dev *dev, struct rd *r, uint32_t want, struct rd *sub)
{
    uint32_t id, len;

    if (!get32(r, &id) || !get32(r, &len))
        VDEV_MIG_FAIL(-EPROTO, "truncated section header");
    if (id != want)
        VDEV_MIG_FAIL(-EPROTO, "section %u where %u was expected", id, want);
    if (len > r->len - r->off)
        VDEV_MIG_FAIL(-EPROTO, "section %u length %u runs past the stream", id,
                      len);
    sub->p = r->p + r->off;
    sub->len = len;
    sub->off = 0;
    r->off += len;
    return 0;
}

static int
next_field(struct vdev_dev *dev, struct rd *s, uint32_t *id, uint32_t *size,
           const uint8_t **data)
{
    if (!get32(s, id) || !get32(s, size))
        VDEV_MIG_FAIL(-EPROTO, "truncated field header");
    if (*size > s->len - s->off)
        VDEV_MIG_FAIL(-EPROTO, "field 0x%x size %u runs past its section", *id,
                      *size);
    *data = s->p + s->off;
    s->off += *size;
    return 0;
}

static int
parse_runtime(struct vdev_dev *dev, struct rd *s, struct cand *c)
{
    struct rt_plan plan[RT_PLAN_MAX];
    unsigned nr_plan = rt_plan(dev, plan);
    bool seen[RT_PLAN_MAX] = {false};
    int rc;

    while (s->off < s->len) {
        uint32_t id, size, v;
        const uint8_t *data;
        unsigned k;

        if ((rc = next_field(dev, s, &id, &size, &data)) < 0)
            return rc;
        for (k = 0; k < nr_plan && plan[k].id != id; k++)
            ;
        if (k == nr_plan)
            VDEV_MIG_FAIL(-EPROTONOSUPPORT,
                          "runtime field 0x%x is not part of this device", id);
        if (seen[k])
            VDEV_MIG_FAIL(-EPROTO, "runtime field 0x%x appears twice", id);
        if (size != plan[k].size)
            VDEV_MIG_FAIL(-EPROTONOSUPPORT,
                          "runtime field 0x%x has %u bytes, this device %u", id,
                          size, plan[k].size);
        seen[k] = true;
        switch (id) {
        case RT_CONFIG:
            c->cfg = data;
            break;
        case RT_INTX:
            if (data[0] > 1)
                VDEV_MIG_FAIL(-EINVAL, "INTx level %u", data[0]);
            c->intx = data[0];
            break;
        case RT_LEVELS:
            memcpy(&v, data, 4);
            c->levels = le32toh(v);
            break;
        case RT_MSI_PENDING:
            memcpy(&v, data, 4);
            c->msi_pending = le32toh(v);
            break;
        case RT_MSIX_TABLE:
            c->msix_table = data;
            break;
        case RT_MSIX_PBA:
            c->msix_pba = data;
            break;
        case RT_MSIX_USED:
            if (data[0] > 1)
                VDEV_MIG_FAIL(-EINVAL, "MSI-X table use flag %u", data[0]);
            c->msix_used = data[0];
            break;
        default:
            c->bar[id - RT_BAR0] = data;
            break;
        }
    }
    for (unsigned k = 0; k < nr_plan; k++)
        if (!seen[k])
            VDEV_MIG_FAIL(-EPROTO, "runtime field 0x%x missing", plan[k].id);
    /* The stream must describe the same PCI function: IDs, revision, class,
     * subsystem. The rest of the read-only bits stay ours (see commit). */
    static const struct {
        unsigned off, len;
    } ident[] = {
        {PCI_VENDOR_ID, 4},
        {PCI_CLASS_REVISION, 4},
        {PCI_SUBSYSTEM_VENDOR_ID, 4},
    };
    for (unsigned i = 0; i < sizeof(ident) / sizeof(ident[0]); i++)
        if (memcmp(c->cfg + ident[i].off, dev->cfg.data + ident[i].off,
                   ident[i].len))
            VDEV_MIG_FAIL(
                -EPROTONOSUPPORT,
                "config space identity at 0x%x differs from this device",
                ident[i].off);
    return 0;
}

static int
find_field(const struct vdev_migration *mig, uint32_t id)
{
    unsigned lo = 0, hi = mig->desc.nr_fields;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        uint32_t mid_id = mig->desc.fields[mig->by_id[mid]].id;
        if (mid_id == id)
            return (int)mig->by_id[mid];
        if (mid_id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int
parse_device(struct vdev_dev *dev, struct rd *s, struct cand *c, bool *seen)
{
    const struct vdev_mig_desc *d = &dev->mig->desc;
    int rc;

    while (s->off < s->len) {
        uint32_t id, size;
        const uint8_t *data;
        const struct vdev_mig_field *f;
        int k;

        if ((rc = next_field(dev, s, &id, &size, &data)) < 0)
            return rc;
        k = find_field(dev->mig, id);
        if (k < 0)
            VDEV_MIG_FAIL(
                -EPROTONOSUPPORT,
                "unknown field id 0x%08x: the stream comes from a newer or "
                "different revision of '%s'",
                id, d->device);
        f = &d->fields[k];
        if (seen[k])
            VDEV_MIG_FAIL(-EPROTO, "field '%s' appears twice", f->name);
        if (f->since > c->version)
            VDEV_MIG_FAIL(-EPROTO,
                          "field '%s' (since %u) in a version %u stream",
                          f->name, f->since, c->version);
        if (size != f->size)
            VDEV_MIG_FAIL(-EPROTONOSUPPORT,
                          "field '%s' has %u bytes, this build %u", f->name,
                          size, f->size);
        seen[k] = true;
        memcpy(c->block + f->offset, data, size);
    }
    for (unsigned k = 0; k < d->nr_fields; k++) {
        if (seen[k])
            continue;
        if (d->fields[k].since <= c->version)
            VDEV_MIG_FAIL(-EPROTO,
                          "field '%s' (since %u) missing from a version %u "
                          "stream",
                          d->fields[k].name, d->fields[k].since, c->version);
        /* Added after the stream's version: keeps its reset value. */
    }
    return 0;
}

/* Parses and checks one stream starting at buf; *used gets its length. */
static int
parse_one(struct vdev_dev *dev, void *ctx, const uint8_t *buf, size_t len,
          size_t *used, struct cand *c, uint8_t **blockp)
{
    const struct vdev_mig_desc *d = &dev->mig->desc;
    uint8_t *block = *blockp;
    struct rd r = {buf, len, 0}, sec;
    bool *seen;
    int rc;

    memset(c, 0, sizeof(*c));
    if ((rc = parse_header(dev, &r, c)) < 0)
        return rc;
    *used = r.len + 4;
    if ((rc = parse_section(dev, &r, SEC_RUNTIME, &sec)) < 0 ||
        (rc = parse_runtime(dev, &sec, c)) < 0)
        return rc;
    /* Blocks are kept between loads: a large state is not faulted in and
     * zeroed afresh each time. */
    if (!block) {
        block = talloc_size(dev->mig, d->state_size ? d->state_size : 1);
        if (!block)
            return -ENOMEM;
        *blockp = block;
    }
    c->block = block;
    seen = talloc_zero_array(ctx, bool, d->nr_fields + 1);
    if (!seen)
        return -ENOMEM;
    if (d->reset_values)
        d->reset_values(dev, c->block);
    else
        memset(c->block, 0, d->state_size);
    if ((rc = parse_section(dev, &r, SEC_DEVICE, &sec)) < 0 ||
        (rc = parse_device(dev, &sec, c, seen)) < 0)
        return rc;
    if ((c->flags & STREAM_FLAG_CLOCK) &&
        ((rc = parse_section(dev, &r, SEC_CLOCK, &sec)) < 0 ||
         (rc = vdev_mig_clock_parse(dev, ctx, sec.p, sec.len, &c->clock)) < 0))
        return rc;
    if (r.off != r.len)
        VDEV_MIG_FAIL(-EPROTO, "%zu stray bytes after the sections",
                      r.len - r.off);
    if (d->validate && (rc = d->validate(dev, c->block)) < 0)
        VDEV_MIG_FAIL(rc == -ENOMEM ? rc : -EINVAL,
                      "device rejected the loaded values (%d)", rc);
    return 0;
}

/* The MSI capability's Pending Bits (read-only to the guest, so not taken
 * from the stream's config bytes) mirror the runtime's pending vectors. */
static void
msi_pending_to_config(struct vdev_dev *dev)
{
    uint8_t *cap = dev->cfg.data + dev->cfg.msi_cap;
    uint16_t flags;
    uint32_t v = htole32(dev->irqs.msi_pending);

    if (!dev->cfg.msi_cap)
        return;
    memcpy(&flags, cap + PCI_MSI_FLAGS, 2);
    flags = le16toh(flags);
    if (!(flags & PCI_MSI_FLAGS_MASKBIT))
        return;
    memcpy(
        cap +
            (flags & PCI_MSI_FLAGS_64BIT ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32) +
            4,
        &v, 4);
}

/* Installs a checked candidate. Config bytes the guest cannot write keep
 * this device's values, so a stream can change no more than a guest could;
 * interrupt lines are re-derived when the device runs again. */
static void
commit(struct vdev_dev *dev, const struct cand *c)
{
    const struct vdev_mig_desc *d = &dev->mig->desc;
    struct vdev_irqs *irq = &dev->irqs;

    for (unsigned i = 0; i < VDEV_CONFIG_SIZE; i++) {
        uint8_t w = dev->cfg.wmask[i] | dev->cfg.w1cmask[i];
        dev->cfg.data[i] = (uint8_t)((dev->cfg.data[i] & ~w) | (c->cfg[i] & w));
    }
    irq->intx_level = c->intx;
    irq->levels = c->levels;
    irq->msi_pending = irq->msi_vectors >= 32
                           ? c->msi_pending
                           : c->msi_pending & ((1u << irq->msi_vectors) - 1);
    msi_pending_to_config(dev);
    if (c->msix_table) {
        unsigned n = irq->msix.nr_vectors;
        memcpy(irq->msix.table, c->msix_table, n * 16u);
        /* Vector control: only the mask bit is defined. */
        for (unsigned v = 0; v < n; v++)
            for (unsigned b = 13; b < 16; b++)
                irq->msix.table[v * 16 + b] = 0;
        for (unsigned v = 0; v < n; v++)
            irq->msix.table[v * 16 + 12] &= 1;
        memcpy(irq->msix.pba, c->msix_pba, msix_pba_size(dev));
        irq->msix.table_used = c->msix_used;
        if (n % 64)
            irq->msix.pba[n / 64] &= (1ull << (n % 64)) - 1;
    }
    for (unsigned i = 0; i < VDEV_NR_BARS; i++)
        if (c->bar[i])
            memcpy(dev->regions[i].mem, c->bar[i], dev->regions[i].size);
    memcpy(d->state, c->block, d->state_size);
    vdev_mig_clock_commit(dev, c->clock);
    if (d->post_load)
        d->post_load(dev);
}

int
vdev_mig_stream_load(struct vdev_dev *dev, const uint8_t *buf, size_t len)
{
    void *ctx;
    struct cand c;
    size_t off = 0, used = 0;
    unsigned nr = 0;
    int rc = 0;

    if (!dev->mig)
        return -ENOTSUP;
    if (!buf || !len) {
        VDEV_LOG(dev, VDEV_LOG_ERROR, "migration stream: no data");
        return -EPROTO;
    }
    ctx = talloc_new(dev);
    if (!ctx)
        return -ENOMEM;
    /* Every stream is checked in full; only the last one is installed
     * (each reuses the candidate block: an earlier one is never needed). */
    while (off < len) {
        talloc_free_children(ctx);
        rc = parse_one(dev, ctx, buf + off, len - off, &used, &c,
                       &dev->mig->scratch);
        if (rc < 0)
            break;
        off += used;
        nr++;
    }
    if (rc == 0)
        commit(dev, &c);
    talloc_free(ctx);
    if (rc == 0)
        VDEV_LOG(dev, VDEV_LOG_INFO, "migration stream: loaded (%u part%s)", nr,
                 nr == 1 ? "" : "s");
    return rc;
}
