/* Differential protocol checks: the same client message sequences sent to
 * our GPIO server and to libvfio-user's gpio sample (../shared/peers), the
 * meaningful parts of the replies recorded per step and compared. */
#ifndef KDIFF_H
#define KDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Which server a sequence runs against. */
enum kd_target {
    KD_OURS = 0,
    KD_PEER_V2 = 1, /* libvfio-user master: migration v2 */
    KD_PEER_V1 = 2, /* libvfio-user 2023: legacy migration */
};
#define KD_GEN_V2 (1u << KD_PEER_V2)
#define KD_GEN_V1 (1u << KD_PEER_V1)
#define KD_GEN_ALL (KD_GEN_V2 | KD_GEN_V1)

/* What two observations of a step must agree on. */
#define KD_ST 0x1u  /* success, or the errno, or a closed connection */
#define KD_LEN 0x2u /* reply payload length */
#define KD_EV 0x4u  /* events counted on the step's eventfd */
#define KD_F1 0x8u  /* the payload bytes [f_off, f_off + f_len) */
#define KD_F2 0x10u /* a second range [g_off, g_off + g_len) */

#define KD_CLOSED (-1) /* status: no reply, the server hung up */
#define KD_DATA_MAX 64

struct kd_obs {
    char step[48];
    unsigned cmp;
    uint8_t f_off, f_len, g_off, g_len;
    int status; /* 0, an errno, or KD_CLOSED */
    uint32_t len;
    uint8_t data[KD_DATA_MAX];
    uint64_t events;
};

#define KD_MAX_STEPS 48

/* One run of a sequence against one server. */
struct kd_run {
    enum kd_target target;
    int fd;
    bool closed;
    uint16_t next_id;
    unsigned nr;
    struct kd_obs obs[KD_MAX_STEPS];
    uint64_t bar2_size; /* learnt by kd_learn_bar2() */
};

/* A message a step sends; fds are sent, then closed here. */
struct kd_msg {
    uint16_t cmd;
    uint32_t flags;
    const void *payload;
    size_t len;
    int fds[4];
    unsigned nr_fds;
    int watch_fd; /* an eventfd read after the reply (-1: none) */
};

struct kd_seq {
    const char *name;
    unsigned gens; /* peers it is compared against (KD_GEN_*) */
    bool negotiate;
    void (*run)(struct kd_run *r);
};

struct kd_expect {
    unsigned gens;
    const char *what; /* "sequence/step" */
    const char *reason;
};

/* Sends m and records the reply under step with the comparison mask cmp.
 * Returns the observation (its data holds the payload's first bytes). */
const struct kd_obs *kd_step(struct kd_run *r, const char *step, unsigned cmp,
                             const struct kd_msg *m);
/* kd_step with a plain payload and no fds. */
const struct kd_obs *kd_call(struct kd_run *r, const char *step, unsigned cmp,
                             uint16_t cmd, const void *payload, size_t len);
/* Sets the payload byte range the KD_F1 / KD_F2 bits of the last step
 * compare. */
void kd_fields(struct kd_run *r, uint8_t off, uint8_t len, uint8_t off2,
               uint8_t len2);
/* Sends without waiting for a reply (No_reply messages). */
void kd_send(struct kd_run *r, uint16_t cmd, uint32_t flags,
             const void *payload, size_t len);
/* VERSION with the given JSON (NULL: none), recorded as step. */
const struct kd_obs *kd_version(struct kd_run *r, const char *step,
                                unsigned cmp, uint16_t major, uint16_t minor,
                                const char *json);
/* Asks GET_REGION_INFO for BAR2 (unrecorded) and keeps its size. */
void kd_learn_bar2(struct kd_run *r);
/* A fresh nonblocking eventfd. */
int kd_eventfd(void);

/* The folder holding the peers ($VDEV_PEERS, else ../shared/peers), and
 * whether the gpio sample of a generation is there. */
const char *kd_peers_dir(void);
bool kd_peer_present(enum kd_target t);

/* Runs seq against target on a freshly started server; returns 0, or -1
 * when the server did not come up (the reason is printed). */
int kd_run_seq(const struct kd_seq *seq, enum kd_target t, struct kd_run *out);

/* Compares two runs step by step; prints and counts each disagreement not
 * in the expected list (for this generation) and marks the expected ones
 * met in seen[]. Returns the number of unexpected disagreements. */
unsigned kd_compare(const struct kd_seq *seq, const struct kd_run *ours,
                    const struct kd_run *peer, unsigned gen,
                    const struct kd_expect *exp, unsigned nr_exp, bool *seen);

#endif /* KDIFF_H */
