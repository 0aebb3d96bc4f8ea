/* vdevctl MGMT watch against a GPIO card server: timestamped lines per
 * change when stdout is a pipe; on a terminal (a pty here) a view redrawn
 * in place with the changed values highlighted, and the terminal given
 * back (cursor shown, attributes reset) when SIGTERM or SIGINT ends it. */
#include <criterion/criterion.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "model_server.h"
#include "vdevctl_run.h"

#define OUT_CAP (1 << 20)

static struct model_server srv;
static char *out;

static void
setup(void)
{
    model_server_start(&srv, "gpio-pci-idio-16");
    out = calloc(1, OUT_CAP);
    cr_assert_not_null(out);
}

static void
teardown(void)
{
    free(out);
    model_server_stop(&srv);
}

TestSuite(vdevctl_watch, .init = setup, .fini = teardown, .timeout = 60);

/* Ends the watch with sig; returns its exit status. */
static int
stop(pid_t pid, int sig)
{
    int st;

    cr_assert_eq(kill(pid, sig), 0);
    st = child_reap(pid, "vdevctl watch");
    cr_assert(WIFEXITED(st), "watch died of signal %d", WTERMSIG(st));
    return WEXITSTATUS(st);
}

static void
drain(int fd)
{
    size_t len = strlen(out);
    ssize_t n;

    while (len + 1 < OUT_CAP && (n = read(fd, out + len, 4096)) > 0)
        len += (size_t)n;
    out[len] = '\0';
}

Test(vdevctl_watch, plain_lines_per_change)
{
    const char *argv[] = {srv.mgmt, "watch", "-i", "0.05", NULL};
    int p[2];

    cr_assert_eq(pipe(p), 0);
    pid_t pid = vdevctl_spawn(p[1], argv);
    close(p[1]);
    /* the first refresh lists every value */
    cr_assert(read_until(p[0], out, OUT_CAP, " state.filters=0x0\n", 10000),
              "%s", out);
    cr_expect_not_null(strstr(out, " state.inputs=0x0000\n"), "%s", out);
    cr_expect_eq(strncmp(out, "20", 2), 0, "timestamped: %s", out);
    cr_expect_eq(out[10], 'T', "%s", out);
    size_t first = strlen(out);
    model_set(&srv, "state.inputs", 0x8001);
    cr_assert(read_until(p[0], out, OUT_CAP,
                         " state.inputs=0x8001 (was 0x0000)\n", 10000),
              "%s", out + first);
    cr_expect_not_null(strstr(out + first, " in0_7=0x01 (was 0x00)\n"));
    cr_expect_not_null(strstr(out + first, " in8_15=0x80 (was 0x00)\n"));
    /* unchanged values are not repeated */
    cr_expect_null(strstr(out + first, " out0_7="), "%s", out + first);
    cr_expect_not_null(strstr(out, " messages/s="), "rates: %s", out);
    cr_expect_eq(stop(pid, SIGTERM), 0);
    close(p[0]);
}

static pid_t
spawn_on_pty(int *master, const char *const *argv)
{
    struct winsize ws = {.ws_row = 40, .ws_col = 100};
    int slave;

    cr_assert_eq(openpty(master, &slave, NULL, NULL, &ws), 0);
    pid_t pid = vdevctl_spawn(slave, argv);
    close(slave);
    return pid;
}

Test(vdevctl_watch, terminal_view_highlights_changes)
{
    const char *argv[] = {srv.mgmt, "watch", "--interval=0.05", NULL};
    int m;
    pid_t pid = spawn_on_pty(&m, argv);

    /* hide the cursor, clear, draw from the top; a frame ends in ESC[J */
    cr_assert(read_until(m, out, OUT_CAP, "\033[J", 10000), "%s", out);
    cr_expect_eq(
        strncmp(out, "\033[?25l\033[H\033[2J\033[H\033[1mvdevctl watch ", 30),
        0, "%s", out);
    cr_expect_not_null(strstr(out, "state.inputs"), "%s", out);
    cr_expect_null(strstr(out, "\033[1;7m"), "nothing changed yet: %s", out);
    size_t first = strlen(out);
    model_set(&srv, "state.inputs", 0x0100);
    cr_assert(read_until(m, out, OUT_CAP, "\033[1;7mstate.inputs", 10000), "%s",
              out + first);
    const char *frame = strstr(out + first, "\033[1;7mstate.inputs");
    /* the whole line is highlighted, the value in it */
    cr_expect_eq(strncmp(strstr(frame, "0x"), "0x0100\033[0m", 10), 0, "%s",
                 frame);
    cr_expect_not_null(strstr(out + first, "\033[1;7min8_15"), "%s",
                       out + first);
    cr_expect_null(strstr(out + first, "\033[1;7mout0_7"), "%s", out + first);
    cr_expect_not_null(strstr(out + first, "messages/s "), "%s", out + first);
    cr_expect_eq(stop(pid, SIGTERM), 0);
    drain(m);
    close(m);
    size_t len = strlen(out);
    cr_assert_geq(len, 10);
    cr_expect_str_eq(out + len - 10, "\033[0m\033[?25h",
                     "terminal restored at the end");
}

Test(vdevctl_watch, ctrl_c_restores_the_terminal)
{
    const char *argv[] = {srv.mgmt, "watch", NULL};
    int m;
    pid_t pid = spawn_on_pty(&m, argv);

    cr_assert(read_until(m, out, OUT_CAP, "\033[J", 10000), "%s", out);
    /* the default interval is a second: the signal must not wait for it */
    cr_expect_eq(stop(pid, SIGINT), 0);
    drain(m);
    close(m);
    size_t len = strlen(out);
    cr_expect_str_eq(out + len - 10, "\033[0m\033[?25h");
}

Test(vdevctl_watch, count_stops_it)
{
    struct vdevctl_run r;

    vdevctl_run(&r, srv.mgmt, "watch", "-n", "2", "-i", "0.01", NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.out, " state.inputs=0x0000\n"), "%s", r.out);
    cr_expect_lt(r.ms, 5000);
    vdevctl_run_free(&r);
}

/* The server going away ends the watch with status 1 and a message. */
Test(vdevctl_watch, server_gone)
{
    const char *argv[] = {srv.mgmt, "watch", "-i", "0.05", NULL};
    int p[2], st;

    cr_assert_eq(pipe(p), 0);
    pid_t pid = vdevctl_spawn(p[1], argv);
    close(p[1]);
    cr_assert(read_until(p[0], out, OUT_CAP, " state.filters=0x0\n", 10000));
    model_server_stop(&srv);
    drain(p[0]);
    close(p[0]);
    st = child_reap(pid, "vdevctl watch");
    cr_assert(WIFEXITED(st));
    cr_expect_eq(WEXITSTATUS(st), 1, "%s", out);
    cr_expect_not_null(strstr(out, "vdevctl["), "%s", out);
    cr_expect_not_null(strstr(out, "]: error: "), "%s", out);
}
