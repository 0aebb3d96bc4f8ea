/* libFuzzer's custom mutator and cross-over for fuzz/fuzz_server.c: edits
 * an input as the record sequence it is (fuzz/msgseq.h): inserts records
 * built from per-command templates, deletes, duplicates and swaps them,
 * changes a command, its flags, its fds or its framing, sets a field to a
 * value handlers test, and mutates bodies with libFuzzer's own mutator;
 * now and then a raw byte mutation of the whole input, so that what the
 * format cannot say is still tried. Sizes are built by the harness, so
 * most mutants stay well framed. */
#include <stdlib.h>
#include <string.h>

#include "msgseq.h"
#include "vdev_proto.h"

#define MAX_RECS 128
#define MAX_BODY 4096 /* bodies grow up to this through mutations */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                               unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
                                 const uint8_t *data2, size_t size2,
                                 uint8_t *out, size_t max_out_size,
                                 unsigned int seed);

/* A record that owns its fds and body. */
struct rec {
    struct msgseq_rec r;
    uint8_t kinds[MSGSEQ_MAX_FDS];
    uint8_t body[MAX_BODY];
};

struct seq {
    uint8_t mode;
    unsigned n;
    struct rec recs[MAX_RECS];
};

static uint64_t rng;

static unsigned
rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? (unsigned)(rng % n) : 0;
}

/* ------------------------------------------------------------ records */

static void
rec_set(struct rec *d, const struct msgseq_rec *r)
{
    size_t k = r->nfds & MSGSEQ_MAX_FDS;

    d->r = *r;
    d->r.blen = r->blen < MAX_BODY ? r->blen : MAX_BODY;
    d->r.len = (uint16_t)d->r.blen;
    memcpy(d->kinds, r->kinds, k);
    memcpy(d->body, r->body, d->r.blen);
    d->r.kinds = d->kinds;
    d->r.body = d->body;
}

static void
seq_read(struct seq *q, const uint8_t *p, size_t n)
{
    struct msgseq_rec r;

    q->n = 0;
    q->mode = n ? p[0] : 0x05;
    if (n) {
        p++;
        n--;
    }
    while (q->n < MAX_RECS && msgseq_next(&p, &n, &r))
        rec_set(&q->recs[q->n++], &r);
}

static size_t
seq_write(struct seq *q, uint8_t *out, size_t cap)
{
    size_t off = 1;

    if (!cap)
        return 0;
    out[0] = q->mode;
    for (unsigned i = 0; i < q->n; i++) {
        size_t w;

        q->recs[i].r.kinds = q->recs[i].kinds;
        q->recs[i].r.body = q->recs[i].body;
        w = msgseq_put(out + off, cap - off, &q->recs[i].r);
        if (!w)
            break; /* what does not fit is dropped */
        off += w;
    }
    return off;
}

/* ------------------------------------------------------------ values */

static const uint64_t interesting[] = {
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    0x10,
    0x20,
    0x24,
    0x40,
    0x60,
    0x64,
    0x80,
    0x88,
    0x90,
    0x98,
    0xff,
    0x100,
    0xfff,
    0x1000,
    0x1001,
    0x4000,
    0x40000,
    0x10000,
    0x100000,
    0x200000,
    0xfffff,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    0x100000000ull,
    0xfffffffffffff000ull,
    0xffffffffffffffffull,
};

static uint64_t
pick_value(void)
{
    uint64_t v = interesting[rnd(sizeof(interesting) / sizeof(*interesting))];

    switch (rnd(8)) {
    case 0:
        return v - 1;
    case 1:
        return v + 1;
    default:
        return v;
    }
}

static void
put(uint8_t *p, size_t off, unsigned width, uint64_t v)
{
    memcpy(p + off, &v, width); /* little-endian hosts only, as vdev */
}

/* ------------------------------------------------------------ templates */

static const char *const versions[] = {
    ("{\"capabilities\":{\"max_msg_fds\":16,\"max_data_xfer_size\":65536,"
     "\"write_multiple\":true}}"),
    "{\"capabilities\":{\"twin_socket\":{\"supported\":true}}}",
    "{\"capabilities\":{\"migration\":{\"pgsize\":4096},\"max_msg_fds\":4}}",
    "{\"capabilities\":{\"pgsizes\":4096,\"max_dma_maps\":1}}",
    "{\"capabilities\":{\"max_data_xfer_size\":0}}",
    "{}",
    "",
};

/* A plausible body for cmd at b; returns its length and may set fds. */
static size_t
template_body(struct rec *d, unsigned cmd)
{
    uint8_t *b = d->body;
    size_t len = 0;

    memset(b, 0, 256);
    switch (cmd) {
    case VFIO_USER_VERSION: {
        const char *j = versions[rnd(sizeof(versions) / sizeof(*versions))];

        put(b, 0, 2, 0);
        put(b, 2, 2, rnd(3));
        len = 4 + strlen(j) + rnd(2);
        memcpy(b + 4, j, strlen(j));
        break;
    }
    case VFIO_USER_DMA_MAP:
        put(b, 0, 4, 32);
        put(b, 4, 4, rnd(4));
        put(b, 8, 8, rnd(4) ? 0 : pick_value());
        put(b, 16, 8, rnd(2) ? 0x100000 : pick_value());
        put(b, 24, 8, rnd(2) ? 0x1000 << rnd(5) : pick_value());
        if (rnd(3)) {
            d->r.nfds = 1;
            d->kinds[0] = rnd(4) ? 10 + rnd(2) : rnd(256);
        }
        len = 32;
        break;
    case VFIO_USER_DMA_UNMAP:
        put(b, 0, 4, 24);
        put(b, 4, 4, rnd(4) ? 0 : rnd(4));
        put(b, 8, 8, rnd(2) ? 0x100000 : pick_value());
        put(b, 16, 8, rnd(2) ? 0x1000 << rnd(5) : pick_value());
        len = 24;
        if (rnd(6) == 0) {
            put(b, 24, 8, 4096);
            put(b, 32, 4, 0);
            put(b, 36, 4, 8);
            len = 48;
        }
        break;
    case VFIO_USER_DEVICE_GET_INFO:
        put(b, 0, 4, 16);
        len = 16;
        break;
    case VFIO_USER_DEVICE_GET_REGION_INFO:
        put(b, 0, 4, rnd(2) ? 32 : 32 + 64 * rnd(4));
        put(b, 8, 4, rnd(12));
        len = 32;
        break;
    case VFIO_USER_DEVICE_GET_REGION_IO_FDS:
    case VFIO_USER_DEVICE_GET_IRQ_INFO:
        put(b, 0, 4, 16);
        put(b, 8, 4, rnd(10));
        len = 16;
        break;
    case VFIO_USER_DEVICE_SET_IRQS: {
        static const uint32_t data[] = {1, 2, 4}, action[] = {8, 16, 32};
        uint32_t df = data[rnd(3)], count = 1 + rnd(2);

        put(b, 4, 4, df | action[rnd(3)]);
        put(b, 8, 4, rnd(5));
        put(b, 12, 4, rnd(3));
        put(b, 16, 4, rnd(8) ? count : 0);
        len = 20;
        if (df == 2) {
            memset(b + 20, 1, count);
            len += count;
        } else if (df == 4) {
            d->r.nfds = (uint8_t)count;
            for (unsigned i = 0; i < count; i++)
                d->kinds[i] = rnd(2) ? 0 : rnd(16);
        }
        put(b, 0, 4, len);
        break;
    }
    case VFIO_USER_REGION_READ:
    case VFIO_USER_REGION_WRITE: {
        static const uint32_t counts[] = {1, 2, 4, 8, 3, 16, 256, 4096};
        uint32_t count = counts[rnd(8)];

        put(b, 0, 8, rnd(2) ? interesting[rnd(18)] : pick_value());
        put(b, 8, 4, rnd(8) ? rnd(10) : (uint32_t)pick_value());
        put(b, 12, 4, count);
        len = 16;
        if (cmd == VFIO_USER_REGION_WRITE) {
            for (uint32_t i = 0; i < count && 16 + i < MAX_BODY; i++)
                b[16 + i] = (uint8_t)rnd(256);
            len = 16 + (count < MAX_BODY - 16 ? count : MAX_BODY - 16);
        }
        break;
    }
    case VFIO_USER_DIRTY_PAGES:
        put(b, 0, 4, 8);
        put(b, 4, 4, 1u << rnd(3));
        len = 8;
        if (rnd(2)) {
            put(b, 0, 4, 40);
            put(b, 4, 4, 4);
            put(b, 8, 8, 0x100000);
            put(b, 16, 8, 0x1000 << rnd(4));
            put(b, 24, 8, 4096);
            put(b, 32, 8, 8);
            len = 40;
        }
        break;
    case VFIO_USER_REGION_WRITE_MULTI: {
        unsigned n = 1 + rnd(3);

        put(b, 0, 8, n);
        for (unsigned i = 0; i < n; i++) {
            put(b, 8 + 24 * i, 8, interesting[rnd(18)]);
            put(b, 16 + 24 * i, 4, rnd(8));
            put(b, 20 + 24 * i, 4, 1u << rnd(4));
            put(b, 24 + 24 * i, 8, pick_value());
        }
        len = 8 + 24 * n;
        break;
    }
    case VFIO_USER_DEVICE_FEATURE: {
        static const uint32_t ops[] = {1 << 16, 2 << 16, 4 << 16};
        uint32_t feat = rnd(10);

        put(b, 4, 4, ops[rnd(3)] | feat);
        len = 8;
        if (feat == 2) {
            put(b, 8, 4, rnd(8)); /* a migration state */
            put(b, 12, 4, (uint32_t)-1);
            len = 16;
        } else if (feat == 6) {
            put(b, 8, 8, 4096);
            put(b, 16, 4, 1);
            put(b, 24, 8, 0x100000);
            put(b, 32, 8, 0x1000 << rnd(4));
            len = 40;
        } else if (feat == 8) {
            put(b, 8, 8, 0x100000);
            put(b, 16, 8, 0x1000 << rnd(4));
            put(b, 24, 8, 4096);
            len = 32;
        } else if (feat == 1) {
            len = 16;
        }
        put(b, 0, 4, len);
        break;
    }
    case VFIO_USER_MIG_DATA_READ:
        put(b, 0, 4, 8);
        put(b, 4, 4, rnd(2) ? 65536 : (uint32_t)pick_value());
        len = 8;
        break;
    case VFIO_USER_MIG_DATA_WRITE: {
        uint32_t n = rnd(64);

        put(b, 0, 4, 8 + n);
        put(b, 4, 4, n);
        memcpy(b + 8, "VDMS", n < 4 ? n : 4);
        len = 8 + n;
        break;
    }
    default:
        len = rnd(32);
        for (size_t i = 0; i < len; i++)
            b[i] = (uint8_t)rnd(256);
        break;
    }
    return len;
}

static void
make_message(struct rec *d)
{
    unsigned cmd = rnd(16) ? 1 + rnd(VFIO_USER_MAX_COMMAND - 1) : rnd(65536);

    memset(&d->r, 0, sizeof(d->r));
    d->r.op = MSGSEQ_MSG;
    d->r.cmd = (uint16_t)cmd;
    d->r.blen = template_body(d, cmd);
    d->r.len = (uint16_t)d->r.blen;
}

static void
make_control(struct rec *d)
{
    memset(&d->r, 0, sizeof(d->r));
    d->r.op = MSGSEQ_CTL;
    d->r.cmd = (uint16_t)rnd(MSGSEQ_CTL_NR);
    d->r.flags =
        (uint8_t)rnd(d->r.cmd == MSGSEQ_CTL_WINDOW ? 256 : MSGSEQ_ANS_NR);
    d->r.blen = rnd(3) ? 0 : 1 + rnd(16);
    for (size_t i = 0; i < d->r.blen; i++)
        d->body[i] = (uint8_t)rnd(256);
    if (d->r.cmd == MSGSEQ_CTL_WINDOW && rnd(2)) {
        put(d->body, 0, 4, rnd(2) ? 0xffffffffu : rnd(1 << 20));
        d->r.blen = 4;
    }
    if (d->r.cmd == MSGSEQ_CTL_CLOCK && rnd(2)) {
        /* up to a second, or past the end of device time */
        put(d->body, 0, 8, rnd(8) ? rnd(1u << 30) : ~0ull - rnd(1u << 20));
        d->r.blen = 8;
    }
    d->r.len = (uint16_t)d->r.blen;
}

/* ------------------------------------------------------------ mutations */

static void
insert_at(struct seq *q, unsigned at)
{
    memmove(&q->recs[at + 1], &q->recs[at], (q->n - at) * sizeof(q->recs[0]));
    q->n++;
}

static void
set_field(struct rec *d)
{
    static const unsigned widths[] = {1, 2, 4, 8};
    unsigned w = widths[rnd(4)];
    size_t off;

    if (d->r.blen < w)
        return;
    off = rnd((unsigned)(d->r.blen - w + 1));
    if (rnd(4)) /* fields are aligned, mostly */
        off &= ~(size_t)(w - 1);
    put(d->body, off, w, pick_value());
}

static void
mutate_body(struct rec *d)
{
    size_t n = LLVMFuzzerMutate(d->body, d->r.blen, MAX_BODY);

    d->r.blen = n;
    d->r.len = (uint16_t)n;
}

static void
mutate_fds(struct rec *d)
{
    unsigned n = d->r.nfds & MSGSEQ_MAX_FDS;

    switch (rnd(3)) {
    case 0:
        if (n < MSGSEQ_MAX_FDS)
            d->kinds[n++] = (uint8_t)rnd(16);
        break;
    case 1:
        if (n)
            n--;
        break;
    default:
        if (n)
            d->kinds[rnd(n)] = (uint8_t)rnd(16);
        break;
    }
    if (rnd(32) == 0)
        n = 17 + rnd(MSGSEQ_MAX_FDS - 16); /* over the server's limit */
    for (unsigned i = d->r.nfds & MSGSEQ_MAX_FDS; i < n; i++)
        d->kinds[i] = (uint8_t)rnd(16);
    d->r.nfds = (uint8_t)n;
}

static void
mutate_framing(struct rec *d)
{
    static const uint8_t bits[] = {MSGSEQ_HOLD, MSGSEQ_SPLIT, MSGSEQ_SIZE,
                                   MSGSEQ_BIG, MSGSEQ_ID};

    if (rnd(8) == 0)
        d->r.op = (uint8_t)((d->r.op & ~3u) | rnd(4));
    else
        d->r.op ^= bits[rnd(5)];
    if (rnd(2))
        d->r.adj = (int8_t)rnd(256);
}

static void
mutate_one(struct seq *q)
{
    unsigned i = q->n ? rnd(q->n) : 0;
    struct rec *d = q->n ? &q->recs[i] : NULL;

    switch (rnd(14)) {
    case 0: /* insert a message */
    case 1:
        if (q->n < MAX_RECS) {
            unsigned at = rnd(q->n + 1);

            insert_at(q, at);
            make_message(&q->recs[at]);
        }
        break;
    case 2:
        if (q->n < MAX_RECS) {
            unsigned at = rnd(q->n + 1);

            insert_at(q, at);
            make_control(&q->recs[at]);
        }
        break;
    case 3: /* delete */
        if (q->n) {
            memmove(&q->recs[i], &q->recs[i + 1],
                    (q->n - i - 1) * sizeof(q->recs[0]));
            q->n--;
        }
        break;
    case 4: /* duplicate */
        if (q->n && q->n < MAX_RECS) {
            unsigned at = rnd(q->n + 1);

            insert_at(q, at);
            if (i >= at)
                i++;
            q->recs[at] = q->recs[i];
        }
        break;
    case 5: /* swap */
        if (q->n > 1) {
            unsigned j = rnd(q->n);
            struct rec t = q->recs[i];

            q->recs[i] = q->recs[j];
            q->recs[j] = t;
        }
        break;
    case 6: /* another command, the same body */
        if (d)
            d->r.cmd = (uint16_t)(rnd(16) ? 1 + rnd(VFIO_USER_MAX_COMMAND - 1)
                                          : rnd(65536));
        break;
    case 7: /* header flags: no-reply mostly, any bit now and then */
        if (d)
            d->r.flags ^= rnd(4) ? VFIO_USER_F_NO_REPLY : 1u << rnd(8);
        break;
    case 8:
        if (d)
            mutate_fds(d);
        break;
    case 9:
        if (d)
            mutate_framing(d);
        break;
    case 10:
        if (d)
            set_field(d);
        break;
    case 11:
        q->mode ^= (uint8_t)(1u << rnd(8));
        break;
    default:
        if (d)
            mutate_body(d);
        break;
    }
}

static struct seq seq_a, seq_b;

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
                        unsigned int seed)
{
    rng = seed * 0x9e3779b97f4a7c15ull + 1;
    /* Raw bytes now and then: what records cannot express. */
    if (rnd(10) == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    seq_read(&seq_a, data, size);
    for (unsigned k = 1 + rnd(3); k; k--)
        mutate_one(&seq_a);
    return seq_write(&seq_a, data, max_size);
}

/* A prefix of one session, then a suffix of the other. */
size_t
LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1,
                          const uint8_t *data2, size_t size2, uint8_t *out,
                          size_t max_out_size, unsigned int seed)
{
    unsigned a, b;

    rng = seed * 0x9e3779b97f4a7c15ull + 7;
    seq_read(&seq_a, data1, size1);
    seq_read(&seq_b, data2, size2);
    a = rnd(seq_a.n + 1);
    b = rnd(seq_b.n + 1);
    for (unsigned i = b; i < seq_b.n && a < MAX_RECS; i++)
        seq_a.recs[a++] = seq_b.recs[i];
    seq_a.n = a;
    return seq_write(&seq_a, out, max_out_size);
}
