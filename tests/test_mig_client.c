/* Client migration helpers (vdevctl save/load) against the migration
 * handlers, served over a socketpair by a small loop in a thread. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dma_fixture.h"
#include "mig_testdev.h"
#include "rawsock.h"
#include "vdev_client.h"

struct mini {
    struct mt_dev *m;
    int fd;
    pthread_t thread;
};

/* Serves the three migration commands until the client hangs up. */
static void *
mini_serve(void *arg)
{
    struct mini *s = arg;
    struct vdev_conn *c = fixture_conn(s->m->dev);
    struct raw_reply in;

    c->negotiated = true;
    while (raw_recv(s->fd, &in) == 0) {
        struct vdev_msg msg = {&in.hdr, in.payload, in.len, NULL, 0};
        struct vdev_reply r = {0};
        vdev_handler_fn *fn = NULL;
        int rc;

        switch (in.hdr.cmd) {
        case VFIO_USER_DEVICE_FEATURE:
            fn = vdev_handle_device_feature;
            break;
        case VFIO_USER_MIG_DATA_READ:
            fn = vdev_handle_mig_data_read;
            break;
        case VFIO_USER_MIG_DATA_WRITE:
            fn = vdev_handle_mig_data_write;
            break;
        }
        rc = fn ? fn(c, &msg, &r) : -ENOSYS;
        struct vfio_user_header h = {
            .msg_id = in.hdr.msg_id,
            .cmd = in.hdr.cmd,
            .msg_size = 16 + (rc ? 0 : r.len),
            .flags = VFIO_USER_F_TYPE_REPLY | (rc ? VFIO_USER_F_ERROR : 0),
            .error_no = rc ? (uint32_t)-rc : 0,
        };
        uint8_t *out = malloc(h.msg_size);
        memcpy(out, &h, 16);
        if (!rc && r.len)
            memcpy(out + 16, r.payload, r.len);
        raw_send(s->fd, out, h.msg_size, NULL, 0);
        free(out);
        raw_reply_free(&in);
    }
    return NULL;
}

static struct vdev_client *
mini_start(void *ctx, struct mini *s, struct mt_dev *m)
{
    int sv[2];
    struct vdev_client *cl;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    s->m = m;
    s->fd = sv[1];
    cr_assert_eq(pthread_create(&s->thread, NULL, mini_serve, s), 0);
    cr_assert_eq(vdev_client_from_fd(ctx, sv[0], &cl), 0);
    return cl;
}

static void
mini_stop(struct mini *s, struct vdev_client *cl)
{
    vdev_client_close(cl);
    pthread_join(s->thread, NULL);
    close(s->fd);
}

Test(mig_client, save_and_load_through_messages)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 1, "mt"),
                  *dst = mt_create(ctx, 2, "mt");
    struct mini ss, sd;
    struct vdev_client *cs, *cd;
    uint8_t *buf;
    size_t len;
    uint32_t st;

    mt_fill(src, 5);
    mt_fill(dst, 1);
    cs = mini_start(ctx, &ss, src);
    cr_assert_eq(vdev_client_mig_get_state(cs, &st), 0);
    cr_assert_eq(st, VFIO_DEVICE_STATE_RUNNING);
    cr_assert_eq(vdev_client_mig_save(cs, ctx, &buf, &len), 0);
    cr_assert_eq(len, vdev_mig_stream_bound(src->dev));
    cr_assert_eq(vdev_client_mig_get_state(cs, &st), 0);
    cr_assert_eq(st, VFIO_DEVICE_STATE_STOP, "save leaves the device stopped");
    cr_assert_eq(vdev_client_mig_set_state(cs, VFIO_DEVICE_STATE_RUNNING), 0);
    mini_stop(&ss, cs);

    /* Revision 1 -> revision 2: accepted, the new field reset. */
    cd = mini_start(ctx, &sd, dst);
    cr_assert_eq(vdev_client_mig_load(cd, buf, len), 0);
    cr_assert_eq(vdev_client_mig_get_state(cd, &st), 0);
    cr_assert_eq(st, VFIO_DEVICE_STATE_STOP);
    cr_assert_eq(dst->st.ctrl, src->st.ctrl);
    cr_assert_eq(dst->st.counter, src->st.counter);
    cr_assert_eq(dst->st.added, 0x55);
    cr_assert_eq(vdev_client_mig_set_state(cd, VFIO_DEVICE_STATE_RUNNING), 0);
    mini_stop(&sd, cd);
    talloc_free(ctx);
}

Test(mig_client, files_and_refusal)
{
    void *ctx = talloc_new(NULL);
    struct mt_dev *src = mt_create(ctx, 2, "mt"),
                  *dst = mt_create(ctx, 1, "mt");
    struct mini ss, sd;
    struct vdev_client *cs, *cd;
    struct mt_state before;
    FILE *f = tmpfile();
    uint32_t st;

    cr_assert_not_null(f);
    mt_fill(src, 3);
    mt_fill(dst, 8);
    before = dst->st;
    cs = mini_start(ctx, &ss, src);
    cr_assert_eq(vdev_client_mig_save_file(cs, f), 0);
    mini_stop(&ss, cs);
    cr_assert_eq((size_t)ftell(f), vdev_mig_stream_bound(src->dev));
    rewind(f);

    /* Revision 2 -> revision 1: refused, destination unchanged. */
    cd = mini_start(ctx, &sd, dst);
    cr_assert_eq(vdev_client_mig_load_file(cd, f), -EPROTONOSUPPORT);
    cr_assert(memcmp(&before, &dst->st, sizeof(before)) == 0);
    cr_assert_eq(vdev_client_mig_get_state(cd, &st), 0);
    cr_assert_eq(st, VFIO_DEVICE_STATE_RESUMING);
    cr_assert_lt(vdev_client_mig_set_state(cd, VFIO_DEVICE_STATE_PRE_COPY), 0,
                 "no data to load: refused on the way");
    mini_stop(&sd, cd);
    fclose(f);
    talloc_free(ctx);
}
