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

/* A host byte stream of a model (vdev_stream_add): two 8-bit FIFOs in the
 * state block (VDEV_FIFO(uint8_t, depth) at offsets rx and tx), so their
 * bytes migrate and reset with it. The engine pushes host bytes into rx
 * while it has room (back-pressure: the host waits while it is full), then
 * runs on_receive; it drains tx to the host and runs on_transmit when that
 * emptied it. After it changed either FIFO it re-evaluates irqs. */
struct vdev_model_stream {
    const char *name;
    uint32_t rx, tx;                           /* state offsets of the FIFOs */
    uint32_t rx_depth, tx_depth;               /* their elements */
    uint64_t irqs;                             /* interrupts that read them */
    void (*on_receive)(struct vdev_dev *dev);  /* or NULL */
    void (*on_transmit)(struct vdev_dev *dev); /* or NULL */
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
    /* Host streams, added in order: stream i gets libvdev's id i. */
    const struct vdev_model_stream *streams;
    unsigned nr_streams;
};

#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* Fills state with its reset values and gives the device the model's
 * BARs and config-space windows (their accesses served by the engine), its
 * reset (reset values or `reset`, then every interrupt re-evaluated,
 * streams served again), migration of the state block, its named values
 * and its streams. state must live as long as dev. 0 or -errno (-EINVAL:
 * registers or areas that overlap other than as a bank, leave their BAR or
 * window, or have a size other than 1, 2, 4 or 8; -EBUSY: the device had
 * streams already, so the ids would not be the table's; vdev_config_add's
 * errors); on an error, free dev. */
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

/* ---------------------------------------------------------- time */

/* start NAME after|every N UNIT: N * unit ns from now (then every as
 * long, at least libvdev's minimum period). A delay past the end of
 * device time never comes: the timer stops. */
#define VDEV_NS UINT64_C(1)
#define VDEV_US UINT64_C(1000)
#define VDEV_MS UINT64_C(1000000)
#define VDEV_S UINT64_C(1000000000)

static inline void
vdev_timer_start_in(struct vdev_timer *t, uint64_t n, uint64_t unit,
                    bool periodic)
{
    uint64_t ns = n > UINT64_MAX / unit ? UINT64_MAX : n * unit;
    if (periodic && ns < VDEV_TIMER_MIN_PERIOD_NS)
        ns = VDEV_TIMER_MIN_PERIOD_NS;
    if (vdev_timer_start(t, ns, periodic ? ns : 0) < 0)
        vdev_timer_stop(t);
}

/* ---------------------------------------------------------- FIFOs */

/* A FIFO of the statement language, a member of the state block (so it
 * migrates and resets with it): count elements from v[head], wrapping at
 * the depth. A load's checks keep head < depth and count <= depth. */
#define VDEV_FIFO(type, depth)                                                 \
    struct {                                                                   \
        uint32_t head, count;                                                  \
        type v[depth];                                                         \
    }
#define VDEV_FIFO_DEPTH(q) ((uint32_t)(sizeof((q).v) / sizeof((q).v[0])))
/* push drops the value when full; pop and peek give 0 when empty. */
#define VDEV_FIFO_PUSH(q, x)                                                   \
    vdev_fifo_push(&(q).head, &(q).count, (q).v, VDEV_FIFO_DEPTH(q),           \
                   sizeof((q).v[0]), (x))
#define VDEV_FIFO_POP(q)                                                       \
    vdev_fifo_pop(&(q).head, &(q).count, (q).v, VDEV_FIFO_DEPTH(q),            \
                  sizeof((q).v[0]))
#define VDEV_FIFO_PEEK(q)                                                      \
    vdev_fifo_peek((q).head, (q).count, (q).v, sizeof((q).v[0]))
#define VDEV_FIFO_CLEAR(q) ((void)((q).head = 0, (q).count = 0))

static inline uint64_t
vdev_fifo_get(const void *v, unsigned size, uint32_t i)
{
    switch (size) {
    case 1:
        return ((const uint8_t *)v)[i];
    case 2:
        return ((const uint16_t *)v)[i];
    case 4:
        return ((const uint32_t *)v)[i];
    default:
        return ((const uint64_t *)v)[i];
    }
}

static inline void
vdev_fifo_set(void *v, unsigned size, uint32_t i, uint64_t x)
{
    switch (size) {
    case 1:
        ((uint8_t *)v)[i] = (uint8_t)x;
        break;
    case 2:
        ((uint16_t *)v)[i] = (uint16_t)x;
        break;
    case 4:
        ((uint32_t *)v)[i] = (uint32_t)x;
        break;
    default:
        ((uint64_t *)v)[i] = x;
        break;
    }
}

static inline bool
vdev_fifo_push(uint32_t *head, uint32_t *count, void *v, uint32_t depth,
               unsigned size, uint64_t x)
{
    if (*count >= depth)
        return false;
    vdev_fifo_set(v, size, (*head + *count) % depth, x);
    ++*count;
    return true;
}

static inline uint64_t
vdev_fifo_pop(uint32_t *head, uint32_t *count, const void *v, uint32_t depth,
              unsigned size)
{
    if (*count == 0)
        return 0;
    uint64_t x = vdev_fifo_get(v, size, *head);
    *head = (*head + 1) % depth;
    --*count;
    return x;
}

static inline uint64_t
vdev_fifo_peek(uint32_t head, uint32_t count, const void *v, unsigned size)
{
    return count ? vdev_fifo_get(v, size, head) : 0;
}

#endif /* VDEV_MODEL_H */
