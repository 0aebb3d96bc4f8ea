/* The record format of fuzz/fuzz_server.c (see msgseq.h): reading records
 * from any bytes, and writing them back. */
#include <string.h>

#include "msgseq.h"

bool
msgseq_next(const uint8_t **p, size_t *n, struct msgseq_rec *r)
{
    const uint8_t *q = *p;
    size_t left = *n, k;

    if (left < MSGSEQ_REC_HDR)
        return false;
    r->op = q[0];
    r->nfds = q[1];
    r->flags = q[2];
    r->adj = (int8_t)q[3];
    r->cmd = (uint16_t)(q[4] | q[5] << 8);
    r->len = (uint16_t)(q[6] | q[7] << 8);
    q += MSGSEQ_REC_HDR;
    left -= MSGSEQ_REC_HDR;
    k = r->nfds & MSGSEQ_MAX_FDS;
    if (k > left)
        k = left;
    r->nfds = (uint8_t)((r->nfds & ~MSGSEQ_MAX_FDS) | k);
    r->kinds = q;
    q += k;
    left -= k;
    r->blen = r->len < left ? r->len : left;
    r->body = q;
    *p = q + r->blen;
    *n = left - r->blen;
    return true;
}

size_t
msgseq_put(uint8_t *out, size_t cap, const struct msgseq_rec *r)
{
    size_t k = r->nfds & MSGSEQ_MAX_FDS;
    size_t need = MSGSEQ_REC_HDR + k + r->blen;

    if (need > cap)
        return 0;
    out[0] = r->op;
    out[1] = r->nfds;
    out[2] = r->flags;
    out[3] = (uint8_t)r->adj;
    out[4] = (uint8_t)r->cmd;
    out[5] = (uint8_t)(r->cmd >> 8);
    out[6] = (uint8_t)r->blen;
    out[7] = (uint8_t)(r->blen >> 8);
    memcpy(out + MSGSEQ_REC_HDR, r->kinds, k);
    memcpy(out + MSGSEQ_REC_HDR + k, r->body, r->blen);
    return need;
}
