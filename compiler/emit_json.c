/* The JSON generator: the checked device as data, for tools (register map
 * viewers, doc generators, test drivers). Keys keep insertion order. */
#include <json.h>
#include <string.h>
#include <talloc.h>

#include "vdevc.h"

static json_object *
jhex(uint64_t v)
{
    return json_object_new_int64((int64_t)v);
}

static void
put(json_object *o, const char *k, json_object *v)
{
    json_object_object_add(o, k, v);
}

static void
put_str(json_object *o, const char *k, const char *s)
{
    if (s)
        put(o, k, json_object_new_string(s));
}

static json_object *
field_json(const struct vdevc_field *f)
{
    json_object *o = json_object_new_object();
    put_str(o, "name", f->name);
    put(o, "msb", json_object_new_int((int)f->hi_v));
    put(o, "lsb", json_object_new_int((int)f->lo_v));
    put_str(o, "access", vdevc_access_name(f->access));
    put(o, "reset", jhex(f->reset));
    if (f->etype)
        put_str(o, "enum", f->etype->name);
    put_str(o, "doc", f->doc);
    if (f->nomigrate)
        put(o, "nomigrate", json_object_new_boolean(1));
    if (f->external)
        put(o, "external", json_object_new_boolean(1));
    if (f->sticky)
        put(o, "sticky", json_object_new_boolean(1));
    put(o, "on_read", json_object_new_boolean(!!f->on_read));
    put(o, "on_write", json_object_new_boolean(!!f->on_write));
    return o;
}

static json_object *
reg_json(void *ctx, const struct vdevc_reg *r)
{
    json_object *o = json_object_new_object();
    put_str(o, "name", r->qname);
    put(o, "offset", jhex(r->off));
    put(o, "width", json_object_new_int((int)r->width));
    put(o, "count", json_object_new_int((int)r->n));
    put(o, "stride", jhex(r->stride));
    put(o, "reset", jhex(r->reset));
    put_str(o, "doc", r->doc);
    put(o, "since", json_object_new_int((int)r->since));
    put(o, "migrate", json_object_new_boolean(!r->nomigrate));
    put(o, "line", json_object_new_int(r->hdr.loc.first_line));
    if (r->sticky)
        put(o, "sticky", json_object_new_boolean(1));
    /* Banks: the condition selecting it, the index of an index/data
     * array, and where the other direction's accesses go. */
    if (r->when)
        put_str(o, "when", vdevc_expr_text(ctx, r->when));
    if (r->select)
        put_str(o, "select", vdevc_expr_text(ctx, r->select));
    if (r->reads_elsewhere)
        put(o, "reads_elsewhere", json_object_new_boolean(1));
    if (r->writes_elsewhere)
        put(o, "writes_elsewhere", json_object_new_boolean(1));
    json_object *fs = json_object_new_array();
    for (unsigned i = 0; i < r->fields.n; i++)
        json_object_array_add(fs, field_json(r->fields.v[i]));
    put(o, "fields", fs);
    return o;
}

static json_object *
bar_json(void *ctx, const struct vdevc_bar *b)
{
    static const char *const kinds[] = {"mem32", "mem64", "io"};
    json_object *o = json_object_new_object();
    put(o, "index", json_object_new_int((int)b->idx));
    put_str(o, "kind", kinds[b->kind]);
    put(o, "size", jhex(b->size));
    put(o, "prefetchable", json_object_new_boolean(b->prefetchable));
    put(o, "memory", json_object_new_boolean(b->memory));
    if (b->fill)
        put(o, "fill", jhex(b->fill));
    if (b->max_access) {
        json_object *a = json_object_new_array();
        json_object_array_add(a, json_object_new_int(b->min_access));
        json_object_array_add(a, json_object_new_int(b->max_access));
        put(o, "access", a);
    }
    if (b->exact)
        put(o, "exact", json_object_new_boolean(1));
    json_object *rs = json_object_new_array();
    for (unsigned i = 0; i < b->regs.n; i++)
        json_object_array_add(rs, reg_json(ctx, b->regs.v[i]));
    put(o, "registers", rs);
    json_object *ms = json_object_new_array();
    for (unsigned i = 0; i < b->mems.n; i++) {
        const struct vdevc_memory *m = b->mems.v[i];
        json_object *mo = json_object_new_object();
        put_str(mo, "name", m->name);
        put(mo, "offset", jhex(m->off));
        put(mo, "size", jhex(m->size));
        put(mo, "mmap", json_object_new_boolean(m->mmap));
        json_object_array_add(ms, mo);
    }
    put(o, "memory_areas", ms);
    return o;
}

static json_object *
state_json(const struct vdevc_device *d)
{
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < d->vars.n; i++) {
        const struct vdevc_var *v = d->vars.v[i];
        json_object *o = json_object_new_object();
        put_str(o, "name", v->name);
        put_str(o, "kind", v->buffer ? "buffer" : "var");
        if (v->buffer)
            put(o, "size", jhex(v->len));
        else
            put(o, "width", json_object_new_int((int)v->width));
        if (!v->buffer)
            put(o, "reset", jhex(v->reset));
        put(o, "since", json_object_new_int((int)v->since));
        put(o, "migrate", json_object_new_boolean(!v->nomigrate));
        put(o, "external", json_object_new_boolean(v->external));
        if (v->sticky)
            put(o, "sticky", json_object_new_boolean(1));
        put_str(o, "doc", v->doc);
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *
caps_json(const struct vdevc_device *d)
{
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < d->caps.n; i++) {
        const struct vdevc_cap *c = d->caps.v[i];
        json_object *o = json_object_new_object();
        put_str(o, "kind", c->name);
        put(o, "offset", json_object_new_int((int)c->offset));
        put(o, "size", json_object_new_int((int)c->size));
        if (c->kind == CAP_MSI || c->kind == CAP_MSIX)
            put(o, "vectors", json_object_new_int((int)c->vectors));
        if (c->kind == CAP_MSIX) {
            put(o, "table_bar", json_object_new_int((int)c->table_bar));
            put(o, "table_offset", jhex(c->table_off));
            put(o, "pba_bar", json_object_new_int((int)c->pba_bar));
            put(o, "pba_offset", jhex(c->pba_off));
        }
        if (c->kind == CAP_PCIE) {
            put(o, "link_speed", json_object_new_int((int)c->speed));
            put(o, "link_width", json_object_new_int((int)c->lwidth));
        }
        if (c->kind == CAP_DSN)
            put(o, "serial", jhex(c->serial));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *
fifo_json(const struct vdevc_fifo *f)
{
    json_object *o = json_object_new_object();
    put_str(o, "name", f->qname);
    put(o, "depth", jhex(f->depth));
    put(o, "width", json_object_new_int((int)f->width));
    put(o, "since", json_object_new_int((int)f->since));
    put(o, "migrate", json_object_new_boolean(!f->nomigrate));
    put_str(o, "doc", f->doc);
    return o;
}

/* Timers, FIFOs (streams' too), streams and events. */
static void
host_json(const struct vdevc_device *d, json_object *root)
{
    json_object *a = json_object_new_array();
    for (unsigned i = 0; i < d->timers.n; i++) {
        const struct vdevc_timer *t = d->timers.v[i];
        json_object *o = json_object_new_object();
        put_str(o, "name", t->name);
        put(o, "on_expire", json_object_new_boolean(!!t->on_expire));
        put_str(o, "doc", t->doc);
        json_object_array_add(a, o);
    }
    put(root, "timers", a);
    a = json_object_new_array();
    for (unsigned i = 0; i < d->fifos.n; i++)
        json_object_array_add(a, fifo_json(d->fifos.v[i]));
    put(root, "fifos", a);
    a = json_object_new_array();
    for (unsigned i = 0; i < d->streams.n; i++) {
        const struct vdevc_stream *s = d->streams.v[i];
        json_object *o = json_object_new_object();
        put_str(o, "name", s->name);
        put(o, "id", json_object_new_int((int)s->id));
        put(o, "rx_depth", jhex(s->rx->depth));
        put(o, "tx_depth", jhex(s->tx->depth));
        put(o, "on_receive", json_object_new_boolean(!!s->on_receive));
        put(o, "on_transmit", json_object_new_boolean(!!s->on_transmit));
        put_str(o, "doc", s->doc);
        json_object_array_add(a, o);
    }
    put(root, "streams", a);
    a = json_object_new_array();
    for (unsigned i = 0; i < d->events.n; i++) {
        const struct vdevc_event *ev = d->events.v[i];
        json_object *o = json_object_new_object();
        put_str(o, "name", ev->name);
        put_str(o, "doc", ev->doc);
        json_object_array_add(a, o);
    }
    put(root, "events", a);
}

static json_object *
misc_json(void *ctx, const struct vdevc_device *d, json_object *root)
{
    json_object *irqs = json_object_new_array();
    for (unsigned i = 0; i < d->interrupts.n; i++) {
        const struct vdevc_interrupt *q = d->interrupts.v[i];
        json_object *o = json_object_new_object();
        put(o, "vector", json_object_new_int((int)q->vec));
        put_str(o, "expr", vdevc_expr_text(ctx, q->expr));
        json_object_array_add(irqs, o);
    }
    put(root, "interrupts", irqs);
    json_object *enums = json_object_new_object();
    for (unsigned i = 0; i < d->enums.n; i++) {
        const struct vdevc_enum *en = d->enums.v[i];
        json_object *o = json_object_new_object();
        for (unsigned k = 0; k < en->members.n; k++) {
            const struct vdevc_enum_member *m = en->members.v[k];
            put(o, m->name, jhex(m->v));
        }
        put(enums, en->name, o);
    }
    put(root, "enums", enums);
    json_object *ext = json_object_new_array();
    for (unsigned i = 0; i < d->externs.n; i++)
        json_object_array_add(
            ext, json_object_new_string(vdevc_ext_at(&d->externs, i)->name));
    put(root, "externs", ext);
    return root;
}

/* Procs (those no hook reaches are not in the C) and device hooks. */
static void
behaviour_json(const struct vdevc_device *d, json_object *root)
{
    json_object *procs = json_object_new_array();
    for (unsigned i = 0; i < d->procs.n; i++) {
        const struct vdevc_proc *p = d->procs.v[i];
        json_object *o = json_object_new_object();
        put_str(o, "name", p->name);
        json_object *ps = json_object_new_array();
        for (unsigned k = 0; k < p->params.n; k++) {
            const struct vdevc_param *a = p->params.v[k];
            json_object *po = json_object_new_object();
            put_str(po, "name", a->name);
            put(po, "width", json_object_new_int((int)a->width));
            json_object_array_add(ps, po);
        }
        put(o, "params", ps);
        put(o, "result_width", json_object_new_int((int)p->width));
        put(o, "used", json_object_new_boolean(p->used));
        put(o, "line", json_object_new_int(p->hdr.loc.first_line));
        json_object_array_add(procs, o);
    }
    put(root, "procs", procs);
    json_object *hooks = json_object_new_object();
    put(hooks, "init", json_object_new_boolean(!!d->on_init));
    put(hooks, "reset", json_object_new_boolean(!!d->on_reset));
    put(root, "device_hooks", hooks);
}

char *
vdevc_emit_json(void *mem_ctx, struct vdevc_unit *u)
{
    const struct vdevc_device *d = u->dev;
    json_object *root = json_object_new_object();
    put_str(root, "device", d->name);
    put_str(root, "source", vdevc_display_name(u->file));
    put(root, "version", json_object_new_int((int)d->version));
    json_object *id = json_object_new_object();
    put(id, "vendor", jhex(d->vendor));
    put(id, "device", jhex(d->device));
    put(id, "subsystem_vendor", jhex(d->subsys_vendor));
    put(id, "subsystem", jhex(d->subsys));
    put(id, "class", jhex(d->class_code));
    put(id, "revision", jhex(d->revision));
    put(id, "intx", json_object_new_int((int)d->intx));
    put(root, "identity", id);
    json_object *bars = json_object_new_array();
    void *tmp = talloc_new(NULL);
    for (unsigned i = 0; i < d->bars.n; i++)
        json_object_array_add(bars, bar_json(tmp, d->bars.v[i]));
    put(root, "bars", bars);
    json_object *cfg = json_object_new_array();
    for (unsigned i = 0; d->config && i < d->config->regs.n; i++)
        json_object_array_add(cfg, reg_json(tmp, d->config->regs.v[i]));
    put(root, "config_registers", cfg);
    put(root, "state", state_json(d));
    put(root, "capabilities", caps_json(d));
    misc_json(tmp, d, root);
    behaviour_json(d, root);
    host_json(d, root);
    const char *s = json_object_to_json_string_ext(
        root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
    char *out = talloc_asprintf(mem_ctx, "%s\n", s);
    json_object_put(root);
    talloc_free(tmp);
    return out;
}
