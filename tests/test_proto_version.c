/* VERSION: negotiation, our capabilities, strict parsing of the client's. */
#include <criterion/criterion.h>
#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/device.h"
#include "rawsock.h"
#include "proto_fixture.h"
#include "testdev.h"

static struct testsrv srv;
static int fd = -1;

static void
setup(void)
{
    proto_fixture_up(&srv, &fd, false, false);
}

static void
teardown(void)
{
    proto_fixture_down(&srv, &fd);
}

TestSuite(proto_version, .init = setup, .fini = teardown, .timeout = 30);

static int64_t
cap_int(struct json_object *caps, const char *key)
{
    struct json_object *v;
    cr_assert(json_object_object_get_ex(caps, key, &v), "missing %s", key);
    cr_assert(json_object_is_type(v, json_type_int));
    return json_object_get_int64(v);
}

static struct json_object *
reply_caps(const struct raw_reply *r, struct json_object **root)
{
    struct json_object *caps;
    const char *s = (const char *)r->payload + sizeof(struct vfio_user_version);

    cr_assert_gt(r->len, sizeof(struct vfio_user_version));
    cr_assert_eq(r->payload[r->len - 1], '\0');
    *root = json_tokener_parse(s);
    cr_assert_not_null(*root);
    cr_assert(json_object_object_get_ex(*root, "capabilities", &caps));
    return caps;
}

Test(proto_version, negotiates_and_reports_caps)
{
    struct raw_reply r;
    struct json_object *root, *caps, *v;
    struct vfio_user_version ver;

    cr_assert_eq(raw_version(fd,
                             "{\"capabilities\":{\"max_msg_fds\":4,"
                             "\"write_multiple\":true,"
                             "\"unknown_future_key\":[1,{}]}}",
                             &r),
                 0);
    memcpy(&ver, r.payload, sizeof(ver));
    cr_assert_eq(ver.major, 0);
    cr_assert_eq(ver.minor, 1);
    caps = reply_caps(&r, &root);
    cr_assert_eq(cap_int(caps, "max_msg_fds"), VDEV_MAX_MSG_FDS);
    cr_assert_eq(cap_int(caps, "max_data_xfer_size"), VDEV_MAX_DATA_XFER);
    cr_assert_eq(cap_int(caps, "max_dma_maps"), VDEV_MAX_DMA_MAPS);
    cr_assert_eq(cap_int(caps, "pgsizes"), 4096);
    /* not accepted unless the server is told to (vdev_set_write_multiple;
     * kernel_header/write_multiple_only_when_asked) */
    cr_assert(!json_object_object_get_ex(caps, "write_multiple", &v));
    cr_assert(!json_object_object_get_ex(caps, "migration", &v));
    json_object_put(root);
    raw_reply_free(&r);
}

Test(proto_version, subset_of_proposal)
{
    struct raw_reply r;
    struct json_object *root, *caps, *v;

    /* no JSON at all: defaults, and nothing offered beyond them */
    cr_assert_eq(raw_version(fd, NULL, &r), 0);
    caps = reply_caps(&r, &root);
    cr_assert(!json_object_object_get_ex(caps, "write_multiple", &v));
    json_object_put(root);
    raw_reply_free(&r);
}

Test(proto_version, minor_is_negotiated_down)
{
    struct vfio_user_version v = {.major = 0, .minor = 0}, back;
    struct raw_reply r;

    cr_assert_eq(raw_call(fd, 1, VFIO_USER_VERSION, &v, sizeof(v), &r), 0);
    memcpy(&back, r.payload, sizeof(back));
    cr_assert_eq(back.minor, 0);
    raw_reply_free(&r);
}

Test(proto_version, higher_minor_gets_ours)
{
    struct vfio_user_version v = {.major = 0, .minor = 7}, back;
    struct raw_reply r;

    cr_assert_eq(raw_call(fd, 1, VFIO_USER_VERSION, &v, sizeof(v), &r), 0);
    memcpy(&back, r.payload, sizeof(back));
    cr_assert_eq(back.minor, 1);
    raw_reply_free(&r);
}

Test(proto_version, bad_major)
{
    struct vfio_user_version v = {.major = 1, .minor = 0};

    cr_assert_eq(raw_call(fd, 1, VFIO_USER_VERSION, &v, sizeof(v), NULL),
                 -EINVAL);
    cr_assert_eq(raw_negotiate(fd), 0);
}

Test(proto_version, wrong_types_rejected)
{
    static const char *const bad[] = {
        "{\"capabilities\":{\"max_msg_fds\":\"4\"}}",
        "{\"capabilities\":{\"max_msg_fds\":-1}}",
        "{\"capabilities\":{\"max_data_xfer_size\":1.5}}",
        "{\"capabilities\":{\"max_data_xfer_size\":0}}",
        "{\"capabilities\":{\"pgsizes\":8192}}",
        "{\"capabilities\":{\"write_multiple\":1}}",
        "{\"capabilities\":{\"twin_socket\":true}}",
        "{\"capabilities\":{\"twin_socket\":{\"supported\":\"yes\"}}}",
        "{\"capabilities\":[]}",
        "[1,2]",
        "{\"capabilities\":{",
        "{} trailing",
        "not json",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(raw_version(fd, bad[i], NULL), -EINVAL, "%s", bad[i]);
    /* a short body */
    cr_assert_eq(raw_call(fd, 1, VFIO_USER_VERSION, "\0", 2, NULL), -EINVAL);
    cr_assert_eq(raw_negotiate(fd), 0);
}

Test(proto_version, second_version_rejected)
{
    cr_assert_eq(raw_negotiate(fd), 0);
    cr_assert_eq(raw_negotiate(fd), -EINVAL);
    /* still negotiated */
    uint32_t v;
    cr_assert_eq(raw_region_read(fd, 0, TESTDEV_REG_ID, &v, 4), 0);
    cr_assert_eq(v, TESTDEV_ID_VALUE);
}

Test(proto_version, twin_socket_offered_when_asked)
{
    struct raw_reply r;
    struct json_object *root, *caps, *twin, *v;
    struct stat st;

    cr_assert_eq(raw_version(fd,
                             "{\"capabilities\":{\"twin_socket\":"
                             "{\"supported\":true}}}",
                             &r),
                 0);
    caps = reply_caps(&r, &root);
    cr_assert(json_object_object_get_ex(caps, "twin_socket", &twin));
    cr_assert(json_object_object_get_ex(twin, "supported", &v));
    cr_assert(json_object_get_boolean(v));
    cr_assert(json_object_object_get_ex(twin, "fd_index", &v));
    cr_assert_eq(json_object_get_int(v), 0);
    /* the fd it names came with the reply, and it is a socket */
    cr_assert_eq(r.nr_fds, 1);
    cr_assert_eq(fstat(r.fds[0], &st), 0);
    cr_assert(S_ISSOCK(st.st_mode));
    json_object_put(root);
    raw_reply_free(&r);
}

Test(proto_version, no_twin_unless_asked)
{
    struct raw_reply r;
    struct json_object *root, *caps, *v;

    cr_assert_eq(raw_version(fd,
                             "{\"capabilities\":{\"twin_socket\":"
                             "{\"supported\":false}}}",
                             &r),
                 0);
    caps = reply_caps(&r, &root);
    cr_assert(!json_object_object_get_ex(caps, "twin_socket", &v));
    cr_assert_eq(r.nr_fds, 0);
    json_object_put(root);
    raw_reply_free(&r);
}
