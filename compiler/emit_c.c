/* The C generator: register tables, hook functions, one access callback
 * per BAR dispatching by offset through a switch, migration and named-value
 * tables, and the device constructor. Same input, same bytes. */
#include <stdio.h>
#include <string.h>
#include <talloc.h>

#include "emit.h"

#define P(...) vdevc_out_printf(e->o, __VA_ARGS__)
#define HEX(v) vdevc_hex_ring(v)

struct vdevc_emit *
vdevc_emit_new(void *mem_ctx, struct vdevc_unit *u)
{
    struct vdevc_emit *e = talloc_zero(mem_ctx, struct vdevc_emit);
    e->u = u;
    e->d = u->dev;
    e->o = vdevc_out_new(e);
    e->tmp = talloc_new(e);
    e->name = u->dev->name;
    e->NAME = vdevc_upper(e, u->dev->name);
    e->file = vdevc_display_name(u->file);
    return e;
}

void
vdevc_emit_where(struct vdevc_emit *e, int line, const char *what, int ind)
{
    if (e->u->line_directives) {
        P("#line %d \"%s\"\n", line, e->file);
        return;
    }
    static const char pad[] = "                                ";
    char num[16];
    snprintf(num, sizeof num, "%d", line);
    vdevc_out_cat(e->o, pad + sizeof pad - 1 - 4 * (ind > 8 ? 8 : ind), "/* ",
                  what ? what : "", what ? ": " : "", e->file, ":", num,
                  " */\n", NULL);
}

/* Scratch strings live until the next top-level item; freed in batches. */
static void
flush_tmp(struct vdevc_emit *e)
{
    if (++e->flushes % 256 != 0)
        return;
    talloc_free(e->tmp);
    e->tmp = talloc_new(e);
}

/* ------------------------------------------------------------ preamble */

static const char helpers[] =
    "/* Arithmetic of the statement language: never traps. */\n"
    "static inline uint64_t\n"
    "vdevc_div(uint64_t a, uint64_t b)\n"
    "{\n"
    "    return b != 0 ? a / b : 0;\n"
    "}\n"
    "\n"
    "static inline uint64_t\n"
    "vdevc_mod(uint64_t a, uint64_t b)\n"
    "{\n"
    "    return b != 0 ? a % b : 0;\n"
    "}\n"
    "\n"
    "static inline uint64_t\n"
    "vdevc_shl(uint64_t a, uint64_t b)\n"
    "{\n"
    "    return b < 64 ? a << b : 0;\n"
    "}\n"
    "\n"
    "static inline uint64_t\n"
    "vdevc_shr(uint64_t a, uint64_t b)\n"
    "{\n"
    "    return b < 64 ? a >> b : 0;\n"
    "}\n"
    "\n"
    "/* dma read/write between guest memory and a state buffer; an access\n"
    " * outside the buffer is dropped. */\n"
    "static inline void\n"
    "vdevc_dma(struct vdev_dev *dev, bool to_guest, uint8_t *buf,\n"
    "          size_t size, uint64_t off, uint64_t iova, uint64_t len)\n"
    "{\n"
    "    if (off > size || len > size - off)\n"
    "        return;\n"
    "    if (to_guest)\n"
    "        vdev_dma_write(dev, iova, buf + off, len);\n"
    "    else\n"
    "        vdev_dma_read(dev, iova, buf + off, len);\n"
    "}\n"
    "\n"
    "/* The byte lanes of one register an access covers. */\n"
    "struct vdevc_span {\n"
    "    uint64_t lane;\n"
    "    uint32_t n;\n"
    "    uint64_t mask;\n"
    "};\n"
    "\n"
    "static inline struct vdevc_span\n"
    "vdevc_span(uint64_t lane, uint64_t size, uint32_t count)\n"
    "{\n"
    "    struct vdevc_span s = {.lane = lane};\n"
    "    s.n = size - lane < count ? (uint32_t)(size - lane) : count;\n"
    "    s.mask = s.n >= 8 ? ~(uint64_t)0\n"
    "                      : (((uint64_t)1 << (8 * s.n)) - 1) << (8 * lane);\n"
    "    return s;\n"
    "}\n"
    "\n"
    "static inline uint64_t\n"
    "vdevc_load(const uint8_t *p, struct vdevc_span s)\n"
    "{\n"
    "    uint64_t v = 0;\n"
    "    for (uint32_t k = 0; k < s.n; k++)\n"
    "        v |= (uint64_t)p[k] << (8 * (s.lane + k));\n"
    "    return v;\n"
    "}\n"
    "\n"
    "static inline void\n"
    "vdevc_store(uint8_t *p, uint64_t v, struct vdevc_span s)\n"
    "{\n"
    "    for (uint32_t k = 0; k < s.n; k++)\n"
    "        p[k] = (uint8_t)(v >> (8 * (s.lane + k)));\n"
    "}\n"
    "\n"
    "static inline void\n"
    "vdevc_memory(uint8_t *mem, uint8_t *p, struct vdevc_span s, bool "
    "is_write)\n"
    "{\n"
    "    if (mem == NULL)\n"
    "        memset(p, 0, is_write ? 0 : s.n);\n"
    "    else if (is_write)\n"
    "        memcpy(mem + s.lane, p, s.n);\n"
    "    else\n"
    "        memcpy(p, mem + s.lane, s.n);\n"
    "}\n"
    "\n"
    "static inline uint64_t\n"
    "vdevc_get(const void *state, uint32_t at, uint32_t size)\n"
    "{\n"
    "    const uint8_t *p = (const uint8_t *)state + at;\n"
    "    uint8_t v8;\n"
    "    uint16_t v16;\n"
    "    uint32_t v32;\n"
    "    uint64_t v64;\n"
    "    switch (size) {\n"
    "    case 1: memcpy(&v8, p, 1); return v8;\n"
    "    case 2: memcpy(&v16, p, 2); return v16;\n"
    "    case 4: memcpy(&v32, p, 4); return v32;\n"
    "    default: memcpy(&v64, p, 8); return v64;\n"
    "    }\n"
    "}\n"
    "\n"
    "static inline void\n"
    "vdevc_set(void *state, uint32_t at, uint32_t size, uint64_t v)\n"
    "{\n"
    "    uint8_t *p = (uint8_t *)state + at;\n"
    "    uint8_t v8 = (uint8_t)v;\n"
    "    uint16_t v16 = (uint16_t)v;\n"
    "    uint32_t v32 = (uint32_t)v;\n"
    "    switch (size) {\n"
    "    case 1: memcpy(p, &v8, 1); break;\n"
    "    case 2: memcpy(p, &v16, 2); break;\n"
    "    case 4: memcpy(p, &v32, 4); break;\n"
    "    default: memcpy(p, &v, 8); break;\n"
    "    }\n"
    "}\n"
    "\n";

static void
emit_preamble(struct vdevc_emit *e)
{
    P("/* Generated by vdevc from %s: do not edit. */\n", e->file);
    P("#include <errno.h>\n#include <stdbool.h>\n#include <stddef.h>\n"
      "#include <stdint.h>\n#include <string.h>\n\n#include <talloc.h>\n\n"
      "#include \"vdev.h\"\n");
    P("#include \"%s\"\n\n", e->u->header_name);
    vdevc_out_puts(e->o, helpers);
    P("typedef void %s_read_hook(struct %s *d, unsigned i, uint64_t mask);\n",
      e->name, e->name);
    P("typedef void %s_write_hook(struct %s *d, unsigned i, uint64_t reg_old,\n"
      "                             uint64_t reg_new, uint64_t mask);\n\n",
      e->name, e->name);
    P("/* A register or register array: where it is, where its value lives,\n"
      " * and what each access kind does to its bits. */\n"
      "struct vdevc_reg {\n"
      "    uint64_t offset;\n"
      "    uint32_t state;      /* offset of element 0 in the state block */\n"
      "    uint32_t size;       /* bytes */\n"
      "    uint32_t stride;     /* bytes between array elements */\n"
      "    uint64_t rmask;      /* bits a read returns */\n"
      "    uint64_t rw;         /* bits a write replaces (rw, wo) */\n"
      "    uint64_t w1c;\n"
      "    uint64_t w1s;\n"
      "    uint64_t rc;\n"
      "    uint64_t rs;\n"
      "    uint64_t irqs_read;  /* interrupts to re-evaluate after a read */\n"
      "    uint64_t irqs_write;\n"
      "    %s_read_hook *on_read;\n"
      "    %s_write_hook *on_write;\n"
      "};\n\n",
      e->name, e->name);
    P("static void %s_update_irqs(struct %s *d, uint64_t which);\n\n", e->name,
      e->name);
}

/* ------------------------------------------------------------ hooks */

static void
hook_body(struct vdevc_emit *e, const struct vdevc_hook *h, const char *what,
          const char *value, const char *old, int ind)
{
    vdevc_emit_where(e, h->hdr.loc.first_line, what, ind);
    for (int i = 0; i < ind; i++)
        vdevc_out_puts(e->o, "    ");
    P("{\n");
    if (h->uses_value) {
        for (int i = 0; i <= ind; i++)
            vdevc_out_puts(e->o, "    ");
        P("const uint64_t value = %s;\n", value);
    }
    if (h->uses_old) {
        for (int i = 0; i <= ind; i++)
            vdevc_out_puts(e->o, "    ");
        P("const uint64_t old = %s;\n", old);
    }
    for (unsigned i = 0; i < h->body->body.n; i++)
        if (h->body->body.v[i] != NULL)
            vdevc_emit_stmt(e, h->body->body.v[i], ind + 1);
    for (int i = 0; i < ind; i++)
        vdevc_out_puts(e->o, "    ");
    P("}\n");
}

static bool
has_hooks(const struct vdevc_reg *r, bool write)
{
    if (write ? r->on_write != NULL : r->on_read != NULL)
        return true;
    for (unsigned i = 0; i < r->fields.n; i++) {
        const struct vdevc_field *f = r->fields.v[i];
        if (write ? f->on_write != NULL : f->on_read != NULL)
            return true;
    }
    return false;
}

static const char *
elem(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    return r->n > 1 ? talloc_asprintf(e->tmp, "d->s.%s[i]", r->cname)
                    : talloc_asprintf(e->tmp, "d->s.%s", r->cname);
}

/* Field hooks in bit order for the fields the access touched, then the
 * register's own hook. */
static void
emit_hooks(struct vdevc_emit *e, const struct vdevc_reg *r, bool write)
{
    const char *kind = write ? "write" : "read";
    P("static void\n%s_%s_on_%s(struct %s *d, unsigned i, ", e->name, r->cname,
      kind, e->name);
    P(write ? "uint64_t reg_old,\n    uint64_t reg_new, uint64_t mask)\n{\n"
            : "uint64_t mask)\n{\n");
    P(write ? "    (void)i, (void)mask, (void)reg_old, (void)reg_new;\n"
            : "    (void)i, (void)mask;\n");
    const char *cur = elem(e, r);
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        const struct vdevc_hook *h = write ? f->on_write : f->on_read;
        if (h == NULL)
            continue;
        uint64_t fm = vdevc_mask(f->hi_v - f->lo_v + 1);
        P("    if (mask & %s) {\n", HEX(fm << f->lo_v));
        const char *what =
            talloc_asprintf(e->tmp, "%s.%s on %s", r->qname, f->name, kind);
        const char *val =
            write ? talloc_asprintf(e->tmp, "reg_new >> %u & %s", f->lo_v,
                                    HEX(fm))
                  : talloc_asprintf(e->tmp, "(uint64_t)%s >> %u & %s", cur,
                                    f->lo_v, HEX(fm));
        const char *old =
            talloc_asprintf(e->tmp, "reg_old >> %u & %s", f->lo_v, HEX(fm));
        hook_body(e, h, what, val, old, 2);
        P("    }\n");
    }
    const struct vdevc_hook *h = write ? r->on_write : r->on_read;
    if (h != NULL)
        hook_body(e, h, talloc_asprintf(e->tmp, "%s on %s", r->qname, kind),
                  write ? "reg_new"
                        : talloc_asprintf(e->tmp, "(uint64_t)%s", cur),
                  "reg_old", 1);
    P("}\n\n");
}

static void
emit_all_hooks(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        if (has_hooks(r, false))
            emit_hooks(e, r, false);
        if (has_hooks(r, true))
            emit_hooks(e, r, true);
        flush_tmp(e);
    }
}

/* ------------------------------------------------------------ tables */

/* Zero masks and absent hooks are left out: an entry lists what its
 * register does. */
static void
emit_reg_entry(struct vdevc_emit *e, unsigned i, const struct vdevc_reg *r)
{
    static const char *const names[] = {
        "        .rmask = ",     "        .rw = ",        "        .w1c = ",
        "        .w1s = ",       "        .rc = ",        "        .rs = ",
        "        .irqs_read = ", "        .irqs_write = "};
    const uint64_t vals[] = {r->rmask, r->rw, r->w1c,       r->w1s,
                             r->rc,    r->rs, r->irqs_read, r->irqs_write};
    char idx[16], size[16];
    snprintf(idx, sizeof idx, "%u", i);
    snprintf(size, sizeof size, "%u", r->width / 8);
    vdevc_out_cat(e->o, "    [", idx, "] = {\n", NULL);
    vdevc_emit_where(e, r->hdr.loc.first_line, r->qname, 2);
    vdevc_out_cat(e->o, "        .offset = ", HEX(r->off),
                  ",\n        .state = offsetof(struct ", e->name, "_state, ",
                  r->cname, "),\n        .size = ", size, ",\n", NULL);
    if (r->n > 1)
        P("        .stride = %u,\n", (unsigned)r->stride);
    for (unsigned k = 0; k < sizeof vals / sizeof vals[0]; k++)
        if (vals[k] != 0)
            vdevc_out_cat(e->o, names[k], HEX(vals[k]), ",\n", NULL);
    if (has_hooks(r, false))
        vdevc_out_cat(e->o, "        .on_read = ", e->name, "_", r->cname,
                      "_on_read,\n", NULL);
    if (has_hooks(r, true))
        vdevc_out_cat(e->o, "        .on_write = ", e->name, "_", r->cname,
                      "_on_write,\n", NULL);
    vdevc_out_puts(e->o, "    },\n");
}

static void
emit_reg_table(struct vdevc_emit *e)
{
    if (e->d->regs.n == 0)
        return;
    P("static const struct vdevc_reg %s_regs[%u] = {\n", e->name, e->d->regs.n);
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        emit_reg_entry(e, i, e->d->regs.v[i]);
        flush_tmp(e);
    }
    P("};\n\n");
}

/* Access semantics; see dsl/README.md "Access kinds" and "Hook order". */
static void
emit_reg_access(struct vdevc_emit *e)
{
    if (e->d->regs.n == 0)
        return;
    const char *n = e->name;
    P("static inline uint64_t\n"
      "%s_reg_read(struct %s *d, const struct vdevc_reg *r, unsigned i,\n"
      "            uint64_t mask)\n{\n"
      "    uint32_t at = r->state + i * r->size;\n"
      "    if (r->on_read != NULL)\n"
      "        r->on_read(d, i, mask);\n"
      "    uint64_t v = vdevc_get(&d->s, at, r->size);\n"
      "    uint64_t nv = (v & ~(r->rc & mask)) | (r->rs & mask);\n"
      "    if (nv != v)\n"
      "        vdevc_set(&d->s, at, r->size, nv);\n"
      "    if (r->irqs_read != 0)\n"
      "        %s_update_irqs(d, r->irqs_read);\n"
      "    return v & r->rmask;\n}\n\n",
      n, n, n);
    P("static inline void\n"
      "%s_reg_write(struct %s *d, const struct vdevc_reg *r, unsigned i,\n"
      "             uint64_t v, uint64_t mask)\n{\n"
      "    uint32_t at = r->state + i * r->size;\n"
      "    uint64_t old = vdevc_get(&d->s, at, r->size);\n"
      "    uint64_t nv = (old & ~(r->rw & mask)) | (v & r->rw & mask);\n"
      "    nv &= ~(v & r->w1c & mask);\n"
      "    nv |= v & r->w1s & mask;\n"
      "    vdevc_set(&d->s, at, r->size, nv);\n"
      "    if (r->on_write != NULL)\n"
      "        r->on_write(d, i, old, nv, mask);\n"
      "    if (r->irqs_write != 0)\n"
      "        %s_update_irqs(d, r->irqs_write);\n}\n\n",
      n, n, n);
}

static void
emit_bar_cases(struct vdevc_emit *e, const struct vdevc_bar *b)
{
    for (unsigned k = 0; k < b->regs.n; k++) {
        const struct vdevc_reg *r = b->regs.v[k];
        for (unsigned i = 0; i < r->n; i++) {
            uint64_t at = r->off + i * r->stride;
            char id[16], el[16];
            snprintf(id, sizeof id, "%u", r->id);
            snprintf(el, sizeof el, "%u", i);
            if (r->width == 8)
                vdevc_out_cat(e->o, "        case ", HEX(at), ": /* ", r->qname,
                              " */\n", NULL);
            else
                vdevc_out_cat(e->o, "        case ", HEX(at), " ... ",
                              HEX(at + r->width / 8 - 1), ": /* ", r->qname,
                              " */\n", NULL);
            vdevc_out_cat(e->o, "            r = &", e->name, "_regs[", id,
                          "], i = ", el, ";\n            break;\n", NULL);
        }
        flush_tmp(e);
    }
    for (unsigned k = 0; k < b->mems.n; k++) {
        const struct vdevc_memory *m = b->mems.v[k];
        P("        case %s ... %s: /* memory %s */\n", HEX(m->off),
          HEX(m->off + m->size - 1), m->name);
        P("            s = vdevc_span(offset - %s, %s, count);\n", HEX(m->off),
          HEX(m->size));
        P("            vdevc_memory(mem == NULL ? NULL : mem + %s, p, s, "
          "is_write);\n",
          HEX(m->off));
        P("            break;\n");
    }
}

static void
emit_bar_access(struct vdevc_emit *e, const struct vdevc_bar *b)
{
    P("/* BAR %u: registers by offset; bytes between them read as zero and\n"
      " * ignore writes. */\n",
      b->idx);
    P("static int\n%s_bar%u_access(struct vdev_dev *dev, void *opaque, "
      "uint64_t offset,\n",
      e->name, b->idx);
    P("    void *buf, uint32_t count, bool is_write)\n{\n");
    P("    struct %s *d = vdev_private(dev);\n", e->name);
    P("    uint8_t *p = buf;\n");
    if (b->mems.n > 0)
        P("    uint8_t *mem = vdev_bar_memory(dev, %u);\n", b->idx);
    P("    (void)opaque;\n    (void)d;\n");
    P("    while (count > 0) {\n");
    P("        const struct vdevc_reg *r = NULL;\n");
    P("        unsigned i = 0;\n");
    P("        struct vdevc_span s = {.n = 1};\n");
    P("        switch (offset) {\n");
    emit_bar_cases(e, b);
    P("        default:\n");
    P("            if (!is_write)\n                p[0] = 0;\n");
    P("            break;\n        }\n");
    if (b->regs.n > 0) {
        P("        if (r != NULL) {\n");
        P("            s = vdevc_span(offset - r->offset - (uint64_t)i * "
          "r->stride,\n                           r->size, count);\n");
        P("            if (is_write)\n");
        P("                %s_reg_write(d, r, i, vdevc_load(p, s), s.mask);\n",
          e->name);
        P("            else\n");
        P("                vdevc_store(p, %s_reg_read(d, r, i, s.mask), s);\n",
          e->name);
        P("        }\n");
    } else {
        P("        (void)r;\n        (void)i;\n");
    }
    P("        p += s.n;\n        offset += s.n;\n        count -= s.n;\n");
    P("    }\n    return 0;\n}\n\n");
}

static const char *const bar_kinds[] = {"VDEV_BAR_MEM32", "VDEV_BAR_MEM64",
                                        "VDEV_BAR_IO"};

static void
emit_bar_desc(struct vdevc_emit *e, const struct vdevc_bar *b)
{
    unsigned nmap = 0;
    for (unsigned k = 0; k < b->mems.n; k++)
        nmap += ((struct vdevc_memory *)b->mems.v[k])->mmap;
    if (nmap > 0) {
        P("static const struct vdev_mmap_area %s_bar%u_mmap[%u] = {\n", e->name,
          b->idx, nmap);
        for (unsigned k = 0; k < b->mems.n; k++) {
            const struct vdevc_memory *m = b->mems.v[k];
            if (!m->mmap)
                continue;
            P("    {\n        .offset = %s,\n        .size = %s,\n    },\n",
              HEX(m->off), HEX(m->size));
        }
        P("};\n\n");
    }
    bool regs = !b->memory;
    P("static const struct vdev_bar_desc %s_bar%u = {\n", e->name, b->idx);
    P("    .kind = %s,\n", bar_kinds[b->kind]);
    P("    .prefetchable = %s,\n", b->prefetchable ? "true" : "false");
    P("    .size = %s,\n", HEX(b->size));
    if (regs)
        P("    .access = %s_bar%u_access,\n", e->name, b->idx);
    else
        P("    .access = NULL,\n");
    P("    .opaque = NULL,\n");
    P("    .backed = %s,\n", b->memory || b->mems.n > 0 ? "true" : "false");
    if (nmap > 0)
        P("    .mmap_areas = %s_bar%u_mmap,\n", e->name, b->idx);
    else
        P("    .mmap_areas = NULL,\n");
    P("    .nr_mmap_areas = %u,\n};\n\n", nmap);
}

static void
emit_bars(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->bars.n; i++) {
        const struct vdevc_bar *b = e->d->bars.v[i];
        if (!b->memory)
            emit_bar_access(e, b);
        emit_bar_desc(e, b);
    }
}

/* ------------------------------------------------------------ interrupts */

static void
emit_irqs(struct vdevc_emit *e)
{
    P("/* Interrupt expressions, re-evaluated after any access that may have\n"
      " * changed one of their inputs (the masks in the register table). */\n");
    P("static void\n%s_update_irqs(struct %s *d, uint64_t which)\n{\n", e->name,
      e->name);
    P("    (void)d;\n    (void)which;\n");
    for (unsigned i = 0; i < e->d->interrupts.n; i++) {
        const struct vdevc_interrupt *q = e->d->interrupts.v[i];
        vdevc_emit_where(e, q->hdr.loc.first_line, "interrupt", 1);
        P("    if (which & %s)\n", HEX(UINT64_C(1) << q->vec));
        P("        vdev_irq_set_level(d->dev, %u, %s != 0);\n", q->vec,
          vdevc_emit_expr(e, q->expr));
        flush_tmp(e);
    }
    P("}\n\n");
}

static uint64_t
all_irqs(const struct vdevc_device *d)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < d->interrupts.n; i++)
        m |= UINT64_C(1) << ((struct vdevc_interrupt *)d->interrupts.v[i])->vec;
    return m;
}

/* ------------------------------------------------------------ state */

static void
emit_reset_values(struct vdevc_emit *e)
{
    P("static void\n%s_reset_values(struct vdev_dev *dev, void *block)\n{\n",
      e->name);
    P("    struct %s_state *s = block;\n    (void)dev;\n", e->name);
    P("    memset(s, 0, sizeof(*s));\n");
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        if (r->reset == 0)
            continue;
        if (r->n > 1)
            P("    for (unsigned i = 0; i < %u; i++)\n        s->%s[i] = %s;\n",
              r->n, r->cname, HEX(r->reset));
        else
            vdevc_out_cat(e->o, "    s->", r->cname, " = ", HEX(r->reset),
                          ";\n", NULL);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        if (!v->buffer && v->reset != 0)
            P("    s->%s = %s;\n", v->name, HEX(v->reset));
    }
    P("}\n\n");
    flush_tmp(e);
}

static void
emit_enum_check(struct vdevc_emit *e, const struct vdevc_enum *en,
                const char *val)
{
    P("    switch (%s) {\n", val);
    for (unsigned i = 0; i < en->members.n; i++) {
        const struct vdevc_enum_member *m = en->members.v[i];
        bool dup = false;
        for (unsigned k = 0; k < i; k++)
            dup |= ((struct vdevc_enum_member *)en->members.v[k])->v == m->v;
        if (!dup)
            P("    case %s:\n", HEX(m->v));
    }
    P("        break;\n    default:\n        return -EINVAL;\n    }\n");
}

/* A loaded block is hostile: unused bits clear, const bits at their value,
 * enum fields and narrow variables in range. */
static void
emit_validate_reg(struct vdevc_emit *e, const struct vdevc_reg *r)
{
    uint64_t used = 0, cmask = 0;
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        uint64_t m = vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
        used |= m;
        if (f->access == ACC_CONST)
            cmask |= m;
    }
    bool enums = false;
    for (unsigned k = 0; k < r->fields.n; k++)
        enums |= ((struct vdevc_field *)r->fields.v[k])->etype != NULL;
    if (used == r->all && cmask == 0 && !enums)
        return;
    const char *v = r->n > 1 ? talloc_asprintf(e->tmp, "s->%s[i]", r->cname)
                             : talloc_asprintf(e->tmp, "s->%s", r->cname);
    if (r->n > 1)
        P("    for (unsigned i = 0; i < %u; i++) {\n", r->n);
    if (used != r->all)
        P("    if (%s & %s)\n        return -EINVAL;\n", v,
          HEX(r->all & ~used));
    if (cmask != 0)
        P("    if ((%s & %s) != %s)\n        return -EINVAL;\n", v, HEX(cmask),
          HEX(r->reset & cmask));
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        if (f->etype != NULL)
            emit_enum_check(
                e, f->etype,
                talloc_asprintf(e->tmp, "%s >> %u & %s", v, f->lo_v,
                                HEX(vdevc_mask(f->hi_v - f->lo_v + 1))));
    }
    if (r->n > 1)
        P("    }\n");
}

static void
emit_validate(struct vdevc_emit *e)
{
    P("static int\n%s_validate(struct vdev_dev *dev, const void *candidate)\n"
      "{\n",
      e->name);
    P("    const struct %s_state *s = candidate;\n", e->name);
    P("    (void)dev;\n    (void)s;\n");
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        emit_validate_reg(e, e->d->regs.v[i]);
        flush_tmp(e);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        if (v->buffer)
            continue;
        if (v->etype != NULL)
            emit_enum_check(e, v->etype,
                            talloc_asprintf(e->tmp, "s->%s", v->name));
        else if (v->width != 8 && v->width != 16 && v->width != 32 &&
                 v->width != 64)
            P("    if (s->%s > %s)\n        return -EINVAL;\n", v->name,
              HEX(vdevc_mask(v->width)));
    }
    P("    return 0;\n}\n\n");
    flush_tmp(e);
}

static void
emit_post_load(struct vdevc_emit *e)
{
    P("/* After a load: fields that are not migrated start from their reset\n"
      " * values; interrupt lines follow the loaded state. */\n");
    P("static void\n%s_post_load(struct vdev_dev *dev)\n{\n", e->name);
    P("    struct %s *d = vdev_private(dev);\n", e->name);
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        uint64_t m = 0;
        for (unsigned k = 0; k < r->fields.n; k++) {
            const struct vdevc_field *f = r->fields.v[k];
            if (f->nomigrate)
                m |= vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
        }
        if (m == 0 || r->nomigrate)
            continue;
        if (r->n > 1)
            P("    for (unsigned i = 0; i < %u; i++)\n    ", r->n);
        P("    %s = (%s & ~%s) | %s;\n", elem(e, r), elem(e, r), HEX(m),
          HEX(r->reset & m));
    }
    P("    %s_update_irqs(d, %s);\n}\n\n", e->name, HEX(all_irqs(e->d)));
    P("static void\n%s_reset(struct vdev_dev *dev, void *opaque)\n{\n",
      e->name);
    P("    struct %s *d = vdev_private(dev);\n    (void)opaque;\n", e->name);
    P("    %s_reset_values(dev, &d->s);\n", e->name);
    P("    %s_update_irqs(d, %s);\n}\n\n", e->name, HEX(all_irqs(e->d)));
    flush_tmp(e);
}

static void
mig_entry(struct vdevc_emit *e, const char *name, const char *member,
          unsigned since, uint64_t size, int line)
{
    (void)line;
    char id[16], sn[16], sz[24];
    snprintf(id, sizeof id, "0x%08xu", vdevc_fnv1a(name));
    snprintf(sn, sizeof sn, "%u", since);
    snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
    vdevc_out_cat(e->o, "    {\n        .name = \"", name,
                  "\",\n        .id = ", id, ",\n        .since = ", sn,
                  ",\n        .offset = offsetof(struct ", e->name, "_state, ",
                  member, "),\n        .size = ", sz, ",\n    },\n", NULL);
}

static unsigned
emit_mig_table(struct vdevc_emit *e)
{
    unsigned n = 0;
    for (unsigned i = 0; i < e->d->regs.n; i++)
        n += !((struct vdevc_reg *)e->d->regs.v[i])->nomigrate;
    for (unsigned i = 0; i < e->d->vars.n; i++)
        n += !((struct vdevc_var *)e->d->vars.v[i])->nomigrate;
    if (n == 0)
        return 0;
    P("/* Migrated state: id = FNV-1a 32 of the name, stable across "
      "revisions. */\n");
    P("static const struct vdev_mig_field %s_mig_fields[%u] = {\n", e->name, n);
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        const struct vdevc_reg *r = e->d->regs.v[i];
        if (!r->nomigrate)
            mig_entry(e, r->qname, r->cname, r->since,
                      (uint64_t)r->n * (r->width / 8), r->hdr.loc.first_line);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        if (v->nomigrate)
            continue;
        char *q = talloc_asprintf(e->tmp, "state.%s", v->name);
        uint64_t size = v->buffer        ? v->len
                        : v->width <= 8  ? 1
                        : v->width <= 16 ? 2
                        : v->width <= 32 ? 4
                                         : 8;
        mig_entry(e, q, v->name, v->since, size, v->hdr.loc.first_line);
    }
    P("};\n\n");
    flush_tmp(e);
    return n;
}

/* ------------------------------------------------------------ named values */

struct var_entry {
    const char *name, *get, *set;
    unsigned bits;
};

static void
emit_getter(struct vdevc_emit *e, const char *fn, const char *expr)
{
    vdevc_out_cat(e->o, e->NAME, "_GETTER(", fn, ", ", expr, ")\n", NULL);
}

static void
emit_setter_head(struct vdevc_emit *e, const char *fn, unsigned bits)
{
    P("\nstatic int\n%s(struct vdev_dev *dev, uint64_t v)\n{\n", fn);
    P("    struct %s *d = vdev_private(dev);\n", e->name);
    if (bits < 64)
        P("    if (v > %s)\n        return -ERANGE;\n", HEX(vdevc_mask(bits)));
}

static void
var_setter(struct vdevc_emit *e, const struct vdevc_var *v, const char *fn)
{
    emit_setter_head(e, fn, v->width);
    P("    const uint64_t reg_old = d->s.%s;\n", v->name);
    P("    (void)reg_old;\n");
    P("    d->s.%s = v;\n", v->name);
    if (v->on_write != NULL)
        hook_body(e, v->on_write,
                  talloc_asprintf(e->tmp, "%s on write", v->name), "v",
                  "reg_old", 1);
    uint64_t irqs = v->irqs;
    if (v->on_write != NULL)
        irqs |= v->on_write->calls ? all_irqs(e->d) : v->on_write->irqs;
    if (irqs != 0)
        P("    %s_update_irqs(d, %s);\n", e->name, HEX(irqs));
    P("    return 0;\n}\n\n");
}

static void
reg_vars(struct vdevc_emit *e, const struct vdevc_reg *r, struct vdevc_vec *vs)
{
    if (r->n > 1)
        return;
    struct var_entry *x = talloc_zero(e, struct var_entry);
    x->name = r->qname;
    x->bits = r->width;
    x->get = talloc_asprintf(x, "%s_get_%s", e->name, r->cname);
    emit_getter(e, x->get, talloc_asprintf(e->tmp, "d->s.%s", r->cname));
    if (r->external) {
        x->set = talloc_asprintf(x, "%s_set_%s", e->name, r->cname);
        emit_setter_head(e, x->set, r->width);
        P("    d->s.%s = v;\n", r->cname);
        if (r->irqs != 0)
            P("    %s_update_irqs(d, %s);\n", e->name, HEX(r->irqs));
        P("    return 0;\n}\n\n");
    }
    vdevc_vec_push(e, vs, x);
    for (unsigned k = 0; k < r->fields.n; k++) {
        const struct vdevc_field *f = r->fields.v[k];
        if (f->implicit)
            continue;
        unsigned w = f->hi_v - f->lo_v + 1;
        const char *m = HEX(vdevc_mask(w));
        x = talloc_zero(e, struct var_entry);
        x->name = talloc_asprintf(x, "%s.%s", r->qname, f->name);
        x->bits = w;
        x->get = talloc_asprintf(x, "%s_get_%s_%s", e->name, r->cname, f->name);
        emit_getter(e, x->get,
                    talloc_asprintf(e->tmp, "d->s.%s >> %u & %s", r->cname,
                                    f->lo_v, m));
        if (f->external) {
            x->set =
                talloc_asprintf(x, "%s_set_%s_%s", e->name, r->cname, f->name);
            emit_setter_head(e, x->set, w);
            P("    d->s.%s = (d->s.%s & ~%s) | v << %u;\n", r->cname, r->cname,
              HEX(vdevc_mask(w) << f->lo_v), f->lo_v);
            if (r->irqs != 0)
                P("    %s_update_irqs(d, %s);\n", e->name, HEX(r->irqs));
            P("    return 0;\n}\n\n");
        }
        vdevc_vec_push(e, vs, x);
    }
}

static unsigned
emit_vars(struct vdevc_emit *e)
{
    struct vdevc_vec vs = {0};
    P("/* Named values: a getter per register, field and variable. */\n");
    const char *lines[] = {
        talloc_asprintf(e->tmp, "#define %s_GETTER(fn, expr)", e->NAME),
        "    static uint64_t fn(struct vdev_dev *dev)",
        "    {",
        talloc_asprintf(
            e->tmp, "        const struct %s *d = vdev_private(dev);", e->name),
        "        return (expr);",
    };
    for (unsigned i = 0; i < 5; i++)
        P("%-75s \\\n", lines[i]);
    P("    }\n\n");
    for (unsigned i = 0; i < e->d->regs.n; i++) {
        reg_vars(e, e->d->regs.v[i], &vs);
        flush_tmp(e);
    }
    for (unsigned i = 0; i < e->d->vars.n; i++) {
        const struct vdevc_var *v = e->d->vars.v[i];
        if (v->buffer)
            continue;
        struct var_entry *x = talloc_zero(e, struct var_entry);
        x->name = talloc_asprintf(x, "state.%s", v->name);
        x->bits = v->width;
        x->get = talloc_asprintf(x, "%s_get_state_%s", e->name, v->name);
        emit_getter(e, x->get, talloc_asprintf(e->tmp, "d->s.%s", v->name));
        if (v->external) {
            x->set = talloc_asprintf(x, "%s_set_state_%s", e->name, v->name);
            var_setter(e, v, x->set);
        }
        vdevc_vec_push(e, &vs, x);
        flush_tmp(e);
    }
    if (vs.n == 0)
        return 0;
    P("/* Named values for the management channel; external ones are "
      "settable. */\n");
    P("static const struct vdev_var %s_vars[%u] = {\n", e->name, vs.n);
    for (unsigned i = 0; i < vs.n; i++) {
        const struct var_entry *x = vs.v[i];
        char bits[8];
        snprintf(bits, sizeof bits, "%u", x->bits);
        vdevc_out_cat(e->o, "    {\n        .name = \"", x->name,
                      "\",\n        .bits = ", bits,
                      ",\n        .get = ", x->get, ",\n", NULL);
        if (x->set != NULL)
            vdevc_out_cat(e->o,
                          "        .external = true,\n        .set = ", x->set,
                          ",\n", NULL);
        vdevc_out_puts(e->o, "    },\n");
    }
    P("};\n\n");
    return vs.n;
}

/* ------------------------------------------------------------ create */

static void
emit_caps(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->caps.n; i++) {
        const struct vdevc_cap *c = e->d->caps.v[i];
        if (strcmp(c->name, "pm") == 0) {
            P("    if (vdev_cap_pm(dev, %s) < 0)\n", HEX(c->offset));
        } else if (strcmp(c->name, "msi") == 0) {
            P("    if (vdev_cap_msi(dev, %s, %u, %s, %s) < 0)\n",
              HEX(c->offset), c->vectors, c->addr64 ? "true" : "false",
              c->maskable ? "true" : "false");
        } else if (strcmp(c->name, "msix") == 0) {
            P("    if (vdev_cap_msix(dev, %s, %u, %u, %s, %u, %s) < 0)\n",
              HEX(c->offset), c->vectors, c->table_bar, HEX(c->table_off),
              c->pba_bar, HEX(c->pba_off));
        } else if (strcmp(c->name, "pcie") == 0) {
            P("    if (vdev_cap_pcie(dev, %s, %s, %u, %u) < 0)\n",
              HEX(c->offset),
              c->pcie_type == 1   ? "VDEV_PCIE_LEGACY_ENDPOINT"
              : c->pcie_type == 9 ? "VDEV_PCIE_RC_INTEGRATED"
                                  : "VDEV_PCIE_ENDPOINT",
              c->speed, c->lwidth);
        } else if (strcmp(c->name, "vendor") == 0) {
            P("    if (vdev_cap_vendor(dev, %s, %s_vendor%u_body, %u, "
              "%s_vendor%u_wmask) < 0)\n",
              HEX(c->offset), e->name, i, c->body_len, e->name, i);
        } else if (strcmp(c->name, "dsn") == 0) {
            P("    if (vdev_ext_cap_dsn(dev, %s, %s) < 0)\n", HEX(c->offset),
              HEX(c->serial));
        }
        P("        goto fail;\n");
    }
}

static void
emit_vendor_bodies(struct vdevc_emit *e)
{
    for (unsigned i = 0; i < e->d->caps.n; i++) {
        const struct vdevc_cap *c = e->d->caps.v[i];
        if (strcmp(c->name, "vendor") != 0)
            continue;
        for (int w = 0; w < 2; w++) {
            const uint8_t *bytes = w ? c->wmask : c->body;
            P("static const uint8_t %s_vendor%u_%s[%u] = {", e->name, i,
              w ? "wmask" : "body", c->body_len ? c->body_len : 1);
            for (unsigned k = 0; k < c->body_len; k++)
                P("%s0x%02x,", k % 8 ? " " : "\n    ", bytes[k]);
            P("%s};\n\n", c->body_len ? "\n" : "0");
        }
    }
}

/* Every declared companion function is referenced, even one no hook
 * calls: a missing one is a link error, never a silent gap. */
static void
emit_companions(struct vdevc_emit *e)
{
    if (e->d->externs.n == 0)
        return;
    P("/* Companion functions (%s.h): all must be linked in. */\n", e->name);
    P("__attribute__((used)) static void (*const %s_companions[])(void) = {\n",
      e->name);
    for (unsigned i = 0; i < e->d->externs.n; i++)
        P("    (void (*)(void))%s,\n",
          ((struct vdevc_extern *)e->d->externs.v[i])->name);
    P("};\n\n");
}

static void
emit_create(struct vdevc_emit *e, unsigned nr_mig, unsigned nr_vars)
{
    const struct vdevc_device *d = e->d;
    emit_companions(e);
    emit_vendor_bodies(e);
    P("struct vdev_dev *\n%s_create(void *mem_ctx)\n{\n", e->name);
    P("    static const struct vdev_pci_ident ident = {\n");
    P("        .vendor_id = 0x%04llx,\n", (unsigned long long)d->vendor);
    P("        .device_id = 0x%04llx,\n", (unsigned long long)d->device);
    P("        .subsys_vendor_id = 0x%04llx,\n",
      (unsigned long long)d->subsys_vendor);
    P("        .subsys_id = 0x%04llx,\n", (unsigned long long)d->subsys);
    P("        .class_code = 0x%06llx,\n", (unsigned long long)d->class_code);
    P("        .revision = 0x%02llx,\n", (unsigned long long)d->revision);
    P("        .intx_pin = %u,\n    };\n", d->intx);
    P("    struct vdev_dev *dev = vdev_dev_create(mem_ctx, \"%s\", &ident);\n",
      e->name);
    P("    if (dev == NULL)\n        return NULL;\n");
    P("    struct %s *d = talloc_zero(dev, struct %s);\n", e->name, e->name);
    P("    if (d == NULL)\n        goto fail;\n");
    P("    d->dev = dev;\n    vdev_set_private(dev, d);\n");
    P("    %s_reset_values(dev, &d->s);\n", e->name);
    for (unsigned i = 0; i < d->bars.n; i++) {
        const struct vdevc_bar *b = d->bars.v[i];
        P("    if (vdev_bar_add(dev, %u, &%s_bar%u) != 0)\n        goto "
          "fail;\n",
          b->idx, e->name, b->idx);
    }
    emit_caps(e);
    P("    vdev_set_reset_cb(dev, %s_reset, NULL);\n", e->name);
    P("    d->mig = (struct vdev_mig_desc){\n");
    P("        .device = \"%s\",\n        .version = %u,\n", e->name,
      d->version);
    if (nr_mig)
        P("        .fields = %s_mig_fields,\n", e->name);
    else
        P("        .fields = NULL,\n");
    P("        .nr_fields = %u,\n        .state = &d->s,\n", nr_mig);
    P("        .state_size = sizeof(d->s),\n");
    P("        .validate = %s_validate,\n", e->name);
    P("        .reset_values = %s_reset_values,\n", e->name);
    P("        .post_load = %s_post_load,\n    };\n", e->name);
    P("    if (vdev_set_migration(dev, &d->mig) != 0)\n        goto fail;\n");
    if (nr_vars)
        P("    if (vdev_register_vars(dev, %s_vars, %u) != 0)\n"
          "        goto fail;\n",
          e->name, nr_vars);
    P("    return dev;\nfail:\n    talloc_free(dev);\n    return NULL;\n}\n\n");
    P("#ifndef VDEV_NO_MAIN\nint\nmain(int argc, char **argv)\n{\n");
    P("    static const struct vdev_server_info info = {\n");
    P("        .name = \"vdev-%s\",\n", e->name);
    P("        .description = \"%s device (%s)\",\n", e->name, e->file);
    P("    };\n    return vdev_server_main(argc, argv, &info, %s_create);\n",
      e->name);
    P("}\n#endif\n");
}

char *
vdevc_emit_c(void *mem_ctx, struct vdevc_unit *u)
{
    struct vdevc_emit *e = vdevc_emit_new(mem_ctx, u);
    emit_preamble(e);
    emit_all_hooks(e);
    emit_reg_table(e);
    emit_reg_access(e);
    emit_bars(e);
    emit_irqs(e);
    emit_reset_values(e);
    emit_validate(e);
    emit_post_load(e);
    unsigned nr_mig = emit_mig_table(e);
    unsigned nr_vars = emit_vars(e);
    emit_create(e, nr_mig, nr_vars);
    char *text = vdevc_out_steal(mem_ctx, e->o);
    talloc_free(e);
    return text;
}
