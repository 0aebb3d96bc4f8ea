/* Legacy migration generation (libvfio-user's original design): the
 * migration region with struct vfio_device_migration_info registers and a
 * data window, and VFIO_USER_DIRTY_PAGES.
 * Same state machine and stream as v2; device_state bits map to v2 states:
 *   RUNNING -> RUNNING, RUNNING|SAVING -> PRE_COPY, SAVING -> STOP_COPY,
 *   0 -> STOP, RESUMING -> RESUMING, SAVING|RESUMING (read only) -> ERROR.
 *
 * Source: reading pending_bytes starts an iteration (the chunk of the
 * previous one counts as transferred) and returns the bytes left; reading
 * data_offset or data_size stages the next chunk (at most the window) at
 * VDEV_MIG_V1_DATA_OFFSET; the client reads it from the window. Writing
 * device_state also counts a staged chunk as transferred.
 * Destination (RESUMING): the client writes up to the window's size at
 * data_offset, then writes data_size, which appends those bytes to the
 * stream. Registers are accessed one whole field at a time.
 * (VFIO_USER_DIRTY_PAGES is served by proto_dirty.c, DMA_UNMAP's dirty
 * bitmap by proto_dma.c, both from dirty.c.) */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "migration/migration.h"

#define V1_RUNNING VFIO_DEVICE_STATE_V1_RUNNING
#define V1_SAVING VFIO_DEVICE_STATE_V1_SAVING
#define V1_RESUMING VFIO_DEVICE_STATE_V1_RESUMING

#define OFF_STATE offsetof(struct vfio_device_migration_info, device_state)
#define OFF_RESERVED offsetof(struct vfio_device_migration_info, reserved)
#define OFF_PENDING offsetof(struct vfio_device_migration_info, pending_bytes)
#define OFF_DATA_OFF offsetof(struct vfio_device_migration_info, data_offset)
#define OFF_DATA_SIZE offsetof(struct vfio_device_migration_info, data_size)

static uint32_t
v1_from_state(uint32_t s)
{
    switch (s) {
    case VFIO_DEVICE_STATE_RUNNING:
        return V1_RUNNING;
    case VFIO_DEVICE_STATE_PRE_COPY:
        return V1_RUNNING | V1_SAVING;
    case VFIO_DEVICE_STATE_STOP_COPY:
        return V1_SAVING;
    case VFIO_DEVICE_STATE_STOP:
        return 0;
    case VFIO_DEVICE_STATE_RESUMING:
        return V1_RESUMING;
    default:
        return V1_SAVING | V1_RESUMING; /* error */
    }
}

static int
state_from_v1(uint32_t v, uint32_t *out)
{
    switch (v) {
    case 0:
        *out = VFIO_DEVICE_STATE_STOP;
        return 0;
    case V1_RUNNING:
        *out = VFIO_DEVICE_STATE_RUNNING;
        return 0;
    case V1_SAVING:
        *out = VFIO_DEVICE_STATE_STOP_COPY;
        return 0;
    case V1_RUNNING | V1_SAVING:
        *out = VFIO_DEVICE_STATE_PRE_COPY;
        return 0;
    case V1_RESUMING:
        *out = VFIO_DEVICE_STATE_RESUMING;
        return 0;
    default:
        return -EINVAL; /* the error encoding, RESUMING with others, junk */
    }
}

static void
chunk_stage(struct vdev_migration *mig)
{
    size_t left = mig->out_len - mig->out_off;

    if (mig->v1_chunk_open)
        return;
    mig->v1_chunk_len = left < VDEV_MIG_V1_WINDOW ? left : VDEV_MIG_V1_WINDOW;
    mig->v1_chunk_open = true;
}

static void
chunk_consume(struct vdev_migration *mig)
{
    if (!mig->v1_chunk_open)
        return;
    mig->out_off += mig->v1_chunk_len;
    mig->v1_chunk_open = false;
    mig->v1_chunk_len = 0;
}

static int
reg_read(struct vdev_migration *mig, uint64_t off, uint64_t *val)
{
    bool saving = vdev_mig_is_saving(mig->state);

    switch (off) {
    case OFF_STATE:
        *val = v1_from_state(mig->state);
        return 0;
    case OFF_RESERVED:
        *val = 0;
        return 0;
    case OFF_PENDING:
        if (saving)
            chunk_consume(mig);
        *val = saving ? mig->out_len - mig->out_off : 0;
        return 0;
    case OFF_DATA_OFF:
        if (saving)
            chunk_stage(mig);
        *val = VDEV_MIG_V1_DATA_OFFSET;
        return 0;
    case OFF_DATA_SIZE:
        if (saving)
            chunk_stage(mig);
        *val = saving ? mig->v1_chunk_len : 0;
        return 0;
    }
    return -EINVAL;
}

static int
reg_write(struct vdev_dev *dev, uint64_t off, uint64_t val)
{
    struct vdev_migration *mig = dev->mig;
    uint32_t target;
    int rc;

    switch (off) {
    case OFF_STATE:
        if ((rc = state_from_v1((uint32_t)val, &target)) < 0)
            return rc;
        chunk_consume(mig);
        return vdev_mig_set_state(dev, target, VDEV_MIG_V1);
    case OFF_DATA_SIZE:
        if (mig->state != VFIO_DEVICE_STATE_RESUMING ||
            val > VDEV_MIG_V1_WINDOW)
            return -EINVAL;
        if (!val)
            return 0;
        if (!mig->v1_window)
            return -EINVAL; /* nothing was written to the window */
        rc = vdev_mig_resume_append(dev, mig->v1_window, val);
        memset(mig->v1_window, 0, val);
        return rc;
    }
    return -EINVAL; /* read-only or reserved */
}

static int
window_access(struct vdev_migration *mig, uint64_t off, void *buf,
              uint32_t count, bool is_write)
{
    if (!is_write) {
        if (!vdev_mig_is_saving(mig->state) || !mig->v1_chunk_open ||
            off > mig->v1_chunk_len || count > mig->v1_chunk_len - off)
            return -EINVAL;
        memcpy(buf, mig->out + mig->out_off + off, count);
        return 0;
    }
    if (mig->state != VFIO_DEVICE_STATE_RESUMING ||
        count > VDEV_MIG_V1_WINDOW - off)
        return -EINVAL;
    if (!mig->v1_window) {
        mig->v1_window = talloc_zero_size(mig, VDEV_MIG_V1_WINDOW);
        if (!mig->v1_window)
            return -ENOMEM;
    }
    memcpy(mig->v1_window + off, buf, count);
    return 0;
}

static int
legacy_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
              uint32_t count, bool is_write)
{
    struct vdev_migration *mig = opaque;
    uint64_t val = 0;
    uint32_t width;
    int rc;

    vdev_mig_release_idle(mig); /* a v2 client may have left */
    if (offset >= VDEV_MIG_V1_DATA_OFFSET) {
        if (offset - VDEV_MIG_V1_DATA_OFFSET >= VDEV_MIG_V1_WINDOW)
            return -EINVAL;
        if (mig->gen == VDEV_MIG_V2)
            return -EBUSY;
        return window_access(mig, offset - VDEV_MIG_V1_DATA_OFFSET, buf, count,
                             is_write);
    }
    width = offset < OFF_PENDING ? 4 : 8;
    if (offset % width || count != width ||
        offset >= sizeof(struct vfio_device_migration_info))
        return -EINVAL;
    /* Reads that advance the stream belong to the session's owner. */
    if ((is_write ||
         (offset >= OFF_PENDING && vdev_mig_is_saving(mig->state))) &&
        mig->gen == VDEV_MIG_V2)
        return -EBUSY;
    if (!is_write) {
        if ((rc = reg_read(mig, offset, &val)) < 0)
            return rc;
        memcpy(buf, &val, width); /* little-endian host */
        return 0;
    }
    memcpy(&val, buf, width);
    return reg_write(dev, offset, val);
}

int
vdev_mig_legacy_init(struct vdev_dev *dev)
{
    int idx =
        vdev_region_add_typed(dev, VFIO_REGION_TYPE_MIGRATION_DEPRECATED,
                              VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED,
                              VDEV_MIG_V1_REGION_SIZE, legacy_access, dev->mig);
    if (idx < 0)
        return idx;
    dev->mig->v1_region = idx;
    return 0;
}
