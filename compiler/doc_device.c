/* --emit=doc, the device-wide sections: interrupts and the vectors hooks
 * signal, config-space layout, enums, migration state. */
#include <inttypes.h>
#include <string.h>
#include <talloc.h>

#include "emit.h"
#include "emit_doc.h"

/* Where hooks raise, lower or notify a vector: the edges and levels the
 * interrupt expressions do not show. */
struct signals {
    struct vdevc_emit *e;
    bool any;
};

static void
scan_stmt(struct signals *sg, const struct vdevc_stmt *s, const char *where)
{
    if (!s)
        return;
    struct vdevc_emit *e = sg->e;
    switch (s->kind) {
    case S_RAISE:
    case S_LOWER:
    case S_NOTIFY:
        if (!sg->any)
            P("Device logic also signals vectors:\n\n"
              "| When | Signal |\n|---|---|\n");
        sg->any = true;
        P("| %s | `%s %s` |\n", where,
          s->kind == S_RAISE   ? "raise"
          : s->kind == S_LOWER ? "lower"
                               : "notify",
          vdevc_doc_line(e->tmp, vdevc_doc_expr(e->tmp, s->lhs), DOC_MD_CODE));
        break;
    case S_IF:
        scan_stmt(sg, s->then_s, where);
        scan_stmt(sg, s->else_s, where);
        break;
    case S_BLOCK:
        for (unsigned i = 0; i < s->body.n; i++)
            scan_stmt(sg, s->body.v[i], where);
        break;
    default:
        break;
    }
}

static void
scan_hook(struct signals *sg, const struct vdevc_hook *h, const char *what,
          const char *name)
{
    if (h)
        scan_stmt(sg, h->body,
                  talloc_asprintf(sg->e->tmp, "%s `%s`", what, name));
}

static void
emit_signals(struct vdevc_emit *e)
{
    struct signals sg = {e, false};
    void *t = e->tmp;
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        for (unsigned k = 0; k < r->fields.n; k++) {
            const struct vdevc_field *f = r->fields.v[k];
            const char *q = talloc_asprintf(t, "%s.%s", r->qname, f->name);
            scan_hook(&sg, f->on_read, "read of", q);
            scan_hook(&sg, f->on_write, "write to", q);
        }
        scan_hook(&sg, r->on_read, "read of", r->qname);
        scan_hook(&sg, r->on_write, "write to", r->qname);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        scan_hook(&sg, v->on_write, "outside input",
                  talloc_asprintf(t, "state.%s", v->name));
    }
    for (unsigned i = 0; i < e->d->timers.n; i++) {
        const struct vdevc_timer *tm = e->d->timers.v[i];
        scan_hook(&sg, tm->on_expire, "expiry of timer", tm->name);
    }
    for (unsigned i = 0; i < e->d->streams.n; i++) {
        const struct vdevc_stream *s = e->d->streams.v[i];
        scan_hook(&sg, s->on_receive, "bytes from stream", s->name);
        scan_hook(&sg, s->on_transmit, "drained stream", s->name);
    }
    if (sg.any)
        P("\n");
}

void
vdevc_doc_interrupts(struct vdevc_emit *e)
{
    const struct vdevc_device *d = e->d;
    void *t = e->tmp;
    P("## Interrupts\n\n");
    if (d->intx)
        P("- INTx: pin INT%c.\n", 'A' + d->intx - 1);
    if (d->msi)
        P("- MSI: %u vector%s%s%s.\n", d->msi->vectors,
          d->msi->vectors == 1 ? "" : "s",
          d->msi->addr64 ? ", 64-bit address" : "",
          d->msi->maskable ? ", per-vector masking" : "");
    if (d->msix)
        P("- MSI-X: %u vectors; table in BAR %u at `%s`, PBA in BAR %u at "
          "`%s`.\n",
          d->msix->vectors, d->msix->table_bar,
          vdevc_doc_hex(t, d->msix->table_off), d->msix->pba_bar,
          vdevc_doc_hex(t, d->msix->pba_off));
    if (!d->intx && !d->msi && !d->msix)
        P("- None.\n");
    P("\n");
    emit_signals(e);
    if (d->interrupts.n == 0)
        return;
    P("A vector is asserted while its expression is non-zero:\n\n"
      "| Vector | Level |\n|---|---|\n");
    for (unsigned i = 0; i < d->interrupts.n; i++) {
        const struct vdevc_interrupt *q = d->interrupts.v[i];
        P("| %u | `%s` |\n", q->vec,
          vdevc_doc_line(t, vdevc_doc_expr(t, q->expr), DOC_MD_CODE));
    }
    P("\n");
}

static const char *
cap_title(void *ctx, const struct vdevc_cap *c)
{
    switch (c->kind) {
    case CAP_PM:
        return "Power management";
    case CAP_MSI:
        return talloc_asprintf(
            ctx, "MSI: %u vector%s%s%s", c->vectors, c->vectors == 1 ? "" : "s",
            c->addr64 ? ", 64-bit" : "", c->maskable ? ", maskable" : "");
    case CAP_MSIX:
        return talloc_asprintf(ctx, "MSI-X: %u vectors", c->vectors);
    case CAP_PCIE: {
        static const char *const gts[] = {"", "2.5", "5", "8", "16", "32"};
        return talloc_asprintf(ctx, "PCI Express %s, link %s GT/s x%u",
                               c->pcie_type == 1   ? "legacy endpoint"
                               : c->pcie_type == 9 ? "integrated endpoint"
                                                   : "endpoint",
                               gts[c->speed <= 5 ? c->speed : 0], c->lwidth);
    }
    case CAP_VENDOR:
        return "Vendor-specific";
    case CAP_DSN:
        return talloc_asprintf(
            ctx, "Device serial number `0x%016" PRIx64 "` (extended)",
            c->serial);
    default:
        return c->name;
    }
}

static void
emit_vendor_fields(struct vdevc_emit *e, const struct vdevc_cap *c)
{
    void *t = e->tmp;
    P("Vendor-specific capability at `%s` (after the 3-byte header):\n\n"
      "| Offset | Field | Width | Access | Value | Description |\n"
      "|---|---|---|---|---|---|\n",
      vdevc_doc_hex(t, c->offset));
    for (unsigned k = 0; k < c->fields.n; k++) {
        const struct vdevc_field *f = c->fields.v[k];
        if (!f)
            continue;
        unsigned w = f->hi_v - f->lo_v + 1;
        P("| `%s` | %s | %u | %s | `%s` | %s |\n",
          vdevc_doc_hex(t, c->offset + 3 + f->lo_v / 8), f->name, w,
          f->access == ACC_NONE ? "ro" : vdevc_access_name(f->access),
          vdevc_doc_hexw(t, f->reset, w), vdevc_doc_text(t, f->doc));
    }
    P("\n");
}

void
vdevc_doc_config(struct vdevc_emit *e)
{
    void *t = e->tmp;
    P("## Configuration space\n\n| Offset | Size | Structure |\n"
      "|---|---|---|\n| `0x00` | 64 | Type 0 header%s |\n",
      e->d->caps.n ? " (capability list at `0x34`)" : "");
    /* Capabilities and config registers, by offset. */
    const struct vdevc_bar *cb = e->d->config;
    unsigned nr = cb ? cb->regs.n : 0, k = 0;
    for (unsigned i = 0; i <= e->d->caps.n; i++) {
        const struct vdevc_cap *c = i < e->d->caps.n ? e->d->caps.v[i] : NULL;
        for (; k < nr && (!c || vdevc_reg_at(&cb->regs, k)->off < c->offset);
             k++) {
            const struct vdevc_reg *r = cb->regs.v[k];
            P("| `%s` | %u | register [%s](#%s)%s |\n",
              vdevc_doc_hex(t, r->off),
              r->select ? r->width / 8 : r->n * (unsigned)r->stride, r->qname,
              vdevc_doc_anchor(t, r),
              r->when ? talloc_asprintf(
                            t, " (when `%s`)",
                            vdevc_doc_line(t, vdevc_doc_expr(t, r->when),
                                           DOC_MD_CODE))
                      : "");
        }
        if (c)
            P("| `%s` | %u | %s |\n", vdevc_doc_hex(t, c->offset), c->size,
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

void
vdevc_doc_migration(struct vdevc_emit *e)
{
    const struct vdevc_device *d = e->d;
    void *t = e->tmp;
    P("## Migration state\n\nState version %u. Each migrated item is a "
      "stream field with id = FNV-1a 32 of its name.\n\n"
      "| Name | Kind | Bytes | Since | Migrated | Id | Notes |\n"
      "|---|---|---|---|---|---|---|\n",
      d->version);
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
        uint64_t size = v->buffer        ? v->len
                        : v->width <= 8  ? 1
                        : v->width <= 16 ? 2
                        : v->width <= 32 ? 4
                                         : 8;
        const char *kind = v->buffer
                               ? "buffer"
                               : talloc_asprintf(t, "var, %u bit%s", v->width,
                                                 v->width == 1 ? "" : "s");
        P("| `%s` | %s | %" PRIu64 " | %u | %s | `0x%08x` | %s%s |\n", q, kind,
          size, v->since, v->nomigrate ? "no" : "yes", vdevc_fnv1a(q),
          v->external ? "external input; " : "", vdevc_doc_text(t, v->doc));
    }
    vdevc_doc_fifo_rows(e);
    P("\n");
    vdevc_doc_clock_note(e);
}

void
vdevc_doc_reset(struct vdevc_emit *e)
{
    const struct vdevc_device *d = e->d;
    void *t = e->tmp;
    char *kept = NULL;
    for (unsigned i = 0; i < d->regs.n; i++) {
        const struct vdevc_reg *r = d->regs.v[i];
        for (unsigned k = 0; k < r->fields.n; k++) {
            const struct vdevc_field *f = r->fields.v[k];
            if (!f->sticky || (r->sticky && k > 0))
                continue;
            const char *n =
                r->sticky || f->implicit
                    ? r->qname
                    : talloc_asprintf(t, "%s.%s", r->qname, f->name);
            kept = kept ? talloc_asprintf_append(kept, ", `%s`", n)
                        : talloc_asprintf(t, "`%s`", n);
        }
    }
    for (unsigned i = 0; i < d->vars.n; i++) {
        const struct vdevc_var *v = d->vars.v[i];
        if (v->sticky)
            kept = kept ? talloc_asprintf_append(kept, ", `state.%s`", v->name)
                        : talloc_asprintf(t, "`state.%s`", v->name);
    }
    if (!kept && !d->on_reset)
        return;
    P("## Device reset\n\nA device reset (VFIO_USER_DEVICE_RESET, "
      "function-level reset, or the device resetting itself) puts every "
      "register to its reset value%s%s.%s\n\n",
      kept ? ", except what keeps its value across it: " : "", kept ? kept : "",
      d->on_reset ? " Then the device runs its own reset logic." : "");
}

void
vdevc_doc_enums(struct vdevc_emit *e)
{
    if (e->d->enums.n == 0)
        return;
    void *t = e->tmp;
    P("## Enums\n\n| Enum | Value | Name |\n|---|---|---|\n");
    for (unsigned i = 0; i < e->d->enums.n; i++) {
        const struct vdevc_enum *en = e->d->enums.v[i];
        for (unsigned k = 0; k < en->members.n; k++) {
            const struct vdevc_enum_member *m = en->members.v[k];
            P("| %s | `%s` | %s |\n", k == 0 ? en->name : "",
              vdevc_doc_hex(t, m->v), m->name);
        }
    }
    P("\n");
}
