/* --emit=doc: the checked device as a Markdown register map for guest
 * driver writers: identity, BARs, every register with its bit-field
 * picture and field table, interrupts, config space, migration state.
 * Deterministic: everything follows declaration or offset order. */
#include <inttypes.h>
#include <string.h>
#include <talloc.h>

#include "emit.h"
#include "emit_doc.h"

char *
vdevc_doc_line(void *ctx, const char *doc, enum vdevc_doc_mode mode)
{
    /* Each byte becomes at most 4 ("&lt;"). */
    char *s = talloc_size(ctx, 4 * strlen(doc) + 1), *q = s;
    if (!s)
        return NULL;
    for (const char *p = doc; *p; p++) {
        const char *rep = NULL;
        if (*p == '\n' || *p == '\t' || *p == '\r')
            rep = " ";
        else if (mode == DOC_C_COMMENT && p[0] == '*' && p[1] == '/')
            rep = "* ";
        else if (mode != DOC_C_COMMENT && *p == '|')
            rep = "\\|";
        else if (mode == DOC_MD_TEXT && *p == '<')
            rep = "&lt;";
        else if (mode == DOC_MD_TEXT && *p == '>')
            rep = "&gt;";
        if (!rep) {
            *q++ = *p;
            continue;
        }
        size_t n = strlen(rep);
        memcpy(q, rep, n);
        q += n;
    }
    *q = '\0';
    return s;
}

/* 0x-hex with as many digits as `bits` needs, for reset values. */
char *
vdevc_doc_hexw(void *ctx, uint64_t v, unsigned bits)
{
    if (bits == 1)
        return talloc_asprintf(ctx, "%" PRIu64, v);
    return talloc_asprintf(ctx, "0x%0*" PRIx64, (int)((bits + 3) / 4), v);
}

char *
vdevc_doc_hex(void *ctx, uint64_t v)
{
    return talloc_asprintf(ctx, "0x%" PRIx64, v);
}

/* 4096 -> "4 KiB"; sizes that are not a whole unit stay in bytes. */
static char *
size_text(void *ctx, uint64_t v)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB",
                                        "TiB",   "PiB", "EiB"};
    unsigned u = 0;
    while (v >= 1024 && v % 1024 == 0 && u < 6) {
        v /= 1024;
        u++;
    }
    return talloc_asprintf(ctx, "%" PRIu64 " %s", v, units[u]);
}

const char *
vdevc_doc_text(void *ctx, const char *doc)
{
    return doc ? vdevc_doc_line(ctx, doc, DOC_MD_TEXT) : "";
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
const char *
vdevc_doc_expr(void *ctx, const struct vdevc_expr *x)
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
    P("| Vendor ID | `%s` |\n", vdevc_doc_hexw(t, d->vendor, 16));
    P("| Device ID | `%s` |\n", vdevc_doc_hexw(t, d->device, 16));
    P("| Subsystem vendor ID | `%s` |\n",
      vdevc_doc_hexw(t, d->subsys_vendor, 16));
    P("| Subsystem ID | `%s` |\n", vdevc_doc_hexw(t, d->subsys, 16));
    P("| Class code | `%s` (base `%s`, sub-class `%s`, prog-if `%s`) |\n",
      vdevc_doc_hexw(t, d->class_code, 24),
      vdevc_doc_hexw(t, d->class_code >> 16, 8),
      vdevc_doc_hexw(t, (d->class_code >> 8) & 0xff, 8),
      vdevc_doc_hexw(t, d->class_code & 0xff, 8));
    P("| Revision | `%s` |\n", vdevc_doc_hexw(t, d->revision, 8));
    P("| Interrupt pin | %s |\n",
      d->intx ? talloc_asprintf(t, "INT%c", 'A' + d->intx - 1) : "none");
    P("| Migration state version | %u |\n\n", d->version);
}

/* ------------------------------------------------------------ BARs */

static bool
msix_in(const struct vdevc_device *d, unsigned bar, bool pba)
{
    return d->msix && (pba ? d->msix->pba_bar : d->msix->table_bar) == bar;
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
            what =
                talloc_asprintf_append(what, "%sMSI-X table at `%s`", sep,
                                       vdevc_doc_hex(t, e->d->msix->table_off));
            sep = "; ";
        }
        if (msix_in(e->d, b->idx, true)) {
            what =
                talloc_asprintf_append(what, "%sMSI-X PBA at `%s`", sep,
                                       vdevc_doc_hex(t, e->d->msix->pba_off));
            sep = "; ";
        }
        if (b->max_access) {
            what = talloc_asprintf_append(
                what, "%s%u..%u-byte aligned accesses only (others read 0)",
                sep, b->min_access, b->max_access);
            sep = "; ";
        }
        if (b->exact) {
            what = talloc_asprintf_append(
                what,
                "%sregisters decode only at their own offset, no "
                "wider (narrower writes zero-extend)",
                sep);
            sep = "; ";
        }
        if (b->fill) {
            what = talloc_asprintf_append(
                what, "%sundecoded bytes read `0x%02x`", sep, b->fill);
            sep = "; ";
        }
        if (b->doc)
            what = talloc_asprintf_append(what, "%s%s", sep,
                                          vdevc_doc_text(t, b->doc));
        P("| %u | %s%s | %s (`%s`) | %s |\n", b->idx, bar_kind(b),
          b->prefetchable ? ", prefetchable" : "", size_text(t, b->size),
          vdevc_doc_hex(t, b->size), *what ? what : "unused");
    }
    P("\n");
}

/* ------------------------------------------------------------ access */

/* The kinds the device uses, in the language reference's words. */
static void
emit_access_kinds(struct vdevc_emit *e)
{
    static const char *const what[] = {
        [ACC_RW] = "read/write",
        [ACC_RO] = "read-only to the guest; the device changes it",
        [ACC_WO] = "write-only; reads 0",
        [ACC_W1C] = "write 1 to clear a bit; 0 leaves it",
        [ACC_W1S] = "write 1 to set a bit; 0 leaves it",
        [ACC_RC] = "reading returns the value, then clears the bits read",
        [ACC_RS] = "reading returns the value, then sets the bits read",
        [ACC_CONST] = "always the reset value; writes ignored",
        [ACC_RESERVED] = "reads 0, writes ignored (hooks may still act)",
    };
    bool used[ACC_RESERVED + 1] = {false};
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        for (unsigned k = 0; k < r->fields.n; k++)
            used[vdevc_field_at(&r->fields, k)->access] = true;
    }
    P("## Access kinds\n\n| Access | Meaning |\n|---|---|\n");
    for (unsigned a = ACC_RW; a <= ACC_RESERVED; a++)
        if (used[a])
            P("| %s | %s |\n", vdevc_access_name(a), what[a]);
    P("\nBits no field covers read 0 and ignore writes.\n\n");
}

/* ------------------------------------------------------------ registers */

static const char *
reg_access(void *ctx, const struct vdevc_reg *r)
{
    if (r->fields.n == 1 && vdevc_field_at(&r->fields, 0)->implicit)
        return vdevc_access_name(vdevc_field_at(&r->fields, 0)->access);
    return r->access != ACC_NONE ? talloc_asprintf(ctx, "%s (fields)",
                                                   vdevc_access_name(r->access))
                                 : "fields";
}

static const char *
reg_title(void *ctx, const struct vdevc_reg *r)
{
    return r->n > 1 ? talloc_asprintf(ctx, "%s[%u]", r->qname, r->n) : r->qname;
}

const char *
vdevc_doc_anchor(void *ctx, const struct vdevc_reg *r)
{
    char *a = talloc_asprintf(ctx, "reg-%s", r->cname);
    for (char *p = a; *p; p++)
        if (*p == '_')
            *p = '-';
    return a;
}

/* A banked register's condition, before its description. */
static const char *
summary_text(void *ctx, const struct vdevc_reg *r)
{
    const char *doc = vdevc_doc_text(ctx, r->doc);
    if (!r->when)
        return doc;
    return talloc_asprintf(
        ctx, "when `%s`%s%s",
        vdevc_doc_line(ctx, vdevc_doc_expr(ctx, r->when), DOC_MD_CODE),
        *doc ? ": " : "", doc);
}

static void
emit_summary(struct vdevc_emit *e, const struct vdevc_bar *b)
{
    void *t = e->tmp;
    P("| Offset | Register | Width | Access | Reset | Description |\n"
      "|---|---|---|---|---|---|\n");
    for (unsigned k = 0; k < b->regs.n; k++) {
        const struct vdevc_reg *r = b->regs.v[k];
        P("| `%s` | [%s](#%s) | %u | %s | `%s` | %s |\n",
          vdevc_doc_hex(t, r->off), reg_title(t, r), vdevc_doc_anchor(t, r),
          r->width, reg_access(t, r), vdevc_doc_hexw(t, r->reset, r->width),
          summary_text(t, r));
    }
    P("\n");
    if (b->mems.n == 0)
        return;
    P("| Offset | Memory | Size | Description |\n|---|---|---|---|\n");
    for (unsigned k = 0; k < b->mems.n; k++) {
        const struct vdevc_memory *m = b->mems.v[k];
        P("| `%s` | %s | %s | %s%s |\n", vdevc_doc_hex(t, m->off), m->name,
          size_text(t, m->size), m->mmap ? "mmap-able; " : "",
          vdevc_doc_text(t, m->doc));
    }
    P("\n");
}

static const char *
enum_values(void *ctx, const struct vdevc_enum *en)
{
    if (!en)
        return "";
    char *s = talloc_asprintf(ctx, "enum `%s`:", en->name);
    for (unsigned i = 0; i < en->members.n; i++) {
        const struct vdevc_enum_member *m = en->members.v[i];
        s = talloc_asprintf_append(s, "%s `%s` %s", i ? "," : "",
                                   vdevc_doc_hex(ctx, m->v), m->name);
    }
    return s;
}

static const char *
field_notes(void *ctx, const struct vdevc_field *f)
{
    char *s = talloc_strdup(ctx, "");
    if (f->on_read)
        s = talloc_strdup_append(s, " Reading runs device logic.");
    if (f->on_write)
        s = talloc_strdup_append(s, " Writing runs device logic.");
    if (f->external)
        s = talloc_strdup_append(s, " Driven from outside (management).");
    if (f->nomigrate)
        s = talloc_strdup_append(s, " Not migrated.");
    if (f->sticky && !f->reg->sticky)
        s = talloc_strdup_append(s, " Survives a device reset.");
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
        const char *cell = talloc_asprintf(t, "%s%s", vdevc_doc_text(t, f->doc),
                                           field_notes(t, f));
        P("| %s | %s | %s | `%s` | %s | %s |\n", bits_text(t, f->hi_v, f->lo_v),
          f->name, vdevc_access_name(f->access), vdevc_doc_hexw(t, f->reset, w),
          enum_values(t, f->etype), cell + (*cell == ' '));
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
        if (read ? f->on_read : f->on_write)
            return true;
    }
    return false;
}

/* The other registers at r's offset, "`a`, `b`". */
static const char *
partners(void *ctx, const struct vdevc_reg *r)
{
    char *s = NULL;
    for (unsigned i = 0; i < r->bar->regs.n; i++) {
        const struct vdevc_reg *o = r->bar->regs.v[i];
        if (o != r && o->off == r->off && o->width == r->width)
            s = s ? talloc_asprintf_append(s, ", `%s`", o->qname)
                  : talloc_asprintf(ctx, "`%s`", o->qname);
    }
    return s;
}

static void
emit_bank_notes(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    void *t = e->tmp;
    const char *with = r->banked ? partners(t, r) : NULL;
    if (r->when)
        P("- Selected when `%s`%s%s.\n",
          vdevc_doc_line(t, vdevc_doc_expr(t, r->when), DOC_MD_CODE),
          with ? "; shares its offset with " : "", with ? with : "");
    else if (with)
        P("- Shares its offset with %s.\n", with);
    if (r->reads_elsewhere)
        P("- Reads at its offset reach another register: it cannot be "
          "read.\n");
    if (r->writes_elsewhere)
        P("- Writes at its offset reach another register: it cannot be "
          "written.\n");
    if (r->select)
        P("- Index/data: the element accessed is `%s` at the time of the "
          "access (out of range: reads 0, writes are dropped).\n",
          vdevc_doc_line(t, vdevc_doc_expr(t, r->select), DOC_MD_CODE));
}

static void
emit_reg_notes(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    void *t = e->tmp;
    emit_bank_notes(e, r);
    if (r->n > 1 && !r->select)
        P("- Array of %u: element *n* at `%s + %s * n` (n = 0..%u).\n", r->n,
          vdevc_doc_hex(t, r->off), vdevc_doc_hex(t, r->stride), r->n - 1);
    if (r->on_read || any_field_hook(r, true) || (r->rc | r->rs))
        P("- Reading has side effects%s.\n",
          r->rc | r->rs ? " (read-to-clear or read-to-set bits)" : "");
    if (r->on_write || any_field_hook(r, false))
        P("- Writing triggers device logic.\n");
    if (r->external)
        P("- Driven from outside the guest (management channel).\n");
    if (r->nomigrate)
        P("- Not migrated: it starts from its reset value after a "
          "migration.\n");
    if (r->sticky)
        P("- Keeps its value across a device reset.\n");
    if (r->since > 1)
        P("- Added in state version %u.\n", r->since);
}

static void
emit_reg(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    void *t = e->tmp;
    bool plain = r->fields.n == 1 && vdevc_field_at(&r->fields, 0)->implicit;
    P("<a id=\"%s\"></a>\n\n### %s\n\n", vdevc_doc_anchor(t, r),
      reg_title(t, r));
    P("| BAR | Offset | Width | Access | Reset |\n|---|---|---|---|---|\n");
    P("| %s | `%s` | %u bits | %s | `%s` |\n\n",
      r->bar->config ? "config" : talloc_asprintf(t, "%u", r->bar->idx),
      vdevc_doc_hex(t, r->off), r->width, reg_access(t, r),
      vdevc_doc_hexw(t, r->reset, r->width));
    if (r->doc)
        P("%s\n\n", vdevc_doc_line(t, r->doc, DOC_MD_TEXT));
    vdevc_doc_bits(e->o, r);
    P("\n");
    if (!plain)
        emit_field_table(e, r);
    size_t before = e->o->len;
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
    const struct vdevc_bar *cb = e->d->config;
    if (!cb || cb->regs.n == 0)
        return;
    P("## Config-space registers\n\nOffsets are config-space offsets.\n\n");
    emit_summary(e, cb);
    for (unsigned k = 0; k < cb->regs.n; k++)
        emit_reg(e, cb->regs.v[k]);
}

char *
vdevc_emit_doc(void *mem_ctx, struct vdevc_unit *u)
{
    struct vdevc_emit *e = vdevc_emit_new(mem_ctx, u);
    if (!e || !e->o)
        return NULL;
    P("# %s register map\n\n", e->name);
    P("Generated by `vdevc --emit=doc` from `%s`: do not edit. A C header "
      "with the same map: `vdevc --emit=guest-h %s`.\n\n"
      "Offsets are from the start of their BAR. In the bit pictures the "
      "most significant bit is on the left and each bit number reads top "
      "to bottom; a letter stands for a field too narrow for its name "
      "and is explained under the picture.\n\n",
      e->file, e->file);
    emit_identity(e);
    emit_bars(e);
    emit_access_kinds(e);
    emit_registers(e);
    vdevc_doc_interrupts(e);
    vdevc_doc_host(e);
    vdevc_doc_config(e);
    vdevc_doc_enums(e);
    vdevc_doc_reset(e);
    vdevc_doc_migration(e);
    char *text = vdevc_out_steal(mem_ctx, e->o);
    talloc_free(e);
    return text;
}
