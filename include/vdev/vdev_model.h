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
};

/* A BAR of a model: registers sorted by offset (bytes between them read
 * zero and ignore writes), memory areas served from the BAR's backing
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
};

#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* Fills state with its reset values and gives the device the model's
 * BARs (their accesses served by the engine), its reset (reset values,
 * then every interrupt re-evaluated), migration of the state block and
 * its named values. state must live as long as dev. 0 or -errno (-EINVAL:
 * registers or areas that overlap, leave their BAR, or have a size other
 * than 1, 2, 4 or 8); on an error, free dev. */
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
