/* Test support: the copy-engine server and its client (dma_engine.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <talloc.h>
#include <unistd.h>

#include "dma_engine.h"

#define REG_SRC 0x00
#define REG_DST 0x08
#define REG_LEN 0x10
#define REG_GO 0x18     /* write: copy src -> dst */
#define REG_STATUS 0x20 /* 0 or -errno of the last copy */

static int
engine_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
              uint32_t count, bool is_write)
{
    struct engine *e = opaque;
    uint64_t v = 0;
    uint8_t *tmp;

    if (count != 8 || offset % 8 || offset > REG_STATUS)
        return -EINVAL;
    if (!is_write) {
        v = offset == REG_STATUS ? (uint64_t)(int64_t)e->status : 0;
        memcpy(buf, &v, 8);
        return 0;
    }
    memcpy(&v, buf, 8);
    switch (offset) {
    case REG_SRC:
        e->src = v;
        break;
    case REG_DST:
        e->dst = v;
        break;
    case REG_LEN:
        e->len = v;
        break;
    case REG_GO:
        tmp = malloc(e->len ? e->len : 1);
        if (!tmp)
            return -ENOMEM;
        e->status = vdev_dma_read(dev, e->src, tmp, e->len);
        if (e->status == 0)
            e->status = vdev_dma_write(dev, e->dst, tmp, e->len);
        free(tmp);
        break;
    }
    return 0;
}

static void
quiet(void *opaque, enum vdev_log_level level, const char *msg)
{
}

static void *
run(void *arg)
{
    vdev_run(arg);
    return NULL;
}

void
dma_e2e_start(struct dma_e2e *t, const struct dma_e2e_opts *o)
{
    struct vdev_pci_ident id = {.vendor_id = 0x1b36, .device_id = 0x10f1};
    struct vdev_bar_desc bar = {
        .kind = VDEV_BAR_MEM32,
        .size = 4096,
        .access = engine_access,
    };
    struct vdev_client_caps want = {
        .max_msg_fds = 8,
        .max_data_xfer_size = 1 << 20,
        .max_dma_maps = 100,
        .pgsizes = 4096,
        .twin_socket = o->twin,
    };
    const uint32_t rw =
        VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE;

    memset(t, 0, sizeof(*t));
    strcpy(t->dir, "/tmp/vdev-dma-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/dev.sock", t->dir);
    t->dev = vdev_dev_create(NULL, "dma-e2e", &id);
    cr_assert_not_null(t->dev);
    vdev_set_log(t->dev, o->log ? o->log : quiet, o->log_opaque,
                 VDEV_LOG_DEBUG);
    cr_assert_eq(vdev_set_dma_layout(t->dev, o->layout), 0);
    bar.opaque = &t->eng;
    cr_assert_eq(vdev_bar_add(t->dev, 0, &bar), 0);
    cr_assert_eq(vdev_listen(t->dev, t->path), 0);
    cr_assert_eq(pthread_create(&t->thr, NULL, run, t->dev), 0);

    cr_assert_eq(vdev_client_connect(NULL, t->path, &t->cl), 0);
    vdev_client_set_qemu_dma_layout(t->cl, o->qemu_client);
    cr_assert_eq(vdev_client_negotiate(t->cl, &want), 0);
    cr_assert_eq(vdev_client_server_caps(t->cl)->twin_socket, o->twin);

    t->memfd = memfd_create("guest", MFD_CLOEXEC);
    cr_assert(t->memfd >= 0);
    cr_assert_eq(ftruncate(t->memfd, ENGINE_AREA), 0);
    t->fdmem = mmap(NULL, ENGINE_AREA, PROT_READ | PROT_WRITE, MAP_SHARED,
                    t->memfd, 0);
    cr_assert_neq(t->fdmem, MAP_FAILED);
    t->msgmem = calloc(1, ENGINE_AREA);
    cr_assert_not_null(t->msgmem);
    cr_assert_eq(vdev_client_dma_map(t->cl, ENGINE_FD_IOVA, ENGINE_AREA,
                                     t->memfd, 0, rw),
                 0);
    cr_assert_eq(vdev_client_add_dma_memory(t->cl, ENGINE_MSG_IOVA, t->msgmem,
                                            ENGINE_AREA),
                 0);
    cr_assert_eq(
        vdev_client_dma_map(t->cl, ENGINE_MSG_IOVA, ENGINE_AREA, -1, 0, rw), 0);
}

void
dma_e2e_stop(struct dma_e2e *t)
{
    vdev_client_close(t->cl);
    vdev_stop(t->dev);
    pthread_join(t->thr, NULL);
    talloc_free(t->dev);
    munmap(t->fdmem, ENGINE_AREA);
    close(t->memfd);
    free(t->msgmem);
    unlink(t->path);
    rmdir(t->dir);
}

int64_t
dma_e2e_copy(struct dma_e2e *t, uint64_t src, uint64_t dst, uint64_t len)
{
    uint64_t go = 1, st;

    cr_assert_eq(vdev_client_region_write(t->cl, 0, REG_SRC, &src, 8), 0);
    cr_assert_eq(vdev_client_region_write(t->cl, 0, REG_DST, &dst, 8), 0);
    cr_assert_eq(vdev_client_region_write(t->cl, 0, REG_LEN, &len, 8), 0);
    cr_assert_eq(vdev_client_region_write(t->cl, 0, REG_GO, &go, 8), 0);
    cr_assert_eq(vdev_client_region_read(t->cl, 0, REG_STATUS, &st, 8), 0);
    return (int64_t)st;
}
