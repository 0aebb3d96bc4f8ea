/* Semantic checks of interrupt sources and PCI capabilities: vector
 * counts, link parameters, MSI-X table/PBA placement, vendor bodies. */
#include <string.h>
#include <talloc.h>

#include "suggest.h"
#include "vdevc.h"

static struct vdevc_bar *
find_bar(struct vdevc_device *d, unsigned idx)
{
    for (unsigned i = 0; i < d->bars.n; i++) {
        struct vdevc_bar *b = d->bars.v[i];
        if (b->idx == idx)
            return b;
    }
    return NULL;
}

static bool
spans_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* The MSI-X table or PBA at bar/off, len bytes: inside the BAR and clear
 * of registers and memory areas. */
static void
check_msix_place(struct vdevc_unit *u, struct vdevc_cap *c, const char *what,
                 unsigned bar, uint64_t off, uint64_t len)
{
    struct vdevc_attr *a = vdevc_attr_find(&c->attrs, A_PLACE, what);
    struct vdevc_loc loc = a ? a->loc : c->hdr.loc;
    struct vdevc_bar *b = find_bar(u->dev, bar);
    if (!b) {
        vdevc_error(u->diag, loc, "unknown-name",
                    "MSI-X %s is in BAR %u, which is not declared", what, bar);
        return;
    }
    if (off % 8 != 0)
        vdevc_error(u->diag, loc, "msix-alignment",
                    "MSI-X %s offset 0x%llx is not 8-byte aligned", what,
                    (unsigned long long)off);
    if (off + len > b->size || off + len < off) {
        vdevc_error(u->diag, loc, "msix-outside-bar",
                    "MSI-X %s [0x%llx, 0x%llx) is outside BAR %u (0x%llx "
                    "bytes)",
                    what, (unsigned long long)off,
                    (unsigned long long)(off + len), bar,
                    (unsigned long long)b->size);
        vdevc_note(u->diag, b->hdr.loc, "BAR %u declared here", bar);
        return;
    }
    for (unsigned i = 0; i < b->regs.n; i++) {
        struct vdevc_reg *r = b->regs.v[i];
        uint64_t rlen = (r->n - 1) * r->stride + r->width / 8;
        if (spans_overlap(off, len, r->off, rlen)) {
            vdevc_error(u->diag, loc, "msix-overlap",
                        "MSI-X %s overlaps register '%s'", what, r->qname);
            vdevc_note(u->diag, r->hdr.loc, "'%s' declared here", r->qname);
            return;
        }
    }
    for (unsigned i = 0; i < b->mems.n; i++) {
        struct vdevc_memory *m = b->mems.v[i];
        if (spans_overlap(off, len, m->off, m->size)) {
            vdevc_error(u->diag, loc, "msix-overlap",
                        "MSI-X %s overlaps memory '%s'", what, m->name);
            vdevc_note(u->diag, m->hdr.loc, "'%s' declared here", m->name);
            return;
        }
    }
    if (b->memory)
        vdevc_error(u->diag, loc, "msix-overlap",
                    "MSI-X %s is inside memory BAR %u", what, bar);
}

static bool
place(struct vdevc_unit *u, struct vdevc_cap *c, const char *name,
      unsigned *bar, uint64_t *off)
{
    struct vdevc_attr *a = vdevc_attr_find(&c->attrs, A_PLACE, name);
    if (!a) {
        vdevc_error(u->diag, c->hdr.loc, "missing-value",
                    "msix needs '%s BAR @ OFFSET'", name);
        return false;
    }
    *bar = a->v1 > 5 ? 0 : (unsigned)a->v1;
    *off = a->v2;
    return true;
}

static void
check_msix(struct vdevc_unit *u, struct vdevc_cap *c)
{
    uint64_t n = 0;
    if (!vdevc_attr_value(u, &c->attrs, "vectors", &n) || n < 1 || n > 2048)
        vdevc_error(u->diag, c->hdr.loc, "bad-vectors",
                    "msix needs 'vectors N' with N in 1..2048");
    c->vectors = n < 1 || n > 2048 ? 1 : (unsigned)n;
    bool t = place(u, c, "table", &c->table_bar, &c->table_off);
    bool p = place(u, c, "pba", &c->pba_bar, &c->pba_off);
    uint64_t tlen = c->vectors * 16ull, plen = (c->vectors + 63) / 64 * 8ull;
    if (t)
        check_msix_place(u, c, "table", c->table_bar, c->table_off, tlen);
    if (p)
        check_msix_place(u, c, "pba", c->pba_bar, c->pba_off, plen);
    if (t && p && c->table_bar == c->pba_bar &&
        spans_overlap(c->table_off, tlen, c->pba_off, plen))
        vdevc_error(u->diag, c->hdr.loc, "msix-overlap",
                    "MSI-X table and PBA overlap");
    u->dev->msix = c;
}

static void
check_msi(struct vdevc_unit *u, struct vdevc_cap *c)
{
    uint64_t n = 1;
    vdevc_attr_value(u, &c->attrs, "vectors", &n);
    if (!vdevc_is_pow2(n) || n > 32) {
        vdevc_error(u->diag, c->hdr.loc, "bad-vectors",
                    "MSI vectors must be 1, 2, 4, 8, 16 or 32");
        n = 1;
    }
    c->vectors = (unsigned)n;
    c->addr64 = vdevc_attr_flag(&c->attrs, "addr64");
    c->maskable = vdevc_attr_flag(&c->attrs, "maskable");
    u->dev->msi = c;
}

static void
check_pcie(struct vdevc_unit *u, struct vdevc_cap *c)
{
    uint64_t speed = 1, width = 1;
    vdevc_attr_value(u, &c->attrs, "speed", &speed);
    vdevc_attr_value(u, &c->attrs, "width", &width);
    if (speed < 1 || speed > 5)
        vdevc_error(u->diag, c->hdr.loc, "bad-value",
                    "pcie speed is 1 (2.5 GT/s) .. 5 (32 GT/s)");
    if (width != 1 && width != 2 && width != 4 && width != 8 && width != 12 &&
        width != 16 && width != 32)
        vdevc_error(u->diag, c->hdr.loc, "bad-value",
                    "pcie width is 1, 2, 4, 8, 12, 16 or 32 lanes");
    c->speed = (unsigned)speed;
    c->lwidth = (unsigned)width;
    c->pcie_type = vdevc_attr_flag(&c->attrs, "legacy")       ? 1
                   : vdevc_attr_flag(&c->attrs, "integrated") ? 9
                                                              : 0;
    vdevc_attr_flag(&c->attrs, "endpoint");
}

static void
check_vendor(struct vdevc_unit *u, struct vdevc_cap *c)
{
    unsigned pos = 0;
    for (unsigned i = 0; i < c->fields.n; i++) {
        struct vdevc_field *f = c->fields.v[i];
        if (!f)
            continue;
        for (unsigned k = 0; k < i; k++) {
            struct vdevc_field *g = c->fields.v[k];
            if (g && strcmp(g->name, f->name) == 0) {
                vdevc_error(u->diag, f->hdr.loc, "duplicate-name",
                            "redefinition of '%s'", f->name);
                vdevc_note(u->diag, g->hdr.loc, "'%s' was first defined here",
                           g->name);
            }
        }
        unsigned w = vdevc_attr_width(u, &f->attrs, &f->etype);
        if (w != 8 && w != 16 && w != 32 && w != 64) {
            vdevc_error(u->diag, f->hdr.loc, "bad-width",
                        "vendor capability fields are 8, 16, 32 or 64 bits");
            w = 8;
        }
        f->access = vdevc_attr_access(u, &f->attrs);
        if (f->access != ACC_NONE && f->access != ACC_RW &&
            f->access != ACC_RO && f->access != ACC_CONST)
            vdevc_error(u->diag, f->hdr.loc, "bad-access",
                        "vendor capability fields are ro, const or rw");
        vdevc_check_reset(u, &f->attrs, w, f->etype, &f->reset, "field");
        f->doc = vdevc_attr_doc(f, &f->attrs);
        vdevc_attr_check(u, &f->attrs, "a capability field");
        f->lo_v = pos * 8;
        f->hi_v = f->lo_v + w - 1;
        if (pos + w / 8 + 3 > 252) {
            vdevc_error(u->diag, f->hdr.loc, "bad-size",
                        "vendor capability body is larger than 249 bytes");
            return;
        }
        for (unsigned b = 0; b < w / 8; b++) {
            c->body[pos + b] = (uint8_t)(f->reset >> (8 * b));
            c->wmask[pos + b] = f->access == ACC_RW ? 0xff : 0;
        }
        pos += w / 8;
    }
    c->body_len = pos;
}

static void
check_cap(struct vdevc_unit *u, struct vdevc_cap *c, struct vdevc_cap **seen)
{
    /* By enum vdevc_cap_kind, from CAP_PM. */
    static const char *const kinds[] = {"pm",   "msi",    "msix",
                                        "pcie", "vendor", "dsn"};
    unsigned k;
    for (k = 0; k < 6; k++)
        if (strcmp(kinds[k], c->name) == 0)
            break;
    if (k == 6) {
        static const char *const names[] = {"pm",     "msi", "msix", "pcie",
                                            "vendor", "dsn", NULL};
        vdevc_error_unknown(u->diag, c->hdr.loc, "unknown-name",
                            vdevc_suggest_list(c->name, names),
                            "unknown capability '%s' (pm, msi, msix, pcie, "
                            "vendor, dsn)",
                            c->name);
        return;
    }
    c->kind = CAP_PM + k;
    if (c->kind != CAP_VENDOR && seen[k]) {
        vdevc_error(u->diag, c->hdr.loc, "duplicate-name",
                    "second '%s' capability", c->name);
        vdevc_note(u->diag, seen[k]->hdr.loc, "first one here");
        return;
    }
    seen[k] = c;
    if (c->has_body && c->kind != CAP_VENDOR)
        vdevc_error(u->diag, c->hdr.loc, "bad-capability",
                    "only a vendor capability has fields");
    switch (c->kind) {
    case CAP_MSI:
        check_msi(u, c);
        break;
    case CAP_MSIX:
        check_msix(u, c);
        break;
    case CAP_PCIE:
        check_pcie(u, c);
        break;
    case CAP_VENDOR:
        check_vendor(u, c);
        break;
    case CAP_DSN:
        if (!vdevc_attr_value(u, &c->attrs, "serial", &c->serial))
            vdevc_error(u->diag, c->hdr.loc, "missing-value",
                        "dsn needs 'serial N'");
        break;
    default:
        break;
    }
    vdevc_attr_check(u, &c->attrs, "this capability");
}

void
vdevc_sema_caps(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    struct vdevc_cap *seen[6] = {0};
    for (unsigned i = 0; i < d->caps.n; i++)
        check_cap(u, d->caps.v[i], seen);
    d->nr_vectors = d->intx ? 1 : 0;
    if (d->msi && d->msi->vectors > d->nr_vectors)
        d->nr_vectors = d->msi->vectors;
    if (d->msix && d->msix->vectors > d->nr_vectors)
        d->nr_vectors = d->msix->vectors;
}
