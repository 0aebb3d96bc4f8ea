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
 *   checked. */
#include <string.h>
#include <talloc.h>

#include "emit.h"
#include "emit_check.h"

#undef P
#define P(...) vdevc_out_printf(o, __VA_ARGS__)

/* Which registers one access to a register may assign through hooks. */
struct effects {
    bool *regs; /* by register id */
    bool all;   /* a hook calls C */
};

static void
stmt_targets(const struct vdevc_stmt *s, struct effects *fx)
{
    if (s == NULL)
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
    if (h == NULL)
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

static unsigned
acc_code(enum vdevc_access a)
{
    /* Same numbering as the checker's enum chk_acc (and enum
     * vdevc_access): rw=1 ... reserved=9. */
    return a >= ACC_RW && a <= ACC_RESERVED ? (unsigned)a : ACC_RW;
}

static const char *const acc_enum[] = {
    "CHK_RW",  "CHK_RW", "CHK_RO", "CHK_WO",    "CHK_W1C",
    "CHK_W1S", "CHK_RC", "CHK_RS", "CHK_CONST", "CHK_RESERVED",
};

static unsigned
emit_fields(struct vdevc_out *o, const struct vdevc_reg *r)
{
    uint64_t covered = 0;
    unsigned n = 0;
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        uint64_t m = vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
        covered |= m;
        if (f->implicit)
            P("    {\"%s\", %s, %s},\n", r->qname, HEX(m),
              acc_enum[acc_code(f->access)]);
        else
            P("    {\"%s.%s\", %s, %s},\n", r->qname, f->name, HEX(m),
              acc_enum[acc_code(f->access)]);
        n++;
    }
    if (r->all & ~covered) {
        P("    {\"%s (bits no field covers)\", %s, CHK_RESERVED},\n", r->qname,
          HEX(r->all & ~covered));
        n++;
    }
    return n;
}

/* Appends the taint list of one access to the list text; returns its
 * length. The register itself is left out (it goes in *self). */
static unsigned
emit_taint(struct vdevc_out *o, const struct vdevc_device *d,
           const struct effects *fx, unsigned self_id, bool *self)
{
    unsigned n = 0;
    *self = fx->all || fx->regs[self_id];
    for (unsigned k = 0; k < d->regs.n; k++) {
        if (k == self_id || !fx->regs[k])
            continue;
        P("    %u, /* %s */\n", k, ((struct vdevc_reg *)d->regs.v[k])->qname);
        n++;
    }
    return n;
}

struct reg_info {
    unsigned field0, nr_fields;
    unsigned rtaint0, nr_rtaint, wtaint0, nr_wtaint;
    bool rself, wself, rall, wall;
};

char *
vdevc_emit_check(void *mem_ctx, struct vdevc_unit *u)
{
    void *tmp = talloc_new(NULL);
    const struct vdevc_device *d = u->dev;
    unsigned nregs = d->regs.n;
    struct reg_info *ri =
        talloc_zero_array(tmp, struct reg_info, nregs ? nregs : 1);
    struct vdevc_out *o = vdevc_out_new(tmp);
    struct vdevc_out *fo = vdevc_out_new(tmp), *to = vdevc_out_new(tmp);
    unsigned nf = 0, nt = 0;

    for (unsigned k = 0; k < nregs; k++) {
        const struct vdevc_reg *r = d->regs.v[k];
        ri[k].field0 = nf;
        ri[k].nr_fields = emit_fields(fo, r);
        nf += ri[k].nr_fields;
        for (int w = 0; w < 2; w++) {
            struct effects fx = {
                .regs = talloc_zero_array(tmp, bool, nregs),
            };
            reg_effects(r, w, &fx);
            bool self;
            unsigned n = emit_taint(to, d, &fx, k, &self);
            if (w) {
                ri[k].wtaint0 = nt, ri[k].nr_wtaint = n;
                ri[k].wself = self, ri[k].wall = fx.all;
            } else {
                ri[k].rtaint0 = nt, ri[k].nr_rtaint = n;
                ri[k].rself = self, ri[k].rall = fx.all;
            }
            nt += n;
            talloc_free(fx.regs);
        }
    }

    P("/* Generated by vdevc --emit=check from %s: do not edit.\n"
      " * Conformance checker for the %s device: %s [--random N] [--seed S]"
      "\n * SOCKET. */\n",
      vdevc_display_name(u->file), d->name, d->name);
    P("#include <errno.h>\n#include <stdbool.h>\n#include <stdint.h>\n"
      "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n"
      "#include <unistd.h>\n\n#include \"vdev_client.h\"\n\n");
    P("#define CHK_DEVICE \"%s\"\n\n", d->name);
    vdevc_out_printf(o, "%s", vdevc_check_rt_types);
    P("/* Fields by register: name, bits, access kind. */\n");
    P("static const struct chk_field chk_fields[%u] = {\n", nf ? nf : 1);
    if (fo->len > 0)
        vdevc_out_printf(o, "%s", fo->buf);
    else
        P("    {\"\", 0, CHK_RESERVED},\n");
    P("};\n\n");
    P("/* Registers a hook may assign (see struct chk_reg). */\n");
    P("static const uint32_t chk_taint_list[%u] = {\n", nt ? nt : 1);
    if (to->len > 0)
        vdevc_out_printf(o, "%s", to->buf);
    else
        P("    0,\n");
    P("};\n\n");
    /* A variable, not sizeof: no always-false loop test (and no
     * zero-length array) for a device without registers. */
    P("#define CHK_NR_REGS chk_nr_regs\n");
    P("static const uint32_t chk_nr_regs = %u;\n", nregs);
    P("static const struct chk_reg chk_regs[%u] = {\n", nregs ? nregs : 1);
    if (nregs == 0)
        P("    {.name = \"\"},\n");
    for (unsigned k = 0; k < nregs; k++) {
        const struct vdevc_reg *r = d->regs.v[k];
        const struct reg_info *x = &ri[k];
        uint64_t cnst = r->rmask & ~r->hw;
        P("    [%u] = {\n", k);
        P("        .name = \"%s\",\n", r->qname);
        P("        .bar = %u,\n", r->bar->idx);
        P("        .offset = %s,\n", HEX(r->off));
        P("        .size = %u,\n", r->width / 8);
        P("        .count = %u,\n", r->n);
        P("        .stride = %u,\n", (unsigned)r->stride);
        P("        .rmask = %s,\n", HEX(r->rmask));
        P("        .rw = %s,\n", HEX(r->rw));
        P("        .w1c = %s,\n", HEX(r->w1c));
        P("        .w1s = %s,\n", HEX(r->w1s));
        P("        .rc = %s,\n", HEX(r->rc));
        P("        .rs = %s,\n", HEX(r->rs));
        P("        .cnst = %s,\n", HEX(cnst));
        P("        .reset = %s,\n", HEX(r->reset));
        P("        .rself = %s,\n", x->rself ? "true" : "false");
        P("        .wself = %s,\n", x->wself ? "true" : "false");
        P("        .rall = %s,\n", x->rall ? "true" : "false");
        P("        .wall = %s,\n", x->wall ? "true" : "false");
        P("        .field0 = %u,\n", x->field0);
        P("        .nr_fields = %u,\n", x->nr_fields);
        P("        .rtaint0 = %u,\n", x->rtaint0);
        P("        .nr_rtaint = %u,\n", x->nr_rtaint);
        P("        .wtaint0 = %u,\n", x->wtaint0);
        P("        .nr_wtaint = %u,\n", x->nr_wtaint);
        P("    },\n");
    }
    P("};\n\n");
    vdevc_out_printf(o, "%s", vdevc_check_rt_code);
    char *text = vdevc_out_steal(mem_ctx, o);
    talloc_free(tmp);
    return text;
}
