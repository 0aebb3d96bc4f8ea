/* Semantic checks of the declarations everything else refers to: identity
 * properties, enums, extern functions and device state. */
#include <string.h>
#include <talloc.h>

#include "suggest.h"
#include "vdevc.h"

struct prop_rule {
    const char *name;
    uint64_t max;
    size_t off;
};

static const struct prop_rule prop_rules[] = {
    {"vendor", 0xffff, offsetof(struct vdevc_device, vendor)},
    {"device", 0xffff, offsetof(struct vdevc_device, device)},
    {"subsystem_vendor", 0xffff, offsetof(struct vdevc_device, subsys_vendor)},
    {"subsystem", 0xffff, offsetof(struct vdevc_device, subsys)},
    {"class", 0xffffff, offsetof(struct vdevc_device, class_code)},
    {"revision", 0xff, offsetof(struct vdevc_device, revision)},
};

static void
check_intx(struct vdevc_unit *u, struct vdevc_prop *p)
{
    struct vdevc_device *d = u->dev;
    const char *n = p->value->kind == E_NAME ? p->value->name : "";
    if (strlen(n) == 1 && n[0] >= 'A' && n[0] <= 'D') {
        d->intx = (unsigned)(n[0] - 'A' + 1);
        return;
    }
    vdevc_error(u->diag, p->value->loc, "bad-value",
                "interrupt pin must be A, B, C or D");
}

static void
check_prop(struct vdevc_unit *u, struct vdevc_prop *p, void **seen)
{
    static const char *const names[] = {
        "vendor",    "device", "subsystem_vendor",
        "subsystem", "class",  "revision",
        "version",   "intx",   "doc",
    };
    unsigned k;
    for (k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(names[k], p->name) == 0)
            break;
    if (k == sizeof names / sizeof names[0]) {
        /* Or a keyword misspelt before something that parses as a value
         * ("bra 0;", "interupt 0 = x;"). */
        static const char *const words[] = {
            "vendor",    "device",     "subsystem_vendor",
            "subsystem", "class",      "revision",
            "version",   "intx",       "doc",
            "enum",      "extern",     "var",
            "buffer",    "block",      "bar",
            "interrupt", "capability", NULL,
        };
        struct vdevc_loc loc = p->hdr.loc;
        loc.last_line = loc.first_line;
        loc.last_column = loc.first_column + (int)strlen(p->name);
        vdevc_error_unknown(u->diag, loc, "unknown-property",
                            vdevc_suggest_list(p->name, words),
                            "unknown device property '%s'", p->name);
        return;
    }
    if (seen[k]) {
        vdevc_error(u->diag, p->hdr.loc, "duplicate-name", "'%s' is set twice",
                    p->name);
        vdevc_note(u->diag, ((struct vdevc_prop *)seen[k])->hdr.loc,
                   "first set here");
        return;
    }
    seen[k] = p;
    if (strcmp(p->name, "intx") == 0) {
        check_intx(u, p);
        return;
    }
    if (strcmp(p->name, "doc") == 0) {
        vdevc_error(u->diag, p->hdr.loc, "bad-value",
                    "write documentation as a string after the device name");
        return;
    }
    uint64_t v;
    if (!vdevc_const_eval(u, p->value, &v))
        return;
    if (strcmp(p->name, "version") == 0) {
        if (v < 1 || v > 0xffffffffu)
            vdevc_error(u->diag, p->value->loc, "bad-value",
                        "version must be 1..4294967295");
        else
            u->dev->version = (unsigned)v;
        return;
    }
    const struct prop_rule *r = &prop_rules[k];
    if (v > r->max) {
        vdevc_error(u->diag, p->value->loc, "bad-value",
                    "%s 0x%llx does not fit in %u bits", p->name,
                    (unsigned long long)v, vdevc_bits_needed(r->max));
        return;
    }
    *(uint64_t *)((char *)u->dev + r->off) = v;
}

static void
check_props(struct vdevc_unit *u, struct vdevc_vec *props)
{
    void *seen[9] = {0};
    u->dev->version = 1;
    for (unsigned i = 0; i < props->n; i++)
        check_prop(u, props->v[i], seen);
    if (!seen[0] || !seen[1])
        vdevc_error(u->diag, u->dev->loc, "missing-identity",
                    "device '%s' needs a vendor and a device id", u->dev->name);
}

static void
check_enum(struct vdevc_unit *u, struct vdevc_enum *e)
{
    vdevc_sym_define(u, e->name, SYM_ENUM, e, e->hdr.loc, "enum");
    uint64_t max = 0;
    for (unsigned i = 0; i < e->members.n; i++) {
        struct vdevc_enum_member *m = e->members.v[i];
        char *q = talloc_asprintf(u, "%s.%s", e->name, m->name);
        vdevc_sym_define(u, q, SYM_ENUMC, m, m->loc, "enum value");
        if (vdevc_const_eval(u, m->value, &m->v) && m->v > max)
            max = m->v;
    }
    e->width = vdevc_bits_needed(max);
}

static const char *const types[] = {"bool", "u8",   "u16", "u32",
                                    "u64",  "void", NULL};

static bool
known_type(const char *t, bool allow_void)
{
    if (allow_void && strcmp(t, "void") == 0)
        return true;
    for (unsigned i = 0; i < 5; i++)
        if (strcmp(t, types[i]) == 0)
            return true;
    return false;
}

/* loc is the name's (the type has none): help, but no fix-it. */
static void
unknown_type(struct vdevc_unit *u, struct vdevc_loc loc, const char *type,
             const char *what)
{
    bool ret = strcmp(what, "return") == 0;
    vdevc_error(u->diag, loc, "unknown-type",
                "unknown %s type '%s' (%sbool, "
                "u8..u64)",
                what, type, ret ? "void, " : "");
    const char *best = vdevc_suggest_list(type, types);
    if (best && (ret || strcmp(best, "void") != 0))
        vdevc_help(u->diag, "did you mean '%s'?", best);
}

static void
check_extern(struct vdevc_unit *u, struct vdevc_extern *x)
{
    vdevc_sym_define(u, x->name, SYM_EXTERN, x, x->hdr.loc, "function");
    if (!known_type(x->ret, true))
        unknown_type(u, x->hdr.loc, x->ret, "return");
    for (unsigned i = 0; i < x->params.n; i++) {
        struct vdevc_param *p = x->params.v[i];
        if (!known_type(p->type, false))
            unknown_type(u, p->loc, p->type, "parameter");
        for (unsigned k = 0; k < i; k++)
            if (strcmp(((struct vdevc_param *)x->params.v[k])->name, p->name) ==
                0)
                vdevc_error(u->diag, p->loc, "duplicate-name",
                            "parameter '%s' declared twice", p->name);
    }
}

unsigned
vdevc_attr_since(struct vdevc_unit *u, struct vdevc_vec *attrs)
{
    uint64_t since = 1;
    if (!vdevc_attr_value(u, attrs, "since", &since))
        return 1;
    if (since < 1 || since > u->dev->version) {
        struct vdevc_attr *a = vdevc_attr_find(attrs, A_VALUE, "since");
        vdevc_error(u->diag, a->loc, "bad-since",
                    "since %llu is outside versions 1..%u",
                    (unsigned long long)since, u->dev->version);
        return 1;
    }
    return (unsigned)since;
}

/* Shared by vars, registers and fields. */
unsigned
vdevc_attr_width(struct vdevc_unit *u, struct vdevc_vec *attrs,
                 struct vdevc_enum **_etype)
{
    unsigned width = 0;
    struct vdevc_attr *a = vdevc_attr_find(attrs, A_WIDTH, NULL);
    if (a) {
        if (a->v1 < 1 || a->v1 > 64)
            vdevc_error(u->diag, a->loc, "bad-width",
                        "width %llu is outside 1..64",
                        (unsigned long long)a->v1);
        else
            width = (unsigned)a->v1;
    }
    *_etype = NULL;
    a = vdevc_attr_find(attrs, A_TYPE, NULL);
    if (a) {
        struct vdevc_sym *s = vdevc_sym_get(u->syms, a->name);
        if (!s || s->kind != SYM_ENUM)
            vdevc_error_unknown(
                u->diag, a->loc, "unknown-name",
                vdevc_sym_nearest(u->syms, a->name, "", 1u << SYM_ENUM, NULL),
                "unknown enum '%s'", a->name);
        else
            *_etype = s->ptr;
    }
    return width;
}

bool
vdevc_check_reset(struct vdevc_unit *u, struct vdevc_vec *attrs, unsigned width,
                  struct vdevc_enum *etype, uint64_t *_reset, const char *what)
{
    struct vdevc_attr *a = vdevc_attr_find(attrs, A_RESET, NULL);
    if (!a)
        return false;
    uint64_t v;
    if (!vdevc_const_eval(u, a->expr, &v))
        return false;
    if (v > vdevc_mask(width)) {
        vdevc_error(u->diag, a->expr->loc, "reset-too-wide",
                    "reset value 0x%llx does not fit in %u-bit %s",
                    (unsigned long long)v, width, what);
        return false;
    }
    if (etype) {
        bool ok = false;
        for (unsigned i = 0; i < etype->members.n; i++)
            ok |= ((struct vdevc_enum_member *)etype->members.v[i])->v == v;
        if (!ok)
            vdevc_error(u->diag, a->expr->loc, "type-mismatch",
                        "reset value 0x%llx is not a value of enum '%s'",
                        (unsigned long long)v, etype->name);
    }
    *_reset = v;
    return true;
}

static void
check_var(struct vdevc_unit *u, struct vdevc_var *v)
{
    vdevc_sym_define(u, v->name, SYM_VAR, v, v->hdr.loc, "variable");
    v->doc = vdevc_attr_doc(v, &v->attrs);
    v->since = vdevc_attr_since(u, &v->attrs);
    v->nomigrate = vdevc_attr_flag(&v->attrs, "nomigrate");
    if (v->buffer) {
        uint64_t len;
        if (vdevc_const_eval(u, v->size, &len)) {
            if (len < 1 || len > (16u << 20))
                vdevc_error(u->diag, v->size->loc, "bad-size",
                            "buffer size must be 1..16M bytes");
            else
                v->len = len;
        }
        vdevc_attr_check(u, &v->attrs, "a buffer");
        return;
    }
    v->external = vdevc_attr_flag(&v->attrs, "external");
    u->dev->nr_external += v->external;
    v->sticky = vdevc_attr_flag(&v->attrs, "sticky");
    v->width = vdevc_attr_width(u, &v->attrs, &v->etype);
    if (v->width == 0)
        v->width = v->etype ? v->etype->width : 32;
    vdevc_check_reset(u, &v->attrs, v->width, v->etype, &v->reset, "variable");
    vdevc_attr_check(u, &v->attrs, "a variable");
    for (unsigned i = 0; i < v->hooks.n; i++) {
        struct vdevc_hook *h = v->hooks.v[i];
        if (strcmp(h->when, "write") != 0 || !v->external) {
            vdevc_error(u->diag, h->hdr.loc, "bad-hook",
                        "a variable only has 'on write', and only when it "
                        "is external");
            continue;
        }
        if (v->on_write)
            vdevc_error(u->diag, h->hdr.loc, "duplicate-name",
                        "second 'on write' hook");
        v->on_write = h;
    }
}

/* on init, on reset: once each. */
static void
device_hook(struct vdevc_unit *u, struct vdevc_hook *h)
{
    struct vdevc_device *d = u->dev;
    struct vdevc_hook **slot = strcmp(h->when, "init") == 0    ? &d->on_init
                               : strcmp(h->when, "reset") == 0 ? &d->on_reset
                                                               : NULL;
    if (!slot) {
        static const char *const whens[] = {"init", "reset", NULL};
        vdevc_error_unknown(u->diag, h->hdr.loc, "bad-hook",
                            vdevc_suggest_list(h->when, whens),
                            "a device has 'on init' and 'on reset', not 'on "
                            "%s'",
                            h->when);
    } else {
        vdevc_hook_place(u, h, slot);
    }
}

/* Sorts the device's items by kind, in source order. */
static void
collect(struct vdevc_unit *u, struct vdevc_vec *props)
{
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->items.n; i++) {
        struct vdevc_node *n = d->items.v[i];
        struct vdevc_vec *to = NULL;
        switch (n->kind) {
        case N_PROP:
            to = props;
            break;
        case N_ENUM:
            to = &d->enums;
            break;
        case N_EXTERN:
            to = &d->externs;
            break;
        case N_VAR:
            to = &d->vars;
            break;
        case N_BAR:
            to = &d->bars;
            break;
        case N_BLOCK:
            to = &d->blocks;
            break;
        case N_INTERRUPT:
            to = &d->interrupts;
            break;
        case N_CAP:
            to = &d->caps;
            break;
        case N_PROC:
            to = &d->procs;
            break;
        case N_HOOK:
            device_hook(u, (struct vdevc_hook *)n);
            break;
        case N_TIMER:
            to = &d->timers;
            break;
        case N_FIFO:
            to = &d->fifos;
            break;
        case N_STREAM:
            to = &d->streams;
            break;
        case N_EVENT:
            to = &d->events;
            break;
        default:
            break;
        }
        if (to)
            vdevc_vec_push(d, to, n);
    }
}

void
vdevc_sema_decls(struct vdevc_unit *u)
{
    struct vdevc_vec props = {0};
    collect(u, &props);
    check_props(u, &props);
    talloc_free(props.v);
    struct vdevc_device *d = u->dev;
    for (unsigned i = 0; i < d->enums.n; i++)
        check_enum(u, d->enums.v[i]);
    for (unsigned i = 0; i < d->externs.n; i++)
        check_extern(u, d->externs.v[i]);
    for (unsigned i = 0; i < d->vars.n; i++)
        check_var(u, d->vars.v[i]);
    vdevc_sema_proc_decls(u);
    vdevc_sema_host_decls(u);
}
