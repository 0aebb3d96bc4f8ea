/* vdevc internals: one compilation unit, the passes run over it, and the
 * helpers they share. The driver (main.c) and the tests use only this. */
#ifndef VDEVC_H
#define VDEVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ast.h"
#include "diag.h"

#define VDEVC_VERSION "0.1.0"
#define VDEVC_MAX_SOURCE (64u << 20)
#define VDEVC_MAX_ARRAY 65536u
#define VDEVC_MAX_IRQS 64u
#define VDEVC_MAX_LOOP (1u << 20) /* iterations of one loop */

/* One compilation: everything below hangs off it and dies with it. */
struct vdevc_unit {
    const char *file; /* source path as given */
    const char *src;
    size_t len;
    struct vdevc_diag *diag;
    struct vdevc_device *dev;
    struct vdevc_symtab *syms;
    struct vdevc_symtab *warned; /* warnings given once per place */
    bool line_directives;        /* #line instead of comments */
    const char *header_name;     /* #include in the .c file */
    uint64_t bank_work;          /* sema_bank.c: assignments tried so far */
};

/* Creates a unit over a copy of src; diagnostics go to diag_out (NULL:
 * only collected in unit->diag->text). */
struct vdevc_unit *vdevc_unit_new(void *mem_ctx, const char *file,
                                  const char *src, size_t len, FILE *diag_out);
/* Parse, check, lay out. 0 or -EINVAL (diagnostics reported). */
int vdevc_compile(struct vdevc_unit *u);

/* Code generators: return a string under mem_ctx, or NULL. */
char *vdevc_emit_c(void *mem_ctx, struct vdevc_unit *u);
char *vdevc_emit_h(void *mem_ctx, struct vdevc_unit *u);
char *vdevc_emit_json(void *mem_ctx, struct vdevc_unit *u);
/* The same C and header written to f as they are made (a large device's
 * text is never whole in memory): 0 or -EIO. */
int vdevc_emit_c_file(struct vdevc_unit *u, FILE *f);
int vdevc_emit_h_file(struct vdevc_unit *u, FILE *f);
/* emit_doc.c: the register map as Markdown, and a guest-driver header. */
char *vdevc_emit_doc(void *mem_ctx, struct vdevc_unit *u);
char *vdevc_emit_guest_h(void *mem_ctx, struct vdevc_unit *u);

/* migcheck.c: can NEW load OLD's migration stream? Reports each field
 * that breaks it (removed, resized, retyped, version not raised) on the
 * units' diagnostics; 0 when compatible (a line saying so goes to out). */
int vdevc_check_migration(struct vdevc_unit *old, struct vdevc_unit *new,
                          FILE *out);
/* check_migration.c: the stream's runtime part (PCI identity, MSI-X table,
 * backed BAR memory, capability layout) on the units' diagnostics. */
void vdevc_check_migration_runtime(struct vdevc_unit *old,
                                   struct vdevc_unit *new);

/* files.c: a whole file ("-": stdin) under ctx, 0 or -errno; a write
 * through a temporary file ("-" or NULL: stdout), 0 or 1 (reported). */
int vdevc_read_file(void *ctx, const char *path, char **_buf, size_t *_len);
int vdevc_write_file(void *ctx, const char *path, const char *text);
/* The same, the text made by write(arg, f) (0 or -errno) as it goes. */
int vdevc_write_stream(void *ctx, const char *path,
                       int (*write)(void *arg, FILE *f), void *arg);
/* fmt_cmd.c: `vdevc fmt [--check] [--stdout] FILE...`; the exit status. */
int vdevc_fmt_main(int argc, char **argv);

/* ------------------------------------------------------------ symtab.c */

enum vdevc_sym_kind {
    SYM_REG,
    SYM_FIELD,
    SYM_VAR,
    SYM_ENUM,
    SYM_ENUMC,
    SYM_EXTERN,
    SYM_BLOCK,
    SYM_INSTANCE,
    SYM_CNAME,
    SYM_PROC,
    SYM_TIMER,
    SYM_FIFO, /* also a stream's "NAME.rx", "NAME.tx" */
    SYM_STREAM,
    SYM_EVENT,
};

struct vdevc_sym {
    const char *name;
    enum vdevc_sym_kind kind;
    void *ptr;
    struct vdevc_loc loc;
};

struct vdevc_symtab *vdevc_symtab_new(void *mem_ctx);
void vdevc_symtab_reserve(struct vdevc_symtab *t, size_t n);
/* Symbols are valid until the next vdevc_sym_add(); names are not copied
 * and must live as long as the table. */
struct vdevc_sym *vdevc_sym_get(struct vdevc_symtab *t, const char *name);
/* Returns the existing symbol when the name is taken (nothing added). */
struct vdevc_sym *vdevc_sym_add(struct vdevc_symtab *t, const char *name,
                                enum vdevc_sym_kind kind, void *ptr,
                                struct vdevc_loc loc);
struct vdevc_suggest;
/* "did you mean": the name nearest to word among the symbols of the given
 * kinds (a mask of 1 << SYM_x) directly under prefix ("" or "ch0."),
 * offered to `more` when not NULL (which may hold other candidates). */
const char *vdevc_sym_nearest(struct vdevc_symtab *t, const char *word,
                              const char *prefix, unsigned kinds,
                              struct vdevc_suggest *more);
/* Reports duplicate-name with a note at the first definition. */
bool vdevc_sym_define(struct vdevc_unit *u, const char *name,
                      enum vdevc_sym_kind kind, void *ptr, struct vdevc_loc loc,
                      const char *what);

/* ------------------------------------------------------------ sema*.c */

int vdevc_sema(struct vdevc_unit *u);
/* sema_depth.c: false (reported) when an expression is nested so deeply
 * that the recursive passes must not see it. */
bool vdevc_sema_depth(struct vdevc_unit *u);
/* sema_decl.c: identity, enums, externs, state. */
void vdevc_sema_decls(struct vdevc_unit *u);
/* sema_regs.c: blocks, BARs, registers, fields, overlaps. */
void vdevc_sema_bars(struct vdevc_unit *u);
/* sema_caps.c: interrupts sources and capabilities. */
void vdevc_sema_caps(struct vdevc_unit *u);
/* sema_stmt.c: hooks and interrupt expressions. */
void vdevc_sema_behaviour(struct vdevc_unit *u);
/* sema_proc.c: procedures' names and parameters (with the declarations),
 * then their bodies and call graph (before the hooks that call them), and
 * which are used (after the hooks). */
void vdevc_sema_proc_decls(struct vdevc_unit *u);
void vdevc_sema_proc_bodies(struct vdevc_unit *u);
void vdevc_sema_proc_usage(struct vdevc_unit *u);
/* sema_stmt.c: a proc's body, its parameters as locals. */
void vdevc_sema_proc_body(struct vdevc_unit *u, struct vdevc_proc *p);
/* sema_stmt.c: a bank condition or index expression (what: "'when'
 * conditions"): registers, fields, variables and constants only. */
bool vdevc_sema_cond(struct vdevc_unit *u, struct vdevc_expr *e,
                     const char *prefix, const char *what);
/* sema_bank.c: registers sharing an offset (banks, ro/wo pairs,
 * index/data arrays): conditions disjoint per direction, or errors. */
void vdevc_sema_banks(struct vdevc_unit *u);
/* A value for the bits of a register or variable (one of reg, var). */
struct vdevc_assign {
    struct vdevc_reg *reg;
    struct vdevc_var *var;
    uint64_t mask, value;
};
/* An assignment of the bits cond reads that makes it true (low values
 * first), as an array under ctx: its length, or -1 when cond is never
 * true, reads too many bits to tell, or *work (assignments tried, when
 * not NULL) passes the budget. */
int vdevc_cond_witness(void *ctx, const struct vdevc_expr *cond, uint64_t *work,
                       struct vdevc_assign **_out);
/* Can a guest read (write) reach the register at all? */
bool vdevc_reg_readable(const struct vdevc_reg *r);
bool vdevc_reg_writable(const struct vdevc_reg *r);
/* sema_host.c: timers, FIFOs, streams and events; what statements and
 * expressions do with them. A host context says where an expression is:
 * a hook (what it changes feeds which interrupts) or an interrupt
 * expression (irq_bit set; no time, no methods). */
struct vdevc_host_ctx {
    struct vdevc_hook *hook;
    uint64_t irq_bit;
};
#define VDEVC_MAX_STREAMS 16u
#define VDEVC_MAX_TIMERS 256u
#define VDEVC_MAX_FIFO 65536u
void vdevc_sema_host_decls(struct vdevc_unit *u);
/* Is a symbol of this kind something with members and methods? */
bool vdevc_host_object(enum vdevc_sym_kind k);
/* e = obj.member (obj a timer, FIFO or stream); false when reported. */
bool vdevc_host_member(struct vdevc_unit *u, const struct vdevc_host_ctx *c,
                       const struct vdevc_sym *obj, struct vdevc_expr *e);
/* e = obj.method(args), its arguments resolved; obj NULL when e->lhs
 * names nothing. value: the result is used. */
bool vdevc_host_method(struct vdevc_unit *u, const struct vdevc_host_ctx *c,
                       const struct vdevc_sym *obj, struct vdevc_expr *e,
                       bool value);
/* `now` in e's place. */
bool vdevc_host_now(struct vdevc_unit *u, const struct vdevc_host_ctx *c,
                    struct vdevc_expr *e);
/* start, stop, emit (and unknown words), the delay resolved. */
void vdevc_host_stmt(struct vdevc_unit *u, struct vdevc_stmt *st);
/* The timers' and streams' hooks; after the interrupts are resolved. */
void vdevc_sema_host_behaviour(struct vdevc_unit *u);
/* sema_stmt.c, for the above: a device-level hook (no value, old, index);
 * does e fit a `width`-bit target named what? */
void vdevc_check_device_hook(struct vdevc_unit *u, struct vdevc_hook *h);
bool vdevc_expr_fits(struct vdevc_unit *u, struct vdevc_expr *e, unsigned width,
                     const char *what);
/* sema_names.c: C keywords, migration id collisions. */
void vdevc_sema_names(struct vdevc_unit *u);
/* sema_warn.c: what is declared but never used or read (run on a device
 * without errors, after the passes above). */
void vdevc_sema_warnings(struct vdevc_unit *u);
/* Reports warning w at loc unless it was already reported there (a block
 * instantiated N times would say it N times); false when not reported. */
bool vdevc_warn_once(struct vdevc_unit *u, enum vdevc_warning w,
                     struct vdevc_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Constant expressions (offsets, sizes, resets, indexes). Reports and
 * returns false when e is not constant. */
bool vdevc_const_eval(struct vdevc_unit *u, struct vdevc_expr *e,
                      uint64_t *out);

/* A hook into its slot (on_read, on_init, ...), or duplicate-name when
 * the slot has one already. */
void vdevc_hook_place(struct vdevc_unit *u, struct vdevc_hook *h,
                      struct vdevc_hook **slot);

/* Attributes: the flag/value helpers mark what they consume; the check
 * reports anything left as not applying to `what`. */
struct vdevc_attr *vdevc_attr_find(struct vdevc_vec *attrs,
                                   enum vdevc_attr_kind kind, const char *name);
bool vdevc_attr_flag(struct vdevc_vec *attrs, const char *name);
bool vdevc_attr_value(struct vdevc_unit *u, struct vdevc_vec *attrs,
                      const char *name, uint64_t *out);
const char *vdevc_attr_doc(void *ctx, struct vdevc_vec *attrs);
void vdevc_attr_check(struct vdevc_unit *u, struct vdevc_vec *attrs,
                      const char *what);
/* Width (": N"), enum type (": name"); returns 0 when no width given. */
unsigned vdevc_attr_width(struct vdevc_unit *u, struct vdevc_vec *attrs,
                          struct vdevc_enum **_etype);
/* Reset value ("= v") against width and enum type; false when absent. */
bool vdevc_check_reset(struct vdevc_unit *u, struct vdevc_vec *attrs,
                       unsigned width, struct vdevc_enum *etype,
                       uint64_t *_reset, const char *what);
/* "since N" (1 when absent), checked against the device version. */
unsigned vdevc_attr_since(struct vdevc_unit *u, struct vdevc_vec *attrs);
enum vdevc_access vdevc_attr_access(struct vdevc_unit *u,
                                    struct vdevc_vec *attrs);
const char *vdevc_access_name(enum vdevc_access a);

/* ------------------------------------------------------------ ops.c */

/* What an operator does, for the printers and the folder. */
enum vdevc_op_flags {
    OPF_WRAPS = 1 << 0,   /* + - * ~ and unary -: the result wraps mod 2^64 */
    OPF_LOW = 1 << 1,     /* low result bits need only low operand bits */
    OPF_SHIFT = 1 << 2,   /* << >> */
    OPF_DIVIDES = 1 << 3, /* / %: zero divisor gives 0 */
    OPF_COMPARE = 1 << 4, /* == != < > <= >=: 0 or 1 */
    OPF_BITWISE = 1 << 5, /* & ^ | */
    OPF_LOGIC = 1 << 6,   /* && || !: 0 or 1 */
};

struct vdevc_opinfo {
    int op;         /* a character or enum vdevc_op */
    const char *c;  /* spelling, the same in .vdev and C */
    int prec;       /* C precedence, higher binds tighter */
    unsigned flags; /* enum vdevc_op_flags */
};

/* The binary (or unary) operator op, or NULL. */
const struct vdevc_opinfo *vdevc_op(int op);
const struct vdevc_opinfo *vdevc_unary_op(int op);
/* op on constants as the generated C computes it; false for an unknown
 * operator or a zero divisor (*out is then 0, as at run time). */
bool vdevc_op_eval(int op, uint64_t l, uint64_t r, uint64_t *out);
uint64_t vdevc_op_eval_unary(int op, uint64_t v);

/* ------------------------------------------------------------ layout.c */

/* Assigns config-space offsets to capabilities, deterministically,
 * around config-space registers. */
void vdevc_layout(struct vdevc_unit *u);
/* The windows of config space the registers of `config { }` need
 * ([offset, size) pairs, sorted): contiguous registers share one, and so
 * do neighbours with no capability between them. Their number (at most
 * VDEVC_MAX_CONFIG_WINDOWS: layout reports more). */
#define VDEVC_MAX_CONFIG_WINDOWS 64u
unsigned vdevc_config_windows(const struct vdevc_device *d, uint64_t (*win)[2]);

/* ------------------------------------------------------------ vectors */

/* Typed element access to the AST's pointer vectors:
 * vdevc_reg_at(&d->regs, i). */
#define VDEVC_VEC_AT(name, type)                                               \
    static inline type *vdevc_##name##_at(const struct vdevc_vec *v,           \
                                          unsigned i)                          \
    {                                                                          \
        return (type *)v->v[i];                                                \
    }
VDEVC_VEC_AT(reg, struct vdevc_reg)
VDEVC_VEC_AT(field, struct vdevc_field)
VDEVC_VEC_AT(var, struct vdevc_var)
VDEVC_VEC_AT(bar, struct vdevc_bar)
VDEVC_VEC_AT(cap, struct vdevc_cap)
VDEVC_VEC_AT(mem, struct vdevc_memory)
VDEVC_VEC_AT(irq, struct vdevc_interrupt)
VDEVC_VEC_AT(ext, struct vdevc_extern)
VDEVC_VEC_AT(param, struct vdevc_param)
VDEVC_VEC_AT(member, struct vdevc_enum_member)
VDEVC_VEC_AT(proc, struct vdevc_proc)
VDEVC_VEC_AT(timer, struct vdevc_timer)
VDEVC_VEC_AT(fifo, struct vdevc_fifo)
VDEVC_VEC_AT(stream, struct vdevc_stream)
VDEVC_VEC_AT(event, struct vdevc_event)

/* ------------------------------------------------------------ util.c */

uint64_t vdevc_mask(unsigned bits);
unsigned vdevc_bits_needed(uint64_t v);
uint32_t vdevc_fnv1a(const char *s);
bool vdevc_is_pow2(uint64_t v);
/* qsort of a vec's pointers; empty and one-element vecs are left alone. */
void vdevc_vec_sort(struct vdevc_vec *v,
                    int (*cmp)(const void *, const void *));
/* qsort, but not of what is sorted already (most tables are). */
void vdevc_sort(void *base, size_t n, size_t size,
                int (*cmp)(const void *, const void *));
/* a sep b as a new string: names are joined often (talloc_asprintf's
 * formatting would dominate a large device's compile). */
char *vdevc_join(void *ctx, const char *a, const char *sep, const char *b);
/* A C identifier from a qualified name ("ch0.ctrl" -> "ch0_ctrl"). */
char *vdevc_cname(void *ctx, const char *qname);
char *vdevc_upper(void *ctx, const char *s);
/* Expression as .vdev source text (for comments and JSON). */
char *vdevc_expr_text(void *ctx, const struct vdevc_expr *e);
/* The register x names (itself, or its field's), or NULL. */
struct vdevc_reg *vdevc_ref_reg(const struct vdevc_expr *x);
/* s as a C string literal, quotes included. */
char *vdevc_c_string(void *ctx, const char *s);
/* The variable or buffer x names, or NULL. */
struct vdevc_var *vdevc_ref_var(const struct vdevc_expr *x);
/* Bits of an extern's type: bool 1, u8 .. u64, void (or unknown) 0. */
unsigned vdevc_type_bits(const char *type);
/* The C storage of a `bits`-wide value: 8, 16, 32 or 64 bits; its type. */
unsigned vdevc_storage_bits(unsigned bits);
const char *vdevc_ctype(unsigned bits);
/* Source path as written into generated code: never absolute. */
const char *vdevc_display_name(const char *path);

#endif /* VDEVC_H */
