/* Cross-version migration between real servers built from two revisions
 * of one device (tests/migration/counter-v1.vdev, counter-v2.vdev; revision 2
 * adds a register and a variable `since 2` and raises the version):
 * 1 -> 2 migrates, the new fields holding their reset values; 2 -> 1 is
 * refused with the destination unchanged and still serving. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define COUNT 0x00
#define STEP 0x04
#define BUMP 0x08
#define LIMIT 0x0c

static struct model_server src, dst;

static void
teardown(void)
{
    model_server_stop(&src);
    model_server_stop(&dst);
}

TestSuite(mig_cross_version, .fini = teardown, .timeout = 60);

static void
start(struct model_server *s, unsigned rev)
{
    char rel[64];

    snprintf(rel, sizeof(rel), "tests/vdev-counter-v%u", rev);
    /* Destinations refuse streams on purpose: keep that quiet. */
    model_server_start_quiet(s, rel);
}

static uint32_t
rd(struct model_server *s, uint64_t off)
{
    return (uint32_t)model_rd(s, BAR0, off, 4);
}

static void
wr(struct model_server *s, uint64_t off, uint32_t v)
{
    model_wr(s, BAR0, off, 4, v);
}

static void
bump(struct model_server *s, unsigned times)
{
    while (times--)
        wr(s, BUMP, 1);
}

static uint8_t *
save(void *ctx, struct model_server *s, size_t *len)
{
    uint8_t *buf = NULL;
    int rc = vdev_client_mig_save(s->cl, ctx, &buf, len);

    cr_assert_eq(rc, 0, "save: %s", strerror(-rc));
    cr_assert_gt(*len, 0);
    return buf;
}

static void
run(struct model_server *s)
{
    cr_assert_eq(vdev_client_mig_set_state(s->cl, VFIO_DEVICE_STATE_RUNNING),
                 0);
}

Test(mig_cross_version, rev1_to_rev2_migrates)
{
    void *ctx = talloc_new(NULL);
    size_t len;
    uint8_t *stream;
    int rc;

    start(&src, 1);
    start(&dst, 2);
    wr(&src, STEP, 3);
    bump(&src, 4);
    cr_assert_eq(rd(&src, COUNT), 12);
    cr_assert_eq(model_get(&src, "state.bumps"), 4);

    /* The destination's own values, which the load must replace. */
    wr(&dst, COUNT, 99);
    wr(&dst, LIMIT, 1000);
    bump(&dst, 1);
    cr_assert_eq(model_get(&dst, "state.wraps"), 7);

    stream = save(ctx, &src, &len);
    rc = vdev_client_mig_load(dst.cl, stream, len);
    cr_assert_eq(rc, 0, "load: %s", strerror(-rc));
    run(&dst);

    /* Old fields carried, new ones at their reset values. */
    cr_assert_eq(rd(&dst, COUNT), 12);
    cr_assert_eq(rd(&dst, STEP), 3);
    cr_assert_eq(model_get(&dst, "state.bumps"), 4);
    cr_assert_eq(rd(&dst, LIMIT), 0x100, "reset value of limit");
    cr_assert_eq(model_get(&dst, "state.wraps"), 7, "reset value of wraps");

    /* Revision 2's behaviour works on the migrated state. */
    wr(&dst, LIMIT, 14);
    bump(&dst, 1);
    cr_assert_eq(rd(&dst, COUNT), 0, "15 passed the limit: wrapped");
    cr_assert_eq(model_get(&dst, "state.wraps"), 8);
    cr_assert_eq(model_get(&dst, "state.bumps"), 5);
    bump(&dst, 2);
    cr_assert_eq(rd(&dst, COUNT), 6);
    talloc_free(ctx);
}

Test(mig_cross_version, rev2_to_rev1_refused)
{
    void *ctx = talloc_new(NULL);
    size_t len, own_len;
    uint8_t *stream, *own;
    uint64_t bumps;
    int rc;

    start(&src, 2);
    start(&dst, 1);
    wr(&src, STEP, 5);
    bump(&src, 3);
    stream = save(ctx, &src, &len);

    wr(&dst, STEP, 2);
    bump(&dst, 7);
    cr_assert_eq(rd(&dst, COUNT), 14);
    bumps = model_get(&dst, "state.bumps");
    cr_assert_eq(bumps, 7);
    /* What the destination holds, to resume it afterwards. */
    own = save(ctx, &dst, &own_len);

    rc = vdev_client_mig_load(dst.cl, stream, len);
    cr_assert_eq(rc, -EPROTONOSUPPORT, "a newer state version: %s",
                 strerror(-rc));
    {
        uint32_t st;
        cr_assert_eq(vdev_client_mig_get_state(dst.cl, &st), 0);
        cr_assert_eq(st, VFIO_DEVICE_STATE_RESUMING, "stays resuming");
    }
    cr_assert_eq(model_get(&dst, "count"), 14, "unchanged");
    cr_assert_eq(model_get(&dst, "step"), 2);
    cr_assert_eq(model_get(&dst, "state.bumps"), bumps);

    /* Still serving: its own state goes back in and it runs on. */
    cr_assert_eq(vdev_client_mig_load(dst.cl, own, own_len), 0);
    run(&dst);
    cr_assert_eq(rd(&dst, COUNT), 14);
    bump(&dst, 1);
    cr_assert_eq(rd(&dst, COUNT), 16);
    cr_assert_eq(model_get(&dst, "state.bumps"), 8);
    /* And the source, told to run again, does too. */
    run(&src);
    bump(&src, 1);
    cr_assert_eq(rd(&src, COUNT), 20);
    cr_assert_eq(model_server_stop(&dst), 0, "clean exit");
    talloc_free(ctx);
}
