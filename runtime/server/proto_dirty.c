/* VFIO_USER_DIRTY_PAGES: the legacy generation's dirty logging (start,
 * stop, get a bitmap), over the bitmaps of dirty.c that the v2
 * DMA_LOGGING_* features (proto_feature.c) share. */
#include <errno.h>
#include <string.h>

#include "device/dma.h"
#include "migration/migration.h"
#include "server/conn.h"

static bool
is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* Fills bm->size bytes at out with the dirty bits of [iova, iova + size). */
static int
legacy_bitmap(struct vdev_conn *c, uint64_t iova, uint64_t size,
              const struct vfio_user_bitmap *bm, uint8_t *out)
{
    struct vdev_migration *mig = c->dev->mig;
    uint64_t pages;

    if (!mig || !vdev_mig_logging(c->dev))
        return -EINVAL;
    if (mig->log_gen != VDEV_MIG_V1)
        return -EBUSY;
    if (!is_pow2(bm->pgsize) || !size || iova % bm->pgsize ||
        iova + size - 1 < iova)
        return -EINVAL;
    pages = size / bm->pgsize + !!(size % bm->pgsize);
    if (bm->size < pages / 8 + !!(pages % 8) || bm->size > VDEV_MIG_MAX_BITMAP)
        return -EINVAL;
    return vdev_dirty_bits(&c->dma, iova, size, bm->pgsize, out, bm->size);
}

int
vdev_handle_dirty_pages(struct vdev_conn *c, struct vdev_msg *m,
                        struct vdev_reply *r)
{
    struct vfio_user_dirty_pages dp;
    struct vfio_user_bitmap_range rg;
    uint8_t *p;
    uint64_t need;
    int rc;

    if (!c->dev->mig)
        return -ENOTSUP;
    if (m->body_len < sizeof(dp))
        return -EINVAL;
    memcpy(&dp, m->body, sizeof(dp));
    switch (dp.flags) {
    case VFIO_USER_DIRTY_PAGES_FLAG_START:
    case VFIO_USER_DIRTY_PAGES_FLAG_STOP:
        if (m->body_len != sizeof(dp))
            return -EINVAL;
        if (dp.flags == VFIO_USER_DIRTY_PAGES_FLAG_STOP)
            rc = vdev_mig_log_stop(c->dev, VDEV_MIG_V1);
        else if (vdev_mig_logging(c->dev) &&
                 c->dev->mig->log_gen == VDEV_MIG_V1)
            rc = 0; /* already on: starting again changes nothing */
        else
            rc = vdev_mig_log_start(c->dev, VDEV_MIG_V1, 4096, NULL, 0);
        /* No reply payload: VFIO_IOMMU_DIRTY_PAGES has no output here,
         * and libvfio-user sends none (runtime/KERNEL.md, P1). */
        return rc < 0 ? rc : 0;
    case VFIO_USER_DIRTY_PAGES_FLAG_GET_BITMAP:
        break;
    default:
        return -EINVAL; /* none, several, or unknown flags */
    }
    if (m->body_len != sizeof(dp) + sizeof(rg))
        return -EINVAL;
    memcpy(&rg, m->body + sizeof(dp), sizeof(rg));
    if (rg.bitmap.size > VDEV_MIG_MAX_BITMAP)
        return -EINVAL;
    need = sizeof(dp) + sizeof(rg) + rg.bitmap.size;
    if (dp.argsz < need)
        return -EINVAL;
    p = vdev_reply_alloc(r, c, (uint32_t)need);
    if (!p)
        return -ENOMEM;
    rc = legacy_bitmap(c, rg.iova, rg.size, &rg.bitmap,
                       p + sizeof(dp) + sizeof(rg));
    if (rc < 0)
        return rc;
    dp.argsz = (uint32_t)need;
    memcpy(p, &dp, sizeof(dp));
    memcpy(p + sizeof(dp), &rg, sizeof(rg));
    return 0;
}
