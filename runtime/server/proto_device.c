/* Device and region messages: DEVICE_GET_INFO, DEVICE_GET_REGION_INFO,
 * DEVICE_GET_REGION_IO_FDS, REGION_READ/WRITE/WRITE_MULTI, DEVICE_RESET. */
#include <errno.h>
#include <string.h>

#include "migration/migration.h"
#include "server/conn.h"
#include "server/server.h"

/* The vfio-user payload of DEVICE_GET_INFO stops before the kernel's
 * cap_offset field. */
#define DEVICE_INFO_SIZE 16u
#define REGION_INFO_SIZE ((uint32_t)sizeof(struct vfio_region_info))
#define IO_FDS_SIZE ((uint32_t)sizeof(struct vfio_user_region_io_fds_request))

static struct vdev_region *
region_get(struct vdev_dev *dev, uint32_t index)
{
    if (index >= dev->nr_regions || !dev->regions[index].present)
        return NULL;
    return &dev->regions[index];
}

int
vdev_handle_device_get_info(struct vdev_conn *c, struct vdev_msg *m,
                            struct vdev_reply *r)
{
    struct vfio_device_info in, out = {0};
    uint8_t *p;

    if (m->body_len < DEVICE_INFO_SIZE)
        return -EINVAL;
    memcpy(&in, m->body, DEVICE_INFO_SIZE);
    if (in.argsz < DEVICE_INFO_SIZE)
        return -EINVAL;
    out.argsz = DEVICE_INFO_SIZE;
    out.flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
    out.num_regions = c->dev->nr_regions;
    out.num_irqs = VDEV_NR_IRQ_INDEXES;
    if (!(p = vdev_reply_alloc(r, c, DEVICE_INFO_SIZE)))
        return -ENOMEM;
    memcpy(p, &out, DEVICE_INFO_SIZE);
    return 0;
}

/* ------------------------------------------------------------ region info */

static uint32_t
region_caps_size(const struct vdev_region *reg)
{
    uint32_t n = 0;

    if (reg->nr_areas)
        n += sizeof(struct vfio_region_info_cap_sparse_mmap) +
             reg->nr_areas * sizeof(struct vfio_region_sparse_mmap_area);
    if (reg->cap_type)
        n += sizeof(struct vfio_region_info_cap_type);
    return n;
}

/* Writes the chain after the fixed part; offsets count from the start of
 * the region info, as VFIO's do. */
static void
region_caps_write(const struct vdev_region *reg, uint8_t *info)
{
    uint32_t off = REGION_INFO_SIZE;
    uint32_t *prev_next = NULL;

    if (reg->nr_areas) {
        struct vfio_region_info_cap_sparse_mmap sp = {
            .header = {.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1},
            .nr_areas = reg->nr_areas,
        };
        uint8_t *p = info + off;

        memcpy(p, &sp, sizeof(sp));
        for (unsigned i = 0; i < reg->nr_areas; i++) {
            struct vfio_region_sparse_mmap_area a = {
                .offset = reg->areas[i].offset,
                .size = reg->areas[i].size,
            };
            memcpy(p + sizeof(sp) + i * sizeof(a), &a, sizeof(a));
        }
        prev_next =
            (uint32_t *)(p + offsetof(struct vfio_info_cap_header, next));
        off += sizeof(sp) +
               reg->nr_areas * sizeof(struct vfio_region_sparse_mmap_area);
    }
    if (reg->cap_type) {
        struct vfio_region_info_cap_type t = {
            .header = {.id = VFIO_REGION_INFO_CAP_TYPE, .version = 1},
            .type = reg->cap_type,
            .subtype = reg->cap_subtype,
        };
        if (prev_next)
            memcpy(prev_next, &off, sizeof(off));
        memcpy(info + off, &t, sizeof(t));
    }
}

/* vfio-pci answers an unimplemented BAR or ROM with success, size 0 and no
 * flags (QEMU's client fails the device on an error here); VGA and indices
 * past the device's regions are refused, as the kernel refuses them. */
static int
region_info_absent(struct vdev_conn *c, const struct vfio_region_info *in,
                   struct vdev_reply *r)
{
    struct vfio_region_info out = {0};
    uint8_t *p;

    if (in->index > VDEV_ROM_INDEX)
        return -EINVAL;
    out.argsz = REGION_INFO_SIZE;
    out.index = in->index;
    if (!(p = vdev_reply_alloc(r, c, REGION_INFO_SIZE)))
        return -ENOMEM;
    memcpy(p, &out, REGION_INFO_SIZE);
    return 0;
}

int
vdev_handle_region_info(struct vdev_conn *c, struct vdev_msg *m,
                        struct vdev_reply *r)
{
    struct vfio_region_info in, out = {0};
    const struct vdev_region *reg;
    uint32_t caps, len;
    uint8_t *p;

    if (m->body_len < REGION_INFO_SIZE)
        return -EINVAL;
    memcpy(&in, m->body, REGION_INFO_SIZE);
    if (in.argsz < REGION_INFO_SIZE)
        return -EINVAL;
    if (!(reg = region_get(c->dev, in.index)))
        return region_info_absent(c, &in, r);
    caps = region_caps_size(reg);
    out.argsz = REGION_INFO_SIZE + caps;
    out.flags = reg->flags;
    out.index = in.index;
    out.size = reg->size;
    out.offset = 0; /* each region has its own fd */
    /* Too small for the chain: say how much is needed, copy no caps. */
    len = in.argsz >= out.argsz ? out.argsz : REGION_INFO_SIZE;
    if (caps && len > REGION_INFO_SIZE)
        out.cap_offset = REGION_INFO_SIZE;
    if (!(p = vdev_reply_alloc(r, c, len)))
        return -ENOMEM;
    memcpy(p, &out, REGION_INFO_SIZE);
    if (len > REGION_INFO_SIZE)
        region_caps_write(reg, p);
    if ((reg->flags & VFIO_REGION_INFO_FLAG_MMAP) && reg->mem_fd >= 0) {
        r->fds[0] = reg->mem_fd;
        r->nr_fds = 1;
    }
    return 0;
}

/* We offer no ioeventfds: a valid region has zero sub-regions. */
int
vdev_handle_region_io_fds(struct vdev_conn *c, struct vdev_msg *m,
                          struct vdev_reply *r)
{
    struct vfio_user_region_io_fds_request in;
    struct vfio_user_region_io_fds_reply out = {0};
    uint8_t *p;

    if (m->body_len < IO_FDS_SIZE)
        return -EINVAL;
    memcpy(&in, m->body, IO_FDS_SIZE);
    if (in.argsz < IO_FDS_SIZE || in.flags || !region_get(c->dev, in.index))
        return -EINVAL;
    out.argsz = IO_FDS_SIZE;
    out.index = in.index;
    out.count = 0;
    if (!(p = vdev_reply_alloc(r, c, IO_FDS_SIZE)))
        return -ENOMEM;
    memcpy(p, &out, IO_FDS_SIZE);
    return 0;
}

/* ------------------------------------------------------------ region I/O */

#define ACCESS_SIZE ((uint32_t)sizeof(struct vfio_user_region_access))

/* Where an access lands, as vfio-pci decides it (runtime/KERNEL.md, A1-A7):
 * the bytes to access (the bounds vdev_region_access_in relies on), fewer
 * than asked when a BAR or ROM access runs past
 * the end (the kernel cuts it there), or -errno: EINVAL for an absent BAR
 * or ROM, VGA, a region past the device's or an offset at or past the
 * end, EFAULT for config space past its size. */
static int64_t
access_span(struct vdev_dev *dev, uint32_t index, uint64_t offset,
            uint32_t count)
{
    const struct vdev_region *reg = region_get(dev, index);

    if (!reg)
        return -EINVAL;
    if (offset < reg->size && count <= reg->size - offset)
        return count;
    if (index == VDEV_CONFIG_INDEX)
        return -EFAULT;
    if (offset >= reg->size || index > VDEV_ROM_INDEX)
        return -EINVAL;
    return (int64_t)(reg->size - offset);
}

/* Bytes after the 16-byte request are ignored, as an ioctl reads its
 * minimum size; a count of 0 succeeds and touches nothing (KERNEL.md H5,
 * A5). The reply's count is what was read. */
int
vdev_handle_region_read(struct vdev_conn *c, struct vdev_msg *m,
                        struct vdev_reply *r)
{
    struct vfio_user_region_access a;
    int64_t n = 0;
    uint8_t *p;

    if (m->body_len < ACCESS_SIZE)
        return -EINVAL;
    memcpy(&a, m->body, ACCESS_SIZE);
    if (a.count > VDEV_MAX_DATA_XFER)
        return -EINVAL;
    if (a.count && (n = access_span(c->dev, a.region, a.offset, a.count)) < 0)
        return (int)n;
    a.count = (uint32_t)n;
    if (!(p = vdev_reply_alloc(r, c, ACCESS_SIZE + a.count)))
        return -ENOMEM;
    /* Filled first so the access is the last call (an error reply drops
     * the payload anyway). */
    memcpy(p, &a, ACCESS_SIZE);
    if (!a.count)
        return 0;
    return vdev_region_access_in(c->dev, a.region, a.offset, p + ACCESS_SIZE,
                                 a.count, false);
}

/* The data must be count bytes; the reply's count is what was written. */
int
vdev_handle_region_write(struct vdev_conn *c, struct vdev_msg *m,
                         struct vdev_reply *r)
{
    struct vfio_user_region_access a;
    int64_t n = 0;
    uint8_t *p;
    bool serve;
    int rc;

    if (m->body_len < ACCESS_SIZE)
        return -EINVAL;
    memcpy(&a, m->body, ACCESS_SIZE);
    if (a.count > VDEV_MAX_DATA_XFER || m->body_len - ACCESS_SIZE != a.count)
        return -EINVAL;
    if (a.count && (n = access_span(c->dev, a.region, a.offset, a.count)) < 0)
        return (int)n;
    a.count = (uint32_t)n;
    /* The body sits in our own receive buffer. A DMA the write starts
     * lets the client's next commands be served meanwhile (QEMU's vCPU
     * waits for a read reply holding the lock its DMA handler needs); the
     * reply is built after the access, so theirs cannot overwrite it. */
    serve = c->s2c_serve;
    c->s2c_serve = !c->s2c_nested;
    rc = a.count
             ? vdev_region_access_in(
                   c->dev, a.region, a.offset,
                   (uint8_t *)(uintptr_t)(m->body + ACCESS_SIZE), a.count, true)
             : 0;
    c->s2c_serve = serve;
    if (rc < 0)
        return rc;
    if (!(p = vdev_reply_alloc(r, c, ACCESS_SIZE)))
        return -ENOMEM;
    memcpy(p, &a, ACCESS_SIZE);
    return 0;
}

static bool
multi_entry_ok(struct vdev_dev *dev,
               const struct vfio_user_write_multi_entry *e)
{
    const struct vdev_region *reg = region_get(dev, e->region);

    return reg && e->count >= 1 && e->count <= VFIO_USER_MULTI_DATA &&
           e->offset <= reg->size && e->count <= reg->size - e->offset;
}

/* All entries are checked before any is applied, so a bad message changes
 * nothing; a device callback failing part-way reports its error. */
int
vdev_handle_region_write_multi(struct vdev_conn *c, struct vdev_msg *m,
                               struct vdev_reply *r)
{
    const size_t esz = sizeof(struct vfio_user_write_multi_entry);
    struct vfio_user_write_multi_entry e;
    uint64_t cnt;
    uint8_t *p;
    bool serve;
    int rc = 0;

    if (!c->write_multi || m->body_len < sizeof(cnt))
        return -EINVAL;
    memcpy(&cnt, m->body, sizeof(cnt));
    if (!cnt || cnt > (m->body_len - sizeof(cnt)) / esz ||
        m->body_len != sizeof(cnt) + cnt * esz)
        return -EINVAL;
    for (uint64_t i = 0; i < cnt; i++) {
        memcpy(&e, m->body + sizeof(cnt) + i * esz, esz);
        if (!multi_entry_ok(c->dev, &e))
            return -EINVAL;
    }
    serve = c->s2c_serve;
    c->s2c_serve = !c->s2c_nested; /* as in vdev_handle_region_write */
    for (uint64_t i = 0; i < cnt && rc == 0; i++) {
        memcpy(&e, m->body + sizeof(cnt) + i * esz, esz);
        rc = vdev_region_access(c->dev, e.region, e.offset, e.data, e.count,
                                true);
    }
    c->s2c_serve = serve;
    if (rc < 0)
        return rc;
    if (!(p = vdev_reply_alloc(r, c, sizeof(cnt))))
        return -ENOMEM;
    memcpy(p, &cnt, sizeof(cnt));
    return 0;
}

/* A body is ignored, as VFIO_DEVICE_RESET ignores its argument (KERNEL.md,
 * B1). */
int
vdev_handle_device_reset(struct vdev_conn *c, struct vdev_msg *m,
                         struct vdev_reply *r)
{
    vdev_reset(c->dev);
    /* Only the client's reset ends a migration session; a guest FLR (which
     * also calls vdev_reset) must not abort one. */
    vdev_migration_reset(c->dev);
    return 0;
}
