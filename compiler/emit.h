/* Shared by the C and header generators: the emitter state, the
 * statement language in C (emit_stmt.c) and its expressions
 * (emit_expr.c). */
#ifndef VDEVC_EMIT_H
#define VDEVC_EMIT_H

#include "out.h"
#include "vdevc.h"

struct vdevc_emit {
    struct vdevc_unit *u;
    struct vdevc_device *d;
    struct vdevc_out *o;
    void *tmp;        /* scratch strings, freed with the emitter */
    const char *name; /* C prefix: the device name */
    const char *NAME; /* its upper-case form */
    const char *file; /* source as named in comments */
    unsigned temps;   /* unique temporaries in statement expressions */
    unsigned flushes;
    /* The hook being written: how its `value`, `old` and `index` read in
     * C, and their bounds. */
    const char *value, *old, *index;
    unsigned value_bits;
    uint64_t index_max;
};

/* Printf to the emitter's output; a line at an indent. */
#define P(...) vdevc_out_printf(e->o, __VA_ARGS__)
#define L(ind, ...) vdevc_out_line(e->o, ind, __VA_ARGS__)

struct vdevc_emit *vdevc_emit_new(void *mem_ctx, struct vdevc_unit *u);
/* Frees the scratch strings now and then (between top-level items). */
void vdevc_emit_flush(struct vdevc_emit *e);
/* "/ * edu.vdev:42 * /" or "#line 42 "edu.vdev"", on its own line. */
void vdevc_emit_where(struct vdevc_emit *e, int line, const char *what,
                      int indent);
/* 0x... with a suffix wide enough for 64 bits (decimal below 10). */
char *vdevc_hex(void *ctx, uint64_t v);
/* The same in one of 64 rotating static buffers: for table emitters that
 * print it at once (at most 64 alive). */
const char *vdevc_hex_ring(uint64_t v);
#define HEX(v) vdevc_hex_ring(v)

/* emit_expr.c: an expression as C computing its .vdev value (all of it,
 * its low `bits`, or its truth); an interrupt level (x != 0). */
char *vdevc_emit_expr(struct vdevc_emit *e, const struct vdevc_expr *x);
char *vdevc_emit_arg(struct vdevc_emit *e, const struct vdevc_expr *x,
                     unsigned bits);
char *vdevc_emit_cond(struct vdevc_emit *e, const struct vdevc_expr *x);
char *vdevc_emit_level(struct vdevc_emit *e, const struct vdevc_expr *x);
/* Bits [lo, lo + w) of a value at C place; a constant (masks of mostly
 * ones as ~k). */
char *vdevc_emit_bits(struct vdevc_emit *e, const char *place, unsigned storage,
                      unsigned lo, unsigned w);
const char *vdevc_emit_const(struct vdevc_emit *e, uint64_t v);
/* `place (op)= rhs` for target t, keeping the storage bits t does not
 * own; one line at indent. */
void vdevc_emit_store(struct vdevc_emit *e, const struct vdevc_expr *t,
                      const char *place, const struct vdevc_expr *rhs, int op,
                      int indent);

/* emit_stmt.c: a hook's statements at an indent; whether statements use
 * the device's state (d) or a local. */
void vdevc_emit_stmt(struct vdevc_emit *e, const struct vdevc_stmt *s,
                     int indent);
bool vdevc_stmt_uses_state(const struct vdevc_stmt *s);
bool vdevc_expr_uses_state(const struct vdevc_expr *x);
/* Does s need the device (interrupts, DMA, calls)? */
bool vdevc_stmt_uses_dev(const struct vdevc_stmt *s);

/* emit_hooks.c: hook functions, interrupt expressions, setters. */
bool vdevc_reg_has_hooks(const struct vdevc_reg *r, bool write);
void vdevc_emit_all_hooks(struct vdevc_emit *e);
uint64_t vdevc_all_irqs(const struct vdevc_device *d);
void vdevc_emit_irqs(struct vdevc_emit *e);
void vdevc_emit_reg_setter(struct vdevc_emit *e, const struct vdevc_reg *r,
                           const char *fn);
void vdevc_emit_field_setter(struct vdevc_emit *e, const struct vdevc_reg *r,
                             const struct vdevc_field *f, const char *fn);
void vdevc_emit_var_setter(struct vdevc_emit *e, const struct vdevc_var *v,
                           const char *fn);

/* emit_tables.c: register and BAR tables, state (reset values, load
 * checks), migration fields, named values. Each returns its entry count
 * (0: nothing written). */
unsigned vdevc_emit_bar_tables(struct vdevc_emit *e);
bool vdevc_has_resets(const struct vdevc_device *d);
bool vdevc_emit_reset_values(struct vdevc_emit *e);
/* The load checks as C statements, or NULL when there are none; the
 * function around them. */
const char *vdevc_validate_checks(struct vdevc_emit *e);
void vdevc_emit_validate(struct vdevc_emit *e, const char *checks);
bool vdevc_emit_post_load(struct vdevc_emit *e);
unsigned vdevc_emit_mig_table(struct vdevc_emit *e);
unsigned vdevc_emit_vars(struct vdevc_emit *e);

#endif /* VDEVC_EMIT_H */
