/* vdevc --emit=check: a C program that drives the device over vfio-user
 * with libvdev's client library and checks the semantics the .vdev
 * declares (access kinds, reserved bits, reset values), and doubles as a
 * fuzz oracle (--random N --seed S).
 *
 * What is certain, decided conservatively here and kept in the tables:
 * - const bits always read their reset value; reserved and wo bits always
 *   read 0: no hook may assign them (sema's readonly-write).
 * - Every other bit follows the access kind, so the checker keeps a model
 *   of each register's readable bits, except after a hook that may assign
 *   the register: then the model is forgotten until the next read, which
 *   checks only the certain bits above and takes the value as the new
 *   model. A hook "may assign" every register or field it has as an
 *   assignment target anywhere in its body (any array element: the whole
 *   array), and everything when it calls a C function (the function gets
 *   the device). A register's own read hook that may assign it makes each
 *   read of it uncertain; its own write hook, the value after a write.
 * - Hooks of variables (`external` ones) run only from the management
 *   channel, which the checker does not use; interrupt expressions read
 *   and never assign. Neither is counted as a writer.
 * - A banked register (`when`) is selected before each access by writes
 *   to the plain rw fields its condition reads (a witness of the
 *   condition), an index/data array's element by writing its index; one
 *   whose condition needs a variable or hooked bits is not exercised. At
 *   a ro/wo pair's place the checker only reads the one and writes the
 *   other. Config-space registers are accessed in config space.
 * - Timers expire, and streams receive and drain, between the checker's
 *   accesses: a register their hooks may assign is uncertain at every
 *   read, as if its own read hook assigned it (rself).
 * - Accesses are full-width at each element's offset, and with --lanes
 *   some random ones cover only some byte lanes (modelled per lane: a
 *   partial read of an uncertain register does not make it certain);
 *   in a BAR with `access` or `exact` only those it decodes. Memory
 *   areas and MSI-X tables are not checked; gaps between registers only
 *   in BARs that decode other than by default (`fill`, `access`,
 *   `exact`): a few undecoded places per BAR ("probes": a gap after each
 *   run of registers and at the BAR's end, a register read wider than
 *   itself or at its middle, an access of a size the BAR refuses, a
 *   write-only register read in an exact BAR) must read their byte.
 * The engine is libvdev's (runtime/client/check.c); this file writes the
 * device's tables and a main() that runs it. */
#include <string.h>
#include <talloc.h>

#include "emit.h"
#include "emit_check.h"

/* Probes per BAR at most, gaps and registers each. */
#define MAX_PROBES 8

static bool
decodes_plainly(const struct vdevc_bar *b)
{
    return b->config || (!b->fill && !b->exact && !b->max_access);
}

/* In an exact BAR a register no read reaches (no readable bit, no read
 * hook) reads as undecoded: the checker reads it only as a probe. */
static bool
exact_noread(const struct vdevc_reg *r)
{
    return !r->bar->config && r->bar->exact && !r->rmask &&
           !vdevc_reg_has_hooks(r, false) && !r->reads_elsewhere;
}

/* Which registers one access to a register may assign through hooks
 * (and the procs they call, followed through a work list: a chain of
 * procs recurses no deeper than one). */
struct effects {
    bool *regs;                      /* by register id */
    bool all;                        /* a hook calls C or resets the device */
    const struct vdevc_proc **procs; /* to follow, then followed */
    unsigned nr_procs, done;
    unsigned mark; /* this walk's */
};

static void stmt_targets(const struct vdevc_stmt *s, struct effects *fx);

static void
proc_targets(const struct vdevc_proc *p, struct effects *fx)
{
    if (p->mark == fx->mark)
        return;
    ((struct vdevc_proc *)p)->mark = fx->mark;
    fx->procs = talloc_realloc(fx->regs, fx->procs, const struct vdevc_proc *,
                               fx->nr_procs + 1);
    fx->procs[fx->nr_procs++] = p;
}

static void
expr_targets(const struct vdevc_expr *x, struct effects *fx)
{
    if (!x)
        return;
    if (x->kind == E_CALL && x->ref == REF_PROC)
        proc_targets(x->sym, fx);
    expr_targets(x->lhs, fx);
    expr_targets(x->rhs, fx);
    for (unsigned i = 0; i < x->args.n; i++)
        expr_targets(x->args.v[i], fx);
}

static void
stmt_targets(const struct vdevc_stmt *s, struct effects *fx)
{
    if (!s)
        return;
    expr_targets(s->lhs, fx);
    expr_targets(s->rhs, fx);
    expr_targets(s->third, fx);
    switch (s->kind) {
    case S_ASSIGN:
        if (s->lhs->ref == REF_REG)
            fx->regs[((struct vdevc_reg *)s->lhs->sym)->id] = true;
        else if (s->lhs->ref == REF_FIELD)
            fx->regs[((struct vdevc_field *)s->lhs->sym)->reg->id] = true;
        break;
    case S_RESET:
        fx->all = true;
        break;
    default:
        break;
    }
    stmt_targets(s->then_s, fx);
    stmt_targets(s->else_s, fx);
    for (unsigned i = 0; i < s->body.n; i++)
        stmt_targets(s->body.v[i], fx);
}

static void
hook_targets(const struct vdevc_hook *h, struct effects *fx)
{
    if (!h)
        return;
    fx->all |= h->calls;
    stmt_targets(h->body, fx);
    while (fx->done < fx->nr_procs) {
        const struct vdevc_proc *p = fx->procs[fx->done++];
        fx->all |= p->calls;
        stmt_targets(p->body, fx);
    }
}

/* A new walk: procs it has not seen are those marked otherwise. */
static unsigned
new_mark(void)
{
    static unsigned mark;
    return ++mark ? mark : ++mark;
}

/* The register's own hooks for one direction, fields included. */
static void
reg_effects(const struct vdevc_reg *r, bool write, struct effects *fx)
{
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        hook_targets(write ? f->on_write : f->on_read, fx);
    }
    hook_targets(write ? r->on_write : r->on_read, fx);
}

/* What the device-level hooks (timers, streams) may assign: they run
 * whenever the server's loop gets to them. */
static void
async_effects(const struct vdevc_device *d, struct effects *fx)
{
    for (unsigned i = 0; i < d->timers.n; i++)
        hook_targets(vdevc_timer_at(&d->timers, i)->on_expire, fx);
    for (unsigned i = 0; i < d->streams.n; i++) {
        const struct vdevc_stream *s = d->streams.v[i];
        hook_targets(s->on_receive, fx);
        hook_targets(s->on_transmit, fx);
    }
}

/* vdev_check.h's enum vdev_check_acc uses enum vdevc_access's numbers. */
static const char *const acc_enum[] = {
    "VDEV_CHK_RW",    "VDEV_CHK_RW",       "VDEV_CHK_RO", "VDEV_CHK_WO",
    "VDEV_CHK_W1C",   "VDEV_CHK_W1S",      "VDEV_CHK_RC", "VDEV_CHK_RS",
    "VDEV_CHK_CONST", "VDEV_CHK_RESERVED",
};

static const char *
acc_of(enum vdevc_access a)
{
    return acc_enum[a >= ACC_RW && a <= ACC_RESERVED ? a : ACC_RW];
}

/* One line per field; bits no field covers are reserved. */
static unsigned
emit_fields(struct vdevc_out *o, const struct vdevc_reg *r)
{
    uint64_t covered = 0;
    unsigned n = 0;
    for (unsigned k = 0; k < r->fields.n; k++, n++) {
        const struct vdevc_field *f = r->fields.v[k];
        uint64_t m = vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
        covered |= m;
        if (f->implicit)
            vdevc_out_line(o, 1, "{\"%s\", %s, %s},", r->qname, HEX(m),
                           acc_of(f->access));
        else
            vdevc_out_line(o, 1, "{\"%s.%s\", %s, %s},", r->qname, f->name,
                           HEX(m), acc_of(f->access));
    }
    if (r->all & ~covered) {
        vdevc_out_line(
            o, 1, "{\"%s (bits no field covers)\", %s, VDEV_CHK_RESERVED},",
            r->qname, HEX(r->all & ~covered));
        n++;
    }
    return n;
}

/* The other registers one access's hooks may assign, appended to the
 * list; *self: the register itself (or everything: a C call). */
static unsigned
emit_taint(struct vdevc_out *o, const struct vdevc_device *d,
           const struct effects *fx, unsigned self_id, bool *self)
{
    unsigned n = 0;
    *self = fx->all || fx->regs[self_id];
    for (unsigned k = 0; k < d->regs.n; k++) {
        if (k == self_id || !fx->regs[k])
            continue;
        vdevc_out_line(o, 1, "%u, /* %s */", k,
                       vdevc_reg_at(&d->regs, k)->qname);
        n++;
    }
    return n;
}

struct reg_info {
    unsigned field0, nr_fields;
    unsigned taint0[2], nr_taint[2]; /* by read, write */
    bool self[2], all[2];
    unsigned sel0, nr_sel;
    bool unselectable;
    bool reset_unknown;
    const struct vdevc_reg *index; /* index/data array: its index */
    uint64_t index_mask;
    unsigned index_shift;
};

/* ------------------------------------------------------------ banks */

/* A register the checker may write to select another: always there, its
 * bits in `mask` plain read/write ones, no write hook. */
static bool
selector_ok(const struct vdevc_reg *s, const struct vdevc_reg *r, uint64_t mask)
{
    return s != r && s->n == 1 && !s->when && !s->select && !s->banked &&
           (mask & ~s->rw) == 0 && !vdevc_reg_has_hooks(s, true);
}

/* The writes making r's condition true, appended to so; false when they
 * need a variable, or bits the guest cannot simply write. */
static bool
sel_steps(void *tmp, const struct vdevc_reg *r, struct vdevc_out *so,
          unsigned *n, uint64_t *work)
{
    struct vdevc_assign *as = NULL;
    int k = vdevc_cond_witness(tmp, r->when, work, &as);
    if (k < 0)
        return false;
    for (int i = 0; i < k; i++)
        if (as[i].mask != 0 &&
            (as[i].var || !selector_ok(as[i].reg, r, as[i].mask)))
            return false;
    for (int i = 0; i < k; i++) {
        if (as[i].mask == 0)
            continue;
        vdevc_out_line(so, 1, "{%u, %s, %s}, /* %s: %s */", as[i].reg->id,
                       HEX(as[i].mask), HEX(as[i].value), r->qname,
                       as[i].reg->qname);
        (*n)++;
    }
    return true;
}

/* An index the checker can set: a register or field, or one masked by
 * 2^k - 1, of a selector register. */
static bool
index_of(const struct vdevc_reg *r, const struct vdevc_expr *x,
         struct reg_info *ri)
{
    uint64_t low = UINT64_MAX;
    if (x->kind == E_BINARY && x->op == '&' && x->rhs->kind == E_NUM &&
        vdevc_is_pow2(x->rhs->num + 1)) {
        low = x->rhs->num;
        x = x->lhs;
    }
    const struct vdevc_reg *s;
    unsigned lo = 0, w;
    if (x->ref == REF_REG && !x->idx) {
        s = x->sym;
        w = s->width;
    } else if (x->ref == REF_FIELD && !x->idx) {
        const struct vdevc_field *f = x->sym;
        s = f->reg;
        lo = f->lo_v;
        w = f->hi_v - f->lo_v + 1;
    } else {
        return false;
    }
    uint64_t mask = (vdevc_mask(w) & low) << lo;
    if (!selector_ok(s, r, mask))
        return false;
    ri->index = s;
    ri->index_mask = mask;
    ri->index_shift = lo;
    return true;
}

static void
analyse_bank(void *tmp, const struct vdevc_reg *r, struct reg_info *ri,
             struct vdevc_out *so, unsigned *nsel, uint64_t *work)
{
    ri->sel0 = *nsel;
    if (r->when && !sel_steps(tmp, r, so, &ri->nr_sel, work))
        ri->unselectable = true;
    if (r->select && !index_of(r, r->select, ri))
        ri->unselectable = true;
    *nsel += ri->nr_sel;
}

static bool
has_sticky(const struct vdevc_reg *r)
{
    for (unsigned i = 0; i < r->fields.n; i++)
        if (vdevc_field_at(&r->fields, i)->sticky)
            return true;
    return r->sticky;
}

/* What a device reset leaves uncertain: sticky registers and what the
 * device's `on reset` assigns. */
static void
analyse_reset(void *tmp, const struct vdevc_device *d, struct reg_info *ri)
{
    struct effects fx = {.regs = talloc_zero_array(tmp, bool, d->regs.n + 1),
                         .mark = new_mark()};
    if (d->on_reset)
        hook_targets(d->on_reset, &fx);
    for (unsigned k = 0; k < d->regs.n; k++)
        ri[k].reset_unknown = fx.all || fx.regs[k] || has_sticky(d->regs.v[k]);
    talloc_free(fx.regs);
}

/* Analyses every register's hooks and banks, writing the field, taint
 * and selection lists. */
static void
analyse(void *tmp, const struct vdevc_device *d, struct reg_info *ri,
        struct vdevc_out *fo, struct vdevc_out *to, struct vdevc_out *so)
{
    unsigned nf = 0, nt = 0, ns = 0;
    uint64_t work = 0; /* witnesses tried: past the budget, not selected */
    struct effects async = {.regs = talloc_zero_array(tmp, bool, d->regs.n + 1),
                            .mark = new_mark()};
    analyse_reset(tmp, d, ri);
    async_effects(d, &async);
    for (unsigned k = 0; k < d->regs.n; k++) {
        const struct vdevc_reg *r = d->regs.v[k];
        analyse_bank(tmp, r, &ri[k], so, &ns, &work);
        ri[k].field0 = nf;
        ri[k].nr_fields = emit_fields(fo, r);
        nf += ri[k].nr_fields;
        for (int w = 0; w < 2; w++) {
            struct effects fx = {.regs =
                                     talloc_zero_array(tmp, bool, d->regs.n),
                                 .mark = new_mark()};
            reg_effects(r, w, &fx);
            ri[k].taint0[w] = nt;
            ri[k].nr_taint[w] = emit_taint(to, d, &fx, k, &ri[k].self[w]);
            ri[k].all[w] = fx.all;
            nt += ri[k].nr_taint[w];
            talloc_free(fx.regs);
        }
        ri[k].self[0] |= async.all || async.regs[k];
    }
    talloc_free(async.regs);
}

/* Zero values and false flags are left out. */
static void
emit_reg(struct vdevc_out *o, const struct vdevc_reg *r,
         const struct reg_info *x)
{
    static const char *const masks[] = {"rmask", "rw", "w1c",  "w1s",
                                        "rc",    "rs", "cnst", "reset"};
    const uint64_t vals[] = {
        r->rmask,          r->rw,   r->w1c, r->w1s, r->rc, r->rs,
        r->rmask & ~r->hw, r->reset};
    static const char *const flags[] = {"rself", "wself", "rall", "wall"};
    const bool on[] = {x->self[0], x->self[1], x->all[0], x->all[1]};
    vdevc_out_line(o, 1, "{");
    vdevc_out_line(o, 2, ".name = \"%s\",", r->qname);
    if (r->bar->config)
        vdevc_out_line(o, 2, ".bar = VDEV_CHECK_CONFIG,");
    else if (r->bar->idx)
        vdevc_out_line(o, 2, ".bar = %u,", r->bar->idx);
    vdevc_out_line(o, 2, ".offset = %s,", HEX(r->off));
    vdevc_out_line(o, 2, ".size = %u,", r->width / 8);
    if (r->n > 1) {
        vdevc_out_line(o, 2, ".count = %u,", r->n);
        vdevc_out_line(o, 2, ".stride = %u,", (unsigned)r->stride);
    }
    for (unsigned k = 0; k < 8; k++)
        if (vals[k])
            vdevc_out_line(o, 2, ".%s = %s,", masks[k], HEX(vals[k]));
    for (unsigned k = 0; k < 4; k++)
        if (on[k])
            vdevc_out_line(o, 2, ".%s = true,", flags[k]);
    if (x->nr_fields) {
        vdevc_out_line(o, 2, ".fields = &chk_fields[%u],", x->field0);
        vdevc_out_line(o, 2, ".nr_fields = %u,", x->nr_fields);
    }
    for (int w = 0; w < 2; w++)
        if (x->nr_taint[w]) {
            vdevc_out_line(o, 2, ".%ctaint = &chk_taint[%u],", "rw"[w],
                           x -> taint0[w]);
            vdevc_out_line(o, 2, ".nr_%ctaint = %u,", "rw"[w],
                           x -> nr_taint[w]);
        }
    if (x->nr_sel) {
        vdevc_out_line(o, 2, ".sel = &chk_sel[%u],", x->sel0);
        vdevc_out_line(o, 2, ".nr_sel = %u,", x->nr_sel);
    }
    if (x->unselectable)
        vdevc_out_line(o, 2, ".unselectable = true,");
    if (x->reset_unknown)
        vdevc_out_line(o, 2, ".reset_unknown = true,");
    if (r->reads_elsewhere || exact_noread(r))
        vdevc_out_line(o, 2, ".noread = true,");
    if (!r->bar->config && r->bar->max_access) {
        vdevc_out_line(o, 2, ".min_access = %u,", r->bar->min_access);
        vdevc_out_line(o, 2, ".max_access = %u,", r->bar->max_access);
    }
    if (!r->bar->config && r->bar->exact)
        vdevc_out_line(o, 2, ".exact = true,");
    if (r->writes_elsewhere)
        vdevc_out_line(o, 2, ".nowrite = true,");
    if (x->index) {
        vdevc_out_line(o, 2, ".indexed = true,");
        vdevc_out_line(o, 2, ".index_reg = %u, /* %s */", x->index->id,
                       x->index->qname);
        vdevc_out_line(o, 2, ".index_mask = %s,", HEX(x->index_mask));
        if (x->index_shift)
            vdevc_out_line(o, 2, ".index_shift = %u,", x->index_shift);
    }
    vdevc_out_line(o, 1, "},");
}

static void
probe(struct vdevc_out *o, unsigned *n, const struct vdevc_bar *b, uint64_t off,
      unsigned size, unsigned byte, bool read_only, const char *why)
{
    vdevc_out_line(o, 1,
                   "{.bar = %u, .offset = %s, .size = %u, .byte = 0x%02x%s}, "
                   "/* %s */",
                   b->idx, HEX(off), size, byte,
                   read_only ? ", .read_only = true" : "", why);
    (*n)++;
}

/* Is [off, off + size) clear of every register and memory area? */
static bool
clear_of_all(const struct vdevc_bar *b, uint64_t off, uint64_t size)
{
    for (unsigned k = 0; k < b->regs.n; k++) {
        const struct vdevc_reg *r = b->regs.v[k];
        uint64_t end = r->off + (r->n - 1) * r->stride + r->width / 8;
        if (off < end && r->off < off + size)
            return false;
    }
    for (unsigned k = 0; k < b->mems.n; k++) {
        const struct vdevc_memory *m = b->mems.v[k];
        if (off < m->off + m->size && m->off < off + size)
            return false;
    }
    return true;
}

/* The undecoded places of one BAR the checker reads (see the top). */
static void
bar_probes(struct vdevc_out *o, unsigned *n, const struct vdevc_bar *b)
{
    unsigned unit = b->min_access ? b->min_access : 4;
    unsigned max = b->max_access ? b->max_access : b->kind == BAR_IO ? 4 : 8;
    unsigned gaps = 0, regs = 0;
    uint64_t last = b->size >= unit ? b->size - unit : 0;
    /* Gaps: the first aligned place after each register, the BAR's end. */
    for (unsigned k = 0; k <= b->regs.n && gaps < MAX_PROBES; k++) {
        uint64_t from = 0;
        if (k > 0) {
            const struct vdevc_reg *r = b->regs.v[k - 1];
            from = r->off + (r->n - 1) * r->stride + r->width / 8;
        }
        from = (from + unit - 1) / unit * unit;
        if (from + unit <= b->size && clear_of_all(b, from, unit) &&
            from != last) {
            probe(o, n, b, from, unit, b->fill, false, "a gap");
            gaps++;
        }
    }
    if (clear_of_all(b, last, unit))
        probe(o, n, b, last, unit, b->fill, false, "the BAR's end");
    for (unsigned k = 0; k < b->regs.n && regs < MAX_PROBES; k++) {
        const struct vdevc_reg *r = b->regs.v[k];
        unsigned size = r->width / 8;
        if (b->exact && exact_noread(r)) {
            probe(o, n, b, r->off, size, b->fill, true,
                  talloc_asprintf(o, "%s takes no reads", r->qname));
            regs++;
        }
        if (b->exact && size * 2 <= max && r->off % (size * 2) == 0 &&
            !r->banked) {
            probe(o, n, b, r->off, size * 2, b->fill, false,
                  talloc_asprintf(o, "wider than %s", r->qname));
            regs++;
        }
        if (b->exact && size / 2 >= (b->min_access ? b->min_access : 1) &&
            !r->banked) {
            probe(o, n, b, r->off + size / 2, size / 2, b->fill, false,
                  talloc_asprintf(o, "the middle of %s", r->qname));
            regs++;
        }
    }
    if (b->min_access > 1 && b->regs.n) {
        const struct vdevc_reg *r = b->regs.v[0];
        probe(o, n, b, r->off, b->min_access / 2, 0, false,
              "an access smaller than the BAR takes");
        probe(o, n, b, r->off + b->min_access / 2, b->min_access, 0, false,
              "a misaligned access");
    }
}

char *
vdevc_emit_check(void *mem_ctx, struct vdevc_unit *u)
{
    void *tmp = talloc_new(NULL);
    const struct vdevc_device *d = u->dev;
    struct reg_info *ri =
        talloc_zero_array(tmp, struct reg_info, d->regs.n ? d->regs.n : 1);
    struct vdevc_out *o = vdevc_out_new(tmp);
    struct vdevc_out *fo = vdevc_out_new(tmp), *to = vdevc_out_new(tmp);
    struct vdevc_out *so = vdevc_out_new(tmp);
    analyse(tmp, d, ri, fo, to, so);

    vdevc_out_printf(
        o,
        "/* Generated by vdevc --emit=check from %s: do not edit.\n"
        " * Conformance checker for the %s device (vdev_check.h):\n"
        " * check-%s [--random N] [--seed S] [--lanes] SOCKET. */\n"
        "#include \"vdev_check.h\"\n\n",
        vdevc_display_name(u->file), d->name, d->name);
    if (fo->len)
        vdevc_out_printf(
            o,
            "/* Fields by register: name, bits, access kind. */\n"
            "static const struct vdev_check_field chk_fields[] = {\n%s};\n\n",
            fo->buf);
    if (to->len)
        vdevc_out_printf(
            o,
            "/* Registers a hook may assign (see struct vdev_check_reg). */\n"
            "static const uint32_t chk_taint[] = {\n%s};\n\n",
            to->buf);
    if (so->len)
        vdevc_out_printf(
            o,
            "/* Writes that select a banked register (struct "
            "vdev_check_sel). */\n"
            "static const struct vdev_check_sel chk_sel[] = {\n%s};\n\n",
            so->buf);
    struct vdevc_out *po = vdevc_out_new(tmp);
    unsigned nr_probes = 0;
    for (unsigned k = 0; k < d->bars.n; k++)
        if (!decodes_plainly(d->bars.v[k]))
            bar_probes(po, &nr_probes, d->bars.v[k]);
    if (nr_probes)
        vdevc_out_printf(o,
                         "/* Undecoded places (struct vdev_check_probe). */\n"
                         "static const struct vdev_check_probe chk_probes[] = "
                         "{\n%s};\n\n",
                         po->buf);
    if (d->regs.n) {
        vdevc_out_printf(o,
                         "static const struct vdev_check_reg chk_regs[] = {\n");
        for (unsigned k = 0; k < d->regs.n; k++)
            emit_reg(o, d->regs.v[k], &ri[k]);
        vdevc_out_printf(o, "};\n\n");
    }
    vdevc_out_printf(o,
                     "static const struct vdev_check_device chk_device = {\n");
    vdevc_out_printf(o, "    .name = \"%s\",\n", d->name);
    if (d->regs.n)
        vdevc_out_printf(o, "    .regs = chk_regs,\n    .nr_regs = %u,\n",
                         d->regs.n);
    if (nr_probes)
        vdevc_out_printf(o, "    .probes = chk_probes,\n    .nr_probes = %u,\n",
                         nr_probes);
    vdevc_out_printf(
        o, "};\n\nint\nmain(int argc, char **argv)\n{\n"
           "    return vdev_check_main(argc, argv, &chk_device);\n}\n");
    char *text = vdevc_out_steal(mem_ctx, o);
    talloc_free(tmp);
    return text;
}
