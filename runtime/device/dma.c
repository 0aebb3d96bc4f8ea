/* The client's DMA map table (sorted array, binary search) and the public
 * DMA helpers: guest address to scatter-gather, read/write, mark dirty.
 * Memory mapped without an fd is reached through the table's msg hook
 * (the connection's DMA_READ/WRITE messages, server/s2c.c). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fdkind.h"
#include "base/guard.h"
#include "base/mem.h"
#include "device/device.h"
#include "device/dma.h"

/* Every map owns its fd (kept open: it names the memory for as long as the
 * map lives) and its mapping; freeing the map releases both. */
static int
map_destructor(struct vdev_dma_map *m)
{
    if (m->vaddr)
        munmap(m->vaddr, m->mmap_len);
    if (m->fd >= 0)
        close(m->fd);
    m->vaddr = NULL;
    m->fd = -1;
    return 0;
}

static uint64_t
host_page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);

    return p > 0 ? (uint64_t)p : 4096u;
}

/* Index of the first map whose iova is above `iova` (the insertion point);
 * the map that may contain `iova` is the one before it. */
static unsigned
upper_bound(const struct vdev_dma *dma, uint64_t iova)
{
    const uint64_t *base = dma->iovas;
    unsigned n = dma->nr_maps;

    if (n == 0)
        return 0;
    /* Branch-free halving: the compiler turns the step into a cmov, so a
     * lookup costs log2(n) loads and no mispredictions. */
    while (n > 1) {
        unsigned half = n / 2;

        base = base[half] <= iova ? base + half : base;
        n -= half;
    }
    return (unsigned)(base - dma->iovas) + (*base <= iova);
}

static bool
map_contains(const struct vdev_dma_map *m, uint64_t iova)
{
    return iova >= m->iova && iova - m->iova < m->size;
}

/* Index of the map containing iova, or -1. */
static int
find_index(const struct vdev_dma *dma, uint64_t iova)
{
    unsigned i = upper_bound(dma, iova);

    if (i == 0 || !map_contains(dma->maps[i - 1], iova))
        return -1;
    return (int)(i - 1);
}

unsigned
vdev_dma_index_from(const struct vdev_dma *dma, uint64_t iova)
{
    unsigned i = upper_bound(dma, iova);

    return i > 0 && map_contains(dma->maps[i - 1], iova) ? i - 1 : i;
}

struct vdev_dma_map *
vdev_dma_lookup(struct vdev_dma *dma, uint64_t iova)
{
    int i = find_index(dma, iova);

    return i < 0 ? NULL : dma->maps[i];
}

static int
map_validate(uint64_t iova, uint64_t size, int fd, uint64_t offset,
             uint32_t prot)
{
    uint64_t pg = host_page_size();

    if (size == 0 || size - 1 > UINT64_MAX - iova)
        return -EINVAL;
    if (prot & ~(uint32_t)(VDEV_DMA_READ | VDEV_DMA_WRITE))
        return -EINVAL;
    if (fd < 0)
        return 0;
    if ((iova | size | offset) & (pg - 1))
        return -EINVAL;
    if (offset > UINT64_MAX - size || size > SIZE_MAX)
        return -EINVAL;
    return 0;
}

/* Only a regular file (memfd, shm, hugetlbfs, ...) is mapped: a device
 * file could mean anything, and a FUSE file's page faults are served by
 * whoever runs it. A file smaller than the map would SIGBUS us on access:
 * refuse it while we can tell; one the client may still shrink is copied
 * with a guard (base/guard.h). */
static int
map_fd(struct vdev_dma_map *m)
{
    struct stat st;
    int mprot = PROT_NONE;
    void *p;
    int rc;

    if ((rc = vdev_fd_check_mappable(m->fd)) < 0)
        return rc == -EBADF ? rc : -EINVAL;
    if (fstat(m->fd, &st) < 0)
        return -errno;
    if (m->offset + m->size > (uint64_t)st.st_size)
        return -EINVAL;
    if (m->prot & VDEV_DMA_READ)
        mprot |= PROT_READ;
    if (m->prot & VDEV_DMA_WRITE)
        mprot |= PROT_WRITE;
    p = mmap(NULL, (size_t)m->size, mprot, MAP_SHARED, m->fd, (off_t)m->offset);
    if (p == MAP_FAILED)
        return -errno;
    m->vaddr = p;
    m->mmap_len = (size_t)m->size;
    m->sealed = vdev_fd_sealed_shrink(m->fd);
    return 0;
}

void
vdev_dma_init(struct vdev_dma *dma, void *mem_ctx, vdev_dma_msg_fn *msg,
              void *peer)
{
    memset(dma, 0, sizeof(*dma));
    dma->mem_ctx = mem_ctx;
    dma->msg = msg;
    dma->peer = peer;
}

static int
table_reserve(struct vdev_dma *dma)
{
    struct vdev_dma_map **n;
    uint64_t *k;
    unsigned cap;

    if (dma->nr_maps < dma->cap_maps)
        return 0;
    cap = dma->cap_maps ? dma->cap_maps * 2 : 16;
    if (cap > VDEV_MAX_DMA_MAPS)
        cap = VDEV_MAX_DMA_MAPS;
    n = talloc_realloc(dma->mem_ctx, dma->maps, struct vdev_dma_map *, cap);
    if (!n)
        return -ENOMEM;
    dma->maps = n;
    k = talloc_realloc(dma->mem_ctx, dma->iovas, uint64_t, cap);
    if (!k)
        return -ENOMEM;
    dma->iovas = k;
    dma->cap_maps = cap;
    return 0;
}

/* Takes ownership of fd (>= 0 for a mappable region): it is closed on
 * failure, and by the map's destructor otherwise. */
int
vdev_dma_add(struct vdev_dma *dma, uint64_t iova, uint64_t size, int fd,
             uint64_t offset, uint32_t prot)
{
    struct vdev_dma_map *m;
    unsigned pos;
    int ret;

    ret = map_validate(iova, size, fd, offset, prot);
    if (ret < 0)
        goto fail;
    pos = upper_bound(dma, iova);
    if (pos > 0) {
        const struct vdev_dma_map *prev = dma->maps[pos - 1];

        if (iova - prev->iova < prev->size) {
            ret = -EEXIST;
            goto fail;
        }
    }
    if (pos < dma->nr_maps && dma->maps[pos]->iova - iova <= size - 1) {
        ret = -EEXIST;
        goto fail;
    }
    if (dma->nr_maps >= VDEV_MAX_DMA_MAPS) {
        ret = -ENOSPC;
        goto fail;
    }
    ret = table_reserve(dma);
    if (ret < 0)
        goto fail;

    m = talloc_zero(dma->mem_ctx, struct vdev_dma_map);
    if (!m) {
        ret = -ENOMEM;
        goto fail;
    }
    m->iova = iova;
    m->size = size;
    m->offset = fd >= 0 ? offset : 0;
    m->prot = prot;
    m->id = dma->next_id++;
    m->fd = fd;
    talloc_set_destructor(m, map_destructor);
    fd = -1; /* the map owns it now */

    if (m->fd >= 0) {
        ret = map_fd(m);
        if (ret < 0) {
            talloc_free(m);
            return ret;
        }
    }
    if (dma->logging) {
        ret = vdev_dirty_map_alloc(dma, m);
        if (ret < 0) {
            talloc_free(m);
            return ret;
        }
    }
    memmove(&dma->maps[pos + 1], &dma->maps[pos],
            (dma->nr_maps - pos) * sizeof(dma->maps[0]));
    memmove(&dma->iovas[pos + 1], &dma->iovas[pos],
            (dma->nr_maps - pos) * sizeof(dma->iovas[0]));
    dma->maps[pos] = m;
    dma->iovas[pos] = iova;
    dma->nr_maps++;
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    return ret;
}

/* After unmaps: a table at most a quarter full shrinks to twice what it
 * holds (16 at least), so 65535 maps leave nothing behind once gone. */
static void
table_shrink(struct vdev_dma *dma, size_t freed)
{
    unsigned cap = dma->nr_maps * 2 > 16 ? dma->nr_maps * 2 : 16;
    struct vdev_dma_map **n;
    uint64_t *k;

    if (dma->cap_maps > 16 && dma->nr_maps <= dma->cap_maps / 4 &&
        (n = talloc_realloc(dma->mem_ctx, dma->maps, struct vdev_dma_map *,
                            cap))) {
        dma->maps = n;
        /* A failed shrink keeps the larger array: both hold cap. */
        k = talloc_realloc(dma->mem_ctx, dma->iovas, uint64_t, cap);
        if (k)
            dma->iovas = k;
        freed += (size_t)(dma->cap_maps - cap) * (sizeof(*n) + sizeof(*k));
        dma->cap_maps = cap;
    }
    vdev_mem_released(freed);
}

int
vdev_dma_remove(struct vdev_dma *dma, uint64_t iova, uint64_t size)
{
    int i = find_index(dma, iova);
    struct vdev_dma_map *m;

    if (i < 0)
        return -ENOENT;
    m = dma->maps[i];
    if (m->iova != iova || m->size != size)
        return -ENOENT;
    memmove(&dma->maps[i], &dma->maps[i + 1],
            (dma->nr_maps - (unsigned)i - 1) * sizeof(dma->maps[0]));
    memmove(&dma->iovas[i], &dma->iovas[i + 1],
            (dma->nr_maps - (unsigned)i - 1) * sizeof(dma->iovas[0]));
    dma->nr_maps--;
    talloc_free(m);
    table_shrink(dma, 0);
    return 0;
}

void
vdev_dma_remove_all(struct vdev_dma *dma)
{
    size_t freed = (size_t)dma->nr_maps * sizeof(struct vdev_dma_map);

    for (unsigned i = 0; i < dma->nr_maps; i++)
        talloc_free(dma->maps[i]);
    dma->nr_maps = 0;
    table_shrink(dma, freed);
}

/* ------------------------------------------------------------ helpers */

/* Walks [iova, iova+len) map by map, checking it is all mapped with prot.
 * Calls fn for each piece unless fn is NULL. */
typedef int piece_fn(struct vdev_dma *dma, struct vdev_dma_map *m,
                     uint64_t iova, uint64_t len, void *arg);

static int
walk(struct vdev_dma *dma, uint64_t iova, uint64_t len, uint32_t prot,
     piece_fn *fn, void *arg)
{
    int i, n = 0;

    if (len == 0)
        return 0;
    if (!dma || len - 1 > UINT64_MAX - iova)
        return -ENOENT;
    i = find_index(dma, iova);
    if (i < 0)
        return -ENOENT;
    for (;;) {
        struct vdev_dma_map *m = dma->maps[i];
        uint64_t avail = m->size - (iova - m->iova);
        uint64_t piece = len < avail ? len : avail;
        int ret;

        if ((m->prot & prot) != prot)
            return -EACCES;
        if (fn) {
            ret = fn(dma, m, iova, piece, arg);
            if (ret < 0)
                return ret;
        }
        n++;
        len -= piece;
        if (len == 0)
            return n;
        iova += piece;
        /* The rest must start exactly at the next map. */
        if ((unsigned)i + 1 >= dma->nr_maps || dma->maps[i + 1]->iova != iova)
            return -ENOENT;
        i++;
    }
}

struct sg_ctx {
    struct vdev_sg *sg;
    unsigned max, n;
    uint32_t prot;
};

static int
sg_piece(struct vdev_dma *dma, struct vdev_dma_map *m, uint64_t iova,
         uint64_t len, void *arg)
{
    struct sg_ctx *s = arg;
    struct vdev_sg *e;

    if (s->n == s->max)
        return -ENOSPC;
    e = &s->sg[s->n++];
    e->iova = iova;
    e->len = len;
    e->vaddr = m->vaddr ? (uint8_t *)m->vaddr + (iova - m->iova) : NULL;
    e->prot = s->prot;
    e->map_id = m->id;
    return 0;
}

int
vdev_dma_to_sg(struct vdev_dev *dev, uint64_t iova, uint64_t len, uint32_t prot,
               struct vdev_sg *sg, unsigned max_sg)
{
    struct sg_ctx s = {.sg = sg, .max = max_sg, .prot = prot};
    int ret;

    if (prot & ~(uint32_t)(VDEV_DMA_READ | VDEV_DMA_WRITE))
        return -EINVAL;
    ret = walk(dev->dma, iova, len, prot, sg_piece, &s);
    return ret < 0 ? ret : (int)s.n;
}

/* ------------------------------------------------------ read / write */

struct copy_ctx {
    uint8_t *buf;
    bool is_write;
};

static int
copy_piece(struct vdev_dma *dma, struct vdev_dma_map *m, uint64_t iova,
           uint64_t len, void *arg)
{
    struct copy_ctx *x = arg;
    int ret = 0;

    if (m->vaddr) {
        uint8_t *p = (uint8_t *)m->vaddr + (iova - m->iova);

        if (m->sealed)
            memcpy(x->is_write ? p : x->buf, x->is_write ? x->buf : p, len);
        else
            ret = vdev_guarded_copy(x->is_write ? p : x->buf,
                                    x->is_write ? x->buf : p, len);
    } else if (dma->msg) {
        ret = dma->msg(dma->peer, iova, x->buf, len, x->is_write);
    } else {
        ret = -EIO;
    }
    if (ret == 0 && x->is_write && m->dirty)
        vdev_dirty_mark(dma, m, iova, len);
    x->buf += len;
    return ret;
}

static int
dma_copy(struct vdev_dev *dev, uint64_t iova, void *buf, size_t len,
         bool is_write)
{
    struct copy_ctx x = {.buf = buf, .is_write = is_write};
    uint32_t prot = is_write ? VDEV_DMA_WRITE : VDEV_DMA_READ;
    struct vdev_dma_map *m;
    int ret;

    /* Fast path: one mapped piece, one lookup. */
    m = dev->dma && len ? vdev_dma_lookup(dev->dma, iova) : NULL;
    if (m && m->vaddr && (m->prot & prot) &&
        len - 1 <= m->size - 1 - (iova - m->iova))
        return copy_piece(dev->dma, m, iova, len, &x);

    /* Check the whole range first so a bad tail does not leave a
     * half-done copy behind. */
    ret = walk(dev->dma, iova, len, prot, NULL, NULL);
    if (ret < 0)
        return ret;
    ret = walk(dev->dma, iova, len, prot, copy_piece, &x);
    return ret < 0 ? ret : 0;
}

int
vdev_dma_read(struct vdev_dev *dev, uint64_t iova, void *buf, size_t len)
{
    /* A stopped device (migration) must not touch guest memory. */
    if (!dev->running)
        return -EBUSY;
    return dma_copy(dev, iova, buf, len, false);
}

int
vdev_dma_write(struct vdev_dev *dev, uint64_t iova, const void *buf, size_t len)
{
    if (!dev->running)
        return -EBUSY;
    return dma_copy(dev, iova, (void *)buf, len, true);
}

static int
mark_piece(struct vdev_dma *dma, struct vdev_dma_map *m, uint64_t iova,
           uint64_t len, void *arg)
{
    if (m->dirty)
        vdev_dirty_mark(dma, m, iova, len);
    return 0;
}

int
vdev_dma_mark_dirty(struct vdev_dev *dev, uint64_t iova, uint64_t len)
{
    int ret = walk(dev->dma, iova, len, 0, NULL, NULL);

    /* All or nothing, like the copies. */
    if (ret > 0 && dev->dma->logging)
        ret = walk(dev->dma, iova, len, 0, mark_piece, NULL);
    return ret < 0 ? ret : 0;
}
