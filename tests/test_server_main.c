/* vdev_server_main(): the backend program conventions, checked by spawning
 * build/tests/vdev-testserver (tests/testserver_main.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "vdev.h"
#include "vdev_client.h"

#define INHERITED_FD 5

struct proc {
    pid_t pid;
    int out, err; /* read ends of its stdout and stderr */
};

static void
prog_path(char *buf, size_t cap)
{
    const char *b = getenv("VDEV_BUILD");
    char rel[256];

    snprintf(rel, sizeof(rel), "%s/tests/vdev-testserver", b ? b : "build");
    cr_assert_eq(access(rel, X_OK), 0, "%s not built", rel);
    /* Absolute: some tests start it in another directory. */
    cr_assert_not_null(realpath(rel, buf));
    cr_assert_lt(strlen(buf), cap);
}

/* Starts the test server with args; pass_fd >= 0 is given to it as fd
 * INHERITED_FD, cwd (or NULL) is its working directory. */
static struct proc
spawn(const char *const *args, int pass_fd, const char *cwd)
{
    char prog[PATH_MAX];
    const char *argv[16];
    int out[2], err[2];
    unsigned n = 0;
    struct proc p;

    prog_path(prog, sizeof(prog));
    argv[n++] = prog;
    for (; args && *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
    p.pid = fork();
    cr_assert_geq(p.pid, 0);
    if (p.pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        if (pass_fd >= 0)
            dup2(pass_fd, INHERITED_FD); /* dup2 clears CLOEXEC */
        if (cwd && chdir(cwd) < 0)
            _exit(127);
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    p.out = out[0];
    p.err = err[0];
    return p;
}

/* One line of its output (newline stripped), or "" at EOF/timeout. */
static void
read_line(int fd, char *buf, size_t cap)
{
    size_t n = 0;

    while (n + 1 < cap) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, 10000) != 1 || read(fd, buf + n, 1) != 1)
            break;
        if (buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
}

/* Reads lines until one starts with prefix; returns it in buf. */
static void
find_line(int fd, const char *prefix, char *buf, size_t cap)
{
    for (int i = 0; i < 10; i++) {
        read_line(fd, buf, cap);
        if (!strncmp(buf, prefix, strlen(prefix)))
            return;
        cr_assert_neq(buf[0], '\0', "no line starting with '%s'", prefix);
    }
    cr_assert_fail("no line starting with '%s'", prefix);
}

static int
wait_exit(struct proc *p)
{
    int status = 0;

    for (int i = 0; i < 1000; i++) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            child_check("the server", status);
            close(p->out);
            close(p->err);
            cr_assert(WIFEXITED(status), "killed by signal %d",
                      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
            return WEXITSTATUS(status);
        }
        usleep(10000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    cr_assert_fail("server did not exit");
    return -1;
}

/* Everything until EOF (the program's output is far below a pipe's size). */
static void
read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;

    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
}

static int
run_to_exit(const char *const *args, char *out, size_t out_cap, char *err,
            size_t err_cap)
{
    struct proc p = spawn(args, -1, NULL);

    read_all(p.out, out, out_cap);
    read_all(p.err, err, err_cap);
    return wait_exit(&p);
}

static void
make_dir(char *dir)
{
    strcpy(dir, "/tmp/vdev-srv-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void
expect_private_socket(const char *path)
{
    struct stat st;

    cr_assert_eq(stat(path, &st), 0, "%s missing", path);
    cr_expect(S_ISSOCK(st.st_mode), "%s not a socket", path);
    cr_expect_eq(st.st_mode & 0777, 0600, "%s mode %o", path,
                 st.st_mode & 0777);
}

static void
expect_device_line(const char *line, const char *path)
{
    char want[512];

    snprintf(want, sizeof(want),
             "-device '{\"driver\":\"vfio-user-pci\",\"socket\":"
             "{\"path\":\"%s\",\"type\":\"unix\"}}'",
             path);
    cr_expect_str_eq(line, want);
}

Test(server_main, serves_prints_qemu_option_and_exits_on_sigterm, .timeout = 30)
{
    char dir[32], path[64], mgmt[80], opt[96], line[512], reply[256];
    const char *args[] = {opt, "-v", NULL};
    struct proc p;

    make_dir(dir);
    snprintf(path, sizeof(path), "%s/gpio.sock", dir);
    snprintf(mgmt, sizeof(mgmt), "%s.mgmt", path);
    snprintf(opt, sizeof(opt), "--socket-path=%s", path);
    p = spawn(args, -1, NULL);
    find_line(p.out, "-device ", line, sizeof(line));
    expect_device_line(line, path);
    find_line(p.out, "management socket: ", line, sizeof(line));
    cr_expect_not_null(strstr(line, mgmt), "%s", line);
    expect_private_socket(path);
    expect_private_socket(mgmt);

    /* The program's loop serves the management channel. */
    cr_expect_eq(
        vdev_mgmt_client_command(mgmt, "set pins 0x5a", reply, sizeof(reply)),
        0, "%s", reply);
    cr_expect_eq(
        vdev_mgmt_client_command(mgmt, "get writes", reply, sizeof(reply)), 0);
    cr_expect_str_eq(reply, "ok writes=0x00000001");

    cr_assert_eq(kill(p.pid, SIGTERM), 0);
    cr_expect_eq(wait_exit(&p), 0);
    cr_expect_eq(access(path, F_OK), -1, "socket left behind");
    cr_expect_eq(access(mgmt, F_OK), -1, "mgmt socket left behind");
    rmdir(dir);
}

Test(server_main, relative_path_sigint_and_no_mgmt, .timeout = 30)
{
    char dir[32], path[64], line[512];
    const char *args[] = {"--socket-path=rel.sock", "--no-mgmt",
                          "--log-level=debug", "--qemu-dma-layout", NULL};
    struct proc p;

    make_dir(dir);
    snprintf(path, sizeof(path), "%s/rel.sock", dir);
    p = spawn(args, -1, dir);
    find_line(p.out, "-device ", line, sizeof(line));
    expect_device_line(line, path); /* absolute, as QEMU needs it */
    find_line(p.out, "management socket: ", line, sizeof(line));
    cr_expect_str_eq(line, "management socket: none");
    expect_private_socket(path);
    cr_expect_eq(access("rel.sock.mgmt", F_OK), -1);
    cr_assert_eq(kill(p.pid, SIGINT), 0);
    cr_expect_eq(wait_exit(&p), 0);
    cr_expect_eq(access(path, F_OK), -1, "socket left behind");
    rmdir(dir);
}

Test(server_main, inherited_listening_fd, .timeout = 30)
{
    char dir[32], path[64], mgmt[80], opt[96], line[512], reply[256];
    const char *args[] = {"--fd=5", opt, NULL};
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct proc p;
    int lfd, c;

    make_dir(dir);
    snprintf(path, sizeof(path), "%s/vfu", dir);
    snprintf(mgmt, sizeof(mgmt), "%s/ctl", dir);
    snprintf(opt, sizeof(opt), "--mgmt-socket=%s", mgmt);
    strcpy(sa.sun_path, path);
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(lfd, 4), 0);

    p = spawn(args, lfd, NULL);
    close(lfd);
    find_line(p.out, "-device ", line, sizeof(line));
    expect_device_line(line, path);
    expect_private_socket(mgmt);
    cr_expect_eq(vdev_mgmt_client_command(mgmt, "info", reply, sizeof(reply)),
                 0);
    cr_expect_not_null(strstr(reply, "name=testserver"), "%s", reply);
    /* The server accepts on the inherited socket. */
    c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_expect_eq(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(c);

    cr_assert_eq(kill(p.pid, SIGTERM), 0);
    cr_expect_eq(wait_exit(&p), 0);
    cr_expect_eq(access(mgmt, F_OK), -1, "mgmt socket left behind");
    /* The socket file belongs to whoever passed the fd. */
    cr_expect_eq(access(path, F_OK), 0);
    unlink(path);
    rmdir(dir);
}

Test(server_main, help_version_capabilities)
{
    char out[4096], err[1024];
    const char *help[] = {"--help", NULL};
    const char *version[] = {"--version", NULL};
    const char *caps[] = {"--print-capabilities", "--fd=banana", NULL};

    cr_expect_eq(run_to_exit(help, out, sizeof(out), err, sizeof(err)), 0);
    cr_expect_not_null(strstr(out, "--socket-path=PATH"), "%s", out);
    cr_expect_not_null(strstr(out, "--fd=N"));
    cr_expect_not_null(strstr(out, "test device"), "description shown");
    cr_expect_eq(run_to_exit(version, out, sizeof(out), err, sizeof(err)), 0);
    cr_expect_str_eq(out, "vdev-testserver (vdev) " VDEV_VERSION_STRING "\n");
    cr_expect_eq(run_to_exit(caps, out, sizeof(out), err, sizeof(err)), 0);
    cr_expect_not_null(strstr(out, "\"type\""), "%s", out);
}

Test(server_main, bad_options_exit_2)
{
    static const char *const cases[][4] = {
        {NULL},
        {"--socket-path=/tmp/x", "--fd=3", NULL},
        {"--fd=abc", NULL},
        {"--fd=-1", NULL},
        {"--bogus", NULL},
        {"-q", NULL},
        {"--socket-path", NULL},
        {"--socket-path=", NULL},
        {"--socket-path=/tmp/x", "--log-level=loud", NULL},
        {"--socket-path=/tmp/x", "extra", NULL},
        {"--socket-path=/tmp/x", "--no-mgmt", "--mgmt-socket=/tmp/y", NULL},
        {"--socket-path=/tmp/x", "--poll-us=abc", NULL},
        {"--socket-path=/tmp/x", "--poll-us=-1", NULL},
        {"--socket-path=/tmp/x", "--poll-us=10001", NULL},
        {"--socket-path=/tmp/x", "--poll-us=", NULL},
    };
    char out[4096], err[4096];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_expect_eq(run_to_exit(cases[i], out, sizeof(out), err, sizeof(err)),
                     2, "case %zu", i);
        cr_expect_not_null(strstr(err, "Usage:"), "case %zu: %s", i, err);
        cr_expect_str_eq(out, "", "case %zu: nothing on stdout", i);
    }
}

Test(server_main, runtime_failures_exit_1, .timeout = 30)
{
    char dir[32], path[64], opt[96], line[512], out[1024], err[1024];
    const char *not_socket[] = {"--fd=0", NULL};
    const char *args[] = {opt, NULL};
    struct proc first;

    cr_expect_eq(run_to_exit(not_socket, out, sizeof(out), err, sizeof(err)),
                 1);
    cr_expect_not_null(strstr(err, "not a listening"), "%s", err);

    /* A second server on a live socket is refused; the first keeps it. */
    make_dir(dir);
    snprintf(path, sizeof(path), "%s/s", dir);
    snprintf(opt, sizeof(opt), "--socket-path=%s", path);
    first = spawn(args, -1, NULL);
    find_line(first.out, "-device ", line, sizeof(line));
    cr_expect_eq(run_to_exit(args, out, sizeof(out), err, sizeof(err)), 1);
    cr_expect_not_null(strstr(err, "cannot listen"), "%s", err);
    expect_private_socket(path);
    kill(first.pid, SIGTERM);
    cr_expect_eq(wait_exit(&first), 0);
    cr_expect_eq(access(path, F_OK), -1);
    rmdir(dir);
}

Test(server_main, vmm_session_counted_and_sigterm_while_connected,
     .timeout = 30)
{
    char dir[32], path[64], mgmt[80], opt[96], line[512], reply[256];
    const char *args[] = {opt, NULL};
    struct vdev_client *cl = NULL;
    uint16_t ids[2] = {0, 0};
    struct proc p;
    int rc;

    make_dir(dir);
    snprintf(path, sizeof(path), "%s/d", dir);
    snprintf(mgmt, sizeof(mgmt), "%s.mgmt", path);
    snprintf(opt, sizeof(opt), "--socket-path=%s", path);
    p = spawn(args, -1, NULL);
    find_line(p.out, "-device ", line, sizeof(line));

    rc = vdev_client_connect(NULL, path, &cl);
    cr_assert_eq(rc, 0, "connect: %s", strerror(-rc));
    cr_assert_eq(vdev_client_negotiate(cl, NULL), 0);
    cr_assert_eq(vdev_client_config_read(cl, 0, ids, 4), 0);
    cr_expect_eq(ids[0], 0x1af4);
    cr_expect_eq(ids[1], 0x10f0);

    /* The management channel sees the session while it is live. */
    cr_assert_eq(vdev_mgmt_client_command(mgmt, "info", reply, sizeof(reply)),
                 0);
    cr_expect_not_null(strstr(reply, "connected=yes"), "%s", reply);
    cr_assert_eq(vdev_mgmt_client_command(mgmt, "stats", reply, sizeof(reply)),
                 0);
    cr_expect(!strncmp(reply, "ok messages=2 errors=0 ", 23), "%s", reply);
    cr_expect_not_null(strstr(reply, "connections=1"), "%s", reply);

    /* A VMM still attached does not keep the server from stopping. */
    cr_assert_eq(kill(p.pid, SIGTERM), 0);
    cr_expect_eq(wait_exit(&p), 0);
    cr_expect_eq(access(path, F_OK), -1);
    cr_expect_eq(access(mgmt, F_OK), -1);
    cr_expect_neq(vdev_client_config_read(cl, 0, ids, 4), 0, "server gone");
    vdev_client_close(cl);
    rmdir(dir);
}

Test(server_main, implicit_mgmt_path_too_long_is_skipped, .timeout = 30)
{
    char dir[32], path[128], opt[160], line[512], err[1024];
    const char *args[] = {opt, NULL};
    struct proc p;
    size_t len;

    make_dir(dir);
    /* 104 bytes fit sun_path; 104 + ".mgmt" does not. */
    len = (size_t)snprintf(path, sizeof(path), "%s/", dir);
    memset(path + len, 'v', 104 - len);
    path[104] = '\0';
    snprintf(opt, sizeof(opt), "--socket-path=%s", path);
    p = spawn(args, -1, NULL);
    find_line(p.out, "-device ", line, sizeof(line));
    expect_device_line(line, path);
    find_line(p.out, "management socket: ", line, sizeof(line));
    cr_expect_str_eq(line, "management socket: none");
    cr_assert_eq(kill(p.pid, SIGTERM), 0);
    read_all(p.err, err, sizeof(err));
    cr_expect_not_null(strstr(err, "too long"), "%s", err);
    cr_expect_eq(wait_exit(&p), 0);
    cr_expect_eq(access(path, F_OK), -1);
    rmdir(dir);
}

static uint64_t
stat_of(const char *reply, const char *key)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), " %s=", key);
    p = strstr(reply, pat);
    cr_assert_not_null(p, "no %s in '%s'", key, reply);
    return strtoull(p + strlen(pat), NULL, 10);
}

/* A server started with --socket-path and `opt`, and a client connected
 * to it and negotiated (want: NULL for the defaults). */
struct served {
    char dir[32], path[64];
    struct proc p;
    struct vdev_client *cl;
};

static void
serve_up(struct served *s, const char *opt, const struct vdev_client_caps *want)
{
    char sock[96], line[512];
    const char *args[] = {sock, opt, NULL};

    make_dir(s->dir);
    snprintf(s->path, sizeof(s->path), "%s/d", s->dir);
    snprintf(sock, sizeof(sock), "--socket-path=%s", s->path);
    s->p = spawn(args, -1, NULL);
    find_line(s->p.out, "-device ", line, sizeof(line));
    s->cl = NULL;
    cr_assert_eq(vdev_client_connect(NULL, s->path, &s->cl), 0);
    cr_assert_eq(vdev_client_negotiate(s->cl, want), 0);
}

static void
serve_down(struct served *s)
{
    vdev_client_close(s->cl);
    cr_assert_eq(kill(s->p.pid, SIGTERM), 0);
    cr_expect_eq(wait_exit(&s->p), 0);
    rmdir(s->dir);
}

/* 200 requests back to back, counted by how the loop waited for them. */
static void
requests_by_wait(const char *poll_opt, uint64_t *polled, uint64_t *woken,
                 uint64_t cycle[2])
{
    char mgmt[80], reply[512];
    struct served s;
    uint16_t ids[2];

    serve_up(&s, poll_opt, NULL);
    snprintf(mgmt, sizeof(mgmt), "%s.mgmt", s.path);
    for (int i = 0; i < 200; i++)
        cr_assert_eq(vdev_client_config_read(s.cl, 0, ids, 4), 0);
    cr_assert_eq(vdev_mgmt_client_command(mgmt, "stats", reply, sizeof(reply)),
                 0);
    *polled = stat_of(reply, "polled_requests");
    *woken = stat_of(reply, "woken_requests");
    cycle[0] = stat_of(reply, "cycle_sleeping_ns");
    cycle[1] = stat_of(reply, "cycle_probing_ns");
    serve_down(&s);
}

/* Probing is on by default: some requests are found without a wake-up
 * (the loop starts probing, and measures sleeping for an epoch early
 * on), and the mean cycle of both ways is reported. Every request after
 * the first is counted one way or the other. With --poll-us=0 none is
 * probed for and nothing is measured. */
Test(server_main, poll_us_default_and_off, .timeout = 30)
{
    uint64_t polled, woken, cycle[2];

    requests_by_wait("--log-level=warn", &polled, &woken, cycle);
    cr_expect_gt(polled, 0, "polled %llu woken %llu",
                 (unsigned long long)polled, (unsigned long long)woken);
    cr_expect_geq(polled + woken, 200);
    cr_expect_gt(cycle[0], 0);
    cr_expect_gt(cycle[1], 0);
    requests_by_wait("--poll-us=0", &polled, &woken, cycle);
    cr_expect_eq(polled, 0, "polled %llu with --poll-us=0",
                 (unsigned long long)polled);
    cr_expect_eq(cycle[0] + cycle[1], 0);
}

/* Whether the server accepts a client's write_multiple offer. */
static bool
accepts_write_multiple(const char *opt)
{
    struct vdev_client_caps want = {.max_msg_fds = 16,
                                    .max_data_xfer_size = 1 << 20,
                                    .max_dma_maps = 1024,
                                    .pgsizes = 4096,
                                    .write_multiple = true};
    struct served s;
    bool on;

    serve_up(&s, opt, &want);
    on = vdev_client_server_caps(s.cl)->write_multiple;
    serve_down(&s);
    return on;
}

/* QEMU 10.1/10.2 queue every message for their I/O thread once
 * write_multiple is accepted, so it is only with --write-multiple. */
Test(server_main, write_multiple_only_when_asked, .timeout = 30)
{
    cr_expect(!accepts_write_multiple("--log-level=warn"));
    cr_expect(accepts_write_multiple("--write-multiple"));
}
