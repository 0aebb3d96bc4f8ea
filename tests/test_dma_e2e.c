/* DMA end to end: a server with a small copy engine in BAR0, a client that
 * maps a memfd and registers message-served memory; the device copies
 * between them from inside a REGION_WRITE handler, over the main socket and
 * over the twin socket. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vdev_client.h"
#include "device/device.h"

#define REG_SRC 0x00
#define REG_DST 0x08
#define REG_LEN 0x10
#define REG_GO 0x18     /* write: copy src -> dst */
#define REG_STATUS 0x20 /* 0 or -errno of the last copy */

#define FD_IOVA 0x100000000ull
#define MSG_IOVA 0x200000000ull
#define AREA (64 * 1024)

struct engine {
    uint64_t src, dst, len;
    int32_t status;
};

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

struct e2e {
    char dir[64], path[128];
    struct vdev_dev *dev;
    struct engine eng;
    pthread_t thr;
    struct vdev_client *cl;
    int memfd;
    uint8_t *fdmem;
    uint8_t *msgmem;
};

static void *
run(void *arg)
{
    vdev_run(arg);
    return NULL;
}

static void
e2e_start(struct e2e *t, bool twin)
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
        .twin_socket = twin,
    };

    memset(t, 0, sizeof(*t));
    strcpy(t->dir, "/tmp/vdev-dma-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/dev.sock", t->dir);
    t->dev = vdev_dev_create(NULL, "dma-e2e", &id);
    cr_assert_not_null(t->dev);
    vdev_set_log(t->dev, quiet, NULL, VDEV_LOG_DEBUG);
    bar.opaque = &t->eng;
    cr_assert_eq(vdev_bar_add(t->dev, 0, &bar), 0);
    cr_assert_eq(vdev_listen(t->dev, t->path), 0);
    cr_assert_eq(pthread_create(&t->thr, NULL, run, t->dev), 0);

    cr_assert_eq(vdev_client_connect(NULL, t->path, &t->cl), 0);
    cr_assert_eq(vdev_client_negotiate(t->cl, &want), 0);
    cr_assert_eq(vdev_client_server_caps(t->cl)->twin_socket, twin);

    t->memfd = memfd_create("guest", MFD_CLOEXEC);
    cr_assert(t->memfd >= 0);
    cr_assert_eq(ftruncate(t->memfd, AREA), 0);
    t->fdmem =
        mmap(NULL, AREA, PROT_READ | PROT_WRITE, MAP_SHARED, t->memfd, 0);
    cr_assert_neq(t->fdmem, MAP_FAILED);
    t->msgmem = calloc(1, AREA);
    cr_assert_not_null(t->msgmem);
    cr_assert_eq(vdev_client_dma_map(t->cl, FD_IOVA, AREA, t->memfd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
    cr_assert_eq(vdev_client_add_dma_memory(t->cl, MSG_IOVA, t->msgmem, AREA),
                 0);
    cr_assert_eq(vdev_client_dma_map(t->cl, MSG_IOVA, AREA, -1, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
}

static void
e2e_stop(struct e2e *t)
{
    vdev_client_close(t->cl);
    vdev_stop(t->dev);
    pthread_join(t->thr, NULL);
    talloc_free(t->dev);
    munmap(t->fdmem, AREA);
    close(t->memfd);
    free(t->msgmem);
    unlink(t->path);
    rmdir(t->dir);
}

static int64_t
copy(struct e2e *t, uint64_t src, uint64_t dst, uint64_t len)
{
    uint64_t go = 1, st;

    cr_assert_eq(vdev_client_region_write(t->cl, 0, REG_SRC, &src, 8), 0);
    cr_assert_eq(vdev_client_region_write(t->cl, 0, REG_DST, &dst, 8), 0);
    cr_assert_eq(vdev_client_region_write(t->cl, 0, REG_LEN, &len, 8), 0);
    cr_assert_eq(vdev_client_region_write(t->cl, 0, REG_GO, &go, 8), 0);
    cr_assert_eq(vdev_client_region_read(t->cl, 0, REG_STATUS, &st, 8), 0);
    return (int64_t)st;
}

static void
both_directions(bool twin)
{
    struct e2e t;

    e2e_start(&t, twin);
    for (unsigned i = 0; i < AREA; i++)
        t.fdmem[i] = (uint8_t)(i * 31 + 7);
    /* fd-backed -> message-served: DMA_WRITE requests to the client */
    cr_assert_eq(copy(&t, FD_IOVA + 100, MSG_IOVA + 5, 40000), 0);
    cr_assert_arr_eq(t.msgmem + 5, t.fdmem + 100, 40000);
    /* message-served -> fd-backed: DMA_READ requests */
    for (unsigned i = 0; i < AREA; i++)
        t.msgmem[i] = (uint8_t)(i ^ 0xa5);
    cr_assert_eq(copy(&t, MSG_IOVA + 1, FD_IOVA + 3, AREA - 8), 0);
    cr_assert_arr_eq(t.fdmem + 3, t.msgmem + 1, AREA - 8);
    /* outside the maps */
    cr_assert_eq(copy(&t, MSG_IOVA + AREA - 4, FD_IOVA, 8), -ENOENT);
    /* after the unmap the device gets ENOENT */
    cr_assert_eq(vdev_client_dma_unmap(t.cl, MSG_IOVA, AREA, 0), 0);
    cr_assert_eq(vdev_client_dma_unmap(t.cl, MSG_IOVA, AREA, 0), -ENOENT);
    cr_assert_eq(copy(&t, FD_IOVA, MSG_IOVA, 8), -ENOENT);
    /* overlap over the socket */
    cr_assert_eq(vdev_client_dma_map(t.cl, FD_IOVA + 4096, 4096, -1, 0, 3),
                 -EEXIST);
    cr_assert_eq(vdev_client_dma_unmap(t.cl, 0, 0, VFIO_USER_F_DMA_UNMAP_ALL),
                 0);
    cr_assert_eq(copy(&t, FD_IOVA, FD_IOVA + 8, 8), -ENOENT);
    e2e_stop(&t);
}

Test(dma_e2e, main_socket)
{
    both_directions(false);
}

Test(dma_e2e, twin_socket)
{
    both_directions(true);
}
