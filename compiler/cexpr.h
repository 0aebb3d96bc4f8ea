/* The C expression tree of emit_fold.c (built from .vdev expressions,
 * folded as it is built) that emit_expr.c prints. */
#ifndef VDEVC_CEXPR_H
#define VDEVC_CEXPR_H

#include "emit.h"

enum cx_kind {
    CX_NUM,
    CX_LEAF,  /* a C primary expression: storage, local, hook argument */
    CX_UNARY, /* op a */
    CX_BIN,   /* a op b */
    CX_CALL,  /* text(dev, args...): a companion function */
    CX_INDEX, /* text[a] when a < n, else 0: array and buffer reads */
};

/* C type of a value after integer promotion. */
enum cx_type {
    T_INT, /* uint8_t, uint16_t, small literals: promoted to int */
    T_U32,
    T_U64,
};

struct cx {
    enum cx_kind kind;
    int op;
    uint64_t num;     /* CX_NUM: the value; CX_INDEX: element count */
    const char *text; /* LEAF: C text; CALL: function; INDEX: array */
    struct cx *a, *b; /* operands; CX_INDEX: a is the index */
    struct cx **args; /* CX_CALL */
    unsigned nargs;
    unsigned *arg_bits; /* CX_CALL: parameter widths (1: bool) */
    bool checked;       /* CX_INDEX: a may be out of range */
    enum cx_type type;  /* LEAF, CALL, INDEX: C type of the value */
    uint64_t min, max;  /* the value is in [min, max] */
    bool pure;          /* no side effects: may be dropped or repeated */
};

struct cx *vdevc_cx_num(struct vdevc_emit *e, uint64_t v);
/* A C primary expression of a `storage_bits`-wide type, at most max. */
struct cx *vdevc_cx_leaf(struct vdevc_emit *e, const char *text,
                         unsigned storage_bits, uint64_t max);
/* a op b, or what it folds to. */
struct cx *vdevc_cx_bin(struct vdevc_emit *e, int op, struct cx *a,
                        struct cx *b);
/* A resolved .vdev expression. */
struct cx *vdevc_cx_from(struct vdevc_emit *e, const struct vdevc_expr *x);
/* c cannot be 0. */
bool vdevc_known_nonzero(const struct cx *c);
/* The C type of a `bits`-wide unsigned value after promotion. */
enum cx_type vdevc_storage_type(unsigned bits);
/* Bits needed for max (0 for 0). */
unsigned vdevc_bits_of(uint64_t max);

#endif /* VDEVC_CEXPR_H */
