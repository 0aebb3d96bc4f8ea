/* The generated conformance checkers (vdevc --emit=check): each passes
 * against its model server (and the language examples' servers), and
 * fails, naming the register and the broken invariant, against servers
 * whose generated C had one register's access kind changed by hand. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "child.h"
#include "emit_check.h"
#include "vdevc_test.h"

static const char *
build_dir(void)
{
    const char *b = getenv("VDEV_BUILD");
    return b ? b : "build";
}

struct server {
    pid_t pid;
    char dir[64];
    char sock[128];
};

/* Starts prog on a socket in a fresh temp dir; the checker waits for it. */
static void
server_start(struct server *s, const char *prog)
{
    char arg[200];
    cr_assert_eq(access(prog, X_OK), 0, "%s not built", prog);
    snprintf(s->dir, sizeof(s->dir), "/tmp/vdev-conform-XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir));
    snprintf(s->sock, sizeof(s->sock), "%s/dev.sock", s->dir);
    snprintf(arg, sizeof(arg), "--socket-path=%s", s->sock);
    s->pid = fork();
    cr_assert_geq(s->pid, 0);
    if (s->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (null >= 0)
            dup2(null, 1);
        execl(prog, prog, arg, (char *)NULL);
        _exit(127);
    }
}

/* SIGTERM; the server must still be running (no crash on our accesses)
 * and exit cleanly. */
static void
server_stop(struct server *s)
{
    int status;
    cr_assert_eq(waitpid(s->pid, &status, WNOHANG), 0,
                 "the server died during the check");
    kill(s->pid, SIGTERM);
    status = child_reap(s->pid, "the model server");
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "server exit status 0x%x", status);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s.mgmt", s->sock);
    unlink(path);
    unlink(s->sock);
    rmdir(s->dir);
}

/* Runs the checker (with --lanes when lanes) against prog; returns its
 * exit code. */
static int
run_checker(void *ctx, const char *server, const char *checker,
            const char *nrand, const char *seed, bool lanes, char **out,
            char **err)
{
    struct server s;
    server_start(&s, server);
    char *argv[] = {(char *)checker,
                    (char *)"--random",
                    (char *)nrand,
                    (char *)"--seed",
                    (char *)seed,
                    s.sock,
                    lanes ? (char *)"--lanes" : NULL,
                    NULL};
    cr_assert_eq(access(checker, X_OK), 0, "%s not built", checker);
    int status = vt_run(ctx, argv, out, err);
    server_stop(&s);
    cr_assert(WIFEXITED(status), "%s did not exit (status 0x%x)", checker,
              status);
    return WEXITSTATUS(status);
}

/* "conformance DEV: N checks passed\n" with N > 0. */
static void
expect_pass(const char *what, int code, const char *out, const char *err)
{
    cr_assert_eq(code, 0, "%s: checker exit %d:\n%s%s", what, code, out, err);
    unsigned long n = 0;
    char dev[64];
    cr_assert_eq(sscanf(out, "conformance %63[^:]: %lu checks passed", dev, &n),
                 2, "%s: summary line: %s", what, out);
    cr_assert_gt(n, 100, "%s: only %lu checks", what, n);
}

static const char *
base(void *ctx, const char *path, const char *suffix)
{
    const char *b = strrchr(path, '/');
    char *s = talloc_strdup(ctx, b ? b + 1 : path);
    size_t n = strlen(s), k = strlen(suffix);
    if (n > k && strcmp(s + n - k, suffix) == 0)
        s[n - k] = '\0';
    return s;
}

Test(conformance, every_model)
{
    void *ctx = talloc_new(NULL);
    char **models = vt_glob(ctx, "models/*.vdev");
    unsigned n = 0;
    for (; models[n] != NULL; n++) {
        const char *m = base(ctx, models[n], ".vdev");
        char *out, *err;
        int code = run_checker(
            ctx, talloc_asprintf(ctx, "%s/bin/vdev-%s", build_dir(), m),
            talloc_asprintf(ctx, "%s/check/check-%s", build_dir(), m), "3000",
            "1", true, &out, &err);
        expect_pass(m, code, out, err);
    }
    cr_assert_geq(n, 3, "models/ has %u models", n);
    talloc_free(ctx);
}

/* The language reference's examples cover every access kind, fields,
 * arrays, blocks and hooks. */
Test(conformance, language_examples)
{
    void *ctx = talloc_new(NULL);
    char **srv =
        vt_glob(ctx, talloc_asprintf(ctx, "%s/tests/vdev-lang-*", build_dir()));
    unsigned n = 0;
    for (; srv[n] != NULL; n++) {
        const char *l = base(ctx, srv[n], "") + strlen("vdev-lang-");
        char *out, *err;
        int code = run_checker(
            ctx, srv[n],
            talloc_asprintf(ctx, "%s/check/check-lang-%s", build_dir(), l),
            "2000", "7", true, &out, &err);
        expect_pass(l, code, out, err);
    }
    cr_assert_geq(n, 10, "only %u language examples built", n);
    talloc_free(ctx);
}

/* The oracle with other seeds: the same seed gives the same run. */
Test(conformance, random_seeds)
{
    void *ctx = talloc_new(NULL);
    const char *srv = talloc_asprintf(ctx, "%s/bin/vdev-edu", build_dir());
    const char *chk = talloc_asprintf(ctx, "%s/check/check-edu", build_dir());
    static const char *const seeds[] = {"2", "0x5eed", "12345678901"};
    for (unsigned i = 0; i < 3; i++) {
        char *out, *err;
        int code =
            run_checker(ctx, srv, chk, "4000", seeds[i], i > 0, &out, &err);
        expect_pass(seeds[i], code, out, err);
    }
    char *a, *b, *err;
    cr_assert_eq(run_checker(ctx, srv, chk, "1000", "99", true, &a, &err), 0);
    cr_assert_eq(run_checker(ctx, srv, chk, "1000", "99", true, &b, &err), 0);
    cr_assert_str_eq(a, b);
    talloc_free(ctx);
}

/* A mutant server must fail its checker with exit 1, naming the register
 * and the invariant. */
static void
expect_fail_run(const char *mutant, const char *checker, const char *nrand,
                bool lanes, const char *reg, const char *invariant)
{
    void *ctx = talloc_new(NULL);
    char *out, *err;
    int code = run_checker(
        ctx,
        talloc_asprintf(ctx, "%s/tests/vdev-mutant-%s", build_dir(), mutant),
        talloc_asprintf(ctx, "%s/check/check-%s", build_dir(), checker), nrand,
        "1", lanes, &out, &err);
    cr_assert_eq(code, 1, "%s: exit %d, expected 1:\n%s%s", mutant, code, out,
                 err);
    if (reg != NULL)
        cr_assert_not_null(
            strstr(err, talloc_asprintf(ctx, "register %s ", reg)),
            "%s: register %s not named:\n%s", mutant, reg, err);
    cr_assert_not_null(strstr(err, invariant), "%s: '%s' not named:\n%s",
                       mutant, invariant, err);
    cr_assert_null(strstr(out, "checks passed"));
    talloc_free(ctx);
}

static void
expect_fail(const char *mutant, const char *checker, const char *reg,
            const char *invariant)
{
    expect_fail_run(mutant, checker, "0", false, reg, invariant);
}

Test(conformance, mutant_ro_made_writable)
{
    expect_fail("edu-irq_status-rw", "edu", "irq_status",
                "read-only bits ignore writes");
}

Test(conformance, mutant_rw_made_readonly)
{
    expect_fail("idio16-out0_7-ro", "gpio-pci-idio-16", "out0_7",
                "rw bits keep what was written");
}

Test(conformance, mutant_w1c_made_plain_store)
{
    expect_fail("regs-irq_ack-rw", "lang-03-registers", "irq_ack",
                "w1c clears exactly the ones written");
}

Test(conformance, mutant_rs_dropped)
{
    expect_fail("regs-lock-ro", "lang-03-registers", "lock",
                "rs bits set on read");
}

/* A byte-lane bug (a narrow write replaces the whole register): full
 * width accesses cannot see it, the oracle's --lanes accesses do. */
Test(conformance, mutant_lanes)
{
    void *ctx = talloc_new(NULL);
    char *out, *err;
    int code = run_checker(
        ctx,
        talloc_asprintf(ctx, "%s/tests/vdev-mutant-regs-lanes", build_dir()),
        talloc_asprintf(ctx, "%s/check/check-lang-03-registers", build_dir()),
        "3000", "1", false, &out, &err);
    expect_pass("regs-lanes without --lanes", code, out, err);
    talloc_free(ctx);
    expect_fail_run("regs-lanes", "lang-03-registers", "3000", true, NULL,
                    "rw bits keep what was written");
}

Test(conformance, usage)
{
    void *ctx = talloc_new(NULL);
    const char *chk = talloc_asprintf(ctx, "%s/check/check-edu", build_dir());
    char *argv1[] = {(char *)chk, NULL};
    char *argv2[] = {(char *)chk, (char *)"--random", (char *)"x",
                     (char *)"sock", NULL};
    char *out, *err;
    int st = vt_run(ctx, argv1, &out, &err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    cr_assert_not_null(strstr(err, "usage: check-edu"));
    st = vt_run(ctx, argv2, &out, &err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    talloc_free(ctx);
}

/* vdevc --emit=check is deterministic and is what the build compiled. */
Test(conformance, emit_deterministic)
{
    void *ctx = talloc_new(NULL);
    char *argv[] = {(char *)vt_vdevc(ctx), (char *)"--emit=check",
                    (char *)"models/edu.vdev", NULL};
    char *a, *b, *err;
    cr_assert_eq(vt_run(ctx, argv, &a, &err), 0, "%s", err);
    cr_assert_eq(vt_run(ctx, argv, &b, &err), 0, "%s", err);
    cr_assert_str_eq(a, b);
    size_t len;
    char *built = vt_read(
        ctx, talloc_asprintf(ctx, "%s/check/edu_check.c", build_dir()), &len);
    cr_assert_not_null(built);
    cr_assert_str_eq(a, built);
    cr_assert_not_null(strstr(a, "#include \"vdev_check.h\""));
    talloc_free(ctx);
}

static char *
emit_check(void *ctx, const char *path)
{
    size_t len;
    char *src = vt_read(ctx, path, &len);
    cr_assert_not_null(src, "cannot read %s", path);
    int rc;
    struct vdevc_unit *u = vt_compile(ctx, path, src, len, &rc);
    cr_assert_eq(rc, 0, "%s does not compile", path);
    char *text = vdevc_emit_check(ctx, u);
    cr_assert_not_null(text, "%s: no checker", path);
    return text;
}

/* The table entry of register name, up to its closing brace. */
static char *
reg_entry(void *ctx, const char *text, const char *name)
{
    const char *at =
        strstr(text, talloc_asprintf(ctx, ".name = \"%s\",", name));
    cr_assert_not_null(at, "no entry for %s", name);
    const char *end = strstr(at, "\n    },");
    cr_assert_not_null(end);
    return talloc_strndup(ctx, at, (size_t)(end - at));
}

/* The hook analysis: what a hook assigns (and a C call: everything) is
 * what the checker stops trusting. */
Test(conformance, hook_effects)
{
    void *ctx = talloc_new(NULL);
    char *edu = emit_check(ctx, "models/edu.vdev");
    /* irq_raise's write hook assigns irq_status (register 4), not
     * itself; fact's calls factorial(); liveness assigns itself. */
    cr_assert_not_null(strstr(edu, "    4, /* irq_status */\n"));
    char *raise = reg_entry(ctx, edu, "irq_raise");
    char *fact = reg_entry(ctx, edu, "fact");
    char *live = reg_entry(ctx, edu, "liveness");
    cr_assert_not_null(strstr(raise, ".offset = 0x60u,\n"));
    cr_assert_not_null(strstr(raise, ".nr_wtaint = 1,"));
    cr_assert_null(strstr(raise, "self"), "%s", raise);
    cr_assert_null(strstr(raise, "all = true"), "%s", raise);
    cr_assert_not_null(strstr(fact, ".wself = true,\n        .wall = true,"));
    cr_assert_null(strstr(fact, ".rall"));
    cr_assert_not_null(strstr(live, ".wself = true,"));
    cr_assert_null(strstr(live, ".rself"));
    /* Uncovered bits of a register with fields are reserved. */
    cr_assert_not_null(
        strstr(edu, "{\"status (bits no field covers)\", 0xffffff7eu, "
                    "VDEV_CHK_RESERVED},"));
    talloc_free(ctx);
}

/* Every language example (C calls included) gets a checker. */
Test(conformance, emit_every_example)
{
    void *ctx = talloc_new(NULL);
    char **files = vt_glob(ctx, "tests/golden/lang/*.vdev");
    unsigned n = 0;
    for (; files[n] != NULL; n++)
        cr_assert_not_null(strstr(emit_check(ctx, files[n]),
                                  "return vdev_check_main(argc, argv, "
                                  "&chk_device);"));
    cr_assert_geq(n, 14);
    char *ext = emit_check(ctx, "tests/golden/lang/12-extern.vdev");
    cr_assert_not_null(strstr(ext, ".wall = true,"));
    talloc_free(ctx);
}
