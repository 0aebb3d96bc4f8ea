/* hostdev: a small hand-written device that uses issue 11's runtime API the
 * way generated code will: two timers, a byte stream with small FIFOs,
 * events, config-space windows, self-reset and a sticky register, all
 * migrating. Built into the test binary (in-process tests) and as the
 * standalone server build/tests/vdev-hostdev. */
#ifndef HOSTDEV_H
#define HOSTDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "vdev.h"

#define HOSTDEV_VENDOR 0x1b36
#define HOSTDEV_DEVICE 0x11f0
#define HOSTDEV_ID 0x40577de5u
#define HOSTDEV_FIFO 16u /* both FIFOs of the stream */

/* BAR0 registers, 32-bit. */
enum {
    HD_ID = 0x00,      /* ro */
    HD_DATA = 0x04,    /* write: push tx; read: pop rx */
    HD_STATUS = 0x08,  /* HD_ST_* and counts */
    HD_TICK = 0x0c,    /* write us: one-shot; | HD_PERIODIC: periodic; 0 stop */
    HD_TICKS = 0x10,   /* ro: tick expiries */
    HD_NOW_LO = 0x14,  /* ro: device time, ns */
    HD_NOW_HI = 0x18,  /* ro */
    HD_RESET = 0x1c,   /* write 1: reset yourself */
    HD_EVENT = 0x20,   /* write: emit "poke" */
    HD_STICKY = 0x24,  /* rw, survives a reset */
    HD_SCRATCH = 0x28, /* rw, cleared by a reset */
    HD_RESETS = 0x2c,  /* ro: resets seen, sticky */
    HD_TICK_AT = 0x30, /* ro: device time of the last tick (low 32 bits) */
    HD_WDOG = 0x34,    /* write us: arm the watchdog; 0 stops it */
    HD_TXEMPTY = 0x38, /* ro: tx_empty callbacks */
    HD_ECHO = 0x3c,    /* rw: 1 echoes received bytes back */
    HD_SEEN_RESET = 0x40, /* ro: resets seen by the write that asked (0) */
    HD_DMA = 0x44         /* write IOVA: read 4 bytes of guest memory */
};
#define HD_PERIODIC 0x80000000u
#define HD_TICK_EVENT 0x40000000u /* each tick also emits "tick" */
#define HD_ST_RX 1u               /* receive FIFO not empty */
#define HD_ST_TXFULL 2u           /* transmit FIFO full */
#define HD_ST_TXEMPTY 4u          /* transmit FIFO empty */

/* Config space: a window 0x60..0x67 of two registers, and one at 0x70. */
#define HD_CFG_REG 0x60 /* rw 32 bits */
#define HD_CFG_WIDTH                                                           \
    0x64                 /* ro: bytes of the last access to the window;        \
                            writing 0xdead there resets the device */
#define HD_CFG_REG2 0x70 /* rw 16 bits, window of 2 bytes */

struct hd_fifo {
    uint8_t buf[HOSTDEV_FIFO];
    uint32_t head, count;
};

/* The migrating state block. */
struct hostdev_state {
    uint32_t sticky, scratch, resets, ticks, tick_at, txempty, echo;
    uint32_t cfg_reg, cfg_width, seen_reset, tick_event, dma_word;
    uint16_t cfg_reg2;
    uint16_t pad;
    struct hd_fifo rx, tx;
};

struct hostdev {
    struct vdev_dev *dev;
    struct hostdev_state st;
    struct vdev_timer *tick, *wdog;
    int stream; /* id of "serial" */
    unsigned inits;
};

/* Builds the device (BAR0, INTx A, PCIe and MSI capabilities placed
 * around the windows, migration, named values). */
struct vdev_dev *hostdev_create(void *mem_ctx);
struct hostdev *hostdev_of(struct vdev_dev *dev);

/* BAR0 access as a guest would, through the runtime's access path. */
uint32_t hostdev_read(struct vdev_dev *dev, unsigned reg);
void hostdev_write(struct vdev_dev *dev, unsigned reg, uint32_t value);

#endif /* HOSTDEV_H */
