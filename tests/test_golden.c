/* Golden tests: every tests/golden (and language reference) .vdev compiles
 * to exactly the .c and .h beside it; every error case reports exactly the
 * errors its `// expect-error: CODE` markers name, and the .err text with
 * carets where one exists. One Criterion test per file (generated at build
 * time by tests/golden/cases.sh), so a failure names the file; `make
 * golden-update` regenerates the expectations. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "golden_check.h"
#include "vdevc_test.h"

static char *
with_ext(void *ctx, const char *path, const char *ext)
{
    size_t n = strlen(path) - strlen(".vdev");
    return talloc_asprintf(ctx, "%.*s%s", (int)n, path, ext);
}

static const char *
base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Returns NULL or a failure message for one model; docs: also the
 * --emit=doc and --emit=guest-h outputs. */
static char *
check_model(void *ctx, const char *path, bool docs)
{
    size_t len;
    char *src = vt_read(ctx, path, &len);
    if (src == NULL)
        return talloc_asprintf(ctx, "%s: cannot read", path);
    int rc;
    struct vdevc_unit *u = vt_compile(ctx, path, src, len, &rc);
    if (rc != 0)
        return talloc_asprintf(ctx, "%s does not compile:\n%s", path,
                               u->diag->text);
    char *hpath = with_ext(ctx, path, ".h");
    u->header_name = base(hpath);
    const char *outs[4] = {vdevc_emit_c(ctx, u), vdevc_emit_h(ctx, u),
                           vdevc_emit_doc(ctx, u), vdevc_emit_guest_h(ctx, u)};
    const char *files[4] = {with_ext(ctx, path, ".c"), hpath,
                            with_ext(ctx, path, ".md"),
                            with_ext(ctx, path, ".guest.h")};
    for (int i = 0; i < (docs ? 4 : 2); i++) {
        char *want = vt_read(ctx, files[i], NULL);
        if (want == NULL)
            return talloc_asprintf(ctx, "%s: missing (make golden-update)",
                                   files[i]);
        char *d = vt_diff(ctx, want, outs[i]);
        if (d != NULL)
            return talloc_asprintf(ctx, "%s differs from vdevc output: %s",
                                   files[i], d);
    }
    return NULL;
}

void
golden_check_model(const char *path, bool docs)
{
    void *ctx = talloc_new(NULL);
    char *msg = check_model(ctx, path, docs);
    if (msg)
        cr_assert_fail("%s", msg);
    talloc_free(ctx);
}

/* "line:code" for every marker, space separated and sorted by appearance. */
static char *
markers(void *ctx, const char *src)
{
    char *out = talloc_strdup(ctx, "");
    int line = 1;
    for (const char *p = src; *p; p++) {
        if (*p == '\n') {
            line++;
            continue;
        }
        if (strncmp(p, "// expect-error:", 16) != 0)
            continue;
        p += 16;
        for (;;) {
            while (*p == ' ' || *p == ',')
                p++;
            size_t n = strcspn(p, " ,\n");
            if (n == 0)
                break;
            out = talloc_asprintf_append(out, "%d:%.*s ", line, (int)n, p);
            p += n;
        }
        p--;
    }
    return out;
}

/* "line:code" for every error line of the diagnostics, in order. */
static char *
reported(void *ctx, const char *text, const char *file)
{
    char *out = talloc_strdup(ctx, "");
    size_t flen = strlen(file);
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        int line, col;
        char code[64];
        if (strncmp(p, file, flen) == 0 && p[flen] == ':' &&
            strstr(p, ": error: ") != NULL && p[n - 1] == ']' &&
            sscanf(p + flen, ":%d:%d:", &line, &col) == 2) {
            const char *lb = p + n - 1;
            while (lb > p && *lb != '[')
                lb--;
            snprintf(code, sizeof code, "%.*s", (int)(p + n - lb - 2), lb + 1);
            out = talloc_asprintf_append(out, "%d:%s ", line, code);
        }
        p += n + (eol != NULL);
    }
    return out;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The same "line:code" tokens in a canonical order: sema reports by pass,
 * not by line. */
static char *
sorted(void *ctx, char *list)
{
    char *tok[256];
    unsigned n = 0;
    for (char *t = strtok(list, " "); t != NULL && n < 256;
         t = strtok(NULL, " "))
        tok[n++] = t;
    qsort(tok, n, sizeof tok[0], cmp_str);
    char *out = talloc_strdup(ctx, "");
    for (unsigned i = 0; i < n; i++)
        out = talloc_asprintf_append(out, "%s ", tok[i]);
    return out;
}

static char *
check_error_case(void *ctx, const char *path)
{
    size_t len;
    char *src = vt_read(ctx, path, &len);
    int rc;
    struct vdevc_unit *u = vt_compile(ctx, path, src, len, &rc);
    if (rc == 0)
        return talloc_asprintf(ctx, "%s compiled but should fail", path);
    char *want = sorted(ctx, markers(ctx, src));
    char *got = sorted(ctx, reported(ctx, u->diag->text, path));
    char *err = vt_read(ctx, with_ext(ctx, path, ".err"), NULL);
    if (strlen(want) == 0 && err == NULL)
        return talloc_asprintf(ctx, "%s has neither markers nor .err", path);
    if (strlen(want) > 0 && strcmp(want, got) != 0)
        return talloc_asprintf(ctx, "%s: expected errors [%s], got [%s]:\n%s",
                               path, want, got, u->diag->text);
    if (err != NULL) {
        char *d = vt_diff(ctx, err, u->diag->text);
        if (d != NULL)
            return talloc_asprintf(ctx, "%s: diagnostics differ from .err: %s",
                                   path, d);
    }
    return NULL;
}

void
golden_check_error(const char *path)
{
    void *ctx = talloc_new(NULL);
    char *msg = check_error_case(ctx, path);
    if (msg)
        cr_assert_fail("%s", msg);
    talloc_free(ctx);
}

/* The generated list covers what the globs find (a file added since the
 * last build gets its test with the next one). */
Test(golden, inventory)
{
    void *ctx = talloc_new(NULL);
    static const struct {
        const char *glob;
        unsigned min;
    } sets[] = {{"tests/golden/*.vdev", 2},
                {"tests/golden/lang/*.vdev", 10},
                {"tests/golden/errors/*.vdev", 20}};
    for (unsigned i = 0; i < 3; i++) {
        char **paths = vt_glob(ctx, sets[i].glob);
        unsigned n = 0;
        while (paths[n])
            n++;
        cr_expect_geq(n, sets[i].min, "%s: %u files", sets[i].glob, n);
    }
    talloc_free(ctx);
}

/* The language reference quotes every example verbatim, so each one in
 * dsl/README.md is one of the compiled goldens above. */
Test(golden, reference_quotes_every_example)
{
    void *ctx = talloc_new(NULL);
    char *doc = vt_read(ctx, "dsl/README.md", NULL);
    cr_assert_not_null(doc);
    char **paths = vt_glob(ctx, "tests/golden/lang/*.vdev");
    unsigned blocks = 0;
    for (char *p = strstr(doc, "```vdev\n"); p; p = strstr(p, "```vdev\n")) {
        p += strlen("```vdev\n");
        char *end = strstr(p, "```");
        cr_assert_not_null(end);
        char *block = talloc_strndup(ctx, p, (size_t)(end - p));
        bool found = false;
        for (unsigned i = 0; paths[i] && !found; i++)
            found = strcmp(vt_read(ctx, paths[i], NULL), block) == 0;
        cr_expect(found, "README example %u is not a golden file:\n%.200s",
                  blocks + 1, block);
        blocks++;
        p = end;
    }
    unsigned n = 0;
    while (paths[n] != NULL)
        n++;
    cr_expect_eq(blocks, n, "README quotes %u examples, lang/ has %u", blocks,
                 n);
    talloc_free(ctx);
}
