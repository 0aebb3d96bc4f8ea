/* AST constructors called from the grammar, and deep copies used when a
 * register block is instantiated. Everything hangs off one talloc context. */
#include <string.h>
#include <talloc.h>

#include "ast.h"

static void *node_zero(void *ctx, size_t size);

void
vdevc_vec_push(void *owner, struct vdevc_vec *vec, void *item)
{
    if (vec->n == vec->cap) {
        unsigned cap = vec->cap ? vec->cap * 2 : 4;
        void **v = talloc_realloc(owner, vec->v, void *, cap);
        if (!v)
            return;
        vec->v = v;
        vec->cap = cap;
    }
    vec->v[vec->n++] = item;
}

/* Lists built by the grammar are plain vecs owned by ctx; constructors copy
 * their contents into the node that keeps them. */
/* An empty list is NULL: most attribute and item lists are, and the
 * constructors take NULL for empty. */
struct vdevc_vec *
vdevc_list(void *ctx, struct vdevc_vec *list, void *item)
{
    if (!list && !item)
        return NULL;
    if (!list)
        list = node_zero(ctx, sizeof(*list));
    if (item)
        vdevc_vec_push(ctx, list, item);
    return list;
}

/* The node keeps the array. The grammar's list wrapper stays where it is
 * (in the parse's slab: 16 bytes, not a talloc chunk to free). */
static void
take(void *owner, struct vdevc_vec *dst, struct vdevc_vec *src)
{
    if (!src)
        return;
    *dst = *src;
    if (dst->v)
        talloc_steal(owner, dst->v);
}

/* ------------------------------------------------------------ slabs
 * Expressions and attributes are the most numerous nodes (several per
 * register) and own no talloc children: under a slab context they are
 * carved out of large blocks instead of each being a talloc chunk (about
 * 100 bytes of header and a malloc). The slab is a talloc child of the
 * compilation; its blocks are its children, freed with it. */

#define SLAB_BLOCK (64u << 10)

struct vdevc_slab {
    char *next, *end;
};

void *
vdevc_slab_new(void *ctx)
{
    return talloc_zero(ctx, struct vdevc_slab);
}

/* size bytes, zeroed, under ctx: from the slab when ctx is one. */
static void *
node_zero(void *ctx, size_t size)
{
    struct vdevc_slab *s = talloc_get_type(ctx, struct vdevc_slab);
    if (!s)
        return talloc_zero_size(ctx, size);
    size = (size + 15) & ~(size_t)15;
    /* Strings leave the next free byte anywhere: nodes start aligned. */
    if (s->next)
        s->next += -(uintptr_t)s->next & 15;
    if (s->next > s->end || (size_t)(s->end - s->next) < size) {
        s->next = talloc_size(s, SLAB_BLOCK);
        if (!s->next) {
            s->end = NULL;
            return NULL;
        }
        s->end = s->next + SLAB_BLOCK;
    }
    void *p = s->next;
    s->next += size;
    memset(p, 0, size);
    return p;
}

char *
vdevc_slab_strndup(void *ctx, const char *str, size_t n)
{
    struct vdevc_slab *s = talloc_get_type(ctx, struct vdevc_slab);
    if (!s || n >= SLAB_BLOCK / 4)
        return talloc_strndup(ctx, str, n);
    if ((size_t)(s->end - s->next) < n + 1) {
        s->next = talloc_size(s, SLAB_BLOCK);
        if (!s->next) {
            s->end = NULL;
            return NULL;
        }
        s->end = s->next + SLAB_BLOCK;
    }
    char *p = s->next;
    s->next += n + 1;
    memcpy(p, str, n);
    p[n] = '\0';
    return p;
}

/* Depth is tracked as the tree is built, so the semantic pass can refuse a
 * 100,000-deep `1+1+...` before anything recurses over it. */
static void
set_depth(struct vdevc_expr *e, const struct vdevc_expr *sub)
{
    if (sub && sub->depth + 1 > e->depth)
        e->depth = sub->depth + 1;
}

static struct vdevc_expr *
expr_new(void *ctx, struct vdevc_loc loc, enum vdevc_expr_kind kind)
{
    struct vdevc_expr *e = node_zero(ctx, sizeof(struct vdevc_expr));
    e->kind = kind;
    e->loc = loc;
    e->depth = 1;
    return e;
}

struct vdevc_expr *
vdevc_expr_num(void *ctx, struct vdevc_loc loc, uint64_t v)
{
    struct vdevc_expr *e = expr_new(ctx, loc, E_NUM);
    e->num = v;
    return e;
}

struct vdevc_expr *
vdevc_expr_name(void *ctx, struct vdevc_loc loc, const char *name)
{
    struct vdevc_expr *e = expr_new(ctx, loc, E_NAME);
    e->name = name;
    return e;
}

struct vdevc_expr *
vdevc_expr_member(void *ctx, struct vdevc_loc loc, struct vdevc_expr *base,
                  const char *name)
{
    struct vdevc_expr *e = expr_new(ctx, loc, E_MEMBER);
    e->lhs = base;
    e->name = name;
    set_depth(e, base);
    return e;
}

struct vdevc_expr *
vdevc_expr_index(void *ctx, struct vdevc_loc loc, struct vdevc_expr *base,
                 struct vdevc_expr *idx)
{
    struct vdevc_expr *e = expr_new(ctx, loc, E_INDEX);
    e->lhs = base;
    e->rhs = idx;
    set_depth(e, base);
    set_depth(e, idx);
    return e;
}

struct vdevc_expr *
vdevc_expr_call(void *ctx, struct vdevc_loc loc, const char *name,
                struct vdevc_vec *args)
{
    struct vdevc_expr *e = expr_new(ctx, loc, E_CALL);
    e->name = name;
    take(ctx, &e->args, args); /* e may live in a slab: no talloc parent */
    for (unsigned i = 0; i < e->args.n; i++)
        set_depth(e, e->args.v[i]);
    return e;
}

struct vdevc_expr *
vdevc_expr_unary(void *ctx, struct vdevc_loc loc, int op, struct vdevc_expr *x)
{
    struct vdevc_expr *e = expr_new(ctx, loc, E_UNARY);
    e->op = op;
    e->lhs = x;
    set_depth(e, x);
    return e;
}

struct vdevc_expr *
vdevc_expr_binary(void *ctx, struct vdevc_loc loc, int op, struct vdevc_expr *l,
                  struct vdevc_expr *r)
{
    struct vdevc_expr *e = expr_new(ctx, loc, E_BINARY);
    e->op = op;
    e->lhs = l;
    e->rhs = r;
    set_depth(e, l);
    set_depth(e, r);
    return e;
}

struct vdevc_stmt *
vdevc_stmt_new(void *ctx, struct vdevc_loc loc, enum vdevc_stmt_kind kind)
{
    struct vdevc_stmt *s = talloc_zero(ctx, struct vdevc_stmt);
    s->kind = kind;
    s->loc = loc;
    return s;
}

struct vdevc_stmt *
vdevc_stmt_assign(void *ctx, struct vdevc_loc loc, int op, struct vdevc_expr *l,
                  struct vdevc_expr *r)
{
    struct vdevc_stmt *s = vdevc_stmt_new(ctx, loc, S_ASSIGN);
    s->op = op;
    s->lhs = l;
    s->rhs = r;
    return s;
}

struct vdevc_stmt *
vdevc_stmt_if(void *ctx, struct vdevc_loc loc, struct vdevc_expr *cond,
              struct vdevc_stmt *then_s, struct vdevc_stmt *else_s)
{
    struct vdevc_stmt *s = vdevc_stmt_new(ctx, loc, S_IF);
    s->lhs = cond;
    s->then_s = then_s;
    s->else_s = else_s;
    return s;
}

struct vdevc_stmt *
vdevc_stmt_let(void *ctx, struct vdevc_loc loc, const char *name,
               struct vdevc_expr *e)
{
    struct vdevc_stmt *s = vdevc_stmt_new(ctx, loc, S_LET);
    s->name = name;
    s->rhs = e;
    return s;
}

struct vdevc_stmt *
vdevc_stmt_expr(void *ctx, struct vdevc_loc loc, enum vdevc_stmt_kind kind,
                struct vdevc_expr *e)
{
    struct vdevc_stmt *s = vdevc_stmt_new(ctx, loc, kind);
    s->lhs = e;
    return s;
}

struct vdevc_stmt *
vdevc_stmt_dma(void *ctx, struct vdevc_loc loc, const char *dir,
               struct vdevc_expr *a, struct vdevc_expr *b, struct vdevc_expr *c)
{
    struct vdevc_stmt *s = vdevc_stmt_new(ctx, loc, S_DMA);
    s->name = dir;
    s->lhs = a;
    s->rhs = b;
    s->third = c;
    return s;
}

struct vdevc_stmt *
vdevc_stmt_block(void *ctx, struct vdevc_loc loc, struct vdevc_vec *body)
{
    struct vdevc_stmt *s = vdevc_stmt_new(ctx, loc, S_BLOCK);
    take(s, &s->body, body);
    return s;
}

struct vdevc_stmt *
vdevc_stmt_for(void *ctx, struct vdevc_loc loc, const char *var,
               struct vdevc_loc in_loc, const char *in, struct vdevc_expr *from,
               struct vdevc_expr *to, struct vdevc_loc max_loc, const char *max,
               struct vdevc_expr *bound, struct vdevc_stmt *body)
{
    struct vdevc_stmt *s = vdevc_stmt_new(ctx, loc, S_FOR);
    struct vdevc_loop *l = talloc_zero(s, struct vdevc_loop);
    l->var = var;
    l->var_loc = loc;
    l->in = in;
    l->in_loc = in_loc;
    l->max = max;
    l->max_loc = max_loc;
    l->slot = -1;
    s->loop = l;
    s->lhs = from;
    s->rhs = to;
    s->third = bound;
    s->then_s = body;
    return s;
}

struct vdevc_attr *
vdevc_attr_new(void *ctx, struct vdevc_loc loc, enum vdevc_attr_kind kind,
               const char *name, uint64_t v1, uint64_t v2, struct vdevc_expr *e)
{
    struct vdevc_attr *a = node_zero(ctx, sizeof(struct vdevc_attr));
    a->kind = kind;
    a->loc = loc;
    a->name = name;
    a->v1 = v1;
    a->v2 = v2;
    a->expr = e;
    return a;
}

#define NODE_NEW(ctx, type, k, l)                                              \
    ({                                                                         \
        type *n_ = talloc_zero(ctx, type);                                     \
        n_->hdr.kind = (k);                                                    \
        n_->hdr.loc = (l);                                                     \
        n_;                                                                    \
    })

struct vdevc_node *
vdevc_prop_new(void *ctx, struct vdevc_loc loc, const char *name,
               struct vdevc_expr *v)
{
    struct vdevc_prop *p = NODE_NEW(ctx, struct vdevc_prop, N_PROP, loc);
    p->name = name;
    p->value = v;
    return &p->hdr;
}

struct vdevc_node *
vdevc_enum_new(void *ctx, struct vdevc_loc loc, const char *name,
               struct vdevc_vec *members)
{
    struct vdevc_enum *e = NODE_NEW(ctx, struct vdevc_enum, N_ENUM, loc);
    e->name = name;
    take(e, &e->members, members);
    for (unsigned i = 0; i < e->members.n; i++)
        ((struct vdevc_enum_member *)e->members.v[i])->owner = e;
    return &e->hdr;
}

struct vdevc_enum_member *
vdevc_enum_member_new(void *ctx, struct vdevc_loc loc, const char *name,
                      struct vdevc_expr *v)
{
    struct vdevc_enum_member *m = talloc_zero(ctx, struct vdevc_enum_member);
    m->loc = loc;
    m->name = name;
    m->value = v;
    return m;
}

struct vdevc_param *
vdevc_param_new(void *ctx, struct vdevc_loc loc, const char *type,
                const char *name)
{
    struct vdevc_param *p = talloc_zero(ctx, struct vdevc_param);
    p->loc = loc;
    p->type = type;
    p->name = name;
    return p;
}

struct vdevc_node *
vdevc_extern_new(void *ctx, struct vdevc_loc loc, const char *ret,
                 const char *name, struct vdevc_vec *params)
{
    struct vdevc_extern *x = NODE_NEW(ctx, struct vdevc_extern, N_EXTERN, loc);
    x->ret = ret;
    x->name = name;
    take(x, &x->params, params);
    return &x->hdr;
}

struct vdevc_node *
vdevc_var_new(void *ctx, struct vdevc_loc loc, const char *name,
              struct vdevc_expr *size, struct vdevc_vec *attrs,
              struct vdevc_vec *hooks)
{
    struct vdevc_var *v = NODE_NEW(ctx, struct vdevc_var, N_VAR, loc);
    v->name = name;
    v->buffer = !!size;
    v->size = size;
    take(v, &v->attrs, attrs);
    take(v, &v->hooks, hooks);
    return &v->hdr;
}

struct vdevc_node *
vdevc_bar_new(void *ctx, struct vdevc_loc loc, struct vdevc_expr *index,
              struct vdevc_vec *attrs, struct vdevc_vec *items, bool has_body)
{
    struct vdevc_bar *b = NODE_NEW(ctx, struct vdevc_bar, N_BAR, loc);
    b->index = index;
    take(b, &b->attrs, attrs);
    take(b, &b->items, items);
    b->has_body = has_body;
    return &b->hdr;
}

struct vdevc_node *
vdevc_block_new(void *ctx, struct vdevc_loc loc, const char *name,
                struct vdevc_vec *params, struct vdevc_vec *items)
{
    struct vdevc_block *b = NODE_NEW(ctx, struct vdevc_block, N_BLOCK, loc);
    b->name = name;
    take(b, &b->params, params);
    take(b, &b->items, items);
    return &b->hdr;
}

struct vdevc_node *
vdevc_interrupt_new(void *ctx, struct vdevc_loc loc, struct vdevc_expr *vector,
                    struct vdevc_expr *e)
{
    struct vdevc_interrupt *i =
        NODE_NEW(ctx, struct vdevc_interrupt, N_INTERRUPT, loc);
    i->vector = vector;
    i->expr = e;
    return &i->hdr;
}

struct vdevc_node *
vdevc_cap_new(void *ctx, struct vdevc_loc loc, const char *name,
              struct vdevc_vec *attrs, struct vdevc_vec *fields, bool has_body)
{
    struct vdevc_cap *c = NODE_NEW(ctx, struct vdevc_cap, N_CAP, loc);
    c->name = name;
    take(c, &c->attrs, attrs);
    take(c, &c->fields, fields);
    c->has_body = has_body;
    return &c->hdr;
}

struct vdevc_node *
vdevc_reg_new(void *ctx, struct vdevc_loc loc, const char *name,
              struct vdevc_expr *count, struct vdevc_expr *offset,
              struct vdevc_vec *attrs, struct vdevc_vec *items)
{
    struct vdevc_reg *r = NODE_NEW(ctx, struct vdevc_reg, N_REG, loc);
    r->name = name;
    r->count = count;
    r->offset = offset;
    take(r, &r->attrs, attrs);
    take(r, &r->items, items);
    return &r->hdr;
}

struct vdevc_node *
vdevc_field_new(void *ctx, struct vdevc_loc loc, const char *name,
                struct vdevc_expr *hi, struct vdevc_expr *lo,
                struct vdevc_vec *attrs, struct vdevc_vec *hooks)
{
    struct vdevc_field *f = NODE_NEW(ctx, struct vdevc_field, N_FIELD, loc);
    f->name = name;
    f->hi = hi;
    f->lo = lo ? lo : hi;
    take(f, &f->attrs, attrs);
    take(f, &f->hooks, hooks);
    return &f->hdr;
}

struct vdevc_node *
vdevc_memory_new(void *ctx, struct vdevc_loc loc, const char *name,
                 struct vdevc_expr *offset, struct vdevc_vec *attrs)
{
    struct vdevc_memory *m = NODE_NEW(ctx, struct vdevc_memory, N_MEMORY, loc);
    m->name = name;
    m->offset = offset;
    take(m, &m->attrs, attrs);
    return &m->hdr;
}

struct vdevc_node *
vdevc_use_new(void *ctx, struct vdevc_loc loc, const char *block,
              struct vdevc_vec *args, struct vdevc_expr *offset, const char *as,
              struct vdevc_loc as_loc)
{
    struct vdevc_use *u = NODE_NEW(ctx, struct vdevc_use, N_USE, loc);
    u->block = block;
    take(u, &u->args, args);
    u->offset = offset;
    u->as = as;
    u->as_loc = as_loc;
    return &u->hdr;
}

struct vdevc_node *
vdevc_hook_new(void *ctx, struct vdevc_loc loc, const char *when,
               struct vdevc_stmt *body)
{
    struct vdevc_hook *h = NODE_NEW(ctx, struct vdevc_hook, N_HOOK, loc);
    h->when = when;
    h->body = body;
    return &h->hdr;
}

struct vdevc_param *
vdevc_proc_param_new(void *ctx, struct vdevc_loc loc, const char *name,
                     uint64_t width)
{
    struct vdevc_param *p = vdevc_param_new(ctx, loc, "", name);
    p->width = width;
    return p;
}

struct vdevc_node *
vdevc_proc_new(void *ctx, struct vdevc_loc loc, const char *name,
               struct vdevc_vec *params, uint64_t result,
               struct vdevc_stmt *body)
{
    struct vdevc_proc *p = NODE_NEW(ctx, struct vdevc_proc, N_PROC, loc);
    p->name = name;
    take(p, &p->params, params);
    p->result = result;
    p->body = body;
    return &p->hdr;
}

struct vdevc_node *
vdevc_config_new(void *ctx, struct vdevc_loc loc, const char *word,
                 struct vdevc_vec *items)
{
    struct vdevc_config *c = NODE_NEW(ctx, struct vdevc_config, N_CONFIG, loc);
    c->word = word;
    take(c, &c->items, items);
    return &c->hdr;
}

struct vdevc_device *
vdevc_device_new(void *ctx, struct vdevc_loc loc, const char *name,
                 struct vdevc_vec *items)
{
    struct vdevc_device *d = talloc_zero(ctx, struct vdevc_device);
    d->loc = loc;
    d->name = name;
    take(d, &d->items, items);
    /* The passes after the parser allocate leaves there too. */
    d->slab = talloc_get_type(ctx, struct vdevc_slab) ? ctx : d;
    return d;
}

void *
vdevc_slab_zero(void *ctx, size_t size)
{
    return node_zero(ctx, size);
}

/* ------------------------------------------------------------ time, host */

struct vdevc_expr *
vdevc_expr_now(void *ctx, struct vdevc_loc loc)
{
    /* A reserved word, so no declaration or local can take the name. */
    return vdevc_expr_name(ctx, loc, "now");
}

struct vdevc_expr *
vdevc_expr_method(void *ctx, struct vdevc_loc loc, struct vdevc_expr *obj,
                  const char *name, struct vdevc_vec *args)
{
    struct vdevc_expr *e = vdevc_expr_call(ctx, loc, name, args);
    e->lhs = obj;
    set_depth(e, obj);
    return e;
}

static enum vdevc_stmt_kind
word_kind(const char *verb)
{
    if (strcmp(verb, "stop") == 0)
        return S_STOP;
    if (strcmp(verb, "emit") == 0)
        return S_EMIT;
    return S_WORD;
}

struct vdevc_stmt *
vdevc_stmt_word(void *ctx, struct vdevc_loc loc, const char *verb,
                struct vdevc_loc name_loc, const char *name)
{
    struct vdevc_stmt *s = vdevc_stmt_new(ctx, loc, word_kind(verb));
    s->name = verb;
    s->lhs = vdevc_expr_name(ctx, name_loc, name);
    return s;
}

struct vdevc_stmt *
vdevc_stmt_start(void *ctx, struct vdevc_loc loc, const char *verb,
                 struct vdevc_loc name_loc, const char *name,
                 struct vdevc_loc mode_loc, const char *mode,
                 struct vdevc_expr *delay, struct vdevc_loc unit_loc,
                 const char *unit)
{
    bool start = strcmp(verb, "start") == 0;
    struct vdevc_stmt *s = vdevc_stmt_new(ctx, loc, start ? S_START : S_WORD);
    s->name = verb;
    s->lhs = vdevc_expr_name(ctx, name_loc, name);
    s->mode = vdevc_expr_name(ctx, mode_loc, mode);
    s->rhs = delay;
    s->third = vdevc_expr_name(ctx, unit_loc, unit);
    return s;
}

struct vdevc_node *
vdevc_timer_new(void *ctx, struct vdevc_loc loc, const char *name,
                struct vdevc_vec *attrs, struct vdevc_vec *hooks)
{
    struct vdevc_timer *t = NODE_NEW(ctx, struct vdevc_timer, N_TIMER, loc);
    t->name = name;
    take(t, &t->attrs, attrs);
    take(t, &t->hooks, hooks);
    return &t->hdr;
}

struct vdevc_node *
vdevc_fifo_new(void *ctx, struct vdevc_loc loc, const char *name,
               struct vdevc_expr *depth, struct vdevc_vec *attrs)
{
    struct vdevc_fifo *f = NODE_NEW(ctx, struct vdevc_fifo, N_FIFO, loc);
    f->name = name;
    f->size = depth;
    take(f, &f->attrs, attrs);
    return &f->hdr;
}

struct vdevc_node *
vdevc_stream_new(void *ctx, struct vdevc_loc loc, const char *name,
                 struct vdevc_vec *attrs, struct vdevc_vec *hooks)
{
    struct vdevc_stream *s = NODE_NEW(ctx, struct vdevc_stream, N_STREAM, loc);
    s->name = name;
    take(s, &s->attrs, attrs);
    take(s, &s->hooks, hooks);
    return &s->hdr;
}

struct vdevc_node *
vdevc_event_new(void *ctx, struct vdevc_loc loc, const char *name,
                struct vdevc_vec *attrs)
{
    struct vdevc_event *e = NODE_NEW(ctx, struct vdevc_event, N_EVENT, loc);
    e->name = name;
    take(e, &e->attrs, attrs);
    return &e->hdr;
}

/* ------------------------------------------------------------ clones */

struct vdevc_expr *
vdevc_expr_clone(void *ctx, const struct vdevc_expr *e)
{
    if (!e)
        return NULL;
    struct vdevc_expr *c = node_zero(ctx, sizeof(struct vdevc_expr));
    c->kind = e->kind;
    c->loc = e->loc;
    c->op = e->op;
    c->num = e->num;
    c->name = e->name;
    c->depth = e->depth;
    c->lhs = vdevc_expr_clone(ctx, e->lhs);
    c->rhs = vdevc_expr_clone(ctx, e->rhs);
    for (unsigned i = 0; i < e->args.n; i++)
        vdevc_vec_push(ctx, &c->args, vdevc_expr_clone(ctx, e->args.v[i]));
    return c;
}

struct vdevc_stmt *
vdevc_stmt_clone(void *ctx, const struct vdevc_stmt *s)
{
    if (!s)
        return NULL;
    struct vdevc_stmt *c = vdevc_stmt_new(ctx, s->loc, s->kind);
    c->op = s->op;
    c->name = s->name;
    c->lhs = vdevc_expr_clone(ctx, s->lhs);
    c->rhs = vdevc_expr_clone(ctx, s->rhs);
    c->third = vdevc_expr_clone(ctx, s->third);
    c->mode = vdevc_expr_clone(ctx, s->mode);
    c->then_s = vdevc_stmt_clone(ctx, s->then_s);
    c->else_s = vdevc_stmt_clone(ctx, s->else_s);
    if (s->loop) {
        c->loop = talloc_memdup(c, s->loop, sizeof(*s->loop));
        c->loop->slot = -1;
    }
    for (unsigned i = 0; i < s->body.n; i++)
        vdevc_vec_push(ctx, &c->body, vdevc_stmt_clone(ctx, s->body.v[i]));
    return c;
}

static void
clone_attrs(void *ctx, struct vdevc_vec *dst, const struct vdevc_vec *src)
{
    for (unsigned i = 0; i < src->n; i++) {
        const struct vdevc_attr *a = src->v[i];
        vdevc_vec_push(ctx, dst,
                       vdevc_attr_new(ctx, a->loc, a->kind, a->name, a->v1,
                                      a->v2, vdevc_expr_clone(ctx, a->expr)));
    }
}

static void
clone_nodes(void *ctx, struct vdevc_vec *dst, const struct vdevc_vec *src)
{
    for (unsigned i = 0; i < src->n; i++)
        vdevc_vec_push(ctx, dst, vdevc_node_clone(ctx, src->v[i]));
}

struct vdevc_node *
vdevc_node_clone(void *ctx, const struct vdevc_node *n)
{
    switch (n->kind) {
    case N_REG: {
        const struct vdevc_reg *r = (const void *)n;
        struct vdevc_reg *c = (void *)vdevc_reg_new(
            ctx, n->loc, r->name, vdevc_expr_clone(ctx, r->count),
            vdevc_expr_clone(ctx, r->offset), NULL, NULL);
        clone_attrs(ctx, &c->attrs, &r->attrs);
        clone_nodes(ctx, &c->items, &r->items);
        return &c->hdr;
    }
    case N_FIELD: {
        const struct vdevc_field *f = (const void *)n;
        struct vdevc_field *c = (void *)vdevc_field_new(
            ctx, n->loc, f->name, vdevc_expr_clone(ctx, f->hi),
            vdevc_expr_clone(ctx, f->lo), NULL, NULL);
        clone_attrs(ctx, &c->attrs, &f->attrs);
        clone_nodes(ctx, &c->hooks, &f->hooks);
        return &c->hdr;
    }
    case N_HOOK: {
        const struct vdevc_hook *h = (const void *)n;
        return vdevc_hook_new(ctx, n->loc, h->when,
                              vdevc_stmt_clone(ctx, h->body));
    }
    case N_MEMORY: {
        const struct vdevc_memory *m = (const void *)n;
        struct vdevc_memory *c = (void *)vdevc_memory_new(
            ctx, n->loc, m->name, vdevc_expr_clone(ctx, m->offset), NULL);
        clone_attrs(ctx, &c->attrs, &m->attrs);
        return &c->hdr;
    }
    case N_USE: {
        const struct vdevc_use *u = (const void *)n;
        struct vdevc_use *c = (void *)vdevc_use_new(
            ctx, n->loc, u->block, NULL, vdevc_expr_clone(ctx, u->offset),
            u->as, u->as_loc);
        for (unsigned i = 0; i < u->args.n; i++)
            vdevc_vec_push(ctx, &c->args, vdevc_expr_clone(ctx, u->args.v[i]));
        return &c->hdr;
    }
    default:
        return NULL;
    }
}
