/* The input format of fuzz/fuzz_server.c: a client session as a sequence
 * of records, each a message (command, header flags, body, the kinds of
 * fds it carries and how it is cut into sends), raw bytes, or a control
 * step. The harness builds each message's header itself, so most inputs
 * are well framed; the mutator (msgseq_mutate.c) edits records. All
 * numbers are little-endian.
 *
 *   input  = mode record*
 *   mode   = u8: bits 0-1 and 7 the model (0 edu, 1 gpio, 2 ivshmem,
 *            3 the tests' testdev with every capability, 4 pci-serial, 5
 *            i6300esb; 6 and 7 edu and gpio again); bit 2 a valid VERSION
 *            first (write_multiple, 16 fds); bit 3 ...offering a twin
 *            socket; bit 4 QEMU's DMA_READ/WRITE layout (else the server
 *            finds out: AUTO); bit 5 (without bit 2) start negotiated, as
 *            after such a VERSION, without one; bit 6 the first answer to
 *            the server's requests (enum msgseq_answer: ok or error; the
 *            others through a MSGSEQ_CTL_ANSWER record)
 *   record = op u8, nfds u8, flags u8, adj i8, cmd u16, len u16,
 *            fd kinds u8[nfds & 31], body u8[len]
 *
 * A truncated record keeps what is there. */
#ifndef VDEV_FUZZ_MSGSEQ_H
#define VDEV_FUZZ_MSGSEQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSGSEQ_REC_HDR 8u
#define MSGSEQ_MAX_FDS 31u

/* op bits 0-1: what the record is. */
enum msgseq_kind {
    MSGSEQ_MSG = 0, /* header built here: msg_id, cmd, size, flags */
    MSGSEQ_RAW = 1, /* the body as it is, no header */
    MSGSEQ_CTL = 2, /* a control step: cmd is enum msgseq_ctl */
    MSGSEQ_MSG2 = 3 /* a message too (so that most records are) */
};
/* op bits 2-7. */
#define MSGSEQ_HOLD 0x04u  /* queued, served with the next record */
#define MSGSEQ_SPLIT 0x08u /* cut in two sends, fds on the first */
#define MSGSEQ_SIZE 0x10u  /* msg_size off by adj */
#define MSGSEQ_BIG 0x20u   /* body repeated to len * 16 bytes */
#define MSGSEQ_ID 0x40u    /* msg_id is adj, not the running count */

enum msgseq_ctl {
    MSGSEQ_CTL_ANSWER = 0,    /* flags: how requests are answered from now */
    MSGSEQ_CTL_RECONNECT = 1, /* the client goes, a new one comes */
    MSGSEQ_CTL_EOF = 2,       /* the client shuts down its sending side */
    MSGSEQ_CTL_WINDOW = 3,    /* the client reads only so much more: the
                               * body's u32 (none: flags * 256; ~0: all) */
    MSGSEQ_CTL_CLOCK = 4,     /* device time moves on by the body's u64 ns
                               * (none: flags * 16 us); timers fire */
    MSGSEQ_CTL_NR
};

/* How the client answers the server's requests (DMA_READ/WRITE). */
enum msgseq_answer {
    MSGSEQ_ANS_OK = 0,     /* the right reply, data from the body */
    MSGSEQ_ANS_ERROR,      /* an error reply */
    MSGSEQ_ANS_NONE,       /* no answer */
    MSGSEQ_ANS_SHORT,      /* a reply a byte short */
    MSGSEQ_ANS_STALE,      /* a reply to an earlier id first */
    MSGSEQ_ANS_WRONG_CMD,  /* the right id, another command */
    MSGSEQ_ANS_SPLIT,      /* the right reply in two sends */
    MSGSEQ_ANS_INTERLEAVE, /* a command of ours first, then the reply */
    MSGSEQ_ANS_NR
};

struct msgseq_rec {
    uint8_t op, nfds, flags;
    int8_t adj;
    uint16_t cmd, len;
    const uint8_t *kinds; /* nfds & MSGSEQ_MAX_FDS of them */
    const uint8_t *body;  /* len bytes (fewer if truncated: see blen) */
    size_t blen;
};

static inline unsigned
msgseq_kind(const struct msgseq_rec *r)
{
    return r->op & 3u;
}

static inline bool
msgseq_is_msg(const struct msgseq_rec *r)
{
    unsigned k = r->op & 3u;

    return k == MSGSEQ_MSG || k == MSGSEQ_MSG2;
}

/* Reads the next record at *p (n bytes left), advancing both; false at
 * the end. */
bool msgseq_next(const uint8_t **p, size_t *n, struct msgseq_rec *r);
/* Writes r (with blen bytes of body) at out; returns its size, or 0 when
 * cap is too small. */
size_t msgseq_put(uint8_t *out, size_t cap, const struct msgseq_rec *r);

#endif
