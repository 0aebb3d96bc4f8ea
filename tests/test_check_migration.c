/* `vdevc --check-migration OLD NEW`, golden style: every pair
 * tests/migration/check/NAME.old.vdev + NAME.new.vdev gives exactly the exit
 * status and output in NAME.expect (tests/migration/update.sh regenerates
 * them); every diagnostic points at the definition it names; the counter
 * revisions the cross-version tests run check as they migrate. Also: the
 * committed vdevc output of those revisions is fresh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>

#include "vdevc_test.h"

struct result {
    int status;
    char *out, *err;
};

static struct result
check(void *ctx, const char *old, const char *new)
{
    char *argv[] = {(char *)vt_vdevc(ctx), (char *)"--check-migration",
                    (char *)old, (char *)new, NULL};
    struct result r;
    int st = vt_run(ctx, argv, &r.out, &r.err);

    cr_assert(WIFEXITED(st), "vdevc did not exit normally (%s %s)", old, new);
    r.status = WEXITSTATUS(st);
    return r;
}

/* The option lands with the compiler's branch; until then there is
 * nothing to test (the expectations record what it says). */
static void
need_option(void *ctx)
{
    char *argv[] = {(char *)vt_vdevc(ctx), (char *)"--help", NULL};
    char *out;

    vt_run(ctx, argv, &out, NULL);
    if (strstr(out, "--check-migration") == NULL)
        cr_skip_test("this vdevc has no --check-migration");
}

static char *
expect_text(void *ctx, const struct result *r)
{
    return talloc_asprintf(ctx, "exit %d\n-- stdout\n%s-- stderr\n%s",
                           r->status, r->out, r->err);
}

static char *
replace_ext(void *ctx, const char *path, const char *from, const char *to)
{
    size_t n = strlen(path) - strlen(from);
    return talloc_asprintf(ctx, "%.*s%s", (int)n, path, to);
}

Test(check_migration, golden_pairs)
{
    void *ctx = talloc_new(NULL);
    char **olds = vt_glob(ctx, "tests/migration/check/*.old.vdev");
    unsigned n = 0, compatible = 0;

    need_option(ctx);
    for (char **p = olds; *p; p++, n++) {
        char *new = replace_ext(ctx, *p, ".old.vdev", ".new.vdev");
        char *exp = replace_ext(ctx, *p, ".old.vdev", ".expect");
        char *want = vt_read(ctx, exp, NULL);
        struct result r = check(ctx, *p, new);
        char *d;

        cr_assert_not_null(want, "%s: missing (make golden-update)", exp);
        d = vt_diff(ctx, want, expect_text(ctx, &r));
        cr_expect_null(d, "%s differs from vdevc's answer: %s", exp, d);
        cr_expect(r.status == 0 || r.status == 1, "%s: exit %d", *p, r.status);
        cr_expect_eq(r.status == 0, r.err[0] == '\0',
                     "%s: errors exactly when incompatible", *p);
        compatible += r.status == 0;
    }
    cr_assert_geq(n, 8, "the pairs are there");
    cr_assert_geq(compatible, 1);
    cr_assert_lt(compatible, n);
    talloc_free(ctx);
}

/* file:line:col of each error names a line whose text at col is the
 * (last part of the) quoted name in the message. */
static void
check_locations(void *ctx, const char *err)
{
    char *copy = talloc_strdup(ctx, err), *save = NULL;

    for (char *l = strtok_r(copy, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        char path[256], *q1, *q2, *name, *at;
        unsigned line, col;

        /* A syntax error points where the text breaks, not at a name. */
        if (!strstr(l, ": error: ") || strstr(l, "[syntax-error]") ||
            sscanf(l, "%255[^:]:%u:%u:", path, &line, &col) != 3)
            continue;
        q1 = strchr(l, '\'');
        q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
        if (!q2)
            continue;
        name = talloc_strndup(ctx, q1 + 1, (size_t)(q2 - q1 - 1));
        if (strrchr(name, '.'))
            name = strrchr(name, '.') + 1;
        at = vt_read(ctx, path, NULL);
        cr_assert_not_null(at, "%s", l);
        for (unsigned i = 1; i < line && at; i++) {
            at = strchr(at, '\n');
            at = at ? at + 1 : NULL;
        }
        cr_assert_not_null(at, "%s: no line %u", path, line);
        cr_assert_geq(col, 1);
        cr_expect(strncmp(at + col - 1, name, strlen(name)) == 0,
                  "'%s' is not at %s:%u:%u", name, path, line, col);
    }
}

Test(check_migration, diagnostics_point_at_definitions)
{
    void *ctx = talloc_new(NULL);
    char **olds = vt_glob(ctx, "tests/migration/check/*.old.vdev");

    need_option(ctx);
    for (char **p = olds; *p; p++) {
        char *new = replace_ext(ctx, *p, ".old.vdev", ".new.vdev");
        check_locations(ctx, check(ctx, *p, new).err);
    }
    talloc_free(ctx);
}

Test(check_migration, counter_revisions)
{
    void *ctx = talloc_new(NULL);
    struct result r;

    need_option(ctx);
    r = check(ctx, "tests/migration/counter-v1.vdev",
              "tests/migration/counter-v2.vdev");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_eq(r.err, "");
    r = check(ctx, "tests/migration/counter-v2.vdev",
              "tests/migration/counter-v1.vdev");
    cr_assert_eq(r.status, 1);
    cr_expect(strstr(r.err, "'limit'") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "'state.wraps'") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "version") != NULL, "%s", r.err);
    check_locations(ctx, r.err);
    /* A revision against itself always loads. */
    r = check(ctx, "tests/migration/counter-v2.vdev",
              "tests/migration/counter-v2.vdev");
    cr_assert_eq(r.status, 0, "%s", r.err);
    talloc_free(ctx);
}

/* The servers of tests/migration/ are built from committed vdevc output. */
Test(check_migration, revisions_output_fresh)
{
    void *ctx = talloc_new(NULL);
    char **revs = vt_glob(ctx, "tests/migration/*-v*.vdev");
    unsigned n = 0;

    for (char **p = revs; *p; p++, n++) {
        size_t len;
        char *src = vt_read(ctx, *p, &len);
        int rc;
        struct vdevc_unit *u;
        char *hpath = replace_ext(ctx, *p, ".vdev", ".h");

        cr_assert_not_null(src);
        u = vt_compile(ctx, *p, src, len, &rc);
        cr_assert_eq(rc, 0, "%s:\n%s", *p, u->diag->text);
        u->header_name = strrchr(hpath, '/') + 1;
        const char *got[2] = {vdevc_emit_c(ctx, u), vdevc_emit_h(ctx, u)};
        const char *files[2] = {replace_ext(ctx, *p, ".vdev", ".c"), hpath};
        for (int i = 0; i < 2; i++) {
            char *want = vt_read(ctx, files[i], NULL);
            cr_assert_not_null(want, "%s missing (make golden-update)",
                               files[i]);
            char *d = vt_diff(ctx, want, got[i]);
            cr_expect_null(d, "%s is stale (make golden-update): %s", files[i],
                           d);
        }
    }
    cr_assert_geq(n, 2);
    talloc_free(ctx);
}

/* Every model and golden device can load its own stream. */
Test(check_migration, every_device_loads_itself)
{
    void *ctx = talloc_new(NULL);
    static const char *const globs[] = {"models/*.vdev", "tests/golden/*.vdev",
                                        "tests/golden/lang/*.vdev"};
    unsigned n = 0;

    need_option(ctx);
    for (unsigned g = 0; g < sizeof(globs) / sizeof(globs[0]); g++)
        for (char **p = vt_glob(ctx, globs[g]); *p; p++, n++) {
            struct result r = check(ctx, *p, *p);
            cr_expect_eq(r.status, 0, "%s: %s", *p, r.err);
        }
    cr_assert_geq(n, 10);
    talloc_free(ctx);
}
