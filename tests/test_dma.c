/* DMA map table, memfd-backed DMA helpers and the DMA_MAP/DMA_UNMAP
 * handlers, driven through hand-built connections and messages. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dma_fixture.h"

/* ------------------------------------------------------------ table */

Test(dma_table, random_order_insert_and_boundaries)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    enum { N = 500 };
    unsigned order[N];

    for (unsigned i = 0; i < N; i++)
        order[i] = i;
    srand(7);
    for (unsigned i = N - 1; i > 0; i--) {
        unsigned j = (unsigned)rand() % (i + 1), t = order[i];

        order[i] = order[j];
        order[j] = t;
    }
    /* map k: [k * 3 pages, k * 3 pages + 2 pages), leaving one-page gaps */
    for (unsigned i = 0; i < N; i++)
        cr_assert_eq(
            vdev_dma_add(dma, order[i] * 3 * PG, 2 * PG, -1, 0, VDEV_DMA_READ),
            0);
    cr_assert_eq(dma->nr_maps, N);
    for (unsigned i = 1; i < N; i++)
        cr_assert(dma->maps[i - 1]->iova < dma->maps[i]->iova);
    for (unsigned k = 0; k < N; k++) {
        uint64_t base = k * 3 * PG;
        struct vdev_dma_map *m = vdev_dma_lookup(dma, base);

        cr_assert_not_null(m);
        cr_assert_eq(m->iova, base);
        cr_assert_eq(vdev_dma_lookup(dma, base + 2 * PG - 1), m);
        cr_assert_null(vdev_dma_lookup(dma, base + 2 * PG));
        cr_assert_null(vdev_dma_lookup(dma, base + 3 * PG - 1));
        if (k)
            cr_assert_neq(vdev_dma_lookup(dma, base - PG - 1), m);
    }
    cr_assert_null(vdev_dma_lookup(dma, N * 3 * PG));
    cr_assert_null(vdev_dma_lookup(dma, UINT64_MAX));
    talloc_free(dev);
}

Test(dma_table, overlap_is_eexist)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;

    cr_assert_eq(vdev_dma_add(dma, 0x10000, 0x4000, -1, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(dma, 0x10000, 0x4000, -1, 0, 3), -EEXIST);
    cr_assert_eq(vdev_dma_add(dma, 0xf000, 0x2000, -1, 0, 3), -EEXIST);
    cr_assert_eq(vdev_dma_add(dma, 0x13fff, 0x1000, -1, 0, 3), -EEXIST);
    cr_assert_eq(vdev_dma_add(dma, 0x11000, 0x1000, -1, 0, 3), -EEXIST);
    cr_assert_eq(vdev_dma_add(dma, 0x0, 0x100000, -1, 0, 3), -EEXIST);
    /* touching on either side is fine */
    cr_assert_eq(vdev_dma_add(dma, 0xf000, 0x1000, -1, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(dma, 0x14000, 0x1000, -1, 0, 3), 0);
    cr_assert_eq(dma->nr_maps, 3);
    talloc_free(dev);
}

Test(dma_table, validation)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    int fd;

    cr_assert_eq(vdev_dma_add(dma, 0x1000, 0, -1, 0, 3), -EINVAL);
    cr_assert_eq(vdev_dma_add(dma, UINT64_MAX - 0xfff, 0x2000, -1, 0, 3),
                 -EINVAL);
    cr_assert_eq(vdev_dma_add(dma, 0x1000, 0x1000, -1, 0, 4), -EINVAL);
    /* a map may end exactly at the top of the address space */
    cr_assert_eq(vdev_dma_add(dma, UINT64_MAX - 0xfff, 0x1000, -1, 0, 3), 0);
    cr_assert_not_null(vdev_dma_lookup(dma, UINT64_MAX));

    /* fd maps must be page-aligned; the fd is closed on every refusal */
    fd = dma_fixture_memfd(4 * PG);
    cr_assert_eq(vdev_dma_add(dma, 0x800, PG, fd, 0, 3), -EINVAL);
    cr_assert_not(fd_is_open(fd));
    fd = dma_fixture_memfd(4 * PG);
    cr_assert_eq(vdev_dma_add(dma, 0, 0x800, fd, 0, 3), -EINVAL);
    cr_assert_not(fd_is_open(fd));
    fd = dma_fixture_memfd(4 * PG);
    cr_assert_eq(vdev_dma_add(dma, 0, PG, fd, 0x10, 3), -EINVAL);
    cr_assert_not(fd_is_open(fd));
    /* larger than the file: would fault on access */
    fd = dma_fixture_memfd(4 * PG);
    cr_assert_eq(vdev_dma_add(dma, 0, 4 * PG, fd, PG, 3), -EINVAL);
    cr_assert_not(fd_is_open(fd));
    fd = dma_fixture_memfd(4 * PG);
    cr_assert_eq(vdev_dma_add(dma, UINT64_MAX - 0xfff, PG, fd, 0, 3), -EEXIST);
    cr_assert_not(fd_is_open(fd));
    talloc_free(dev);
}

Test(dma_table, mmap_failure_errno_and_fd_closed)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    char path[64];
    int p[2], fd, ro;

    /* a pipe is not a file to map: refused before mmap is tried */
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(vdev_dma_add(dma, 0, PG, p[0], 0, VDEV_DMA_READ), -EINVAL);
    cr_assert_not(fd_is_open(p[0]));
    close(p[1]);

    /* a read-only fd cannot be mapped writable */
    fd = dma_fixture_memfd(PG);
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ro = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert(ro >= 0);
    cr_assert_eq(vdev_dma_add(dma, 0, PG, ro, 0, VDEV_DMA_WRITE), -EACCES);
    cr_assert_not(fd_is_open(ro));
    ro = open(path, O_RDONLY | O_CLOEXEC);
    cr_assert_eq(vdev_dma_add(dma, 0, PG, ro, 0, VDEV_DMA_READ), 0);
    cr_assert(fd_is_open(ro)); /* kept by the map */
    cr_assert_eq(dma->nr_maps, 1);
    close(fd);
    talloc_free(dev);
    cr_assert_not(fd_is_open(ro));
}

Test(dma_table, remove_exact_match_only)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    int fd = dma_fixture_memfd(2 * PG);

    cr_assert_eq(vdev_dma_add(dma, 0x100000, 2 * PG, fd, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(dma, 0x200000, 2 * PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dma_remove(dma, 0x100000, PG), -ENOENT);
    cr_assert_eq(vdev_dma_remove(dma, 0x101000, PG), -ENOENT);
    cr_assert_eq(vdev_dma_remove(dma, 0x300000, PG), -ENOENT);
    cr_assert(fd_is_open(fd));
    cr_assert_eq(vdev_dma_remove(dma, 0x100000, 2 * PG), 0);
    cr_assert_not(fd_is_open(fd));
    cr_assert_eq(vdev_dma_remove(dma, 0x100000, 2 * PG), -ENOENT);
    cr_assert_eq(dma->nr_maps, 1);
    cr_assert_eq(dma->maps[0]->iova, 0x200000);
    talloc_free(dev);
}

Test(dma_table, remove_all_closes_fds)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;
    int fds[4];

    for (int i = 0; i < 4; i++) {
        fds[i] = dma_fixture_memfd(PG);
        cr_assert_eq(vdev_dma_add(dma, (uint64_t)i * 0x10000, PG, fds[i], 0, 3),
                     0);
    }
    cr_assert_eq(vdev_dma_add(dma, 0x100000, PG, -1, 0, 3), 0);
    vdev_dma_remove_all(dma);
    cr_assert_eq(dma->nr_maps, 0);
    for (int i = 0; i < 4; i++)
        cr_assert_not(fd_is_open(fds[i]));
    cr_assert_null(vdev_dma_lookup(dma, 0));
    cr_assert_eq(vdev_dma_add(dma, 0, PG, -1, 0, 3), 0);
    talloc_free(dev);
}

Test(dma_table, max_maps_then_enospc)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_dma *dma = dev->dma;

    for (unsigned i = 0; i < VDEV_MAX_DMA_MAPS; i++)
        cr_assert_eq(vdev_dma_add(dma, (uint64_t)i * 2 * PG, PG, -1, 0, 3), 0);
    cr_assert_eq(dma->nr_maps, VDEV_MAX_DMA_MAPS);
    cr_assert_eq(
        vdev_dma_add(dma, (uint64_t)VDEV_MAX_DMA_MAPS * 2 * PG, PG, -1, 0, 3),
        -ENOSPC);
    cr_assert_eq(vdev_dma_add(dma, PG, PG, -1, 0, 3), -ENOSPC);
    srand(3);
    for (int k = 0; k < 10000; k++) {
        uint64_t i = (uint64_t)rand() % VDEV_MAX_DMA_MAPS;
        uint64_t off = (uint64_t)rand() % (2 * PG);
        struct vdev_dma_map *m = vdev_dma_lookup(dma, i * 2 * PG + off);

        if (off < PG) {
            cr_assert_not_null(m);
            cr_assert_eq(m->iova, i * 2 * PG);
        } else {
            cr_assert_null(m);
        }
    }
    /* one out, one in */
    cr_assert_eq(vdev_dma_remove(dma, 0, PG), 0);
    cr_assert_eq(vdev_dma_add(dma, 0, 3 * PG, -1, 0, 3), -EEXIST);
    cr_assert_eq(vdev_dma_add(dma, 0, 2 * PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(dma, UINT64_MAX - PG + 1, PG, -1, 0, 3), -ENOSPC);
    talloc_free(dev);
}

/* ------------------------------------------------------------ memfd */

Test(dma_mem, write_then_read_back_through_memfd)
{
    struct vdev_dev *dev = dma_fixture_dev();
    int fd = dma_fixture_memfd(4 * PG);
    uint8_t buf[3000], back[3000];

    cr_assert_eq(vdev_dma_add(dev->dma, 0x40000, 2 * PG, fd, PG, 3), 0);
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    cr_assert_eq(vdev_dma_write(dev, 0x40000 + 3000, buf, sizeof(buf)), 0);
    cr_assert_eq(pread(fd, back, sizeof(back), (off_t)(PG + 3000)),
                 (ssize_t)sizeof(back));
    cr_assert_arr_eq(back, buf, sizeof(buf));

    memset(buf, 0xa5, sizeof(buf));
    cr_assert_eq(pwrite(fd, buf, 100, (off_t)(PG + 10)), 100);
    cr_assert_eq(vdev_dma_read(dev, 0x40000 + 10, back, 100), 0);
    cr_assert_arr_eq(back, buf, 100);

    /* past the end of the map, or before it */
    cr_assert_eq(vdev_dma_read(dev, 0x40000 + 2 * PG - 4, back, 8), -ENOENT);
    cr_assert_eq(vdev_dma_read(dev, 0x40000 - 1, back, 2), -ENOENT);
    cr_assert_eq(vdev_dma_read(dev, 0x40000, back, 0), 0);
    talloc_free(dev);
}

/* The client owns the file behind a map: shrinking it under us makes the
 * copy fail with EFAULT (SIGBUS caught), not the server die; a sealed file
 * (QEMU's memfd backend seals by default) is copied without the guard. */
Test(dma_mem, truncated_file_is_efault_not_sigbus)
{
    struct vdev_dev *dev = dma_fixture_dev();
    int fd = dma_fixture_memfd(4 * PG);
    uint8_t buf[64] = {1, 2, 3};

    cr_assert_eq(vdev_dma_add(dev->dma, 0x40000, 4 * PG, fd, 0, 3), 0);
    cr_assert_not(dev->dma->maps[0]->sealed);
    cr_assert_eq(vdev_dma_write(dev, 0x40000 + 2 * PG, buf, sizeof(buf)), 0);
    cr_assert_eq(ftruncate(fd, PG), 0);
    cr_assert_eq(vdev_dma_read(dev, 0x40000 + 2 * PG, buf, sizeof(buf)),
                 -EFAULT);
    cr_assert_eq(vdev_dma_write(dev, 0x40000 + 3 * PG, buf, sizeof(buf)),
                 -EFAULT);
    /* the pages that are still there still work */
    cr_assert_eq(vdev_dma_write(dev, 0x40000 + 8, buf, sizeof(buf)), 0);
    cr_assert_eq(vdev_dma_read(dev, 0x40000 + 8, buf, sizeof(buf)), 0);
    cr_assert_eq(buf[2], 3);
    talloc_free(dev);
}

Test(dma_mem, sealed_file_needs_no_guard)
{
    struct vdev_dev *dev = dma_fixture_dev();
    int fd = memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, 2 * PG), 0);
    cr_assert_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
    cr_assert_eq(vdev_dma_add(dev->dma, 0x40000, 2 * PG, fd, 0, 3), 0);
    cr_assert(dev->dma->maps[0]->sealed);
    cr_assert_neq(ftruncate(fd, PG), 0);
    talloc_free(dev);
}

Test(dma_mem, sg_spans_adjacent_maps)
{
    struct vdev_dev *dev = dma_fixture_dev();
    int a = dma_fixture_memfd(2 * PG), b = dma_fixture_memfd(2 * PG);
    struct vdev_sg sg[4];
    uint8_t buf[2 * PG], back[2 * PG];

    cr_assert_eq(vdev_dma_add(dev->dma, 0x10000, 2 * PG, a, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(dev->dma, 0x12000, 2 * PG, b, 0, 3), 0);
    cr_assert_eq(vdev_dma_to_sg(dev, 0x11000, 2 * PG, VDEV_DMA_READ, sg, 4), 2);
    cr_assert_eq(sg[0].iova, 0x11000);
    cr_assert_eq(sg[0].len, PG);
    cr_assert_eq(sg[1].iova, 0x12000);
    cr_assert_eq(sg[1].len, PG);
    cr_assert_not_null(sg[0].vaddr);
    cr_assert_not_null(sg[1].vaddr);
    cr_assert_neq(sg[0].map_id, sg[1].map_id);
    cr_assert_eq(sg[0].prot, VDEV_DMA_READ);
    cr_assert_eq(vdev_dma_to_sg(dev, 0x11000, 2 * PG, VDEV_DMA_READ, sg, 1),
                 -ENOSPC);
    /* one past the second map's end */
    cr_assert_eq(vdev_dma_to_sg(dev, 0x11000, 3 * PG + 1, VDEV_DMA_READ, sg, 4),
                 -ENOENT);

    /* a copy across the seam lands in both files */
    memset(buf, 0x3c, sizeof(buf));
    cr_assert_eq(vdev_dma_write(dev, 0x11000, buf, sizeof(buf)), 0);
    cr_assert_eq(pread(a, back, PG, PG), (ssize_t)PG);
    cr_assert_eq(pread(b, back + PG, PG, 0), (ssize_t)PG);
    cr_assert_arr_eq(back, buf, sizeof(buf));
    cr_assert_eq(((uint8_t *)sg[1].vaddr)[0], 0x3c);

    /* a gap between maps breaks the range */
    cr_assert_eq(vdev_dma_add(dev->dma, 0x15000, PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dma_to_sg(dev, 0x13000, 3 * PG, VDEV_DMA_READ, sg, 4),
                 -ENOENT);
    talloc_free(dev);
}

Test(dma_mem, protection_errors)
{
    struct vdev_dev *dev = dma_fixture_dev();
    int ro = dma_fixture_memfd(PG), wo = dma_fixture_memfd(PG);
    struct vdev_sg sg[2];
    uint8_t buf[16] = {1, 2, 3};

    cr_assert_eq(vdev_dma_add(dev->dma, 0, PG, ro, 0, VDEV_DMA_READ), 0);
    cr_assert_eq(vdev_dma_add(dev->dma, PG, PG, wo, 0, VDEV_DMA_WRITE), 0);
    cr_assert_eq(vdev_dma_write(dev, 0, buf, 16), -EACCES);
    cr_assert_eq(vdev_dma_read(dev, 0, buf, 16), 0);
    cr_assert_eq(vdev_dma_read(dev, PG, buf, 16), -EACCES);
    cr_assert_eq(vdev_dma_write(dev, PG, buf, 16), 0);
    cr_assert_eq(vdev_dma_to_sg(dev, 0, 16, VDEV_DMA_WRITE, sg, 2), -EACCES);
    cr_assert_eq(vdev_dma_to_sg(dev, 0, 2 * PG, VDEV_DMA_READ, sg, 2), -EACCES);
    cr_assert_eq(vdev_dma_to_sg(dev, 0, 16, 8, sg, 2), -EINVAL);
    /* a write refused at the second map leaves nothing half-written */
    cr_assert_eq(vdev_dma_add(dev->dma, 2 * PG, PG, -1, 0, VDEV_DMA_READ), 0);
    memset(buf, 0x77, sizeof(buf));
    cr_assert_eq(vdev_dma_write(dev, 2 * PG - 8, buf, 16), -EACCES);
    cr_assert_eq(pread(wo, buf, 8, PG - 8), 8);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(buf[i], 0);
    cr_assert_eq(vdev_dma_write(dev, 4 * PG - 8, buf, 16), -ENOENT);
    cr_assert_eq(vdev_dma_read(dev, PG, buf, 0), 0);
    talloc_free(dev);
}

Test(dma_mem, no_connection)
{
    struct vdev_dev *dev = dma_fixture_dev();
    uint8_t b[4];
    struct vdev_sg sg;

    talloc_free(dev->srv->conn);
    dev->srv->conn = NULL;
    dev->dma = NULL;
    cr_assert_eq(vdev_dma_read(dev, 0, b, 4), -ENOENT);
    cr_assert_eq(vdev_dma_write(dev, 0, b, 4), -ENOENT);
    cr_assert_eq(vdev_dma_to_sg(dev, 0, 4, VDEV_DMA_READ, &sg, 1), -ENOENT);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0, 4), -ENOENT);
    talloc_free(dev);
}

/* ------------------------------------------------------------ handlers */

struct msg_buf {
    struct vfio_user_header hdr;
    uint8_t body[64];
    int fds[4];
    struct vdev_msg m;
    struct vdev_reply r;
};

static struct vdev_msg *
mk_msg(struct msg_buf *b, uint16_t cmd, const void *body, uint32_t len,
       const int *fds, unsigned nr_fds)
{
    memset(b, 0, sizeof(*b));
    b->hdr.cmd = cmd;
    b->hdr.msg_size = (uint32_t)sizeof(b->hdr) + len;
    memcpy(b->body, body, len);
    if (nr_fds)
        memcpy(b->fds, fds, nr_fds * sizeof(int));
    b->m.hdr = &b->hdr;
    b->m.body = b->body;
    b->m.body_len = len;
    b->m.fds = b->fds;
    b->m.nr_fds = nr_fds;
    return &b->m;
}

static int
do_map(struct vdev_conn *c, struct msg_buf *b,
       const struct vfio_user_dma_map *req, uint32_t len, const int *fds,
       unsigned nr_fds)
{
    uint8_t raw[64] = {0}; /* room for the too-long variants */

    memcpy(raw, req, sizeof(*req));
    return vdev_handle_dma_map(
        c, mk_msg(b, VFIO_USER_DMA_MAP, raw, len, fds, nr_fds), &b->r);
}

static int
do_unmap_n(struct vdev_conn *c, struct msg_buf *b, const void *req,
           size_t req_size, uint32_t len)
{
    uint8_t raw[64] = {0};

    memcpy(raw, req, req_size < len ? req_size : len);
    return vdev_handle_dma_unmap(
        c, mk_msg(b, VFIO_USER_DMA_UNMAP, raw, len, NULL, 0), &b->r);
}

#define do_unmap(c, b, req, len) do_unmap_n(c, b, req, sizeof(*(req)), len)

Test(dma_proto, map_malformed_variants)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_conn *c = dev->srv->conn;
    struct vdev_dma *dma = &c->dma;
    struct vfio_user_dma_map req = {
        .argsz = 32,
        .flags = 3,
        .offset = 0,
        .addr = 0x100000,
        .size = PG,
    };
    struct vfio_user_dma_map bad;
    struct msg_buf b;
    int fd, fd2;

    bad = req;
    bad.argsz = 24;
    fd = dma_fixture_memfd(PG);
    cr_assert_eq(do_map(c, &b, &bad, 32, &fd, 1), -EINVAL);
    cr_assert_not(fd_is_open(fd));
    cr_assert_eq(b.fds[0], -1);
    /* argsz above the structure, and bytes after it, are accepted as the
     * kernel accepts them (runtime/KERNEL.md, M2); a short body is not */
    bad.argsz = 40;
    cr_assert_eq(do_map(c, &b, &bad, 32, NULL, 0), 0);
    cr_assert_eq(vdev_dma_remove(dma, req.addr, req.size), 0);
    cr_assert_eq(do_map(c, &b, &req, 31, NULL, 0), -EINVAL);
    cr_assert_eq(do_map(c, &b, &req, 33, NULL, 0), 0);
    cr_assert_eq(vdev_dma_remove(dma, req.addr, req.size), 0);
    bad = req;
    bad.flags = 4;
    cr_assert_eq(do_map(c, &b, &bad, 32, NULL, 0), -EINVAL);
    /* two fds: refused, both closed */
    fd = dma_fixture_memfd(PG);
    fd2 = dma_fixture_memfd(PG);
    {
        int two[2] = {fd, fd2};

        cr_assert_eq(do_map(c, &b, &req, 32, two, 2), -EINVAL);
    }
    cr_assert_not(fd_is_open(fd));
    cr_assert_not(fd_is_open(fd2));
    cr_assert_eq(dma->nr_maps, 0);

    /* the good one, then an overlap: EEXIST, its fd closed */
    fd = dma_fixture_memfd(PG);
    cr_assert_eq(do_map(c, &b, &req, 32, &fd, 1), 0);
    cr_assert_eq(b.fds[0], -1); /* taken */
    cr_assert(fd_is_open(fd));
    cr_assert_eq(b.r.len, 0);
    fd2 = dma_fixture_memfd(PG);
    cr_assert_eq(do_map(c, &b, &req, 32, &fd2, 1), -EEXIST);
    cr_assert_not(fd_is_open(fd2));
    /* unaligned fd map */
    bad = req;
    bad.addr = 0x200010;
    fd2 = dma_fixture_memfd(PG);
    cr_assert_eq(do_map(c, &b, &bad, 32, &fd2, 1), -EINVAL);
    cr_assert_not(fd_is_open(fd2));
    /* message-based map: no fd */
    bad = req;
    bad.addr = 0x300000;
    bad.flags = VFIO_USER_F_DMA_REGION_READ;
    cr_assert_eq(do_map(c, &b, &bad, 32, NULL, 0), 0);
    cr_assert_eq(dma->nr_maps, 2);
    cr_assert_eq(dma->maps[1]->fd, -1);
    cr_assert_null(dma->maps[1]->vaddr);
    cr_assert_eq(dma->maps[1]->prot, VDEV_DMA_READ);
    cr_assert_eq(dma->maps[0]->prot, VDEV_DMA_READ | VDEV_DMA_WRITE);
    talloc_free(dev);
    cr_assert_not(fd_is_open(fd));
}

Test(dma_proto, unmap_variants)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_conn *c = dev->srv->conn;
    struct vdev_dma *dma = &c->dma;
    struct vfio_user_dma_unmap req = {
        .argsz = 24,
        .flags = 0,
        .addr = 0x100000,
        .size = 2 * PG,
    };
    struct vfio_user_dma_unmap bad;
    struct msg_buf b;
    int fd = dma_fixture_memfd(2 * PG);

    cr_assert_eq(vdev_dma_add(dma, 0x100000, 2 * PG, fd, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(dma, 0x200000, PG, -1, 0, 3), 0);
    cr_assert_eq(vdev_dma_add(dma, 0x300000, PG, -1, 0, 3), 0);

    bad = req;
    bad.argsz = 16;
    cr_assert_eq(do_unmap(c, &b, &bad, 24), -EINVAL);
    cr_assert_eq(do_unmap(c, &b, &req, 23), -EINVAL);
    cr_assert_eq(do_unmap(c, &b, &req, 25), -EINVAL);
    bad = req;
    bad.flags = 4;
    cr_assert_eq(do_unmap(c, &b, &bad, 24), -EINVAL);
    bad = req;
    bad.size = PG;
    cr_assert_eq(do_unmap(c, &b, &bad, 24), -ENOENT);
    bad = req;
    bad.addr = 0x500000;
    cr_assert_eq(do_unmap(c, &b, &bad, 24), -ENOENT);
    /* (fds on an unmap are closed by the dispatcher and the unmap served:
     * kernel_header/fds_on_fdless_closed_and_served) */
    cr_assert_eq(dma->nr_maps, 3);

    /* exact match: removed, reply echoes the request entry */
    req.argsz = 64;
    cr_assert_eq(do_unmap(c, &b, &req, 24), 0);
    cr_assert_eq(b.r.len, 24);
    cr_assert_arr_eq(b.r.payload, &req, 24);
    cr_assert_not(fd_is_open(fd));
    cr_assert_eq(dma->nr_maps, 2);
    cr_assert_eq(do_unmap(c, &b, &req, 24), -ENOENT);

    /* UNMAP_ALL needs addr and size zero */
    bad = req;
    bad.flags = VFIO_USER_F_DMA_UNMAP_ALL;
    cr_assert_eq(do_unmap(c, &b, &bad, 24), -EINVAL);
    bad.addr = 0;
    bad.size = 0;
    cr_assert_eq(do_unmap(c, &b, &bad, 24), 0);
    cr_assert_eq(dma->nr_maps, 0);
    cr_assert_eq(b.r.len, 24);
    cr_assert_arr_eq(b.r.payload, &bad, 24);
    talloc_free(dev);
}

struct unmap_bitmap_req {
    struct vfio_user_dma_unmap u;
    struct vfio_user_bitmap bm;
} __attribute__((packed));

Test(dma_proto, unmap_with_dirty_bitmap)
{
    struct vdev_dev *dev = dma_fixture_dev();
    struct vdev_conn *c = dev->srv->conn;
    struct vdev_dma *dma = &c->dma;
    struct unmap_bitmap_req req = {
        .u = {.argsz = 40 + 16,
              .flags = VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP,
              .addr = 0x100000,
              .size = 100 * PG},
        .bm = {.pgsize = PG, .size = 16},
    };
    struct unmap_bitmap_req bad;
    struct msg_buf b;
    uint8_t one = 1;
    const uint8_t *bits;

    cr_assert_eq(vdev_dma_add(dma, 0x100000, 100 * PG, -1, 0, 3), 0);
    /* logging is off */
    cr_assert_eq(do_unmap(c, &b, &req, 40), -EINVAL);
    cr_assert_eq(vdev_dirty_start(dma, PG), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0x100000 + 3 * PG, 1), 0);
    cr_assert_eq(vdev_dma_mark_dirty(dev, 0x100000 + 99 * PG + 5, 1), 0);
    (void)one;

    cr_assert_eq(do_unmap(c, &b, &req, 24), -EINVAL); /* no descriptor */
    bad = req;
    bad.bm.pgsize = 2 * PG;
    cr_assert_eq(do_unmap(c, &b, &bad, 40), -EINVAL);
    bad = req;
    bad.bm.size = 12; /* 100 pages need 13 bytes */
    cr_assert_eq(do_unmap(c, &b, &bad, 40), -EINVAL);
    bad = req;
    bad.u.argsz = 40 + 15;
    cr_assert_eq(do_unmap(c, &b, &bad, 40), -EINVAL);
    bad = req;
    bad.u.flags |= VFIO_USER_F_DMA_UNMAP_ALL;
    cr_assert_eq(do_unmap(c, &b, &bad, 40), -EINVAL);
    bad = req;
    bad.u.size = 99 * PG;
    cr_assert_eq(do_unmap(c, &b, &bad, 40), -ENOENT);
    cr_assert_eq(dma->nr_maps, 1);

    cr_assert_eq(do_unmap(c, &b, &req, 40), 0);
    cr_assert_eq(dma->nr_maps, 0);
    cr_assert_eq(b.r.len, 40 + 16);
    cr_assert_arr_eq(b.r.payload, &req, 40);
    bits = b.r.payload + 40;
    cr_assert_eq(bits[0], 1 << 3);
    for (int i = 1; i < 12; i++)
        cr_assert_eq(bits[i], 0);
    cr_assert_eq(bits[12], 1 << 3); /* page 99 = byte 12 bit 3 */
    for (int i = 13; i < 16; i++)
        cr_assert_eq(bits[i], 0); /* the slack is zeroed */
    talloc_free(dev);
}
