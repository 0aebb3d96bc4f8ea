/* Migration tests' device: a hand-written vdev_mig_desc over a small state
 * block, in revisions 1 (no `added`), 2 (adds `added`, since 2) and 3. */
#ifndef MIG_TESTDEV_H
#define MIG_TESTDEV_H

#include <stddef.h>
#include <stdint.h>

#include "migration/migration.h"

struct mt_state {
    uint32_t ctrl;
    uint64_t counter;
    uint8_t mode; /* 0..3; validate refuses more */
    uint8_t buf[16];
    uint32_t added; /* since 2; reset value 0x55 */
};

struct mt_dev {
    struct vdev_dev *dev;
    struct mt_state st;
    unsigned post_loads;
    char log[4096]; /* DEBUG log lines, newest last */
};

/* revision: 1, 2 or 3; name: device name written in streams. */
struct mt_dev *mt_create(void *ctx, unsigned revision, const char *name);
uint32_t mt_fnv1a(const char *s);
/* Sets distinct values in every field (seeded). */
void mt_fill(struct mt_dev *m, unsigned seed);
/* Stream helpers: CRC-32C as the format uses; recompute a stream's trailer. */
uint32_t mt_crc32c(const uint8_t *p, size_t len);
void mt_fix_crc(uint8_t *buf, size_t len);

/* With a 4 KiB backed BAR0 holding an MSI-X table (4 vectors) and PBA, and
 * a backed BAR2 of bar2_size bytes (0: none). */
struct mt_dev *mt_create_full(void *ctx, unsigned revision, const char *name,
                              uint64_t bar2_size);

#endif
