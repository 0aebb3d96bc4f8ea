/* Semantic checks of procedures: names, parameter and result widths, the
 * bodies (sema_stmt.c), and the call graph: acyclic (recursive-proc names
 * the cycle), each proc summed up with its callees (the interrupts its
 * writes feed, whether it reaches C) for the hooks that call it, and
 * which procs a hook reaches (the others are not emitted). */
#include <string.h>
#include <talloc.h>

#include "vdevc.h"

/* ": N" is 1..64 bits; absent is 0 (a parameter: 64 bits). */
static unsigned
check_width(struct vdevc_unit *u, uint64_t w, struct vdevc_loc loc,
            const char *what)
{
    if (w <= 64)
        return (unsigned)w;
    vdevc_error(u->diag, loc, "bad-width", "%s width must be 1..64 bits", what);
    return 64;
}

static void
check_decl(struct vdevc_unit *u, struct vdevc_proc *p)
{
    vdevc_sym_define(u, p->name, SYM_PROC, p, p->hdr.loc, "proc");
    p->width = check_width(u, p->result, p->hdr.loc, "a proc's result");
    for (unsigned i = 0; i < p->params.n; i++) {
        struct vdevc_param *a = p->params.v[i];
        a->width = check_width(u, a->width, a->loc, "a parameter's");
        if (a->width == 0)
            a->width = 64;
        for (unsigned k = 0; k < i; k++)
            if (strcmp(vdevc_param_at(&p->params, k)->name, a->name) == 0)
                vdevc_error(u->diag, a->loc, "duplicate-name",
                            "parameter '%s' declared twice", a->name);
    }
}

void
vdevc_sema_proc_decls(struct vdevc_unit *u)
{
    for (unsigned i = 0; i < u->dev->procs.n; i++) {
        vdevc_proc_at(&u->dev->procs, i)->id = i;
        check_decl(u, u->dev->procs.v[i]);
    }
}

/* ------------------------------------------------------------ call graph */

/* An explicit stack (a chain of a million procs must not overflow the C
 * one): each entry a proc and the next callee to look at. */
struct walk {
    struct vdevc_unit *u;
    struct vdevc_proc **stack;
    unsigned *next;
    unsigned depth;
};

/* "a -> b -> a": the cycle from `p` on the stack (a long one with its
 * middle left out). */
static char *
cycle_text(void *ctx, const struct walk *w, const struct vdevc_proc *p)
{
    unsigned from = w->depth;
    while (from > 0 && w->stack[from - 1] != p)
        from--;
    from = from ? from - 1 : 0;
    unsigned n = w->depth - from;
    char *s = talloc_strdup(ctx, "");
    for (unsigned i = from; i < w->depth; i++) {
        if (n > 8 && i == from + 3) {
            s = talloc_asprintf_append(s, "... (%u procs) -> ", n - 6);
            i = w->depth - 4;
            continue;
        }
        s = talloc_asprintf_append(s, "%s -> ", w->stack[i]->name);
    }
    return talloc_asprintf_append(s, "%s", p->name);
}

static void
report_cycle(struct walk *w, struct vdevc_proc *p, struct vdevc_expr *call)
{
    struct vdevc_proc *c = call->sym;
    char *cycle = cycle_text(w->u, w, c);
    vdevc_error(w->u->diag, call->loc, "recursive-proc",
                "proc '%s' calls '%s' again: procs may not recurse (%s)",
                p->name, c->name, cycle);
    vdevc_note(w->u->diag, c->hdr.loc, "'%s' declared here", c->name);
    talloc_free(cycle);
}

static void
push(struct walk *w, struct vdevc_proc *p)
{
    p->visiting = true;
    w->stack[w->depth] = p;
    w->next[w->depth++] = 0;
}

/* Depth first; a callee still on the stack closes a cycle. A proc is
 * summed up (its callees' interrupts and C calls) when it is left, so
 * each callee's summary is complete by then. */
static void
visit(struct walk *w, struct vdevc_proc *root)
{
    push(w, root);
    while (w->depth > 0) {
        struct vdevc_proc *p = w->stack[w->depth - 1];
        unsigned *k = &w->next[w->depth - 1];
        if (*k < p->callees.n) {
            struct vdevc_expr *call = p->callees.v[(*k)++];
            struct vdevc_proc *c = call->sym;
            if (c->visiting)
                report_cycle(w, p, call);
            else if (!c->checked)
                push(w, c);
            continue;
        }
        for (unsigned i = 0; i < p->callees.n; i++) {
            struct vdevc_proc *c = ((struct vdevc_expr *)p->callees.v[i])->sym;
            p->calls |= c->calls;
            p->irqs |= c->irqs;
        }
        p->visiting = false;
        p->checked = true;
        w->depth--;
    }
}

void
vdevc_sema_proc_bodies(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    if (d->procs.n == 0)
        return;
    for (unsigned i = 0; i < d->procs.n; i++)
        vdevc_sema_proc_body(u, d->procs.v[i]);
    struct walk w = {u, talloc_array(u, struct vdevc_proc *, d->procs.n),
                     talloc_array(u, unsigned, d->procs.n), 0};
    for (unsigned i = 0; i < d->procs.n; i++)
        if (!vdevc_proc_at(&d->procs, i)->checked)
            visit(&w, d->procs.v[i]);
    talloc_free(w.stack);
    talloc_free(w.next);
}

/* Hooks marked the procs they call: their callees are used too (a work
 * list of procs newly marked). */
void
vdevc_sema_proc_usage(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    struct vdevc_proc **todo =
        talloc_array(u, struct vdevc_proc *, d->procs.n + 1);
    unsigned n = 0;
    for (unsigned i = 0; i < d->procs.n; i++)
        if (vdevc_proc_at(&d->procs, i)->used)
            todo[n++] = d->procs.v[i];
    while (n > 0) {
        struct vdevc_proc *p = todo[--n];
        for (unsigned i = 0; i < p->callees.n; i++) {
            struct vdevc_proc *c = ((struct vdevc_expr *)p->callees.v[i])->sym;
            if (!c->used) {
                c->used = true;
                todo[n++] = c;
            }
        }
    }
    talloc_free(todo);
}
