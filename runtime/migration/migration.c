/* Migration core: vdev_set_migration, the device-state machine of
 * <linux/vfio.h> shared by both protocol generations, the saved/resumed data
 * buffers and the dirty-logging bookkeeping.
 *
 * Behaviour while stopped (STOP, STOP_COPY, RESUMING, ERROR), the contract
 * for the other runtime modules: the device must not change its state,
 * raise interrupts or do DMA. Config space and the MSI-X table/PBA stay
 * served (VFIO requires it, and the VMM restores them on the destination);
 * device register callbacks are to be refused with -EBUSY (region_io.c),
 * vectors raised stay pending (irq.c) and the DMA helpers fail with -EBUSY
 * (dma.c); dev->running, which the state machine sets, is the one flag for
 * all three. It is set through vdev_dev_set_running(), which also stops
 * and restarts the device clock: timers hold still and host streams pause
 * while the device is stopped.
 * When the device runs again (STOP -> RUNNING) interrupt lines and pending
 * vectors are re-evaluated, which also delivers what a load installed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "device/dma.h"
#include "device/irq.h"
#include "migration/migration.h"

enum {
    ST_ERROR = VFIO_DEVICE_STATE_ERROR,
    ST_STOP = VFIO_DEVICE_STATE_STOP,
    ST_RUNNING = VFIO_DEVICE_STATE_RUNNING,
    ST_STOP_COPY = VFIO_DEVICE_STATE_STOP_COPY,
    ST_RESUMING = VFIO_DEVICE_STATE_RESUMING,
    ST_PRE_COPY = VFIO_DEVICE_STATE_PRE_COPY,
    ST_LIMIT = 8,
};

/* next_step[from][to]: first arc of the shortest path from -> to that has no
 * saving-group state (PRE_COPY, STOP_COPY) in its interior; 0 (ERROR) where
 * there is no path. The direct arcs are those of the vfio-user spec:
 *   RUNNING -> STOP, STOP_COPY -> STOP, RESUMING -> STOP, PRE_COPY -> RUNNING,
 *   STOP -> RUNNING, RUNNING -> PRE_COPY, STOP -> STOP_COPY,
 *   PRE_COPY -> STOP_COPY, STOP -> RESUMING.
 * So PRE_COPY -> STOP goes through RUNNING (not STOP_COPY), RUNNING ->
 * STOP_COPY through STOP, and STOP_COPY -> PRE_COPY does not exist. */
static const uint8_t next_step[ST_LIMIT][ST_LIMIT] = {
    [ST_STOP] =
        {
            [ST_STOP] = ST_STOP,
            [ST_RUNNING] = ST_RUNNING,
            [ST_STOP_COPY] = ST_STOP_COPY,
            [ST_RESUMING] = ST_RESUMING,
            [ST_PRE_COPY] = ST_RUNNING,
        },
    [ST_RUNNING] =
        {
            [ST_STOP] = ST_STOP,
            [ST_RUNNING] = ST_RUNNING,
            [ST_STOP_COPY] = ST_STOP,
            [ST_RESUMING] = ST_STOP,
            [ST_PRE_COPY] = ST_PRE_COPY,
        },
    [ST_STOP_COPY] =
        {
            [ST_STOP] = ST_STOP,
            [ST_RUNNING] = ST_STOP,
            [ST_STOP_COPY] = ST_STOP_COPY,
            [ST_RESUMING] = ST_STOP,
        },
    [ST_RESUMING] =
        {
            [ST_STOP] = ST_STOP,
            [ST_RUNNING] = ST_STOP,
            [ST_STOP_COPY] = ST_STOP,
            [ST_RESUMING] = ST_RESUMING,
            [ST_PRE_COPY] = ST_STOP,
        },
    [ST_PRE_COPY] =
        {
            [ST_STOP] = ST_RUNNING,
            [ST_RUNNING] = ST_RUNNING,
            [ST_STOP_COPY] = ST_STOP_COPY,
            [ST_RESUMING] = ST_RUNNING,
            [ST_PRE_COPY] = ST_PRE_COPY,
        },
};

static bool
state_valid_target(uint32_t s)
{
    return s == ST_STOP || s == ST_RUNNING || s == ST_STOP_COPY ||
           s == ST_RESUMING || s == ST_PRE_COPY;
}

bool
vdev_mig_is_saving(uint32_t state)
{
    return state == ST_STOP_COPY || state == ST_PRE_COPY;
}

/* ------------------------------------------------------------ buffers */

static void
drop_out(struct vdev_migration *mig)
{
    vdev_mem_released(mig->out ? talloc_get_size(mig->out) : 0);
    TALLOC_FREE(mig->out);
    mig->out_len = mig->out_off = 0;
    mig->v1_chunk_open = false;
    mig->v1_chunk_len = 0;
}

static void
drop_in(struct vdev_migration *mig)
{
    size_t had = mig->in_cap;

    TALLOC_FREE(mig->in);
    vdev_mem_released(had);
    mig->in_len = mig->in_cap = 0;
}

/* Snapshot the stream; unread bytes of an earlier snapshot (pre-copy data
 * the client did not fetch yet) stay in front of it. */
static int
snapshot(struct vdev_dev *dev)
{
    struct vdev_migration *mig = dev->mig;
    size_t keep = mig->out_len - mig->out_off;
    uint8_t *s, *buf;
    size_t len;
    int rc;

    rc = vdev_mig_stream_save(dev, mig, &s, &len);
    if (rc < 0)
        return rc;
    if (keep) {
        buf = talloc_size(mig, keep + len);
        if (!buf) {
            talloc_free(s);
            return -ENOMEM;
        }
        memcpy(buf, mig->out + mig->out_off, keep);
        memcpy(buf + keep, s, len);
        talloc_free(s);
        s = buf;
        len += keep;
    }
    drop_out(mig);
    mig->out = s;
    mig->out_len = len;
    return 0;
}

size_t
vdev_mig_take(struct vdev_migration *mig, void *buf, size_t max)
{
    size_t n = mig->out_len - mig->out_off;

    if (n > max)
        n = max;
    if (n)
        memcpy(buf, mig->out + mig->out_off, n);
    mig->out_off += n;
    return n;
}

int
vdev_mig_resume_append(struct vdev_dev *dev, const void *data, size_t len)
{
    struct vdev_migration *mig = dev->mig;
    /* A pre-copy and a stop-copy stream of this device, with room to spare;
     * a stream for it cannot legitimately be longer. */
    size_t limit = 2 * vdev_mig_stream_bound(dev) + 65536;

    if (mig->state != ST_RESUMING)
        return -EINVAL;
    if (mig->in_len > limit || len > limit - mig->in_len) {
        VDEV_LOG(dev, VDEV_LOG_ERROR,
                 "migration: resume data exceeds %zu bytes", limit);
        return -EFBIG;
    }
    if (!len)
        return 0; /* an empty write: nothing to keep (mig->in may be NULL) */
    if (mig->in_len + len > mig->in_cap) {
        size_t cap = mig->in_cap ? mig->in_cap : 4096;
        uint8_t *p;
        while (cap < mig->in_len + len)
            cap *= 2;
        p = talloc_realloc(mig, mig->in, uint8_t, cap);
        if (!p)
            return -ENOMEM;
        mig->in = p;
        mig->in_cap = cap;
    }
    memcpy(mig->in + mig->in_len, data, len);
    mig->in_len += len;
    return 0;
}

/* ------------------------------------------------------------ sessions */

static bool
log_active(const struct vdev_dev *dev)
{
    const struct vdev_migration *mig = dev->mig;
    return mig->log_gen != VDEV_MIG_NONE && dev->dma &&
           dev->dma == mig->log_dma && dev->dma->logging;
}

int
vdev_mig_claim(struct vdev_migration *mig, enum vdev_mig_generation gen)
{
    vdev_mig_release_idle(mig);
    if (mig->gen != VDEV_MIG_NONE && mig->gen != gen)
        return -EBUSY;
    mig->gen = gen;
    return 0;
}

void
vdev_mig_release_idle(struct vdev_migration *mig)
{
    struct vdev_dev *dev = mig->dev;

    if (!log_active(dev))
        mig->log_gen = VDEV_MIG_NONE;
    if (mig->state == ST_RUNNING && mig->log_gen == VDEV_MIG_NONE)
        mig->gen = VDEV_MIG_NONE;
}

bool
vdev_mig_logging(const struct vdev_dev *dev)
{
    return dev->mig && log_active(dev);
}

int
vdev_mig_log_start(struct vdev_dev *dev, enum vdev_mig_generation gen,
                   uint64_t pgsize, const struct vdev_log_range *ranges,
                   unsigned nr_ranges)
{
    struct vdev_migration *mig = dev->mig;
    struct vdev_log_range *copy = NULL;
    int rc;

    vdev_mig_release_idle(mig);
    if (log_active(dev))
        return -EBUSY;
    if ((rc = vdev_mig_claim(mig, gen)) < 0)
        return rc;
    if (nr_ranges) {
        copy = talloc_memdup(mig, ranges, nr_ranges * sizeof(*ranges));
        if (!copy) {
            vdev_mig_release_idle(mig);
            return -ENOMEM;
        }
    }
    rc = dev->dma ? vdev_dirty_start(dev->dma, pgsize) : -ENOTCONN;
    if (rc < 0) {
        talloc_free(copy);
        vdev_mig_release_idle(mig);
        return rc;
    }
    talloc_free(mig->log_ranges);
    mig->log_ranges = copy;
    mig->nr_log_ranges = nr_ranges;
    mig->log_dma = dev->dma;
    mig->log_gen = gen;
    return 0;
}

int
vdev_mig_log_stop(struct vdev_dev *dev, enum vdev_mig_generation gen)
{
    struct vdev_migration *mig = dev->mig;

    vdev_mig_release_idle(mig);
    if (!log_active(dev))
        return 0; /* stopping what is not running is harmless */
    if (mig->log_gen != gen)
        return -EBUSY;
    vdev_dirty_stop(dev->dma);
    TALLOC_FREE(mig->log_ranges);
    mig->nr_log_ranges = 0;
    mig->log_dma = NULL;
    mig->log_gen = VDEV_MIG_NONE;
    vdev_mig_release_idle(mig);
    return 0;
}

/* ------------------------------------------------------------ arcs */

static void
device_resume(struct vdev_dev *dev)
{
    vdev_dev_set_running(dev, true);
    /* Lines and vectors raised while stopped, or installed by a load. */
    vdev_irq_intx_update(dev);
    vdev_irq_msi_update(dev);
}

static const char *
state_name(uint32_t s)
{
    static const char *const names[] = {
        "ERROR",    "STOP",        "RUNNING",  "STOP_COPY",
        "RESUMING", "RUNNING_P2P", "PRE_COPY", "PRE_COPY_P2P",
    };
    return s < ST_LIMIT ? names[s] : "?";
}

/* One direct arc. On failure the state is unchanged. */
static int
arc(struct vdev_dev *dev, uint32_t from, uint32_t to)
{
    struct vdev_migration *mig = dev->mig;
    int rc = 0;

    switch (from * ST_LIMIT + to) {
    case ST_RUNNING *ST_LIMIT + ST_STOP:
        vdev_dev_set_running(dev, false);
        break;
    case ST_STOP_COPY *ST_LIMIT + ST_STOP:
        drop_out(mig);
        break;
    case ST_RESUMING *ST_LIMIT + ST_STOP:
        rc = vdev_mig_stream_load(dev, mig->in, mig->in_len);
        /* The device is unchanged and stays RESUMING; the data is dropped
         * so the client can send a good stream or reset the device. */
        drop_in(mig);
        break;
    case ST_PRE_COPY *ST_LIMIT + ST_RUNNING:
        drop_out(mig);
        break;
    case ST_STOP *ST_LIMIT + ST_RUNNING:
        device_resume(dev);
        break;
    case ST_RUNNING *ST_LIMIT + ST_PRE_COPY:
    case ST_STOP *ST_LIMIT + ST_STOP_COPY:
        drop_out(mig);
        rc = snapshot(dev);
        break;
    case ST_PRE_COPY *ST_LIMIT + ST_STOP_COPY:
        vdev_dev_set_running(dev, false);
        rc = snapshot(dev);
        if (rc < 0)
            vdev_dev_set_running(dev, true);
        break;
    case ST_STOP *ST_LIMIT + ST_RESUMING:
        drop_in(mig);
        break;
    default:
        return -EINVAL; /* not an arc: the table never asks for one */
    }
    if (rc == 0) {
        VDEV_LOG(dev, VDEV_LOG_DEBUG, "migration: arc %s -> %s",
                 state_name(from), state_name(to));
        mig->state = to;
    }
    return rc;
}

int
vdev_mig_set_state(struct vdev_dev *dev, uint32_t target,
                   enum vdev_mig_generation gen)
{
    struct vdev_migration *mig = dev->mig;
    int rc;

    if (!mig)
        return -ENOTSUP;
    if (!state_valid_target(target)) {
        VDEV_LOG(dev, VDEV_LOG_WARN, "migration: %u is not a state to set",
                 target);
        return -EINVAL;
    }
    vdev_mig_release_idle(mig);
    if (mig->state == target)
        return 0;
    if (mig->state >= ST_LIMIT || !next_step[mig->state][target]) {
        VDEV_LOG(dev, VDEV_LOG_WARN, "migration: no way from %s to %s",
                 state_name(mig->state), state_name(target));
        return -EINVAL;
    }
    if ((rc = vdev_mig_claim(mig, gen)) < 0) {
        VDEV_LOG(dev, VDEV_LOG_WARN,
                 "migration: the other protocol generation owns the session");
        return rc;
    }
    while (mig->state != target) {
        uint32_t from = mig->state, step = next_step[from][target];
        rc = arc(dev, from, step);
        if (rc < 0) {
            /* Every arc either completes or changes nothing, so the device
             * is in a valid state (possibly part-way along a combined
             * transition, as VFIO allows); ERROR is never needed. */
            VDEV_LOG(dev, VDEV_LOG_WARN, "migration: %s -> %s failed (%d)",
                     state_name(from), state_name(step), rc);
            break;
        }
    }
    vdev_mig_release_idle(mig);
    return rc;
}

void
vdev_migration_reset(struct vdev_dev *dev)
{
    struct vdev_migration *mig = dev ? dev->mig : NULL;

    if (!mig)
        return;
    drop_out(mig);
    drop_in(mig);
    mig->state = ST_RUNNING;
    vdev_dev_set_running(dev, true);
    vdev_mig_release_idle(mig);
}

/* The client went away. What survives a disconnect is the device's
 * migration *state*, never a half-done data transfer: the next client's
 * stream always starts at byte 0.
 *   STOP, RUNNING: kept. A source left stopped (vdevctl save, or a VMM
 *     that vanished after STOP_COPY) must not run again on its own: its
 *     state may live on elsewhere by now.
 *   STOP_COPY: kept; the stream is taken again from the stopped device, so
 *     a client that had read part of it does not leave the next one a tail.
 *   PRE_COPY: back to RUNNING (the device ran all along; pre-copy is an
 *     optimisation of the session that just ended).
 *   RESUMING: kept, with the bytes written so far dropped; the device is
 *     unchanged and waits for a whole stream or a reset.
 * Dirty logging ends with the connection that owned the bitmaps. The next
 * client's DEVICE_RESET (or MIG_DEVICE_STATE RUNNING, from STOP and
 * STOP_COPY) returns the device to RUNNING. */
void
vdev_migration_conn_gone(struct vdev_dev *dev)
{
    struct vdev_migration *mig = dev ? dev->mig : NULL;

    if (!mig)
        return;
    TALLOC_FREE(mig->log_ranges);
    mig->nr_log_ranges = 0;
    mig->log_dma = NULL;
    mig->log_gen = VDEV_MIG_NONE;
    switch (mig->state) {
    case ST_STOP_COPY:
        drop_out(mig);
        if (snapshot(dev) < 0)
            VDEV_LOG(dev, VDEV_LOG_WARN,
                     "migration: cannot take the stream again");
        break;
    case ST_PRE_COPY:
        arc(dev, ST_PRE_COPY, ST_RUNNING);
        break;
    case ST_RESUMING:
        drop_in(mig);
        break;
    default:
        break;
    }
    vdev_mig_release_idle(mig);
}

/* ------------------------------------------------------------ setup */

static int
cmp_id(const void *a, const void *b, void *fields)
{
    const struct vdev_mig_field *f = fields;
    uint32_t x = f[*(const unsigned *)a].id, y = f[*(const unsigned *)b].id;
    return x < y ? -1 : x > y;
}

static int
desc_check(struct vdev_dev *dev, const struct vdev_mig_desc *d)
{
    if (!d->device || !*d->device || strlen(d->device) > 255 || !d->version ||
        (d->state_size && !d->state) || (d->nr_fields && !d->fields))
        return -EINVAL;
    for (unsigned i = 0; i < d->nr_fields; i++) {
        const struct vdev_mig_field *f = &d->fields[i];
        if (!f->name || !f->size || !f->since || f->since > d->version ||
            f->offset > d->state_size || f->size > d->state_size - f->offset) {
            VDEV_LOG(dev, VDEV_LOG_ERROR, "migration: bad field '%s'",
                     f->name ? f->name : "?");
            return -EINVAL;
        }
    }
    return 0;
}

int
vdev_set_migration(struct vdev_dev *dev, const struct vdev_mig_desc *desc)
{
    struct vdev_migration *mig;
    int rc;

    if (!dev || !desc)
        return -EINVAL;
    if (dev->mig)
        return -EEXIST;
    if ((rc = desc_check(dev, desc)) < 0)
        return rc;
    mig = talloc_zero(dev, struct vdev_migration);
    if (!mig)
        return -ENOMEM;
    mig->dev = dev;
    mig->desc = *desc;
    mig->state = ST_RUNNING;
    vdev_dev_set_running(dev, true);
    mig->v1_region = -1;
    mig->by_id = talloc_array(mig, unsigned, desc->nr_fields + 1);
    if (!mig->by_id) {
        talloc_free(mig);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < desc->nr_fields; i++)
        mig->by_id[i] = i;
    qsort_r(mig->by_id, desc->nr_fields, sizeof(unsigned), cmp_id,
            (void *)desc->fields);
    for (unsigned i = 1; i < desc->nr_fields; i++)
        if (desc->fields[mig->by_id[i]].id ==
            desc->fields[mig->by_id[i - 1]].id) {
            VDEV_LOG(dev, VDEV_LOG_ERROR,
                     "migration: fields '%s' and '%s' "
                     "share id 0x%08x",
                     desc->fields[mig->by_id[i]].name,
                     desc->fields[mig->by_id[i - 1]].name,
                     desc->fields[mig->by_id[i]].id);
            talloc_free(mig);
            return -EINVAL;
        }
    dev->mig = mig;
    rc = vdev_mig_legacy_init(dev);
    if (rc < 0) {
        dev->mig = NULL;
        talloc_free(mig);
        return rc;
    }
    return 0;
}
