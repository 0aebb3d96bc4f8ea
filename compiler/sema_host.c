/* Semantic checks of time and the host side: timer, fifo, stream and event
 * declarations, and what statements and expressions do with them (start,
 * stop, emit, now, a timer's running/remaining, a FIFO's members and
 * methods). sema_stmt.c resolves everything else and calls in here. */
#include <string.h>
#include <talloc.h>

#include "suggest.h"
#include "vdevc.h"

/* ------------------------------------------------------------ declarations */

/* libvdev names timers, streams and events by their .vdev name, and
 * takes names of up to 64 bytes (identifiers have no other byte it
 * refuses). */
#define HOST_NAME_MAX 64u

static void
check_name(struct vdevc_unit *u, const struct vdevc_node *n, const char *name,
           const char *what)
{
    if (strlen(name) > HOST_NAME_MAX)
        vdevc_error(u->diag, n->loc, "bad-name",
                    "%s name '%s' is longer than %u bytes", what, name,
                    HOST_NAME_MAX);
}

/* The hooks a declaration may have, each at most once. */
static void
take_hooks(struct vdevc_unit *u, struct vdevc_vec *hooks,
           const char *const *names, struct vdevc_hook **slots,
           const char *what)
{
    for (unsigned i = 0; i < hooks->n; i++) {
        struct vdevc_hook *h = hooks->v[i];
        unsigned k = 0;
        while (names[k] && strcmp(names[k], h->when) != 0)
            k++;
        if (!names[k]) {
            vdevc_error_unknown(u->diag, h->hdr.loc, "bad-hook",
                                vdevc_suggest_list(h->when, names),
                                "%s has no 'on %s' hook", what, h->when);
            continue;
        }
        if (slots[k]) {
            vdevc_error(u->diag, h->hdr.loc, "duplicate-name",
                        "second 'on %s' hook", h->when);
            vdevc_note(u->diag, slots[k]->hdr.loc, "first one here");
            continue;
        }
        slots[k] = h;
    }
}

static void
check_timer(struct vdevc_unit *u, struct vdevc_timer *t)
{
    static const char *const names[] = {"expire", NULL};
    vdevc_sym_define(u, t->name, SYM_TIMER, t, t->hdr.loc, "timer");
    check_name(u, &t->hdr, t->name, "timer");
    t->doc = vdevc_attr_doc(t, &t->attrs);
    vdevc_attr_check(u, &t->attrs, "a timer");
    take_hooks(u, &t->hooks, names, &t->on_expire, "a timer");
}

/* Depth and element width, for declared FIFOs and streams' alike. */
static bool
fifo_depth(struct vdevc_unit *u, struct vdevc_loc loc, uint64_t v,
           uint64_t *out)
{
    if (v < 1 || v > VDEVC_MAX_FIFO) {
        vdevc_error(u->diag, loc, "bad-size", "FIFO depth must be 1..%u",
                    VDEVC_MAX_FIFO);
        return false;
    }
    *out = v;
    return true;
}

static void
check_fifo(struct vdevc_unit *u, struct vdevc_fifo *f)
{
    vdevc_sym_define(u, f->name, SYM_FIFO, f, f->hdr.loc, "fifo");
    f->qname = f->cname = f->name;
    f->doc = vdevc_attr_doc(f, &f->attrs);
    f->since = vdevc_attr_since(u, &f->attrs);
    f->nomigrate = vdevc_attr_flag(&f->attrs, "nomigrate");
    uint64_t depth;
    f->depth = 1;
    if (vdevc_const_eval(u, f->size, &depth))
        fifo_depth(u, f->size->loc, depth, &f->depth);
    struct vdevc_enum *etype;
    f->width = vdevc_attr_width(u, &f->attrs, &etype);
    if (f->width == 0)
        f->width = 8;
    if (etype) {
        struct vdevc_attr *a = vdevc_attr_find(&f->attrs, A_TYPE, NULL);
        vdevc_error(u->diag, a->loc, "unknown-attribute",
                    "a fifo holds numbers, not enum '%s' values", etype->name);
    }
    vdevc_attr_check(u, &f->attrs, "a fifo");
    vdevc_vec_push(u->dev, &u->dev->fifos, f);
}

/* A stream's rx or tx: an 8-bit FIFO named "stream.rx". */
static struct vdevc_fifo *
stream_fifo(struct vdevc_unit *u, struct vdevc_stream *s, const char *dir,
            const char *doc)
{
    struct vdevc_fifo *f = talloc_zero(s, struct vdevc_fifo);
    uint64_t depth = 16;
    f->hdr = (struct vdevc_node){N_FIFO, s->hdr.loc};
    f->name = dir;
    if (vdevc_attr_value(u, &s->attrs, dir, &depth)) {
        /* Diagnostics about it point at "rx N" */
        f->hdr.loc = vdevc_attr_find(&s->attrs, A_VALUE, dir)->loc;
        fifo_depth(u, f->hdr.loc, depth, &depth);
    }
    f->depth = depth <= VDEVC_MAX_FIFO && depth > 0 ? depth : 1;
    f->width = 8;
    f->qname = talloc_asprintf(f, "%s.%s", s->name, dir);
    f->cname = talloc_asprintf(f, "%s_%s", s->name, dir);
    f->doc = doc;
    f->stream = s;
    vdevc_sym_define(u, f->qname, SYM_FIFO, f, s->hdr.loc, "fifo");
    struct vdevc_sym *old = vdevc_sym_get(u->syms, f->cname);
    if (old) {
        vdevc_error(u->diag, s->hdr.loc, "duplicate-name",
                    "stream '%s' keeps its %s FIFO in the device state as "
                    "'%s', which is taken",
                    s->name, dir, f->cname);
        vdevc_note(u->diag, old->loc, "'%s' declared here", old->name);
    } else {
        vdevc_sym_add(u->syms, f->cname, SYM_CNAME, f, s->hdr.loc);
    }
    vdevc_vec_push(u->dev, &u->dev->fifos, f);
    return f;
}

static void
check_stream(struct vdevc_unit *u, struct vdevc_stream *s, unsigned id)
{
    static const char *const names[] = {"receive", "transmit", NULL};
    struct vdevc_hook *hooks[2] = {NULL, NULL};
    vdevc_sym_define(u, s->name, SYM_STREAM, s, s->hdr.loc, "stream");
    check_name(u, &s->hdr, s->name, "stream");
    s->id = id;
    s->doc = vdevc_attr_doc(s, &s->attrs);
    unsigned since = vdevc_attr_since(u, &s->attrs);
    bool nomigrate = vdevc_attr_flag(&s->attrs, "nomigrate");
    s->rx = stream_fifo(u, s, "rx", "bytes from the host");
    s->tx = stream_fifo(u, s, "tx", "bytes to the host");
    s->rx->since = s->tx->since = since;
    s->rx->nomigrate = s->tx->nomigrate = nomigrate;
    vdevc_attr_check(u, &s->attrs, "a stream");
    take_hooks(u, &s->hooks, names, hooks, "a stream");
    s->on_receive = hooks[0];
    s->on_transmit = hooks[1];
    if (id == VDEVC_MAX_STREAMS)
        vdevc_error(u->diag, s->hdr.loc, "too-many-streams",
                    "more than %u streams", VDEVC_MAX_STREAMS);
}

static void
check_event(struct vdevc_unit *u, struct vdevc_event *e)
{
    vdevc_sym_define(u, e->name, SYM_EVENT, e, e->hdr.loc, "event");
    check_name(u, &e->hdr, e->name, "event");
    e->doc = vdevc_attr_doc(e, &e->attrs);
    vdevc_attr_check(u, &e->attrs, "an event");
}

void
vdevc_sema_host_decls(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    /* Declared FIFOs are collected into d->fifos as they are checked,
     * streams' after them: move the declarations out first. */
    struct vdevc_vec fifos = d->fifos;
    d->fifos = (struct vdevc_vec){0};
    for (unsigned i = 0; i < d->timers.n; i++) {
        struct vdevc_timer *t = d->timers.v[i];
        t->id = i;
        check_timer(u, t);
        if (i == VDEVC_MAX_TIMERS)
            vdevc_error(u->diag, t->hdr.loc, "too-many-timers",
                        "more than %u timers", VDEVC_MAX_TIMERS);
    }
    for (unsigned i = 0; i < fifos.n; i++)
        check_fifo(u, fifos.v[i]);
    talloc_free(fifos.v);
    for (unsigned i = 0; i < d->streams.n; i++)
        check_stream(u, d->streams.v[i], i);
    for (unsigned i = 0; i < d->events.n; i++)
        check_event(u, d->events.v[i]);
}

/* ------------------------------------------------------------ expressions */

bool
vdevc_host_object(enum vdevc_sym_kind k)
{
    return k == SYM_TIMER || k == SYM_FIFO || k == SYM_STREAM;
}

static const char *const timer_members[] = {"running", "remaining", NULL};
static const char *const fifo_members[] = {"count", "full", "empty", "depth",
                                           NULL};
static const char *const fifo_methods[] = {"push", "pop", "peek", "clear",
                                           NULL};
static const char *const stream_members[] = {"rx", "tx", NULL};

static unsigned
word_index(const char *const *words, const char *w)
{
    unsigned k = 0;
    while (words[k] && strcmp(words[k], w) != 0)
        k++;
    return k;
}

static bool
unknown_word(struct vdevc_unit *u, struct vdevc_loc loc, const char *w,
             const char *const *words, const char *what, const char *name)
{
    vdevc_error_unknown(u->diag, loc, "unknown-name",
                        vdevc_suggest_list(w, words), "%s '%s' has no '%s'",
                        what, name, w);
    return false;
}

/* Time moves without an access: an interrupt level cannot follow it. */
static bool
no_time_in_irq(struct vdevc_unit *u, const struct vdevc_host_ctx *c,
               struct vdevc_loc loc, const char *what)
{
    if (c->irq_bit == 0)
        return true;
    vdevc_error(u->diag, loc, "type-mismatch",
                "interrupt expressions cannot read %s: it changes without "
                "an access",
                what);
    vdevc_help(u->diag, "keep what the interrupt shows in a register or "
                        "variable, set by the timer's 'on expire'");
    return false;
}

bool
vdevc_host_now(struct vdevc_unit *u, const struct vdevc_host_ctx *c,
               struct vdevc_expr *e)
{
    if (!no_time_in_irq(u, c, e->loc, "'now'"))
        return false;
    e->ref = REF_NOW;
    e->width = 64;
    u->dev->uses_now = true;
    return true;
}

static bool
timer_member(struct vdevc_unit *u, const struct vdevc_host_ctx *c,
             struct vdevc_timer *t, struct vdevc_expr *e)
{
    unsigned k = word_index(timer_members, e->name);
    if (!timer_members[k])
        return unknown_word(u, e->loc, e->name, timer_members, "timer",
                            t->name);
    if (!no_time_in_irq(u, c, e->loc, "a timer"))
        return false;
    e->ref = REF_TIMER;
    e->sym = t;
    e->width = k == 0 ? 1 : 64;
    return true;
}

static bool
fifo_member(struct vdevc_unit *u, const struct vdevc_host_ctx *c,
            struct vdevc_fifo *f, struct vdevc_expr *e)
{
    unsigned k = word_index(fifo_members, e->name);
    if (!fifo_members[k]) {
        if (fifo_methods[word_index(fifo_methods, e->name)]) {
            vdevc_error_fix(u->diag, e->loc, "type-mismatch",
                            talloc_asprintf(u, "%s()", e->name),
                            "'%s' is a method: call it", e->name);
            return false;
        }
        return unknown_word(u, e->loc, e->name, fifo_members, "fifo", f->qname);
    }
    f->used = true;
    f->irqs |= c->irq_bit;
    e->ref = REF_FIFO;
    e->sym = f;
    if (k == 3) { /* depth: a constant */
        e->ref = REF_CONST;
        e->num = f->depth;
        e->width = vdevc_bits_needed(f->depth);
        return true;
    }
    e->width = k == 0 ? vdevc_bits_needed(f->depth) : 1;
    return true;
}

bool
vdevc_host_member(struct vdevc_unit *u, const struct vdevc_host_ctx *c,
                  const struct vdevc_sym *obj, struct vdevc_expr *e)
{
    switch (obj->kind) {
    case SYM_TIMER:
        return timer_member(u, c, obj->ptr, e);
    case SYM_FIFO:
        return fifo_member(u, c, obj->ptr, e);
    default: /* SYM_STREAM: "s.rx" is a FIFO symbol, anything else is not */
        return unknown_word(u, e->loc, e->name, stream_members, "stream",
                            obj->name);
    }
}

/* The FIFO changes: interrupts that read it follow the hook. */
static void
note_change(const struct vdevc_host_ctx *c, const struct vdevc_fifo *f)
{
    if (c->hook)
        c->hook->irqs |= f->irqs;
}

static bool
arity(struct vdevc_unit *u, struct vdevc_expr *e, unsigned n)
{
    if (e->args.n == n)
        return true;
    vdevc_error(u->diag, e->loc, "call-arguments",
                "'%s' takes %u argument%s, not %u", e->name, n,
                n == 1 ? "" : "s", e->args.n);
    return false;
}

bool
vdevc_host_method(struct vdevc_unit *u, const struct vdevc_host_ctx *c,
                  const struct vdevc_sym *obj, struct vdevc_expr *e, bool value)
{
    if (!obj || obj->kind != SYM_FIFO) {
        char *what = vdevc_expr_text(u, e->lhs);
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "'%s' has no methods: only FIFOs have (%s.%s(...))", what,
                    what, e->name);
        return false;
    }
    struct vdevc_fifo *f = obj->ptr;
    unsigned k = word_index(fifo_methods, e->name);
    if (!fifo_methods[k]) {
        if (fifo_members[word_index(fifo_members, e->name)])
            vdevc_error(u->diag, e->loc, "type-mismatch",
                        "'%s' is not a method: write '%s.%s'", e->name,
                        f->qname, e->name);
        else
            unknown_word(u, e->loc, e->name, fifo_methods, "fifo", f->qname);
        return false;
    }
    if (c->irq_bit != 0) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "interrupt expressions cannot call methods");
        return false;
    }
    f->used = true;
    e->ref = REF_FIFO;
    e->sym = f;
    bool gives = k == 1 || k == 2; /* pop, peek */
    if (!arity(u, e, k == 0 ? 1 : 0))
        return false;
    if (value && !gives) {
        vdevc_error(u->diag, e->loc, "type-mismatch",
                    "'%s.%s()' gives no value", f->qname, e->name);
        return false;
    }
    e->width = gives ? f->width : 0;
    if (k != 2)
        note_change(c, f);
    if (k == 0)
        return vdevc_expr_fits(u, e->args.v[0], f->width, f->qname);
    return true;
}

/* ------------------------------------------------------------ statements */

static const char *const verbs[] = {"start", "stop", "emit", NULL};
static const char *const modes[] = {"after", "every", NULL};
static const char *const units[] = {"ns", "us", "ms", "s", NULL};
static const uint64_t unit_ns[] = {1, 1000, 1000000, 1000000000};

/* The declaration a statement's operand names: a "timer" or an "event". */
static void *
operand(struct vdevc_unit *u, struct vdevc_expr *x, enum vdevc_sym_kind k,
        const char *noun)
{
    struct vdevc_sym *sym = vdevc_sym_get(u->syms, x->name);
    if (sym && sym->kind == k)
        return sym->ptr;
    const char *best = vdevc_sym_nearest(u->syms, x->name, "", 1u << k, NULL);
    if (sym)
        vdevc_error_unknown(u->diag, x->loc, "type-mismatch", best,
                            "'%s' is not a%s %s", x->name,
                            noun[0] == 'e' ? "n" : "", noun);
    else
        vdevc_error_unknown(u->diag, x->loc, "unknown-name", best,
                            "unknown %s '%s'", noun, x->name);
    return NULL;
}

static void
check_start(struct vdevc_unit *u, struct vdevc_stmt *st)
{
    struct vdevc_timer *t = operand(u, st->lhs, SYM_TIMER, "timer");
    unsigned m = word_index(modes, st->mode->name);
    unsigned k = word_index(units, st->third->name);
    if (!modes[m])
        vdevc_error_unknown(u->diag, st->mode->loc, "bad-timer",
                            vdevc_suggest_list(st->mode->name, modes),
                            "'%s': write 'after' (once) or 'every' "
                            "(periodic)",
                            st->mode->name);
    if (!units[k])
        vdevc_error_unknown(u->diag, st->third->loc, "bad-unit",
                            vdevc_suggest_list(st->third->name, units),
                            "'%s' is not a time unit (ns, us, ms, s)",
                            st->third->name);
    if (!t || !modes[m] || !units[k])
        return;
    st->lhs->ref = REF_TIMER;
    st->lhs->sym = t;
    t->started = true;
    st->op = (int)m; /* 0 after, 1 every */
    st->third->num = unit_ns[k];
    if (st->rhs->kind == E_NUM && unit_ns[k] > 1 &&
        st->rhs->num > UINT64_MAX / unit_ns[k])
        vdevc_error(u->diag, st->rhs->loc, "bad-value",
                    "%llu %s is past 2^64 ns: the timer would never fire",
                    (unsigned long long)st->rhs->num, units[k]);
}

/* `start NAME;`, `stop NAME after ...`, `frobnicate x;` */
static void
unknown_statement(struct vdevc_unit *u, struct vdevc_stmt *st)
{
    unsigned v = word_index(verbs, st->name);
    if (v == 0) {
        vdevc_error(u->diag, st->loc, "bad-timer",
                    "'start' needs a delay: start %s after N ms; or start "
                    "%s every N ms;",
                    st->lhs->name, st->lhs->name);
        return;
    }
    if (verbs[v]) {
        vdevc_error(u->diag, st->mode->loc, "syntax-error",
                    "'%s' takes only a name: %s %s;", st->name, st->name,
                    st->lhs->name);
        return;
    }
    vdevc_error_unknown(u->diag, st->loc, "unknown-statement",
                        vdevc_suggest_list(st->name, verbs),
                        "'%s' is not a statement", st->name);
}

void
vdevc_host_stmt(struct vdevc_unit *u, struct vdevc_stmt *st)
{
    switch (st->kind) {
    case S_START:
        check_start(u, st);
        break;
    case S_STOP: {
        struct vdevc_timer *t = operand(u, st->lhs, SYM_TIMER, "timer");
        if (t) {
            st->lhs->ref = REF_TIMER;
            st->lhs->sym = t;
        }
        break;
    }
    case S_EMIT: {
        struct vdevc_event *ev = operand(u, st->lhs, SYM_EVENT, "event");
        if (ev) {
            ev->emitted = true;
            st->lhs->ref = REF_EVENT;
            st->lhs->sym = ev;
        }
        break;
    }
    default:
        unknown_statement(u, st);
        break;
    }
}

/* ------------------------------------------------------------ hooks */

void
vdevc_sema_host_behaviour(struct vdevc_unit *u)
{
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->timers.n; i++) {
        struct vdevc_timer *t = d->timers.v[i];
        if (t->on_expire)
            vdevc_check_device_hook(u, t->on_expire);
    }
    for (unsigned i = 0; i < d->streams.n; i++) {
        struct vdevc_stream *s = d->streams.v[i];
        if (s->on_receive)
            vdevc_check_device_hook(u, s->on_receive);
        if (s->on_transmit)
            vdevc_check_device_hook(u, s->on_transmit);
    }
}
