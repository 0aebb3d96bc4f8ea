/* The first check: no expression nested deeper than the passes after it
 * can recurse over safely. Walks statements (bounded by the parser's
 * stack) and reads each expression's depth without recursing into it. */
#include "vdevc.h"

#define MAX_EXPR_DEPTH 256

struct walk {
    struct vdevc_unit *u;
    bool too_deep;
};

static void
expr(struct walk *w, const struct vdevc_expr *e)
{
    if (!e || e->depth <= MAX_EXPR_DEPTH || w->too_deep)
        return;
    vdevc_error(w->u->diag, e->loc, "too-deep",
                "expression nested more than %u levels deep", MAX_EXPR_DEPTH);
    w->too_deep = true;
}

static void
attrs(struct walk *w, const struct vdevc_vec *v)
{
    for (unsigned i = 0; i < v->n; i++)
        expr(w, ((const struct vdevc_attr *)v->v[i])->expr);
}

static void
stmt(struct walk *w, const struct vdevc_stmt *s)
{
    if (!s)
        return;
    expr(w, s->lhs);
    expr(w, s->rhs);
    expr(w, s->third);
    stmt(w, s->then_s);
    stmt(w, s->else_s);
    for (unsigned i = 0; i < s->body.n; i++)
        stmt(w, s->body.v[i]);
}

static void node(struct walk *w, const struct vdevc_node *n);

static void
nodes(struct walk *w, const struct vdevc_vec *v)
{
    for (unsigned i = 0; i < v->n; i++)
        if (v->v[i])
            node(w, v->v[i]);
}

static void
node(struct walk *w, const struct vdevc_node *n)
{
    switch (n->kind) {
    case N_PROP:
        expr(w, ((const struct vdevc_prop *)n)->value);
        break;
    case N_ENUM: {
        const struct vdevc_enum *e = (const void *)n;
        for (unsigned i = 0; i < e->members.n; i++)
            expr(w, ((const struct vdevc_enum_member *)e->members.v[i])->value);
        break;
    }
    case N_VAR: {
        const struct vdevc_var *v = (const void *)n;
        expr(w, v->size);
        attrs(w, &v->attrs);
        nodes(w, &v->hooks);
        break;
    }
    case N_BAR: {
        const struct vdevc_bar *b = (const void *)n;
        expr(w, b->index);
        attrs(w, &b->attrs);
        nodes(w, &b->items);
        break;
    }
    case N_BLOCK:
        nodes(w, &((const struct vdevc_block *)n)->items);
        break;
    case N_INTERRUPT: {
        const struct vdevc_interrupt *q = (const void *)n;
        expr(w, q->vector);
        expr(w, q->expr);
        break;
    }
    case N_CAP: {
        const struct vdevc_cap *c = (const void *)n;
        attrs(w, &c->attrs);
        nodes(w, &c->fields);
        break;
    }
    case N_REG: {
        const struct vdevc_reg *r = (const void *)n;
        expr(w, r->count);
        expr(w, r->offset);
        attrs(w, &r->attrs);
        nodes(w, &r->items);
        break;
    }
    case N_FIELD: {
        const struct vdevc_field *f = (const void *)n;
        expr(w, f->hi);
        expr(w, f->lo);
        attrs(w, &f->attrs);
        nodes(w, &f->hooks);
        break;
    }
    case N_MEMORY: {
        const struct vdevc_memory *m = (const void *)n;
        expr(w, m->offset);
        attrs(w, &m->attrs);
        break;
    }
    case N_USE: {
        const struct vdevc_use *use = (const void *)n;
        expr(w, use->offset);
        for (unsigned i = 0; i < use->args.n; i++)
            expr(w, use->args.v[i]);
        break;
    }
    case N_HOOK:
        stmt(w, ((const struct vdevc_hook *)n)->body);
        break;
    case N_PROC:
        stmt(w, ((const struct vdevc_proc *)n)->body);
        break;
    case N_CONFIG:
        nodes(w, &((const struct vdevc_config *)n)->items);
        break;
    default:
        break;
    }
}

bool
vdevc_sema_depth(struct vdevc_unit *u)
{
    struct walk w = {u, false};
    nodes(&w, &u->dev->items);
    return !w.too_deep;
}
