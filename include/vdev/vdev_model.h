/* What vdevc-generated devices are built from: a table-driven register
 * engine (runtime/host/model.c) that applies each access kind and dispatches
 * a BAR access by offset, the tables' types and macros, and the statement
 * language's helpers. Generated C holds only what is particular to its
 * device: tables, hooks and interrupt expressions. */
#ifndef VDEV_MODEL_H
#define VDEV_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdev.h"

/* ---------------------------------------------------------- registers */

/* One access as a register's hooks see it. */
struct vdev_reg_access {
    unsigned i;     /* element of a register array */
    uint64_t mask;  /* the register bits the access covers (byte lanes) */
    uint64_t old;   /* write: the value before */
    uint64_t value; /* write: the value after the access kinds applied */
    uint32_t width; /* bits the client accessed at once (8, 16, 32, 64 for
                     * a CPU; 0 when no guest access runs the hook) */
};

typedef void vdev_reg_hook(struct vdev_dev *dev,
                           const struct vdev_reg_access *a);

/* A register or register array: where it is, where its value lives in
 * the state block, what each access kind does to its bits, and what runs
 * after an access. A read returns rmask bits, then clears rc and sets rs
 * bits; a write replaces rw bits (rw, wo), clears the w1c and sets the
 * w1s ones written. Only the bits in the access's byte lanes change. */
struct vdev_reg {
    uint64_t offset; /* in the BAR */
    uint32_t state;  /* offset of element 0 in the state block */
    uint32_t size;   /* bytes: 1, 2, 4 or 8 */
    uint32_t count;  /* array elements (0: a plain register) */
    uint32_t stride; /* bytes between elements */
    uint64_t rmask, rw, w1c, w1s, rc, rs;
    uint64_t irqs_read, irqs_write; /* interrupts to re-evaluate after */
    vdev_reg_hook *on_read;         /* before the read */
    vdev_reg_hook *on_write;        /* after the write */
    /* Banks: registers may share an offset (same size). An access goes to
     * the first one in table order that takes its direction (a read: rmask
     * bits or on_read; a write: rw, w1c or w1s bits or on_write) and whose
     * `when` holds (NULL: always); none: reads the BAR's fill, writes are
     * dropped. */
    bool (*when)(struct vdev_dev *dev);
    /* An index/data array: all `count` elements at `offset` (stride 0),
     * the one accessed is select()'s value then (out of range: none). */
    uint64_t (*select)(struct vdev_dev *dev);
};

/* A BAR of a model: registers sorted by offset (bytes between them read
 * `fill` and ignore writes), memory areas served from the BAR's backing
 * memory, or all memory (no registers, no areas: `memory`). */
struct vdev_model_bar {
    unsigned index;
    enum vdev_bar_kind kind;
    bool prefetchable;
    uint64_t size;
    bool memory;
    const struct vdev_reg *regs;
    unsigned nr_regs;
    const struct vdev_mmap_area *areas; /* memory areas, sorted */
    unsigned nr_areas;
    const struct vdev_mmap_area *mmap_areas; /* those offered for mmap */
    unsigned nr_mmap_areas;
    /* How register accesses decode (.vdev `fill`, `access`, `exact`).
     * Bytes no register takes (a gap, a bank with none selected, a write-
     * only register read in an exact BAR) read `fill`. An access of fewer
     * than min_access or more than max_access bytes (0: no bound), or not
     * aligned to its size, reads 0 and is dropped. exact: an access
     * reaches a register only when it starts at the register and is no
     * wider; a narrower read returns the low bytes, a narrower write sets
     * the whole register, zero-extended; any other access is undecoded. */
    uint8_t fill;
    uint8_t min_access, max_access;
    bool exact;
};

/* Registers in config space: offsets are config-space offsets, served
 * (vdev_config_add) in the windows listed, which hold them all. */
struct vdev_model_window {
    uint16_t offset, size;
};

struct vdev_model_config {
    const struct vdev_reg *regs; /* sorted by offset */
    unsigned nr_regs;
    const struct vdev_model_window *windows;
    unsigned nr_windows;
};

/* A generated device: its BARs, the state block, migration and named
 * values, and the functions the engine calls. */
struct vdev_model {
    const char *name; /* in the migration stream's header */
    uint32_t version; /* state version */
    size_t state_size;
    const struct vdev_model_bar *bars;
    unsigned nr_bars;
    const struct vdev_mig_field *fields;
    unsigned nr_fields;
    const struct vdev_var *vars; /* state vars: get == NULL */
    unsigned nr_vars;
    void (*reset_values)(struct vdev_dev *dev, void *state);
    int (*validate)(struct vdev_dev *dev, const void *state); /* or NULL */
    void (*post_load)(struct vdev_dev *dev);                  /* or NULL */
    /* Re-evaluates the interrupt expressions in `which` (bit per vector);
     * NULL when the device has none. */
    void (*update_irqs)(struct vdev_dev *dev, uint64_t which);
    uint64_t all_irqs;
    /* Config-space registers, or NULL. */
    const struct vdev_model_config *config;
    /* A device reset when state survives it or code runs on it: called
     * instead of reset_values (not at creation, not on a load); then
     * every interrupt is re-evaluated. NULL: reset_values. */
    void (*reset)(struct vdev_dev *dev, void *state);
};

#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* Fills state with its reset values and gives the device the model's
 * BARs and config-space windows (their accesses served by the engine), its
 * reset (reset values or `reset`, then every interrupt re-evaluated),
 * migration of the state block and its named values. state must live as
 * long as dev. 0 or -errno (-EINVAL: registers or areas that overlap other
 * than as a bank, leave their BAR or window, or have a size other than 1,
 * 2, 4 or 8; vdev_config_add's errors); on an error, free dev. */
int vdev_model_add(struct vdev_dev *dev, const struct vdev_model *m,
                   void *state);

/* dma read/write between guest memory and bytes [off, off + len) of a
 * state buffer; an access outside the buffer is dropped. */
void vdev_dma_buf(struct vdev_dev *dev, bool to_guest, uint8_t *buf,
                  size_t size, uint64_t off, uint64_t iova, uint64_t len);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

/* A migrated state member, one table line each. */
#define VDEV_MIG_FIELD(type, member, name, id, since)                          \
    {                                                                          \
        (name), (id), (since), offsetof(type, member),                         \
            sizeof(((type *)0)->member)                                        \
    }

/* A named value in the state block: bits [shift, shift + bits) of
 * member, with a description (or NULL); VDEV_STATE_VAR_SET: external,
 * written through `set`. */
#define VDEV_STATE_VAR(type, member, nm, sh, nbits, dc)                        \
    {                                                                          \
        .name = (nm), .bits = (nbits), .doc = (dc),                            \
        .at = offsetof(type, member), .size = sizeof(((type *)0)->member),     \
        .shift = (sh)                                                          \
    }
#define VDEV_STATE_VAR_SET(type, member, nm, sh, nbits, set_fn, dc)            \
    {                                                                          \
        .name = (nm), .bits = (nbits), .external = true, .set = (set_fn),      \
        .doc = (dc), .at = offsetof(type, member),                             \
        .size = sizeof(((type *)0)->member), .shift = (sh)                     \
    }

/* ------------------------------------------------ statement language */

/* Arithmetic of the statement language never traps: division by zero
 * gives 0, shifts past 63 give 0. */
static inline uint64_t
vdev_div(uint64_t a, uint64_t b)
{
    return b != 0 ? a / b : 0;
}

static inline uint64_t
vdev_mod(uint64_t a, uint64_t b)
{
    return b != 0 ? a % b : 0;
}

static inline uint64_t
vdev_shl(uint64_t a, uint64_t b)
{
    return b < 64 ? a << b : 0;
}

static inline uint64_t
vdev_shr(uint64_t a, uint64_t b)
{
    return b < 64 ? a >> b : 0;
}

#endif /* VDEV_MODEL_H */
