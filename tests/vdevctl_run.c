/* Test support: build/bin/vdevctl as a child process, and JSON Schema
 * validation of its output (see vdevctl_run.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "vdevctl_run.h"

#define MAX_ARGS 32

static long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
slurp_fd(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t n;

    cr_assert_not_null(buf);
    for (;;) {
        if (len + 1 == cap) {
            buf = realloc(buf, cap *= 2);
            cr_assert_not_null(buf);
        }
        n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

static void
prog_path(char *buf, size_t len)
{
    const char *b = getenv("VDEV_BUILD");

    snprintf(buf, len, "%s/bin/vdevctl", b ? b : "build");
}

void
vdevctl_run(struct vdevctl_run *r, const char *arg, ...)
{
    const char *argv[MAX_ARGS + 2];
    char prog[PATH_MAX], errpath[] = "/tmp/vdevctl-err-XXXXXX";
    int out[2], errfd, argc = 1, status;
    va_list ap;

    prog_path(prog, sizeof(prog));
    argv[0] = prog;
    va_start(ap, arg);
    for (const char *a = arg; a && argc < MAX_ARGS;
         a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    errfd = mkstemp(errpath);
    cr_assert_geq(errfd, 0);
    unlink(errpath);
    long t0 = now_ms();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(errfd, 2);
        execv(prog, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    r->out = slurp_fd(out[0]);
    close(out[0]);
    status = child_reap(pid, "vdevctl");
    r->ms = now_ms() - t0;
    lseek(errfd, 0, SEEK_SET);
    r->err = slurp_fd(errfd);
    close(errfd);
    cr_assert(WIFEXITED(status), "vdevctl %s died", arg ? arg : "");
    r->status = WEXITSTATUS(status);
}

void
vdevctl_run_free(struct vdevctl_run *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

pid_t
vdevctl_spawn(int fd, const char *const *argv)
{
    const char *args[MAX_ARGS + 2];
    char prog[PATH_MAX];
    int n = 1;

    prog_path(prog, sizeof(prog));
    args[0] = prog;
    for (; argv[n - 1] && n < MAX_ARGS; n++)
        args[n] = argv[n - 1];
    args[n] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        execv(prog, (char *const *)args);
        _exit(127);
    }
    return pid;
}

bool
read_until(int fd, char *buf, size_t cap, const char *needle, int timeout_ms)
{
    long end = now_ms() + timeout_ms;
    size_t len = strlen(buf);

    while (!strstr(buf, needle)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long left = end - now_ms();
        if (left <= 0 || len + 1 >= cap || poll(&p, 1, (int)left) != 1)
            return false;
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            return strstr(buf, needle) != NULL;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return true;
}

int
json_schema_check(const char *schema, const char *text, bool lines, char *why,
                  size_t cap)
{
    char path[] = "/tmp/vdevctl-json-XXXXXX", cmd[PATH_MAX * 2];
    int fd = mkstemp(path);
    size_t len = strlen(text), got = 0;

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    /* Debian's interpreter: python3-jsonschema lives in its path */
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 tests/validate_json.py %s "
             "tools/vdevctl/schema/%s.json %s 2>&1",
             lines ? "--lines" : "", schema, path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    why[0] = '\0';
    size_t n;
    while (got + 1 < cap && (n = fread(why + got, 1, cap - 1 - got, p)) > 0)
        got += n;
    why[got] = '\0';
    int st = child_pclose(p, "validate_json.py");
    unlink(path);
    cr_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

bool
log_line_is(const char *text, const char *level, const char *msg)
{
    size_t n = strlen(level);

    if (strncmp(text, "vdevctl[", 8) != 0)
        return false;
    text += 8;
    if (*text < '1' || *text > '9')
        return false;
    while (*text >= '0' && *text <= '9')
        text++;
    if (strncmp(text, "]: ", 3) != 0 || strncmp(text + 3, level, n) != 0 ||
        strncmp(text + 3 + n, ": ", 2) != 0)
        return false;
    return !msg || strcmp(text + 5 + n, msg) == 0;
}
