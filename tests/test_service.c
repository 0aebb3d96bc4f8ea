/* A model server under a service manager: socket activation (through
 * systemd-socket-activate when installed, and through this file's own
 * harness: sockets made here, LISTEN_* set in the child before exec),
 * sd_notify READY=1 / STOPPING=1 / MAINPID over NOTIFY_SOCKET (abstract
 * and path), SIGHUP, the previous server's pid after a hand-over, the log
 * line format and its journal priorities, --print-capabilities. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vdev_client.h"

#define EDU_ID 0x010000edu /* BAR0 offset 0 of models/edu.vdev */

struct svc {
    pid_t pid;
    int out, err; /* read ends of its stdout and stderr */
};

struct spawn_opts {
    const char *const *env; /* NAME=VALUE to add, NULL-terminated */
    const int *pass;        /* fds given to it as 3, 4, ... */
    unsigned nr_pass;
    const char *fdnames; /* with pass: LISTEN_* set as systemd does */
    bool ignore_hup;     /* as nohup leaves it */
    int err_to;          /* >= 0: its stderr goes there instead */
};

static char dir[64];

static void
setup(void)
{
    strcpy(dir, "/tmp/vdev-svc-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(service, .init = setup, .fini = teardown, .timeout = 60);

static const char *
edu_path(void)
{
    static char path[PATH_MAX];
    const char *b = getenv("VDEV_BUILD");
    char rel[256];

    snprintf(rel, sizeof(rel), "%s/bin/vdev-edu", b ? b : "build");
    cr_assert_not_null(realpath(rel, path), "%s not built", rel);
    return path;
}

static void
child_setup(const struct spawn_opts *o)
{
    int high[8];
    char num[32];

    /* Out of the way first: a source may already be 3 or 4. */
    for (unsigned i = 0; i < o->nr_pass; i++)
        high[i] = fcntl(o->pass[i], F_DUPFD, 100);
    for (unsigned i = 0; i < o->nr_pass; i++) {
        dup2(high[i], 3 + (int)i); /* dup2 clears close-on-exec */
        close(high[i]);
    }
    for (const char *const *e = o->env; e && *e; e++)
        putenv((char *)*e);
    if (o->fdnames) {
        snprintf(num, sizeof(num), "%u", o->nr_pass);
        setenv("LISTEN_FDS", num, 1);
        snprintf(num, sizeof(num), "%d", (int)getpid());
        setenv("LISTEN_PID", num, 1);
        setenv("LISTEN_FDNAMES", o->fdnames, 1);
    }
    if (o->ignore_hup)
        signal(SIGHUP, SIG_IGN);
}

static struct svc
svc_spawn(const char *const *argv, const struct spawn_opts *o)
{
    static const struct spawn_opts none = {.err_to = -1};
    int out[2], err[2];
    struct svc s;

    o = o ? o : &none;
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    cr_assert_eq(pipe2(err, O_CLOEXEC), 0);
    s.pid = fork();
    cr_assert_geq(s.pid, 0);
    if (s.pid == 0) {
        dup2(out[1], 1);
        dup2(o->err_to >= 0 ? o->err_to : err[1], 2);
        child_setup(o);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    s.out = out[0];
    s.err = err[0];
    return s;
}

/* Its exit status; fails the test if it does not exit within 10 s. */
static int
svc_wait(struct svc *s)
{
    int status = 0;

    for (int i = 0; i < 1000; i++) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            close(s->out);
            close(s->err);
            cr_assert(WIFEXITED(status), "killed by signal %d",
                      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
            return WEXITSTATUS(status);
        }
        usleep(10000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    cr_assert_fail("the server did not exit");
    return -1;
}

/* Everything it wrote to fd until EOF. */
static void
read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;

    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
}

/* Reads fd until a line starting with prefix; returns it in buf. */
static void
find_line(int fd, const char *prefix, char *buf, size_t cap)
{
    for (int lines = 0; lines < 20; lines++) {
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
        if (!strncmp(buf, prefix, strlen(prefix)))
            return;
        cr_assert_neq(n, 0, "no line starting with '%s'", prefix);
    }
    cr_assert_fail("no line starting with '%s'", prefix);
}

/* ------------------------------------------------------------ sockets */

static int
listen_at(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert_geq(fd, 0);
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s: %s",
                 path, strerror(errno));
    cr_assert_eq(listen(fd, 4), 0);
    return fd;
}

/* A datagram socket standing in for systemd's notification socket: in
 * the abstract namespace (name "@...") or at a path. *env gets the
 * NOTIFY_SOCKET= assignment. */
static int
notify_socket(bool abstract, char *env, size_t cap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    socklen_t len;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    cr_assert_geq(fd, 0);
    if (abstract) {
        static unsigned seq;
        int n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
                         "vdev-test-notify-%d-%u", (int)getpid(), seq++);
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
        snprintf(env, cap, "NOTIFY_SOCKET=@%s", sa.sun_path + 1);
    } else {
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
        len = sizeof(sa);
        snprintf(env, cap, "NOTIFY_SOCKET=%s", sa.sun_path);
    }
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, len), 0, "%s",
                 strerror(errno));
    return fd;
}

/* The next notification within 10 s, as text ("" on timeout). */
static void
notify_next(int fd, char *buf, size_t cap)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    ssize_t n = 0;

    buf[0] = '\0';
    if (poll(&pf, 1, 10000) == 1)
        n = recv(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

/* Connects to a vfio-user socket and reads edu's identification. */
static void
expect_edu_serves(const char *path)
{
    struct vdev_client *cl;
    uint32_t id = 0;

    cr_assert_eq(vdev_client_connect(NULL, path, &cl), 0, "%s", path);
    vdev_client_set_timeout(cl, 10000);
    cr_assert_eq(vdev_client_negotiate(cl, NULL), 0);
    cr_assert_eq(
        vdev_client_region_read(cl, VFIO_PCI_BAR0_REGION_INDEX, 0, &id, 4), 0);
    cr_expect_eq(id, EDU_ID, "id 0x%x", id);
    vdev_client_close(cl);
}

static bool
in_path(const char *prog, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
    bool found = false;

    for (char *d = strtok_r(copy, ":", &save); d && !found;
         d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/%s", d, prog);
        found = access(out, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* ------------------------------------------------------------ tests */

/* systemd's own tool: it listens, execs the server on the first
 * connection with LISTEN_FDS=1 and the name given. */
Test(service, systemd_socket_activate_ready_serves_stopping)
{
    char tool[PATH_MAX], sock[128], env[160], fdname[] = "--fdname=vfio-user",
                                              msg[256];
    int nfd;

    if (!in_path("systemd-socket-activate", tool, sizeof(tool)))
        cr_skip_test("systemd-socket-activate is not installed (package "
                     "systemd); the harness test covers activation");
    snprintf(sock, sizeof(sock), "%s/edu.sock", dir);
    nfd = notify_socket(true, env, sizeof(env));
    const char *argv[] = {tool, "-l",    sock,       fdname,
                          "-E", env + 0, edu_path(), NULL};
    struct svc s = svc_spawn(argv, NULL);

    for (int i = 0; i < 500 && access(sock, F_OK) < 0; i++)
        usleep(10000);
    /* The first connection starts the server on the passed socket. */
    expect_edu_serves(sock);
    notify_next(nfd, msg, sizeof(msg));
    cr_expect_str_eq(msg, "READY=1");
    cr_assert_eq(kill(s.pid, SIGTERM), 0);
    notify_next(nfd, msg, sizeof(msg));
    cr_expect_str_eq(msg, "STOPPING=1");
    cr_expect_eq(svc_wait(&s), 0);
    /* The socket belongs to whoever made it: left in place. */
    cr_expect_eq(access(sock, F_OK), 0);
    close(nfd);
}

/* Both sockets passed, in the order a service manager may pick (the
 * names tell them apart), notification to a path. */
Test(service, harness_vfio_and_mgmt_sockets)
{
    char sock[128], mgmt[128], env[160], msg[256], line[512];
    int fds[2], nfd;
    uint64_t v = 1;

    snprintf(sock, sizeof(sock), "%s/edu.sock", dir);
    snprintf(mgmt, sizeof(mgmt), "%s/edu.ctl", dir);
    fds[0] = listen_at(mgmt);
    fds[1] = listen_at(sock);
    nfd = notify_socket(false, env, sizeof(env));
    const char *envs[] = {env, NULL};
    struct spawn_opts o = {.env = envs,
                           .pass = fds,
                           .nr_pass = 2,
                           .fdnames = "mgmt:vfio-user",
                           .err_to = -1};
    const char *argv[] = {edu_path(), NULL};
    struct svc s = svc_spawn(argv, &o);

    close(fds[0]);
    close(fds[1]);
    notify_next(nfd, msg, sizeof(msg));
    cr_assert_str_eq(msg, "READY=1");
    find_line(s.out, "vdev-edu: serving vfio-user on ", line, sizeof(line));
    cr_expect_not_null(strstr(line, sock), "%s", line);
    find_line(s.out, "management socket: ", line, sizeof(line));
    cr_expect_not_null(strstr(line, mgmt), "%s", line);
    expect_edu_serves(sock);
    cr_expect_eq(vdev_mgmt_client_get(mgmt, "fact", &v), 0);
    cr_expect_eq(v, 0);
    cr_assert_eq(kill(s.pid, SIGTERM), 0);
    notify_next(nfd, msg, sizeof(msg));
    cr_expect_str_eq(msg, "STOPPING=1");
    cr_expect_eq(svc_wait(&s), 0);
    cr_expect_eq(access(sock, F_OK), 0, "not ours to remove");
    cr_expect_eq(access(mgmt, F_OK), 0, "not ours to remove");
    close(nfd);
}

/* Wrong activations are refused with a reason; activation of another
 * process (LISTEN_PID) is not ours. */
Test(service, activation_errors)
{
    char sock[128], out[1024], err[2048];
    int fds[2];
    const char *argv[] = {edu_path(), NULL};
    const char *with_path[] = {edu_path(), "--socket-path=/tmp/x", NULL};

    snprintf(sock, sizeof(sock), "%s/a.sock", dir);
    fds[0] = listen_at(sock);
    snprintf(sock, sizeof(sock), "%s/b.sock", dir);
    fds[1] = listen_at(sock);

    struct spawn_opts two = {
        .pass = fds, .nr_pass = 2, .fdnames = "a:b", .err_to = -1};
    struct svc s = svc_spawn(argv, &two);
    read_all(s.out, out, sizeof(out));
    read_all(s.err, err, sizeof(err));
    cr_expect_eq(svc_wait(&s), 1);
    cr_expect_not_null(strstr(err, "two vfio-user sockets"), "%s", err);
    cr_expect_not_null(strstr(err, "FileDescriptorName=mgmt"), "%s", err);

    struct spawn_opts conflict = {
        .pass = fds, .nr_pass = 1, .fdnames = "vfio-user", .err_to = -1};
    s = svc_spawn(with_path, &conflict);
    read_all(s.out, out, sizeof(out));
    read_all(s.err, err, sizeof(err));
    cr_expect_eq(svc_wait(&s), 2);
    cr_expect_not_null(strstr(err, "no --socket-path or --fd"), "%s", err);

    /* LISTEN_PID of another process: no activation, so no socket given. */
    const char *envs[] = {"LISTEN_PID=1", "LISTEN_FDS=1", NULL};
    struct spawn_opts other = {
        .env = envs, .pass = fds, .nr_pass = 1, .err_to = -1};
    s = svc_spawn(argv, &other);
    read_all(s.out, out, sizeof(out));
    read_all(s.err, err, sizeof(err));
    cr_expect_eq(svc_wait(&s), 2);
    cr_expect_not_null(strstr(err, "exactly one of --socket-path and --fd"),
                       "%s", err);
    close(fds[0]);
    close(fds[1]);
}

/* SIGHUP (the terminal went away) stops it like SIGTERM: no socket file
 * stays behind; under nohup the hang-up is ignored. */
Test(service, sighup_stops_and_removes_sockets)
{
    char sock[128], mgmt[160], arg[160], line[512];
    const char *argv[] = {edu_path(), arg, NULL};

    snprintf(sock, sizeof(sock), "%s/edu.sock", dir);
    snprintf(mgmt, sizeof(mgmt), "%s.mgmt", sock);
    snprintf(arg, sizeof(arg), "--socket-path=%s", sock);

    struct svc s = svc_spawn(argv, NULL);
    find_line(s.out, "management socket: ", line, sizeof(line));
    cr_assert_eq(access(sock, F_OK), 0);
    cr_assert_eq(access(mgmt, F_OK), 0);
    cr_assert_eq(kill(s.pid, SIGHUP), 0);
    cr_expect_eq(svc_wait(&s), 0);
    cr_expect_neq(access(sock, F_OK), 0, "stale %s", sock);
    cr_expect_neq(access(mgmt, F_OK), 0, "stale %s", mgmt);

    struct spawn_opts nohup = {.ignore_hup = true, .err_to = -1};
    s = svc_spawn(argv, &nohup);
    find_line(s.out, "management socket: ", line, sizeof(line));
    cr_assert_eq(kill(s.pid, SIGHUP), 0);
    expect_edu_serves(sock); /* still there */
    cr_assert_eq(kill(s.pid, SIGTERM), 0);
    cr_expect_eq(svc_wait(&s), 0);
    cr_expect_neq(access(sock, F_OK), 0, "stale %s", sock);
}

/* The two notifications of a hand-over from old: the old server's
 * "MAINPID=N" and the successor's "MAINPID=N\nREADY=1", in either order,
 * naming the same new process; returns it. No STOPPING=1 from the old. */
static pid_t
expect_handover_notes(int nfd, pid_t old)
{
    char msg[256];
    int ready = 0;
    pid_t successor = 0;

    for (int i = 0; i < 2; i++) {
        int p = 0;

        notify_next(nfd, msg, sizeof(msg));
        cr_assert_eq(sscanf(msg, "MAINPID=%d", &p), 1, "'%s'", msg);
        cr_assert_gt(p, 0);
        cr_expect_neq(p, old, "%s", msg);
        cr_expect(!successor || successor == p, "%s after %d", msg,
                  (int)successor);
        ready += strstr(msg, "\nREADY=1") != NULL;
        successor = p;
    }
    cr_expect_eq(ready, 1, "READY=1 once");
    return successor;
}

static void
expect_took_over_from(int out, pid_t old)
{
    char line[512], want[64];

    snprintf(want, sizeof(want), "(pid %d)", (int)old);
    find_line(out, "vdev-edu: took over from the previous server", line,
              sizeof(line));
    cr_expect_not_null(strstr(line, want), "%s, want %s", line, want);
}

static void
expect_exit_0(pid_t pid)
{
    int status = -1;

    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d",
              status);
}

/* Upgrades, by SIGUSR2 and by the management command: each time the old
 * server names the successor the main process, the successor says so too
 * with READY=1 and prints the old one's pid. */
Test(service, handover_mainpid_and_previous_pid)
{
    char sock[128], mgmt[160], arg[160], up[PATH_MAX + 16], env[160], msg[256],
        cmd[PATH_MAX + 16], reply[256];
    int nfd = notify_socket(true, env, sizeof(env));
    const char *envs[] = {env, NULL};
    struct spawn_opts o = {.env = envs, .err_to = -1};
    pid_t second, third;

    /* Successors are the old servers' children: ours once orphaned. */
    cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    snprintf(sock, sizeof(sock), "%s/edu.sock", dir);
    snprintf(mgmt, sizeof(mgmt), "%s.mgmt", sock);
    snprintf(arg, sizeof(arg), "--socket-path=%s", sock);
    snprintf(up, sizeof(up), "--upgrade-to=%s", edu_path());
    const char *argv[] = {edu_path(), arg, up, NULL};
    struct svc s = svc_spawn(argv, &o);

    notify_next(nfd, msg, sizeof(msg));
    cr_assert_str_eq(msg, "READY=1");
    cr_assert_eq(kill(s.pid, SIGUSR2), 0);
    second = expect_handover_notes(nfd, s.pid);
    expect_took_over_from(s.out, s.pid);
    expect_edu_serves(sock);

    snprintf(cmd, sizeof(cmd), "upgrade %s", edu_path());
    cr_assert_eq(vdev_mgmt_client_command(mgmt, cmd, reply, sizeof(reply)), 0,
                 "%s", reply);
    third = expect_handover_notes(nfd, second);
    cr_expect_neq(third, s.pid);
    expect_took_over_from(s.out, second);
    cr_expect_eq(svc_wait(&s), 0, "the first server exits");
    expect_exit_0(second);
    expect_edu_serves(sock);

    cr_assert_eq(kill(third, SIGTERM), 0);
    notify_next(nfd, msg, sizeof(msg));
    cr_expect_str_eq(msg, "STOPPING=1");
    expect_exit_0(third);
    cr_expect_neq(access(sock, F_OK), 0, "the last server removed it");
    cr_expect_neq(access(mgmt, F_OK), 0, "the last server removed it");
    close(nfd);
}

/* NAME[PID]: LEVEL: message, with the syslog priority first when stderr
 * is the journal stream JOURNAL_STREAM names. */
Test(service, log_lines_and_journal_priorities)
{
    char err[2048], env[96], want[128];
    const char *argv[] = {edu_path(), "--bogus", NULL};
    struct stat st;
    int p[2];

    struct svc s = svc_spawn(argv, NULL);
    read_all(s.err, err, sizeof(err));
    cr_expect_eq(svc_wait(&s), 2);
    snprintf(want, sizeof(want),
             "vdev-edu[%d]: error: unknown option '--bogus'\n", (int)s.pid);
    cr_expect_eq(strncmp(err, want, strlen(want)), 0, "%s", err);

    /* stderr is the "journal": a pipe whose dev:ino JOURNAL_STREAM names */
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    cr_assert_eq(fstat(p[1], &st), 0);
    snprintf(env, sizeof(env), "JOURNAL_STREAM=%llu:%llu",
             (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    const char *envs[] = {env, NULL};
    struct spawn_opts o = {.env = envs, .err_to = p[1]};
    s = svc_spawn(argv, &o);
    close(p[1]);
    read_all(p[0], err, sizeof(err));
    close(p[0]);
    cr_expect_eq(svc_wait(&s), 2);
    snprintf(want, sizeof(want),
             "<3>vdev-edu[%d]: error: unknown option '--bogus'\n", (int)s.pid);
    cr_expect_eq(strncmp(err, want, strlen(want)), 0, "%s", err);

    /* Set, but stderr is something else: no priorities. */
    const char *stale[] = {"JOURNAL_STREAM=1:1", NULL};
    struct spawn_opts o2 = {.env = stale, .err_to = -1};
    s = svc_spawn(argv, &o2);
    read_all(s.err, err, sizeof(err));
    cr_expect_eq(svc_wait(&s), 2);
    cr_expect_eq(strncmp(err, "vdev-edu[", 9), 0, "%s", err);
}

/* --print-capabilities wins wherever it is, even after an unknown option
 * or beside a bad value. */
Test(service, print_capabilities_wins)
{
    static const char *const cases[][4] = {
        {"--bogus", "--print-capabilities", NULL},
        {"--print-capabilities", "--fd=banana", NULL},
        {"--socket-path", "--log-level=loud", "--print-capabilities", NULL},
        {"--print-cap", NULL}, /* getopt's abbreviation */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[512], err[512];
        const char *argv[6] = {edu_path()};

        for (int k = 0; cases[i][k]; k++)
            argv[k + 1] = cases[i][k];
        struct svc s = svc_spawn(argv, NULL);
        read_all(s.out, out, sizeof(out));
        read_all(s.err, err, sizeof(err));
        cr_expect_eq(svc_wait(&s), 0, "case %zu: %s", i, err);
        cr_expect_eq(strncmp(out, "{\"type\": \"vfio-user-pci\"", 24), 0,
                     "case %zu: %s", i, out);
        cr_expect_str_eq(err, "", "case %zu", i);
    }
}
