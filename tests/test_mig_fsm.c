/* Migration state machine: every direct and combined arc with the path it
 * takes, illegal targets refused with the state unchanged, ERROR only
 * entered as the spec allows and left by reset, generations exclusive. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mig_testdev.h"

enum {
    STOP = VFIO_DEVICE_STATE_STOP,
    RUNNING = VFIO_DEVICE_STATE_RUNNING,
    STOP_COPY = VFIO_DEVICE_STATE_STOP_COPY,
    RESUMING = VFIO_DEVICE_STATE_RESUMING,
    PRE_COPY = VFIO_DEVICE_STATE_PRE_COPY,
};

static const uint32_t states[] = {STOP, RUNNING, STOP_COPY, RESUMING, PRE_COPY};

static int
set(struct mt_dev *m, uint32_t s)
{
    return vdev_mig_set_state(m->dev, s, VDEV_MIG_V2);
}

/* A valid stream of this very device, as a destination would receive. */
static void
feed_own_stream(struct mt_dev *m)
{
    uint8_t *buf;
    size_t len;

    cr_assert_eq(vdev_mig_stream_save(m->dev, m, &buf, &len), 0);
    cr_assert_eq(vdev_mig_resume_append(m->dev, buf, len), 0);
    talloc_free(buf);
}

static void
reach(struct mt_dev *m, uint32_t s)
{
    if (s != RUNNING)
        cr_assert_eq(set(m, s), 0, "reach %u", s);
    if (s == RESUMING)
        feed_own_stream(m);
    cr_assert_eq(m->dev->mig->state, s);
    m->log[0] = 0;
}

/* The arcs logged since the log was cleared, as "A B C". */
static void
path(struct mt_dev *m, char *out, size_t cap)
{
    static const char tag[] = "migration: arc ";
    const char *p = m->log;

    out[0] = 0;
    while ((p = strstr(p, tag)) != NULL) {
        const char *to = strstr(p, "-> ") + 3, *end = strchr(to, '\n');
        size_t have = strlen(out);
        snprintf(out + have, cap - have, "%s%.*s", have ? " " : "",
                 (int)(end - to), to);
        p = end;
    }
}

static const char *
name(uint32_t s)
{
    switch (s) {
    case STOP:
        return "STOP";
    case RUNNING:
        return "RUNNING";
    case STOP_COPY:
        return "STOP_COPY";
    case RESUMING:
        return "RESUMING";
    case PRE_COPY:
        return "PRE_COPY";
    }
    return "?";
}

static const struct {
    uint32_t from, to;
    const char *path; /* NULL: refused */
} arcs[] = {
    {STOP, RUNNING, "RUNNING"},
    {STOP, STOP_COPY, "STOP_COPY"},
    {STOP, RESUMING, "RESUMING"},
    {STOP, PRE_COPY, "RUNNING PRE_COPY"},
    {RUNNING, STOP, "STOP"},
    {RUNNING, STOP_COPY, "STOP STOP_COPY"},
    {RUNNING, RESUMING, "STOP RESUMING"},
    {RUNNING, PRE_COPY, "PRE_COPY"},
    {STOP_COPY, STOP, "STOP"},
    {STOP_COPY, RUNNING, "STOP RUNNING"},
    {STOP_COPY, RESUMING, "STOP RESUMING"},
    {STOP_COPY, PRE_COPY, NULL},
    {RESUMING, STOP, "STOP"},
    {RESUMING, RUNNING, "STOP RUNNING"},
    {RESUMING, STOP_COPY, "STOP STOP_COPY"},
    {RESUMING, PRE_COPY, "STOP RUNNING PRE_COPY"},
    {PRE_COPY, RUNNING, "RUNNING"},
    {PRE_COPY, STOP, "RUNNING STOP"},
    {PRE_COPY, STOP_COPY, "STOP_COPY"},
    {PRE_COPY, RESUMING, "RUNNING STOP RESUMING"},
};

static void
check_invariants(struct mt_dev *m)
{
    struct vdev_migration *mig = m->dev->mig;
    uint32_t s = mig->state;

    cr_assert_eq(m->dev->running, s == RUNNING || s == PRE_COPY, "runs in %s",
                 name(s));
    if (s == STOP_COPY || s == PRE_COPY)
        cr_assert_gt(mig->out_len, 0, "no data in %s", name(s));
    else
        cr_assert_null(mig->out, "stale data in %s", name(s));
    if (s != RESUMING)
        cr_assert_null(mig->in);
}

Test(mig_fsm, every_arc_and_its_path)
{
    char got[128];

    for (unsigned i = 0; i < sizeof(arcs) / sizeof(arcs[0]); i++) {
        void *ctx = talloc_new(NULL);
        struct mt_dev *m = mt_create(ctx, 2, "mt");
        int rc;

        reach(m, arcs[i].from);
        rc = set(m, arcs[i].to);
        path(m, got, sizeof(got));
        if (!arcs[i].path) {
            cr_assert_eq(rc, -EINVAL, "%s -> %s", name(arcs[i].from),
                         name(arcs[i].to));
            cr_assert_eq(m->dev->mig->state, arcs[i].from);
            cr_assert_str_empty(got);
        } else {
            cr_assert_eq(rc, 0, "%s -> %s: %d", name(arcs[i].from),
                         name(arcs[i].to), rc);
            cr_assert_eq(m->dev->mig->state, arcs[i].to);
            cr_assert_str_eq(got, arcs[i].path, "%s -> %s went %s",
                             name(arcs[i].from), name(arcs[i].to), got);
        }
        check_invariants(m);
        talloc_free(ctx);
    }
}

Test(mig_fsm, same_state_is_a_no_op)
{
    for (unsigned i = 0; i < 5; i++) {
        void *ctx = talloc_new(NULL);
        struct mt_dev *m = mt_create(ctx, 2, "mt");
        char got[64];

        reach(m, states[i]);
        cr_assert_eq(set(m, states[i]), 0);
        path(m, got, sizeof(got));
        cr_assert_str_empty(got);
        cr_assert_eq(m->dev->mig->state, states[i]);
        talloc_free(ctx);
    }
}

Test(mig_fsm, illegal_targets_refused_state_unchanged)
{
    static const uint32_t bad[] = {
        VFIO_DEVICE_STATE_ERROR,
        VFIO_DEVICE_STATE_RUNNING_P2P,
        VFIO_DEVICE_STATE_PRE_COPY_P2P,
        8,
        100,
        0xffffffffu,
    };

    for (unsigned i = 0; i < 5; i++) {
        void *ctx = talloc_new(NULL);
        struct mt_dev *m = mt_create(ctx, 2, "mt");

        reach(m, states[i]);
        for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            char got[64];
            cr_assert_eq(set(m, bad[k]), -EINVAL);
            cr_assert_eq(m->dev->mig->state, states[i]);
            path(m, got, sizeof(got));
            cr_assert_str_empty(got);
        }
        check_invariants(m);
        talloc_free(ctx);
    }
}

Test(mig_fsm, error_only_left_by_reset)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");

    /* No protocol arc leads to ERROR in this runtime (every arc completes
     * or changes nothing); put the machine there to check its exits. */
    reach(m, STOP);
    m->dev->mig->state = VFIO_DEVICE_STATE_ERROR;
    for (unsigned i = 0; i < 5; i++) {
        cr_assert_eq(set(m, states[i]), -EINVAL);
        cr_assert_eq(m->dev->mig->state, VFIO_DEVICE_STATE_ERROR);
    }
    vdev_migration_reset(m->dev);
    cr_assert_eq(m->dev->mig->state, RUNNING);
    cr_assert(m->dev->running);
    cr_assert_eq(set(m, STOP), 0);
    talloc_free(ctx);
}

Test(mig_fsm, failed_arcs_never_enter_error)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");
    struct mt_state before;
    static const uint8_t junk[64] = {0x56, 0x44, 0x4d, 0x53};

    mt_fill(m, 4);
    before = m->st;
    /* Each target leaving RESUMING with bad data fails on the first step
     * (the load) and leaves the device RESUMING and unchanged. */
    for (unsigned i = 0; i < 5; i++) {
        if (states[i] == RESUMING)
            continue;
        cr_assert_eq(set(m, RESUMING), 0);
        cr_assert_eq(vdev_mig_resume_append(m->dev, junk, sizeof(junk)), 0);
        cr_assert_lt(set(m, states[i]), 0);
        cr_assert_eq(m->dev->mig->state, RESUMING);
        cr_assert(memcmp(&before, &m->st, sizeof(before)) == 0);
        cr_assert_null(m->dev->mig->in, "bad data is dropped");
        /* Nothing written at all: also refused. */
        cr_assert_lt(set(m, STOP), 0);
        cr_assert_eq(m->dev->mig->state, RESUMING);
        feed_own_stream(m);
        cr_assert_eq(set(m, RUNNING), 0);
    }
    talloc_free(ctx);
}

Test(mig_fsm, reset_returns_to_running_from_every_state)
{
    for (unsigned i = 0; i < 5; i++) {
        void *ctx = talloc_new(NULL);
        struct mt_dev *m = mt_create(ctx, 2, "mt");

        reach(m, states[i]);
        vdev_migration_reset(m->dev);
        cr_assert_eq(m->dev->mig->state, RUNNING);
        cr_assert_eq(m->dev->mig->gen, VDEV_MIG_NONE);
        check_invariants(m);
        talloc_free(ctx);
    }
    vdev_migration_reset(NULL); /* devices without migration: no-op */
}

Test(mig_fsm, precopy_then_stopcopy_stream)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    struct vdev_migration *mig = src->dev->mig;
    uint8_t part[100];
    size_t n;

    mt_fill(src, 1);
    cr_assert_eq(set(src, PRE_COPY), 0);
    /* The destination gets some pre-copy bytes, the device keeps running
     * and changes, then stop-and-copy carries the rest and the final state. */
    n = vdev_mig_take(mig, part, sizeof(part));
    cr_assert_eq(n, sizeof(part));
    cr_assert_eq(set(dst, RESUMING), 0);
    cr_assert_eq(vdev_mig_resume_append(dst->dev, part, n), 0);
    mt_fill(src, 2);
    cr_assert_eq(set(src, STOP_COPY), 0);
    for (;;) {
        uint8_t chunk[333];
        n = vdev_mig_take(mig, chunk, sizeof(chunk));
        if (!n)
            break;
        cr_assert_eq(vdev_mig_resume_append(dst->dev, chunk, n), 0);
    }
    cr_assert_eq(set(dst, STOP), 0);
    cr_assert(memcmp(&src->st, &dst->st, sizeof(src->st)) == 0);
    cr_assert_eq(set(src, STOP), 0);
    cr_assert_null(mig->out);
    talloc_free(ctx);
}

Test(mig_fsm, generations_are_exclusive)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *m = mt_create(ctx, 2, "mt");

    cr_assert_eq(vdev_mig_set_state(m->dev, STOP, VDEV_MIG_V2), 0);
    cr_assert_eq(vdev_mig_set_state(m->dev, RUNNING, VDEV_MIG_V1), -EBUSY);
    cr_assert_eq(m->dev->mig->state, STOP);
    cr_assert_eq(vdev_mig_set_state(m->dev, RUNNING, VDEV_MIG_V2), 0);
    /* Back to RUNNING: the session is over, the other one may start. */
    cr_assert_eq(vdev_mig_set_state(m->dev, STOP, VDEV_MIG_V1), 0);
    cr_assert_eq(vdev_mig_set_state(m->dev, RUNNING, VDEV_MIG_V2), -EBUSY);
    talloc_free(ctx);
}

Test(mig_fsm, no_migration_device)
{
    void *ctx = talloc_new(NULL);
    static const struct vdev_pci_ident ident = {.vendor_id = 1};
    struct vdev_dev *dev = vdev_dev_create(ctx, "plain", &ident);

    cr_assert(dev->running);
    cr_assert_eq(vdev_mig_set_state(dev, STOP, VDEV_MIG_V2), -ENOTSUP);
    vdev_migration_reset(dev);
    talloc_free(ctx);
}
