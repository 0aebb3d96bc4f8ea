/* The tables of the C: registers and BARs for libvdev's register engine,
 * the state block's reset values and load checks, migrated fields and
 * named values. Designated initializers, one field per line, so a
 * one-line change in the .vdev is a small diff here. */
#include <string.h>
#include <talloc.h>

#include "emit.h"

/* ------------------------------------------------------------ registers */

/* "        .KEY = VALUE,": the register tables' lines (a large device has
 * hundreds of thousands) appended without a format. */
static void
member(struct vdevc_emit *e, const char *key, const char *value)
{
    vdevc_out_puts(e->o, "        .");
    vdevc_out_puts(e->o, key);
    vdevc_out_puts(e->o, " = ");
    vdevc_out_puts(e->o, value);
    vdevc_out_puts(e->o, ",\n");
}

/* Zero masks and absent hooks are left out: an entry lists what its
 * register does. */
static void
reg_entry(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    static const char *const names[] = {
        "rmask", "rw", "w1c", "w1s", "rc", "rs", "irqs_read", "irqs_write"};
    const uint64_t vals[] = {r->rmask, r->rw, r->w1c,       r->w1s,
                             r->rc,    r->rs, r->irqs_read, r->irqs_write};
    vdevc_out_puts(e->o, "    {\n");
    vdevc_emit_where(e, r->hdr.loc.first_line, r->qname, 2);
    member(e, "offset", HEX(r->off));
    vdevc_out_puts(e->o, "        .state = offsetof(struct ");
    vdevc_out_puts(e->o, e->name);
    vdevc_out_puts(e->o, "_state, ");
    vdevc_out_puts(e->o, r->cname);
    vdevc_out_puts(e->o, "),\n");
    member(e, "size", HEX(r->width / 8));
    if (r->n > 1) {
        L(2, ".count = %u,", r->n);
        L(2, ".stride = %u,", (unsigned)r->stride);
    }
    for (unsigned k = 0; k < sizeof vals / sizeof vals[0]; k++)
        if (vals[k] != 0)
            member(e, names[k], HEX(vals[k]));
    if (vdevc_reg_has_hooks(r, false))
        L(2, ".on_read = %s_%s_on_read,", e->name, r->cname);
    if (vdevc_reg_has_hooks(r, true))
        L(2, ".on_write = %s_%s_on_write,", e->name, r->cname);
    if (r->when)
        L(2, ".when = %s_%s_when,", e->name, r->cname);
    if (r->select)
        L(2, ".select = %s_%s_select,", e->name, r->cname);
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

/* Config-space registers, and the windows of config space the engine
 * serves for them (layout.c). */
bool
vdevc_emit_config_table(struct vdevc_emit *e)
{
    const struct vdevc_bar *cb = e->d->config;
    if (!cb || cb->regs.n == 0)
        return false;
    P("/* Config-space registers, by offset. */\n");
    P("static const struct vdev_reg %s_config_regs[] = {\n", e->name);
    for (unsigned k = 0; k < cb->regs.n; k++) {
        reg_entry(e, cb->regs.v[k]);
        vdevc_emit_flush(e);
    }
    P("};\n\n");
    uint64_t win[VDEVC_MAX_CONFIG_WINDOWS][2];
    unsigned n = vdevc_config_windows(e->d, win);
    P("static const struct vdev_model_window %s_config_windows[] = {\n",
      e->name);
    for (unsigned k = 0; k < n; k++)
        L(1, "{.offset = %s, .size = %s},", HEX(win[k][0]), HEX(win[k][1]));
    P("};\n\n");
    P("static const struct vdev_model_config %s_config = {\n", e->name);
    L(1, ".regs = %s_config_regs,", e->name);
    L(1, ".nr_regs = %u,", cb->regs.n);
    L(1, ".windows = %s_config_windows,", e->name);
    L(1, ".nr_windows = %u,", n);
    P("};\n\n");
    return true;
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
                     vdevc_emit_strf(e, "BAR %u", b->idx), 2);
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
    if (b->fill)
        L(2, ".fill = 0x%02x,", b->fill);
    if (b->max_access) {
        L(2, ".min_access = %u,", b->min_access);
        L(2, ".max_access = %u,", b->max_access);
    }
    if (b->exact)
        L(2, ".exact = true,");
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
        vdevc_emit_flush(e);
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
    const char *v = strchr(val, ' ') ? vdevc_emit_strf(e, "(%s)", val) : val;
    if (dense) {
        fail_if(o, ind, vdevc_emit_strf(e, "%s > %s", v, HEX(n - 1)));
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
        enums |= !!f->etype;
    }
    if (used == r->all && cmask == 0 && !enums)
        return;
    int ind = 1 + (r->n > 1);
    const char *v = r->n > 1 ? vdevc_emit_strf(e, "s->%s[i]", r->cname)
                             : vdevc_emit_strf(e, "s->%s", r->cname);
    if (r->n > 1)
        vdevc_out_line(o, 1, "for (unsigned i = 0; i < %u; i++) {", r->n);
    if (used != r->all)
        fail_if(o, ind,
                vdevc_emit_strf(e, "%s & %s", v,
                                vdevc_emit_const(e, r->all & ~used)));
    if (cmask == r->all)
        fail_if(o, ind, vdevc_emit_strf(e, "%s != %s", v, HEX(r->reset)));
    else if (cmask != 0)
        fail_if(o, ind,
                vdevc_emit_strf(e, "(%s & %s) != %s", v, HEX(cmask),
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
        const char *s = vdevc_emit_strf(e, "s->%s", v->name);
        if (v->buffer)
            continue;
        if (v->etype)
            enum_check(e, o, v->etype, s, v->width, 1);
        else if (vdevc_storage_bits(v->width) != v->width)
            fail_if(
                o, 1,
                vdevc_emit_strf(e, "%s > %s", s, HEX(vdevc_mask(v->width))));
    }
    vdevc_emit_fifo_checks(e, o);
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
        const char *el = r->n > 1 ? vdevc_emit_strf(e, "d->s.%s[i]", r->cname)
                                  : vdevc_emit_strf(e, "d->s.%s", r->cname);
        if (r->n > 1)
            vdevc_out_line(o, 1, "for (unsigned i = 0; i < %u; i++)", r->n);
        vdevc_out_line(o, 1 + (r->n > 1), "%s = (%s & %s) | %s;", el, el,
                       vdevc_emit_const(e, r->all & ~m), HEX(r->reset & m));
    }
    uint64_t irqs = vdevc_all_irqs(e->d);
    unsigned streams = e->d->streams.n;
    if (o->len == 0 && irqs == 0 && streams == 0)
        return false;
    P("/* After a load: fields that are not migrated start from their reset\n"
      " * values; interrupt lines follow the loaded state. */\n"
      "static void\n%s_post_load(struct vdev_dev *dev)\n{\n",
      e->name);
    if (o->len > 0)
        P("    struct %s *d = vdev_private(dev);\n%s", e->name, o->buf);
    if (irqs != 0)
        L(1, "%s_update_irqs(dev, %s);", e->name, HEX(irqs));
    vdevc_emit_kicks(e, (UINT32_C(1) << streams) - 1, 1);
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
    n += vdevc_fifo_mig_count(e->d);
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
        vdevc_emit_flush(e);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        const char *q = vdevc_emit_strf(e, "state.%s", v->name);
        if (!v->nomigrate)
            L(1, "VDEV_MIG_FIELD(struct %s_state, %s, \"%s\", 0x%08xu, %u),",
              e->name, v->name, q, vdevc_fnv1a(q), v->since);
    }
    vdevc_emit_fifo_mig(e);
    P("};\n\n");
    vdevc_emit_flush(e);
    return n;
}

/* ------------------------------------------------------------ named values */

/* One table line: written straight out (a 100,000-register device has
 * half a million of them); a description that would not fit goes on a
 * line of its own. */
static void
var_line(struct vdevc_emit *e, const char *prefix, const char *name,
         const char *field, const char *member, unsigned shift, unsigned bits,
         const char *set, const char *doc)
{
    struct vdevc_out *o = e->o;
    const char *d = doc && *doc ? vdevc_c_string(e->tmp, doc) : "NULL";
    vdevc_out_puts(o, "    ");
    size_t start = o->len;
    vdevc_out_puts(o, set ? "VDEV_STATE_VAR_SET(struct "
                          : "VDEV_STATE_VAR(struct ");
    vdevc_out_puts(o, e->name);
    vdevc_out_puts(o, "_state, ");
    vdevc_out_puts(o, member);
    vdevc_out_puts(o, ", \"");
    vdevc_out_puts(o, prefix);
    vdevc_out_puts(o, name);
    if (field) {
        vdevc_out_puts(o, ".");
        vdevc_out_puts(o, field);
    }
    vdevc_out_puts(o, "\", ");
    vdevc_out_putu(o, shift);
    vdevc_out_puts(o, ", ");
    vdevc_out_putu(o, bits);
    vdevc_out_puts(o, ",");
    if (set) {
        vdevc_out_puts(o, " ");
        vdevc_out_puts(o, set);
        vdevc_out_puts(o, ",");
    }
    vdevc_out_puts(o, o->len - start + strlen(d) > 74 ? "\n        " : " ");
    vdevc_out_puts(o, d);
    vdevc_out_puts(o, "),\n");
}

/* Setters of external registers, fields and variables, before the table
 * that names them. */
static void
emit_setters(struct vdevc_emit *e)
{
    if (!e->d->nr_external)
        return; /* no walk over a large device's registers for nothing */
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        if (r->n > 1)
            continue;
        if (r->external)
            vdevc_emit_reg_setter(
                e, r, vdevc_emit_strf(e, "%s_set_%s", e->name, r->cname));
        for (unsigned k = 0; k < r->fields.n; k++) {
            const struct vdevc_field *f = r->fields.v[k];
            if (!f->implicit && f->external)
                vdevc_emit_field_setter(e, r, f,
                                        vdevc_emit_strf(e, "%s_set_%s_%s",
                                                        e->name, r->cname,
                                                        f->name));
        }
        vdevc_emit_flush(e);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        if (!v->buffer && v->external)
            vdevc_emit_var_setter(
                e, v, vdevc_emit_strf(e, "%s_set_state_%s", e->name, v->name));
        vdevc_emit_flush(e);
    }
}

/* Registers (not arrays) and their fields, then variables; external ones
 * with their setter. */
unsigned
vdevc_emit_vars(struct vdevc_emit *e)
{
    /* Is there a line at all? (Counted as they are written.) */
    bool any = false;
    for (unsigned i = 0; i < e->d->regs.n && !any; i++)
        any = vdevc_reg_at(&e->d->regs, i)->n <= 1;
    for (unsigned i = 0; i < e->d->vars.n && !any; i++)
        any = !vdevc_var_at(&e->d->vars, i)->buffer;
    if (!any)
        return 0;
    unsigned n = 0;
    emit_setters(e);
    P("/* Named values for the management channel; external ones are "
      "settable. */\n");
    P("static const struct vdev_var %s_vars[] = {\n", e->name);
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        if (r->n > 1)
            continue;
        n++;
        var_line(e, "", r->qname, NULL, r->cname, 0, r->width,
                 r->external
                     ? vdevc_emit_strf(e, "%s_set_%s", e->name, r->cname)
                     : NULL,
                 r->doc);
        for (unsigned k = 0; k < r->fields.n; k++) {
            const struct vdevc_field *f = r->fields.v[k];
            if (f->implicit)
                continue;
            n++;
            var_line(e, "", r->qname, f->name, r->cname, f->lo_v,
                     f->hi_v - f->lo_v + 1,
                     f->external ? vdevc_emit_strf(e, "%s_set_%s_%s", e->name,
                                                   r->cname, f->name)
                                 : NULL,
                     f->doc);
        }
        vdevc_emit_flush(e);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        if (v->buffer)
            continue;
        n++;
        var_line(e, "state.", v->name, NULL, v->name, 0, v->width,
                 v->external
                     ? vdevc_emit_strf(e, "%s_set_state_%s", e->name, v->name)
                     : NULL,
                 v->doc);
    }
    P("};\n\n");
    return n;
}
