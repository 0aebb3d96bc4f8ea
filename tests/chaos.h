/* The chaos client (tests/chaos.c): a seeded, randomized adversary for a
 * running model server. Each batch is one of
 *   odd:    valid but odd sessions (any width and alignment, out-of-range
 *           regions, resets mid-stream, pipelining, no-reply flags, IRQs,
 *           DMA with and without fds, migration round trips), every reply
 *           checked: in order, for its id and command, well framed;
 *   abuse:  bad sizes, truncated messages, garbage, unknown commands,
 *           replies from the client, reserved flags, stray and surplus
 *           fds, then a hang-up;
 *   churn:  connects and hang-ups at every point of a message, a client
 *           that never reads, one that floods;
 *   fds:    every hostile fd kind (tests/hostile_fd.h) as IRQ and DMA fds,
 *           triggered thousands of times;
 *   mgmt:   hostile management clients: garbage, long lines, NUL bytes,
 *           half lines, more clients than slots, one that never reads.
 * The test (test_chaos.c) checks the server between batches. */
#ifndef VDEV_TEST_CHAOS_H
#define VDEV_TEST_CHAOS_H

#include <stdbool.h>
#include <stdint.h>

enum chaos_kind {
    CHAOS_ODD,
    CHAOS_ABUSE,
    CHAOS_CHURN,
    CHAOS_FDS,
    CHAOS_MGMT,
    CHAOS_NR_KINDS
};

struct chaos {
    uint64_t rng;
    const char *sock; /* the server's vfio-user socket */
    const char *mgmt; /* ...its management socket */
    const char *dir;  /* a folder of the server's for save/load files */
    /* Learnt from the device once: region sizes, IRQ counts. */
    uint64_t region_size[9];
    uint32_t irq_count[5];
    uint32_t big_region; /* the largest, for floods of 4 KiB reads */
    bool learnt;
    /* Counts, for the test's log. */
    unsigned batches[CHAOS_NR_KINDS];
    unsigned long messages, replies;
    char err[256]; /* why a batch failed */
};

/* The seed: $VDEV_CHAOS_SEED (decimal or 0x...) or a fresh one. */
uint64_t chaos_seed(void);
void chaos_init(struct chaos *c, uint64_t seed, const char *sock,
                const char *mgmt, const char *dir);
const char *chaos_kind_name(enum chaos_kind k);
/* One batch of the given kind; 0, or -1 with c->err saying what the
 * server did wrong. Every connection it opened is closed on return. */
int chaos_batch(struct chaos *c, enum chaos_kind kind);
/* A random kind. */
enum chaos_kind chaos_pick(struct chaos *c);

#endif
