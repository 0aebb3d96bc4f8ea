/* The tables of the C: registers and BARs for libvdev's register engine,
 * the state block's reset values and load checks, migrated fields and
 * named values. Designated initializers, one field per line, so a
 * one-line change in the .vdev is a small diff here. */
#include <string.h>
#include <talloc.h>

#include "emit.h"

/* ------------------------------------------------------------ registers */

/* Zero masks and absent hooks are left out: an entry lists what its
 * register does. */
static void
reg_entry(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    static const char *const names[] = {
        "rmask", "rw", "w1c", "w1s", "rc", "rs", "irqs_read", "irqs_write"};
    const uint64_t vals[] = {r->rmask, r->rw, r->w1c,       r->w1s,
                             r->rc,    r->rs, r->irqs_read, r->irqs_write};
    L(1, "{");
    vdevc_emit_where(e, r->hdr.loc.first_line, r->qname, 2);
    L(2, ".offset = %s,", HEX(r->off));
    L(2, ".state = offsetof(struct %s_state, %s),", e->name, r->cname);
    L(2, ".size = %u,", r->width / 8);
    if (r->n > 1) {
        L(2, ".count = %u,", r->n);
        L(2, ".stride = %u,", (unsigned)r->stride);
    }
    for (unsigned k = 0; k < sizeof vals / sizeof vals[0]; k++)
        if (vals[k] != 0)
            L(2, ".%s = %s,", names[k], HEX(vals[k]));
    if (vdevc_reg_has_hooks(r, false))
        L(2, ".on_read = %s_%s_on_read,", e->name, r->cname);
    if (vdevc_reg_has_hooks(r, true))
        L(2, ".on_write = %s_%s_on_write,", e->name, r->cname);
    L(1, "},");
}

static void
area_table(struct vdevc_emit *e, const struct vdevc_bar *b, bool mmap)
{
    P("static const struct vdev_mmap_area %s_bar%u_%s[] = {\n", e->name, b->idx,
      mmap ? "mmap" : "areas");
    for (unsigned k = 0; k < b->mems.n; k++) {
        const struct vdevc_memory *m = b->mems.v[k];
        if (mmap && !m->mmap)
            continue;
        L(1, "{.offset = %s, .size = %s}, /* %s */", HEX(m->off), HEX(m->size),
          m->name);
    }
    P("};\n\n");
}

static unsigned
nr_mmap(const struct vdevc_bar *b)
{
    unsigned n = 0;
    for (unsigned k = 0; k < b->mems.n; k++)
        n += vdevc_mem_at(&b->mems, k)->mmap;
    return n;
}

static void
bar_tables(struct vdevc_emit *e, const struct vdevc_bar *b)
{
    if (b->regs.n > 0) {
        P("/* BAR %u registers, by offset. */\n", b->idx);
        P("static const struct vdev_reg %s_bar%u_regs[] = {\n", e->name,
          b->idx);
        for (unsigned k = 0; k < b->regs.n; k++) {
            reg_entry(e, b->regs.v[k]);
            vdevc_emit_flush(e);
        }
        P("};\n\n");
    }
    if (b->mems.n > 0)
        area_table(e, b, false);
    if (nr_mmap(b) > 0)
        area_table(e, b, true);
}

static void
bar_entry(struct vdevc_emit *e, const struct vdevc_bar *b)
{
    static const char *const kinds[] = {
        [BAR_MEM32] = "VDEV_BAR_MEM32",
        [BAR_MEM64] = "VDEV_BAR_MEM64",
        [BAR_IO] = "VDEV_BAR_IO",
    };
    L(1, "{");
    vdevc_emit_where(e, b->hdr.loc.first_line,
                     talloc_asprintf(e->tmp, "BAR %u", b->idx), 2);
    L(2, ".index = %u,", b->idx);
    L(2, ".kind = %s,", kinds[b->kind]);
    if (b->prefetchable)
        L(2, ".prefetchable = true,");
    L(2, ".size = %s,", HEX(b->size));
    if (b->memory)
        L(2, ".memory = true,");
    if (b->regs.n > 0) {
        L(2, ".regs = %s_bar%u_regs,", e->name, b->idx);
        L(2, ".nr_regs = %u,", b->regs.n);
    }
    if (b->mems.n > 0) {
        L(2, ".areas = %s_bar%u_areas,", e->name, b->idx);
        L(2, ".nr_areas = %u,", b->mems.n);
    }
    if (nr_mmap(b) > 0) {
        L(2, ".mmap_areas = %s_bar%u_mmap,", e->name, b->idx);
        L(2, ".nr_mmap_areas = %u,", nr_mmap(b));
    }
    L(1, "},");
}

unsigned
vdevc_emit_bar_tables(struct vdevc_emit *e)
{
    if (e->d->bars.n == 0)
        return 0;
    for (unsigned i = 0; i < e->d->bars.n; i++)
        bar_tables(e, e->d->bars.v[i]);
    P("static const struct vdev_model_bar %s_bars[] = {\n", e->name);
    for (unsigned i = 0; i < e->d->bars.n; i++)
        bar_entry(e, e->d->bars.v[i]);
    P("};\n\n");
    return e->d->bars.n;
}

/* ------------------------------------------------------------ state */

bool
vdevc_has_resets(const struct vdevc_device *d)
{
    for (unsigned i = 0; i < d->regs.n; i++)
        if (vdevc_reg_at(&d->regs, i)->reset != 0)
            return true;
    for (unsigned i = 0; i < d->vars.n; i++) {
        const struct vdevc_var *v = d->vars.v[i];
        if (!v->buffer && v->reset != 0)
            return true;
    }
    return false;
}

/* Without one, the engine and the loader zero the block. */
bool
vdevc_emit_reset_values(struct vdevc_emit *e)
{
    if (!vdevc_has_resets(e->d))
        return false;
    P("static void\n%s_reset_values(struct vdev_dev *dev, void *state)\n{\n",
      e->name);
    L(1, "struct %s_state *s = state;", e->name);
    L(1, "(void)dev;");
    L(1, "memset(s, 0, sizeof(*s));");
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        if (r->reset == 0)
            continue;
        if (r->n > 1) {
            L(1, "for (unsigned i = 0; i < %u; i++)", r->n);
            L(2, "s->%s[i] = %s;", r->cname, HEX(r->reset));
        } else {
            L(1, "s->%s = %s;", r->cname, HEX(r->reset));
        }
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        if (!v->buffer && v->reset != 0)
            L(1, "s->%s = %s;", v->name, HEX(v->reset));
    }
    P("}\n\n");
    vdevc_emit_flush(e);
    return true;
}

static void
fail_if(struct vdevc_out *o, int ind, const char *cond)
{
    vdevc_out_line(o, ind, "if (%s)", cond);
    vdevc_out_line(o, ind + 1, "return -EINVAL;");
}

/* An enum-typed value must be one of its members: nothing to check when
 * the members are every value the bits can hold, a bound when they are
 * 0 .. n-1, else a switch. */
static void
enum_check(struct vdevc_emit *e, struct vdevc_out *o,
           const struct vdevc_enum *en, const char *val, unsigned w, int ind)
{
    uint64_t *vals = talloc_array(e->tmp, uint64_t, en->members.n + 1);
    unsigned n = 0;
    bool dense = true;
    for (unsigned i = 0; i < en->members.n; i++) {
        uint64_t v = vdevc_member_at(&en->members, i)->v;
        bool dup = false;
        for (unsigned k = 0; k < n; k++)
            dup |= vals[k] == v;
        if (!dup)
            vals[n++] = v;
    }
    for (unsigned i = 0; i < n; i++)
        dense &= vals[i] < n;
    if (dense && w < 64 && n == (1ull << w))
        return;
    const char *v =
        strchr(val, ' ') ? talloc_asprintf(e->tmp, "(%s)", val) : val;
    if (dense) {
        fail_if(o, ind, talloc_asprintf(e->tmp, "%s > %s", v, HEX(n - 1)));
        return;
    }
    vdevc_out_line(o, ind, "switch (%s) {", val);
    for (unsigned i = 0; i < n; i++)
        vdevc_out_line(o, ind, "case %s:", HEX(vals[i]));
    vdevc_out_line(o, ind + 1, "break;");
    vdevc_out_line(o, ind, "default:");
    vdevc_out_line(o, ind + 1, "return -EINVAL;");
    vdevc_out_line(o, ind, "}");
}

/* A loaded block is hostile: unused bits clear, const bits at their value,
 * enum fields and narrow variables in range. */
static void
validate_reg(struct vdevc_emit *e, struct vdevc_out *o,
             const struct vdevc_reg *r)
{
    uint64_t used = 0, cmask = 0;
    bool enums = false;
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        uint64_t m = vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
        used |= m;
        if (f->access == ACC_CONST)
            cmask |= m;
        enums |= f->etype != NULL;
    }
    if (used == r->all && cmask == 0 && !enums)
        return;
    int ind = 1 + (r->n > 1);
    const char *v = r->n > 1 ? talloc_asprintf(e->tmp, "s->%s[i]", r->cname)
                             : talloc_asprintf(e->tmp, "s->%s", r->cname);
    if (r->n > 1)
        vdevc_out_line(o, 1, "for (unsigned i = 0; i < %u; i++) {", r->n);
    if (used != r->all)
        fail_if(o, ind,
                talloc_asprintf(e->tmp, "%s & %s", v,
                                vdevc_emit_const(e, r->all & ~used)));
    if (cmask == r->all)
        fail_if(o, ind, talloc_asprintf(e->tmp, "%s != %s", v, HEX(r->reset)));
    else if (cmask != 0)
        fail_if(o, ind,
                talloc_asprintf(e->tmp, "(%s & %s) != %s", v, HEX(cmask),
                                HEX(r->reset & cmask)));
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        unsigned w = f->hi_v - f->lo_v + 1;
        if (f->etype)
            enum_check(e, o, f->etype,
                       vdevc_emit_bits(e, v, r->width, f->lo_v, w), w, ind);
    }
    if (r->n > 1)
        vdevc_out_line(o, 1, "}");
}

const char *
vdevc_validate_checks(struct vdevc_emit *e)
{
    struct vdevc_out *o = vdevc_out_new(e->tmp);
    for (unsigned i = 0; i < e->d->regs.n; i++)
        validate_reg(e, o, e->d->regs.v[i]);
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        const char *s = talloc_asprintf(e->tmp, "s->%s", v->name);
        if (v->buffer)
            continue;
        if (v->etype)
            enum_check(e, o, v->etype, s, v->width, 1);
        else if (vdevc_storage_bits(v->width) != v->width)
            fail_if(o, 1,
                    talloc_asprintf(e->tmp, "%s > %s", s,
                                    HEX(vdevc_mask(v->width))));
    }
    return o->len > 0 ? o->buf : NULL;
}

void
vdevc_emit_validate(struct vdevc_emit *e, const char *checks)
{
    P("/* A loaded block is hostile: unused bits clear, const bits at their\n"
      " * value, enum fields and narrow variables in range. */\n"
      "static int\n%s_validate(struct vdev_dev *dev, const void *state)\n{\n",
      e->name);
    L(1, "const struct %s_state *s = state;", e->name);
    L(1, "(void)dev;");
    P("%s    return 0;\n}\n\n", checks);
    vdevc_emit_flush(e);
}

/* After a load: fields that are not migrated start from their reset
 * values; interrupt lines follow the loaded state. */
bool
vdevc_emit_post_load(struct vdevc_emit *e)
{
    struct vdevc_out *o = vdevc_out_new(e->tmp);
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        uint64_t m = 0;
        for (unsigned k = 0; k < r->fields.n; k++) {
            const struct vdevc_field *f = r->fields.v[k];
            if (f->nomigrate)
                m |= vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
        }
        if (m == 0 || r->nomigrate)
            continue;
        const char *el = r->n > 1
                             ? talloc_asprintf(e->tmp, "d->s.%s[i]", r->cname)
                             : talloc_asprintf(e->tmp, "d->s.%s", r->cname);
        if (r->n > 1)
            vdevc_out_line(o, 1, "for (unsigned i = 0; i < %u; i++)", r->n);
        vdevc_out_line(o, 1 + (r->n > 1), "%s = (%s & %s) | %s;", el, el,
                       vdevc_emit_const(e, r->all & ~m), HEX(r->reset & m));
    }
    uint64_t irqs = vdevc_all_irqs(e->d);
    if (o->len == 0 && irqs == 0)
        return false;
    P("/* After a load: fields that are not migrated start from their reset\n"
      " * values; interrupt lines follow the loaded state. */\n"
      "static void\n%s_post_load(struct vdev_dev *dev)\n{\n",
      e->name);
    if (o->len > 0)
        P("    struct %s *d = vdev_private(dev);\n%s", e->name, o->buf);
    if (irqs != 0)
        L(1, "%s_update_irqs(dev, %s);", e->name, HEX(irqs));
    P("}\n\n");
    vdevc_emit_flush(e);
    return true;
}

/* ------------------------------------------------------------ migration */

unsigned
vdevc_emit_mig_table(struct vdevc_emit *e)
{
    unsigned n = 0;
    for (unsigned i = 0; i < e->d->regs.n; i++)
        n += !vdevc_reg_at(&e->d->regs, i)->nomigrate;
    for (unsigned i = 0; i < e->d->vars.n; i++)
        n += !vdevc_var_at(&e->d->vars, i)->nomigrate;
    if (n == 0)
        return 0;
    P("/* Migrated state: id = FNV-1a 32 of the name, stable across "
      "revisions. */\n");
    P("static const struct vdev_mig_field %s_mig_fields[] = {\n", e->name);
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        if (!r->nomigrate)
            L(1, "VDEV_MIG_FIELD(struct %s_state, %s, \"%s\", 0x%08xu, %u),",
              e->name, r->cname, r->qname, vdevc_fnv1a(r->qname), r->since);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        const char *q = talloc_asprintf(e->tmp, "state.%s", v->name);
        if (!v->nomigrate)
            L(1, "VDEV_MIG_FIELD(struct %s_state, %s, \"%s\", 0x%08xu, %u),",
              e->name, v->name, q, vdevc_fnv1a(q), v->since);
    }
    P("};\n\n");
    vdevc_emit_flush(e);
    return n;
}

/* ------------------------------------------------------------ named values */

struct var_entry {
    const char *name, *member, *set, *doc;
    unsigned shift, bits;
};

static struct var_entry *
var_entry(struct vdevc_emit *e, struct vdevc_vec *vs, const char *name,
          const char *member, unsigned shift, unsigned bits, const char *doc)
{
    struct var_entry *x = talloc_zero(e, struct var_entry);
    x->name = talloc_strdup(x, name);
    x->member = talloc_strdup(x, member);
    x->shift = shift;
    x->bits = bits;
    x->doc = doc && *doc ? vdevc_c_string(x, doc) : "NULL";
    vdevc_vec_push(e, vs, x);
    return x;
}

/* Registers (not arrays) and their fields; external ones get a setter. */
static void
reg_vars(struct vdevc_emit *e, const struct vdevc_reg *r, struct vdevc_vec *vs)
{
    if (r->n > 1)
        return;
    struct var_entry *x =
        var_entry(e, vs, r->qname, r->cname, 0, r->width, r->doc);
    if (r->external) {
        x->set = talloc_asprintf(x, "%s_set_%s", e->name, r->cname);
        vdevc_emit_reg_setter(e, r, x->set);
    }
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        if (f->implicit)
            continue;
        x = var_entry(e, vs,
                      talloc_asprintf(e->tmp, "%s.%s", r->qname, f->name),
                      r->cname, f->lo_v, f->hi_v - f->lo_v + 1, f->doc);
        if (f->external) {
            x->set =
                talloc_asprintf(x, "%s_set_%s_%s", e->name, r->cname, f->name);
            vdevc_emit_field_setter(e, r, f, x->set);
        }
    }
}

unsigned
vdevc_emit_vars(struct vdevc_emit *e)
{
    struct vdevc_vec vs = {0};
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        reg_vars(e, e->d->regs.v[i], &vs);
        vdevc_emit_flush(e);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        if (v->buffer)
            continue;
        struct var_entry *x =
            var_entry(e, &vs, talloc_asprintf(e->tmp, "state.%s", v->name),
                      v->name, 0, v->width, v->doc);
        if (v->external) {
            x->set = talloc_asprintf(x, "%s_set_state_%s", e->name, v->name);
            vdevc_emit_var_setter(e, v, x->set);
        }
        vdevc_emit_flush(e);
    }
    if (vs.n == 0)
        return 0;
    P("/* Named values for the management channel; external ones are "
      "settable. */\n");
    P("static const struct vdev_var %s_vars[] = {\n", e->name);
    for (unsigned i = 0; i < vs.n; i++) {
        const struct var_entry *x = vs.v[i];
        const char *line =
            x->set ? talloc_asprintf(e->tmp,
                                     "VDEV_STATE_VAR_SET(struct %s_state, %s, "
                                     "\"%s\", %u, %u, %s,",
                                     e->name, x->member, x->name, x->shift,
                                     x->bits, x->set)
                   : talloc_asprintf(e->tmp,
                                     "VDEV_STATE_VAR(struct %s_state, %s, "
                                     "\"%s\", %u, %u,",
                                     e->name, x->member, x->name, x->shift,
                                     x->bits);
        /* A description goes on a line of its own. */
        if (strlen(line) + strlen(x->doc) > 74)
            P("    %s\n        %s),\n", line, x->doc);
        else
            P("    %s %s),\n", line, x->doc);
        talloc_free(vs.v[i]);
    }
    P("};\n\n");
    talloc_free(vs.v);
    return vs.n;
}
