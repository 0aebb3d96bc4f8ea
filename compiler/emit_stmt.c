/* The statement language in C: every value is a uint64_t, storage is
 * masked to its width on assignment, array and buffer indexes are
 * bounds-checked, division and shifts never trap. */
#include <stdio.h>
#include <string.h>
#include <talloc.h>

#include "emit.h"

char *
vdevc_hex(void *ctx, uint64_t v)
{
    if (v < 10)
        return talloc_asprintf(ctx, "%llu", (unsigned long long)v);
    return talloc_asprintf(ctx, v > 0xffffffffu ? "0x%llxull" : "0x%llxu",
                           (unsigned long long)v);
}

const char *
vdevc_hex_ring(uint64_t v)
{
    static char ring[64][24];
    static unsigned next;
    char *s = ring[next++ % 64];
    if (v < 10)
        snprintf(s, sizeof ring[0], "%llu", (unsigned long long)v);
    else
        snprintf(s, sizeof ring[0], v > 0xffffffffu ? "0x%llxull" : "0x%llxu",
                 (unsigned long long)v);
    return s;
}

const char *
vdevc_ctype(unsigned bits)
{
    return bits <= 8    ? "uint8_t"
           : bits <= 16 ? "uint16_t"
           : bits <= 32 ? "uint32_t"
                        : "uint64_t";
}

static void
indent_to(struct vdevc_emit *e, int n)
{
    for (int i = 0; i < n; i++)
        vdevc_out_puts(e->o, "    ");
}

static struct vdevc_reg *
ref_reg(const struct vdevc_expr *x)
{
    if (x->ref == REF_REG)
        return x->sym;
    if (x->ref == REF_FIELD)
        return ((struct vdevc_field *)x->sym)->reg;
    return NULL;
}

/* Reads a register element, a field or a buffer byte, with a bounds
 * check when indexed. */
static char *
emit_load(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    void *t = e->tmp;
    const char *store;
    uint64_t n = 0;
    if (x->ref == REF_BUFFER) {
        const struct vdevc_var *v = x->sym;
        store = v->name;
        n = v->len;
    } else {
        const struct vdevc_reg *r = ref_reg(x);
        store = r->cname;
        n = r->n;
    }
    const char *shift = "";
    if (x->ref == REF_FIELD) {
        const struct vdevc_field *f = x->sym;
        shift =
            talloc_asprintf(t, " >> %u & %s", f->lo_v,
                            vdevc_hex(t, vdevc_mask(f->hi_v - f->lo_v + 1)));
    }
    if (x->idx == NULL)
        return talloc_asprintf(t, "((uint64_t)d->s.%s%s)", store, shift);
    unsigned k = ++e->temps;
    return talloc_asprintf(t,
                           "({ uint64_t t%u = %s; t%u < %llu ? "
                           "(uint64_t)d->s.%s[t%u]%s : 0; })",
                           k, vdevc_emit_expr(e, x->idx), k,
                           (unsigned long long)n, store, k, shift);
}

static const char *
binop(int op)
{
    switch (op) {
    case OP_EQ:
        return "==";
    case OP_NE:
        return "!=";
    case OP_LE:
        return "<=";
    case OP_GE:
        return ">=";
    case OP_ANDAND:
        return "&&";
    case OP_OROR:
        return "||";
    case '<':
        return "<";
    case '>':
        return ">";
    case '+':
        return "+";
    case '-':
        return "-";
    case '*':
        return "*";
    case '&':
        return "&";
    case '|':
        return "|";
    case '^':
        return "^";
    default:
        return NULL;
    }
}

static char *
emit_binary(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    void *t = e->tmp;
    char *l = vdevc_emit_expr(e, x->lhs), *r = vdevc_emit_expr(e, x->rhs);
    switch (x->op) {
    case '/':
        return talloc_asprintf(t, "vdevc_div(%s, %s)", l, r);
    case '%':
        return talloc_asprintf(t, "vdevc_mod(%s, %s)", l, r);
    case OP_SHL:
        return talloc_asprintf(t, "vdevc_shl(%s, %s)", l, r);
    case OP_SHR:
        return talloc_asprintf(t, "vdevc_shr(%s, %s)", l, r);
    case OP_EQ:
    case OP_NE:
    case OP_LE:
    case OP_GE:
    case '<':
    case '>':
    case OP_ANDAND:
    case OP_OROR:
        return talloc_asprintf(t, "(uint64_t)(%s %s %s)", l, binop(x->op), r);
    default:
        return talloc_asprintf(t, "(%s %s %s)", l, binop(x->op), r);
    }
}

static char *
emit_call(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    const struct vdevc_extern *f = x->sym;
    char *s = talloc_asprintf(e->tmp, "%s(d->dev", f->name);
    for (unsigned i = 0; i < x->args.n; i++) {
        const struct vdevc_param *p = f->params.v[i];
        const char *ty = strcmp(p->type, "bool") == 0  ? "bool"
                         : strcmp(p->type, "u8") == 0  ? "uint8_t"
                         : strcmp(p->type, "u16") == 0 ? "uint16_t"
                         : strcmp(p->type, "u32") == 0 ? "uint32_t"
                                                       : "uint64_t";
        s = talloc_asprintf_append(s, ", (%s)%s", ty,
                                   vdevc_emit_expr(e, x->args.v[i]));
    }
    return talloc_strdup_append(s, ")");
}

char *
vdevc_emit_expr(struct vdevc_emit *e, const struct vdevc_expr *x)
{
    void *t = e->tmp;
    switch (x->kind) {
    case E_NUM:
        return vdevc_hex(t, x->num);
    case E_CALL: {
        char *c = emit_call(e, x);
        const struct vdevc_extern *f = x->sym;
        return strcmp(f->ret, "void") == 0
                   ? c
                   : talloc_asprintf(t, "(uint64_t)%s", c);
    }
    case E_UNARY:
        if (x->op == '!')
            return talloc_asprintf(t, "(uint64_t)!%s",
                                   vdevc_emit_expr(e, x->lhs));
        return talloc_asprintf(t, "(%c%s)", x->op, vdevc_emit_expr(e, x->lhs));
    case E_BINARY:
        return emit_binary(e, x);
    default:
        break;
    }
    switch (x->ref) {
    case REF_REG:
    case REF_FIELD:
    case REF_BUFFER:
        return emit_load(e, x);
    case REF_VAR:
        return talloc_asprintf(t, "((uint64_t)d->s.%s)",
                               ((struct vdevc_var *)x->sym)->name);
    case REF_LOCAL:
        return talloc_asprintf(t, "l_%s", x->name);
    case REF_VALUE:
        return talloc_strdup(t, "value");
    case REF_OLD:
        return talloc_strdup(t, "old");
    case REF_INDEX:
        return talloc_strdup(t, "(uint64_t)i");
    case REF_ENUMC:
    case REF_CONST:
        return vdevc_hex(t, x->num);
    default:
        return talloc_strdup(t, "0");
    }
}

/* ------------------------------------------------------------ statements */

/* Stores `val` into the target; `place` is the C lvalue. */
static void
store(struct vdevc_emit *e, const struct vdevc_expr *x, const char *place,
      const char *val, const uint64_t *k, int ind)
{
    void *t = e->tmp;
    indent_to(e, ind);
    switch (x->ref) {
    case REF_FIELD: {
        const struct vdevc_field *f = x->sym;
        uint64_t m = vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
        const char *hm = vdevc_hex(t, m);
        if (k != NULL)
            vdevc_out_printf(e->o, "%s = (%s & ~(uint64_t)%s) | %s;\n", place,
                             place, hm, vdevc_hex(t, (*k << f->lo_v) & m));
        else
            vdevc_out_printf(e->o,
                             "%s = (%s & ~(uint64_t)%s) | "
                             "(vdevc_shl(%s, %u) & %s);\n",
                             place, place, hm, val, f->lo_v, hm);
        break;
    }
    case REF_REG: {
        const struct vdevc_reg *r = x->sym;
        if (r->hw == r->all)
            vdevc_out_printf(e->o, "%s = %s;\n", place, val);
        else
            vdevc_out_printf(e->o, "%s = (%s & ~(uint64_t)%s) | (%s & %s);\n",
                             place, place, vdevc_hex(t, r->hw), val,
                             vdevc_hex(t, r->hw));
        break;
    }
    case REF_VAR: {
        const struct vdevc_var *v = x->sym;
        if (v->width == 8 || v->width == 16 || v->width == 32 || v->width == 64)
            vdevc_out_printf(e->o, "%s = %s;\n", place, val);
        else
            vdevc_out_printf(e->o, "%s = %s & %s;\n", place, val,
                             vdevc_hex(t, vdevc_mask(v->width)));
        break;
    }
    default:
        vdevc_out_printf(e->o, "%s = %s;\n", place, val);
        break;
    }
}

static void
emit_assign(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    void *t = e->tmp;
    const struct vdevc_expr *x = s->lhs;
    char *val = vdevc_emit_expr(e, s->rhs);
    if (s->op != 0)
        val =
            talloc_asprintf(t, "(%s %c %s)", vdevc_emit_expr(e, x), s->op, val);
    const char *store_name;
    uint64_t n = 0;
    /* A literal stored into a field folds into one constant. */
    const uint64_t *k =
        s->op == 0 && s->rhs->kind == E_NUM ? &s->rhs->num : NULL;
    switch (x->ref) {
    case REF_LOCAL:
        indent_to(e, ind);
        vdevc_out_printf(e->o, "l_%s = %s;\n", x->name, val);
        return;
    case REF_VAR:
        store(e, x,
              talloc_asprintf(t, "d->s.%s", ((struct vdevc_var *)x->sym)->name),
              val, k, ind);
        return;
    case REF_BUFFER:
        store_name = ((struct vdevc_var *)x->sym)->name;
        n = ((struct vdevc_var *)x->sym)->len;
        break;
    default:
        store_name = ref_reg(x)->cname;
        n = ref_reg(x)->n;
        break;
    }
    if (x->idx == NULL) {
        store(e, x, talloc_asprintf(t, "d->s.%s", store_name), val, k, ind);
        return;
    }
    unsigned tk = ++e->temps;
    indent_to(e, ind);
    vdevc_out_printf(e->o, "{\n");
    indent_to(e, ind + 1);
    vdevc_out_printf(e->o, "uint64_t t%u = %s;\n", tk,
                     vdevc_emit_expr(e, x->idx));
    indent_to(e, ind + 1);
    vdevc_out_printf(e->o, "if (t%u < %llu) {\n", tk, (unsigned long long)n);
    store(e, x, talloc_asprintf(t, "d->s.%s[t%u]", store_name, tk), val, k,
          ind + 2);
    indent_to(e, ind + 1);
    vdevc_out_puts(e->o, "}\n");
    indent_to(e, ind);
    vdevc_out_puts(e->o, "}\n");
}

static void
emit_dma(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    bool rd = strcmp(s->name, "read") == 0;
    const struct vdevc_expr *buf = rd ? s->lhs : s->rhs;
    const struct vdevc_expr *addr = rd ? s->rhs : s->lhs;
    const struct vdevc_var *v = buf->sym;
    indent_to(e, ind);
    vdevc_out_printf(e->o,
                     "vdevc_dma(d->dev, %s, d->s.%s, sizeof(d->s.%s), "
                     "%s, %s, %s);\n",
                     rd ? "false" : "true", v->name, v->name,
                     buf->idx ? vdevc_emit_expr(e, buf->idx) : "0",
                     vdevc_emit_expr(e, addr), vdevc_emit_expr(e, s->third));
}

static void
emit_block(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    for (unsigned i = 0; i < s->body.n; i++)
        if (s->body.v[i] != NULL)
            vdevc_emit_stmt(e, s->body.v[i], ind);
}

void
vdevc_emit_stmt(struct vdevc_emit *e, const struct vdevc_stmt *s, int ind)
{
    switch (s->kind) {
    case S_ASSIGN:
        emit_assign(e, s, ind);
        break;
    case S_IF:
        indent_to(e, ind);
        vdevc_out_printf(e->o, "if (%s) {\n", vdevc_emit_expr(e, s->lhs));
        emit_block(e, s->then_s, ind + 1);
        indent_to(e, ind);
        if (s->else_s == NULL) {
            vdevc_out_puts(e->o, "}\n");
        } else {
            vdevc_out_puts(e->o, "} else {\n");
            vdevc_emit_stmt(e, s->else_s, ind + 1);
            indent_to(e, ind);
            vdevc_out_puts(e->o, "}\n");
        }
        break;
    case S_LET:
        indent_to(e, ind);
        vdevc_out_printf(e->o, "uint64_t l_%s = %s;\n", s->name,
                         vdevc_emit_expr(e, s->rhs));
        indent_to(e, ind);
        vdevc_out_printf(e->o, "(void)l_%s;\n", s->name);
        break;
    case S_RAISE:
    case S_LOWER:
        indent_to(e, ind);
        vdevc_out_printf(e->o,
                         "vdev_irq_set_level(d->dev, (unsigned)%s, "
                         "%s);\n",
                         vdevc_emit_expr(e, s->lhs),
                         s->kind == S_RAISE ? "true" : "false");
        break;
    case S_NOTIFY:
        indent_to(e, ind);
        vdevc_out_printf(e->o, "vdev_irq_send(d->dev, (unsigned)%s);\n",
                         vdevc_emit_expr(e, s->lhs));
        break;
    case S_DMA:
        emit_dma(e, s, ind);
        break;
    case S_CALL:
        indent_to(e, ind);
        vdevc_out_printf(e->o, "%s;\n", emit_call(e, s->lhs));
        break;
    case S_BLOCK:
        indent_to(e, ind);
        vdevc_out_puts(e->o, "{\n");
        emit_block(e, s, ind + 1);
        indent_to(e, ind);
        vdevc_out_puts(e->o, "}\n");
        break;
    }
}
