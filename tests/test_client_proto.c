/* Client library without a server: capability JSON both ways, and message
 * framing against a scripted peer on a socketpair (stray replies, error
 * replies, server DMA requests on the main and twin sockets, chunking). */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <talloc.h>
#include <unistd.h>

#include "client/client_priv.h"

/* ---------------------------------------------------------------- JSON */

static struct vdev_client_caps
proposal(bool twin, bool wm)
{
    struct vdev_client_caps c;
    vdev_client_default_caps(&c);
    c.twin_socket = twin;
    c.write_multiple = wm;
    return c;
}

static int
parse(const char *json, const struct vdev_client_caps *prop,
      struct vdev_client_caps *out, int *twin)
{
    return vdev_client_caps_from_json(json, strlen(json) + 1, prop, out, twin);
}

Test(client_json, encode_round_trip)
{
    struct vdev_client_caps c = proposal(true, true), back;
    c.max_msg_fds = 7;
    c.max_data_xfer_size = 65536;
    c.max_dma_maps = 100;
    c.pgsizes = 4096 | (1u << 21);
    char *s = vdev_client_caps_to_json(NULL, &c);
    cr_assert_not_null(s);
    cr_assert_not_null(strstr(s, "\"capabilities\""));
    cr_assert_not_null(strstr(s, "\"twin_socket\":{\"supported\":true}"));
    int twin = 5;
    /* a proposal echoed back is accepted, except that twin mode needs
     * the fd index only a reply carries */
    cr_assert_eq(parse(s, &c, &back, &twin), -EPROTO);
    c.twin_socket = false;
    talloc_free(s);
    s = vdev_client_caps_to_json(NULL, &c);
    cr_assert_eq(parse(s, &c, &back, &twin), 0);
    cr_assert_eq(back.max_msg_fds, 7);
    cr_assert_eq(back.max_data_xfer_size, 65536);
    cr_assert_eq(back.max_dma_maps, 100);
    cr_assert_eq(back.pgsizes, 4096 | (1u << 21));
    cr_assert(back.write_multiple);
    cr_assert(!back.twin_socket);
    cr_assert_eq(twin, -1);
    talloc_free(s);
}

Test(client_json, defaults_when_absent)
{
    struct vdev_client_caps p = proposal(false, false), out;
    int twin;
    cr_assert_eq(parse("{}", &p, &out, &twin), 0);
    cr_assert_eq(out.max_msg_fds, 1);
    cr_assert_eq(out.max_data_xfer_size, 1u << 20);
    cr_assert_eq(out.max_dma_maps, 65535);
    cr_assert_eq(out.pgsizes, 4096);
    cr_assert_eq(parse("{\"capabilities\":{}}", &p, &out, &twin), 0);
    /* unknown keys are a newer peer's business */
    cr_assert_eq(
        parse("{\"capabilities\":{\"future\":[1,2]},\"x\":1}", &p, &out, &twin),
        0);
    cr_assert_eq(
        parse(" {\"capabilities\":{\"max_msg_fds\":3}}\n", &p, &out, &twin), 0);
    cr_assert_eq(out.max_msg_fds, 3);
    /* what the server can receive, whether or not we offered it */
    cr_assert_eq(
        parse("{\"capabilities\":{\"write_multiple\":true}}", &p, &out, &twin),
        0);
    cr_assert(out.write_multiple);
}

Test(client_json, twin_socket_reply)
{
    struct vdev_client_caps p = proposal(true, false), out;
    int twin;
    cr_assert_eq(parse("{\"capabilities\":{\"twin_socket\":"
                       "{\"supported\":true,\"fd_index\":0}}}",
                       &p, &out, &twin),
                 0);
    cr_assert(out.twin_socket);
    cr_assert_eq(twin, 0);
    /* declined */
    cr_assert_eq(parse("{\"capabilities\":{\"twin_socket\":"
                       "{\"supported\":false}}}",
                       &p, &out, &twin),
                 0);
    cr_assert(!out.twin_socket);
    cr_assert_eq(twin, -1);
    /* enabled without an fd: inconsistent, the client must give up */
    cr_assert_eq(parse("{\"capabilities\":{\"twin_socket\":"
                       "{\"supported\":true}}}",
                       &p, &out, &twin),
                 -EPROTO);
    cr_assert_eq(twin, -1);
}

Test(client_json, strict_rejections)
{
    struct vdev_client_caps p = proposal(false, false), out;
    int twin;
    static const char *const bad[] = {
        "",
        "[]",
        "{\"capabilities\":[]}",
        "{\"capabilities\":{\"max_msg_fds\":\"4\"}}",
        "{\"capabilities\":{\"max_msg_fds\":-1}}",
        "{\"capabilities\":{\"max_msg_fds\":4294967296}}",
        "{\"capabilities\":{\"max_data_xfer_size\":0}}",
        "{\"capabilities\":{\"max_data_xfer_size\":1.5}}",
        "{\"capabilities\":{\"pgsizes\":0}}",
        "{\"capabilities\":{\"pgsizes\":true}}",
        "{\"capabilities\":{\"write_multiple\":1}}",
        /* twin mode the client did not offer */
        "{\"capabilities\":{\"twin_socket\":{\"supported\":true,"
        "\"fd_index\":0}}}",
        "{\"capabilities\":{\"twin_socket\":true}}",
        "{\"capabilities\":{\"twin_socket\":{\"supported\":\"yes\"}}}",
        "{\"capabilities\":{}} trailing",
        "{\"capabilities\":{",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(parse(bad[i], &p, &out, &twin), -EPROTO, "accepted: %s",
                     bad[i]);
    /* NUL placement: none at the end, or one inside */
    cr_assert_eq(vdev_client_caps_from_json("{}", 2, &p, &out, &twin), -EPROTO);
    cr_assert_eq(vdev_client_caps_from_json("{}\0{}", 6, &p, &out, &twin),
                 -EPROTO);
    cr_assert_eq(vdev_client_caps_from_json("", 0, &p, &out, &twin), -EPROTO);
}

Test(client_json, large_pgsizes)
{
    struct vdev_client_caps p = proposal(false, false), out;
    int twin;
    cr_assert_eq(parse("{\"capabilities\":{\"pgsizes\":"
                       "18446744073709547520}}",
                       &p, &out, &twin),
                 0);
    cr_assert_eq(out.pgsizes, 0xfffffffffffff000ull);
}

/* ------------------------------------------------------ scripted peer */

struct peer {
    struct vdev_client *cl;
    int fd; /* the server's end */
};

static void
peer_open(struct peer *p)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(vdev_client_from_fd(NULL, sv[0], &p->cl), 0);
    p->fd = sv[1];
}

static void
peer_close(struct peer *p)
{
    vdev_client_close(p->cl);
    close(p->fd);
}

static void
peer_send(int fd, uint16_t id, uint16_t cmd, uint32_t flags, uint32_t err,
          const void *body, size_t len, const int *fds, unsigned nr_fds)
{
    struct vfio_user_header h = {.msg_id = id,
                                 .cmd = cmd,
                                 .msg_size = (uint32_t)(sizeof(h) + len),
                                 .flags = flags,
                                 .error_no = err};
    cr_assert_eq(vdev_client_sendv(fd, &h, sizeof(h), body, len, fds, nr_fds),
                 0);
}

static void
reply(struct peer *p, uint16_t id, uint16_t cmd, const void *body, size_t len)
{
    peer_send(p->fd, id, cmd, VFIO_USER_F_TYPE_REPLY, 0, body, len, NULL, 0);
}

/* Reads one message the client sent; returns its body length. */
static size_t
peer_recv(int fd, struct vfio_user_header *h, void *body, size_t cap)
{
    cr_assert_eq(recv(fd, h, sizeof(*h), MSG_WAITALL), (ssize_t)sizeof(*h));
    size_t len = h->msg_size - sizeof(*h);
    cr_assert(len <= cap);
    if (len)
        cr_assert_eq(recv(fd, body, len, MSG_WAITALL), (ssize_t)len);
    return len;
}

static void
version_reply(struct peer *p, uint16_t id, const char *json, const int *fds,
              unsigned nr_fds)
{
    uint8_t buf[512];
    struct vfio_user_version v = {.major = 0, .minor = 1};
    memcpy(buf, &v, sizeof(v));
    size_t jl = strlen(json) + 1;
    memcpy(buf + sizeof(v), json, jl);
    peer_send(p->fd, id, VFIO_USER_VERSION, VFIO_USER_F_TYPE_REPLY, 0, buf,
              sizeof(v) + jl, fds, nr_fds);
}

Test(client_frame, negotiate_sends_json_and_reads_caps)
{
    struct peer p;
    peer_open(&p);
    version_reply(&p, 1,
                  "{\"capabilities\":{\"max_msg_fds\":8,"
                  "\"max_data_xfer_size\":4096}}",
                  NULL, 0);
    cr_assert_eq(vdev_client_negotiate(p.cl, NULL), 0);
    const struct vdev_client_caps *c = vdev_client_server_caps(p.cl);
    cr_assert_eq(c->max_msg_fds, 8);
    cr_assert_eq(c->max_data_xfer_size, 4096);
    cr_assert(!c->twin_socket);

    struct vfio_user_header h;
    uint8_t body[512];
    size_t len = peer_recv(p.fd, &h, body, sizeof(body) - 1);
    cr_assert_eq(h.cmd, VFIO_USER_VERSION);
    cr_assert_eq(h.msg_id, 1);
    cr_assert_eq(h.flags, VFIO_USER_F_TYPE_COMMAND);
    cr_assert(len > 4);
    cr_assert_eq(body[len - 1], '\0');
    cr_assert_eq(body[0] | body[1] << 8, 0);
    cr_assert_eq(body[2] | body[3] << 8, 1);
    cr_assert_not_null(strstr((char *)body + 4, "\"max_data_xfer_size\""));
    peer_close(&p);
}

Test(client_frame, negotiate_rejects_bad_version)
{
    struct peer p;
    peer_open(&p);
    struct vfio_user_version v = {.major = 1, .minor = 0};
    reply(&p, 1, VFIO_USER_VERSION, &v, sizeof(v));
    cr_assert_eq(vdev_client_negotiate(p.cl, NULL), -EPROTO);
    v.major = 0;
    v.minor = 9; /* above what we proposed */
    reply(&p, 2, VFIO_USER_VERSION, &v, sizeof(v));
    cr_assert_eq(vdev_client_negotiate(p.cl, NULL), -EPROTO);
    reply(&p, 3, VFIO_USER_VERSION, &v, 2); /* truncated */
    cr_assert_eq(vdev_client_negotiate(p.cl, NULL), -EPROTO);
    v.minor = 0;
    reply(&p, 4, VFIO_USER_VERSION, &v, sizeof(v)); /* no JSON: defaults */
    cr_assert_eq(vdev_client_negotiate(p.cl, NULL), 0);
    cr_assert_eq(vdev_client_server_caps(p.cl)->max_msg_fds, 1);
    peer_close(&p);
}

Test(client_frame, twin_socket_fd_kept_and_served)
{
    struct peer p;
    int tw[2];
    peer_open(&p);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, tw), 0);
    int extra = dup(tw[0]);
    int fds[2] = {extra, tw[0]};
    version_reply(&p, 1,
                  "{\"capabilities\":{\"twin_socket\":"
                  "{\"supported\":true,\"fd_index\":1}}}",
                  fds, 2);
    close(tw[0]);
    close(extra);
    struct vdev_client_caps want;
    vdev_client_default_caps(&want);
    want.twin_socket = true;
    cr_assert_eq(vdev_client_negotiate(p.cl, &want), 0);
    cr_assert(vdev_client_server_caps(p.cl)->twin_socket);
    cr_assert_geq(vdev_client_twin_fd(p.cl), 0);
    cr_assert_neq(vdev_client_twin_fd(p.cl), vdev_client_fd(p.cl));

    uint8_t mem[64] = {0};
    cr_assert_eq(vdev_client_add_dma_memory(p.cl, 0x10000, mem, sizeof(mem)),
                 0);
    uint8_t req[16 + 4];
    struct vfio_user_dma_access a = {.addr = 0x10008, .count = 4};
    memcpy(req, &a, sizeof(a));
    memcpy(req + 16, "abcd", 4);
    peer_send(tw[1], 77, VFIO_USER_DMA_WRITE, VFIO_USER_F_TYPE_COMMAND, 0, req,
              sizeof(req), NULL, 0);
    /* served while waiting for an unrelated reply on the main socket */
    cr_assert_eq(vdev_client_serve(p.cl), 1);
    cr_assert_eq(memcmp(mem + 8, "abcd", 4), 0);
    struct vfio_user_header h;
    uint8_t body[64];
    size_t len = peer_recv(tw[1], &h, body, sizeof(body));
    cr_assert_eq(h.msg_id, 77);
    cr_assert_eq(h.cmd, VFIO_USER_DMA_WRITE);
    cr_assert_eq(h.flags & VFIO_USER_F_TYPE_MASK, VFIO_USER_F_TYPE_REPLY);
    cr_assert_eq(len, 16);
    close(tw[1]);
    peer_close(&p);
}

Test(client_frame, twin_socket_without_valid_fd_is_fatal)
{
    struct peer p;
    peer_open(&p);
    version_reply(&p, 1,
                  "{\"capabilities\":{\"twin_socket\":"
                  "{\"supported\":true,\"fd_index\":0}}}",
                  NULL, 0);
    struct vdev_client_caps want;
    vdev_client_default_caps(&want);
    want.twin_socket = true;
    cr_assert_eq(vdev_client_negotiate(p.cl, &want), -EPROTO);
    peer_close(&p);
}

Test(client_frame, stray_reply_skipped_error_reply_is_errno)
{
    struct peer p;
    peer_open(&p);
    uint32_t junk = 0xdeadbeef;
    reply(&p, 99, VFIO_USER_DEVICE_RESET, &junk, sizeof(junk));
    peer_send(p.fd, 1, VFIO_USER_DEVICE_RESET,
              VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR, ENOTTY, NULL, 0, NULL,
              0);
    cr_assert_eq(vdev_client_reset(p.cl), -ENOTTY);
    /* error bit with no errno still fails */
    peer_send(p.fd, 2, VFIO_USER_DEVICE_RESET,
              VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR, 0, NULL, 0, NULL, 0);
    cr_assert_eq(vdev_client_reset(p.cl), -EIO);
    reply(&p, 3, VFIO_USER_DEVICE_RESET, NULL, 0);
    cr_assert_eq(vdev_client_reset(p.cl), 0);
    /* a reply to another command under our id is a protocol error */
    reply(&p, 4, VFIO_USER_DEVICE_GET_INFO, NULL, 0);
    cr_assert_eq(vdev_client_reset(p.cl), -EPROTO);
    peer_close(&p);
}

Test(client_frame, dma_read_on_main_socket_served_while_waiting)
{
    struct peer p;
    peer_open(&p);
    uint8_t mem[4096];
    for (size_t i = 0; i < sizeof(mem); i++)
        mem[i] = (uint8_t)(i * 7);
    cr_assert_eq(vdev_client_add_dma_memory(p.cl, 0x100000, mem, sizeof(mem)),
                 0);
    cr_assert_eq(vdev_client_add_dma_memory(p.cl, 0x100800, mem, 16), -EEXIST);
    struct vfio_user_dma_access a = {.addr = 0x100100, .count = 256};
    peer_send(p.fd, 500, VFIO_USER_DMA_READ, VFIO_USER_F_TYPE_COMMAND, 0, &a,
              sizeof(a), NULL, 0);
    struct vfio_user_dma_access bad = {.addr = 0x101000 - 8, .count = 16};
    peer_send(p.fd, 501, VFIO_USER_DMA_READ, VFIO_USER_F_TYPE_COMMAND, 0, &bad,
              sizeof(bad), NULL, 0);
    reply(&p, 1, VFIO_USER_DEVICE_RESET, NULL, 0);
    cr_assert_eq(vdev_client_reset(p.cl), 0);

    struct vfio_user_header h;
    uint8_t body[4096];
    peer_recv(p.fd, &h, body, sizeof(body)); /* the RESET request */
    cr_assert_eq(h.cmd, VFIO_USER_DEVICE_RESET);
    size_t len = peer_recv(p.fd, &h, body, sizeof(body));
    cr_assert_eq(h.msg_id, 500);
    cr_assert_eq(h.cmd, VFIO_USER_DMA_READ);
    cr_assert_eq(h.flags, VFIO_USER_F_TYPE_REPLY);
    cr_assert_eq(len, 16 + 256);
    struct vfio_user_dma_access got;
    memcpy(&got, body, sizeof(got));
    cr_assert_eq(got.addr, 0x100100);
    cr_assert_eq(got.count, 256);
    cr_assert_eq(memcmp(body + 16, mem + 0x100, 256), 0);
    len = peer_recv(p.fd, &h, body, sizeof(body));
    cr_assert_eq(h.msg_id, 501);
    cr_assert(h.flags & VFIO_USER_F_ERROR);
    cr_assert_eq(h.error_no, EFAULT);
    cr_assert_eq(len, 0);
    peer_close(&p);
}

Test(client_frame, region_read_chunked_to_server_limit)
{
    struct peer p;
    peer_open(&p);
    version_reply(&p, 1, "{\"capabilities\":{\"max_data_xfer_size\":8}}", NULL,
                  0);
    cr_assert_eq(vdev_client_negotiate(p.cl, NULL), 0);
    for (uint16_t id = 2; id <= 3; id++) {
        uint8_t r[16 + 8];
        struct vfio_user_region_access ra = {
            .offset = 0x20 + (id - 2) * 8u, .region = 2, .count = 8};
        memcpy(r, &ra, sizeof(ra));
        memset(r + 16, 0xa0 + id, 8);
        reply(&p, id, VFIO_USER_REGION_READ, r, sizeof(r));
    }
    uint8_t out[16];
    cr_assert_eq(vdev_client_region_read(p.cl, 2, 0x20, out, 16), 0);
    cr_assert_eq(out[0], 0xa2);
    cr_assert_eq(out[15], 0xa3);
    struct vfio_user_header h;
    uint8_t body[600];
    peer_recv(p.fd, &h, body, sizeof(body)); /* VERSION */
    for (int i = 0; i < 2; i++) {
        size_t len = peer_recv(p.fd, &h, body, sizeof(body));
        struct vfio_user_region_access ra;
        memcpy(&ra, body, sizeof(ra));
        cr_assert_eq(len, 16);
        cr_assert_eq(ra.count, 8);
        cr_assert_eq(ra.offset, 0x20 + 8u * i);
    }
    /* a reply with the wrong count is refused */
    uint8_t r[16 + 4];
    struct vfio_user_region_access ra = {.offset = 0, .region = 2, .count = 2};
    memcpy(r, &ra, sizeof(ra));
    reply(&p, 4, VFIO_USER_REGION_READ, r, sizeof(r));
    cr_assert_eq(vdev_client_region_read(p.cl, 2, 0, out, 4), -EPROTO);
    peer_close(&p);
}

struct dribble {
    int fd;
    uint8_t *msg;
    size_t len;
};

/* Writes a message a few bytes at a time, as a slow kernel might. */
static void *
dribble_main(void *arg)
{
    struct dribble *d = arg;
    for (size_t off = 0; off < d->len;) {
        size_t n = d->len - off < 7 ? d->len - off : 7;
        if (write(d->fd, d->msg + off, n) != (ssize_t)n)
            break;
        off += n;
        if (off < 200)
            usleep(1000);
    }
    return NULL;
}

Test(client_frame, split_and_oversized_messages)
{
    struct peer p;
    peer_open(&p);
    /* an oversized stray reply is drained and the stream stays in step */
    size_t big = (1u << 20) + 8192;
    uint8_t *junk = calloc(1, big);
    struct vfio_user_header h = {.msg_id = 42,
                                 .cmd = VFIO_USER_REGION_READ,
                                 .msg_size = (uint32_t)(sizeof(h) + big),
                                 .flags = VFIO_USER_F_TYPE_REPLY};
    uint8_t *msg = malloc(sizeof(h) + big + 64);
    memcpy(msg, &h, sizeof(h));
    memcpy(msg + sizeof(h), junk, big);
    size_t len = sizeof(h) + big;
    struct vfio_device_info di = {
        .argsz = 16, .flags = 3, .num_regions = 9, .num_irqs = 5};
    struct vfio_user_header rh = {.msg_id = 1,
                                  .cmd = VFIO_USER_DEVICE_GET_INFO,
                                  .msg_size = sizeof(rh) + sizeof(di),
                                  .flags = VFIO_USER_F_TYPE_REPLY};
    memcpy(msg + len, &rh, sizeof(rh));
    memcpy(msg + len + sizeof(rh), &di, sizeof(di));
    len += sizeof(rh) + sizeof(di);
    struct dribble d = {.fd = p.fd, .msg = msg, .len = len};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, dribble_main, &d), 0);
    struct vfio_device_info got;
    cr_assert_eq(vdev_client_device_info(p.cl, &got), 0);
    pthread_join(t, NULL);
    cr_assert_eq(got.num_regions, 9);
    cr_assert_eq(got.num_irqs, 5);
    free(junk);
    free(msg);
    peer_close(&p);
}

Test(client_frame, raw_send_recv_and_eof)
{
    struct peer p;
    peer_open(&p);
    uint8_t raw[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert_eq(vdev_client_send_raw(p.cl, raw, sizeof(raw), NULL, 0), 0);
    uint8_t in[8];
    cr_assert_eq(recv(p.fd, in, 8, MSG_WAITALL), 8);
    cr_assert_eq(memcmp(in, raw, 8), 0);
    int efd = dup(0);
    reply(&p, 9, VFIO_USER_DEVICE_RESET, "xy", 2);
    peer_send(p.fd, 10, VFIO_USER_DEVICE_RESET, VFIO_USER_F_TYPE_REPLY, 0, NULL,
              0, &efd, 1);
    close(efd);
    uint8_t buf[64];
    cr_assert_eq(vdev_client_recv_raw(p.cl, buf, sizeof(buf), NULL, NULL), 18);
    cr_assert_eq(memcmp(buf + 16, "xy", 2), 0);
    int rfds[2];
    unsigned nr = 2;
    cr_assert_eq(vdev_client_recv_raw(p.cl, buf, sizeof(buf), rfds, &nr), 16);
    cr_assert_eq(nr, 1);
    close(rfds[0]);
    close(p.fd);
    p.fd = -1;
    cr_assert_eq(vdev_client_reset(p.cl), -EPIPE);
    vdev_client_close(p.cl);
}

Test(client_frame, timeout_then_late_reply_dropped)
{
    struct peer p;
    peer_open(&p);
    vdev_client_set_timeout(p.cl, 100);
    cr_assert_eq(vdev_client_reset(p.cl), -ETIMEDOUT);
    /* the late answer to call 1 is skipped when call 2's arrives */
    reply(&p, 1, VFIO_USER_DEVICE_RESET, NULL, 0);
    reply(&p, 2, VFIO_USER_DEVICE_RESET, NULL, 0);
    cr_assert_eq(vdev_client_reset(p.cl), 0);
    /* an errno out of range is still an error */
    peer_send(p.fd, 3, VFIO_USER_DEVICE_RESET,
              VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR, 0x80000001u, NULL, 0,
              NULL, 0);
    cr_assert_eq(vdev_client_reset(p.cl), -EIO);
    peer_close(&p);
}
