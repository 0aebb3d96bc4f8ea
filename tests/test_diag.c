/* vdevc's diagnostics: the golden cases in tests/golden/diag (each .vdev's
 * first line gives the options, NAME.expect the exit status and stderr),
 * JSON and SARIF reports checked for their required shape on every error
 * case, colour on a terminal and NO_COLOR, and "did you mean". */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "suggest.h"
#include "vdevc_test.h"

/* ------------------------------------------------------------ goldens */

/* argv for one case: env -u NO_COLOR [NAME=value...] vdevc ARGS FILE. */
static char **
case_argv(void *ctx, const char *path, const char *src)
{
    char **argv = talloc_zero_array(ctx, char *, 64);
    unsigned n = 0;
    argv[n++] = talloc_strdup(ctx, "/usr/bin/env");
    argv[n++] = talloc_strdup(ctx, "-u");
    argv[n++] = talloc_strdup(ctx, "NO_COLOR");
    const char *tag = "// vdevc:";
    char *line = strncmp(src, tag, strlen(tag)) == 0
                     ? talloc_strndup(ctx, src + strlen(tag),
                                      strcspn(src + strlen(tag), "\n"))
                     : talloc_strdup(ctx, "");
    bool opts = false;
    char *save = NULL;
    for (char *w = strtok_r(line, " ", &save); w && n < 60;
         w = strtok_r(NULL, " ", &save)) {
        if (!opts && strchr(w, '=') != NULL && w[0] >= 'A' && w[0] <= 'Z') {
            argv[n++] = w;
            continue;
        }
        if (!opts)
            argv[n++] = (char *)vt_vdevc(ctx);
        opts = true;
        argv[n++] = w;
    }
    if (!opts)
        argv[n++] = (char *)vt_vdevc(ctx);
    argv[n++] = (char *)path;
    return argv;
}

static char *
run_case(void *ctx, const char *path)
{
    char *src = vt_read(ctx, path, NULL);
    cr_assert_not_null(src, "%s", path);
    char *err;
    int st = vt_run(ctx, case_argv(ctx, path, src), NULL, &err);
    cr_assert(WIFEXITED(st), "%s: vdevc did not exit normally", path);
    /* update.sh records stderr through $(...), which drops the last
     * newline and puts one back. */
    size_t n = strlen(err);
    while (n > 0 && err[n - 1] == '\n')
        n--;
    return talloc_asprintf(ctx, "exit %d\n-- stderr\n%.*s\n", WEXITSTATUS(st),
                           (int)n, err);
}

Test(diag, golden_cases)
{
    void *ctx = talloc_new(NULL);
    char **paths = vt_glob(ctx, "tests/golden/diag/*.vdev");
    unsigned n = 0, failed = 0;
    for (; paths[n] != NULL; n++) {
        char *exp = talloc_strndup(ctx, paths[n], strlen(paths[n]) - 5);
        exp = talloc_strdup_append(exp, ".expect");
        char *want = vt_read(ctx, exp, NULL);
        if (want == NULL) {
            cr_log_error("%s: missing (make golden-update)", exp);
            failed++;
            continue;
        }
        char *d = vt_diff(ctx, want, run_case(ctx, paths[n]));
        if (d != NULL) {
            cr_log_error("%s differs: %s", exp, d);
            failed++;
        }
    }
    cr_expect_geq(n, 10, "the diagnostics cases are there");
    cr_expect_eq(failed, 0, "%u of %u diagnostics cases differ", failed, n);
    talloc_free(ctx);
}

/* ------------------------------------------------------------ JSON, SARIF */

static char *
diagnostics(void *ctx, const char *path, const char *format, int *_status)
{
    char *opt = talloc_asprintf(ctx, "--diagnostics-format=%s", format);
    char *argv[] = {(char *)vt_vdevc(ctx), opt,          (char *)"-o",
                    (char *)"/dev/null",   (char *)path, NULL};
    char *err;
    int st = vt_run(ctx, argv, NULL, &err);
    cr_assert(WIFEXITED(st));
    *_status = WEXITSTATUS(st);
    return err;
}

static json_object *
get(json_object *o, const char *key, json_type type, const char *where)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, key, &v), "%s: no '%s'", where, key);
    cr_assert(json_object_is_type(v, type), "%s: '%s' has the wrong type",
              where, key);
    return v;
}

static int
get_int(json_object *o, const char *key, const char *where)
{
    return json_object_get_int(get(o, key, json_type_int, where));
}

/* Errors a text run reports ("file:l:c: error:" lines). */
static unsigned
text_errors(void *ctx, const char *path)
{
    int st;
    char *t = diagnostics(ctx, path, "text", &st), *p = t;
    unsigned n = 0;
    while ((p = strstr(p, ": error: ")) != NULL) {
        n++;
        p++;
    }
    return n;
}

static void
check_span(json_object *o, const char *where, bool sarif)
{
    int l = get_int(o, sarif ? "startLine" : "line", where),
        c = get_int(o, sarif ? "startColumn" : "column", where),
        el = get_int(o, sarif ? "endLine" : "end_line", where),
        ec = get_int(o, sarif ? "endColumn" : "end_column", where);
    cr_expect(l >= 1 && c >= 1 && el >= l && ec >= 1, "%s: bad span", where);
    cr_expect(el > l || ec >= c, "%s: span ends before it starts", where);
}

static void
check_json(void *ctx, const char *path)
{
    int st;
    char *doc = diagnostics(ctx, path, "json", &st);
    json_object *root = json_tokener_parse(doc);
    cr_assert_not_null(root, "%s: not JSON:\n%s", path, doc);
    cr_expect_eq(get_int(root, "version", path), 1);
    json_object *list = get(root, "diagnostics", json_type_array, path);
    unsigned errors = 0;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *d = json_object_array_get_idx(list, i);
        const char *sev =
            json_object_get_string(get(d, "severity", json_type_string, path));
        cr_expect(strcmp(sev, "error") == 0 || strcmp(sev, "warning") == 0,
                  "%s: top-level severity %s", path, sev);
        errors += strcmp(sev, "error") == 0;
        get(d, "code", json_type_string, path);
        get(d, "message", json_type_string, path);
        if (json_object_object_get_ex(d, "line", NULL)) {
            get(d, "file", json_type_string, path);
            check_span(d, path, false);
        }
        json_object *fix;
        if (json_object_object_get_ex(d, "fixit", &fix)) {
            check_span(fix, path, false);
            get(fix, "replacement", json_type_string, path);
        }
        json_object *kids = get(d, "children", json_type_array, path);
        for (size_t k = 0; k < json_object_array_length(kids); k++) {
            json_object *c = json_object_array_get_idx(kids, k);
            const char *ks = json_object_get_string(
                get(c, "severity", json_type_string, path));
            cr_expect(strcmp(ks, "note") == 0 || strcmp(ks, "help") == 0);
            get(c, "message", json_type_string, path);
        }
    }
    cr_expect_eq(errors, text_errors(ctx, path),
                 "%s: JSON and text disagree on the errors", path);
    cr_expect_eq(get_int(root, "errors", path) > 0, st == 1, "%s", path);
    json_object_put(root);
}

/* The parts of SARIF 2.1.0 a consumer (GitHub code scanning, an IDE)
 * needs: version, runs[0].tool.driver {name, version, rules}, results
 * with ruleId/ruleIndex into rules, level, message.text and physical
 * locations with a region. */
static void
check_sarif(void *ctx, const char *path)
{
    int st;
    char *doc = diagnostics(ctx, path, "sarif", &st);
    json_object *root = json_tokener_parse(doc);
    cr_assert_not_null(root, "%s: not JSON:\n%s", path, doc);
    cr_expect_str_eq(
        json_object_get_string(get(root, "version", json_type_string, path)),
        "2.1.0");
    get(root, "$schema", json_type_string, path);
    json_object *runs = get(root, "runs", json_type_array, path);
    cr_assert_eq(json_object_array_length(runs), 1);
    json_object *run = json_object_array_get_idx(runs, 0);
    json_object *driver = get(get(run, "tool", json_type_object, path),
                              "driver", json_type_object, path);
    cr_expect_str_eq(
        json_object_get_string(get(driver, "name", json_type_string, path)),
        "vdevc");
    get(driver, "version", json_type_string, path);
    json_object *rules = get(driver, "rules", json_type_array, path);
    json_object *results = get(run, "results", json_type_array, path);
    unsigned errors = 0;
    for (size_t i = 0; i < json_object_array_length(results); i++) {
        json_object *r = json_object_array_get_idx(results, i);
        const char *id =
            json_object_get_string(get(r, "ruleId", json_type_string, path));
        int idx = get_int(r, "ruleIndex", path);
        cr_assert(idx >= 0 && (size_t)idx < json_object_array_length(rules));
        json_object *rule = json_object_array_get_idx(rules, (size_t)idx);
        cr_expect_str_eq(
            json_object_get_string(get(rule, "id", json_type_string, path)),
            id);
        const char *level =
            json_object_get_string(get(r, "level", json_type_string, path));
        cr_expect(strcmp(level, "error") == 0 || strcmp(level, "warning") == 0,
                  "%s: level %s", path, level);
        errors += strcmp(level, "error") == 0;
        json_object *msg = get(r, "message", json_type_object, path);
        cr_expect_gt(strlen(json_object_get_string(
                         get(msg, "text", json_type_string, path))),
                     0);
        json_object *locs = get(r, "locations", json_type_array, path);
        for (size_t k = 0; k < json_object_array_length(locs); k++) {
            json_object *phys = get(json_object_array_get_idx(locs, k),
                                    "physicalLocation", json_type_object, path);
            json_object *art =
                get(phys, "artifactLocation", json_type_object, path);
            cr_expect_str_eq(
                json_object_get_string(get(art, "uri", json_type_string, path)),
                path);
            check_span(get(phys, "region", json_type_object, path), path, true);
        }
    }
    cr_expect_eq(errors, text_errors(ctx, path),
                 "%s: SARIF and text disagree on the errors", path);
    json_object_put(root);
}

Test(diag, json_and_sarif_shapes_on_every_error_case)
{
    void *ctx = talloc_new(NULL);
    const char *globs[] = {"tests/golden/errors/*.vdev",
                           "tests/golden/diag/*.vdev"};
    unsigned n = 0;
    for (unsigned g = 0; g < 2; g++)
        for (char **p = vt_glob(ctx, globs[g]); *p; p++, n++) {
            check_json(ctx, *p);
            check_sarif(ctx, *p);
        }
    cr_expect_geq(n, 30);
    talloc_free(ctx);
}

/* A file vdevc cannot read is still one diagnostic of the report. */
Test(diag, unreadable_file_in_json)
{
    void *ctx = talloc_new(NULL);
    int st;
    char *doc = diagnostics(ctx, "/nonexistent.vdev", "json", &st);
    cr_expect_eq(st, 1);
    json_object *root = json_tokener_parse(doc);
    cr_assert_not_null(root, "%s", doc);
    json_object *list = get(root, "diagnostics", json_type_array, "json");
    cr_assert_eq(json_object_array_length(list), 1);
    cr_expect_str_eq(
        json_object_get_string(get(json_object_array_get_idx(list, 0), "code",
                                   json_type_string, "json")),
        "cannot-read");
    json_object_put(root);
    talloc_free(ctx);
}

/* ------------------------------------------------------------ colour */

/* vdevc with stderr on a terminal; what it wrote there. */
static char *
on_terminal(void *ctx, const char *color, const char *no_color)
{
    int master, slave;
    cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    const char *vdevc = vt_vdevc(ctx);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(slave, 2);
        close(master);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        if (no_color != NULL)
            setenv("NO_COLOR", no_color, 1);
        else
            unsetenv("NO_COLOR");
        execl(vdevc, vdevc, color, "tests/golden/errors/duplicate-field.vdev",
              (char *)NULL);
        _exit(127);
    }
    close(slave);
    char *out = talloc_strdup(ctx, "");
    char buf[4096];
    for (;;) {
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t n = read(master, buf, sizeof buf);
        if (n <= 0)
            break; /* EIO once the child is gone */
        out = talloc_strndup_append(out, buf, (size_t)n);
    }
    close(master);
    waitpid(pid, NULL, 0);
    cr_assert(strstr(out, "error") != NULL, "no diagnostics: %s", out);
    return out;
}

Test(diag, color_auto_on_a_terminal_and_no_color)
{
    void *ctx = talloc_new(NULL);
    cr_expect(strstr(on_terminal(ctx, "--color=auto", NULL), "\033[") != NULL,
              "auto colours a terminal");
    cr_expect(strstr(on_terminal(ctx, "--color=auto", "1"), "\033[") == NULL,
              "NO_COLOR turns auto off");
    cr_expect(strstr(on_terminal(ctx, "--color=auto", ""), "\033[") != NULL,
              "an empty NO_COLOR does not count");
    cr_expect(strstr(on_terminal(ctx, "--color=never", NULL), "\033[") == NULL);
    cr_expect(strstr(on_terminal(ctx, "--color=always", "1"), "\033[") != NULL,
              "always wins over NO_COLOR");
    talloc_free(ctx);
}

/* ------------------------------------------------------------ warnings */

/* The shipped models compile without a warning (the suite would be the
 * first to hear of a false positive). */
Test(diag, models_have_no_warnings)
{
    void *ctx = talloc_new(NULL);
    char **paths = vt_glob(ctx, "models/*.vdev");
    unsigned n = 0;
    for (; paths[n] != NULL; n++) {
        size_t len;
        char *src = vt_read(ctx, paths[n], &len);
        int rc;
        struct vdevc_unit *u = vt_compile(ctx, paths[n], src, len, &rc);
        cr_assert_eq(rc, 0, "%s", u->diag->text);
        cr_expect_eq(u->diag->warnings, 0, "%s", u->diag->text);
    }
    cr_expect_geq(n, 3);
    talloc_free(ctx);
}

Test(diag, warning_flags)
{
    struct vdevc_diag_opts o;
    vdevc_diag_opts_init(&o);
    uint32_t all = o.enabled;
    cr_expect_neq(all, 0u);
    cr_expect_eq(vdevc_diag_opts_flag(&o, "no-shadow"), 0);
    cr_expect_eq(o.enabled, all & ~(1u << VDEVC_W_SHADOW));
    cr_expect_eq(vdevc_diag_opts_flag(&o, "error=shadow"), 0);
    cr_expect(o.enabled & o.werror & (1u << VDEVC_W_SHADOW),
              "-Werror=NAME turns it on as an error");
    cr_expect_eq(vdevc_diag_opts_flag(&o, "no-error=shadow"), 0);
    cr_expect_eq(o.werror, 0u);
    cr_expect_eq(vdevc_diag_opts_flag(&o, "error"), 0);
    cr_expect_eq(o.werror, all);
    cr_expect_eq(vdevc_diag_opts_flag(&o, "all"), 0);
    cr_expect_eq(o.enabled, all);
    cr_expect_eq(vdevc_diag_opts_flag(&o, "no-such-thing"), -EINVAL);
    cr_expect_eq(vdevc_diag_opts_flag(&o, "error=nothing"), -EINVAL);
    for (unsigned w = 0; w < VDEVC_NR_WARNINGS; w++)
        cr_expect_gt(strlen(vdevc_warning_help(w)), 10);
}

/* ------------------------------------------------------------ suggestions */

Test(diag, edit_distance)
{
    cr_expect_eq(vdevc_edit_distance("enable", "enable", 3), 0);
    cr_expect_eq(vdevc_edit_distance("enabel", "enable", 3), 1); /* swap */
    cr_expect_eq(vdevc_edit_distance("fiel", "field", 3), 1);
    cr_expect_eq(vdevc_edit_distance("w1cc", "w1c", 3), 1);
    cr_expect_eq(vdevc_edit_distance("regsiter", "register", 3), 1);
    cr_expect_eq(vdevc_edit_distance("kitten", "sitting", 5), 3);
    cr_expect_eq(vdevc_edit_distance("abc", "xyz", 1), 2, "capped at max+1");
    cr_expect_eq(vdevc_edit_distance("a", "abcdefg", 2), 3);
}

Test(diag, suggestions_scale_with_length)
{
    const char *const words[] = {"ctrl", "status", "enable", "interrupt",
                                 "as",   "ro",     NULL};
    cr_expect_str_eq(vdevc_suggest_list("enabel", words), "enable");
    cr_expect_str_eq(vdevc_suggest_list("stauts", words), "status");
    cr_expect_str_eq(vdevc_suggest_list("intrerupt", words), "interrupt");
    cr_expect_str_eq(vdevc_suggest_list("interupt", words), "interrupt");
    /* Too short to guess, or too far. */
    cr_expect_null(vdevc_suggest_list("a", words));
    cr_expect_null(vdevc_suggest_list("rx", words));
    cr_expect_null(vdevc_suggest_list("count", words));
    cr_expect_null(vdevc_suggest_list("enable", words), "not itself");
}
