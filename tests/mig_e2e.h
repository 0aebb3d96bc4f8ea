/* Test support for the end-to-end migration tests: two real edu server
 * processes, guest memory in a memfd, the edu registers and DMA engine,
 * and a snapshot of every register and named value to compare. */
#ifndef MIG_E2E_H
#define MIG_E2E_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model_server.h"

#define E2E_PG 4096ull
#define E2E_IOVA 0x10000000ull
#define E2E_PAGES 64u

#define EDU_BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define EDU_LIVENESS 0x04
#define EDU_FACT 0x08
#define EDU_STATUS 0x20
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_BUF 0x40000ull

/* Guest RAM: a memfd mapped here and DMA-mapped into a server. */
struct e2e_guest {
    int fd;
    uint8_t *p;
    uint64_t iova, size;
};

void e2e_guest_new(struct e2e_guest *g, unsigned pages);
void e2e_guest_map(struct e2e_guest *g, struct model_server *s);
void e2e_guest_free(struct e2e_guest *g);

/* edu DMA: to_ram = buffer -> guest. */
void e2e_edu_dma(struct model_server *s, bool to_ram, uint64_t src,
                 uint64_t dst, uint64_t count);

/* Every named value (mgmt "list") and every readable register read
 * through REGION_READ. */
#define E2E_MAX_VALUES 64u
struct e2e_snapshot {
    unsigned n;
    char names[E2E_MAX_VALUES][64];
    uint64_t values[E2E_MAX_VALUES];
    bool has_regs;
    uint64_t regs[8]; /* liveness, fact, status, irq_status, dma_* */
};

void e2e_snapshot(struct model_server *s, struct e2e_snapshot *out);
/* Named values only (a stopped device refuses register access). */
void e2e_snapshot_vars(struct model_server *s, struct e2e_snapshot *out);
/* Asserts a == b (registers too when both have them), naming the first
 * value that differs. */
void e2e_snapshot_equal(const struct e2e_snapshot *a,
                        const struct e2e_snapshot *b);
uint64_t e2e_snapshot_get(const struct e2e_snapshot *s, const char *name);

/* The device's 4 KiB buffer, read back with a DMA into guest memory. */
void e2e_edu_buffer(struct model_server *s, struct e2e_guest *g,
                    uint8_t out[4096]);

/* CRC-32C as the stream uses it (for re-sealing a deliberately edited
 * stream so the loader's later checks are reached). */
uint32_t e2e_crc32c(const uint8_t *p, size_t len);
/* Rewrites the stream's trailing checksum after an edit. */
void e2e_reseal(uint8_t *buf, size_t len);

#endif /* MIG_E2E_H */
