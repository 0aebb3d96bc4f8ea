/* Migration v2 messages: VFIO_USER_DEVICE_FEATURE (MIGRATION,
 * MIG_DEVICE_STATE, DMA_LOGGING_START/STOP/REPORT) and
 * VFIO_USER_MIG_DATA_READ/WRITE.
 *
 * DEVICE_FEATURE answers as vfio_ioctl_device_feature and
 * vfio_check_feature do (runtime/KERNEL.md, D1-D9), in their order: argsz
 * below the 8-byte header, unknown flag bits, or GET and SET without PROBE
 * are EINVAL; a feature this server does not implement (or any feature on
 * a device without migration) is ENOTTY; an operation the feature lacks
 * (SET of MIGRATION, PROBE with GET of DMA_LOGGING_START), or neither GET
 * nor SET, is EINVAL. Request data must be at least the kernel's minimum
 * for the feature; more is accepted (a DMA_LOGGING_STOP that carries the
 * logging control, as some clients send it, is served).
 *
 * Choices the spec makes, or leaves open:
 * - GET follows the spec's argsz rule (the kernel refuses instead): when
 *   argsz is too small for the answer the reply is the 8-byte header with
 *   argsz = the size needed and nothing else happens (a DMA log is not
 *   read, hence not cleared).
 * - DMA logging granularity: the page_size hint if it is a power of two of
 *   at least 4096, else 4096 for smaller powers of two; zero ranges log
 *   everything (spec); ranges must be aligned to the hint (as the kernel),
 *   not be empty, not overlap; one that wraps is EOVERFLOW. Reports need a
 *   page size of at least 4096, an iova aligned to it, must lie inside one
 *   logged range (when ranges were given) and return at most
 *   VDEV_MIG_MAX_BITMAP bytes of bitmap (else E2BIG).
 * - MIG_DATA_WRITE needs argsz >= 8 (its reply has no payload). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device/dma.h"
#include "migration/migration.h"
#include "server/conn.h"

#define FEAT_OPS                                                               \
    (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |                       \
     VFIO_DEVICE_FEATURE_PROBE)
#define MIN_LOG_PAGE 4096u

static bool
is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static uint32_t
max_xfer(const struct vdev_conn *c)
{
    uint32_t m = VDEV_MAX_DATA_XFER;

    if (c->peer_max_data_xfer && c->peer_max_data_xfer < m)
        m = c->peer_max_data_xfer;
    return m;
}

/* Operations each feature supports; 0 = not a feature of ours. */
static uint32_t
feature_ops(uint32_t feature)
{
    switch (feature) {
    case VFIO_DEVICE_FEATURE_MIGRATION:
    case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
        return VFIO_DEVICE_FEATURE_GET;
    case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
        return VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET;
    case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
    case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
        return VFIO_DEVICE_FEATURE_SET;
    default:
        return 0;
    }
}

static int
reply_echo(struct vdev_conn *c, struct vdev_msg *m, struct vdev_reply *r,
           uint8_t **out)
{
    uint8_t *p = vdev_reply_alloc(r, c, m->body_len);

    if (!p)
        return -ENOMEM;
    memcpy(p, m->body, m->body_len);
    if (out)
        *out = p;
    return 0;
}

/* GET reply of dlen data bytes; returns the data area, or NULL with *rc
 * set (0 when argsz was too small and the short reply is already built). */
static uint8_t *
reply_get(struct vdev_conn *c, const struct vfio_user_device_feature *req,
          struct vdev_reply *r, uint32_t dlen, int *rc)
{
    struct vfio_user_device_feature *h;
    uint32_t need = (uint32_t)sizeof(*h) + dlen;
    bool fits = req->argsz >= need;

    h = vdev_reply_alloc(r, c, fits ? need : (uint32_t)sizeof(*h));
    if (!h) {
        *rc = -ENOMEM;
        return NULL;
    }
    h->argsz = need;
    h->flags = req->flags;
    *rc = 0;
    return fits ? h->data : NULL;
}

static int
feat_migration(struct vdev_conn *c, const struct vfio_user_device_feature *h,
               uint32_t dlen, struct vdev_reply *r)
{
    struct vfio_device_feature_migration mf = {
        .flags = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY,
    };
    uint8_t *d;
    int rc;

    (void)dlen; /* GET reads no request data */
    d = reply_get(c, h, r, sizeof(mf), &rc);
    if (d)
        memcpy(d, &mf, sizeof(mf));
    return rc;
}

static int
feat_state(struct vdev_conn *c, struct vdev_msg *m,
           const struct vfio_user_device_feature *h, uint32_t dlen,
           struct vdev_reply *r)
{
    struct vdev_migration *mig = c->dev->mig;
    struct vfio_device_feature_mig_state st;
    uint8_t *d;
    int rc;

    if (h->flags & VFIO_DEVICE_FEATURE_GET) {
        st.device_state = mig->state;
        st.data_fd = -1;
        d = reply_get(c, h, r, sizeof(st), &rc);
        if (d)
            memcpy(d, &st, sizeof(st));
        return rc;
    }
    if (dlen < sizeof(st))
        return -EINVAL;
    memcpy(&st, m->body + sizeof(*h), sizeof(st));
    rc = vdev_mig_set_state(c->dev, st.device_state, VDEV_MIG_V2);
    if (rc < 0)
        return rc;
    if ((rc = reply_echo(c, m, r, &d)) < 0)
        return rc;
    st.device_state = mig->state;
    st.data_fd = -1;
    memcpy(d + sizeof(*h), &st, sizeof(st));
    return 0;
}

static int
cmp_range(const void *a, const void *b)
{
    const struct vdev_log_range *x = a, *y = b;
    return x->iova < y->iova ? -1 : x->iova > y->iova;
}

/* Sorted ranges: aligned to the page size asked for, not empty, not
 * wrapping (EOVERFLOW, as the kernel), not overlapping. */
static int
ranges_check(const struct vdev_log_range *rg, unsigned n, uint64_t page)
{
    for (unsigned i = 0; i < n; i++) {
        if (((rg[i].iova | rg[i].length) & (page - 1)) || !rg[i].length)
            return -EINVAL;
        if (rg[i].iova + rg[i].length - 1 < rg[i].iova)
            return -EOVERFLOW;
        if (i && rg[i].iova - rg[i - 1].iova < rg[i - 1].length)
            return -EINVAL;
    }
    return 0;
}

static int
feat_log_start(struct vdev_conn *c, struct vdev_msg *m,
               const struct vfio_user_device_feature *h, uint32_t dlen,
               struct vdev_reply *r)
{
    struct vfio_user_dma_logging_control ctl;
    struct vdev_log_range *rg = NULL;
    uint64_t pgsize;
    uint8_t *d;
    int rc;

    if (dlen < sizeof(ctl))
        return -EINVAL;
    memcpy(&ctl, m->body + sizeof(*h), sizeof(ctl));
    if (ctl.num_ranges > VDEV_MIG_MAX_LOG_RANGES)
        return -E2BIG;
    if (dlen < sizeof(ctl) + (uint64_t)ctl.num_ranges * 16u ||
        !is_pow2(ctl.page_size))
        return -EINVAL;
    pgsize = ctl.page_size < MIN_LOG_PAGE ? MIN_LOG_PAGE : ctl.page_size;
    if (ctl.num_ranges) {
        rg = talloc_array(c, struct vdev_log_range, ctl.num_ranges);
        if (!rg)
            return -ENOMEM;
        memcpy(rg, m->body + sizeof(*h) + sizeof(ctl),
               ctl.num_ranges * sizeof(*rg));
        qsort(rg, ctl.num_ranges, sizeof(*rg), cmp_range);
        rc = ranges_check(rg, ctl.num_ranges, ctl.page_size);
        if (rc < 0) {
            talloc_free(rg);
            return rc;
        }
    }
    rc = vdev_mig_log_start(c->dev, VDEV_MIG_V2, pgsize, rg, ctl.num_ranges);
    talloc_free(rg);
    if (rc < 0)
        return rc;
    if ((rc = reply_echo(c, m, r, &d)) < 0)
        return rc;
    memcpy(d + sizeof(*h), &pgsize, sizeof(pgsize));
    return 0;
}

static bool
in_logged_ranges(const struct vdev_migration *mig, uint64_t iova, uint64_t len)
{
    if (!mig->nr_log_ranges)
        return true;
    for (unsigned i = 0; i < mig->nr_log_ranges; i++) {
        const struct vdev_log_range *g = &mig->log_ranges[i];
        if (iova >= g->iova && iova - g->iova <= g->length - 1 &&
            len <= g->length - (iova - g->iova))
            return true;
    }
    return false;
}

static int
feat_log_report(struct vdev_conn *c, struct vdev_msg *m,
                const struct vfio_user_device_feature *h, uint32_t dlen,
                struct vdev_reply *r)
{
    struct vdev_migration *mig = c->dev->mig;
    struct vfio_user_dma_logging_report rep;
    uint64_t pages, words;
    uint8_t *d;
    int rc;

    if (dlen < sizeof(rep))
        return -EINVAL;
    memcpy(&rep, m->body + sizeof(*h), sizeof(rep));
    if (rep.page_size < MIN_LOG_PAGE || !is_pow2(rep.page_size))
        return -EINVAL;
    if (rep.length && rep.iova + rep.length - 1 < rep.iova)
        return -EOVERFLOW;
    if (!vdev_mig_logging(c->dev))
        return -EINVAL;
    if (mig->log_gen != VDEV_MIG_V2)
        return -EBUSY;
    if (!rep.length || rep.iova % rep.page_size ||
        !in_logged_ranges(mig, rep.iova, rep.length))
        return -EINVAL;
    pages = rep.length / rep.page_size + !!(rep.length % rep.page_size);
    words = pages / 64 + !!(pages % 64);
    if (words > VDEV_MIG_MAX_BITMAP / 8)
        return -E2BIG;
    d = reply_get(c, h, r, (uint32_t)(sizeof(rep) + words * 8), &rc);
    if (!d)
        return rc;
    memcpy(d, &rep, sizeof(rep));
    /* dirty.c zeroes the bitmap past the range's bits. */
    return vdev_dirty_bits(&c->dma, rep.iova, rep.length, rep.page_size,
                           d + sizeof(rep), words * 8);
}

int
vdev_handle_device_feature(struct vdev_conn *c, struct vdev_msg *m,
                           struct vdev_reply *r)
{
    struct vfio_user_device_feature h;
    uint32_t feature, ops, dlen;

    if (m->body_len < sizeof(h))
        return -EINVAL;
    memcpy(&h, m->body, sizeof(h));
    dlen = m->body_len - (uint32_t)sizeof(h);
    feature = h.flags & VFIO_DEVICE_FEATURE_MASK;
    ops = h.flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET);
    if (h.argsz < sizeof(h) ||
        (h.flags & ~(VFIO_DEVICE_FEATURE_MASK | FEAT_OPS)))
        return -EINVAL;
    if (!(h.flags & VFIO_DEVICE_FEATURE_PROBE) &&
        ops == (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET))
        return -EINVAL;
    if (!c->dev->mig || !feature_ops(feature))
        return -ENOTTY;
    if (ops & ~feature_ops(feature))
        return -EINVAL;
    if (h.flags & VFIO_DEVICE_FEATURE_PROBE)
        return reply_echo(c, m, r, NULL);
    if (!ops)
        return -EINVAL;

    switch (feature) {
    case VFIO_DEVICE_FEATURE_MIGRATION:
        return feat_migration(c, &h, dlen, r);
    case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
        return feat_state(c, m, &h, dlen, r);
    case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
        return feat_log_start(c, m, &h, dlen, r);
    case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP: {
        int rc;
        if ((rc = vdev_mig_log_stop(c->dev, VDEV_MIG_V2)) < 0)
            return rc;
        return reply_echo(c, m, r, NULL);
    }
    default:
        return feat_log_report(c, m, &h, dlen, r);
    }
}

/* ------------------------------------------------------------ data */

int
vdev_handle_mig_data_read(struct vdev_conn *c, struct vdev_msg *m,
                          struct vdev_reply *r)
{
    struct vdev_migration *mig = c->dev->mig;
    struct vfio_user_mig_data req, *rep;
    size_t avail;
    int rc;

    if (!mig)
        return -ENOTSUP;
    if (m->body_len != sizeof(req))
        return -EINVAL;
    memcpy(&req, m->body, sizeof(req));
    if (req.size > max_xfer(c) ||
        (uint64_t)req.argsz < sizeof(req) + (uint64_t)req.size)
        return -EINVAL;
    if (!vdev_mig_is_saving(mig->state))
        return -EINVAL;
    if ((rc = vdev_mig_claim(mig, VDEV_MIG_V2)) < 0)
        return rc;
    avail = mig->out_len - mig->out_off;
    if (avail > req.size)
        avail = req.size;
    rep = vdev_reply_alloc(r, c, (uint32_t)(sizeof(*rep) + avail));
    if (!rep)
        return -ENOMEM;
    rep->size = (uint32_t)vdev_mig_take(mig, rep->data, avail);
    rep->argsz = (uint32_t)sizeof(*rep) + rep->size;
    return 0;
}

int
vdev_handle_mig_data_write(struct vdev_conn *c, struct vdev_msg *m,
                           struct vdev_reply *r)
{
    struct vdev_migration *mig = c->dev->mig;
    struct vfio_user_mig_data req;
    int rc;

    if (!mig)
        return -ENOTSUP;
    if (m->body_len < sizeof(req))
        return -EINVAL;
    memcpy(&req, m->body, sizeof(req));
    if (req.size != m->body_len - sizeof(req) || req.size > max_xfer(c) ||
        req.argsz < sizeof(req))
        return -EINVAL;
    if (mig->state != VFIO_DEVICE_STATE_RESUMING)
        return -EINVAL;
    if ((rc = vdev_mig_claim(mig, VDEV_MIG_V2)) < 0)
        return rc;
    rc = vdev_mig_resume_append(c->dev, m->body + sizeof(req), req.size);
    if (rc < 0)
        return rc;
    r->len = 0;
    return 0;
}
