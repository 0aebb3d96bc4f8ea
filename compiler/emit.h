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
    size_t file_len;
    unsigned temps; /* unique temporaries in statement expressions */
    unsigned flushes;
    /* The hook being written: how its `value`, `old` and `index` read in
     * C, and their bounds. */
    const char *value, *old, *index;
    unsigned value_bits;
    uint64_t index_max;
    const char *width;    /* the hook's `width` in C */
    unsigned result_bits; /* the proc being written: its result */
    /* The expression printer's scratch (its tree and strings): bump
     * allocated, dropped at each flush with e->tmp. */
    struct vdevc_arena *arena;
    struct vdevc_out *fmt; /* vdevc_emit_strf's formatting buffer */
};

/* Printf to the emitter's output; a line at an indent. */
#define P(...) vdevc_out_printf(e->o, __VA_ARGS__)
#define L(ind, ...) vdevc_out_line(e->o, ind, __VA_ARGS__)

struct vdevc_emit *vdevc_emit_new(void *mem_ctx, struct vdevc_unit *u);
/* The output `all` writes: as text under mem_ctx; streamed to f (0 or
 * -EIO). */
char *vdevc_emit_text(void *mem_ctx, struct vdevc_unit *u,
                      void (*all)(struct vdevc_emit *e));
int vdevc_emit_stream(struct vdevc_unit *u, FILE *f,
                      void (*all)(struct vdevc_emit *e));
/* Frees the scratch strings now and then (between top-level items). */
void vdevc_emit_flush(struct vdevc_emit *e);
/* Scratch as e->tmp's, cheaper (no talloc chunk each): size zeroed
 * bytes; a formatted string. Valid until the next flush. */
void *vdevc_emit_alloc(struct vdevc_emit *e, size_t size);
char *vdevc_emit_strf(struct vdevc_emit *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s in upper case, as scratch. */
char *vdevc_emit_upper(struct vdevc_emit *e, const char *s);
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
/* Is local `slot` read by s? */
bool vdevc_stmt_reads_local(const struct vdevc_stmt *s, int slot);

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

/* emit_proc.c: procs (callees first), device hooks, the reset that keeps
 * sticky state, bank conditions and index expressions; what the model
 * descriptor and the constructor name. */
void vdevc_emit_procs(struct vdevc_emit *e);
const char *vdevc_proc_cname(struct vdevc_emit *e, const struct vdevc_proc *p);
void vdevc_emit_banks(struct vdevc_emit *e);
bool vdevc_emit_device_reset(struct vdevc_emit *e, bool reset_values);
/* Does any register bit or variable survive a device reset? */
bool vdevc_any_sticky(const struct vdevc_device *d);
bool vdevc_emit_on_init(struct vdevc_emit *e);

/* emit_tables.c: register and BAR tables, state (reset values, load
 * checks), migration fields, named values. Each returns its entry count
 * (0: nothing written). */
unsigned vdevc_emit_bar_tables(struct vdevc_emit *e);
/* Config-space registers and their windows; false when there are none. */
bool vdevc_emit_config_table(struct vdevc_emit *e);
bool vdevc_has_resets(const struct vdevc_device *d);
bool vdevc_emit_reset_values(struct vdevc_emit *e);
/* The load checks as C statements, or NULL when there are none; the
 * function around them. */
const char *vdevc_validate_checks(struct vdevc_emit *e);
void vdevc_emit_validate(struct vdevc_emit *e, const char *checks);
bool vdevc_emit_post_load(struct vdevc_emit *e);
unsigned vdevc_emit_mig_table(struct vdevc_emit *e);
unsigned vdevc_emit_vars(struct vdevc_emit *e);

/* A device-level hook (timer, stream) as `static void fn(dev[, params])`:
 * stream kicks, its statements, then the interrupts they may change. */
void vdevc_emit_device_hook(struct vdevc_emit *e, const struct vdevc_hook *h,
                            const char *fn, const char *params,
                            const char *what);
/* Streams whose FIFOs s pushes, pops or clears: bit i for stream id i
 * (of the device's first nr_streams). */
uint32_t vdevc_stmt_streams(const struct vdevc_stmt *s, unsigned nr_streams);

/* emit_time.c: timers, now, start / stop / emit. */
void vdevc_emit_timer_handles(struct vdevc_emit *e);
void vdevc_emit_timer_hooks(struct vdevc_emit *e);
/* "!(d->timer.t = vdev_timer_new(...)) ||" per timer, for create(). */
void vdevc_emit_timer_create(struct vdevc_emit *e);
void vdevc_emit_host_stmt(struct vdevc_emit *e, const struct vdevc_stmt *s,
                          int indent);

/* emit_stream.c: FIFOs and streams. */
void vdevc_emit_fifo_members(struct vdevc_emit *e);
void vdevc_emit_fifo_checks(struct vdevc_emit *e, struct vdevc_out *o);
unsigned vdevc_fifo_mig_count(const struct vdevc_device *d);
void vdevc_emit_fifo_mig(struct vdevc_emit *e);
/* The streams' hooks and table; its entry count. */
unsigned vdevc_emit_streams(struct vdevc_emit *e);
void vdevc_emit_kicks(struct vdevc_emit *e, uint32_t streams, int indent);

#endif /* VDEVC_EMIT_H */
