/* A small hand-written test device and an in-process server for it, for the
 * protocol tests: BAR0 registers, BAR2 memory, INTx pin A. */
#ifndef TESTDEV_H
#define TESTDEV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vdev.h"

#define TESTDEV_VENDOR 0x1b36
#define TESTDEV_DEVICE 0x10f0
#define TESTDEV_ID_VALUE 0x7e57de71u

/* BAR0: 4 KiB of registers served by a callback. */
#define TESTDEV_BAR0_SIZE 4096u
#define TESTDEV_REG_ID 0x0      /* read-only */
#define TESTDEV_REG_SCRATCH 0x4 /* read/write, cleared by reset */
/* BAR2 (+3): 64-bit prefetchable, 1 MiB of memory; the first half mmapable */
#define TESTDEV_BAR2_SIZE (1u << 20)
#define TESTDEV_BAR2_MMAP_SIZE (TESTDEV_BAR2_SIZE / 2)
/* With capabilities: MSI-X table and PBA in BAR0, past the registers. */
#define TESTDEV_MSIX_VECTORS 4
#define TESTDEV_MSIX_TABLE 0x800
#define TESTDEV_MSIX_PBA 0xc00
#define TESTDEV_DSN 0x0123456789abcdefull
/* A device-specific region with a TYPE capability. */
#define TESTDEV_TYPED_INDEX 9
#define TESTDEV_TYPED_TYPE 0x8086
#define TESTDEV_TYPED_SUBTYPE 3
#define TESTDEV_TYPED_SIZE 256u

struct testdev {
    uint32_t scratch;
    unsigned resets;
    uint8_t typed[TESTDEV_TYPED_SIZE];
};

struct testsrv {
    struct vdev_dev *dev;
    struct testdev td;
    char dir[64];
    char path[128];
    pthread_t thread;
    bool running;
    int run_rc;
};

/* Builds the device under mem_ctx (no capabilities); NULL on failure. */
struct vdev_dev *testdev_create(void *mem_ctx, struct testdev *td);
/* Adds PM, MSI (4 vectors), MSI-X (table and PBA in BAR0), PCIe endpoint,
 * vendor-specific and DSN capabilities. Returns 0 or -errno. */
int testdev_add_caps(struct vdev_dev *dev);

/* Creates the device and listens in a fresh mkdtemp() directory. */
int testsrv_init(struct testsrv *s);
/* The same with testdev_add_caps(). */
int testsrv_init_caps(struct testsrv *s);
/* Runs vdev_run() on a thread. */
int testsrv_start(struct testsrv *s);
/* vdev_stop(), joins the thread (bounded wait), frees everything. Returns
 * 0, or -ETIMEDOUT when vdev_run did not return. */
int testsrv_stop(struct testsrv *s);
void testsrv_free(struct testsrv *s);

#endif /* TESTDEV_H */
