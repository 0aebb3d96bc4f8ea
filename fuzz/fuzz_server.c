/* libFuzzer harness: arbitrary client byte streams, with fds, fed to the
 * edu model's server over a socketpair; it must not crash, leak or hang.
 *
 * Input: byte 0 picks the mode, the rest is the stream.
 *   bit 0: prepend a valid VERSION (so deeper handlers are reached)
 *   bit 1: ...offering a twin socket (server requests then go there)
 *   bit 2: record mode: the rest is records [ctl u8][len u16 le][len bytes],
 *          each sent with one sendmsg; ctl bits 0-1 = fds attached (0-3),
 *          bits 2-3 = their kind (eventfd, 4 KiB memfd, 64 KiB memfd,
 *          empty memfd). Otherwise the rest is written as it is.
 * A client thread reads the replies (closing fds they carry) and answers
 * server requests (DMA_READ/WRITE) with an error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "edu.h"
#include "server/server.h"

#define HANG_MS 10000
#define MAX_TWINS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ------------------------------------------------------------ helpers */

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fds of the kinds the server and this harness make (sockets, eventfds,
 * memfds, epoll); pipes are left out: libFuzzer's symbolizer opens some. */
static int
count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        abort();
    while ((e = readdir(d))) {
        char path[64], link[64];
        ssize_t len;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        len = readlink(path, link, sizeof(link) - 1);
        if (len < 0)
            continue;
        link[len] = 0;
        if (strncmp(link, "pipe:", 5) && strncmp(link, "/proc/", 6))
            n++;
    }
    closedir(d);
    return n;
}

static void
quiet_log(void *opaque, enum vdev_log_level level, const char *msg)
{
    (void)opaque;
    /* FUZZ_LOG=1: the server's log on stderr, to study a failing input. */
    if (getenv("FUZZ_LOG"))
        fprintf(stderr, "vdev %d: %s\n", (int)level, msg);
}

static void
close_cmsg_fds(struct msghdr *mh, int *keep, unsigned *nr_keep)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        unsigned n;

        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (unsigned i = 0; i < n; i++) {
            int fd, type = 0;
            socklen_t len = sizeof(type);

            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
            /* A socket is the twin end from a VERSION reply: serve it. */
            if (keep && *nr_keep < MAX_TWINS &&
                getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
                keep[(*nr_keep)++] = fd;
            else
                close(fd);
        }
    }
}

/* ------------------------------------------------------------ client side */

struct chan {
    int fd;
    uint8_t buf[1 << 16];
    size_t len;
};

struct client {
    int fd;                /* our end of the main socket */
    pthread_mutex_t wlock; /* the main thread writes to fd too */
    struct chan ch[1 + MAX_TWINS];
    unsigned nr_ch;
};

static void
answer_requests(struct client *cl, struct chan *ch)
{
    size_t off = 0;

    while (ch->len - off >= sizeof(struct vfio_user_header)) {
        struct vfio_user_header h;

        memcpy(&h, ch->buf + off, sizeof(h));
        if (h.msg_size < sizeof(h) || h.msg_size > sizeof(ch->buf)) {
            ch->len = off = 0; /* lost framing: only replies follow anyway */
            break;
        }
        if (h.msg_size > ch->len - off)
            break;
        if (!(h.flags & VFIO_USER_F_TYPE_REPLY)) {
            struct vfio_user_header r = {
                .msg_id = h.msg_id,
                .cmd = h.cmd,
                .msg_size = sizeof(r),
                .flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
                .error_no = EFAULT,
            };
            pthread_mutex_lock(&cl->wlock);
            if (send(ch->fd, &r, sizeof(r), MSG_NOSIGNAL) < 0) {
                /* the server went away: its EOF ends us */
            }
            pthread_mutex_unlock(&cl->wlock);
        }
        off += h.msg_size;
    }
    if (off) {
        memmove(ch->buf, ch->buf + off, ch->len - off);
        ch->len -= off;
    }
}

/* Returns false at EOF on the main socket. */
static bool
client_read(struct client *cl, struct chan *ch)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 64)];
    } ctl;
    int twins[MAX_TWINS];
    unsigned nr_twins = 0;
    struct iovec iov;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n;

    if (ch->len == sizeof(ch->buf))
        ch->len = 0; /* an oversized reply: drop it */
    iov.iov_base = ch->buf + ch->len;
    iov.iov_len = sizeof(ch->buf) - ch->len;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    n = recvmsg(ch->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    close_cmsg_fds(&mh, twins, &nr_twins);
    for (unsigned i = 0; i < nr_twins; i++) {
        if (cl->nr_ch < 1 + MAX_TWINS) {
            cl->ch[cl->nr_ch].fd = twins[i];
            cl->ch[cl->nr_ch].len = 0;
            cl->nr_ch++;
        } else {
            close(twins[i]);
        }
    }
    if (n == 0)
        return false;
    ch->len += (size_t)n;
    answer_requests(cl, ch);
    return true;
}

static void *
client_thread(void *arg)
{
    struct client *cl = arg;
    bool open_main = true;

    while (open_main) {
        struct pollfd p[1 + MAX_TWINS];
        unsigned nr = cl->nr_ch;

        for (unsigned i = 0; i < nr; i++)
            p[i] = (struct pollfd){.fd = cl->ch[i].fd, .events = POLLIN};
        if (poll(p, nr, 1000) < 0 && errno != EINTR)
            abort();
        for (unsigned i = 0; i < nr; i++) {
            if (!p[i].revents)
                continue;
            if (!client_read(cl, &cl->ch[i])) {
                if (i == 0) {
                    open_main = false;
                } else {
                    /* a closed twin: poll it no more */
                    close(cl->ch[i].fd);
                    cl->ch[i].fd = -1;
                }
            }
        }
        /* Drop closed twins. */
        for (unsigned i = 1; i < cl->nr_ch;)
            if (cl->ch[i].fd < 0)
                cl->ch[i] = cl->ch[--cl->nr_ch];
            else
                i++;
    }
    for (unsigned i = 1; i < cl->nr_ch; i++)
        close(cl->ch[i].fd);
    return NULL;
}

/* ------------------------------------------------------------ input */

static size_t
version_msg(uint8_t *out, bool twin)
{
    static const char caps_plain[] =
        "{\"capabilities\":{\"max_msg_fds\":8,"
        "\"max_data_xfer_size\":1048576,\"write_multiple\":true}}";
    static const char caps_twin[] =
        "{\"capabilities\":{\"max_msg_fds\":8,"
        "\"max_data_xfer_size\":1048576,\"write_multiple\":true,"
        "\"twin_socket\":{\"supported\":true}}}";
    const char *caps = twin ? caps_twin : caps_plain;
    size_t jlen = strlen(caps) + 1;
    struct vfio_user_header h = {
        .cmd = VFIO_USER_VERSION,
        .msg_size = (uint32_t)(sizeof(h) + 4 + jlen),
    };
    struct vfio_user_version v = {.major = 0, .minor = 1};

    memcpy(out, &h, sizeof(h));
    memcpy(out + sizeof(h), &v, 4);
    memcpy(out + sizeof(h) + 4, caps, jlen);
    return h.msg_size;
}

static int
make_fd(unsigned kind)
{
    static const off_t sizes[] = {0, 4096, 65536, 0};
    int fd;

    if (kind == 0)
        return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, sizes[kind]) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends buf with nr_fds fresh fds of `kind`, serving the device whenever
 * the socket is full. Returns false once the server has gone. */
static bool
send_chunk(struct vdev_dev *dev, struct client *cl, const uint8_t *buf,
           size_t len, unsigned nr_fds, unsigned kind)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 3)];
    } ctl;
    int fds[3];
    size_t off = 0;
    int64_t deadline = now_ms() + HANG_MS;

    for (unsigned i = 0; i < nr_fds; i++)
        if ((fds[i] = make_fd(kind)) < 0)
            abort();
    while (off < len) {
        struct iovec iov = {(void *)(buf + off), len - off};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n;

        if (nr_fds && off == 0) {
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
        pthread_mutex_lock(&cl->wlock);
        n = sendmsg(cl->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        pthread_mutex_unlock(&cl->wlock);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            break;
        if (!dev->srv->conn)
            break;
        if (vdev_dispatch(dev) < 0)
            abort();
        if (now_ms() > deadline) {
            fprintf(stderr, "fuzz_server: server stopped reading\n");
            abort();
        }
    }
    for (unsigned i = 0; i < nr_fds; i++)
        close(fds[i]);
    return off == len && dev->srv->conn;
}

static void
feed(struct vdev_dev *dev, struct client *cl, const uint8_t *p, size_t n,
     bool records)
{
    if (!records) {
        send_chunk(dev, cl, p, n, 0, 0);
        return;
    }
    while (n >= 3) {
        unsigned ctl = p[0], len = p[1] | (unsigned)p[2] << 8;

        p += 3;
        n -= 3;
        if (len > n)
            len = (unsigned)n;
        if (len == 0)
            continue; /* fds need at least one byte to ride on */
        if (!send_chunk(dev, cl, p, len, ctl & 3, (ctl >> 2) & 3))
            return;
        p += len;
        n -= len;
    }
}

/* ------------------------------------------------------------ one input */

static int base_fds = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *ctx = talloc_new(NULL);
    struct vdev_dev *dev;
    struct client *cl;
    pthread_t th;
    uint8_t ver[512];
    int sv[2];
    int64_t deadline;
    unsigned mode;

    if (size < 1) {
        talloc_free(ctx);
        return 0;
    }
    if (base_fds < 0)
        base_fds = count_fds();
    mode = data[0];
    data++;
    size--;
    dev = edu_create(ctx);
    if (!dev)
        abort();
    vdev_set_log(dev, quiet_log, NULL, VDEV_LOG_DEBUG);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ||
        vdev_conn_adopt(dev, sv[0]) < 0)
        abort();
    cl = talloc_zero(ctx, struct client);
    cl->fd = sv[1];
    pthread_mutex_init(&cl->wlock, NULL);
    cl->ch[0].fd = sv[1];
    cl->nr_ch = 1;
    if (pthread_create(&th, NULL, client_thread, cl) != 0)
        abort();

    if (mode & 1)
        send_chunk(dev, cl, ver, version_msg(ver, mode & 2), 0, 0);
    if (dev->srv->conn)
        feed(dev, cl, data, size, mode & 4);

    /* End of input: the server must read it all, see EOF and drop us. */
    shutdown(sv[1], SHUT_WR);
    deadline = now_ms() + HANG_MS;
    while (dev->srv->conn) {
        struct pollfd p = {.fd = vdev_fd(dev), .events = POLLIN};

        if (poll(&p, 1, 10) < 0 && errno != EINTR)
            abort();
        if (vdev_dispatch(dev) < 0)
            abort();
        if (now_ms() > deadline) {
            fprintf(stderr,
                    "fuzz_server: client not dropped after EOF (read %llu "
                    "bytes, %llu messages, %zu unserved, output blocked "
                    "%d)\n",
                    (unsigned long long)dev->stats.bytes_in,
                    (unsigned long long)dev->stats.messages,
                    dev->srv->conn->rx.end - dev->srv->conn->rx.start,
                    dev->srv->conn->out_blocked);
            abort();
        }
    }
    pthread_join(th, NULL);
    close(sv[1]);
    pthread_mutex_destroy(&cl->wlock);
    talloc_free(ctx);

    /* No fd may outlive the device. */
    if (count_fds() > base_fds) {
        fprintf(stderr, "fuzz_server: fds grew from %d to %d\n", base_fds,
                count_fds());
        abort();
    }
    return 0;
}
