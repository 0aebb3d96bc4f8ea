/* Client side of migration v2 for tools (vdevctl save/load): device state
 * get/set through DEVICE_FEATURE and the state stream through
 * MIG_DATA_READ/WRITE, to memory or to a FILE. Public API only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "vdev_client.h"

#define MIG_CHUNK_MAX (1u << 20)

/* Largest data payload per message both sides accept. */
static uint32_t
chunk_size(struct vdev_client *cl)
{
    const struct vdev_client_caps *caps = vdev_client_server_caps(cl);
    uint32_t n = caps && caps->max_data_xfer_size ? caps->max_data_xfer_size
                                                  : VFIO_USER_DEF_MAX_DATA_XFER;
    return n < MIG_CHUNK_MAX ? n : MIG_CHUNK_MAX;
}

static int
state_feature(struct vdev_client *cl, uint32_t flags, uint32_t *state)
{
    struct {
        struct vfio_user_device_feature h;
        struct vfio_device_feature_mig_state st;
    } __attribute__((packed)) req =
        {
            {sizeof(req), flags | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE},
            {*state, -1},
        },
                              rep;
    size_t len;
    int rc;

    rc = vdev_client_call(cl, VFIO_USER_DEVICE_FEATURE, &req,
                          flags & VFIO_DEVICE_FEATURE_SET ? sizeof(req)
                                                          : sizeof(req.h),
                          NULL, 0, &rep, sizeof(rep), &len, NULL, NULL);
    if (rc < 0)
        return rc;
    if (len < sizeof(rep))
        return -EPROTO;
    *state = rep.st.device_state;
    return 0;
}

int
vdev_client_mig_get_state(struct vdev_client *cl, uint32_t *state)
{
    *state = 0;
    return state_feature(cl, VFIO_DEVICE_FEATURE_GET, state);
}

int
vdev_client_mig_set_state(struct vdev_client *cl, uint32_t state)
{
    uint32_t s = state;
    int rc = state_feature(cl, VFIO_DEVICE_FEATURE_SET, &s);

    if (rc == 0 && s != state)
        return -EPROTO;
    return rc;
}

/* Reads the stream until a short read, handing each piece to sink. */
static int
read_stream(struct vdev_client *cl,
            int (*sink)(void *opaque, const void *p, size_t n), void *opaque)
{
    uint32_t chunk = chunk_size(cl);
    struct vfio_user_mig_data req = {(uint32_t)sizeof(req) + chunk, chunk};
    uint8_t *rep = malloc(sizeof(req) + chunk);
    int rc = 0;

    if (!rep)
        return -ENOMEM;
    for (;;) {
        struct vfio_user_mig_data got;
        size_t len;

        rc = vdev_client_call(cl, VFIO_USER_MIG_DATA_READ, &req, sizeof(req),
                              NULL, 0, rep, sizeof(req) + chunk, &len, NULL,
                              NULL);
        if (rc < 0)
            break;
        if (len < sizeof(got)) {
            rc = -EPROTO;
            break;
        }
        memcpy(&got, rep, sizeof(got));
        if (got.size > chunk || len != sizeof(got) + got.size) {
            rc = -EPROTO;
            break;
        }
        if (got.size && (rc = sink(opaque, rep + sizeof(got), got.size)) < 0)
            break;
        if (got.size < chunk)
            break; /* short read: the end of the data */
    }
    free(rep);
    return rc;
}

struct membuf {
    void *ctx;
    uint8_t *p;
    size_t len;
};

static int
mem_sink(void *opaque, const void *p, size_t n)
{
    struct membuf *b = opaque;
    uint8_t *np = talloc_realloc(b->ctx, b->p, uint8_t, b->len + n);

    if (!np)
        return -ENOMEM;
    memcpy(np + b->len, p, n);
    b->p = np;
    b->len += n;
    return 0;
}

static int
file_sink(void *opaque, const void *p, size_t n)
{
    return fwrite(p, 1, n, opaque) == n ? 0 : -EIO;
}

static int
save(struct vdev_client *cl, int (*sink)(void *opaque, const void *p, size_t n),
     void *opaque)
{
    int rc = vdev_client_mig_set_state(cl, VFIO_DEVICE_STATE_STOP_COPY);

    if (rc < 0)
        return rc;
    rc = read_stream(cl, sink, opaque);
    if (rc < 0)
        return rc;
    return vdev_client_mig_set_state(cl, VFIO_DEVICE_STATE_STOP);
}

int
vdev_client_mig_save(struct vdev_client *cl, void *mem_ctx, uint8_t **buf,
                     size_t *len)
{
    struct membuf b = {mem_ctx, NULL, 0};
    int rc = save(cl, mem_sink, &b);

    if (rc < 0) {
        talloc_free(b.p);
        return rc;
    }
    *buf = b.p;
    *len = b.len;
    return 0;
}

int
vdev_client_mig_save_file(struct vdev_client *cl, FILE *f)
{
    int rc = save(cl, file_sink, f);

    if (rc == 0 && fflush(f) != 0)
        rc = -EIO;
    return rc;
}

static int
write_chunk(struct vdev_client *cl, uint8_t *msg, const void *p, size_t n)
{
    struct vfio_user_mig_data h = {(uint32_t)sizeof(h), (uint32_t)n};

    memcpy(msg, &h, sizeof(h));
    memcpy(msg + sizeof(h), p, n);
    return vdev_client_call(cl, VFIO_USER_MIG_DATA_WRITE, msg, sizeof(h) + n,
                            NULL, 0, NULL, 0, NULL, NULL, NULL);
}

/* RESUMING, the stream from src (memory or FILE), then STOP: the server
 * loads the state there, or refuses it and stays RESUMING. */
static int
load(struct vdev_client *cl, const uint8_t *buf, size_t len, FILE *f)
{
    uint32_t chunk = chunk_size(cl);
    uint8_t *msg;
    int rc = vdev_client_mig_set_state(cl, VFIO_DEVICE_STATE_RESUMING);

    if (rc < 0)
        return rc;
    msg = malloc(sizeof(struct vfio_user_mig_data) + chunk);
    if (!msg)
        return -ENOMEM;
    if (f) {
        uint8_t *tmp = malloc(chunk);
        size_t n;
        if (!tmp)
            rc = -ENOMEM;
        while (rc == 0 && (n = fread(tmp, 1, chunk, f)) > 0)
            rc = write_chunk(cl, msg, tmp, n);
        if (rc == 0 && ferror(f))
            rc = -EIO;
        free(tmp);
    } else {
        for (size_t off = 0; rc == 0 && off < len; off += chunk)
            rc = write_chunk(cl, msg, buf + off,
                             len - off < chunk ? len - off : chunk);
    }
    free(msg);
    if (rc < 0)
        return rc;
    return vdev_client_mig_set_state(cl, VFIO_DEVICE_STATE_STOP);
}

int
vdev_client_mig_load(struct vdev_client *cl, const void *buf, size_t len)
{
    if (!buf || !len)
        return -EINVAL;
    return load(cl, buf, len, NULL);
}

int
vdev_client_mig_load_file(struct vdev_client *cl, FILE *f)
{
    return load(cl, NULL, 0, f);
}
