/* VFIO_USER_DMA_MAP and VFIO_USER_DMA_UNMAP handlers, including UNMAP_ALL
 * and the legacy generation's unmap-with-dirty-bitmap. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "device/dma.h"
#include "server/conn.h"
#include "server/server.h"

/* The legacy max_bitmap_size default: larger bitmaps are refused. */
#define UNMAP_MAX_BITMAP (256u << 20)

static void
close_fds(struct vdev_msg *m)
{
    for (unsigned i = 0; i < m->nr_fds; i++) {
        if (m->fds[i] >= 0)
            close(m->fds[i]);
        m->fds[i] = -1;
    }
}

/* As VFIO_IOMMU_MAP_DMA (vfio_iommu_type1, runtime/KERNEL.md M1-M5): argsz
 * at least the structure (more is accepted), known flags, a size and an
 * iova in whole pages of our pgsizes (4 KiB), 0 or 1 fd. */
int
vdev_handle_dma_map(struct vdev_conn *c, struct vdev_msg *m,
                    struct vdev_reply *r)
{
    struct vfio_user_dma_map req;
    uint32_t prot = 0;
    int fd = -1;

    if (m->body_len < sizeof(req) || m->nr_fds > 1) {
        close_fds(m);
        return -EINVAL;
    }
    memcpy(&req, m->body, sizeof(req));
    if (req.argsz < sizeof(req) ||
        (req.flags &
         ~(VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE)) ||
        !req.size || ((req.addr | req.size) & (VFIO_USER_DEF_PGSIZES - 1))) {
        close_fds(m);
        return -EINVAL;
    }
    if (req.flags & VFIO_USER_F_DMA_REGION_READ)
        prot |= VDEV_DMA_READ;
    if (req.flags & VFIO_USER_F_DMA_REGION_WRITE)
        prot |= VDEV_DMA_WRITE;
    if (m->nr_fds == 1) {
        fd = m->fds[0];
        m->fds[0] = -1; /* vdev_dma_add owns it from here, even on error */
    }
    r->len = 0;
    return vdev_dma_add(&c->dma, req.addr, req.size, fd, req.offset, prot);
}

/* Legacy GET_DIRTY_BITMAP: the reply is the request's unmap entry, its
 * bitmap descriptor and the map's dirty bitmap, read before the unmap. */
static int
unmap_with_bitmap(struct vdev_conn *c, struct vdev_msg *m,
                  const struct vfio_user_dma_unmap *req, struct vdev_reply *r)
{
    struct vfio_user_bitmap bm;
    struct vdev_dma_map *map;
    uint64_t need;
    uint8_t *out;
    int ret;

    if (m->body_len != sizeof(*req) + sizeof(bm))
        return -EINVAL;
    memcpy(&bm, m->body + sizeof(*req), sizeof(bm));
    if (!c->dma.logging || bm.pgsize != c->dma.log_pgsize)
        return -EINVAL;
    map = vdev_dma_lookup(&c->dma, req->addr);
    if (!map || map->iova != req->addr || map->size != req->size)
        return -ENOENT;
    need = vdev_dirty_bitmap_bytes(req->size, bm.pgsize);
    if (bm.size < need || bm.size > UNMAP_MAX_BITMAP)
        return -EINVAL;
    if (req->argsz < sizeof(*req) + sizeof(bm) + bm.size)
        return -EINVAL;
    out =
        vdev_reply_alloc(r, c, (uint32_t)(sizeof(*req) + sizeof(bm) + bm.size));
    if (!out)
        return -ENOMEM;
    ret = vdev_dirty_report(&c->dma, req->addr, req->size, bm.pgsize,
                            out + sizeof(*req) + sizeof(bm), bm.size);
    if (ret < 0)
        return ret;
    memcpy(out, req, sizeof(*req));
    memcpy(out + sizeof(*req), &bm, sizeof(bm));
    return vdev_dma_remove(&c->dma, req->addr, req->size);
}

int
vdev_handle_dma_unmap(struct vdev_conn *c, struct vdev_msg *m,
                      struct vdev_reply *r)
{
    struct vfio_user_dma_unmap req;
    void *out;

    if (m->body_len < sizeof(req))
        return -EINVAL;
    memcpy(&req, m->body, sizeof(req));
    if (req.argsz < sizeof(req) ||
        (req.flags &
         ~(VFIO_USER_F_DMA_UNMAP_ALL | VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP)))
        return -EINVAL;
    if (req.flags & VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP) {
        if (req.flags & VFIO_USER_F_DMA_UNMAP_ALL)
            return -EINVAL;
        return unmap_with_bitmap(c, m, &req, r);
    }
    if (m->body_len != sizeof(req))
        return -EINVAL;
    if ((req.flags & VFIO_USER_F_DMA_UNMAP_ALL) && (req.addr || req.size))
        return -EINVAL;
    out = vdev_reply_alloc(r, c, sizeof(req));
    if (!out)
        return -ENOMEM;
    memcpy(out, &req, sizeof(req));
    if (req.flags & VFIO_USER_F_DMA_UNMAP_ALL) {
        vdev_dma_remove_all(&c->dma);
        return 0;
    }
    return vdev_dma_remove(&c->dma, req.addr, req.size);
}
