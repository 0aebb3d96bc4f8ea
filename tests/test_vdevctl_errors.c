/* vdevctl's failures say what to do, and fast: no server at the path, a
 * command sent to the wrong one of a server's two sockets (with or without
 * the PATH.mgmt naming to go by), a server busy with another client; and
 * the command-line contract: -h, -V, exit status 2 for usage errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model_server.h"
#include "vdevctl_run.h"

static struct model_server srv;

static void
setup(void)
{
    model_server_start(&srv, "edu");
}

static void
teardown(void)
{
    model_server_stop(&srv);
}

TestSuite(vdevctl_errors, .init = setup, .fini = teardown, .timeout = 60);

#define expect_has(text, needle)                                               \
    cr_expect_not_null(strstr((text), (needle)), "missing \"%s\" in:\n%s",     \
                       (needle), (text))

/* Runs a failing vdevctl; checks status, a one-line "vdevctl[PID]: error: "
 * message holding want, nothing on stdout, and that it took under max_ms. */
static void
expect_failure(int status, const char *want, long max_ms, const char *a0,
               const char *a1, const char *a2)
{
    struct vdevctl_run r;

    vdevctl_run(&r, a0, a1, a2, NULL);
    cr_expect_eq(r.status, status, "%s %s: exit %d: %s", a0, a1, r.status,
                 r.err);
    cr_expect(log_line_is(r.err, "error", NULL), "%s", r.err);
    expect_has(r.err, want);
    cr_expect_str_eq(r.out, "");
    cr_expect_lt(r.ms, max_ms, "took %ld ms", r.ms);
    vdevctl_run_free(&r);
}

Test(vdevctl_errors, no_server)
{
    char path[256], want[600];

    snprintf(path, sizeof(path), "%s/gone.sock", srv.dir);
    snprintf(want, sizeof(want),
             "no server at %s — is it running? (start one with "
             "%s/bin/vdev-NAME --socket-path=%s)\n",
             path, getenv("VDEV_BUILD") ? getenv("VDEV_BUILD") : "build", path);
    expect_failure(1, want, 2000, path, "info", NULL);
    /* for a management path the hint names the vfio-user path */
    snprintf(path, sizeof(path), "%s/gone.sock.mgmt", srv.dir);
    expect_failure(1, "--socket-path=", 2000, path, "list", NULL);
    snprintf(want, sizeof(want), "--socket-path=%s/gone.sock)\n", srv.dir);
    expect_failure(1, want, 2000, path, "list", NULL);
}

Test(vdevctl_errors, not_a_socket)
{
    char path[256], want[300];

    snprintf(path, sizeof(path), "%s/file", srv.dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    snprintf(want, sizeof(want), "%s is not a socket\n", path);
    expect_failure(1, want, 2000, path, "info", NULL);
    expect_failure(1, want, 2000, path, "stats", NULL);
    unlink(path);
}

/* Even with a VMM (our client) attached the answer is immediate. */
Test(vdevctl_errors, management_command_on_the_vfio_user_socket)
{
    char want[400];

    snprintf(want, sizeof(want),
             "%s is a vfio-user socket; management commands go to %s\n",
             srv.sock, srv.mgmt);
    expect_failure(1, want, 2000, srv.sock, "list", NULL);
    expect_failure(1, want, 2000, srv.sock, "get", "fact");
}

/* Without PATH.mgmt beside it the protocol tells: the padded request gets
 * a binary answer at once, and vdevctl checks it speaks vfio-user. */
Test(vdevctl_errors, management_command_on_a_lone_vfio_user_socket)
{
    char moved[256], want[400];
    char reply[64];

    snprintf(moved, sizeof(moved), "%s/elsewhere", srv.dir);
    cr_assert_eq(rename(srv.mgmt, moved), 0);
    model_server_detach(&srv);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_expect_eq(
        vdev_mgmt_client_command(srv.sock, "stats", reply, sizeof(reply)),
        -EPROTO);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_expect_lt(t1.tv_sec - t0.tv_sec, 2, "the library waited");
    snprintf(want, sizeof(want),
             "%s is a vfio-user socket; management commands go to the "
             "server's management socket (--mgmt-socket)\n",
             srv.sock);
    expect_failure(1, want, 3000, srv.sock, "stats", NULL);
    /* and the device still serves vfio-user afterwards */
    struct vdevctl_run r;
    vdevctl_run(&r, srv.sock, "read", "bar0", "0", "4", NULL);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "0x010000ed\n");
    vdevctl_run_free(&r);
    cr_assert_eq(rename(moved, srv.mgmt), 0);
}

Test(vdevctl_errors, vfio_user_command_on_the_management_socket)
{
    char want[400];

    snprintf(want, sizeof(want),
             "%s is a management socket; try: vdevctl %s list\n", srv.mgmt,
             srv.mgmt);
    expect_failure(1, want, 2000, srv.mgmt, "info", NULL);
    expect_failure(1, want, 2000, srv.mgmt, "reset", NULL);
    /* the management socket still answers */
    struct vdevctl_run r;
    vdevctl_run(&r, srv.mgmt, "get", "id", NULL);
    cr_expect_str_eq(r.out, "id=0x010000ed\n", "%s", r.err);
    vdevctl_run_free(&r);
}

/* The server serves one vfio-user client at a time; ours is attached. */
Test(vdevctl_errors, busy_server)
{
    char want[400];

    snprintf(want, sizeof(want),
             "%s serves another client (a VMM?) and takes one at a time; "
             "management commands still work: vdevctl %s list\n",
             srv.sock, srv.mgmt);
    expect_failure(1, want, 4000, srv.sock, "info", NULL);
}

Test(vdevctl_errors, usage_errors_exit_2)
{
    static const char *const cases[][4] = {
        {NULL, NULL, NULL, "missing SOCKET and COMMAND"},
        {"S", NULL, NULL, "missing COMMAND after S"},
        {"S", "frob", NULL, "unknown command 'frob'"},
        {"--frob", "S", "info", "unknown option '--frob'"},
        {"-q", "S", "info", "unknown option '-q'"},
        {"S", "watch", "-i", "option '-i' needs a value"},
        {"S", "read", "bar0",
         "usage: vdevctl SOCKET read REGION OFFSET "
         "WIDTH"},
        {"S", "info", "extra", "usage: vdevctl SOCKET info"},
        {"-x", "S", "list", "-x applies to info only"},
        {"--count=3", "S", "info", "--count applies to watch only"},
        {"--interval=0", "S", "watch", "invalid interval '0'"},
        {"-n", "0", "S", "invalid count '0'"},
        {"S", "mgmt", NULL, "usage: vdevctl SOCKET mgmt WORD..."},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vdevctl_run r;
        vdevctl_run(&r, cases[i][0], cases[i][1], cases[i][2], NULL);
        cr_expect_eq(r.status, 2, "case %zu: exit %d: %s", i, r.status, r.err);
        expect_has(r.err, cases[i][3]);
        expect_has(r.err, "\nTry 'vdevctl --help'.\n");
        cr_expect_str_eq(r.out, "");
        vdevctl_run_free(&r);
    }
}

Test(vdevctl_errors, help_and_version)
{
    struct vdevctl_run r;

    vdevctl_run(&r, "-h", NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_eq(
        strncmp(r.out, "Usage: vdevctl [OPTION]... SOCKET COMMAND", 41), 0,
        "%s", r.out);
    expect_has(r.out, "Exit status: 0 success, 1 the request failed, 2 wrong "
                      "command line.\n");
    vdevctl_run_free(&r);
    vdevctl_run(&r, "--help", NULL);
    cr_expect_eq(r.status, 0);
    vdevctl_run_free(&r);
    vdevctl_run(&r, "-V", NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(r.out, "vdevctl 0.1.0\n");
    vdevctl_run_free(&r);
    vdevctl_run(&r, "--version", NULL);
    cr_expect_str_eq(r.out, "vdevctl 0.1.0\n");
    vdevctl_run_free(&r);
}
