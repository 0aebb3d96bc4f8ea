/* Documentation generators: --emit=doc writes the register map as Markdown
 * with a bit-field picture per register; --emit=guest-h a standalone C
 * header of offsets, masks and enum values for guest driver writers. */
#include <stdio.h>
#include <string.h>
#include <talloc.h>

#include "emit.h"

#define P(...) vdevc_out_printf(e->o, __VA_ARGS__)
#define HEX(v) vdevc_hex_ring(v)
#define DHEX(v) doc_hex(v)

static const char *const bar_kinds[] = {"mem32", "mem64", "io"};

/* Numbers for people: 0x... without C suffixes. */
static const char *
doc_hex(uint64_t v)
{
    static char ring[16][24];
    static unsigned next;
    char *s = ring[next++ % 16];
    snprintf(s, sizeof ring[0], "0x%llx", (unsigned long long)v);
    return s;
}

static bool
any_hook(const struct vdevc_reg *r, bool write)
{
    if (write ? r->on_write != NULL : r->on_read != NULL)
        return true;
    for (unsigned i = 0; i < r->fields.n; i++) {
        const struct vdevc_field *f = r->fields.v[i];
        if (write ? f->on_write != NULL : f->on_read != NULL)
            return true;
    }
    return false;
}

static const char *
text(const char *s)
{
    return s != NULL ? s : "";
}

/* Fields and the reserved gaps between them, from the top bit down. */
struct seg {
    unsigned hi, lo;
    const char *name;
};

static unsigned
segments(const struct vdevc_reg *r, struct seg *s)
{
    unsigned n = 0;
    int top = (int)r->width - 1;
    for (unsigned i = r->fields.n; i-- > 0;) {
        const struct vdevc_field *f = r->fields.v[i];
        if ((int)f->hi_v < top)
            s[n++] = (struct seg){(unsigned)top, f->hi_v + 1, "-"};
        s[n++] = (struct seg){f->hi_v, f->lo_v, f->name};
        top = (int)f->lo_v - 1;
    }
    if (top >= 0)
        s[n++] = (struct seg){(unsigned)top, 0, "-"};
    return n;
}

static void
picture(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    struct seg s[130];
    unsigned n = segments(r, s);
    char *bits = talloc_strdup(e->tmp, "|"),
         *names = talloc_strdup(e->tmp, "|");
    for (unsigned i = 0; i < n; i++) {
        char range[16];
        if (s[i].hi == s[i].lo)
            snprintf(range, sizeof range, "%u", s[i].hi);
        else
            snprintf(range, sizeof range, "%u:%u", s[i].hi, s[i].lo);
        int w = (int)strlen(s[i].name);
        if ((int)strlen(range) > w)
            w = (int)strlen(range);
        bits = talloc_asprintf_append(bits, " %-*s |", w, range);
        names = talloc_asprintf_append(names, " %-*s |", w, s[i].name);
    }
    P("```\n%s\n%s\n```\n\n", bits, names);
}

static void
doc_fields(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    P("| bits | field | access | reset | description |\n"
      "|---|---|---|---|---|\n");
    for (unsigned i = r->fields.n; i-- > 0;) {
        const struct vdevc_field *f = r->fields.v[i];
        char bits[16];
        if (f->hi_v == f->lo_v)
            snprintf(bits, sizeof bits, "%u", f->hi_v);
        else
            snprintf(bits, sizeof bits, "%u:%u", f->hi_v, f->lo_v);
        P("| %s | %s | %s | %s | %s", bits, f->name,
          vdevc_access_name(f->access), DHEX(f->reset), text(f->doc));
        if (f->etype != NULL)
            P("%senum `%s`", f->doc ? "; " : "", f->etype->name);
        P(" |\n");
    }
    P("\n");
}

static void
doc_reg(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    P("### %s", r->qname);
    if (r->n > 1)
        P("[%u] (0x%llx, stride %llu)\n\n", r->n, (unsigned long long)r->off,
          (unsigned long long)r->stride);
    else
        P(" (0x%llx)\n\n", (unsigned long long)r->off);
    if (r->doc != NULL)
        P("%s\n\n", r->doc);
    bool rd = any_hook(r, false), wr = any_hook(r, true);
    P("%u bits, reset %s%s%s.\n\n", r->width, DHEX(r->reset),
      rd || wr ? ", device behaviour on " : "",
      rd && wr ? "read and write"
      : rd     ? "read"
      : wr     ? "write"
               : "");
    picture(e, r);
    if (!((const struct vdevc_field *)r->fields.v[0])->implicit)
        doc_fields(e, r);
}

static void
doc_bar(struct vdevc_emit *e, const struct vdevc_bar *b)
{
    P("## BAR %u: %s%s, %s bytes\n\n", b->idx, bar_kinds[b->kind],
      b->prefetchable ? " prefetchable" : "", DHEX(b->size));
    if (b->doc != NULL)
        P("%s\n\n", b->doc);
    if (b->memory)
        P("All memory, mappable by the client.\n\n");
    for (unsigned i = 0; i < b->mems.n; i++) {
        const struct vdevc_memory *m = b->mems.v[i];
        P("- memory `%s` at %s, %s bytes%s%s%s\n", m->name, DHEX(m->off),
          DHEX(m->size), m->mmap ? " (mmap)" : "", m->doc ? ": " : "",
          text(m->doc));
    }
    if (b->mems.n > 0)
        P("\n");
    if (b->regs.n == 0)
        return;
    P("| offset | register | width | access | reset | description |\n"
      "|---|---|---|---|---|---|\n");
    for (unsigned i = 0; i < b->regs.n; i++) {
        const struct vdevc_reg *r = b->regs.v[i];
        const struct vdevc_field *f0 = r->fields.v[0];
        P("| %s | %s%s | %u | %s | %s | %s |\n", DHEX(r->off), r->qname,
          r->n > 1 ? "[]" : "", r->width,
          f0->implicit ? vdevc_access_name(f0->access) : "fields",
          DHEX(r->reset), text(r->doc));
    }
    P("\n");
    for (unsigned i = 0; i < b->regs.n; i++)
        doc_reg(e, b->regs.v[i]);
}

char *
vdevc_emit_doc(void *mem_ctx, struct vdevc_unit *u)
{
    struct vdevc_emit *e = vdevc_emit_new(mem_ctx, u);
    const struct vdevc_device *d = e->d;
    P("# %s\n\nRegister map generated by vdevc from `%s`.\n\n", d->name,
      e->file);
    P("| | |\n|---|---|\n| vendor:device | %04llx:%04llx |\n",
      (unsigned long long)d->vendor, (unsigned long long)d->device);
    P("| subsystem | %04llx:%04llx |\n| class | %06llx |\n",
      (unsigned long long)d->subsys_vendor, (unsigned long long)d->subsys,
      (unsigned long long)d->class_code);
    P("| revision | %02llx |\n| state version | %u |\n",
      (unsigned long long)d->revision, d->version);
    if (d->intx)
        P("| INTx | %c |\n", 'A' + d->intx - 1);
    for (unsigned i = 0; i < d->caps.n; i++) {
        const struct vdevc_cap *c = d->caps.v[i];
        P("| capability %s | at %s", c->name, DHEX(c->offset));
        if (c->vectors && strcmp(c->name, "pcie") != 0)
            P(", %u vectors", c->vectors);
        P(" |\n");
    }
    P("\n");
    for (unsigned i = 0; i < d->interrupts.n; i++) {
        const struct vdevc_interrupt *q = d->interrupts.v[i];
        P("- interrupt %u = `%s`\n", q->vec, vdevc_expr_text(e->tmp, q->expr));
    }
    if (d->interrupts.n > 0)
        P("\n");
    for (unsigned i = 0; i < d->bars.n; i++)
        doc_bar(e, d->bars.v[i]);
    char *out = vdevc_out_steal(mem_ctx, e->o);
    talloc_free(e);
    return out;
}

/* ------------------------------------------------------------ guest-h */

static void
guest_reg(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    const char *R = vdevc_upper(e->tmp, r->cname);
    if (r->n > 1)
        P("#define %s_%s(i) (%s + (i) * %s)\n", e->NAME, R, HEX(r->off),
          HEX(r->stride));
    else
        P("#define %s_%s %s\n", e->NAME, R, HEX(r->off));
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        if (f->implicit)
            continue;
        const char *F = vdevc_upper(e->tmp, f->name);
        P("#define %s_%s_%s_SHIFT %u\n", e->NAME, R, F, f->lo_v);
        P("#define %s_%s_%s %s\n", e->NAME, R, F,
          HEX(vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v));
    }
}

char *
vdevc_emit_guest_h(void *mem_ctx, struct vdevc_unit *u)
{
    struct vdevc_emit *e = vdevc_emit_new(mem_ctx, u);
    const struct vdevc_device *d = e->d;
    P("/* %s register map for guest drivers, generated by vdevc from %s:\n"
      " * do not edit. Offsets are from the start of their BAR. */\n",
      d->name, e->file);
    P("#ifndef %s_GUEST_H\n#define %s_GUEST_H\n\n", e->NAME, e->NAME);
    P("#define %s_VENDOR_ID 0x%04llx\n#define %s_DEVICE_ID 0x%04llx\n\n",
      e->NAME, (unsigned long long)d->vendor, e->NAME,
      (unsigned long long)d->device);
    for (unsigned i = 0; i < d->bars.n; i++) {
        const struct vdevc_bar *b = d->bars.v[i];
        P("/* BAR %u: %s, %s bytes */\n#define %s_BAR%u_SIZE %s\n", b->idx,
          bar_kinds[b->kind], doc_hex(b->size), e->NAME, b->idx, HEX(b->size));
        for (unsigned k = 0; k < b->regs.n; k++)
            guest_reg(e, b->regs.v[k]);
        P("\n");
    }
    for (unsigned i = 0; i < d->enums.n; i++) {
        const struct vdevc_enum *en = d->enums.v[i];
        for (unsigned k = 0; k < en->members.n; k++) {
            const struct vdevc_enum_member *m = en->members.v[k];
            P("#define %s_%s_%s %s\n", e->NAME, vdevc_upper(e->tmp, en->name),
              vdevc_upper(e->tmp, m->name), HEX(m->v));
        }
        P("\n");
    }
    P("#endif /* %s_GUEST_H */\n", e->NAME);
    char *out = vdevc_out_steal(mem_ctx, e->o);
    talloc_free(e);
    return out;
}
