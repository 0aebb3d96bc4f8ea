/* libvdev client: memory the client lends for message-based DMA, and the
 * answers to the server's DMA_READ / DMA_WRITE requests (spec layout:
 * address u64, count u64, data at offset 16; or QEMU 10.1/10.2's, on
 * request). */
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "client/client_priv.h"

int
vdev_client_add_dma_memory(struct vdev_client *cl, uint64_t iova, void *host,
                           uint64_t size)
{
    struct vdev_client_dma_mem *nm;

    if (!host || size == 0 || iova + size < iova)
        return -EINVAL;
    for (unsigned i = 0; i < cl->nr_mem; i++) {
        const struct vdev_client_dma_mem *m = &cl->mem[i];
        if (iova < m->iova + m->size && m->iova < iova + size)
            return -EEXIST;
    }
    nm =
        talloc_realloc(cl, cl->mem, struct vdev_client_dma_mem, cl->nr_mem + 1);
    if (!nm)
        return -ENOMEM;
    nm[cl->nr_mem] =
        (struct vdev_client_dma_mem){.iova = iova, .size = size, .host = host};
    cl->mem = nm;
    cl->nr_mem++;
    return 0;
}

/* Host pointer for [addr, addr+count) inside one registered block. */
static uint8_t *
dma_lookup(struct vdev_client *cl, uint64_t addr, uint64_t count)
{
    if (addr + count < addr)
        return NULL;
    for (unsigned i = 0; i < cl->nr_mem; i++) {
        const struct vdev_client_dma_mem *m = &cl->mem[i];
        if (addr >= m->iova && addr + count <= m->iova + m->size)
            return m->host + (addr - m->iova);
    }
    return NULL;
}

static int
send_reply(int fd, const struct vfio_user_header *req, uint32_t error_no,
           const void *body, size_t body_len)
{
    struct vfio_user_header h = {
        .msg_id = req->msg_id,
        .cmd = req->cmd,
        .msg_size = (uint32_t)(sizeof(h) + (error_no ? 0 : body_len)),
        .flags = VFIO_USER_F_TYPE_REPLY | (error_no ? VFIO_USER_F_ERROR : 0),
        .error_no = error_no,
    };
    return vdev_client_sendv(fd, &h, sizeof(h), body, error_no ? 0 : body_len,
                             NULL, 0);
}

int
vdev_client_send_error(int fd, const struct vfio_user_header *req,
                       uint32_t error_no)
{
    return send_reply(fd, req, error_no, NULL, 0);
}

static int
serve_dma(struct vdev_client *cl, int fd, struct vdev_client_msg *m,
          bool is_write)
{
    struct vfio_user_dma_access a;
    uint8_t *host;

    if (m->body_len < sizeof(a))
        return send_reply(fd, &m->hdr, EINVAL, NULL, 0);
    memcpy(&a, m->body, sizeof(a));
    if (a.count > cl->want.max_data_xfer_size)
        return send_reply(fd, &m->hdr, EMSGSIZE, NULL, 0);
    if (m->body_len != sizeof(a) + (is_write ? a.count : 0))
        return send_reply(fd, &m->hdr, EINVAL, NULL, 0);
    host = dma_lookup(cl, a.addr, a.count);
    if (!host)
        return send_reply(fd, &m->hdr, EFAULT, NULL, 0);
    if (is_write) {
        memcpy(host, m->body + sizeof(a), a.count);
        return send_reply(fd, &m->hdr, 0, &a, sizeof(a));
    }
    struct vfio_user_header h = {
        .msg_id = m->hdr.msg_id,
        .cmd = m->hdr.cmd,
        .msg_size = (uint32_t)(sizeof(h) + sizeof(a) + a.count),
        .flags = VFIO_USER_F_TYPE_REPLY,
    };
    /* header and the echoed access descriptor go out as one piece */
    uint8_t head[sizeof(h) + sizeof(a)];
    memcpy(head, &h, sizeof(h));
    memcpy(head + sizeof(h), &a, sizeof(a));
    return vdev_client_sendv(fd, head, sizeof(head), host, a.count, NULL, 0);
}

/* QEMU 10.1/10.2's side of DMA_READ/WRITE (hw/vfio-user/pci.c): address
 * (u64), count (u32), data at 12; a message is at least 16 bytes of
 * payload (its struct is padded to 8 bytes), a read's reply is padded by
 * 4 zero bytes after the data, a write's has no payload. */
#define QEMU_DMA_FIXED 16u
#define QEMU_DMA_DATA 12u

static int
serve_dma_qemu(struct vdev_client *cl, int fd, struct vdev_client_msg *m,
               bool is_write)
{
    bool no_reply = m->hdr.flags & VFIO_USER_F_NO_REPLY;
    uint64_t addr;
    uint32_t count;
    uint8_t *host;

    if (m->body_len < QEMU_DMA_FIXED)
        return no_reply ? 0 : send_reply(fd, &m->hdr, EINVAL, NULL, 0);
    memcpy(&addr, m->body, 8);
    memcpy(&count, m->body + 8, 4);
    if (is_write ? count > m->body_len - QEMU_DMA_FIXED
                 : count > cl->want.max_data_xfer_size)
        return no_reply ? 0 : send_reply(fd, &m->hdr, E2BIG, NULL, 0);
    /* An empty access touches nothing, wherever it points (QEMU's DMA of
     * 0 bytes succeeds). */
    host = count ? dma_lookup(cl, addr, count) : NULL;
    if (count && !host)
        return no_reply ? 0 : send_reply(fd, &m->hdr, EFAULT, NULL, 0);
    if (is_write) {
        if (count)
            memcpy(host, m->body + QEMU_DMA_DATA, count);
        return no_reply ? 0 : send_reply(fd, &m->hdr, 0, NULL, 0);
    }
    if (no_reply)
        return 0;
    {
        static const uint8_t pad[QEMU_DMA_FIXED - QEMU_DMA_DATA];
        uint8_t *out = talloc_size(cl, QEMU_DMA_FIXED + count);
        int rc;

        if (!out)
            return -ENOMEM;
        memcpy(out, m->body, QEMU_DMA_DATA);
        if (count)
            memcpy(out + QEMU_DMA_DATA, host, count);
        memcpy(out + QEMU_DMA_DATA + count, pad, sizeof(pad));
        rc = send_reply(fd, &m->hdr, 0, out, QEMU_DMA_FIXED + count);
        talloc_free(out);
        return rc;
    }
}

int
vdev_client_serve_request(struct vdev_client *cl, int fd,
                          struct vdev_client_msg *m)
{
    if (cl->qemu_dma &&
        (m->hdr.cmd == VFIO_USER_DMA_READ || m->hdr.cmd == VFIO_USER_DMA_WRITE))
        return serve_dma_qemu(cl, fd, m, m->hdr.cmd == VFIO_USER_DMA_WRITE);
    if (m->hdr.flags & VFIO_USER_F_NO_REPLY) {
        if (m->hdr.cmd == VFIO_USER_DMA_WRITE) {
            struct vfio_user_dma_access a;
            if (m->body_len < sizeof(a))
                return 0;
            memcpy(&a, m->body, sizeof(a));
            uint8_t *host = dma_lookup(cl, a.addr, a.count);
            if (host && m->body_len == sizeof(a) + a.count)
                memcpy(host, m->body + sizeof(a), a.count);
        }
        return 0;
    }
    switch (m->hdr.cmd) {
    case VFIO_USER_DMA_READ:
        return serve_dma(cl, fd, m, false);
    case VFIO_USER_DMA_WRITE:
        return serve_dma(cl, fd, m, true);
    default:
        return send_reply(fd, &m->hdr, ENOSYS, NULL, 0);
    }
}
