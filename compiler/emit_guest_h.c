/* --emit=guest-h: a standalone C header for guest driver writers: PCI
 * identity, BARs, register offsets, field shifts/masks/widths, enum values,
 * MSI-X placement. Only <stdint.h>; nothing of libvdev. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "emit.h"
#include "emit_doc.h"

/* Printf to the guest header (emit.h's P writes through an emitter). */
#define G(...) vdevc_out_printf(g->o, __VA_ARGS__)

/* The emitter's output, device and scratch, plus every macro defined. */
struct guest {
    struct vdevc_emit *e;
    struct vdevc_out *o;
    const struct vdevc_device *d;
    const char *NAME;
    void *tmp;
    struct vdevc_vec names;
};

/* A constant of a register's type: `u` for up to 32 bits, UINT64_C() for
 * 64-bit registers, so ~MASK keeps the upper half. digits > 0 pads. */
static char *
lit(void *ctx, uint64_t v, bool wide, unsigned digits)
{
    if (wide || v > UINT32_MAX)
        return talloc_asprintf(ctx, "UINT64_C(0x%0*" PRIx64 ")", (int)digits,
                               v);
    return talloc_asprintf(ctx, "0x%0*" PRIx64 "u", (int)digits, v);
}

static void
def(struct guest *g, const char *name, const char *value)
{
    G("#define %s %s\n", name, value);
    vdevc_vec_push(g->tmp, &g->names, talloc_strdup(g->tmp, name));
}

static void
defu(struct guest *g, const char *name, uint64_t v)
{
    def(g, name, lit(g->tmp, v, false, 0));
}

/* Counts and indexes: decimal, unsigned. */
static void
defn(struct guest *g, const char *name, uint64_t v)
{
    def(g, name, talloc_asprintf(g->tmp, "%" PRIu64 "u", v));
}

static const char *
bar_kind(const struct vdevc_bar *b)
{
    static const char *const kinds[] = {"32-bit memory", "64-bit memory",
                                        "I/O"};
    return kinds[b->kind];
}

static void
emit_identity(struct guest *g)
{
    const struct vdevc_device *d = g->d;
    const char *N = g->NAME;
    void *t = g->tmp;
    G("/* PCI identity */\n");
    def(g, talloc_asprintf(t, "%s_VENDOR_ID", N), lit(t, d->vendor, 0, 4));
    def(g, talloc_asprintf(t, "%s_DEVICE_ID", N), lit(t, d->device, 0, 4));
    def(g, talloc_asprintf(t, "%s_SUBSYSTEM_VENDOR_ID", N),
        lit(t, d->subsys_vendor, 0, 4));
    def(g, talloc_asprintf(t, "%s_SUBSYSTEM_ID", N), lit(t, d->subsys, 0, 4));
    def(g, talloc_asprintf(t, "%s_CLASS_CODE", N), lit(t, d->class_code, 0, 6));
    def(g, talloc_asprintf(t, "%s_REVISION", N), lit(t, d->revision, 0, 2));
    G("/* Interrupt pin: 1..4 = INTA..INTD, 0 = none */\n");
    defn(g, talloc_asprintf(t, "%s_INTX_PIN", N), d->intx);
    G("\n");
}

static void
emit_bars(struct guest *g)
{
    G("/* BARs: size in bytes */\n");
    for (unsigned i = 0; i < g->d->bars.n; i++) {
        const struct vdevc_bar *b = g->d->bars.v[i];
        G("/* BAR %u: %s%s%s */\n", b->idx, bar_kind(b),
          b->prefetchable ? ", prefetchable" : "",
          b->memory ? ", all memory" : "");
        defu(g, talloc_asprintf(g->tmp, "%s_BAR%u_SIZE", g->NAME, b->idx),
             b->size);
        if (b->exact)
            G("/* registers decode only at their offset, no wider */\n");
        if (b->max_access) {
            G("/* aligned accesses of MIN..MAX bytes only (others read 0) "
              "*/\n");
            defu(
                g,
                talloc_asprintf(g->tmp, "%s_BAR%u_ACCESS_MIN", g->NAME, b->idx),
                b->min_access);
            defu(
                g,
                talloc_asprintf(g->tmp, "%s_BAR%u_ACCESS_MAX", g->NAME, b->idx),
                b->max_access);
        }
        if (b->fill)
            defu(g, talloc_asprintf(g->tmp, "%s_BAR%u_FILL", g->NAME, b->idx),
                 b->fill);
    }
    G("\n");
}

static void
emit_caps(struct guest *g)
{
    const struct vdevc_device *d = g->d;
    void *t = g->tmp;
    if (d->caps.n == 0)
        return;
    G("/* Capabilities: offsets in config space */\n");
    unsigned vendors = 0;
    for (unsigned i = 0; i < d->caps.n; i++) {
        const struct vdevc_cap *c = d->caps.v[i];
        const char *K = vdevc_upper(t, c->name);
        if (c->kind == CAP_VENDOR && vendors++ > 0)
            K = talloc_asprintf(t, "VENDOR%u", vendors);
        def(g, talloc_asprintf(t, "%s_CAP_%s_OFFSET", g->NAME, K),
            lit(t, c->offset, 0, 2));
        /* Vendor fields follow the 3-byte header (id, next, length). */
        for (unsigned k = 0; k < c->fields.n; k++) {
            const struct vdevc_field *f = c->fields.v[k];
            if (!f)
                continue;
            const char *F = vdevc_upper(t, f->name);
            def(g, talloc_asprintf(t, "%s_CAP_%s_%s_OFFSET", g->NAME, K, F),
                lit(t, c->offset + 3 + f->lo_v / 8, 0, 2));
            def(g, talloc_asprintf(t, "%s_CAP_%s_%s_WIDTH", g->NAME, K, F),
                talloc_asprintf(t, "%u", f->hi_v - f->lo_v + 1));
        }
    }
    if (d->msi)
        defn(g, talloc_asprintf(t, "%s_MSI_VECTORS", g->NAME), d->msi->vectors);
    const struct vdevc_cap *x = d->msix;
    if (x) {
        G("/* MSI-X: 16-byte table entries, 1 PBA bit per vector */\n");
        defn(g, talloc_asprintf(t, "%s_MSIX_VECTORS", g->NAME), x->vectors);
        def(g, talloc_asprintf(t, "%s_MSIX_TABLE_BAR", g->NAME),
            talloc_asprintf(t, "%u", x->table_bar));
        defu(g, talloc_asprintf(t, "%s_MSIX_TABLE_OFFSET", g->NAME),
             x->table_off);
        def(g, talloc_asprintf(t, "%s_MSIX_PBA_BAR", g->NAME),
            talloc_asprintf(t, "%u", x->pba_bar));
        defu(g, talloc_asprintf(t, "%s_MSIX_PBA_OFFSET", g->NAME), x->pba_off);
    }
    G("\n");
}

static void
emit_field(struct guest *g, const struct vdevc_reg *r, const char *R,
           const struct vdevc_field *f)
{
    void *t = g->tmp;
    unsigned w = f->hi_v - f->lo_v + 1;
    bool wide = r->width == 64;
    const char *F =
        talloc_asprintf(t, "%s_%s_%s", g->NAME, R, vdevc_upper(t, f->name));
    if (w == 1)
        G("/*   %s [%u] %s", f->name, f->lo_v, vdevc_access_name(f->access));
    else
        G("/*   %s [%u:%u] %s", f->name, f->hi_v, f->lo_v,
          vdevc_access_name(f->access));
    if (f->etype)
        G(", enum %s (%s_%s_*)", f->etype->name, g->NAME,
          vdevc_upper(t, f->etype->name));
    if (f->doc)
        G(": %s", vdevc_doc_line(t, f->doc, DOC_C_COMMENT));
    G(" */\n");
    def(g, talloc_asprintf(t, "%s_SHIFT", F),
        talloc_asprintf(t, "%u", f->lo_v));
    def(g, talloc_asprintf(t, "%s_WIDTH", F), talloc_asprintf(t, "%u", w));
    def(g, talloc_asprintf(t, "%s_MASK", F),
        lit(t, vdevc_mask(w) << f->lo_v, wide, r->width / 4));
}

static void
emit_reg(struct guest *g, const struct vdevc_reg *r)
{
    void *t = g->tmp;
    const char *R = vdevc_upper(t, r->cname);
    const char *RN = talloc_asprintf(t, "%s_%s", g->NAME, R);
    G("/* %s%s: %u-bit", r->qname,
      r->n > 1 ? talloc_asprintf(t, "[%u]", r->n) : "", r->width);
    if (r->access != ACC_NONE)
        G(" %s", vdevc_access_name(r->access));
    if (r->doc)
        G(", %s", vdevc_doc_line(t, r->doc, DOC_C_COMMENT));
    /* Banks: every register sharing an offset is here, with what selects
     * it. */
    if (r->when)
        G(", when %s",
          vdevc_doc_line(t, vdevc_doc_expr(t, r->when), DOC_C_COMMENT));
    if (r->select)
        G(", element selected by %s",
          vdevc_doc_line(t, vdevc_doc_expr(t, r->select), DOC_C_COMMENT));
    G(" */\n");
    if (!r->bar->config)
        def(g, talloc_asprintf(t, "%s_BAR", RN),
            talloc_asprintf(t, "%u", r->bar->idx));
    def(g, talloc_asprintf(t, "%s_OFFSET", RN), lit(t, r->off, 0, 2));
    if (r->n > 1 && r->select) {
        defn(g, talloc_asprintf(t, "%s_COUNT", RN), r->n);
    } else if (r->n > 1) {
        defn(g, talloc_asprintf(t, "%s_COUNT", RN), r->n);
        defn(g, talloc_asprintf(t, "%s_STRIDE", RN), r->stride);
        def(g, talloc_asprintf(t, "%s_OFFSET_N(n)", RN),
            talloc_asprintf(t, "(%s_OFFSET + (n) * %s_STRIDE)", RN, RN));
    }
    def(g, talloc_asprintf(t, "%s_RESET", RN),
        lit(t, r->reset, r->width == 64, r->width / 4));
    for (unsigned i = 0; i < r->fields.n; i++) {
        const struct vdevc_field *f = r->fields.v[i];
        if (!f->implicit)
            emit_field(g, r, R, f);
    }
}

static void
emit_bar_contents(struct guest *g)
{
    for (unsigned i = 0; i < g->d->bars.n; i++) {
        const struct vdevc_bar *b = g->d->bars.v[i];
        if (b->regs.n == 0 && b->mems.n == 0)
            continue;
        G("/* ---- BAR %u: offsets from the start of the BAR ---- */\n\n",
          b->idx);
        for (unsigned k = 0; k < b->regs.n; k++) {
            emit_reg(g, b->regs.v[k]);
            G("\n");
        }
        for (unsigned k = 0; k < b->mems.n; k++) {
            const struct vdevc_memory *m = b->mems.v[k];
            const char *M = talloc_asprintf(g->tmp, "%s_%s", g->NAME,
                                            vdevc_upper(g->tmp, m->name));
            G("/* memory %s%s%s%s */\n", m->name, m->mmap ? " (mmap)" : "",
              m->doc ? ", " : "",
              m->doc ? vdevc_doc_line(g->tmp, m->doc, DOC_C_COMMENT) : "");
            def(g, talloc_asprintf(g->tmp, "%s_BAR", M),
                talloc_asprintf(g->tmp, "%u", b->idx));
            defu(g, talloc_asprintf(g->tmp, "%s_OFFSET", M), m->off);
            defu(g, talloc_asprintf(g->tmp, "%s_SIZE", M), m->size);
            G("\n");
        }
    }
    const struct vdevc_bar *cb = g->d->config;
    if (!cb || cb->regs.n == 0)
        return;
    G("/* ---- Config space: offsets in config space ---- */\n\n");
    for (unsigned k = 0; k < cb->regs.n; k++) {
        emit_reg(g, cb->regs.v[k]);
        G("\n");
    }
}

static void
emit_enums(struct guest *g)
{
    for (unsigned i = 0; i < g->d->enums.n; i++) {
        const struct vdevc_enum *en = g->d->enums.v[i];
        G("/* enum %s */\n", en->name);
        const char *E = vdevc_upper(g->tmp, en->name);
        for (unsigned k = 0; k < en->members.n; k++) {
            const struct vdevc_enum_member *m = en->members.v[k];
            defu(g,
                 talloc_asprintf(g->tmp, "%s_%s_%s", g->NAME, E,
                                 vdevc_upper(g->tmp, m->name)),
                 m->v);
        }
        G("\n");
    }
}

/* FIFO depths: how much a driver may queue before the device drops. */
static void
emit_fifos(struct guest *g)
{
    if (g->d->fifos.n == 0)
        return;
    G("/* ---- FIFO depths, in elements ---- */\n\n");
    for (unsigned i = 0; i < g->d->fifos.n; i++) {
        const struct vdevc_fifo *f = g->d->fifos.v[i];
        defn(g,
             talloc_asprintf(g->tmp, "%s_%s_DEPTH", g->NAME,
                             vdevc_upper(g->tmp, f->cname)),
             f->depth);
    }
    G("\n");
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Register "a" field "b_c" and register "a_b" field "c" both make A_B_C_*:
 * say so at compile time instead of a confusing redefinition. */
static void
emit_clashes(struct guest *g)
{
    vdevc_vec_sort(&g->names, cmp_str);
    for (unsigned i = 1; i < g->names.n; i++)
        if (strcmp(g->names.v[i - 1], g->names.v[i]) == 0)
            G("#error \"vdevc: %s is defined twice: rename a register, "
              "field or enum value\"\n",
              (const char *)g->names.v[i]);
}

char *
vdevc_emit_guest_h(void *mem_ctx, struct vdevc_unit *u)
{
    struct vdevc_emit *e = vdevc_emit_new(mem_ctx, u);
    if (!e || !e->o)
        return NULL;
    struct guest *g = talloc_zero(e, struct guest);
    if (!g) {
        talloc_free(e);
        return NULL;
    }
    *g = (struct guest){e, e->o, e->d, e->NAME, e->tmp, {0}};
    G("/* %s: register map for guest driver writers.\n"
      " * Generated by vdevc --emit=guest-h from %s: do not edit.\n"
      " * Offsets are from the start of their BAR; a field is\n"
      " * (reg & NAME_MASK) >> NAME_SHIFT. */\n",
      e->name, e->file);
    G("#ifndef %s_GUEST_H\n#define %s_GUEST_H\n\n#include <stdint.h>\n\n",
      g->NAME, g->NAME);
    emit_identity(g);
    emit_bars(g);
    emit_caps(g);
    emit_bar_contents(g);
    emit_enums(g);
    emit_fifos(g);
    emit_clashes(g);
    G("#endif /* %s_GUEST_H */\n", g->NAME);
    char *text = vdevc_out_steal(mem_ctx, e->o);
    talloc_free(e);
    return text;
}
