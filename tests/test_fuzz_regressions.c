/* Replays the inputs that made a fuzz harness (fuzz/) fail, saved under
 * tests/fuzz-regressions/HARNESS/, in the harness's input format:
 *   server/:    client sessions (fuzz/msgseq.h) through the harness
 *               itself, built without libFuzzer (vdev-fuzz-server), with
 *               all its checks;
 *   server-socket/: byte streams of the socket harness it replaced,
 *               against a real vdev-edu process (a sanitizer build crashes
 *               or exits non-zero on a leak), which must then still serve
 *               a new client and exit cleanly on SIGTERM;
 *   vdevc/:     through the compiler's passes and emitters;
 *   migstream/: see test_fuzz_migstream below. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "server/server.h"
#include "model_server.h"
#include "rawsock.h"
#include "testdev.h"
#include "vdevc.h"

#define REG_DIR "tests/fuzz-regressions"

/* ------------------------------------------------------------ inputs */

static uint8_t *
load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *p;

    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fstat(fileno(f), &st), 0);
    p = malloc((size_t)st.st_size + 1);
    cr_assert_not_null(p);
    *len = fread(p, 1, (size_t)st.st_size, f);
    cr_assert_eq(*len, (size_t)st.st_size);
    fclose(f);
    return p;
}

/* Calls fn for every file in REG_DIR/sub; returns how many. */
static unsigned
each_input(const char *sub,
           void (*fn)(const char *path, const uint8_t *p, size_t len))
{
    char dir[256], path[512];
    struct dirent *e;
    unsigned n = 0;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/%s", REG_DIR, sub);
    d = opendir(dir);
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    while ((e = readdir(d))) {
        uint8_t *p;
        size_t len;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        p = load(path, &len);
        fn(path, p, len);
        free(p);
        n++;
    }
    closedir(d);
    return n;
}

/* ------------------------------------------------------------ server */

/* The client side of fuzz/fuzz_server.c, single-threaded: sends while
 * reading replies (their fds closed) and answering server requests on the
 * main socket with an error; twin sockets are closed at once. */
struct replay {
    int fd;
    uint8_t in[1 << 16];
    size_t in_len;
};

static void
close_rights(struct msghdr *mh)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                 i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
                close(fd);
            }
}

/* Reads what is there; false at EOF or on error. */
static bool
replay_read(struct replay *rp)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 64)];
    } ctl;
    struct iovec iov;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    size_t off = 0;
    ssize_t n;

    if (rp->in_len == sizeof(rp->in))
        rp->in_len = 0;
    iov.iov_base = rp->in + rp->in_len;
    iov.iov_len = sizeof(rp->in) - rp->in_len;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof(ctl.buf);
    n = recvmsg(rp->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    close_rights(&mh);
    if (n == 0)
        return false;
    rp->in_len += (size_t)n;
    while (rp->in_len - off >= sizeof(struct vfio_user_header)) {
        struct vfio_user_header h;

        memcpy(&h, rp->in + off, sizeof(h));
        if (h.msg_size < sizeof(h) || h.msg_size > sizeof(rp->in)) {
            off = rp->in_len = 0;
            break;
        }
        if (h.msg_size > rp->in_len - off)
            break;
        if (!(h.flags & VFIO_USER_F_TYPE_REPLY)) {
            struct vfio_user_header r = {
                .msg_id = h.msg_id,
                .cmd = h.cmd,
                .msg_size = sizeof(r),
                .flags = VFIO_USER_F_TYPE_REPLY | VFIO_USER_F_ERROR,
                .error_no = EFAULT,
            };
            if (send(rp->fd, &r, sizeof(r), MSG_NOSIGNAL) < 0)
                return false;
        }
        off += h.msg_size;
    }
    memmove(rp->in, rp->in + off, rp->in_len - off);
    rp->in_len -= off;
    return true;
}

static int
make_fd(unsigned kind)
{
    static const off_t sizes[] = {0, 4096, 65536, 0};
    int fd;

    if (kind == 0)
        return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    fd = memfd_create("fuzz-replay", MFD_CLOEXEC);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, sizes[kind]), 0);
    return fd;
}

/* Sends len bytes with nr_fds fds of `kind`; false once the server hung
 * up. Gives up (test failure) after 10 s without progress. */
static bool
replay_send(struct replay *rp, const uint8_t *p, size_t len, unsigned nr_fds,
            unsigned kind)
{
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * 3)];
    } ctl;
    int fds[3];
    size_t off = 0;
    time_t deadline = time(NULL) + 10;
    bool ok = true;

    for (unsigned i = 0; i < nr_fds; i++)
        fds[i] = make_fd(kind);
    while (ok && off < len) {
        struct iovec iov = {(void *)(p + off), len - off};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        struct pollfd pfd = {.fd = rp->fd, .events = POLLIN | POLLOUT};
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
        n = sendmsg(rp->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            ok = false;
        else if (poll(&pfd, 1, 100) > 0 && (pfd.revents & POLLIN))
            ok = replay_read(rp);
        cr_assert_leq(time(NULL), deadline, "server stopped reading");
    }
    for (unsigned i = 0; i < nr_fds; i++)
        close(fds[i]);
    return ok;
}

static const char *
version_json(bool twin)
{
    return twin ? "{\"capabilities\":{\"max_msg_fds\":8,"
                  "\"max_data_xfer_size\":1048576,\"write_multiple\":true,"
                  "\"twin_socket\":{\"supported\":true}}}"
                : "{\"capabilities\":{\"max_msg_fds\":8,"
                  "\"max_data_xfer_size\":1048576,\"write_multiple\":true}}";
}

static void
replay_stream(int fd, const uint8_t *p, size_t len)
{
    struct replay *rp = calloc(1, sizeof(*rp));
    unsigned mode;
    bool ok = true;
    time_t deadline;

    cr_assert_not_null(rp);
    rp->fd = fd;
    cr_assert_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
    if (len == 0)
        goto out;
    mode = p[0];
    p++;
    len--;
    if (mode & 1) {
        const char *json = version_json(mode & 2);
        size_t jlen = strlen(json) + 1;
        uint8_t msg[512];
        struct vfio_user_header h = {
            .cmd = VFIO_USER_VERSION,
            .msg_size = (uint32_t)(sizeof(h) + 4 + jlen),
        };
        uint16_t ver[2] = {0, 1};

        memcpy(msg, &h, sizeof(h));
        memcpy(msg + sizeof(h), ver, 4);
        memcpy(msg + sizeof(h) + 4, json, jlen);
        ok = replay_send(rp, msg, h.msg_size, 0, 0);
    }
    if (ok && !(mode & 4)) {
        replay_send(rp, p, len, 0, 0);
    } else {
        while (ok && len >= 3) {
            unsigned ctl = p[0], n = p[1] | (unsigned)p[2] << 8;

            p += 3;
            len -= 3;
            if (n > len)
                n = (unsigned)len;
            if (n == 0)
                continue;
            ok = replay_send(rp, p, n, ctl & 3, (ctl >> 2) & 3);
            p += n;
            len -= n;
        }
    }
out:
    /* The server must read to the end and hang up on us. */
    shutdown(fd, SHUT_WR);
    deadline = time(NULL) + 10;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};

        cr_assert_leq(time(NULL), deadline, "server did not drop the client");
        if (poll(&pfd, 1, 100) > 0 && !replay_read(rp))
            break;
    }
    free(rp);
}

static void
replay_server_input(const char *path, const uint8_t *p, size_t len)
{
    struct model_server s;
    int fd, status;

    model_server_start(&s, "edu");
    /* Free the server for the raw client. */
    vdev_client_close(s.cl);
    s.cl = NULL;
    fd = raw_connect(s.sock);
    cr_assert_geq(fd, 0, "%s: connect", path);
    replay_stream(fd, p, len);
    close(fd);

    /* Still serving, state as a fresh client sees it. */
    cr_assert_eq(vdev_client_connect(NULL, s.sock, &s.cl), 0, "%s", path);
    cr_assert_eq(vdev_client_negotiate(s.cl, NULL), 0, "%s", path);
    cr_assert_eq(model_rd(&s, 0, 0, 4), 0x010000edu, "%s", path);
    vdev_client_close(s.cl);
    s.cl = NULL;

    /* Clean exit: a sanitizer build exits non-zero after a leak. */
    kill(s.pid, SIGTERM);
    status = child_reap(s.pid, path);
    s.pid = -1;
    model_server_stop(&s);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "%s: server status 0x%x", path, status);
}

TestSuite(fuzz_regressions, .timeout = 120);

Test(fuzz_regressions, server_socket_inputs)
{
    cr_assert_gt(each_input("server-socket", replay_server_input), 0);
}

/* irq-full-eventfd, irq-full-pipe, irq-full-socket: an IRQ fd whose
 * counter or buffer was full (0xfffffffffffffffe, a full pipe, a full
 * socket), blocking, froze the server in write() on the first trigger;
 * signalling never blocks now (base/evsignal.c).
 * dma-map-devzero-offset: /dev/zero as a DMA map's fd at a large offset
 * mapped, and the device's first DMA there killed the server (SIGBUS);
 * DMA maps take regular files only now (device/dma.c).
 * mig-data-write-empty: an empty MIG_DATA_WRITE as the first of a
 * resume did pointer arithmetic on a NULL buffer (UBSan).
 * stray-fd-during-dma: a REGION_WRITE carrying an fd (closed, as for any
 * command that takes none) started the edu DMA engine; the client's
 * answer came with an fd of its own, stored where the write's still was:
 * the write's fd stayed open for good, the answer's was closed in its
 * place (server/loop.c closes them before the handler now).
 * eof-after-a-turn: a memory client's EOF waited behind the loop's read
 * budget (server/loop.c: vdev_conn_serve serves a memory connection to
 * the end).
 * unmap-during-dma: while the edu DMA engine waited for the client's
 * answer through a map without fd, the DMA_UNMAP the client sent
 * meanwhile was served at once and freed the map the copy was walking
 * (use after free); only region accesses and questions are served while
 * a handler waits now (server/loop.c). */
Test(fuzz_regressions, server_sessions)
{
    const char *b = getenv("VDEV_BUILD");
    char prog[PATH_MAX], log[] = "/tmp/vdev-fuzz-replay-XXXXXX";
    char *argv[256];
    struct dirent *e;
    unsigned n = 1;
    int status, fd;
    DIR *d;
    pid_t pid;

    snprintf(prog, sizeof(prog), "%s/tests/vdev-fuzz-server", b ? b : "build");
    cr_assert_eq(access(prog, X_OK), 0, "%s not built", prog);
    d = opendir(REG_DIR "/server");
    cr_assert_not_null(d);
    argv[0] = prog;
    while ((e = readdir(d)) && n < 255)
        if (e->d_name[0] != '.')
            argv[n++] = talloc_asprintf(NULL, REG_DIR "/server/%s", e->d_name);
    argv[n] = NULL;
    closedir(d);
    cr_assert_gt(n, 1);
    fd = mkstemp(log);
    cr_assert_geq(fd, 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fd, 2);
        execv(prog, argv);
        _exit(127);
    }
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char buf[4096];
        ssize_t len = pread(fd, buf, sizeof(buf) - 1, 0);

        buf[len > 0 ? len : 0] = 0;
        cr_log_error("%s", buf);
    }
    close(fd);
    unlink(log);
    for (unsigned i = 1; i < n; i++)
        talloc_free(argv[i]);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "%s failed on an input of " REG_DIR "/server (status 0x%x)", prog,
              status);
}

/* ------------------------------------------------------------ EOF */

/* found by fuzz_server (input 0x3f: VERSION, then the end): with the client
 * socket edge-triggered, a hang-up queued behind the last message came
 * with the same edge; the short read of that message looked like "drained"
 * and the dead client was kept for ever (the next one never served). Both
 * loops, each with the bytes and the hang-up already queued when it looks. */
static void
queue_version_and_eof(struct vdev_dev *dev, int *client)
{
    struct vfio_user_version v = {.major = 0, .minor = 1};
    int sv[2];

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    cr_assert_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    cr_assert_eq(vdev_conn_adopt(dev, sv[0]), 0);
    cr_assert_eq(
        raw_send_msg(sv[1], 1, VFIO_USER_VERSION, 0, &v, sizeof(v), NULL, 0),
        0);
    cr_assert_eq(shutdown(sv[1], SHUT_WR), 0);
    *client = sv[1];
}

Test(fuzz_regressions, eof_behind_last_message_dispatch)
{
    void *ctx = talloc_new(NULL);
    struct testdev td;
    struct vdev_dev *dev = testdev_create(ctx, &td);
    int client;

    cr_assert_not_null(dev);
    queue_version_and_eof(dev, &client);
    for (int i = 0; i < 200 && vdev_connected(dev); i++) {
        struct pollfd p = {.fd = vdev_fd(dev), .events = POLLIN};
        poll(&p, 1, 10);
        cr_assert_eq(vdev_dispatch(dev), 0);
    }
    cr_assert(!vdev_connected(dev), "client kept after its EOF");
    close(client);
    talloc_free(ctx);
}

Test(fuzz_regressions, eof_behind_last_message_run)
{
    struct testsrv s;
    int client;

    cr_assert_eq(testsrv_init(&s), 0);
    queue_version_and_eof(s.dev, &client);
    cr_assert_eq(testsrv_start(&s), 0);
    for (int i = 0; i < 200 && vdev_connected(s.dev); i++)
        usleep(10000);
    cr_assert(!vdev_connected(s.dev), "client kept after its EOF");
    cr_assert_eq(testsrv_stop(&s), 0);
    close(client);
    testsrv_free(&s);
}

/* ------------------------------------------------------------ vdevc */

/* As fuzz/fuzz_vdevc.c: compile, and when that works, every emitter. */
static void
replay_vdevc_input(const char *path, const uint8_t *p, size_t len)
{
    void *ctx = talloc_new(NULL);
    struct vdevc_unit *u =
        vdevc_unit_new(ctx, "fuzz.vdev", (const char *)p, len, NULL);

    cr_assert_not_null(u, "%s", path);
    if (vdevc_compile(u) == 0) {
        u->header_name = "fuzz.h";
        cr_assert_not_null(vdevc_emit_c(ctx, u), "%s", path);
        cr_assert_not_null(vdevc_emit_h(ctx, u), "%s", path);
        cr_assert_not_null(vdevc_emit_json(ctx, u), "%s", path);
    } else {
        cr_assert(vdevc_diag_failed(u->diag), "%s: refused, no error", path);
    }
    talloc_free(ctx);
}

/* lexer-table-overrun: flex's "fast" (-CF) tables were read past their end
 * on some bytes (an ASan build of vdevc reports it). */
Test(fuzz_regressions, vdevc_inputs)
{
    cr_assert_gt(each_input("vdevc", replay_vdevc_input), 0);
}
