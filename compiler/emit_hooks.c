/* The behaviour part of the C: register hooks (field hooks first, for
 * the fields an access covers, in bit order, then the register's own),
 * the interrupt expressions, and setters of external values. */
#include <string.h>
#include <talloc.h>

#include "emit.h"

/* sema_regs.c knows (a large device's fields need not be walked again for
 * every table). */
static bool
has_hooks(const struct vdevc_reg *r, bool write)
{
    return write ? r->hooked_write : r->hooked_read;
}

bool
vdevc_reg_has_hooks(const struct vdevc_reg *r, bool write)
{
    return has_hooks(r, write);
}

/* What the hook functions of one register and direction use. */
struct hook_uses {
    bool d, dev, a;
    uint32_t streams; /* to kick */
};

static void
hook_uses(const struct vdevc_emit *e, const struct vdevc_hook *h, bool write,
          bool field, struct hook_uses *u)
{
    if (!h)
        return;
    bool state = vdevc_stmt_uses_state(h->body) || (!write && h->uses_value);
    u->streams |= vdevc_stmt_streams(h->body, e->d->streams.n);
    u->d |= state;
    u->dev |= state || vdevc_stmt_uses_dev(h->body) || u->streams;
    u->a |= field || h->uses_index || h->uses_width ||
            (write && (h->uses_value || h->uses_old));
}

/* The register element the hook runs for, as C. */
static const char *
elem(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    return r->n > 1 ? vdevc_emit_strf(e, "d->s.%s[a->i]", r->cname)
                    : vdevc_emit_strf(e, "d->s.%s", r->cname);
}

/* A hook's statements, with its `value` and `old` as C. */
static void
hook_body(struct vdevc_emit *e, const struct vdevc_hook *h, const char *value,
          const char *old, unsigned bits, int ind)
{
    e->value = value;
    e->old = old;
    e->value_bits = bits;
    vdevc_emit_stmt(e, h->body, ind);
}

static void
field_hook(struct vdevc_emit *e, const struct vdevc_reg *r,
           const struct vdevc_field *f, const struct vdevc_hook *h, bool write)
{
    unsigned w = f->hi_v - f->lo_v + 1;
    L(1, "if (a->mask & %s) {", HEX(vdevc_mask(w) << f->lo_v));
    vdevc_emit_where(e, h->hdr.loc.first_line,
                     vdevc_emit_strf(e, "%s.%s on %s", r->qname, f->name,
                                     write ? "write" : "read"),
                     2);
    if (h->uses_value)
        L(2, "const uint64_t value = %s;",
          vdevc_emit_bits(e, write ? "a->value" : elem(e, r), r->width, f->lo_v,
                          w));
    if (h->uses_old)
        L(2, "const uint64_t old = %s;",
          vdevc_emit_bits(e, "a->old", r->width, f->lo_v, w));
    hook_body(e, h, "value", "old", w, 2);
    L(1, "}");
}

static void
emit_hooks(struct vdevc_emit *e, const struct vdevc_reg *r, bool write)
{
    const char *kind = write ? "write" : "read";
    const struct vdevc_hook *rh = write ? r->on_write : r->on_read;
    struct hook_uses u = {0};
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        hook_uses(e, write ? f->on_write : f->on_read, write, true, &u);
    }
    hook_uses(e, rh, write, false, &u);
    P("static void\n%s_%s_on_%s(struct vdev_dev *dev, "
      "const struct vdev_reg_access *a)\n{\n",
      e->name, r->cname, kind);
    if (u.d)
        L(1, "struct %s *d = vdev_private(dev);", e->name);
    if (!u.dev)
        L(1, "(void)dev;");
    if (!u.a)
        L(1, "(void)a;");
    vdevc_emit_kicks(e, u.streams, 1);
    e->index = "a->i";
    e->index_max = r->n - 1;
    e->width = "a->width";
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        const struct vdevc_hook *h = write ? f->on_write : f->on_read;
        if (h)
            field_hook(e, r, f, h, write);
    }
    if (rh) {
        vdevc_emit_where(e, rh->hdr.loc.first_line,
                         vdevc_emit_strf(e, "%s on %s", r->qname, kind), 1);
        if (write) {
            hook_body(e, rh, "a->value", "a->old", r->width, 1);
        } else {
            if (rh->uses_value)
                L(1, "const uint64_t value = %s;", elem(e, r));
            hook_body(e, rh, "value", NULL, r->width, 1);
        }
    }
    P("}\n\n");
}

void
vdevc_emit_all_hooks(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        if (has_hooks(r, false))
            emit_hooks(e, r, false);
        if (has_hooks(r, true))
            emit_hooks(e, r, true);
        vdevc_emit_flush(e);
    }
}

/* ------------------------------------------------------------ interrupts */

uint64_t
vdevc_all_irqs(const struct vdevc_device *d)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < d->interrupts.n; i++)
        m |= UINT64_C(1) << vdevc_irq_at(&d->interrupts, i)->vec;
    return m;
}

void
vdevc_emit_irqs(struct vdevc_emit *e)
{
    bool state = false;
    if (e->d->interrupts.n == 0)
        return;
    for (unsigned i = 0; i < e->d->interrupts.n; i++)
        state |=
            vdevc_expr_uses_state(vdevc_irq_at(&e->d->interrupts, i)->expr);
    P("/* Interrupt expressions, re-evaluated after any access that may have\n"
      " * changed one of their inputs (the masks in the register table). */\n"
      "static void\n%s_update_irqs(struct vdev_dev *dev, uint64_t which)\n{\n",
      e->name);
    if (state)
        L(1, "const struct %s *d = vdev_private(dev);", e->name);
    for (unsigned i = 0; i < e->d->interrupts.n; i++) {
        const struct vdevc_interrupt *q = e->d->interrupts.v[i];
        vdevc_emit_where(e, q->hdr.loc.first_line, "interrupt", 1);
        L(1, "if (which & %s)", HEX(UINT64_C(1) << q->vec));
        L(2, "vdev_irq_set_level(dev, %u, %s);", q->vec,
          vdevc_emit_level(e, q->expr));
        vdevc_emit_flush(e);
    }
    P("}\n\n");
}

/* ------------------------------------------------------------ setters */

/* Values from the management channel fit their width (it checks). */
static void
setter_head(struct vdevc_emit *e, const char *fn)
{
    P("static int\n%s(struct vdev_dev *dev, uint64_t value)\n{\n", fn);
    L(1, "struct %s *d = vdev_private(dev);", e->name);
}

static void
setter_tail(struct vdevc_emit *e, uint64_t irqs)
{
    if (irqs != 0)
        L(1, "%s_update_irqs(dev, %s);", e->name, HEX(irqs));
    P("    return 0;\n}\n\n");
}

void
vdevc_emit_reg_setter(struct vdevc_emit *e, const struct vdevc_reg *r,
                      const char *fn)
{
    setter_head(e, fn);
    L(1, "d->s.%s = value;", r->cname);
    setter_tail(e, r->irqs);
}

void
vdevc_emit_field_setter(struct vdevc_emit *e, const struct vdevc_reg *r,
                        const struct vdevc_field *f, const char *fn)
{
    uint64_t m = vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
    setter_head(e, fn);
    if (f->lo_v == 0)
        L(1, "d->s.%s = (d->s.%s & %s) | value;", r->cname, r->cname,
          vdevc_emit_const(e, vdevc_mask(r->width) & ~m));
    else
        L(1, "d->s.%s = (d->s.%s & %s) | value << %u;", r->cname, r->cname,
          vdevc_emit_const(e, vdevc_mask(r->width) & ~m), f->lo_v);
    setter_tail(e, r->irqs);
}

void
vdevc_emit_var_setter(struct vdevc_emit *e, const struct vdevc_var *v,
                      const char *fn)
{
    const struct vdevc_hook *h = v->on_write;
    uint64_t irqs = v->irqs;
    setter_head(e, fn);
    if (h)
        vdevc_emit_kicks(e, vdevc_stmt_streams(h->body, e->d->streams.n), 1);
    if (h && h->uses_old)
        L(1, "const uint64_t old = d->s.%s;", v->name);
    L(1, "d->s.%s = value;", v->name);
    if (h) {
        vdevc_emit_where(e, h->hdr.loc.first_line,
                         vdevc_emit_strf(e, "%s on write", v->name), 1);
        e->index = NULL;
        hook_body(e, h, "value", "old", v->width, 1);
        irqs |= h->calls ? vdevc_all_irqs(e->d) : h->irqs;
    }
    setter_tail(e, irqs);
}

/* ------------------------------------------------------------ device hooks */

void
vdevc_emit_device_hook(struct vdevc_emit *e, const struct vdevc_hook *h,
                       const char *fn, const char *params, const char *what)
{
    struct hook_uses u = {0};
    hook_uses(e, h, false, false, &u);
    uint64_t irqs = h->calls ? vdevc_all_irqs(e->d) : h->irqs;
    P("static void\n%s(struct vdev_dev *dev%s%s)\n{\n", fn, params ? ", " : "",
      params ? params : "");
    if (u.d)
        L(1, "struct %s *d = vdev_private(dev);", e->name);
    if (!u.dev && irqs == 0)
        L(1, "(void)dev;");
    if (params) /* "void *opaque": its name is what follows the last * */
        L(1, "(void)%s;", strrchr(params, '*') + 1);
    vdevc_emit_kicks(e, u.streams, 1);
    vdevc_emit_where(e, h->hdr.loc.first_line, what, 1);
    e->index = NULL;
    hook_body(e, h, NULL, NULL, 0, 1);
    if (irqs != 0)
        L(1, "%s_update_irqs(dev, %s);", e->name, HEX(irqs));
    P("}\n\n");
}
