/* The statement language in C: assignments keep the bits a target does
 * not own, array and buffer indexes are bounds-checked, division and
 * shifts never trap (see emit_expr.c for expressions). */
#include <stdio.h>
#include <string.h>
#include <talloc.h>

#include "emit.h"

/* "7", "0x2au", "0x100000000ull" into s (24 bytes): tables print
 * hundreds of thousands, so without stdio. */
static char *
hex_into(char *s, uint64_t v)
{
    char *p = s;
    if (v < 10) {
        *p++ = (char)('0' + v);
        *p = '\0';
        return s;
    }
    int digits = 0;
    for (uint64_t t = v; t != 0; t >>= 4)
        digits++;
    *p++ = '0';
    *p++ = 'x';
    for (int i = digits - 1; i >= 0; i--)
        *p++ = "0123456789abcdef"[v >> (4 * i) & 0xf];
    if (v > 0xffffffffu) {
        *p++ = 'u';
        *p++ = 'l';
    }
    *p++ = v > 0xffffffffu ? 'l' : 'u';
    *p = '\0';
    return s;
}

char *
vdevc_hex(void *ctx, uint64_t v)
{
    char s[24];
    return talloc_strdup(ctx, hex_into(s, v));
}

const char *
vdevc_hex_ring(uint64_t v)
{
    static char ring[64][24];
    static unsigned next;
    return hex_into(ring[next++ % 64], v);
}

/* ------------------------------------------------------------ uses */

/* What a walk looks for: an expression (reads; assignment targets only
 * when `targets`), a statement kind. */
struct walk {
    bool (*expr)(const struct vdevc_expr *x, int arg);
    bool (*stmt)(const struct vdevc_stmt *s);
    int arg;
    bool targets;
};

static bool
expr_any(const struct walk *w, const struct vdevc_expr *x)
{
    if (!x)
        return false;
    if (w->expr && w->expr(x, w->arg))
        return true;
    if (expr_any(w, x->lhs) || expr_any(w, x->rhs) || expr_any(w, x->idx))
        return true;
    for (unsigned i = 0; i < x->args.n; i++)
        if (expr_any(w, x->args.v[i]))
            return true;
    return false;
}

static bool
stmt_any(const struct walk *w, const struct vdevc_stmt *s)
{
    if (!s)
        return false;
    if (w->stmt && w->stmt(s))
        return true;
    /* A plain assignment's target is written, not read (its index is). */
    bool target = !w->targets && s->kind == S_ASSIGN && s->op == 0;
    if (expr_any(w, target ? s->lhs->idx : s->lhs) || expr_any(w, s->rhs) ||
        expr_any(w, s->third) || stmt_any(w, s->then_s) ||
        stmt_any(w, s->else_s))
        return true;
    for (unsigned i = 0; i < s->body.n; i++)
        if (stmt_any(w, s->body.v[i]))
            return true;
    return false;
}

static bool
is_state(const struct vdevc_expr *x, int arg)
{
    return x->ref == REF_REG || x->ref == REF_FIELD || x->ref == REF_VAR ||
           x->ref == REF_BUFFER || x->ref == REF_TIMER || x->ref == REF_FIFO;
}

static bool
is_call(const struct vdevc_expr *x, int arg)
{
    return x->kind == E_CALL || x->ref == REF_NOW;
}

static uint32_t proc_streams(const struct vdevc_proc *p);

/* A push, pop or clear of stream `id`'s rx or tx (in a proc called too). */
static bool
changes_stream(const struct vdevc_expr *x, int id)
{
    if (x->kind == E_CALL && x->ref == REF_PROC)
        return proc_streams(x->sym) >> id & 1;
    const struct vdevc_fifo *f = x->ref == REF_FIFO ? x->sym : NULL;
    return x->kind == E_CALL && f && f->stream && (int)f->stream->id == id &&
           strcmp(x->name, "peek") != 0;
}

static bool
is_local(const struct vdevc_expr *x, int slot)
{
    return x->ref == REF_LOCAL && x->local == slot;
}

/* Interrupts, DMA, calls and resets take the device. */
static bool
takes_dev(const struct vdevc_stmt *s)
{
    return s->kind == S_RAISE || s->kind == S_LOWER || s->kind == S_NOTIFY ||
           s->kind == S_DMA || s->kind == S_CALL || s->kind == S_RESET ||
           s->kind == S_EMIT;
}

bool
vdevc_expr_uses_state(const struct vdevc_expr *x)
{
    const struct walk w = {.expr = is_state};
    return expr_any(&w, x);
}

bool
vdevc_stmt_uses_state(const struct vdevc_stmt *s)
{
    const struct walk w = {.expr = is_state, .targets = true};
    return stmt_any(&w, s);
}

bool
vdevc_stmt_uses_dev(const struct vdevc_stmt *s)
{
    const struct walk w = {.expr = is_call, .stmt = takes_dev};
    return stmt_any(&w, s);
}

uint32_t
vdevc_stmt_streams(const struct vdevc_stmt *s, unsigned nr_streams)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < nr_streams && i < VDEVC_MAX_STREAMS; i++) {
        const struct walk w = {.expr = changes_stream, .arg = (int)i};
        if (stmt_any(&w, s))
            m |= UINT32_C(1) << i;
    }
    return m;
}

/* The streams a proc changes, its callees' included: worked out once
 * (procs do not recurse). */
static uint32_t
proc_streams(const struct vdevc_proc *p)
{
    struct vdevc_proc *q = (struct vdevc_proc *)p;
    if (!q->streams_known) {
        q->streams = vdevc_stmt_streams(p->body, VDEVC_MAX_STREAMS);
        q->streams_known = true;
    }
    return q->streams;
}

/* Is local `slot` read by s? */
bool
vdevc_stmt_reads_local(const struct vdevc_stmt *s, int slot)
{
    const struct walk w = {.expr = is_local, .arg = slot};
    return stmt_any(&w, s);
}

/* ------------------------------------------------------------ statements */

static const char *
storage_name(const struct vdevc_expr *x, uint64_t *n)
{
    if (x->ref == REF_BUFFER) {
        const struct vdevc_var *v = x->sym;
        *n = v->len;
        return v->name;
    }
    *n = vdevc_ref_reg(x)->n;
    return vdevc_ref_reg(x)->cname;
}

/* An element store: the index first, the value only when it is in
 * range. */
static void
emit_indexed_store(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    const struct vdevc_expr *x = s->lhs;
    uint64_t n;
    const char *name = storage_name(x, &n);
    const struct vdevc_expr *idx = x->idx;
    if (idx->kind == E_NUM) {
        if (idx->num < n)
            vdevc_emit_store(e, x,
                             vdevc_emit_strf(e, "d->s.%s[%llu]", name,
                                             (unsigned long long)idx->num),
                             s->rhs, s->op, ind);
        return;
    }
    if (idx->ref == REF_INDEX && e->index_max < n) {
        vdevc_emit_store(e, x,
                         vdevc_emit_strf(e, "d->s.%s[%s]", name, e->index),
                         s->rhs, s->op, ind);
        return;
    }
    unsigned k = ++e->temps;
    L(ind, "{");
    L(ind + 1, "uint64_t t%u = %s;", k, vdevc_emit_expr(e, idx));
    L(ind + 1, "if (t%u < %llu)", k, (unsigned long long)n);
    vdevc_emit_store(e, x, vdevc_emit_strf(e, "d->s.%s[t%u]", name, k), s->rhs,
                     s->op, ind + 2);
    L(ind, "}");
}

static void
emit_assign(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    const struct vdevc_expr *x = s->lhs;
    const char *place;
    switch (x->ref) {
    case REF_LOCAL:
        place = vdevc_emit_strf(e, "l_%s", x->name);
        break;
    case REF_VAR:
        place = vdevc_emit_strf(e, "d->s.%s", vdevc_ref_var(x)->name);
        break;
    default:
        if (x->idx) {
            emit_indexed_store(e, s, ind);
            return;
        }
        place = vdevc_emit_strf(e, "d->s.%s", vdevc_ref_reg(x)->cname);
        break;
    }
    vdevc_emit_store(e, x, place, s->rhs, s->op, ind);
}

static void
emit_dma(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    bool rd = strcmp(s->name, "read") == 0;
    const struct vdevc_expr *buf = rd ? s->lhs : s->rhs;
    const struct vdevc_expr *addr = rd ? s->rhs : s->lhs;
    const char *v = vdevc_ref_var(buf)->name;
    L(ind, "vdev_dma_buf(dev, %s, d->s.%s, sizeof(d->s.%s), %s, %s, %s);",
      rd ? "false" : "true", v, v,
      buf->idx ? vdevc_emit_expr(e, buf->idx) : "0", vdevc_emit_expr(e, addr),
      vdevc_emit_expr(e, s->third));
}

/* A local nothing reads is still evaluated (it may call C). */
static void
emit_let(struct vdevc_emit *e, const struct vdevc_stmt *s,
         const struct vdevc_stmt *scope, int ind)
{
    L(ind, "uint64_t l_%s = %s;", s->name, vdevc_emit_expr(e, s->rhs));
    if (!vdevc_stmt_reads_local(scope, s->local))
        L(ind, "(void)l_%s;", s->name);
}

static void emit_stmt_in(struct vdevc_emit *e, const struct vdevc_stmt *s,
                         const struct vdevc_stmt *scope, int ind);
static void emit_body(struct vdevc_emit *e, const struct vdevc_stmt *s,
                      int ind);

/* for VAR in FROM .. TO [max N]: both ends are taken once, before the
 * first iteration; a bound the ends do not give counts iterations. */
static void
emit_for(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    const struct vdevc_loop *l = s->loop;
    const char *v = vdevc_emit_strf(e, "l_%s", l->var);
    const char *from = vdevc_emit_expr(e, s->lhs);
    if (l->constant) {
        L(ind, "for (uint64_t %s = %s; %s < %llu; %s++) {", v, from, v,
          (unsigned long long)(s->lhs->num + l->bound), v);
    } else {
        unsigned k = ++e->temps;
        char *init =
            vdevc_emit_strf(e, "t%u = %s, ", k, vdevc_emit_expr(e, s->rhs));
        const char *end = vdevc_emit_strf(e, "t%u", k);
        const char *count;
        if (s->lhs->kind == E_NUM && s->lhs->num <= UINT64_MAX - l->bound) {
            init = vdevc_emit_strf(e, "%s%s = %s", init, v, from);
            count =
                vdevc_emit_strf(e, "%s < %llu", v,
                                (unsigned long long)(s->lhs->num + l->bound));
        } else {
            unsigned f = ++e->temps;
            init =
                vdevc_emit_strf(e, "t%u = %s, %s%s = t%u", f, from, init, v, f);
            count = vdevc_emit_strf(e, "%s - t%u < %llu", v, f,
                                    (unsigned long long)l->bound);
        }
        L(ind, "for (uint64_t %s; %s < %s && %s; %s++) {", init, v, end, count,
          v);
    }
    emit_body(e, s->then_s, ind + 1);
    L(ind, "}");
}

static void
emit_return(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    if (!s->lhs)
        L(ind, "return;");
    else
        L(ind, "return %s;", vdevc_emit_arg(e, s->lhs, e->result_bits));
}

static void
emit_body(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    for (unsigned i = 0; i < s->body.n; i++)
        if (s->body.v[i])
            emit_stmt_in(e, s->body.v[i], s, ind);
}

/* if / else if / else, one brace level. */
static void
emit_if(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    L(ind, "if (%s) {", vdevc_emit_cond(e, s->lhs));
    for (;;) {
        emit_body(e, s->then_s, ind + 1);
        s = s->else_s;
        if (!s)
            break;
        if (s->kind != S_IF) {
            L(ind, "} else {");
            if (s->kind == S_BLOCK)
                emit_body(e, s, ind + 1);
            else
                emit_stmt_in(e, s, s, ind + 1);
            break;
        }
        L(ind, "} else if (%s) {", vdevc_emit_cond(e, s->lhs));
    }
    L(ind, "}");
}

static void
emit_stmt_in(struct vdevc_emit *e, const struct vdevc_stmt *s,
             const struct vdevc_stmt *scope, int ind)
{
    switch (s->kind) {
    case S_ASSIGN:
        emit_assign(e, s, ind);
        break;
    case S_IF:
        emit_if(e, s, ind);
        break;
    case S_LET:
        emit_let(e, s, scope, ind);
        break;
    case S_RAISE:
    case S_LOWER:
        L(ind, "vdev_irq_set_level(dev, %s, %s);",
          vdevc_emit_arg(e, s->lhs, 32), s->kind == S_RAISE ? "true" : "false");
        break;
    case S_NOTIFY:
        L(ind, "vdev_irq_send(dev, %s);", vdevc_emit_arg(e, s->lhs, 32));
        break;
    case S_DMA:
        emit_dma(e, s, ind);
        break;
    case S_CALL:
        L(ind, "%s;", vdevc_emit_expr(e, s->lhs));
        break;
    case S_BLOCK:
        L(ind, "{");
        emit_body(e, s, ind + 1);
        L(ind, "}");
        break;
    case S_FOR:
        emit_for(e, s, ind);
        break;
    case S_RETURN:
        emit_return(e, s, ind);
        break;
    case S_BREAK:
        L(ind, "break;");
        break;
    case S_CONTINUE:
        L(ind, "continue;");
        break;
    case S_RESET:
        L(ind, "vdev_request_reset(dev);");
        break;
    case S_START:
    case S_STOP:
    case S_EMIT:
    case S_WORD:
        vdevc_emit_host_stmt(e, s, ind);
        break;
    }
}

void
vdevc_emit_stmt(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    if (s->kind == S_BLOCK)
        emit_body(e, s, ind);
    else
        emit_stmt_in(e, s, s, ind);
}
