/* The raw test client (see rawsock.h). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "rawsock.h"

int
raw_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = 5};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    return fd;
}

int
raw_send(int fd, const void *buf, size_t len, const int *fds, unsigned nr_fds)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * RAW_SEND_MAX_FDS)];
    } ctl;
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    size_t off = 0;

    if (nr_fds > RAW_SEND_MAX_FDS)
        return -EINVAL;
    if (nr_fds) {
        struct cmsghdr *cm;
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nr_fds);
    }
    while (off < len) {
        ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        off += (size_t)n;
        iov.iov_base = (uint8_t *)buf + off;
        iov.iov_len = len - off;
        mh.msg_control = NULL;
        mh.msg_controllen = 0;
    }
    return 0;
}

int
raw_send_msg(int fd, uint16_t id, uint16_t cmd, uint32_t flags,
             const void *payload, size_t len, const int *fds, unsigned nr_fds)
{
    struct vfio_user_header h = {
        .msg_id = id,
        .cmd = cmd,
        .msg_size = (uint32_t)(sizeof(h) + len),
        .flags = flags,
    };
    uint8_t *buf = malloc(sizeof(h) + len);
    int rc;

    if (!buf)
        return -ENOMEM;
    memcpy(buf, &h, sizeof(h));
    if (len)
        memcpy(buf + sizeof(h), payload, len);
    rc = raw_send(fd, buf, sizeof(h) + len, fds, nr_fds);
    free(buf);
    return rc;
}

/* Reads exactly len bytes, collecting fds. */
static int
read_full(int fd, void *buf, size_t len, struct raw_reply *r)
{
    uint8_t *p = buf;

    while (len) {
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int) * 64)];
        } ctl;
        struct iovec iov = {.iov_base = p, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        }
        if (n == 0)
            return -ECONNRESET;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
             cm = CMSG_NXTHDR(&mh, cm)) {
            unsigned k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (unsigned i = 0; i < k; i++) {
                int f;
                memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(f));
                if (r->nr_fds < RAW_MAX_FDS)
                    r->fds[r->nr_fds++] = f;
                else
                    close(f);
            }
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
raw_recv(int fd, struct raw_reply *r)
{
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = read_full(fd, &r->hdr, sizeof(r->hdr), r)) < 0)
        return rc;
    if (r->hdr.msg_size < sizeof(r->hdr))
        return -EPROTO;
    r->len = r->hdr.msg_size - (uint32_t)sizeof(r->hdr);
    r->payload = malloc(r->len ? r->len : 1);
    if (!r->payload)
        return -ENOMEM;
    return read_full(fd, r->payload, r->len, r);
}

void
raw_reply_free(struct raw_reply *r)
{
    free(r->payload);
    r->payload = NULL;
    for (unsigned i = 0; i < r->nr_fds; i++)
        close(r->fds[i]);
    r->nr_fds = 0;
}

static int
reply_status(const struct raw_reply *r, uint16_t id, uint16_t cmd)
{
    if (r->hdr.msg_id != id || r->hdr.cmd != cmd ||
        (r->hdr.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY)
        return -EPROTO;
    if (r->hdr.flags & VFIO_USER_F_ERROR)
        return r->hdr.msg_size == sizeof(r->hdr) ? -(int)r->hdr.error_no
                                                 : -EPROTO;
    return 0;
}

int
raw_call(int fd, uint16_t id, uint16_t cmd, const void *payload, size_t len,
         struct raw_reply *r)
{
    struct raw_reply local;
    int rc;

    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    if ((rc = raw_send_msg(fd, id, cmd, 0, payload, len, NULL, 0)) < 0)
        return rc;
    if ((rc = raw_recv(fd, r)) < 0)
        return rc;
    rc = reply_status(r, id, cmd);
    if (r == &local)
        raw_reply_free(r);
    return rc;
}

int
raw_version(int fd, const char *json, struct raw_reply *r)
{
    size_t jl = json ? strlen(json) + 1 : 0;
    uint8_t *buf = malloc(sizeof(struct vfio_user_version) + jl);
    struct vfio_user_version v = {.major = 0, .minor = 1};
    int rc;

    if (!buf)
        return -ENOMEM;
    memcpy(buf, &v, sizeof(v));
    if (jl)
        memcpy(buf + sizeof(v), json, jl);
    rc = raw_call(fd, 1, VFIO_USER_VERSION, buf, sizeof(v) + jl, r);
    free(buf);
    return rc;
}

int
raw_negotiate(int fd)
{
    return raw_version(fd,
                       "{\"capabilities\":{\"max_msg_fds\":8,"
                       "\"write_multiple\":true}}",
                       NULL);
}

int
raw_region_read(int fd, uint32_t region, uint64_t offset, void *buf,
                uint32_t count)
{
    struct vfio_user_region_access a = {
        .offset = offset, .region = region, .count = count};
    struct raw_reply r;
    int rc = raw_call(fd, 7, VFIO_USER_REGION_READ, &a, sizeof(a), &r);

    if (rc == 0 && r.len != sizeof(a) + count)
        rc = -EPROTO;
    if (rc == 0)
        memcpy(buf, r.payload + sizeof(a), count);
    raw_reply_free(&r);
    return rc;
}

int
raw_region_write(int fd, uint32_t region, uint64_t offset, const void *buf,
                 uint32_t count)
{
    struct vfio_user_region_access a = {
        .offset = offset, .region = region, .count = count};
    uint8_t *msg = malloc(sizeof(a) + count);
    struct raw_reply r;
    int rc;

    if (!msg)
        return -ENOMEM;
    memcpy(msg, &a, sizeof(a));
    memcpy(msg + sizeof(a), buf, count);
    rc = raw_call(fd, 8, VFIO_USER_REGION_WRITE, msg, sizeof(a) + count, &r);
    free(msg);
    if (rc == 0 && r.len != sizeof(a))
        rc = -EPROTO;
    raw_reply_free(&r);
    return rc;
}

int
raw_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        return -errno;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}
