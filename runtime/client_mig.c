/* libvdev client: migration of the current protocol — DEVICE_FEATURE for
 * the migration features and state machine, MIG_DATA_READ/WRITE for the
 * device state stream (chunked to the negotiated transfer size). */
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "client_priv.h"

#define FEATURE_HDR sizeof(struct vfio_user_device_feature)
#define MIG_HDR sizeof(struct vfio_user_mig_data)

int
vdev_client_device_feature(struct vdev_client *cl, uint32_t flags,
                           const void *data, size_t len, void *reply,
                           size_t reply_cap, size_t *reply_len)
{
    struct vfio_user_device_feature h;
    uint8_t *req, *rep;
    size_t got = 0;
    int rc;

    if (reply_len)
        *reply_len = 0;
    if (len > UINT32_MAX - FEATURE_HDR || reply_cap > (1u << 20))
        return -EINVAL;
    req = talloc_size(cl, FEATURE_HDR + len);
    rep = talloc_size(cl, FEATURE_HDR + reply_cap);
    if (!req || !rep) {
        talloc_free(req);
        talloc_free(rep);
        return -ENOMEM;
    }
    h.argsz = (uint32_t)(FEATURE_HDR + (len > reply_cap ? len : reply_cap));
    h.flags = flags;
    memcpy(req, &h, FEATURE_HDR);
    if (len)
        memcpy(req + FEATURE_HDR, data, len);
    rc = vdev_client_call(cl, VFIO_USER_DEVICE_FEATURE, req, FEATURE_HDR + len,
                          NULL, 0, rep, FEATURE_HDR + reply_cap, &got, NULL,
                          NULL);
    if (rc < 0)
        goto out;
    rc = -EPROTO;
    if (got < FEATURE_HDR)
        goto out;
    memcpy(&h, rep, FEATURE_HDR);
    if (h.argsz < FEATURE_HDR)
        goto out;
    if (reply_len)
        *reply_len = h.argsz - FEATURE_HDR;
    /* a short reply that names a larger argsz: our buffer was too small */
    if (h.argsz > got) {
        rc = h.argsz > FEATURE_HDR + reply_cap ? -ENOSPC : -EPROTO;
        goto out;
    }
    if (reply && got > FEATURE_HDR)
        memcpy(reply, rep + FEATURE_HDR, got - FEATURE_HDR);
    rc = 0;
out:
    talloc_free(req);
    talloc_free(rep);
    return rc;
}

int
vdev_client_mig_flags(struct vdev_client *cl, uint64_t *flags)
{
    struct vfio_device_feature_migration m = {0};
    size_t len;
    int rc = vdev_client_device_feature(
        cl, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, NULL, 0,
        &m, sizeof(m), &len);

    if (rc < 0)
        return rc;
    if (len < sizeof(m))
        return -EPROTO;
    *flags = m.flags;
    return 0;
}

int
vdev_client_mig_get_state(struct vdev_client *cl, uint32_t *state)
{
    struct vfio_device_feature_mig_state s = {0};
    size_t len;
    int rc = vdev_client_device_feature(
        cl, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
        NULL, 0, &s, sizeof(s), &len);

    if (rc < 0)
        return rc;
    if (len < sizeof(s))
        return -EPROTO;
    *state = s.device_state;
    return 0;
}

int
vdev_client_mig_set_state(struct vdev_client *cl, uint32_t state)
{
    /* data_fd has no use over a socket: the stream is MIG_DATA_* */
    struct vfio_device_feature_mig_state s = {.device_state = state,
                                              .data_fd = -1};

    return vdev_client_device_feature(
        cl, VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, &s,
        sizeof(s), NULL, sizeof(s), NULL);
}

static uint32_t
mig_chunk(const struct vdev_client *cl)
{
    uint32_t a = cl->caps.max_data_xfer_size;
    uint32_t b = cl->want.max_data_xfer_size;
    uint32_t c = a < b ? a : b;
    return c ? c : 1;
}

ssize_t
vdev_client_mig_read(struct vdev_client *cl, void *buf, uint32_t size)
{
    uint32_t n = size < mig_chunk(cl) ? size : mig_chunk(cl);
    struct vfio_user_mig_data req = {.argsz = (uint32_t)MIG_HDR + n, .size = n};
    struct vfio_user_mig_data got = {0};
    uint8_t *rep = talloc_size(cl, MIG_HDR + n);
    size_t len;
    int rc;

    if (!rep)
        return -ENOMEM;
    rc = vdev_client_call(cl, VFIO_USER_MIG_DATA_READ, &req, sizeof(req), NULL,
                          0, rep, MIG_HDR + n, &len, NULL, NULL);
    if (rc == 0) {
        memcpy(&got, rep, MIG_HDR);
        if (len < MIG_HDR || got.size > n || len != MIG_HDR + got.size)
            rc = -EPROTO;
        else
            memcpy(buf, rep + MIG_HDR, got.size);
    }
    talloc_free(rep);
    return rc < 0 ? rc : (ssize_t)got.size;
}

int
vdev_client_mig_write(struct vdev_client *cl, const void *buf, uint32_t size)
{
    uint32_t chunk = mig_chunk(cl);
    uint8_t *req = talloc_size(cl, MIG_HDR + (size < chunk ? size : chunk));
    int rc = 0;

    if (!req)
        return -ENOMEM;
    for (uint32_t done = 0; done < size && rc == 0;) {
        uint32_t n = size - done < chunk ? size - done : chunk;
        struct vfio_user_mig_data h = {.argsz = (uint32_t)MIG_HDR, .size = n};
        memcpy(req, &h, MIG_HDR);
        memcpy(req + MIG_HDR, (const uint8_t *)buf + done, n);
        rc = vdev_client_call(cl, VFIO_USER_MIG_DATA_WRITE, req, MIG_HDR + n,
                              NULL, 0, NULL, 0, NULL, NULL, NULL);
        done += n;
    }
    talloc_free(req);
    return rc;
}
