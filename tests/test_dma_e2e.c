/* DMA end to end: a server with a small copy engine in BAR0, a client that
 * maps a memfd and registers message-served memory; the device copies
 * between them from inside a REGION_WRITE handler, over the main socket and
 * over the twin socket (tests/dma_engine.c). */
#include <criterion/criterion.h>
#include <errno.h>

#include "dma_engine.h"

#define FD_IOVA ENGINE_FD_IOVA
#define MSG_IOVA ENGINE_MSG_IOVA
#define AREA ENGINE_AREA

static void
both_directions(bool twin)
{
    struct dma_e2e t;
    struct dma_e2e_opts o = {.twin = twin};

    dma_e2e_start(&t, &o);
    for (unsigned i = 0; i < AREA; i++)
        t.fdmem[i] = (uint8_t)(i * 31 + 7);
    /* fd-backed -> message-served: DMA_WRITE requests to the client */
    cr_assert_eq(dma_e2e_copy(&t, FD_IOVA + 100, MSG_IOVA + 5, 40000), 0);
    cr_assert_arr_eq(t.msgmem + 5, t.fdmem + 100, 40000);
    /* message-served -> fd-backed: DMA_READ requests */
    for (unsigned i = 0; i < AREA; i++)
        t.msgmem[i] = (uint8_t)(i ^ 0xa5);
    cr_assert_eq(dma_e2e_copy(&t, MSG_IOVA + 1, FD_IOVA + 3, AREA - 8), 0);
    cr_assert_arr_eq(t.fdmem + 3, t.msgmem + 1, AREA - 8);
    /* outside the maps */
    cr_assert_eq(dma_e2e_copy(&t, MSG_IOVA + AREA - 4, FD_IOVA, 8), -ENOENT);
    /* after the unmap the device gets ENOENT */
    cr_assert_eq(vdev_client_dma_unmap(t.cl, MSG_IOVA, AREA, 0), 0);
    cr_assert_eq(vdev_client_dma_unmap(t.cl, MSG_IOVA, AREA, 0), -ENOENT);
    cr_assert_eq(dma_e2e_copy(&t, FD_IOVA, MSG_IOVA, 8), -ENOENT);
    /* overlap over the socket */
    cr_assert_eq(vdev_client_dma_map(t.cl, FD_IOVA + 4096, 4096, -1, 0, 3),
                 -EEXIST);
    cr_assert_eq(vdev_client_dma_unmap(t.cl, 0, 0, VFIO_USER_F_DMA_UNMAP_ALL),
                 0);
    cr_assert_eq(dma_e2e_copy(&t, FD_IOVA, FD_IOVA + 8, 8), -ENOENT);
    dma_e2e_stop(&t);
}

Test(dma_e2e, main_socket)
{
    both_directions(false);
}

Test(dma_e2e, twin_socket)
{
    both_directions(true);
}
