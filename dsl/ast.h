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
    E_CALL,   /* name(args) */
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
};

struct vdevc_stmt {
    enum vdevc_stmt_kind kind;
    struct vdevc_loc loc;
    int op;
    const char *name; /* LET variable, DMA direction */
    struct vdevc_expr *lhs, *rhs, *third;
    struct vdevc_stmt *then_s, *else_s;
    struct vdevc_vec body; /* BLOCK: statements */
    int local;             /* LET: slot number */
};

/* ------------------------------------------------------------ attributes */

enum vdevc_attr_kind {
    A_FLAG,  /* rw, prefetchable, nomigrate, external, mem32 ... */
    A_VALUE, /* size 1M, since 2, stride 4 */
    A_PLACE, /* table 1 @ 0x800 */
    A_RESET, /* = expr */
    A_WIDTH, /* : 32 */
    A_TYPE,  /* : enum_name */
    A_DOC,   /* "text" */
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
    bool uses_value, uses_old, uses_index;
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
};

/* ------------------------------------------------------------ constructors
 * Called from grammar actions; all allocate under ctx. */

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
struct vdevc_device *vdevc_device_new(void *ctx, struct vdevc_loc loc,
                                      const char *name,
                                      struct vdevc_vec *items);

/* Deep copies for block instantiation. */
struct vdevc_expr *vdevc_expr_clone(void *ctx, const struct vdevc_expr *e);
struct vdevc_stmt *vdevc_stmt_clone(void *ctx, const struct vdevc_stmt *s);
/* N_REG, N_FIELD, N_HOOK, N_MEMORY, N_USE with everything below them. */
struct vdevc_node *vdevc_node_clone(void *ctx, const struct vdevc_node *n);

#endif /* VDEVC_AST_H */
