/* The register engine of vdevc-generated devices (vdev_model.h): a BAR
 * access is split into the register elements, memory areas and gaps it
 * covers, found in a sorted index of them (arrays may interleave) by one
 * load for small register windows, else by binary search; each register
 * part applies the access kinds to the bytes it covers, runs the
 * register's hooks and re-evaluates the interrupts the table names.
 * Devices add their BARs, reset, migration and named values with one
 * vdev_model_add(). Host layer: it registers migration and named
 * values. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "vdev_model.h"

struct model;

/* A register element or memory area of a BAR: bytes [start, end). */
struct slot {
    uint64_t start, end;
    const struct vdev_reg *r; /* NULL: a memory area */
    unsigned i;               /* register element */
    uint8_t *at;              /* its value in the state block */
    uint64_t all;             /* its bits */
    /* No hooks, interrupts or side effects: a read returns rmask bits, a
     * write replaces rw bits. */
    bool plain_read, plain_write;
};

/* Register windows up to this many bytes get a slot number per byte:
 * one load finds the slot (most devices); larger ones binary-search. */
#define DIRECT_MAX 4096u

/* One BAR's engine state: its index and where its memory is. */
struct model_bar {
    struct model *m;
    uint8_t *mem; /* backing memory, or NULL */
    struct slot *slots;
    unsigned nr_slots;
    uint16_t *direct; /* by byte offset: slot + 1, 0 for a gap */
    uint64_t direct_len;
};

struct model {
    const struct vdev_model *desc;
    struct vdev_dev *dev;
    uint8_t *state;
    struct vdev_mig_desc mig;
    struct model_bar bars[];
};

/* ------------------------------------------------------------ registers */

static uint64_t
get(const uint8_t *p, uint32_t size)
{
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (size) {
    case 1:
        memcpy(&v8, p, 1);
        return v8;
    case 2:
        memcpy(&v16, p, 2);
        return v16;
    case 4:
        memcpy(&v32, p, 4);
        return v32;
    default:
        memcpy(&v64, p, 8);
        return v64;
    }
}

static void
set(uint8_t *p, uint32_t size, uint64_t v)
{
    uint8_t v8 = (uint8_t)v;
    uint16_t v16 = (uint16_t)v;
    uint32_t v32 = (uint32_t)v;
    switch (size) {
    case 1:
        memcpy(p, &v8, 1);
        break;
    case 2:
        memcpy(p, &v16, 2);
        break;
    case 4:
        memcpy(p, &v32, 4);
        break;
    default:
        memcpy(p, &v, 8);
        break;
    }
}

static uint64_t
reg_read(struct model *m, const struct slot *s, uint64_t mask)
{
    const struct vdev_reg *r = s->r;
    uint8_t *at = s->at;
    if (r->on_read) {
        struct vdev_reg_access a = {.i = s->i, .mask = mask};
        r->on_read(m->dev, &a);
    }
    uint64_t v = get(at, r->size);
    uint64_t nv = (v & ~(r->rc & mask)) | (r->rs & mask);
    if (nv != v)
        set(at, r->size, nv);
    if (r->irqs_read && m->desc->update_irqs)
        m->desc->update_irqs(m->dev, r->irqs_read);
    return v & r->rmask;
}

static void
reg_write(struct model *m, const struct slot *s, uint64_t v, uint64_t mask)
{
    const struct vdev_reg *r = s->r;
    uint8_t *at = s->at;
    uint64_t old = get(at, r->size);
    uint64_t nv = (old & ~(r->rw & mask)) | (v & r->rw & mask);
    nv &= ~(v & r->w1c & mask);
    nv |= v & r->w1s & mask;
    set(at, r->size, nv);
    if (r->on_write) {
        struct vdev_reg_access a = {
            .i = s->i, .mask = mask, .old = old, .value = nv};
        r->on_write(m->dev, &a);
    }
    if (r->irqs_write && m->desc->update_irqs)
        m->desc->update_irqs(m->dev, r->irqs_write);
}

/* The slot covering off, or NULL. */
static const struct slot *
slot_find(const struct model_bar *mb, uint64_t off)
{
    if (off < mb->direct_len)
        return mb->direct[off] ? &mb->slots[mb->direct[off] - 1] : NULL;
    if (mb->direct)
        return NULL;
    unsigned lo = 0, hi = mb->nr_slots;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (mb->slots[mid].start <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || off >= mb->slots[lo - 1].end)
        return NULL;
    return &mb->slots[lo - 1];
}

/* A whole register's bytes in an access buffer: little-endian. */
static uint64_t
get_le(const uint8_t *p, uint32_t size)
{
    uint64_t v = get(p, size);
    return size == 2   ? le16toh((uint16_t)v)
           : size == 4 ? le32toh((uint32_t)v)
           : size == 8 ? le64toh(v)
                       : v;
}

static void
set_le(uint8_t *p, uint32_t size, uint64_t v)
{
    set(p, size,
        size == 2   ? htole16((uint16_t)v)
        : size == 4 ? htole32((uint32_t)v)
        : size == 8 ? htole64(v)
                    : v);
}

/* Bytes [lane, lane + n) of a register element, little-endian in p. */
static uint32_t
reg_access(struct model *m, const struct slot *s, uint64_t lane, uint8_t *p,
           uint32_t count, bool is_write)
{
    const struct vdev_reg *r = s->r;
    if (lane == 0 && count >= r->size) { /* the whole register: most */
        if (!is_write) {
            uint64_t v = s->plain_read ? get(s->at, r->size) & r->rmask
                                       : reg_read(m, s, s->all);
            set_le(p, r->size, v);
        } else if (s->plain_write) {
            uint64_t v = get_le(p, r->size);
            set(s->at, r->size, (get(s->at, r->size) & ~r->rw) | (v & r->rw));
        } else {
            reg_write(m, s, get_le(p, r->size), s->all);
        }
        return r->size;
    }
    uint32_t n = r->size - lane < count ? (uint32_t)(r->size - lane) : count;
    uint64_t mask =
        n >= 8 ? ~(uint64_t)0 : (((uint64_t)1 << (8 * n)) - 1) << (8 * lane);
    uint64_t v = 0;
    if (is_write) {
        for (uint32_t k = 0; k < n; k++)
            v |= (uint64_t)p[k] << (8 * (lane + k));
        reg_write(m, s, v, mask);
    } else {
        v = reg_read(m, s, mask);
        for (uint32_t k = 0; k < n; k++)
            p[k] = (uint8_t)(v >> (8 * (lane + k)));
    }
    return n;
}

/* A memory area's bytes, or zeros (and dropped writes) without memory. */
static uint32_t
area_access(const struct model_bar *mb, const struct slot *a, uint64_t off,
            uint8_t *p, uint32_t count, bool is_write)
{
    uint64_t left = a->end - off;
    uint32_t n = left < count ? (uint32_t)left : count;
    if (!mb->mem) {
        if (!is_write)
            memset(p, 0, n);
    } else if (is_write) {
        memcpy(mb->mem + off, p, n);
    } else {
        memcpy(p, mb->mem + off, n);
    }
    return n;
}

/* Serves what starts at off: part of a register, of a memory area, or a
 * gap byte (reads 0, writes ignored). Returns the bytes done. */
static uint32_t
access_one(struct model_bar *mb, uint64_t off, uint8_t *p, uint32_t count,
           bool is_write)
{
    const struct slot *s = slot_find(mb, off);
    if (!s) {
        if (!is_write)
            p[0] = 0;
        return 1;
    }
    if (!s->r)
        return area_access(mb, s, off, p, count, is_write);
    return reg_access(mb->m, s, off - s->start, p, count, is_write);
}

static int
model_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
             uint32_t count, bool is_write)
{
    struct model_bar *mb = opaque;
    uint8_t *p = buf;
    while (count > 0) {
        uint32_t n = access_one(mb, offset, p, count, is_write);
        p += n;
        offset += n;
        count -= n;
    }
    return 0;
}

/* ------------------------------------------------------------ device */

static void
model_reset(struct vdev_dev *dev, void *opaque)
{
    struct model *m = opaque;
    const struct vdev_model *d = m->desc;
    if (d->reset_values)
        d->reset_values(dev, m->state);
    else
        memset(m->state, 0, d->state_size);
    if (d->update_irqs)
        d->update_irqs(dev, d->all_irqs);
}

static int
cmp_slot(const void *x, const void *y)
{
    const struct slot *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* A register the engine can serve: 1, 2, 4 or 8 bytes, elements apart
 * by at least their size. */
static bool
reg_ok(const struct vdev_reg *r)
{
    return (r->size == 1 || r->size == 2 || r->size == 4 || r->size == 8) &&
           (r->count <= 1 || r->stride >= r->size);
}

/* Every register element and memory area, sorted; -EINVAL when two
 * overlap or one leaves the BAR. */
static int
index_bar(struct model_bar *mb, const struct vdev_model_bar *b)
{
    size_t n = b->nr_areas;
    for (unsigned k = 0; k < b->nr_regs; k++) {
        if (!reg_ok(&b->regs[k]))
            return -EINVAL;
        n += b->regs[k].count > 1 ? b->regs[k].count : 1;
    }
    mb->slots = talloc_array(mb->m, struct slot, n ? n : 1);
    if (!mb->slots)
        return -ENOMEM;
    for (unsigned k = 0; k < b->nr_regs; k++) {
        const struct vdev_reg *r = &b->regs[k];
        for (unsigned i = 0; i < (r->count > 1 ? r->count : 1); i++)
            mb->slots[mb->nr_slots++] = (struct slot){
                .start = r->offset + (uint64_t)i * r->stride,
                .end = r->offset + (uint64_t)i * r->stride + r->size,
                .r = r,
                .i = i,
                .at = mb->m->state + r->state + (size_t)i * r->size,
                .all = r->size >= 8 ? ~(uint64_t)0
                                    : ((uint64_t)1 << (8 * r->size)) - 1,
                .plain_read = !r->on_read && !r->irqs_read && !(r->rc | r->rs),
                .plain_write =
                    !r->on_write && !r->irqs_write && !(r->w1c | r->w1s),
            };
    }
    for (unsigned k = 0; k < b->nr_areas; k++)
        mb->slots[mb->nr_slots++] = (struct slot){
            .start = b->areas[k].offset,
            .end = b->areas[k].offset + b->areas[k].size,
        };
    qsort(mb->slots, mb->nr_slots, sizeof(mb->slots[0]), cmp_slot);
    for (unsigned k = 0; k < mb->nr_slots; k++)
        if (mb->slots[k].end > b->size ||
            mb->slots[k].end <= mb->slots[k].start ||
            (k > 0 && mb->slots[k].start < mb->slots[k - 1].end))
            return -EINVAL;
    uint64_t end = mb->nr_slots ? mb->slots[mb->nr_slots - 1].end : 0;
    if (end > DIRECT_MAX)
        return 0;
    mb->direct = talloc_zero_array(mb->m, uint16_t, end ? end : 1);
    if (!mb->direct)
        return -ENOMEM;
    mb->direct_len = end;
    for (unsigned k = 0; k < mb->nr_slots; k++)
        for (uint64_t o = mb->slots[k].start; o < mb->slots[k].end; o++)
            mb->direct[o] = (uint16_t)(k + 1);
    return 0;
}

static int
add_bar(struct model *m, struct model_bar *mb, const struct vdev_model_bar *b)
{
    struct vdev_bar_desc desc = {
        .kind = b->kind,
        .prefetchable = b->prefetchable,
        .size = b->size,
        .access = b->memory ? NULL : model_access,
        .opaque = mb,
        .backed = b->memory || b->nr_areas > 0,
        .mmap_areas = b->mmap_areas,
        .nr_mmap_areas = b->nr_mmap_areas,
    };
    mb->m = m;
    int rc = b->memory ? 0 : index_bar(mb, b);
    if (rc == 0)
        rc = vdev_bar_add(m->dev, b->index, &desc);
    if (rc == 0 && b->nr_areas > 0)
        mb->mem = vdev_bar_memory(m->dev, b->index);
    return rc;
}

int
vdev_model_add(struct vdev_dev *dev, const struct vdev_model *d, void *state)
{
    struct model *m;
    int rc;

    if (!dev || !d || !state)
        return -EINVAL;
    m = talloc_zero_size(dev, sizeof(*m) + d->nr_bars * sizeof(m->bars[0]));
    if (!m)
        return -ENOMEM;
    talloc_set_name_const(m, "struct model");
    m->desc = d;
    m->dev = dev;
    m->state = state;
    if (d->reset_values)
        d->reset_values(dev, state);
    else
        memset(state, 0, d->state_size);
    for (unsigned i = 0; i < d->nr_bars; i++)
        if ((rc = add_bar(m, &m->bars[i], &d->bars[i])) < 0)
            return rc;
    vdev_set_reset_cb(dev, model_reset, m);
    m->mig = (struct vdev_mig_desc){
        .device = d->name,
        .version = d->version,
        .fields = d->fields,
        .nr_fields = d->nr_fields,
        .state = state,
        .state_size = d->state_size,
        .validate = d->validate,
        .reset_values = d->reset_values,
        .post_load = d->post_load,
    };
    if ((rc = vdev_set_migration(dev, &m->mig)) < 0)
        return rc;
    if (d->nr_vars &&
        (rc = vdev_register_state_vars(dev, state, d->vars, d->nr_vars)) < 0)
        return rc;
    return 0;
}

/* ------------------------------------------------------------ statements */

void
vdev_dma_buf(struct vdev_dev *dev, bool to_guest, uint8_t *buf, size_t size,
             uint64_t off, uint64_t iova, uint64_t len)
{
    if (off > size || len > size - off)
        return;
    if (to_guest)
        vdev_dma_write(dev, iova, buf + off, len);
    else
        vdev_dma_read(dev, iova, buf + off, len);
}
