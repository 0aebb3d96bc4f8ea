/* VERSION: the handshake. Parses the client's JSON capabilities strictly
 * (json-c) and answers with ours. */
#include <errno.h>
#include <string.h>
#include <json-c/json.h>

#include "migration/migration.h"
#include "server/conn.h"

#define OUR_MINOR 1u
#define VERSION_FIXED ((uint32_t)sizeof(struct vfio_user_version))

struct peer_caps {
    uint64_t max_msg_fds;
    uint64_t max_data_xfer;
    bool twin;
    bool write_multi;
    bool migration; /* legacy clients propose "migration": {"pgsize": N} */
};

/* Optional member of type `type`; wrong type is an error. */
static int
member(struct json_object *obj, const char *key, json_type type,
       struct json_object **out)
{
    *out = NULL;
    if (!json_object_object_get_ex(obj, key, out))
        return 0;
    return json_object_is_type(*out, type) ? 1 : -EINVAL;
}

static int
member_u32(struct json_object *obj, const char *key, uint64_t *val)
{
    struct json_object *v;
    int rc = member(obj, key, json_type_int, &v);
    int64_t n;

    if (rc <= 0)
        return rc;
    n = json_object_get_int64(v);
    if (n < 0 || n > UINT32_MAX)
        return -EINVAL;
    *val = (uint64_t)n;
    return 1;
}

static int
parse_caps(struct json_object *caps, struct peer_caps *pc)
{
    struct json_object *v, *twin;
    uint64_t pgsizes = VFIO_USER_DEF_PGSIZES, maps = 0;
    int rc;

    if ((rc = member_u32(caps, "max_msg_fds", &pc->max_msg_fds)) < 0 ||
        (rc = member_u32(caps, "max_data_xfer_size", &pc->max_data_xfer)) < 0 ||
        (rc = member_u32(caps, "max_dma_maps", &maps)) < 0)
        return rc;
    if ((rc = member(caps, "pgsizes", json_type_int, &v)) < 0)
        return rc;
    if (v) {
        /* A bit mask: json-c keeps values above INT64_MAX as uint64. */
        pgsizes = json_object_get_uint64(v);
        if (json_object_get_int64(v) < 0)
            return -EINVAL;
    }
    /* DMA maps are tracked in 4 KiB pages only. */
    if (!(pgsizes & 4096) || !pc->max_data_xfer)
        return -EINVAL;
    if ((rc = member(caps, "write_multiple", json_type_boolean, &v)) < 0)
        return rc;
    pc->write_multi = v && json_object_get_boolean(v);
    if ((rc = member(caps, "twin_socket", json_type_object, &twin)) < 0)
        return rc;
    if (twin) {
        if ((rc = member(twin, "supported", json_type_boolean, &v)) < 0 ||
            member(twin, "fd_index", json_type_int, &v) < 0)
            return -EINVAL;
        json_object_object_get_ex(twin, "supported", &v);
        pc->twin = v && json_object_get_boolean(v);
    }
    if ((rc = member(caps, "migration", json_type_object, &v)) < 0)
        return rc;
    pc->migration = !!v;
    return 0;
}

/* The JSON part is optional; when present it is one object, NUL-terminated
 * or not, with nothing after it, at most VDEV_MAX_VERSION_JSON bytes and
 * VDEV_MAX_JSON_DEPTH levels deep. */
static int
parse_json(const uint8_t *data, size_t len, struct peer_caps *pc)
{
    struct json_tokener *tok;
    struct json_object *root, *caps;
    int rc;

    while (len && data[len - 1] == '\0')
        len--;
    if (!len)
        return 0;
    if (memchr(data, '\0', len) || len > VDEV_MAX_VERSION_JSON)
        return -EINVAL;
    if (!(tok = json_tokener_new_ex(VDEV_MAX_JSON_DEPTH)))
        return -ENOMEM;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    root = json_tokener_parse_ex(tok, (const char *)data, (int)len);
    rc = !root || json_tokener_get_error(tok) != json_tokener_success ||
                 json_tokener_get_parse_end(tok) != len ||
                 !json_object_is_type(root, json_type_object)
             ? -EINVAL
             : 0;
    json_tokener_free(tok);
    if (rc == 0 &&
        (rc = member(root, "capabilities", json_type_object, &caps)) > 0)
        rc = parse_caps(caps, pc);
    json_object_put(root);
    return rc < 0 ? rc : 0;
}

/* The reply's capabilities are a subset of the proposal (spec), so
 * write_multiple and twin_socket appear only when the client offered them. */
static struct json_object *
our_caps(bool write_multi, bool twin, bool migration)
{
    struct json_object *root = json_object_new_object();
    struct json_object *caps = json_object_new_object();

    if (!root || !caps) {
        json_object_put(root);
        json_object_put(caps);
        return NULL;
    }
    json_object_object_add(root, "capabilities", caps);
    json_object_object_add(caps, "max_msg_fds",
                           json_object_new_int64(VDEV_MAX_MSG_FDS));
    json_object_object_add(caps, "max_data_xfer_size",
                           json_object_new_int64(VDEV_MAX_DATA_XFER));
    json_object_object_add(caps, "max_dma_maps",
                           json_object_new_int64(VDEV_MAX_DMA_MAPS));
    json_object_object_add(caps, "pgsizes",
                           json_object_new_int64(VFIO_USER_DEF_PGSIZES));
    if (write_multi)
        json_object_object_add(caps, "write_multiple",
                               json_object_new_boolean(1));
    if (twin) {
        struct json_object *t = json_object_new_object();
        if (!t) {
            json_object_put(root);
            return NULL;
        }
        json_object_object_add(t, "supported", json_object_new_boolean(1));
        json_object_object_add(t, "fd_index", json_object_new_int(0));
        json_object_object_add(caps, "twin_socket", t);
    }
    if (migration) {
        /* Legacy generation: the dirty bitmap's page size. */
        struct json_object *mg = json_object_new_object();
        if (!mg) {
            json_object_put(root);
            return NULL;
        }
        json_object_object_add(mg, "pgsize",
                               json_object_new_int64(VFIO_USER_DEF_PGSIZES));
        /* The largest bitmap every legacy path returns (DIRTY_PAGES; an
         * unmap's bitmap may be larger, see runtime/LIMITS.md). */
        json_object_object_add(mg, "max_bitmap_size",
                               json_object_new_int64(VDEV_MIG_MAX_BITMAP));
        json_object_object_add(caps, "migration", mg);
    }
    return root;
}

static int
reply_version(struct vdev_conn *c, struct vdev_reply *r, uint16_t minor,
              bool write_multi, bool twin, bool migration)
{
    struct json_object *root = our_caps(write_multi, twin, migration);
    struct vfio_user_version v = {.major = VFIO_USER_MAJOR, .minor = minor};
    const char *s;
    size_t len;
    uint8_t *p;

    if (!root)
        return -ENOMEM;
    s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
    len = strlen(s) + 1;
    p = vdev_reply_alloc(r, c, VERSION_FIXED + (uint32_t)len);
    if (p) {
        memcpy(p, &v, VERSION_FIXED);
        memcpy(p + VERSION_FIXED, s, len);
    }
    json_object_put(root);
    return p ? 0 : -ENOMEM;
}

static int
twin_offer(struct vdev_conn *c, struct vdev_reply *r)
{
    int fd, rc = vdev_twin_setup(c, &fd);

    if (rc < 0)
        return rc;
    r->fds[0] = fd; /* fd_index 0 in our reply */
    r->nr_fds = 1;
    r->close_fds = true;
    return 0;
}

int
vdev_handle_version(struct vdev_conn *c, struct vdev_msg *m,
                    struct vdev_reply *r)
{
    struct peer_caps pc = {
        .max_msg_fds = VFIO_USER_DEF_MAX_MSG_FDS,
        .max_data_xfer = VFIO_USER_DEF_MAX_DATA_XFER,
    };
    struct vfio_user_version v;
    bool twin = false;
    int rc;

    if (c->negotiated || m->body_len < VERSION_FIXED)
        return -EINVAL;
    memcpy(&v, m->body, VERSION_FIXED);
    if (v.major != VFIO_USER_MAJOR)
        return -EINVAL;
    rc = parse_json(m->body + VERSION_FIXED, m->body_len - VERSION_FIXED, &pc);
    if (rc < 0) {
        VDEV_LOG(c->dev, VDEV_LOG_INFO, "VERSION: bad capabilities JSON");
        return rc;
    }
    /* write_multiple is echoed only when asked for (vdev.h,
     * vdev_set_write_multiple): QEMU 10.1 and 10.2, the clients that
     * offer it, then queue every message for their I/O thread. A
     * WRITE_MULTI from a client that offered it is served either way. */
    /* Twin mode is the server's to offer: without it, DMA requests share
     * the main socket, which every client must handle anyway. */
    if (pc.twin) {
        rc = twin_offer(c, r);
        if (rc < 0)
            VDEV_LOG(c->dev, VDEV_LOG_WARN, "VERSION: no twin socket: %s",
                     strerror(-rc));
        twin = rc == 0;
    }
    rc = reply_version(c, r, v.minor < OUR_MINOR ? v.minor : OUR_MINOR,
                       pc.write_multi && c->dev->srv->offer_write_multi, twin,
                       pc.migration && c->dev->mig);
    if (rc < 0)
        return rc;
    c->major = v.major;
    c->minor = v.minor < OUR_MINOR ? v.minor : OUR_MINOR;
    c->peer_max_msg_fds = (uint32_t)pc.max_msg_fds;
    c->peer_max_data_xfer = (uint32_t)pc.max_data_xfer;
    c->write_multi = pc.write_multi;
    c->negotiated = true;
    return 0;
}

void
vdev_set_write_multiple(struct vdev_dev *dev, bool on)
{
    dev->srv->offer_write_multi = on;
}
