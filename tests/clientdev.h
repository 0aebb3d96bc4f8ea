/* The test device of tests/testdev.c, extended for the client-library and
 * vdevctl tests: a DMA engine and IRQ trigger in BAR4 (with the MSI-X table
 * and PBA), an I/O BAR5, and one capability of each kind vdevctl decodes. */
#ifndef TESTS_CLIENTDEV_H
#define TESTS_CLIENTDEV_H

#include <stdint.h>

#include "testdev.h"

/* BAR4: 32-bit MMIO, 4 KiB. Registers take aligned 4-byte accesses (and 8
 * at the DMA address); the buffer window any width. */
#define CLIENTDEV_ENG_BAR 4
#define CLIENTDEV_ENG_SIZE 4096
#define CLIENTDEV_REG_DMA_ADDR 0x08 /* 64-bit */
#define CLIENTDEV_REG_DMA_LEN 0x10
/* DMA_CMD: 1 copies guest memory to the buffer, 2 the buffer to guest */
#define CLIENTDEV_REG_DMA_CMD 0x14
/* STATUS: the last command's result, 0 or -errno */
#define CLIENTDEV_REG_STATUS 0x18
/* IRQ: writing a vector calls vdev_irq_send() */
#define CLIENTDEV_REG_IRQ 0x1c
/* a window on the device's DMA buffer */
#define CLIENTDEV_BUF 0x100
#define CLIENTDEV_BUF_SIZE 256
#define CLIENTDEV_MSIX_TABLE 0x800
#define CLIENTDEV_MSIX_PBA 0xc00
#define CLIENTDEV_MSIX_VECTORS 8
#define CLIENTDEV_MSI_VECTORS 4
/* BAR5: I/O ports, plain storage */
#define CLIENTDEV_IO_BAR 5
#define CLIENTDEV_IO_SIZE 32

#define CLIENTDEV_DSN 0x0123456789abcdefull
#define CLIENTDEV_VSEC_ID 0x00ab
#define CLIENTDEV_VSEC_REV 2

struct clientdev;

/* testsrv_init() plus the extensions, then serving on a thread. Fails the
 * running Criterion test on error. */
struct clientdev *clientdev_start(void);
const char *clientdev_path(const struct clientdev *d);
void clientdev_stop(struct clientdev *d);

#endif /* TESTS_CLIENTDEV_H */
