/* The .vdev syntax tree. Every node lives under the compilation's talloc
 * context; the semantic pass fills in the "resolved" members in place. */
#ifndef VDEVC_AST_H
#define VDEVC_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vdevc_loc {
    int first_line, first_column;
    int last_line, last_column;
};

/* A growable array of pointers, owned by the node that holds it. */
struct vdevc_vec {
    void **v;
    unsigned n, cap;
};
void vdevc_vec_push(void *owner, struct vdevc_vec *vec, void *item);

enum vdevc_node_kind {
    N_PROP, /* vendor 0x1234; */
    N_ENUM,
    N_EXTERN,
    N_VAR, /* var / buffer */
    N_BAR,
    N_BLOCK,
    N_INTERRUPT,
    N_CAP,
    N_REG,
    N_FIELD,
    N_MEMORY,
    N_USE,
    N_HOOK,
    N_PROC,   /* proc name(params) : width { body } */
    N_CONFIG, /* config { registers } */
    N_TIMER,  /* timer NAME { on expire { } } */
    N_FIFO,   /* fifo NAME[DEPTH] : WIDTH; */
    N_STREAM, /* stream NAME rx N tx N { on receive { } on transmit { } } */
    N_EVENT,  /* event NAME "doc"; */
};

struct vdevc_node {
    enum vdevc_node_kind kind;
    struct vdevc_loc loc;
};

/* ------------------------------------------------------------ expressions */

enum vdevc_expr_kind {
    E_NUM,
    E_NAME,
    E_MEMBER, /* lhs.name */
    E_INDEX,  /* lhs[rhs] */
    E_CALL,   /* name(args); lhs.name(args) when lhs is set */
    E_UNARY,  /* op lhs */
    E_BINARY, /* lhs op rhs */
};

/* Binary/unary operators beyond single characters. */
enum vdevc_op {
    OP_SHL = 256,
    OP_SHR,
    OP_EQ,
    OP_NE,
    OP_LE,
    OP_GE,
    OP_ANDAND,
    OP_OROR,
};

/* What a name in the statement language resolved to. */
enum vdevc_ref_kind {
    REF_NONE,
    REF_REG,    /* register (element when indexed) */
    REF_FIELD,  /* register field */
    REF_VAR,    /* scalar state */
    REF_BUFFER, /* byte buffer (element when indexed) */
    REF_LOCAL,  /* let */
    REF_VALUE,  /* the hook's `value` */
    REF_OLD,    /* the hook's `old` */
    REF_INDEX,  /* the array hook's `index` */
    REF_ENUMC,  /* enum constant */
    REF_CONST,  /* block parameter, already a number */
    REF_PROC,   /* E_CALL of a proc (an extern's call stays REF_NONE) */
    REF_WIDTH,  /* the hook's `width`: bits of the guest access */
    REF_NOW,    /* now: device time in ns */
    REF_TIMER,  /* a timer; E_MEMBER: its running / remaining */
    REF_FIFO,   /* a FIFO; E_MEMBER: count / full / empty, E_CALL: method */
    REF_EVENT,  /* an event (emit's operand) */
};

struct vdevc_expr {
    enum vdevc_expr_kind kind;
    struct vdevc_loc loc;
    int op;
    uint64_t num;
    const char *name;
    struct vdevc_expr *lhs, *rhs;
    struct vdevc_vec args;
    /* resolved */
    enum vdevc_ref_kind ref;
    void *sym;              /* struct vdevc_reg/field/var/extern/enum_member */
    struct vdevc_expr *idx; /* array element index, or NULL */
    unsigned width;         /* bits of the value, 0 = unsized literal */
    struct vdevc_enum *etype; /* enum type of the value, or NULL */
    int local;                /* REF_LOCAL: slot number */
    unsigned depth;           /* 1 + deepest operand, set by constructors */
};

/* ------------------------------------------------------------ statements */

enum vdevc_stmt_kind {
    S_ASSIGN, /* lhs op= rhs; op 0 for plain '=' */
    S_IF,
    S_LET,
    S_RAISE,
    S_LOWER,
    S_NOTIFY,
    S_DMA, /* dma read buf[i], addr, len; dma write addr, buf[i], len; */
    S_CALL,
    S_BLOCK,
    S_RETURN, /* return [lhs]; */
    S_FOR,    /* for loop->var in lhs .. rhs [max third] then_s */
    S_BREAK,
    S_CONTINUE,
    S_RESET, /* reset; (sema turns the call-like statement into it) */
    S_START, /* start lhs mode rhs third; (mode after|every, third a unit) */
    S_STOP,  /* stop lhs; */
    S_EMIT,  /* emit lhs; */
    S_WORD,  /* name lhs ...; with a verb none of the above: an error */
};

/* A for loop's parts the grammar takes as plain words ("in", "max"),
 * and what sema finds. */
struct vdevc_loop {
    const char *var;
    struct vdevc_loc var_loc;
    const char *in, *max; /* the words written there (max: or NULL) */
    struct vdevc_loc in_loc, max_loc;
    /* sema */
    uint64_t bound; /* iterations at most */
    bool constant;  /* both ends are constants */
    int slot;       /* the loop variable's local slot */
};

struct vdevc_stmt {
    enum vdevc_stmt_kind kind;
    struct vdevc_loc loc;
    int op;
    const char *name; /* LET variable, DMA direction */
    struct vdevc_expr *lhs, *rhs, *third;
    struct vdevc_stmt *then_s, *else_s;
    struct vdevc_vec body;   /* BLOCK: statements */
    int local;               /* LET: slot number */
    struct vdevc_loop *loop; /* FOR */
    /* START: `after` or `every`, as a name */
    struct vdevc_expr *mode;
};

/* ------------------------------------------------------------ attributes */

enum vdevc_attr_kind {
    A_FLAG,  /* rw, prefetchable, nomigrate, external, mem32 ... */
    A_VALUE, /* size 1M, since 2, stride 4 */
    A_PLACE, /* table 1 @ 0x800 */
    A_RANGE, /* access 4..8 */
    A_RESET, /* = expr */
    A_WIDTH, /* : 32 */
    A_TYPE,  /* : enum_name */
    A_DOC,   /* "text" */
    A_EXPR,  /* when (expr), select (expr) */
};

struct vdevc_attr {
    enum vdevc_attr_kind kind;
    struct vdevc_loc loc;
    const char *name;
    uint64_t v1, v2;
    struct vdevc_expr *expr;
    bool used; /* sema: consumed by the declaration */
};

/* Access kinds, SystemRDL meaning (see dsl/README.md). */
enum vdevc_access {
    ACC_NONE = 0,
    ACC_RW,
    ACC_RO,
    ACC_WO,
    ACC_W1C,
    ACC_W1S,
    ACC_RC,
    ACC_RS,
    ACC_CONST,
    ACC_RESERVED,
};

/* ------------------------------------------------------------ declarations */

struct vdevc_hook {
    struct vdevc_node hdr;
    const char *when; /* "read" or "write" */
    struct vdevc_stmt *body;
    /* sema */
    unsigned nr_locals; /* let slots used */
    bool uses_value, uses_old, uses_index, uses_width;
    bool calls;    /* calls an extern: may change anything */
    uint64_t irqs; /* interrupts fed by what the hook writes */
};

struct vdevc_enum_member {
    struct vdevc_loc loc;
    const char *name;
    struct vdevc_expr *value;
    uint64_t v;
    struct vdevc_enum *owner;
};

struct vdevc_enum {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_vec members;
    unsigned width; /* bits needed for the largest value */
};

struct vdevc_param {
    struct vdevc_loc loc;
    const char *type; /* u8..u64, bool, void */
    const char *name;
    uint64_t width; /* proc parameter: bits as written, 0 when not given */
};

struct vdevc_extern {
    struct vdevc_node hdr;
    const char *ret;
    const char *name;
    struct vdevc_vec params; /* struct vdevc_param */
    bool used;
};

struct vdevc_reg;

struct vdevc_field {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_expr *hi, *lo;
    struct vdevc_vec attrs;
    struct vdevc_vec hooks;
    /* resolved */
    struct vdevc_reg *reg;
    unsigned hi_v, lo_v;
    enum vdevc_access access;
    uint64_t reset;
    struct vdevc_enum *etype;
    const char *doc;
    bool nomigrate, external;
    struct vdevc_hook *on_read, *on_write;
    bool implicit; /* the whole-register field of a plain reg */
    bool read;     /* an expression reads it (warnings) */
    bool sticky;   /* keeps its value across a device reset */
};

struct vdevc_bar;
struct vdevc_use;

struct vdevc_reg {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_expr *count; /* array length, NULL for a plain register */
    struct vdevc_expr *offset;
    struct vdevc_vec attrs;
    struct vdevc_vec items; /* fields and hooks */
    /* resolved */
    const char *qname; /* "ch0.ctrl" */
    const char *cname; /* "ch0_ctrl" */
    struct vdevc_bar *bar;
    const char *scope; /* instance prefix ("ch0."), "" at top */
    uint64_t off;
    unsigned width; /* bits */
    unsigned n;     /* elements (1 for plain) */
    uint64_t stride;
    enum vdevc_access access; /* default for fields */
    uint64_t reset;
    const char *doc;
    unsigned since;
    bool nomigrate;
    struct vdevc_vec fields; /* sorted by lo_v; implicit field if none */
    struct vdevc_hook *on_read, *on_write;
    unsigned id; /* index in the device's register list */
    bool external;
    /* access masks over the register's bits */
    uint64_t all, rmask, rw, w1c, w1s, rc, rs, hw;
    uint64_t irqs;                  /* interrupts that read this register */
    uint64_t irqs_read, irqs_write; /* to re-evaluate after an access */
    bool read; /* an expression reads the whole register (warnings) */
    bool sticky;
    /* Banks: the condition selecting it (NULL: always), the element an
     * index/data array accesses (NULL: a plain array). */
    struct vdevc_expr *when, *select;
    /* Another register at its offset takes the reads (writes) that the
     * register itself does not: a ro/wo pair, or a bank. */
    bool reads_elsewhere, writes_elsewhere;
    bool banked; /* shares its offset with another register */
    bool hooked_read, hooked_write; /* it or a field has on read / write */
};

struct vdevc_memory {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_expr *offset;
    struct vdevc_vec attrs;
    /* resolved */
    struct vdevc_bar *bar;
    uint64_t off, size;
    bool mmap;
    const char *doc;
};

struct vdevc_use {
    struct vdevc_node hdr;
    const char *block;
    struct vdevc_vec args; /* struct vdevc_expr */
    struct vdevc_expr *offset;
    const char *as;
    struct vdevc_loc as_loc;
};

struct vdevc_block {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_vec params; /* struct vdevc_param (type unused) */
    struct vdevc_vec items;  /* N_REG, N_MEMORY, N_USE */
    bool expanding;          /* sema: recursion guard */
};

/* BAR kinds (sema resolves mem32 / mem64 / io), same values as libvdev's
 * enum vdev_bar_kind. */
enum vdevc_bar_kind {
    BAR_MEM32,
    BAR_MEM64,
    BAR_IO,
};

struct vdevc_bar {
    struct vdevc_node hdr;
    struct vdevc_expr *index;
    struct vdevc_vec attrs;
    struct vdevc_vec items; /* N_REG, N_MEMORY, N_USE */
    bool has_body;
    /* resolved */
    unsigned idx;
    enum vdevc_bar_kind kind;
    bool prefetchable;
    uint64_t size;
    bool memory;           /* whole BAR is backing memory */
    struct vdevc_vec regs; /* expanded registers, sorted by offset */
    struct vdevc_vec mems; /* memory areas, sorted by offset */
    const char *doc;
    bool config; /* not a BAR: the device's config-space registers */
    /* Decoding: what undecoded bytes read; valid access sizes (0: any);
     * registers only at their own offset, no wider (`exact`). */
    uint8_t fill;
    uint8_t min_access, max_access;
    bool exact;
};

struct vdevc_var {
    struct vdevc_node hdr;
    const char *name;
    bool buffer;
    struct vdevc_expr *size; /* buffer length */
    struct vdevc_vec attrs;
    struct vdevc_vec hooks;
    /* resolved */
    unsigned width; /* scalar bits */
    uint64_t len;   /* buffer bytes */
    uint64_t reset;
    unsigned since;
    bool nomigrate, external;
    struct vdevc_enum *etype;
    const char *doc;
    struct vdevc_hook *on_write;
    uint64_t irqs; /* interrupts that read this variable */
    bool used;     /* an expression refers to it (warnings) */
    bool sticky;
};

struct vdevc_interrupt {
    struct vdevc_node hdr;
    struct vdevc_expr *vector;
    struct vdevc_expr *expr;
    unsigned vec;
};

/* PCI capabilities of the language; sema resolves the name once. */
enum vdevc_cap_kind {
    CAP_UNKNOWN,
    CAP_PM,
    CAP_MSI,
    CAP_MSIX,
    CAP_PCIE,
    CAP_VENDOR,
    CAP_DSN,
};

struct vdevc_cap {
    struct vdevc_node hdr;
    const char *name; /* pm, msi, msix, pcie, vendor, dsn */
    struct vdevc_vec attrs;
    struct vdevc_vec fields; /* vendor: struct vdevc_field (hi/lo unused) */
    bool has_body;
    /* resolved by sema / layout */
    enum vdevc_cap_kind kind;
    unsigned offset, size;
    unsigned vectors;
    bool addr64, maskable;
    unsigned table_bar, pba_bar;
    uint64_t table_off, pba_off;
    unsigned speed, lwidth, pcie_type;
    uint64_t serial;
    uint8_t body[256], wmask[256];
    unsigned body_len;
};

struct vdevc_proc {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_vec params; /* struct vdevc_param (width) */
    uint64_t result;         /* result bits as written; 0: none */
    struct vdevc_stmt *body;
    /* sema */
    unsigned width;           /* of the result, 0: returns nothing */
    unsigned nr_locals;       /* parameters and lets */
    struct vdevc_vec callees; /* struct vdevc_proc it calls */
    bool calls;               /* calls an extern, itself or through a callee */
    uint64_t irqs;          /* interrupts fed by what it (and callees) write */
    bool used;              /* a hook or a used proc calls it */
    bool checked, visiting; /* call-graph walk */
    unsigned id;            /* index in the device's procs */
    unsigned mark;          /* walks of the generators: last one that saw it */
    uint32_t streams;       /* host streams it changes (emit_stmt.c) */
    bool streams_known;
};

/* config { ... }: registers in config space, kept as a BAR of their own
 * (struct vdevc_bar with config set) once sema has seen the word. */
struct vdevc_config {
    struct vdevc_node hdr;
    const char *word; /* "config" when written right */
    struct vdevc_vec items;
};

/* Time and the host side (sema_host.c). */
struct vdevc_timer {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_vec attrs;
    struct vdevc_vec hooks;
    /* resolved */
    const char *doc;
    struct vdevc_hook *on_expire;
    unsigned id;  /* in declaration order */
    bool started; /* a start statement names it (warnings) */
};

struct vdevc_stream;

struct vdevc_fifo {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_expr *size; /* depth; NULL for a stream's */
    struct vdevc_vec attrs;
    /* resolved */
    const char *qname; /* "rx", "serial.rx" */
    const char *cname; /* state member: "rx", "serial_rx" */
    uint64_t depth;
    unsigned width; /* element bits */
    unsigned since;
    bool nomigrate;
    const char *doc;
    struct vdevc_stream *stream; /* a stream's rx or tx, or NULL */
    uint64_t irqs;               /* interrupts that read it */
    bool used;                   /* an expression refers to it (warnings) */
};

struct vdevc_stream {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_vec attrs;
    struct vdevc_vec hooks;
    /* resolved */
    const char *doc;
    struct vdevc_fifo *rx, *tx;
    struct vdevc_hook *on_receive, *on_transmit;
    unsigned id; /* libvdev's stream id: declaration order */
};

struct vdevc_event {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_vec attrs;
    /* resolved */
    const char *doc;
    bool emitted; /* an emit statement names it (warnings) */
};

struct vdevc_prop {
    struct vdevc_node hdr;
    const char *name;
    struct vdevc_expr *value;
};

struct vdevc_device {
    struct vdevc_loc loc;
    const char *name;
    struct vdevc_vec items;
    /* resolved */
    uint64_t vendor, device, subsys_vendor, subsys, class_code, revision;
    unsigned version;
    unsigned intx; /* 0 none, 1..4 */
    struct vdevc_vec enums, externs, vars, bars, blocks, interrupts, caps;
    struct vdevc_vec regs; /* every register, in declaration order */
    const char *doc;
    unsigned nr_vectors; /* interrupt vectors hooks may use */
    struct vdevc_cap *msi, *msix;
    struct vdevc_vec procs;
    struct vdevc_hook *on_init, *on_reset;
    struct vdevc_bar *config; /* config-space registers, or NULL */
    void *slab; /* the parse's slab context (vdevc_slab_zero), or d */
    struct vdevc_vec timers, fifos, streams, events; /* fifos: streams' too */
    bool uses_now;        /* an expression reads `now` */
    unsigned nr_external; /* registers, fields, variables marked external */
};

/* ------------------------------------------------------------ constructors
 * Called from grammar actions; all allocate under ctx. A slab context
 * (vdevc_slab_new) makes expressions and attributes cheap: they come from
 * its blocks and are no talloc chunks (never a talloc parent, never freed
 * alone). */
void *vdevc_slab_new(void *ctx);
/* A copy of str[0..n) (NUL-terminated) under ctx: from the slab when ctx
 * is one (names and doc strings: never talloc parents, never freed). */
char *vdevc_slab_strndup(void *ctx, const char *str, size_t n);
/* size zeroed bytes under ctx, from the slab when ctx is one: for nodes
 * that are no talloc parents and never freed alone. */
void *vdevc_slab_zero(void *ctx, size_t size);

struct vdevc_expr *vdevc_expr_num(void *ctx, struct vdevc_loc loc, uint64_t v);
struct vdevc_expr *vdevc_expr_name(void *ctx, struct vdevc_loc loc,
                                   const char *name);
struct vdevc_expr *vdevc_expr_member(void *ctx, struct vdevc_loc loc,
                                     struct vdevc_expr *base, const char *name);
struct vdevc_expr *vdevc_expr_index(void *ctx, struct vdevc_loc loc,
                                    struct vdevc_expr *base,
                                    struct vdevc_expr *idx);
struct vdevc_expr *vdevc_expr_call(void *ctx, struct vdevc_loc loc,
                                   const char *name, struct vdevc_vec *args);
struct vdevc_expr *vdevc_expr_unary(void *ctx, struct vdevc_loc loc, int op,
                                    struct vdevc_expr *e);
struct vdevc_expr *vdevc_expr_binary(void *ctx, struct vdevc_loc loc, int op,
                                     struct vdevc_expr *l,
                                     struct vdevc_expr *r);
struct vdevc_vec *vdevc_list(void *ctx, struct vdevc_vec *list, void *item);

struct vdevc_stmt *vdevc_stmt_new(void *ctx, struct vdevc_loc loc,
                                  enum vdevc_stmt_kind kind);
struct vdevc_stmt *vdevc_stmt_assign(void *ctx, struct vdevc_loc loc, int op,
                                     struct vdevc_expr *l,
                                     struct vdevc_expr *r);
struct vdevc_stmt *vdevc_stmt_if(void *ctx, struct vdevc_loc loc,
                                 struct vdevc_expr *cond,
                                 struct vdevc_stmt *then_s,
                                 struct vdevc_stmt *else_s);
struct vdevc_stmt *vdevc_stmt_let(void *ctx, struct vdevc_loc loc,
                                  const char *name, struct vdevc_expr *e);
struct vdevc_stmt *vdevc_stmt_expr(void *ctx, struct vdevc_loc loc,
                                   enum vdevc_stmt_kind kind,
                                   struct vdevc_expr *e);
struct vdevc_stmt *vdevc_stmt_dma(void *ctx, struct vdevc_loc loc,
                                  const char *dir, struct vdevc_expr *a,
                                  struct vdevc_expr *b, struct vdevc_expr *c);
struct vdevc_stmt *vdevc_stmt_block(void *ctx, struct vdevc_loc loc,
                                    struct vdevc_vec *body);
struct vdevc_stmt *
vdevc_stmt_for(void *ctx, struct vdevc_loc loc, const char *var,
               struct vdevc_loc in_loc, const char *in, struct vdevc_expr *from,
               struct vdevc_expr *to, struct vdevc_loc max_loc, const char *max,
               struct vdevc_expr *bound, struct vdevc_stmt *body);
/* `verb NAME;` (stop, emit) and `verb NAME mode EXPR unit;` (start); an
 * unknown verb gives S_WORD, which sema reports. */
struct vdevc_stmt *vdevc_stmt_word(void *ctx, struct vdevc_loc loc,
                                   const char *verb, struct vdevc_loc name_loc,
                                   const char *name);
struct vdevc_stmt *vdevc_stmt_start(void *ctx, struct vdevc_loc loc,
                                    const char *verb, struct vdevc_loc name_loc,
                                    const char *name, struct vdevc_loc mode_loc,
                                    const char *mode, struct vdevc_expr *delay,
                                    struct vdevc_loc unit_loc,
                                    const char *unit);
/* now; obj.name(args) */
struct vdevc_expr *vdevc_expr_now(void *ctx, struct vdevc_loc loc);
struct vdevc_expr *vdevc_expr_method(void *ctx, struct vdevc_loc loc,
                                     struct vdevc_expr *obj, const char *name,
                                     struct vdevc_vec *args);

struct vdevc_attr *vdevc_attr_new(void *ctx, struct vdevc_loc loc,
                                  enum vdevc_attr_kind kind, const char *name,
                                  uint64_t v1, uint64_t v2,
                                  struct vdevc_expr *e);

struct vdevc_node *vdevc_prop_new(void *ctx, struct vdevc_loc loc,
                                  const char *name, struct vdevc_expr *v);
struct vdevc_node *vdevc_enum_new(void *ctx, struct vdevc_loc loc,
                                  const char *name, struct vdevc_vec *members);
struct vdevc_enum_member *vdevc_enum_member_new(void *ctx, struct vdevc_loc loc,
                                                const char *name,
                                                struct vdevc_expr *v);
struct vdevc_param *vdevc_param_new(void *ctx, struct vdevc_loc loc,
                                    const char *type, const char *name);
struct vdevc_node *vdevc_extern_new(void *ctx, struct vdevc_loc loc,
                                    const char *ret, const char *name,
                                    struct vdevc_vec *params);
struct vdevc_node *vdevc_var_new(void *ctx, struct vdevc_loc loc,
                                 const char *name, struct vdevc_expr *size,
                                 struct vdevc_vec *attrs,
                                 struct vdevc_vec *hooks);
struct vdevc_node *vdevc_bar_new(void *ctx, struct vdevc_loc loc,
                                 struct vdevc_expr *index,
                                 struct vdevc_vec *attrs,
                                 struct vdevc_vec *items, bool has_body);
struct vdevc_node *vdevc_block_new(void *ctx, struct vdevc_loc loc,
                                   const char *name, struct vdevc_vec *params,
                                   struct vdevc_vec *items);
struct vdevc_node *vdevc_interrupt_new(void *ctx, struct vdevc_loc loc,
                                       struct vdevc_expr *vector,
                                       struct vdevc_expr *e);
struct vdevc_node *vdevc_cap_new(void *ctx, struct vdevc_loc loc,
                                 const char *name, struct vdevc_vec *attrs,
                                 struct vdevc_vec *fields, bool has_body);
struct vdevc_node *vdevc_reg_new(void *ctx, struct vdevc_loc loc,
                                 const char *name, struct vdevc_expr *count,
                                 struct vdevc_expr *offset,
                                 struct vdevc_vec *attrs,
                                 struct vdevc_vec *items);
struct vdevc_node *vdevc_field_new(void *ctx, struct vdevc_loc loc,
                                   const char *name, struct vdevc_expr *hi,
                                   struct vdevc_expr *lo,
                                   struct vdevc_vec *attrs,
                                   struct vdevc_vec *hooks);
struct vdevc_node *vdevc_memory_new(void *ctx, struct vdevc_loc loc,
                                    const char *name, struct vdevc_expr *offset,
                                    struct vdevc_vec *attrs);
struct vdevc_node *vdevc_use_new(void *ctx, struct vdevc_loc loc,
                                 const char *block, struct vdevc_vec *args,
                                 struct vdevc_expr *offset, const char *as,
                                 struct vdevc_loc as_loc);
struct vdevc_node *vdevc_hook_new(void *ctx, struct vdevc_loc loc,
                                  const char *when, struct vdevc_stmt *body);
struct vdevc_param *vdevc_proc_param_new(void *ctx, struct vdevc_loc loc,
                                         const char *name, uint64_t width);
struct vdevc_node *vdevc_proc_new(void *ctx, struct vdevc_loc loc,
                                  const char *name, struct vdevc_vec *params,
                                  uint64_t result, struct vdevc_stmt *body);
struct vdevc_node *vdevc_config_new(void *ctx, struct vdevc_loc loc,
                                    const char *word, struct vdevc_vec *items);
/* timer, stream (hooks: N_HOOK nodes), fifo, event. */
struct vdevc_node *vdevc_timer_new(void *ctx, struct vdevc_loc loc,
                                   const char *name, struct vdevc_vec *attrs,
                                   struct vdevc_vec *hooks);
struct vdevc_node *vdevc_fifo_new(void *ctx, struct vdevc_loc loc,
                                  const char *name, struct vdevc_expr *depth,
                                  struct vdevc_vec *attrs);
struct vdevc_node *vdevc_stream_new(void *ctx, struct vdevc_loc loc,
                                    const char *name, struct vdevc_vec *attrs,
                                    struct vdevc_vec *hooks);
struct vdevc_node *vdevc_event_new(void *ctx, struct vdevc_loc loc,
                                   const char *name, struct vdevc_vec *attrs);
struct vdevc_device *vdevc_device_new(void *ctx, struct vdevc_loc loc,
                                      const char *name,
                                      struct vdevc_vec *items);

/* Deep copies for block instantiation. */
struct vdevc_expr *vdevc_expr_clone(void *ctx, const struct vdevc_expr *e);
struct vdevc_stmt *vdevc_stmt_clone(void *ctx, const struct vdevc_stmt *s);
/* N_REG, N_FIELD, N_HOOK, N_MEMORY, N_USE with everything below them. */
struct vdevc_node *vdevc_node_clone(void *ctx, const struct vdevc_node *n);

#endif /* VDEVC_AST_H */
