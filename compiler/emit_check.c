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
 * - Accesses are full-width at each element's offset, and with --lanes
 *   some random ones cover only some byte lanes (modelled per lane: a
 *   partial read of an uncertain register does not make it certain).
 *   Memory areas, MSI-X tables and gaps between registers are not
 *   checked.
 * The engine is libvdev's (runtime/client/check.c); this file writes the
 * device's tables and a main() that runs it. */
#include <string.h>
#include <talloc.h>

#include "emit.h"
#include "emit_check.h"

/* Which registers one access to a register may assign through hooks. */
struct effects {
    bool *regs; /* by register id */
    bool all;   /* a hook calls C */
};

static void
stmt_targets(const struct vdevc_stmt *s, struct effects *fx)
{
    if (!s)
        return;
    switch (s->kind) {
    case S_ASSIGN:
        if (s->lhs->ref == REF_REG)
            fx->regs[((struct vdevc_reg *)s->lhs->sym)->id] = true;
        else if (s->lhs->ref == REF_FIELD)
            fx->regs[((struct vdevc_field *)s->lhs->sym)->reg->id] = true;
        break;
    case S_IF:
        stmt_targets(s->then_s, fx);
        stmt_targets(s->else_s, fx);
        break;
    case S_BLOCK:
        for (unsigned i = 0; i < s->body.n; i++)
            stmt_targets(s->body.v[i], fx);
        break;
    default:
        break;
    }
}

static void
hook_targets(const struct vdevc_hook *h, struct effects *fx)
{
    if (!h)
        return;
    fx->all |= h->calls;
    stmt_targets(h->body, fx);
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
};

/* Analyses every register's hooks, writing the field and taint lists. */
static void
analyse(void *tmp, const struct vdevc_device *d, struct reg_info *ri,
        struct vdevc_out *fo, struct vdevc_out *to)
{
    unsigned nf = 0, nt = 0;
    for (unsigned k = 0; k < d->regs.n; k++) {
        const struct vdevc_reg *r = d->regs.v[k];
        ri[k].field0 = nf;
        ri[k].nr_fields = emit_fields(fo, r);
        nf += ri[k].nr_fields;
        for (int w = 0; w < 2; w++) {
            struct effects fx = {.regs =
                                     talloc_zero_array(tmp, bool, d->regs.n)};
            reg_effects(r, w, &fx);
            ri[k].taint0[w] = nt;
            ri[k].nr_taint[w] = emit_taint(to, d, &fx, k, &ri[k].self[w]);
            ri[k].all[w] = fx.all;
            nt += ri[k].nr_taint[w];
            talloc_free(fx.regs);
        }
    }
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
    if (r->bar->idx)
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
    vdevc_out_line(o, 1, "},");
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
    analyse(tmp, d, ri, fo, to);

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
    vdevc_out_printf(
        o, "};\n\nint\nmain(int argc, char **argv)\n{\n"
           "    return vdev_check_main(argc, argv, &chk_device);\n}\n");
    char *text = vdevc_out_steal(mem_ctx, o);
    talloc_free(tmp);
    return text;
}
