/* Procs, device hooks and banks in C: each proc a hook reaches becomes a
 * static function, callees before callers (the call graph is acyclic, so
 * no prototypes); `on init`; the device reset that keeps sticky state and
 * runs `on reset`; per banked register the function of its condition,
 * per index/data array the one of its index. */
#include <string.h>
#include <talloc.h>

#include "emit.h"

const char *
vdevc_proc_cname(struct vdevc_emit *e, const struct vdevc_proc *p)
{
    return vdevc_emit_strf(e, "%s_proc_%s", e->name, p->name);
}

/* The hook context a body is written in: none of `value`, `old`, `index`
 * or `width`. */
static void
no_access(struct vdevc_emit *e, unsigned result_bits)
{
    e->value = e->old = e->index = e->width = NULL;
    e->value_bits = 0;
    e->index_max = 0;
    e->result_bits = result_bits;
}

/* d when the body uses the state; (void)dev when it uses nothing. */
static void
body_head(struct vdevc_emit *e, const struct vdevc_stmt *body)
{
    bool state = vdevc_stmt_uses_state(body);
    if (state)
        L(1, "struct %s *d = vdev_private(dev);", e->name);
    else if (!vdevc_stmt_uses_dev(body))
        L(1, "(void)dev;");
}

static bool
ends_in_return(const struct vdevc_stmt *s)
{
    return s->kind == S_BLOCK && s->body.n > 0 && s->body.v[s->body.n - 1] &&
           ((const struct vdevc_stmt *)s->body.v[s->body.n - 1])->kind ==
               S_RETURN;
}

static void
emit_proc(struct vdevc_emit *e, const struct vdevc_proc *p)
{
    vdevc_emit_where(e, p->hdr.loc.first_line,
                     vdevc_emit_strf(e, "proc %s", p->name), 0);
    P("static %s\n%s(struct vdev_dev *dev",
      p->width ? vdevc_ctype(vdevc_storage_bits(p->width)) : "void",
      vdevc_proc_cname(e, p));
    for (unsigned i = 0; i < p->params.n; i++)
        P(", uint64_t l_%s", vdevc_param_at(&p->params, i)->name);
    P(")\n{\n");
    body_head(e, p->body);
    for (unsigned i = 0; i < p->params.n; i++)
        if (!vdevc_stmt_reads_local(p->body, (int)i))
            L(1, "(void)l_%s;", vdevc_param_at(&p->params, i)->name);
    no_access(e, p->width);
    vdevc_emit_stmt(e, p->body, 1);
    if (p->width != 0 && !ends_in_return(p->body))
        L(1, "return 0;");
    P("}\n\n");
    vdevc_emit_flush(e);
}

/* Post-order over the call graph from each used proc, in declaration
 * order: a proc is written once all its callees are. */
void
vdevc_emit_procs(struct vdevc_emit *e)
{
    const struct vdevc_vec *procs = &e->d->procs;
    if (procs->n == 0)
        return;
    bool *done = talloc_zero_array(e, bool, procs->n);
    const struct vdevc_proc **stack =
        talloc_array(e, const struct vdevc_proc *, procs->n);
    unsigned *next = talloc_array(e, unsigned, procs->n);
    for (unsigned i = 0; i < procs->n; i++) {
        const struct vdevc_proc *root = procs->v[i];
        if (!root->used || done[i])
            continue;
        unsigned depth = 0;
        stack[depth] = root;
        next[depth++] = 0;
        while (depth > 0) {
            const struct vdevc_proc *p = stack[depth - 1];
            if (next[depth - 1] < p->callees.n) {
                const struct vdevc_expr *call = p->callees.v[next[depth - 1]++];
                const struct vdevc_proc *c = call->sym;
                if (!done[c->id]) {
                    done[c->id] = true; /* acyclic: never on the stack twice */
                    stack[depth] = c;
                    next[depth++] = 0;
                }
                continue;
            }
            emit_proc(e, p);
            depth--;
        }
        done[i] = true;
    }
    talloc_free(done);
    talloc_free(stack);
    talloc_free(next);
}

/* ------------------------------------------------------------ device hooks */

bool
vdevc_emit_on_init(struct vdevc_emit *e)
{
    const struct vdevc_hook *h = e->d->on_init;
    if (!h)
        return false;
    P("static void\n%s_on_init(struct vdev_dev *dev)\n{\n", e->name);
    body_head(e, h->body);
    vdevc_emit_kicks(e, vdevc_stmt_streams(h->body, e->d->streams.n), 1);
    vdevc_emit_where(e, h->hdr.loc.first_line, "on init", 1);
    no_access(e, 0);
    vdevc_emit_stmt(e, h->body, 1);
    P("}\n\n");
    vdevc_emit_flush(e);
    return true;
}

static uint64_t
sticky_bits(const struct vdevc_reg *r)
{
    if (r->sticky)
        return r->all;
    uint64_t m = 0;
    for (unsigned i = 0; i < r->fields.n; i++) {
        const struct vdevc_field *f = r->fields.v[i];
        if (f->sticky)
            m |= vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
    }
    return m;
}

bool
vdevc_any_sticky(const struct vdevc_device *d)
{
    for (unsigned i = 0; i < d->regs.n; i++)
        if (sticky_bits(d->regs.v[i]) != 0)
            return true;
    for (unsigned i = 0; i < d->vars.n; i++)
        if (vdevc_var_at(&d->vars, i)->sticky)
            return true;
    return false;
}

/* What is not sticky takes its reset value, member by member; whether
 * anything did. */
static bool
reset_members(struct vdevc_emit *e)
{
    size_t before = e->o->len;
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        uint64_t keep = sticky_bits(r);
        if (keep == r->all)
            continue;
        const char *el = r->n > 1 ? vdevc_emit_strf(e, "s->%s[i]", r->cname)
                                  : vdevc_emit_strf(e, "s->%s", r->cname);
        if (r->n > 1)
            L(1, "for (unsigned i = 0; i < %u; i++)", r->n);
        if (keep == 0)
            L(1 + (r->n > 1), "%s = %s;", el, HEX(r->reset));
        else if ((r->reset & ~keep) == 0)
            L(1 + (r->n > 1), "%s &= %s;", el, vdevc_emit_const(e, keep));
        else
            L(1 + (r->n > 1), "%s = (%s & %s) | %s;", el, el,
              vdevc_emit_const(e, keep), HEX(r->reset & ~keep));
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        if (v->sticky)
            continue;
        if (v->buffer)
            L(1, "memset(s->%s, 0, sizeof(s->%s));", v->name, v->name);
        else
            L(1, "s->%s = %s;", v->name, HEX(v->reset));
    }
    for (unsigned i = 0; i < e->d->fifos.n; i++) { /* FIFOs empty */
        const char *c = vdevc_fifo_at(&e->d->fifos, i)->cname;
        L(1, "memset(&s->%s, 0, sizeof(s->%s));", c, c);
    }
    return e->o->len != before;
}

/* A device reset, when one keeps sticky state or runs `on reset` (else
 * the engine takes the reset values): the state, then the hook. */
bool
vdevc_emit_device_reset(struct vdevc_emit *e, bool reset_values)
{
    const struct vdevc_hook *h = e->d->on_reset;
    bool sticky = vdevc_any_sticky(e->d);
    if (!h && !sticky)
        return false;
    P("/* A device reset: %s%s. */\n",
      sticky ? "what is not sticky takes its reset\n * value"
             : "the reset values",
      h ? ", then 'on reset'" : "");
    P("static void\n%s_reset(struct vdev_dev *dev, void *state)\n{\n", e->name);
    L(1, "struct %s_state *s = state;", e->name);
    if (h && vdevc_stmt_uses_state(h->body))
        L(1, "struct %s *d = vdev_private(dev);", e->name);
    else if (!h || !vdevc_stmt_uses_dev(h->body))
        L(1, "(void)dev;");
    if (sticky) {
        if (!reset_members(e))
            L(1, "(void)s;");
    } else if (reset_values)
        L(1, "%s_reset_values(dev, s);", e->name);
    else
        L(1, "memset(s, 0, sizeof(*s));");
    if (h) {
        vdevc_emit_where(e, h->hdr.loc.first_line, "on reset", 1);
        no_access(e, 0);
        vdevc_emit_stmt(e, h->body, 1);
    }
    P("}\n\n");
    vdevc_emit_flush(e);
    return true;
}

/* ------------------------------------------------------------ banks */

static void
bank_fn(struct vdevc_emit *e, const struct vdevc_reg *r, bool when)
{
    const struct vdevc_expr *x = when ? r->when : r->select;
    P("static %s\n%s_%s_%s(struct vdev_dev *dev)\n{\n",
      when ? "bool" : "uint64_t", e->name, r->cname, when ? "when" : "select");
    if (vdevc_expr_uses_state(x))
        L(1, "const struct %s *d = vdev_private(dev);", e->name);
    else
        L(1, "(void)dev;");
    vdevc_emit_where(
        e, x->loc.first_line,
        vdevc_emit_strf(e, "%s %s", r->qname, when ? "when" : "select"), 1);
    L(1, "return %s;", when ? vdevc_emit_cond(e, x) : vdevc_emit_expr(e, x));
    P("}\n\n");
}

void
vdevc_emit_banks(struct vdevc_emit *e)
{
    no_access(e, 0);
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        if (r->when)
            bank_fn(e, r, true);
        if (r->select)
            bank_fn(e, r, false);
        vdevc_emit_flush(e);
    }
}
