/* The conformance checker's engine (vdev_check.h): drives a device
 * through register reads and writes and checks each read against a model
 * of every register element's readable bits. What is certain comes from
 * the tables vdevc writes (see compiler/emit_check.c): const bits always
 * read their reset value, reserved and wo bits 0; other bits follow their
 * access kind, except after a hook that may assign the register, when
 * the model is forgotten until the next read (which then checks only the
 * certain bits and becomes the model). Partial accesses (--lanes) are
 * modelled per byte lane. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <talloc.h>

#include "vdev_check.h"

enum chk_op { CHK_OP_RESET, CHK_OP_READ, CHK_OP_WRITE };

/* The expected value of one register element: only the bits a read
 * returns; unknown after a hook that may have assigned it. */
struct chk_elem {
    uint64_t val;
    bool known;
    enum chk_op op; /* the last access that set the expectation */
    uint64_t opval;
    uint64_t oplanes; /* bits of the byte lanes the last write covered */
};

struct chk {
    const struct vdev_check_device *d;
    const struct vdev_check_io *io;
    FILE *err;
    struct chk_elem *m; /* per register element */
    uint32_t *first;    /* index of each register's element 0; [nr] total */
    uint64_t checks;
    uint64_t rng;
    bool lanes;
};

static uint32_t
elems(const struct vdev_check_reg *r)
{
    return r->count > 1 ? r->count : 1;
}

static uint64_t
all_bits(const struct vdev_check_reg *r)
{
    return r->size >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * r->size)) - 1;
}

static uint64_t
lane_bits(unsigned lane, unsigned n)
{
    uint64_t m = n >= 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * n)) - 1;
    return m << (8 * lane);
}

/* ------------------------------------------------------------ reports */

static const char *
acc_name(unsigned a)
{
    static const char *const names[] = {
        "?", "rw", "ro", "wo", "w1c", "w1s", "rc", "rs", "const", "reserved",
    };
    return a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

/* The invariant a wrong bit of this kind breaks, given what was done. */
static const char *
invariant(unsigned acc, enum chk_op op)
{
    switch (acc) {
    case VDEV_CHK_CONST:
        return "const bits keep their reset value";
    case VDEV_CHK_RESERVED:
        return "reserved bits read zero and ignore writes";
    case VDEV_CHK_WO:
        return "wo bits read zero";
    default:
        break;
    }
    if (op == CHK_OP_RESET)
        return "reset value holds after DEVICE_RESET";
    switch (acc) {
    case VDEV_CHK_RW:
        return "rw bits keep what was written";
    case VDEV_CHK_RO:
        return op == CHK_OP_WRITE ? "read-only bits ignore writes"
                                  : "read-only bits keep their value";
    case VDEV_CHK_W1C:
        return op == CHK_OP_WRITE ? "w1c clears exactly the ones written"
                                  : "w1c bits keep their value";
    case VDEV_CHK_W1S:
        return op == CHK_OP_WRITE ? "w1s sets exactly the ones written"
                                  : "w1s bits keep their value";
    case VDEV_CHK_RC:
        return op == CHK_OP_READ ? "rc bits clear on read"
                                 : "rc bits ignore writes";
    case VDEV_CHK_RS:
        return op == CHK_OP_READ ? "rs bits set on read"
                                 : "rs bits ignore writes";
    default:
        return "declared access semantics";
    }
}

static const char *
op_text(const struct vdev_check_reg *r, const struct chk_elem *m, char *buf,
        size_t cap)
{
    if (m->op == CHK_OP_RESET) {
        snprintf(buf, cap, "after DEVICE_RESET");
    } else if (m->op == CHK_OP_READ) {
        snprintf(buf, cap, "after a read");
    } else if (m->oplanes == all_bits(r)) {
        snprintf(buf, cap, "after writing 0x%llx",
                 (unsigned long long)m->opval);
    } else {
        unsigned lo = (unsigned)__builtin_ctzll(m->oplanes) / 8;
        unsigned hi = (63 - (unsigned)__builtin_clzll(m->oplanes)) / 8;
        snprintf(buf, cap, "after writing 0x%llx to bytes %u..%u",
                 (unsigned long long)m->opval, lo, hi);
    }
    return buf;
}

/* Names every field with a wrong bit, the invariant it breaks, expected
 * and got. */
static void
report(struct chk *c, const struct vdev_check_reg *r, unsigned i, uint64_t bad,
       uint64_t exp, uint64_t got, const struct chk_elem *m, uint64_t lanes)
{
    char elem[32] = "", ctx[96], part[48] = "";
    if (r->count > 1)
        snprintf(elem, sizeof(elem), "[%u]", i);
    if (lanes != all_bits(r))
        snprintf(part, sizeof(part), ", reading bytes %u..%u",
                 (unsigned)__builtin_ctzll(lanes) / 8,
                 (63 - (unsigned)__builtin_clzll(lanes)) / 8);
    op_text(r, m, ctx, sizeof(ctx));
    fprintf(c->err,
            "conformance %s: FAIL register %s%s (BAR%u + 0x%llx, %u bytes%s) "
            "%s: expected 0x%llx, got 0x%llx\n",
            c->d->name, r->name, elem, r->bar,
            (unsigned long long)(r->offset + (uint64_t)i * r->stride), r->size,
            part, ctx, (unsigned long long)exp, (unsigned long long)got);
    for (unsigned k = 0; k < r->nr_fields; k++) {
        const struct vdev_check_field *f = &r->fields[k];
        if ((bad & f->mask) == 0)
            continue;
        unsigned lo = (unsigned)__builtin_ctzll(f->mask);
        unsigned hi = 63 - (unsigned)__builtin_clzll(f->mask);
        fprintf(c->err,
                "  field %s [%u:%u] %s: %s: expected 0x%llx, got "
                "0x%llx\n",
                f->name, hi, lo, acc_name(f->acc), invariant(f->acc, m->op),
                (unsigned long long)((exp & f->mask) >> lo),
                (unsigned long long)((got & f->mask) >> lo));
    }
}

/* ------------------------------------------------------------ accesses */

/* Bytes [lane, lane + n) of element i; the value in the register's bit
 * positions. */
static int
rd(struct chk *c, const struct vdev_check_reg *r, unsigned i, unsigned lane,
   unsigned n, uint64_t *v)
{
    uint8_t b[8] = {0};
    uint64_t off = r->offset + (uint64_t)i * r->stride + lane;
    int rc = c->io->read(c->io->opaque, r->bar, off, b, n);
    if (rc < 0) {
        fprintf(c->err, "conformance %s: reading %s at BAR%u + 0x%llx: %s\n",
                c->d->name, r->name, r->bar, (unsigned long long)off,
                strerror(-rc));
        return rc;
    }
    *v = 0;
    for (unsigned k = 0; k < n; k++)
        *v |= (uint64_t)b[k] << (8 * (lane + k));
    return 0;
}

static int
wr(struct chk *c, const struct vdev_check_reg *r, unsigned i, unsigned lane,
   unsigned n, uint64_t v)
{
    uint8_t b[8];
    uint64_t off = r->offset + (uint64_t)i * r->stride + lane;
    for (unsigned k = 0; k < n; k++)
        b[k] = (uint8_t)(v >> (8 * (lane + k)));
    int rc = c->io->write(c->io->opaque, r->bar, off, b, n);
    if (rc < 0)
        fprintf(c->err, "conformance %s: writing %s at BAR%u + 0x%llx: %s\n",
                c->d->name, r->name, r->bar, (unsigned long long)off,
                strerror(-rc));
    return rc;
}

static void
forget_reg(struct chk *c, uint32_t reg)
{
    for (uint32_t k = 0; k < elems(&c->d->regs[reg]); k++)
        c->m[c->first[reg] + k].known = false;
}

/* A hook ran that may have assigned these registers (all: it calls C). */
static void
taint(struct chk *c, bool all, const uint32_t *list, unsigned n,
      uint32_t except)
{
    for (uint32_t k = 0; all && k < c->d->nr_regs; k++)
        if (k != except)
            forget_reg(c, k);
    for (unsigned k = 0; k < n; k++)
        if (list[k] < c->d->nr_regs)
            forget_reg(c, list[k]);
}

/* Reads bytes [lane, lane + n) of element i of register reg and checks
 * them: against the model when the value is certain, else only the bits
 * nothing may change. Returns 0, 1 on a violation, or a negative errno. */
static int
read_part(struct chk *c, uint32_t reg, unsigned i, unsigned lane, unsigned n)
{
    const struct vdev_check_reg *r = &c->d->regs[reg];
    struct chk_elem *m = &c->m[c->first[reg] + i];
    uint64_t got, exp, lanes = lane_bits(lane, n) & all_bits(r);
    int rc = rd(c, r, i, lane, n, &got);
    if (rc < 0)
        return rc;
    c->checks++;
    if (m->known && !r->rself)
        exp = m->val & lanes;
    else
        exp = ((got & r->rmask & ~r->cnst) | (r->reset & r->cnst)) & lanes;
    if (got != exp) {
        if (!m->known || r->rself)
            m->op = CHK_OP_READ;
        report(c, r, i, got ^ exp, exp, got, m, lanes);
        return 1;
    }
    /* A whole read gives the model; a part keeps it only if it was
     * certain (the read hook may change other lanes). */
    if (lanes == all_bits(r)) {
        m->val = got;
        m->known = true;
    } else if (r->rself) {
        m->known = false;
    }
    m->val = (m->val & ~(r->rc & lanes)) | (r->rs & r->rmask & lanes);
    m->op = CHK_OP_READ;
    taint(c, r->rall, r->rtaint, r->nr_rtaint, reg);
    return 0;
}

static int
write_part(struct chk *c, uint32_t reg, unsigned i, unsigned lane, unsigned n,
           uint64_t v)
{
    const struct vdev_check_reg *r = &c->d->regs[reg];
    struct chk_elem *m = &c->m[c->first[reg] + i];
    uint64_t lanes = lane_bits(lane, n) & all_bits(r);
    v &= lanes;
    int rc = wr(c, r, i, lane, n, v);
    if (rc < 0)
        return rc;
    uint64_t nv = (m->val & ~(r->rw & lanes)) | (v & r->rw);
    nv = (nv & ~(v & r->w1c)) | (v & r->w1s);
    m->val = nv & r->rmask;
    m->op = CHK_OP_WRITE;
    m->opval = v >> (8 * lane);
    m->oplanes = lanes;
    if (r->wself)
        forget_reg(c, reg);
    taint(c, r->wall, r->wtaint, r->nr_wtaint, reg);
    return 0;
}

static int
read_whole(struct chk *c, uint32_t reg, unsigned i)
{
    return read_part(c, reg, i, 0, c->d->regs[reg].size);
}

static int
write_whole(struct chk *c, uint32_t reg, unsigned i, uint64_t v)
{
    return write_part(c, reg, i, 0, c->d->regs[reg].size, v);
}

/* ------------------------------------------------------------ checks */

/* DEVICE_RESET, then every register reads its reset value: first those
 * whose read hooks assign nothing (so no hook has run yet), then the
 * rest, whose reads check only what no hook can change. */
static int
check_reset(struct chk *c)
{
    int rc = c->io->reset(c->io->opaque);
    if (rc < 0) {
        fprintf(c->err, "conformance %s: DEVICE_RESET: %s\n", c->d->name,
                strerror(-rc));
        return rc;
    }
    for (uint32_t k = 0; k < c->d->nr_regs; k++) {
        const struct vdev_check_reg *r = &c->d->regs[k];
        for (uint32_t i = 0; i < elems(r); i++) {
            struct chk_elem *m = &c->m[c->first[k] + i];
            m->val = r->reset & r->rmask;
            m->known = true;
            m->op = CHK_OP_RESET;
        }
    }
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t k = 0; k < c->d->nr_regs; k++) {
            const struct vdev_check_reg *r = &c->d->regs[k];
            bool quiet = !r->rself && !r->rall && r->nr_rtaint == 0;
            if (quiet != (pass == 0))
                continue;
            for (uint32_t i = 0; i < elems(r); i++)
                if ((rc = read_whole(c, k, i)) != 0)
                    return rc;
        }
    return 0;
}

/* Per register: write patterns, read back twice (the second read sees
 * what rc/rs did to the first). */
static int
check_directed(struct chk *c)
{
    static const uint64_t pats[] = {
        ~(uint64_t)0, 0, 0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull,
        ~(uint64_t)0, 0,
    };
    int rc;
    for (uint32_t k = 0; k < c->d->nr_regs; k++) {
        for (uint32_t i = 0; i < elems(&c->d->regs[k]); i++) {
            if ((rc = read_whole(c, k, i)) != 0)
                return rc;
            for (unsigned p = 0; p < sizeof(pats) / sizeof(pats[0]); p++)
                if ((rc = write_whole(c, k, i, pats[p])) != 0 ||
                    (rc = read_whole(c, k, i)) != 0 ||
                    (rc = read_whole(c, k, i)) != 0)
                    return rc;
        }
    }
    return 0;
}

/* xorshift64*: reproducible from the seed on every platform. */
static uint64_t
next_rand(struct chk *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 0x2545f4914f6cdd1dull;
}

/* One random access: a read, a write followed by a read of the same
 * register (so every access is checked), or now and then a reset. */
static int
random_access(struct chk *c)
{
    uint32_t total = c->first[c->d->nr_regs];
    uint32_t e = (uint32_t)(next_rand(c) % total), reg = 0;
    while (c->first[reg + 1] <= e)
        reg++;
    unsigned i = e - c->first[reg];
    uint64_t kind = next_rand(c) % 256;
    unsigned size = c->d->regs[reg].size, w = size, lane = 0;
    if (c->lanes && size > 1 && next_rand(c) % 4 == 0) {
        /* An aligned part: 1, 2 or 4 bytes of a wider register. */
        do
            w = 1u << (next_rand(c) % 3);
        while (w >= size);
        lane = (unsigned)(next_rand(c) % (size / w)) * w;
    }
    if (kind == 255)
        return check_reset(c);
    if (kind < 128)
        return read_part(c, reg, i, lane, w);
    uint64_t v = kind < 144 ? 0 : kind < 160 ? ~(uint64_t)0 : next_rand(c);
    int rc = write_part(c, reg, i, lane, w, v << (8 * lane));
    return rc == 0 ? read_whole(c, reg, i) : rc;
}

static int
check_random(struct chk *c, uint64_t n)
{
    if (c->first[c->d->nr_regs] == 0)
        return 0;
    for (uint64_t s = 0; s < n; s++) {
        int rc = random_access(c);
        if (rc != 0) {
            fprintf(c->err, "conformance %s: at random access %llu\n",
                    c->d->name, (unsigned long long)s);
            return rc;
        }
    }
    return 0;
}

int
vdev_check_run(const struct vdev_check_device *d,
               const struct vdev_check_io *io, const struct vdev_check_opts *o,
               FILE *err, uint64_t *checks)
{
    struct chk c = {
        .d = d,
        .io = io,
        .err = err,
        .rng = o->seed ? o->seed : 1,
        .lanes = o->lanes,
    };
    void *ctx = talloc_new(NULL);
    int rc = -ENOMEM;
    c.first = talloc_array(ctx, uint32_t, d->nr_regs + 1);
    if (!c.first)
        goto done;
    c.first[0] = 0;
    for (uint32_t k = 0; k < d->nr_regs; k++)
        c.first[k + 1] = c.first[k] + elems(&d->regs[k]);
    c.m = talloc_zero_array(ctx, struct chk_elem, c.first[d->nr_regs] + 1);
    if (!c.m)
        goto done;
    if ((rc = check_reset(&c)) == 0 && (rc = check_directed(&c)) == 0 &&
        (rc = check_random(&c, o->random)) == 0)
        rc = check_reset(&c);
done:
    talloc_free(ctx);
    *checks = c.checks;
    return rc;
}
