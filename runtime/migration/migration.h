/* Migration's private contract (migration/): the migration object, the
 * state machine, the stream, the legacy region, and what the protocol
 * handlers (server/proto_feature.c, proto_dirty.c), the management
 * channel and the hand-over (host/) use of them. Not installed. */
#ifndef VDEV_MIGRATION_MIGRATION_H
#define VDEV_MIGRATION_MIGRATION_H

#include "device/device.h"

enum vdev_mig_generation {
    VDEV_MIG_NONE = 0,
    VDEV_MIG_V1 = 1, /* legacy migration region */
    VDEV_MIG_V2 = 2, /* DEVICE_FEATURE + MIG_DATA_* */
};

/* Legacy migration region layout: the vfio_device_migration_info registers
 * at 0, the data window from VDEV_MIG_V1_DATA_OFFSET. */
#define VDEV_MIG_V1_DATA_OFFSET 4096u
#define VDEV_MIG_V1_WINDOW (1u << 20)
#define VDEV_MIG_V1_REGION_SIZE (VDEV_MIG_V1_DATA_OFFSET + VDEV_MIG_V1_WINDOW)

/* Upper bound on DMA logging ranges a client may hand us in one START. */
#define VDEV_MIG_MAX_LOG_RANGES 1024u
/* Largest dirty bitmap returned in one reply (bytes). */
#define VDEV_MIG_MAX_BITMAP VDEV_MAX_DATA_XFER
/* Backing memory of BARs up to this size travels in the stream. */
#define VDEV_MIG_BAR_MAX (64u * 1024u)

struct vdev_log_range {
    uint64_t iova;
    uint64_t length;
};

struct vdev_migration {
    struct vdev_dev *dev;
    struct vdev_mig_desc desc;
    unsigned *by_id;              /* field indexes sorted by id */
    uint8_t *scratch;             /* candidate block for loads (kept) */
    uint32_t state;               /* enum vfio_device_mig_state */
    enum vdev_mig_generation gen; /* generation owning the session, or NONE */

    /* Saving: the stream bytes still to be read by the client. */
    uint8_t *out;
    size_t out_len, out_off;
    /* Resuming: the bytes the client wrote so far. */
    uint8_t *in;
    size_t in_len, in_cap;

    /* Legacy region: staged chunk (source) and write window (destination). */
    int v1_region;
    bool v1_chunk_open;
    size_t v1_chunk_len;
    uint8_t *v1_window; /* VDEV_MIG_V1_WINDOW bytes, lazily */

    /* Dirty logging: whose maps (the table of the client that started
     * it) and, for v2, which ranges. */
    const struct vdev_dma *log_dma;
    enum vdev_mig_generation log_gen;
    struct vdev_log_range *log_ranges;
    unsigned nr_log_ranges;
};

/* ------------------------------------------------------------ stream */

/* Serialises the runtime's and the device's state into a new talloc buffer
 * (child of mem_ctx). Returns 0 or -errno. */
int vdev_mig_stream_save(struct vdev_dev *dev, void *mem_ctx, uint8_t **out,
                         size_t *len);
/* Exact size of a stream this device writes now. */
size_t vdev_mig_stream_bound(struct vdev_dev *dev);
/* Loads one stream, or several concatenated (pre-copy then stop-copy
 * snapshots: the last one wins). Everything is validated before anything
 * changes; on error the device is unchanged. Returns 0 or -errno (-EPROTO
 * malformed, -EPROTONOSUPPORT incompatible, -EINVAL invalid values). */
int vdev_mig_stream_load(struct vdev_dev *dev, const uint8_t *buf, size_t len);

/* mig_clock.c: the stream's clock section (device time and timers). */
struct vdev_mig_clock_cand;
/* Whether this device writes the section (it has timers or uses now). */
bool vdev_mig_clock_travels(const struct vdev_dev *dev);
/* Exact length of the section's body, and the body itself. */
size_t vdev_mig_clock_size(const struct vdev_dev *dev);
void vdev_mig_clock_put(struct vdev_dev *dev, uint8_t *p);
/* Parses and checks a body; the candidate is a child of ctx. */
int vdev_mig_clock_parse(struct vdev_dev *dev, void *ctx, const uint8_t *p,
                         size_t len, struct vdev_mig_clock_cand **out);
/* Installs it; NULL (a stream without the section) stops every timer. */
void vdev_mig_clock_commit(struct vdev_dev *dev,
                           const struct vdev_mig_clock_cand *c);

/* ------------------------------------------------------------ state machine */

/* Runs the (possibly combined) transition to `target`. Returns 0 or -errno;
 * on error mig->state is the last state reached (see migration.c). */
int vdev_mig_set_state(struct vdev_dev *dev, uint32_t target,
                       enum vdev_mig_generation gen);
/* Takes the session for generation gen, or -EBUSY if the other one has it. */
int vdev_mig_claim(struct vdev_migration *mig, enum vdev_mig_generation gen);
/* Gives the session up when nothing is in progress any more. */
void vdev_mig_release_idle(struct vdev_migration *mig);
/* Appends client data while RESUMING; bounded. */
int vdev_mig_resume_append(struct vdev_dev *dev, const void *data, size_t len);
/* Next bytes of the saved stream; returns how many were copied. */
size_t vdev_mig_take(struct vdev_migration *mig, void *buf, size_t max);
bool vdev_mig_is_saving(uint32_t state);

/* Dirty logging of the client's DMA maps (dev->dma, which must be there)
 * on behalf of a generation (both share the bitmaps). */
int vdev_mig_log_start(struct vdev_dev *dev, enum vdev_mig_generation gen,
                       uint64_t pgsize, const struct vdev_log_range *ranges,
                       unsigned nr_ranges);
int vdev_mig_log_stop(struct vdev_dev *dev, enum vdev_mig_generation gen);
bool vdev_mig_logging(const struct vdev_dev *dev);

/* ------------------------------------------------------------ legacy */

/* Creates the legacy migration region (called by vdev_set_migration). */
int vdev_mig_legacy_init(struct vdev_dev *dev);

/* ------------------------------------------------------------ device life */

/* migration.c (NULL-safe: devices without migration) */
void vdev_migration_reset(struct vdev_dev *dev);
/* The client disconnected: ends its data transfer (see migration.c). */
void vdev_migration_conn_gone(struct vdev_dev *dev);

/* The stream parsers' refusal (mig_stream.c, mig_clock.c): logs why, with
 * `dev` in scope, and returns err from the parsing function. */
#define VDEV_MIG_FAIL(err, ...)                                                \
    do {                                                                       \
        VDEV_LOG(dev, VDEV_LOG_ERROR, "migration stream: " __VA_ARGS__);       \
        return (err);                                                          \
    } while (0)

#endif /* VDEV_MIGRATION_MIGRATION_H */
