/* libvdev client: typed requests — device, region and IRQ info, region and
 * config-space I/O (chunked to the negotiated transfer size), DMA map and
 * unmap, SET_IRQS and reset. */
#include <errno.h>
#include <string.h>
#include <talloc.h>
#include <unistd.h>

#include "base/fdio.h"
#include "client/client_priv.h"

/* The spec's DEVICE_GET_INFO payload: newer <linux/vfio.h> grew the struct
 * (cap_offset), the wire format did not. */
#define DEVICE_INFO_WIRE 16u

int
vdev_client_device_info(struct vdev_client *cl, struct vfio_device_info *out)
{
    struct vfio_device_info req = {.argsz = DEVICE_INFO_WIRE};
    size_t len;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = vdev_client_call(cl, VFIO_USER_DEVICE_GET_INFO, &req, DEVICE_INFO_WIRE,
                          NULL, 0, out, DEVICE_INFO_WIRE, &len, NULL, NULL);
    if (rc < 0)
        return rc;
    return len < DEVICE_INFO_WIRE ? -EPROTO : 0;
}

int
vdev_client_irq_info(struct vdev_client *cl, uint32_t index,
                     struct vfio_irq_info *out)
{
    struct vfio_irq_info req = {.argsz = sizeof(req), .index = index};
    size_t len;
    int rc =
        vdev_client_call(cl, VFIO_USER_DEVICE_GET_IRQ_INFO, &req, sizeof(req),
                         NULL, 0, out, sizeof(*out), &len, NULL, NULL);
    if (rc < 0)
        return rc;
    return len < sizeof(*out) || out->index != index ? -EPROTO : 0;
}

/* One GET_REGION_INFO with room for argsz bytes of reply. */
static int
region_info_once(struct vdev_client *cl, uint32_t index, uint32_t argsz,
                 uint8_t *buf, size_t *len, int *fds, unsigned *nr_fds)
{
    struct vfio_region_info req = {.argsz = argsz, .index = index};

    return vdev_client_call(cl, VFIO_USER_DEVICE_GET_REGION_INFO, &req,
                            sizeof(req), NULL, 0, buf, argsz, len, fds, nr_fds);
}

int
vdev_client_region_info(struct vdev_client *cl, uint32_t index,
                        struct vfio_region_info *out, void *caps,
                        size_t caps_cap, size_t *caps_len, int *fd)
{
    const size_t fixed = sizeof(struct vfio_region_info);
    uint32_t argsz = (uint32_t)(fixed + (caps_cap < 65536 ? caps_cap : 65536));
    int fds[VDEV_CLIENT_MAX_FDS];
    unsigned nr_fds;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    if (fd)
        *fd = -1;
    if (caps_len)
        *caps_len = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        talloc_free(buf);
        buf = talloc_zero_size(cl, argsz);
        if (!buf)
            return -ENOMEM;
        nr_fds = VDEV_CLIENT_MAX_FDS;
        rc = region_info_once(cl, index, argsz, buf, &len, fds, &nr_fds);
        if (rc < 0)
            goto out;
        rc = -EPROTO;
        if (len < fixed || len > argsz)
            goto out;
        memcpy(out, buf, fixed);
        if (out->index != index || out->argsz < fixed)
            goto out;
        /* The server says how much it needs; the chain is only usable
         * when it fit, so ask once more with that much room. */
        if (out->argsz <= argsz || out->argsz > fixed + 65536 || !caps ||
            !caps_cap || attempt == 1)
            break;
        argsz = out->argsz;
        vdev_close_fds(fds, nr_fds);
    }
    rc = 0;
    size_t chain = len - fixed;
    if (caps_len)
        *caps_len = chain;
    if (caps && caps_cap)
        memcpy(caps, buf + fixed, chain < caps_cap ? chain : caps_cap);
    if (fd && nr_fds > 0) {
        *fd = fds[0];
        fds[0] = -1;
    }
out:
    vdev_close_fds(fds, nr_fds);
    talloc_free(buf);
    return rc;
}

/* Largest data part of one REGION_READ/WRITE both sides accept. */
static uint32_t
xfer_chunk(const struct vdev_client *cl)
{
    uint32_t a = cl->caps.max_data_xfer_size;
    uint32_t b = cl->want.max_data_xfer_size;
    uint32_t c = a < b ? a : b;
    return c ? c : 1;
}

int
vdev_client_region_read(struct vdev_client *cl, uint32_t region,
                        uint64_t offset, void *buf, uint32_t count)
{
    const size_t hl = sizeof(struct vfio_user_region_access);
    uint32_t chunk = xfer_chunk(cl);
    uint8_t *rep = talloc_size(cl, hl + (count < chunk ? count : chunk));
    int rc = 0;

    if (!rep)
        return -ENOMEM;
    for (uint32_t done = 0; done < count;) {
        uint32_t n = count - done < chunk ? count - done : chunk;
        struct vfio_user_region_access req = {
            .offset = offset + done, .region = region, .count = n};
        struct vfio_user_region_access got;
        size_t len;
        rc = vdev_client_call(cl, VFIO_USER_REGION_READ, &req, sizeof(req),
                              NULL, 0, rep, hl + n, &len, NULL, NULL);
        if (rc < 0)
            break;
        memcpy(&got, rep, hl);
        if (len != hl + n || got.count != n || got.region != region ||
            got.offset != req.offset) {
            rc = -EPROTO;
            break;
        }
        memcpy((uint8_t *)buf + done, rep + hl, n);
        done += n;
    }
    talloc_free(rep);
    return rc;
}

int
vdev_client_region_write(struct vdev_client *cl, uint32_t region,
                         uint64_t offset, const void *buf, uint32_t count)
{
    const size_t hl = sizeof(struct vfio_user_region_access);
    uint32_t chunk = xfer_chunk(cl);
    uint8_t *req = talloc_size(cl, hl + (count < chunk ? count : chunk));
    int rc = 0;

    if (!req)
        return -ENOMEM;
    for (uint32_t done = 0; done < count;) {
        uint32_t n = count - done < chunk ? count - done : chunk;
        struct vfio_user_region_access h = {
            .offset = offset + done, .region = region, .count = n};
        struct vfio_user_region_access got;
        size_t len;
        memcpy(req, &h, hl);
        memcpy(req + hl, (const uint8_t *)buf + done, n);
        rc = vdev_client_call(cl, VFIO_USER_REGION_WRITE, req, hl + n, NULL, 0,
                              &got, sizeof(got), &len, NULL, NULL);
        if (rc < 0)
            break;
        if (len < hl || got.count != n) {
            rc = -EPROTO;
            break;
        }
        done += n;
    }
    talloc_free(req);
    return rc;
}

int
vdev_client_config_read(struct vdev_client *cl, uint32_t offset, void *buf,
                        uint32_t count)
{
    return vdev_client_region_read(cl, VFIO_PCI_CONFIG_REGION_INDEX, offset,
                                   buf, count);
}

int
vdev_client_config_write(struct vdev_client *cl, uint32_t offset,
                         const void *buf, uint32_t count)
{
    return vdev_client_region_write(cl, VFIO_PCI_CONFIG_REGION_INDEX, offset,
                                    buf, count);
}

int
vdev_client_config_dump(struct vdev_client *cl, uint8_t *buf, size_t size)
{
    if (size != 256 && size != 4096)
        return -EINVAL;
    return vdev_client_config_read(cl, 0, buf, (uint32_t)size);
}

int
vdev_client_dma_map(struct vdev_client *cl, uint64_t iova, uint64_t size,
                    int fd, uint64_t offset, uint32_t prot)
{
    struct vfio_user_dma_map req = {
        .argsz = sizeof(req),
        .flags =
            prot & (VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE),
        .offset = fd >= 0 ? offset : 0,
        .addr = iova,
        .size = size,
    };
    return vdev_client_call(cl, VFIO_USER_DMA_MAP, &req, sizeof(req),
                            fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, NULL, 0,
                            NULL, NULL, NULL);
}

int
vdev_client_dma_unmap(struct vdev_client *cl, uint64_t iova, uint64_t size,
                      uint32_t flags)
{
    struct vfio_user_dma_unmap req = {
        .argsz = sizeof(req), .flags = flags, .addr = iova, .size = size};
    struct vfio_user_dma_unmap got;
    size_t len;

    /* the reply echoes the request; nothing in it is new to us */
    return vdev_client_call(cl, VFIO_USER_DMA_UNMAP, &req, sizeof(req), NULL, 0,
                            &got, sizeof(got), &len, NULL, NULL);
}

/* One SET_IRQS message; fds or bools cover [start, start+count). */
static int
set_irqs_once(struct vdev_client *cl, uint32_t index, uint32_t flags,
              uint32_t start, uint32_t count, const int *fds,
              const uint8_t *bools)
{
    size_t data = (flags & VFIO_IRQ_SET_DATA_BOOL) ? count : 0;
    size_t len = sizeof(struct vfio_irq_set) + data;
    uint8_t *req = talloc_zero_size(cl, len);
    int rc;

    if (!req)
        return -ENOMEM;
    struct vfio_irq_set s = {.argsz = (uint32_t)len,
                             .flags = flags,
                             .index = index,
                             .start = start,
                             .count = count};
    memcpy(req, &s, sizeof(s));
    if (data)
        memcpy(req + sizeof(s), bools, data);
    unsigned nr_fds = (flags & VFIO_IRQ_SET_DATA_EVENTFD) && fds ? count : 0;
    rc = vdev_client_call(cl, VFIO_USER_DEVICE_SET_IRQS, req, len, fds, nr_fds,
                          NULL, 0, NULL, NULL, NULL);
    talloc_free(req);
    return rc;
}

int
vdev_client_set_irqs(struct vdev_client *cl, uint32_t index, uint32_t flags,
                     uint32_t start, uint32_t count, const int *fds,
                     const uint8_t *bools)
{
    if ((flags & VFIO_IRQ_SET_DATA_BOOL) && count && !bools)
        return -EINVAL;
    if (!(flags & VFIO_IRQ_SET_DATA_EVENTFD) || !fds ||
        count <= cl->caps.max_msg_fds)
        return set_irqs_once(cl, index, flags, start, count, fds, bools);
    /* more eventfds than the server takes in one message: send in slices */
    uint32_t per = cl->caps.max_msg_fds ? cl->caps.max_msg_fds : 1;
    for (uint32_t done = 0; done < count;) {
        uint32_t n = count - done < per ? count - done : per;
        int rc =
            set_irqs_once(cl, index, flags, start + done, n, fds + done, NULL);
        if (rc < 0)
            return rc;
        done += n;
    }
    return 0;
}

int
vdev_client_reset(struct vdev_client *cl)
{
    return vdev_client_call(cl, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0, NULL,
                            0, NULL, NULL, NULL);
}
