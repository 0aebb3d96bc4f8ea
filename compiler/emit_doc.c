/* --emit=doc: the checked device as a Markdown register map for guest
 * driver writers: identity, BARs, every register with its bit-field
 * picture and field table, interrupts, config space, migration state.
 * Deterministic: everything follows declaration or offset order. */
#include <inttypes.h>
#include <string.h>
#include <talloc.h>

#include "emit.h"
#include "emit_doc.h"

#define P(...) vdevc_out_printf(e->o, __VA_ARGS__)

char *
vdevc_doc_line(void *ctx, const char *doc, bool markdown)
{
    char *s = talloc_strdup(ctx, "");
    for (const char *p = doc; *p; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r')
            s = talloc_strdup_append(s, " ");
        else if (!markdown && p[0] == '*' && p[1] == '/')
            s = talloc_strdup_append(s, "* ");
        else if (markdown && (*p == '|' || *p == '<' || *p == '>'))
            s = talloc_asprintf_append(s, "%s",
                                       *p == '|' ? "\\|"
                                       : *p == '<' ? "&lt;" : "&gt;");
        else
            s = talloc_asprintf_append(s, "%c", *p);
    }
    return s;
}

/* 0x-hex with as many digits as `bits` needs, for reset values. */
static char *
hexw(void *ctx, uint64_t v, unsigned bits)
{
    if (bits == 1)
        return talloc_asprintf(ctx, "%" PRIu64, v);
    return talloc_asprintf(ctx, "0x%0*" PRIx64, (int)((bits + 3) / 4), v);
}

static char *
hex(void *ctx, uint64_t v)
{
    return talloc_asprintf(ctx, "0x%" PRIx64, v);
}

/* 4096 -> "4 KiB"; sizes that are not a whole unit stay in bytes. */
static char *
size_text(void *ctx, uint64_t v)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB"};
    unsigned u = 0;
    while (v >= 1024 && v % 1024 == 0 && u < 6) {
        v /= 1024;
        u++;
    }
    return talloc_asprintf(ctx, "%" PRIu64 " %s", v, units[u]);
}

static const char *
doc_or(void *ctx, const char *doc, const char *none)
{
    return doc != NULL ? vdevc_doc_line(ctx, doc, true) : none;
}

static const char *
bits_text(void *ctx, unsigned hi, unsigned lo)
{
    return hi == lo ? talloc_asprintf(ctx, "%u", lo)
                    : talloc_asprintf(ctx, "%u:%u", hi, lo);
}

static const char *
bar_kind(const struct vdevc_bar *b)
{
    static const char *const kinds[] = {"32-bit memory", "64-bit memory",
                                        "I/O"};
    return kinds[b->kind];
}

/* vdevc_expr_text puts every binary operation in parentheses: drop the
 * pair around the whole expression. */
static const char *
expr_text(void *ctx, const struct vdevc_expr *x)
{
    char *s = vdevc_expr_text(ctx, x);
    size_t n = strlen(s);
    if (x->kind != E_BINARY || n < 2 || s[0] != '(')
        return s;
    s[n - 1] = '\0';
    return s + 1;
}

/* ------------------------------------------------------------ identity */

static void
emit_identity(struct vdevc_emit *e)
{
    const struct vdevc_device *d = e->d;
    void *t = e->tmp;
    P("## Identity\n\n| Property | Value |\n|---|---|\n");
    P("| Vendor ID | `%s` |\n", hexw(t, d->vendor, 16));
    P("| Device ID | `%s` |\n", hexw(t, d->device, 16));
    P("| Subsystem vendor ID | `%s` |\n", hexw(t, d->subsys_vendor, 16));
    P("| Subsystem ID | `%s` |\n", hexw(t, d->subsys, 16));
    P("| Class code | `%s` (base `%s`, sub-class `%s`, prog-if `%s`) |\n",
      hexw(t, d->class_code, 24), hexw(t, d->class_code >> 16, 8),
      hexw(t, (d->class_code >> 8) & 0xff, 8), hexw(t, d->class_code & 0xff,
                                                    8));
    P("| Revision | `%s` |\n", hexw(t, d->revision, 8));
    P("| Interrupt pin | %s |\n",
      d->intx ? talloc_asprintf(t, "INT%c", 'A' + d->intx - 1) : "none");
    P("| Migration state version | %u |\n\n", d->version);
}

/* ------------------------------------------------------------ BARs */

static bool
msix_in(const struct vdevc_device *d, unsigned bar, bool pba)
{
    return d->msix != NULL &&
           (pba ? d->msix->pba_bar : d->msix->table_bar) == bar;
}

static void
emit_bars(struct vdevc_emit *e)
{
    void *t = e->tmp;
    P("## BARs\n\n| BAR | Type | Size | Contents |\n|---|---|---|---|\n");
    for (unsigned i = 0; i < e->d->bars.n; i++) {
        const struct vdevc_bar *b = e->d->bars.v[i];
        char *what = talloc_strdup(t, "");
        const char *sep = "";
        if (b->memory) {
            what = talloc_strdup(t, "memory, mmap-able");
            sep = "; ";
        }
        if (b->regs.n > 0) {
            what = talloc_asprintf_append(what, "%s%u register%s", sep,
                                          b->regs.n, b->regs.n == 1 ? "" : "s");
            sep = "; ";
        }
        for (unsigned k = 0; k < b->mems.n; k++) {
            const struct vdevc_memory *m = b->mems.v[k];
            what = talloc_asprintf_append(what, "%smemory `%s`", sep, m->name);
            sep = "; ";
        }
        if (msix_in(e->d, b->idx, false)) {
            what = talloc_asprintf_append(what, "%sMSI-X table at `%s`", sep,
                                          hex(t, e->d->msix->table_off));
            sep = "; ";
        }
        if (msix_in(e->d, b->idx, true)) {
            what = talloc_asprintf_append(what, "%sMSI-X PBA at `%s`", sep,
                                          hex(t, e->d->msix->pba_off));
            sep = "; ";
        }
        if (b->doc != NULL)
            what = talloc_asprintf_append(what, "%s%s", sep,
                                          vdevc_doc_line(t, b->doc, true));
        P("| %u | %s%s | %s (`%s`) | %s |\n", b->idx, bar_kind(b),
          b->prefetchable ? ", prefetchable" : "", size_text(t, b->size),
          hex(t, b->size), *what ? what : "unused");
    }
    P("\n");
}

/* ------------------------------------------------------------ registers */

static const char *
reg_access(void *ctx, const struct vdevc_reg *r)
{
    if (r->fields.n == 1 && ((struct vdevc_field *)r->fields.v[0])->implicit)
        return vdevc_access_name(((struct vdevc_field *)r->fields.v[0])
                                     ->access);
    return r->access != ACC_NONE
               ? talloc_asprintf(ctx, "%s (fields)",
                                 vdevc_access_name(r->access))
               : "fields";
}

static const char *
reg_title(void *ctx, const struct vdevc_reg *r)
{
    return r->n > 1 ? talloc_asprintf(ctx, "%s[%u]", r->qname, r->n)
                    : r->qname;
}

static const char *
anchor(void *ctx, const struct vdevc_reg *r)
{
    char *a = talloc_asprintf(ctx, "reg-%s", r->cname);
    for (char *p = a; *p; p++)
        if (*p == '_')
            *p = '-';
    return a;
}

static void
emit_summary(struct vdevc_emit *e, const struct vdevc_bar *b)
{
    void *t = e->tmp;
    P("| Offset | Register | Width | Access | Reset | Description |\n"
      "|---|---|---|---|---|---|\n");
    for (unsigned k = 0; k < b->regs.n; k++) {
        const struct vdevc_reg *r = b->regs.v[k];
        P("| `%s` | [%s](#%s) | %u | %s | `%s` | %s |\n", hex(t, r->off),
          reg_title(t, r), anchor(t, r), r->width, reg_access(t, r),
          hexw(t, r->reset, r->width), doc_or(t, r->doc, ""));
    }
    P("\n");
    if (b->mems.n == 0)
        return;
    P("| Offset | Memory | Size | Description |\n|---|---|---|---|\n");
    for (unsigned k = 0; k < b->mems.n; k++) {
        const struct vdevc_memory *m = b->mems.v[k];
        P("| `%s` | %s | %s | %s%s |\n", hex(t, m->off), m->name,
          size_text(t, m->size), m->mmap ? "mmap-able; " : "",
          doc_or(t, m->doc, ""));
    }
    P("\n");
}

static const char *
enum_values(void *ctx, const struct vdevc_enum *en)
{
    if (en == NULL)
        return "";
    char *s = talloc_asprintf(ctx, "enum `%s`:", en->name);
    for (unsigned i = 0; i < en->members.n; i++) {
        const struct vdevc_enum_member *m = en->members.v[i];
        s = talloc_asprintf_append(s, "%s `%s` %s", i ? "," : "",
                                   hex(ctx, m->v), m->name);
    }
    return s;
}

static const char *
field_notes(void *ctx, const struct vdevc_field *f)
{
    char *s = talloc_strdup(ctx, "");
    if (f->on_read != NULL)
        s = talloc_strdup_append(s, " Reading runs device logic.");
    if (f->on_write != NULL)
        s = talloc_strdup_append(s, " Writing runs device logic.");
    if (f->external)
        s = talloc_strdup_append(s, " Driven from outside (management).");
    if (f->nomigrate)
        s = talloc_strdup_append(s, " Not migrated.");
    return s;
}

/* MSB first, like the picture, with the reserved runs between fields. */
static void
emit_field_table(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    void *t = e->tmp;
    P("| Bits | Field | Access | Reset | Values | Description |\n"
      "|---|---|---|---|---|---|\n");
    int next = (int)r->width - 1;
    for (unsigned i = r->fields.n; i-- > 0;) {
        const struct vdevc_field *f = r->fields.v[i];
        if ((int)f->hi_v < next)
            P("| %s | - | reserved | `0` | | reads 0, writes ignored |\n",
              bits_text(t, (unsigned)next, f->hi_v + 1));
        unsigned w = f->hi_v - f->lo_v + 1;
        P("| %s | %s | %s | `%s` | %s | %s%s |\n",
          bits_text(t, f->hi_v, f->lo_v), f->name,
          vdevc_access_name(f->access), hexw(t, f->reset, w),
          enum_values(t, f->etype), doc_or(t, f->doc, ""),
          field_notes(t, f));
        next = (int)f->lo_v - 1;
    }
    if (next >= 0)
        P("| %s | - | reserved | `0` | | reads 0, writes ignored |\n",
          bits_text(t, (unsigned)next, 0));
    P("\n");
}

static bool
any_field_hook(const struct vdevc_reg *r, bool read)
{
    for (unsigned i = 0; i < r->fields.n; i++) {
        const struct vdevc_field *f = r->fields.v[i];
        if (read ? f->on_read != NULL : f->on_write != NULL)
            return true;
    }
    return false;
}

static void
emit_reg_notes(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    void *t = e->tmp;
    if (r->n > 1)
        P("- Array of %u: element *n* at `%s + %s * n` (n = 0..%u).\n", r->n,
          hex(t, r->off), hex(t, r->stride), r->n - 1);
    if (r->on_read != NULL || any_field_hook(r, true) || (r->rc | r->rs))
        P("- Reading has side effects%s.\n",
          r->rc | r->rs ? " (read-to-clear or read-to-set bits)" : "");
    if (r->on_write != NULL || any_field_hook(r, false))
        P("- Writing triggers device logic.\n");
    if (r->external)
        P("- Driven from outside the guest (management channel).\n");
    if (r->nomigrate)
        P("- Not migrated: it starts from its reset value after a "
          "migration.\n");
    if (r->since > 1)
        P("- Added in state version %u.\n", r->since);
}

static void
emit_reg(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    void *t = e->tmp;
    bool plain = r->fields.n == 1 &&
                 ((struct vdevc_field *)r->fields.v[0])->implicit;
    P("<a id=\"%s\"></a>\n\n### %s\n\n", anchor(t, r), reg_title(t, r));
    P("| BAR | Offset | Width | Access | Reset |\n|---|---|---|---|---|\n");
    P("| %u | `%s` | %u bits | %s | `%s` |\n\n", r->bar->idx,
      hex(t, r->off), r->width, reg_access(t, r),
      hexw(t, r->reset, r->width));
    if (r->doc != NULL)
        P("%s\n\n", vdevc_doc_line(t, r->doc, true));
    vdevc_doc_bits(e->o, r);
    P("\n");
    if (!plain)
        emit_field_table(e, r);
    unsigned before = (unsigned)e->o->len;
    emit_reg_notes(e, r);
    if (e->o->len != before)
        P("\n");
}

static void
emit_registers(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->bars.n; i++) {
        const struct vdevc_bar *b = e->d->bars.v[i];
        if (b->regs.n == 0 && b->mems.n == 0)
            continue;
        P("## BAR %u registers\n\n", b->idx);
        emit_summary(e, b);
        for (unsigned k = 0; k < b->regs.n; k++)
            emit_reg(e, b->regs.v[k]);
        talloc_free(e->tmp);
        e->tmp = talloc_new(e);
    }
}

/* ------------------------------------------------------------ the rest */

static void
emit_interrupts(struct vdevc_emit *e)
{
    const struct vdevc_device *d = e->d;
    void *t = e->tmp;
    P("## Interrupts\n\n");
    if (d->intx)
        P("- INTx: pin INT%c.\n", 'A' + d->intx - 1);
    if (d->msi != NULL)
        P("- MSI: %u vector%s%s%s.\n", d->msi->vectors,
          d->msi->vectors == 1 ? "" : "s",
          d->msi->addr64 ? ", 64-bit address" : "",
          d->msi->maskable ? ", per-vector masking" : "");
    if (d->msix != NULL)
        P("- MSI-X: %u vectors; table in BAR %u at `%s`, PBA in BAR %u at "
          "`%s`.\n", d->msix->vectors, d->msix->table_bar,
          hex(t, d->msix->table_off), d->msix->pba_bar,
          hex(t, d->msix->pba_off));
    if (!d->intx && d->msi == NULL && d->msix == NULL)
        P("- None.\n");
    P("\n");
    if (d->interrupts.n == 0)
        return;
    P("A vector is asserted while its expression is non-zero:\n\n"
      "| Vector | Level |\n|---|---|\n");
    for (unsigned i = 0; i < d->interrupts.n; i++) {
        const struct vdevc_interrupt *q = d->interrupts.v[i];
        P("| %u | `%s` |\n", q->vec,
          vdevc_doc_line(t, expr_text(t, q->expr), true));
    }
    P("\n");
}

static const char *
cap_title(void *ctx, const struct vdevc_cap *c)
{
    if (strcmp(c->name, "pm") == 0)
        return "Power management";
    if (strcmp(c->name, "msi") == 0)
        return talloc_asprintf(ctx, "MSI: %u vector%s%s%s", c->vectors,
                               c->vectors == 1 ? "" : "s",
                               c->addr64 ? ", 64-bit" : "",
                               c->maskable ? ", maskable" : "");
    if (strcmp(c->name, "msix") == 0)
        return talloc_asprintf(ctx, "MSI-X: %u vectors", c->vectors);
    if (strcmp(c->name, "pcie") == 0) {
        static const char *const gts[] = {"", "2.5", "5", "8", "16", "32"};
        return talloc_asprintf(ctx, "PCI Express %s, link %s GT/s x%u",
                               c->pcie_type == 1   ? "legacy endpoint"
                               : c->pcie_type == 9 ? "integrated endpoint"
                                                   : "endpoint",
                               gts[c->speed <= 5 ? c->speed : 0], c->lwidth);
    }
    if (strcmp(c->name, "vendor") == 0)
        return "Vendor-specific";
    if (strcmp(c->name, "dsn") == 0)
        return talloc_asprintf(ctx, "Device serial number `0x%016" PRIx64
                               "` (extended)", c->serial);
    return c->name;
}

static void
emit_vendor_fields(struct vdevc_emit *e, const struct vdevc_cap *c)
{
    void *t = e->tmp;
    P("Vendor-specific capability at `%s` (after the 3-byte header):\n\n"
      "| Offset | Field | Width | Access | Value | Description |\n"
      "|---|---|---|---|---|---|\n", hex(t, c->offset));
    for (unsigned k = 0; k < c->fields.n; k++) {
        const struct vdevc_field *f = c->fields.v[k];
        if (f == NULL)
            continue;
        unsigned w = f->hi_v - f->lo_v + 1;
        P("| `%s` | %s | %u | %s | `%s` | %s |\n",
          hex(t, c->offset + 3 + f->lo_v / 8), f->name, w,
          f->access == ACC_NONE ? "ro" : vdevc_access_name(f->access),
          hexw(t, f->reset, w), doc_or(t, f->doc, ""));
    }
    P("\n");
}

static void
emit_config(struct vdevc_emit *e)
{
    void *t = e->tmp;
    P("## Configuration space\n\n| Offset | Size | Structure |\n"
      "|---|---|---|\n| `0x00` | 64 | Type 0 header%s |\n",
      e->d->caps.n ? " (capability list at `0x34`)" : "");
    for (unsigned i = 0; i < e->d->caps.n; i++) {
        const struct vdevc_cap *c = e->d->caps.v[i];
        P("| `%s` | %u | %s |\n", hex(t, c->offset), c->size,
          cap_title(t, c));
    }
    P("\n");
    for (unsigned i = 0; i < e->d->caps.n; i++) {
        const struct vdevc_cap *c = e->d->caps.v[i];
        if (c->fields.n > 0)
            emit_vendor_fields(e, c);
    }
}

static const char *
nomigrate_fields(void *ctx, const struct vdevc_reg *r)
{
    char *s = NULL;
    for (unsigned i = 0; i < r->fields.n; i++) {
        const struct vdevc_field *f = r->fields.v[i];
        if (f->nomigrate)
            s = s ? talloc_asprintf_append(s, ", `%s`", f->name)
                  : talloc_asprintf(ctx, "field `%s`", f->name);
    }
    return s ? talloc_asprintf_append(s, " reset after load") : "";
}

static void
emit_migration(struct vdevc_emit *e)
{
    const struct vdevc_device *d = e->d;
    void *t = e->tmp;
    P("## Migration state\n\nState version %u. Each migrated item is a "
      "stream field with id = FNV-1a 32 of its name.\n\n"
      "| Name | Kind | Bytes | Since | Migrated | Id | Notes |\n"
      "|---|---|---|---|---|---|---|\n", d->version);
    for (unsigned i = 0; i < d->regs.n; i++) {
        const struct vdevc_reg *r = d->regs.v[i];
        P("| `%s` | register%s | %" PRIu64 " | %u | %s | `0x%08x` | %s |\n",
          r->qname, r->n > 1 ? talloc_asprintf(t, " [%u]", r->n) : "",
          (uint64_t)r->n * (r->width / 8), r->since,
          r->nomigrate ? "no" : "yes", vdevc_fnv1a(r->qname),
          nomigrate_fields(t, r));
    }
    for (unsigned i = 0; i < d->vars.n; i++) {
        const struct vdevc_var *v = d->vars.v[i];
        const char *q = talloc_asprintf(t, "state.%s", v->name);
        uint64_t size = v->buffer ? v->len : v->width <= 8 ? 1
                        : v->width <= 16 ? 2 : v->width <= 32 ? 4 : 8;
        const char *kind = v->buffer
                               ? "buffer"
                               : talloc_asprintf(t, "var, %u bit%s", v->width,
                                                 v->width == 1 ? "" : "s");
        P("| `%s` | %s | %" PRIu64 " | %u | %s | `0x%08x` | %s%s |\n", q,
          kind, size, v->since, v->nomigrate ? "no" : "yes",
          vdevc_fnv1a(q), v->external ? "external input; " : "",
          doc_or(t, v->doc, ""));
    }
    P("\n");
}

static void
emit_enums(struct vdevc_emit *e)
{
    if (e->d->enums.n == 0)
        return;
    void *t = e->tmp;
    P("## Enums\n\n| Enum | Value | Name |\n|---|---|---|\n");
    for (unsigned i = 0; i < e->d->enums.n; i++) {
        const struct vdevc_enum *en = e->d->enums.v[i];
        for (unsigned k = 0; k < en->members.n; k++) {
            const struct vdevc_enum_member *m = en->members.v[k];
            P("| %s | `%s` | %s |\n", k == 0 ? en->name : "", hex(t, m->v),
              m->name);
        }
    }
    P("\n");
}

char *
vdevc_emit_doc(void *mem_ctx, struct vdevc_unit *u)
{
    struct vdevc_emit *e = vdevc_emit_new(mem_ctx, u);
    if (e == NULL || e->o == NULL)
        return NULL;
    P("# %s register map\n\n", e->name);
    P("Generated by `vdevc --emit=doc` from `%s`: do not edit. Offsets are "
      "from the start of their BAR; access kinds are described in the "
      "language reference (`dsl/README.md`). A C header with the same "
      "map: `vdevc --emit=guest-h %s`.\n\n", e->file, e->file);
    emit_identity(e);
    emit_bars(e);
    emit_registers(e);
    emit_interrupts(e);
    emit_config(e);
    emit_enums(e);
    emit_migration(e);
    char *text = vdevc_out_steal(mem_ctx, e->o);
    talloc_free(e);
    return text;
}
