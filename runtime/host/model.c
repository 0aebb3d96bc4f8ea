/* The register engine of vdevc-generated devices (vdev_model.h): a BAR
 * access is split into the register elements, memory areas and gaps it
 * covers, found in a sorted index of them (arrays may interleave) by one
 * load for small register windows, else by binary search; a place several
 * registers share (a bank) picks the one its direction and conditions
 * select; each register part applies the access kinds to the bytes it
 * covers, runs the register's hooks and re-evaluates the interrupts the
 * table names. A read of only plain bytes (registers with no hooks,
 * conditions, banks or side effects on a read, and gaps) skips all that:
 * a plan made once per BAR says where each byte lies in the state block
 * and which bits it shows. Config-space registers are served the same
 * way in the config windows they lie in. Devices add their BARs, config
 * registers, reset, migration, named values and host streams
 * (model_stream.c) with one vdev_model_add(). Host layer: it registers
 * migration and named values. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "device/device.h"
#include "host/model.h"
#include "vdev_model.h"

struct model;

/* A register element or memory area of a BAR: bytes [start, end). */
struct slot {
    uint64_t start, end;
    const struct vdev_reg *r; /* NULL: a memory area (or a bank) */
    unsigned i;               /* register element */
    uint8_t *at;              /* its value in the state block */
    uint64_t all;             /* its bits */
    /* No hooks, interrupts or side effects: a read returns rmask bits, a
     * write replaces rw bits. */
    bool plain_read, plain_write;
    /* A bank: the registers sharing [start, end), in table order. */
    const struct slot *alts;
    unsigned nr_alts;
};

/* Register windows up to this many bytes get a slot number per byte:
 * one load finds the slot (most devices); larger ones binary-search. */
#define DIRECT_MAX 4096u

/* One BAR's engine state: its index and where its memory is. */
struct model_bar {
    struct model *m;
    const struct vdev_model_bar *desc; /* NULL: config space */
    uint8_t fill;                      /* what undecoded bytes read */
    uint8_t *mem;                      /* backing memory, or NULL */
    struct slot *slots;
    unsigned nr_slots;
    uint16_t *direct; /* by byte offset: slot + 1, 0 for a gap */
    uint64_t direct_len;
    /* The plain-read plan of a direct window, by byte offset (plan_len
     * bytes): a read of count bytes at o with count <= plan_run[o] reads
     * byte k as (state[plan_at[o] + k] & plan_and[o + k]) | plan_or[o + k]:
     * the bytes of registers that have no hooks, conditions, banks or
     * side effects on a read, and gaps (their fill), lying one after the
     * other in the state block too. Any other read takes the general
     * path, which the plan must equal (tests/test_model_plain.c). */
    uint8_t *state;
    uint64_t plan_len;
    uint32_t *plan_at;
    uint8_t *plan_run, *plan_and, *plan_or;
};

struct model {
    const struct vdev_model *desc;
    struct vdev_dev *dev;
    uint8_t *state;
    struct vdev_mig_desc mig;
    struct model_bar config; /* config-space registers (slots may be 0) */
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
reg_read(struct model *m, const struct slot *s, uint64_t mask, uint32_t width)
{
    const struct vdev_reg *r = s->r;
    uint8_t *at = s->at;
    if (r->on_read) {
        struct vdev_reg_access a = {.i = s->i, .mask = mask, .width = width};
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
reg_write(struct model *m, const struct slot *s, uint64_t v, uint64_t mask,
          uint32_t width)
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
            .i = s->i, .mask = mask, .old = old, .value = nv, .width = width};
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

/* The bits of an access's first n bytes. */
static uint64_t
lane_mask(uint32_t n)
{
    return n >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * n)) - 1;
}

/* Bytes [lane, lane + n) of a register element, little-endian in p;
 * width: bits of the whole client access. */
static uint32_t
reg_access(struct model *m, const struct slot *s, uint64_t lane, uint8_t *p,
           uint32_t count, bool is_write, uint32_t width)
{
    const struct vdev_reg *r = s->r;
    if (lane == 0 && count >= r->size) { /* the whole register: most */
        if (!is_write) {
            uint64_t v = s->plain_read ? get(s->at, r->size) & r->rmask
                                       : reg_read(m, s, s->all, width);
            set_le(p, r->size, v);
        } else if (s->plain_write) {
            uint64_t v = get_le(p, r->size);
            set(s->at, r->size, (get(s->at, r->size) & ~r->rw) | (v & r->rw));
        } else {
            reg_write(m, s, get_le(p, r->size), s->all, width);
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
        reg_write(m, s, v, mask, width);
    } else {
        v = reg_read(m, s, mask, width);
        for (uint32_t k = 0; k < n; k++)
            p[k] = (uint8_t)(v >> (8 * (lane + k)));
    }
    return n;
}

static bool
takes_reads(const struct vdev_reg *r)
{
    return r->rmask || r->on_read;
}

static bool
takes_writes(const struct vdev_reg *r)
{
    return (r->rw | r->w1c | r->w1s) || r->on_write;
}

/* The register a bank's access goes to: the first that takes the
 * direction and whose condition holds; NULL for none. */
static const struct slot *
bank_pick(struct model *m, const struct slot *s, bool is_write)
{
    for (unsigned k = 0; k < s->nr_alts; k++) {
        const struct slot *a = &s->alts[k];
        if (!(is_write ? takes_writes(a->r) : takes_reads(a->r)))
            continue;
        if (!a->r->when || a->r->when(m->dev))
            return a;
    }
    return NULL;
}

/* The register element an access at slot s reaches, picked at access
 * time for a bank, a register with a condition or an index/data array
 * (elem holds a picked array element); NULL when nothing is selected. */
static const struct slot *
reg_pick(struct model *m, const struct slot *s, bool is_write,
         struct slot *elem)
{
    if (s->nr_alts)
        s = bank_pick(m, s, is_write);
    else if (s->r->when && !s->r->when(m->dev))
        s = NULL;
    if (s && s->r->select) {
        uint64_t i = s->r->select(m->dev);
        uint32_t count_ = s->r->count > 1 ? s->r->count : 1;
        if (i >= count_)
            return NULL;
        *elem = *s;
        elem->i = (unsigned)i;
        elem->at = s->at + (size_t)i * s->r->size;
        s = elem;
    }
    return s;
}

/* A register part whose register is picked at access time. Nothing
 * selected: the bytes read the fill and writes are dropped. */
static uint32_t
reg_select(struct model_bar *mb, const struct slot *s, uint64_t lane,
           uint8_t *p, uint32_t count, bool is_write, uint32_t width)
{
    uint64_t left = s->end - s->start - lane;
    uint32_t n = left < count ? (uint32_t)left : count;
    struct slot elem;
    s = reg_pick(mb->m, s, is_write, &elem);
    if (!s) {
        if (!is_write)
            memset(p, mb->fill, n);
        return n;
    }
    return reg_access(mb->m, s, lane, p, count, is_write, width);
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
 * gap byte (reads the fill, writes ignored). Returns the bytes done. */
static uint32_t
access_one(struct model_bar *mb, uint64_t off, uint8_t *p, uint32_t count,
           bool is_write, uint32_t width)
{
    const struct slot *s = slot_find(mb, off);
    if (!s) {
        if (!is_write)
            p[0] = mb->fill;
        return 1;
    }
    if (s->nr_alts || (s->r && (s->r->when || s->r->select)))
        return reg_select(mb, s, off - s->start, p, count, is_write, width);
    if (!s->r)
        return area_access(mb, s, off, p, count, is_write);
    return reg_access(mb->m, s, off - s->start, p, count, is_write, width);
}

/* An exact BAR's access: a memory area's bytes when it lies in one; a
 * register's when it starts at the register (the one picked there), is
 * no wider and the register takes the direction; else undecoded. */
static void
exact_access(struct model_bar *mb, uint64_t off, uint8_t *p, uint32_t count,
             bool is_write)
{
    const struct slot *s = slot_find(mb, off);
    struct slot elem;
    if (s && !s->r && !s->nr_alts && s->end - off >= count) {
        area_access(mb, s, off, p, count, is_write);
        return;
    }
    if (s && s->start == off && count <= s->end - s->start && count <= 8)
        s = reg_pick(mb->m, s, is_write, &elem);
    else
        s = NULL;
    if (s && !(is_write ? takes_writes(s->r) : takes_reads(s->r)))
        s = NULL;
    if (!s) {
        if (!is_write)
            memset(p, mb->fill, count);
        return;
    }
    uint64_t mask = lane_mask(count) & s->all;
    if (is_write) {
        uint64_t v = 0;
        for (uint32_t k = 0; k < count; k++)
            v |= (uint64_t)p[k] << (8 * k);
        reg_write(mb->m, s, v, s->all, count * 8);
    } else {
        uint64_t v = reg_read(mb->m, s, mask, count * 8);
        for (uint32_t k = 0; k < count; k++)
            p[k] = (uint8_t)(v >> (8 * k));
    }
}

/* Outside the BAR's valid sizes, or misaligned: read 0, dropped. */
static bool
access_valid(const struct vdev_model_bar *b, uint64_t offset, uint32_t count)
{
    if (!b || !b->max_access)
        return true;
    return count >= b->min_access && count <= b->max_access &&
           (offset & (count - 1)) == 0 && (count & (count - 1)) == 0;
}

/* A read the plain-read plan serves (see struct model_bar): true with p
 * filled, false when it takes the general path. */
static inline bool
plain_read(const struct model_bar *mb, uint64_t off, uint8_t *p, uint32_t count)
{
    if (off >= mb->plan_len || mb->plan_run[off] < count)
        return false;
    const uint8_t *st = mb->state + mb->plan_at[off];
    const uint8_t *and = mb->plan_and + off, * or = mb->plan_or + off;
    uint32_t v32, a32, o32;
    uint64_t v64, a64, o64;
    switch (count) {
    case 4: /* the usual one: a fixed-size copy each, no loop */
        memcpy(&v32, st, 4);
        memcpy(&a32, and, 4);
        memcpy(&o32, or, 4);
        v32 = (v32 & a32) | o32;
        memcpy(p, &v32, 4);
        break;
    case 8:
        memcpy(&v64, st, 8);
        memcpy(&a64, and, 8);
        memcpy(&o64, or, 8);
        v64 = (v64 & a64) | o64;
        memcpy(p, &v64, 8);
        break;
    default:
        for (uint32_t k = 0; k < count; k++)
            p[k] = (uint8_t)((st[k] & and[k]) | or [k]);
        break;
    }
    return true;
}

/* Every access but a plain read. */
static int
general_access(struct model_bar *mb, uint64_t offset, void *buf, uint32_t count,
               bool is_write)
{
    uint8_t *p = buf;
    uint32_t width = count <= UINT32_MAX / 8 ? count * 8 : UINT32_MAX;
    if (!access_valid(mb->desc, offset, count)) {
        if (!is_write)
            memset(buf, 0, count);
        return 0;
    }
    if (mb->desc && mb->desc->exact) {
        exact_access(mb, offset, p, count, is_write);
        return 0;
    }
    while (count > 0) {
        uint32_t n = access_one(mb, offset, p, count, is_write, width);
        p += n;
        offset += n;
        count -= n;
    }
    return 0;
}

static int
model_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
             uint32_t count, bool is_write)
{
    struct model_bar *mb = opaque;
    (void)dev;
    if (!is_write && access_valid(mb->desc, offset, count) &&
        plain_read(mb, offset, buf, count))
        return 0;
    return general_access(mb, offset, buf, count, is_write);
}

/* ------------------------------------------------------------ device */

static void
model_reset(struct vdev_dev *dev, void *opaque)
{
    struct model *m = opaque;
    const struct vdev_model *d = m->desc;
    if (d->reset)
        d->reset(dev, m->state);
    else if (d->reset_values)
        d->reset_values(dev, m->state);
    else
        memset(m->state, 0, d->state_size);
    if (d->update_irqs)
        d->update_irqs(dev, d->all_irqs);
    for (unsigned i = 0; i < d->nr_streams; i++) /* rx has room again */
        vdev_stream_kick(dev, i);
}

/* By place, a bank's registers in table order. */
static int
cmp_slot(const void *x, const void *y)
{
    const struct slot *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->end != b->end)
        return a->end < b->end ? -1 : 1;
    uintptr_t ra = (uintptr_t)a->r, rb = (uintptr_t)b->r;
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

/* A register the engine can serve: 1, 2, 4 or 8 bytes, elements apart
 * by at least their size (an index/data array's all at one place). */
static bool
reg_ok(const struct vdev_reg *r)
{
    return (r->size == 1 || r->size == 2 || r->size == 4 || r->size == 8) &&
           (r->count <= 1 || r->stride >= r->size || r->select);
}

static unsigned
places(const struct vdev_reg *r)
{
    return r->count > 1 && !r->select ? r->count : 1;
}

/* Runs of registers at one place become one bank slot (its registers in
 * mb->slots' tail, `alts`); -EINVAL when places overlap otherwise. */
static int
make_banks(struct model_bar *mb, struct slot *all, size_t n)
{
    size_t banked = 0, out = 0;
    for (size_t k = 0; k < n;) {
        size_t j = k + 1;
        while (j < n && all[j].start == all[k].start &&
               all[j].end == all[k].end)
            j++;
        for (size_t x = k; j - k > 1 && x < j; x++)
            if (!all[x].r)
                return -EINVAL; /* memory shares no place */
        banked += j - k > 1 ? j - k : 0;
        k = j;
    }
    size_t groups = 0;
    for (size_t k = 0; k < n; k++)
        groups += k == 0 || all[k].start != all[k - 1].start ||
                  all[k].end != all[k - 1].end;
    mb->slots = talloc_array(mb->m, struct slot, groups + banked + 1);
    if (!mb->slots)
        return -ENOMEM;
    struct slot *alts = mb->slots + groups;
    for (size_t k = 0; k < n;) {
        size_t j = k + 1;
        while (j < n && all[j].start == all[k].start &&
               all[j].end == all[k].end)
            j++;
        if (j - k == 1) {
            mb->slots[out++] = all[k];
        } else {
            memcpy(alts, &all[k], (j - k) * sizeof(*alts));
            mb->slots[out++] = (struct slot){.start = all[k].start,
                                             .end = all[k].end,
                                             .alts = alts,
                                             .nr_alts = (unsigned)(j - k)};
            alts += j - k;
        }
        k = j;
    }
    mb->nr_slots = (unsigned)out;
    return 0;
}

/* Where byte `lane` of a register element lies in the state block: the
 * value is kept in host order, the BAR's bytes are little-endian. */
static uint32_t
lane_at(const struct model_bar *mb, const struct slot *s, uint64_t lane)
{
    uint32_t at = (uint32_t)(s->at - mb->state);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return at + (uint32_t)(s->r->size - 1 - lane);
#else
    return at + (uint32_t)lane;
#endif
}

/* Whether a read of slot s's register is only its rmask bits: one
 * register, always there, and nothing runs or changes on a read. An
 * exact BAR decodes a register without rmask bits as undecoded (fill). */
static bool
plain_slot(const struct slot *s, bool exact)
{
    return s->r && !s->nr_alts && !s->r->when && !s->r->select &&
           s->plain_read && (!exact || s->r->rmask);
}

/* The plain-read plan of a direct window (struct model_bar). A gap byte
 * reads its fill whatever state byte it names (its and-mask is 0), so it
 * names the one after its neighbour's: runs go on across it. An exact
 * BAR's plain reads start at a register and stay inside it. */
static int
make_plan(struct model_bar *mb, const struct vdev_model_bar *b)
{
    bool exact = b->exact;
    /* The gap after the last register too, for reads that run into it */
    uint64_t len = b->size - mb->direct_len < 7 ? b->size : mb->direct_len + 7;
    size_t state_size = mb->m->desc->state_size;
    uint8_t *ok;

    if (!len || !state_size)
        return 0;
    mb->plan_at = talloc_array(mb->m, uint32_t, len);
    mb->plan_run = talloc_zero_array(mb->m, uint8_t, len);
    mb->plan_and = talloc_zero_array(mb->m, uint8_t, len);
    mb->plan_or = talloc_zero_array(mb->m, uint8_t, len);
    ok = talloc_zero_array(mb->m, uint8_t, len); /* 1 reg, 2 gap, 3 placed */
    if (!mb->plan_at || !mb->plan_run || !mb->plan_and || !mb->plan_or || !ok)
        return -ENOMEM;
    for (uint64_t o = 0; o < len; o++) {
        const struct slot *s = o < mb->direct_len && mb->direct[o]
                                   ? &mb->slots[mb->direct[o] - 1]
                                   : NULL;
        if (!s) {
            ok[o] = exact ? 0 : 2;
            mb->plan_or[o] = mb->fill;
        } else if (plain_slot(s, exact)) {
            uint64_t lane = o - s->start;
            ok[o] = 1;
            mb->plan_at[o] = lane_at(mb, s, lane);
            mb->plan_and[o] = (uint8_t)(s->r->rmask >> (8 * lane));
        }
    }
    /* Gaps name the state byte after the one before them, else the one
     * before the one after them, else the first. */
    for (uint64_t o = 1; o < len; o++)
        if (ok[o] == 2 && (ok[o - 1] == 1 || ok[o - 1] == 3) &&
            mb->plan_at[o - 1] + 1 < state_size) {
            mb->plan_at[o] = mb->plan_at[o - 1] + 1;
            ok[o] = 3;
        }
    for (uint64_t o = len; o-- > 0;)
        if (ok[o] == 2) {
            bool after = o + 1 < len && (ok[o + 1] == 1 || ok[o + 1] == 3) &&
                         mb->plan_at[o + 1] > 0;
            mb->plan_at[o] = after ? mb->plan_at[o + 1] - 1 : 0;
            ok[o] = 3;
        }
    /* Runs, capped at 8 (the widest read served): each byte's state byte
     * follows the one before. */
    for (uint64_t o = len; o-- > 0;) {
        if (!ok[o])
            continue;
        bool next = o + 1 < len && ok[o + 1] &&
                    mb->plan_at[o + 1] == mb->plan_at[o] + 1;
        mb->plan_run[o] = next && mb->plan_run[o + 1] < 8
                              ? (uint8_t)(mb->plan_run[o + 1] + 1)
                          : next ? 8
                                 : 1;
    }
    if (exact)
        for (uint64_t o = 0; o < len; o++) {
            const struct slot *s = o < mb->direct_len && mb->direct[o]
                                       ? &mb->slots[mb->direct[o] - 1]
                                       : NULL;
            uint64_t size = s ? s->end - s->start : 0;
            if (!s || o != s->start)
                mb->plan_run[o] = 0;
            else if (mb->plan_run[o] > size)
                mb->plan_run[o] = (uint8_t)size;
        }
    talloc_free(ok);
    mb->plan_len = len;
    return 0;
}

/* Every register element and memory area, sorted; registers at one place
 * make a bank; -EINVAL when places overlap otherwise or one leaves the
 * BAR. */
static int
index_bar(struct model_bar *mb, const struct vdev_model_bar *b)
{
    size_t n = b->nr_areas;
    for (unsigned k = 0; k < b->nr_regs; k++) {
        if (!reg_ok(&b->regs[k]))
            return -EINVAL;
        n += places(&b->regs[k]);
    }
    mb->state = mb->m->state;
    struct slot *all = talloc_array(mb->m, struct slot, n ? n : 1);
    if (!all)
        return -ENOMEM;
    size_t nr = 0;
    for (unsigned k = 0; k < b->nr_regs; k++) {
        const struct vdev_reg *r = &b->regs[k];
        for (unsigned i = 0; i < places(r); i++)
            all[nr++] = (struct slot){
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
        all[nr++] = (struct slot){
            .start = b->areas[k].offset,
            .end = b->areas[k].offset + b->areas[k].size,
        };
    qsort(all, nr, sizeof(all[0]), cmp_slot);
    int rc = make_banks(mb, all, nr);
    talloc_free(all);
    if (rc < 0)
        return rc;
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
    return make_plan(mb, b);
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
    mb->desc = b;
    mb->fill = b->fill;
    int rc = b->memory ? 0 : index_bar(mb, b);
    if (rc == 0)
        rc = vdev_bar_add(m->dev, b->index, &desc);
    if (rc == 0 && b->nr_areas > 0)
        mb->mem = vdev_bar_memory(m->dev, b->index);
    return rc;
}

/* Config-space registers: indexed like a BAR of config space's size,
 * served in their windows, which must hold every register. */
static int
add_config(struct model *m, const struct vdev_model_config *c)
{
    struct model_bar *mb = &m->config;
    const struct vdev_model_bar b = {
        .size = 0x1000,
        .regs = c->regs,
        .nr_regs = c->nr_regs,
    };
    mb->m = m;
    int rc = index_bar(mb, &b);
    if (rc < 0)
        return rc;
    for (unsigned k = 0; k < mb->nr_slots; k++) {
        bool inside = false;
        for (unsigned w = 0; w < c->nr_windows && !inside; w++)
            inside = mb->slots[k].start >= c->windows[w].offset &&
                     mb->slots[k].end <=
                         (uint64_t)c->windows[w].offset + c->windows[w].size;
        if (!inside)
            return -EINVAL;
    }
    for (unsigned w = 0; w < c->nr_windows; w++) {
        rc = vdev_config_add(m->dev, c->windows[w].offset, c->windows[w].size,
                             model_access, mb);
        if (rc < 0)
            return rc;
    }
    return 0;
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
    if (d->config && (rc = add_config(m, d->config)) < 0)
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
    return vdev_model_streams_add(dev, d, m->state);
}

int
vdev_model_read_by(struct vdev_dev *dev, uint32_t index, uint64_t offset,
                   void *buf, uint32_t count, bool plain)
{
    struct model *m =
        dev && dev->reset_fn == model_reset ? dev->reset_opaque : NULL;
    struct model_bar *mb = NULL;

    if (!m)
        return -EINVAL;
    if (index == VDEV_CONFIG_INDEX)
        mb = &m->config;
    for (unsigned i = 0; !mb && i < m->desc->nr_bars; i++)
        if (m->bars[i].desc->index == index && !m->bars[i].desc->memory)
            mb = &m->bars[i];
    if (!mb)
        return -EINVAL;
    if (plain)
        return access_valid(mb->desc, offset, count) &&
               plain_read(mb, offset, buf, count);
    return general_access(mb, offset, buf, count, false);
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
