/* Warnings about what a device declares and never uses: variables no
 * hook or interrupt mentions, functions nobody calls, write-only fields
 * whose value nothing reads. (Usage is marked while sema_stmt.c resolves
 * hooks and interrupt expressions.) */
#include <stdarg.h>
#include <talloc.h>

#include "vdevc.h"

bool
vdevc_warn_once(struct vdevc_unit *u, enum vdevc_warning w,
                struct vdevc_loc loc, const char *fmt, ...)
{
    if (!vdevc_warning_enabled(u->diag, w))
        return false;
    if (!u->warned)
        u->warned = vdevc_symtab_new(u);
    char *key = talloc_asprintf(u->warned, "%d:%d:%d", (int)w, loc.first_line,
                                loc.first_column);
    if (vdevc_sym_add(u->warned, key, SYM_CNAME, NULL, loc)) {
        talloc_free(key);
        return false;
    }
    va_list ap;
    va_start(ap, fmt);
    bool r = vdevc_vwarning(u->diag, loc, w, fmt, ap);
    va_end(ap);
    return r;
}

static void
unused_vars(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->vars.n; i++) {
        struct vdevc_var *v = d->vars.v[i];
        /* An external variable's own hook is its use. */
        if (v->used || v->on_write)
            continue;
        vdevc_warn_once(u, VDEVC_W_UNUSED_VARIABLE, v->hdr.loc,
                        "%s '%s' is never used by a hook or interrupt "
                        "expression",
                        v->buffer ? "buffer" : "variable", v->name);
    }
}

static void
unused_externs(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->externs.n; i++) {
        struct vdevc_extern *x = d->externs.v[i];
        if (!x->used)
            vdevc_warn_once(u, VDEVC_W_UNUSED_FUNCTION, x->hdr.loc,
                            "function '%s' is never called", x->name);
    }
    /* A proc no hook reaches (directly or through other procs) is left
     * out of the C. */
    for (unsigned i = 0; i < d->procs.n; i++) {
        struct vdevc_proc *p = d->procs.v[i];
        if (!p->used)
            vdevc_warn_once(u, VDEVC_W_UNUSED_FUNCTION, p->hdr.loc,
                            "proc '%s' is never called from a hook", p->name);
    }
}

/* Write-only bits the guest cannot read back: unless a hook takes the
 * written value (an 'on write' of the field or its register) or an
 * expression reads it, the write has no effect anyone can observe. */
static bool
unread(const struct vdevc_reg *r, const struct vdevc_field *f)
{
    return f->access == ACC_WO && !f->read && !r->read && !f->on_write &&
           !r->on_write && !f->external && !r->external;
}

static void
unread_fields(struct vdevc_unit *u)
{
    if (!vdevc_warning_enabled(u->diag, VDEVC_W_UNREAD_FIELD))
        return;
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->regs.n; i++) {
        struct vdevc_reg *r = d->regs.v[i];
        for (unsigned k = 0; k < r->fields.n; k++) {
            struct vdevc_field *f = r->fields.v[k];
            if (!unread(r, f))
                continue;
            bool warned =
                f->implicit
                    ? vdevc_warn_once(u, VDEVC_W_UNREAD_FIELD, f->hdr.loc,
                                      "write-only register '%s' is never "
                                      "read: what the guest writes is lost",
                                      r->qname)
                    : vdevc_warn_once(u, VDEVC_W_UNREAD_FIELD, f->hdr.loc,
                                      "write-only field '%s.%s' is never "
                                      "read: what the guest writes is lost",
                                      r->qname, f->name);
            if (warned)
                vdevc_help(u->diag, "read it in a hook or an interrupt "
                                    "expression, give it an 'on write' "
                                    "hook, or make it rw");
        }
    }
}

/* Timers never started, events never emitted, FIFOs nothing touches (a
 * stream's are the host's to use). */
static void
unused_host(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->timers.n; i++) {
        struct vdevc_timer *t = d->timers.v[i];
        if (!t->started)
            vdevc_warn_once(u, VDEVC_W_UNUSED_TIMER, t->hdr.loc,
                            "timer '%s' is never started", t->name);
    }
    for (unsigned i = 0; i < d->events.n; i++) {
        struct vdevc_event *e = d->events.v[i];
        if (!e->emitted)
            vdevc_warn_once(u, VDEVC_W_UNUSED_EVENT, e->hdr.loc,
                            "event '%s' is never emitted", e->name);
    }
    for (unsigned i = 0; i < d->fifos.n; i++) {
        struct vdevc_fifo *f = d->fifos.v[i];
        if (!f->used && !f->stream)
            vdevc_warn_once(u, VDEVC_W_UNUSED_VARIABLE, f->hdr.loc,
                            "fifo '%s' is never used by a hook or interrupt "
                            "expression",
                            f->name);
    }
}

void
vdevc_sema_warnings(struct vdevc_unit *u)
{
    unused_vars(u);
    unused_host(u);
    unused_externs(u);
    unread_fields(u);
}
