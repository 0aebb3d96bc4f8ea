/* Test support for end-to-end DMA: a server with a small copy engine in
 * BAR0 on a thread, and a client (the client library) that maps a memfd
 * and lends message-served memory; the device copies between them from
 * inside a REGION_WRITE handler. */
#ifndef DMA_ENGINE_H
#define DMA_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vdev.h"
#include "vdev_client.h"

#define ENGINE_FD_IOVA 0x100000000ull
#define ENGINE_MSG_IOVA 0x200000000ull
#define ENGINE_AREA (64 * 1024)

struct engine {
    uint64_t src, dst, len;
    int32_t status;
};

struct dma_e2e {
    char dir[64], path[128];
    struct vdev_dev *dev;
    struct engine eng;
    pthread_t thr;
    struct vdev_client *cl;
    int memfd;
    uint8_t *fdmem;  /* ENGINE_AREA bytes at ENGINE_FD_IOVA */
    uint8_t *msgmem; /* ENGINE_AREA bytes at ENGINE_MSG_IOVA */
};

struct dma_e2e_opts {
    bool twin;                   /* the client asks for the twin socket */
    bool qemu_client;            /* it answers DMA as QEMU 10.1/10.2 */
    enum vdev_dma_layout layout; /* the server's setting */
    vdev_log_fn *log;            /* the server's log (NULL: quiet) */
    void *log_opaque;
};

/* Starts the server and connects; asserts on failure. */
void dma_e2e_start(struct dma_e2e *t, const struct dma_e2e_opts *o);
void dma_e2e_stop(struct dma_e2e *t);
/* Has the device copy len bytes from src to dst; returns its status (0 or
 * the -errno of its vdev_dma_read/write). */
int64_t dma_e2e_copy(struct dma_e2e *t, uint64_t src, uint64_t dst,
                     uint64_t len);

#endif /* DMA_ENGINE_H */
