/* A client that shrinks the file behind its DMA map after DMA_MAP: the
 * model server's DMA engine hits pages that are gone (SIGBUS, caught by
 * base/guard.c), the transfer fails, and the server keeps serving. */
#include <criterion/criterion.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define LIVENESS 0x04
#define DMA_SRC 0x80
#define DMA_DST 0x88
#define DMA_COUNT 0x90
#define DMA_CMD 0x98
#define DMA_BUF 0x40000

Test(dma_truncate, edu_survives_a_shrunk_map, .timeout = 30)
{
    struct model_server srv;
    const size_t size = 64 * 1024;
    const uint64_t iova = 0x100000;
    int mfd = memfd_create("guest", MFD_CLOEXEC);

    model_server_start(&srv, "edu");
    cr_assert_geq(mfd, 0);
    cr_assert_eq(ftruncate(mfd, (off_t)size), 0);
    cr_assert_eq(vdev_client_dma_map(srv.cl, iova, size, mfd, 0,
                                     VFIO_USER_F_DMA_REGION_READ |
                                         VFIO_USER_F_DMA_REGION_WRITE),
                 0);
    /* the guest's memory shrinks to one page behind the server's back */
    cr_assert_eq(ftruncate(mfd, 4096), 0);
    close(mfd);

    /* RAM -> device buffer from a page that is gone, and back */
    model_wr(&srv, BAR0, DMA_SRC, 8, iova + 0x8000);
    model_wr(&srv, BAR0, DMA_DST, 8, DMA_BUF);
    model_wr(&srv, BAR0, DMA_COUNT, 8, 100);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1);
    model_wr(&srv, BAR0, DMA_SRC, 8, DMA_BUF);
    model_wr(&srv, BAR0, DMA_DST, 8, iova + 0x9000);
    model_wr(&srv, BAR0, DMA_CMD, 8, 1 | 2);

    /* alive: the next access is served, and so is a fresh client */
    model_wr(&srv, BAR0, LIVENESS, 4, 5);
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~5u & 0xffffffffu);
    model_server_detach(&srv);
    model_server_attach(&srv);
    cr_assert_eq(model_rd(&srv, BAR0, LIVENESS, 4), ~5u & 0xffffffffu);
    cr_assert_eq(model_server_stop(&srv), 0);
}
