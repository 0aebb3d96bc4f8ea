/* libvdev client: VERSION capabilities as JSON — what the client proposes,
 * and a strict reading of the server's answer against that proposal. */
#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <talloc.h>
#include <unistd.h>

#include "base/fdio.h"
#include "client/client_priv.h"

void
vdev_client_default_caps(struct vdev_client_caps *caps)
{
    *caps = (struct vdev_client_caps){
        .max_msg_fds = VFIO_USER_DEF_MAX_MSG_FDS,
        .max_data_xfer_size = VFIO_USER_DEF_MAX_DATA_XFER,
        .max_dma_maps = VFIO_USER_DEF_MAX_DMA_MAPS,
        .pgsizes = VFIO_USER_DEF_PGSIZES,
    };
}

char *
vdev_client_caps_to_json(void *mem_ctx, const struct vdev_client_caps *caps)
{
    json_object *root = json_object_new_object();
    json_object *c = json_object_new_object();
    json_object *twin = json_object_new_object();
    char *out = NULL;

    if (!root || !c || !twin)
        goto done;
    json_object_object_add(c, "max_msg_fds",
                           json_object_new_int64(caps->max_msg_fds));
    json_object_object_add(c, "max_data_xfer_size",
                           json_object_new_int64(caps->max_data_xfer_size));
    json_object_object_add(c, "max_dma_maps",
                           json_object_new_int64(caps->max_dma_maps));
    json_object_object_add(c, "pgsizes", json_object_new_uint64(caps->pgsizes));
    json_object_object_add(twin, "supported",
                           json_object_new_boolean(caps->twin_socket));
    json_object_object_add(c, "twin_socket", twin);
    twin = NULL;
    json_object_object_add(c, "write_multiple",
                           json_object_new_boolean(caps->write_multiple));
    json_object_object_add(root, "capabilities", c);
    c = NULL;
    out = talloc_strdup(
        mem_ctx, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
done:
    json_object_put(twin);
    json_object_put(c);
    json_object_put(root);
    return out;
}

/* A non-negative integer no larger than max; -EPROTO otherwise. */
static int
get_uint(json_object *o, uint64_t max, uint64_t *out)
{
    if (!json_object_is_type(o, json_type_int))
        return -EPROTO;
    /* json-c keeps values above INT64_MAX as unsigned; check the sign
     * through the signed view first. */
    int64_t s = json_object_get_int64(o);
    uint64_t u = json_object_get_uint64(o);
    if (s < 0 && u <= (uint64_t)INT64_MAX)
        return -EPROTO;
    if (u > max)
        return -EPROTO;
    *out = u;
    return 0;
}

static int
parse_twin(json_object *t, const struct vdev_client_caps *proposed,
           struct vdev_client_caps *out, int *twin_fd_index)
{
    json_object *v;
    uint64_t idx;

    if (!json_object_is_type(t, json_type_object))
        return -EPROTO;
    if (json_object_object_get_ex(t, "supported", &v)) {
        if (!json_object_is_type(v, json_type_boolean))
            return -EPROTO;
        out->twin_socket = json_object_get_boolean(v);
    }
    if (json_object_object_get_ex(t, "fd_index", &v)) {
        if (get_uint(v, VDEV_CLIENT_MAX_FDS - 1, &idx) < 0)
            return -EPROTO;
        if (out->twin_socket)
            *twin_fd_index = (int)idx;
    }
    if (out->twin_socket && !proposed->twin_socket)
        return -EPROTO; /* not a subset of what we offered */
    if (out->twin_socket && *twin_fd_index < 0)
        return -EPROTO; /* inconsistent: enabled without a channel */
    return 0;
}

static int
parse_caps(json_object *c, const struct vdev_client_caps *proposed,
           struct vdev_client_caps *out, int *twin_fd_index)
{
    json_object *v;
    uint64_t n;
    int rc;

    if (!json_object_is_type(c, json_type_object))
        return -EPROTO;
    if (json_object_object_get_ex(c, "max_msg_fds", &v)) {
        if ((rc = get_uint(v, UINT32_MAX, &n)) < 0)
            return rc;
        out->max_msg_fds = (uint32_t)n;
    }
    if (json_object_object_get_ex(c, "max_data_xfer_size", &v)) {
        if ((rc = get_uint(v, UINT32_MAX, &n)) < 0)
            return rc;
        if (n == 0)
            return -EPROTO;
        out->max_data_xfer_size = (uint32_t)n;
    }
    if (json_object_object_get_ex(c, "max_dma_maps", &v)) {
        if ((rc = get_uint(v, UINT32_MAX, &n)) < 0)
            return rc;
        out->max_dma_maps = (uint32_t)n;
    }
    if (json_object_object_get_ex(c, "pgsizes", &v)) {
        if ((rc = get_uint(v, UINT64_MAX, &n)) < 0)
            return rc;
        if (n == 0)
            return -EPROTO;
        out->pgsizes = n;
    }
    if (json_object_object_get_ex(c, "write_multiple", &v)) {
        if (!json_object_is_type(v, json_type_boolean))
            return -EPROTO;
        /* The server states what it can receive; a client that did not
         * offer WRITE_MULTI simply never sends one. */
        out->write_multiple = json_object_get_boolean(v);
    }
    if (json_object_object_get_ex(c, "twin_socket", &v))
        return parse_twin(v, proposed, out, twin_fd_index);
    return 0;
}

int
vdev_client_caps_from_json(const char *json, size_t len,
                           const struct vdev_client_caps *proposed,
                           struct vdev_client_caps *out, int *twin_fd_index)
{
    json_tokener *tok;
    json_object *root, *c;
    int rc;

    vdev_client_default_caps(out);
    *twin_fd_index = -1;
    /* exactly one NUL, at the end */
    if (len == 0 || json[len - 1] != '\0' || strlen(json) != len - 1)
        return -EPROTO;
    tok = json_tokener_new();
    if (!tok)
        return -ENOMEM;
    root = json_tokener_parse_ex(tok, json, (int)len - 1);
    if (!root || json_tokener_get_error(tok) != json_tokener_success ||
        json[json_tokener_get_parse_end(tok) +
             strspn(json + json_tokener_get_parse_end(tok), " \t\r\n")]) {
        rc = -EPROTO;
        goto done;
    }
    if (!json_object_is_type(root, json_type_object)) {
        rc = -EPROTO;
        goto done;
    }
    rc = 0;
    if (json_object_object_get_ex(root, "capabilities", &c))
        rc = parse_caps(c, proposed, out, twin_fd_index);
done:
    json_object_put(root);
    json_tokener_free(tok);
    if (rc < 0)
        *twin_fd_index = -1;
    return rc;
}

int
vdev_client_negotiate(struct vdev_client *cl,
                      const struct vdev_client_caps *want)
{
    struct vdev_client_caps prop, got;
    uint8_t reply[8192];
    int rfds[VDEV_CLIENT_MAX_FDS];
    unsigned nr_rfds = VDEV_CLIENT_MAX_FDS;
    size_t reply_len = 0;
    int twin_idx = -1, rc;

    if (want)
        prop = *want;
    else
        vdev_client_default_caps(&prop);
    if (prop.max_data_xfer_size == 0 || prop.max_msg_fds == 0 ||
        prop.pgsizes == 0)
        return -EINVAL;
    /* we cannot take more fds than the receive path keeps */
    if (prop.max_msg_fds > VDEV_CLIENT_MAX_FDS)
        prop.max_msg_fds = VDEV_CLIENT_MAX_FDS;

    char *json = vdev_client_caps_to_json(cl, &prop);
    if (!json)
        return -ENOMEM;
    size_t jlen = strlen(json) + 1;
    size_t req_len = sizeof(struct vfio_user_version) + jlen;
    struct vfio_user_version *req = talloc_size(json, req_len);
    if (!req) {
        talloc_free(json);
        return -ENOMEM;
    }
    req->major = VFIO_USER_MAJOR;
    req->minor = VFIO_USER_MINOR;
    memcpy(req->data, json, jlen);
    cl->want = prop;
    rc = vdev_client_call(cl, VFIO_USER_VERSION, req, req_len, NULL, 0, reply,
                          sizeof(reply), &reply_len, rfds, &nr_rfds);
    talloc_free(json);
    if (rc < 0)
        return rc;
    rc = -EPROTO;
    if (reply_len < sizeof(struct vfio_user_version) ||
        reply_len > sizeof(reply))
        goto out;
    struct vfio_user_version v;
    memcpy(&v, reply, sizeof(v));
    if (v.major != VFIO_USER_MAJOR || v.minor > VFIO_USER_MINOR)
        goto out;
    if (reply_len > sizeof(v)) {
        rc = vdev_client_caps_from_json((const char *)reply + sizeof(v),
                                        reply_len - sizeof(v), &prop, &got,
                                        &twin_idx);
        if (rc < 0)
            goto out;
    } else {
        vdev_client_default_caps(&got);
    }
    rc = -EPROTO;
    if (twin_idx >= (int)nr_rfds)
        goto out;
    if (twin_idx >= 0) {
        if (cl->twin_fd >= 0)
            close(cl->twin_fd);
        cl->twin_fd = rfds[twin_idx];
        rfds[twin_idx] = -1;
    }
    cl->caps = got;
    cl->negotiated = true;
    rc = 0;
out:
    vdev_close_fds(rfds, nr_rfds);
    return rc;
}

const struct vdev_client_caps *
vdev_client_server_caps(const struct vdev_client *cl)
{
    return &cl->caps;
}
