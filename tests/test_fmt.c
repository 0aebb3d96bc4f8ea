/* vdevc fmt: the layout rules on small inputs, and on every .vdev in the
 * repository (and the fuzz corpus) that it is idempotent, keeps every
 * token and comment, and that the original and the formatted file
 * compile to the same C; the command's --check, --stdout and in-place
 * modes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "fmt.h"
#include "parse.h"
#include "vdevc_test.h"

static char *
fmt(void *ctx, const char *src, int *_rc)
{
    struct vdevc_diag *d =
        vdevc_diag_new(ctx, "t.vdev", src, strlen(src), NULL);
    char *out = NULL;
    *_rc = vdevc_fmt(ctx, d, src, strlen(src), &out);
    return out;
}

static void
expect_fmt(const char *in, const char *want)
{
    void *ctx = talloc_new(NULL);
    int rc;
    char *out = fmt(ctx, in, &rc);
    cr_assert_eq(rc, 0, "fmt failed on:\n%s", in);
    cr_expect_str_eq(out, want);
    char *again = fmt(ctx, out, &rc);
    cr_expect_str_eq(again, out, "not idempotent");
    talloc_free(ctx);
}

/* ------------------------------------------------------------ the rules */

Test(fmt, one_item_per_line_four_spaces)
{
    expect_fmt("device d{vendor 0x1234;device 1;bar 0 mem32 size 4K{\n"
               "reg a@0:32 rw;reg b@4:32 rw;}}",
               "device d {\n"
               "    vendor 0x1234;\n"
               "    device 1;\n"
               "    bar 0 mem32 size 4K {\n"
               "        reg a @ 0 : 32 rw;\n"
               "        reg b @ 4 : 32 rw;\n"
               "    }\n"
               "}\n");
}

Test(fmt, one_line_bodies_stay_empty_bodies_shrink)
{
    expect_fmt(
        "device d {\n"
        "  enum e { a = 0, b = -1 }\n"
        "  bar 1 mem32 size 4K {\n"
        "  }\n"
        "  bar 0 mem32 size 4K {\n"
        "  reg ctrl @ 0x0 : 32 { field en [0] rw; on write { ctrl = 1; } }\n"
        "  }\n"
        "}\n",
        "device d {\n"
        "    enum e { a = 0, b = -1 }\n"
        "    bar 1 mem32 size 4K { }\n"
        "    bar 0 mem32 size 4K {\n"
        "        reg ctrl @ 0x0 : 32 { field en [0] rw; on write { "
        "ctrl = 1; } }\n"
        "    }\n"
        "}\n");
}

Test(fmt, spacing)
{
    expect_fmt("device d {\n"
               "extern u32 f ( u32 n );\n"
               "buffer b [ 16 ];\n"
               "vendor -1;\n"
               "interrupt 0=(a.b&~c[2])!=-x||!y;\n"
               "bar 0 mem32 size 4K {\n"
               "reg r [ 4 ] @0x10 : 32 { field f[7 : 0] rw; }\n"
               "reg s @ 0 : 32 rw {\n"
               "on write { if(value>>16==1){dma read b[0],x,4;}else{notify "
               "- 1;} }\n"
               "}\n"
               "}\n"
               "}\n",
               "device d {\n"
               "    extern u32 f(u32 n);\n"
               "    buffer b[16];\n"
               "    vendor -1;\n"
               "    interrupt 0 = (a.b & ~c[2]) != -x || !y;\n"
               "    bar 0 mem32 size 4K {\n"
               "        reg r[4] @ 0x10 : 32 { field f [7:0] rw; }\n"
               "        reg s @ 0 : 32 rw {\n"
               "            on write { if (value >> 16 == 1) { dma read b[0], "
               "x, 4; } else { notify -1; } }\n"
               "        }\n"
               "    }\n"
               "}\n");
}

/* A word before a parenthesised expression is no call: a timer's `after
 * (N)` / `every (N)`, a loop's `in (A)` / `max (N)` keep their space; a
 * call or a declared name does not get one. */
Test(fmt, words_before_parentheses)
{
    expect_fmt("device d {\n"
               "timer t;\n"
               "proc max(a : 32, b : 32) : 32 { return a; }\n"
               "proc p(n : 32) {\n"
               "start t after(n * 2) ns;\n"
               "start t every   (n + 1) us;\n"
               "start t after n ms;\n"
               "for i in(n) .. (n + 4) max(8) { n = max(i, 2); }\n"
               "for i in 0 .. max(n, 1) max 8 { n = i; }\n"
               "}\n"
               "}\n",
               "device d {\n"
               "    timer t;\n"
               "    proc max(a : 32, b : 32) : 32 { return a; }\n"
               "    proc p(n : 32) {\n"
               "        start t after (n * 2) ns;\n"
               "        start t every (n + 1) us;\n"
               "        start t after n ms;\n"
               "        for i in (n) .. (n + 4) max (8) { n = max(i, 2); }\n"
               "        for i in 0 .. max(n, 1) max 8 { n = i; }\n"
               "    }\n"
               "}\n");
}

Test(fmt, blocks_else_and_enum_lists)
{
    expect_fmt("device d {\n"
               "  enum e {\n"
               "  a = 0, b = 1,\n"
               "  c = 2 }\n"
               "  var v : 8 external { on write {\n"
               "    if (x) {\n"
               "      a = 1;\n"
               "    }\n"
               "    else {\n"
               "      b = 2;\n"
               "    }\n"
               "  } }\n"
               "}\n",
               "device d {\n"
               "    enum e {\n"
               "        a = 0,\n"
               "        b = 1,\n"
               "        c = 2\n"
               "    }\n"
               "    var v : 8 external {\n"
               "        on write {\n"
               "            if (x) {\n"
               "                a = 1;\n"
               "            } else {\n"
               "                b = 2;\n"
               "            }\n"
               "        }\n"
               "    }\n"
               "}\n");
}

Test(fmt, blank_lines_and_continuations)
{
    expect_fmt("\n\ndevice d {\n"
               "\n"
               "    vendor 1;\n"
               "\n\n\n"
               "    interrupt 0 = a &\n"
               "  b\n"
               "      ;\n"
               "\n"
               "}\n\n",
               "device d {\n"
               "    vendor 1;\n"
               "\n"
               "    interrupt 0 = a &\n"
               "        b;\n"
               "}\n");
}

Test(fmt, comments_kept_in_place)
{
    expect_fmt("// top\n"
               "/* block\n"
               "   comment */\n"
               "device d { // opens\n"
               "    vendor 1;   // trailing\n"
               "    device 22; // aligned with the one above\n"
               "\n"
               "    // own line\n"
               "    var x : 8 /* inline */ = 1;\n"
               "    var y : 8; // alone  \n"
               "    bar 0 mem32 size 4K {\n"
               "    reg a @ 0 // mid-item\n"
               "        : 32 rw;\n"
               "    }\n"
               "    /* last */\n"
               "}\n"
               "// after\n",
               "// top\n"
               "/* block\n"
               "   comment */\n"
               "device d { // opens\n"
               "    vendor 1;  // trailing\n"
               "    device 22; // aligned with the one above\n"
               "\n"
               "    // own line\n"
               "    var x : 8 /* inline */ = 1;\n"
               "    var y : 8; // alone\n"
               "    bar 0 mem32 size 4K {\n"
               "        reg a @ 0 // mid-item\n"
               "            : 32 rw;\n"
               "    }\n"
               "    /* last */\n"
               "}\n"
               "// after\n");
}

Test(fmt, declaration_runs_align)
{
    expect_fmt("device d {\n"
               "    var a : 8;\n"
               "    var longer : 16 = 1;\n"
               "    bar 0 mem32 size 4K {\n"
               "        reg x @ 0x0 : 32 rw;\n"
               "        reg wide[4] @ 0x10 : 32 rw;\n"
               "        reg ctrl @ 0x20 : 32 {\n"
               "            field en [0] rw;\n"
               "            field mode [3:1] rw = 2;\n"
               "            field v [15:8] const = 1;\n"
               "        }\n"
               "\n"
               "        reg y @ 0x30 : 32 rw;\n"
               "    }\n"
               "}\n",
               "device d {\n"
               "    var a      : 8;\n"
               "    var longer : 16 = 1;\n"
               "    bar 0 mem32 size 4K {\n"
               "        reg x       @ 0x0 : 32 rw;\n"
               "        reg wide[4] @ 0x10 : 32 rw;\n"
               "        reg ctrl @ 0x20 : 32 {\n"
               "            field en   [0]    rw;\n"
               "            field mode [3:1]  rw = 2;\n"
               "            field v    [15:8] const = 1;\n"
               "        }\n"
               "\n"
               "        reg y @ 0x30 : 32 rw;\n"
               "    }\n"
               "}\n");
}

Test(fmt, syntax_errors_are_reported_not_formatted)
{
    void *ctx = talloc_new(NULL);
    const char *src = "device d { vendor 1 device 2; }\n";
    struct vdevc_diag *d =
        vdevc_diag_new(ctx, "t.vdev", src, strlen(src), NULL);
    char *out = NULL;
    cr_expect_eq(vdevc_fmt(ctx, d, src, strlen(src), &out), -EINVAL);
    cr_expect_null(out);
    cr_expect(strstr(d->text, "expected ';'") != NULL, "%s", d->text);
    talloc_free(ctx);
}

/* ------------------------------------------------------------ the repo */

/* Token kinds and texts, comments included (trailing blanks of a line
 * comment are not part of it). */
static char *
token_text(void *ctx, const char *src)
{
    struct vdevc_diag *d =
        vdevc_diag_new(ctx, "t.vdev", src, strlen(src), NULL);
    struct vdevc_tokens *t;
    cr_assert_eq(vdevc_parse_tokens(ctx, d, src, strlen(src), &t), 0);
    char *s = talloc_strdup(ctx, "");
    for (size_t i = 0; i < t->n; i++) {
        size_t len = t->v[i].end - t->v[i].start;
        const char *p = src + t->v[i].start;
        if (t->v[i].kind == VDEVC_TOK_COMMENT && p[1] == '/')
            while (len > 2 && strchr(" \t\r", p[len - 1]))
                len--;
        s = talloc_asprintf_append(s, "%d:%.*s\n", t->v[i].kind, (int)len, p);
    }
    return s;
}

/* The C with the .vdev line numbers its comments carry taken out. */
static char *
c_without_lines(void *ctx, const char *path, const char *src, bool *_ok)
{
    int rc;
    struct vdevc_unit *u = vt_compile(ctx, path, src, strlen(src), &rc);
    *_ok = rc == 0;
    if (rc != 0)
        return u->diag->text;
    u->header_name = "t.h";
    char *c = vdevc_emit_c(ctx, u), *out = talloc_strdup(ctx, "");
    for (char *p = c; *p;) {
        char *at = strstr(p, ".vdev:");
        if (at == NULL) {
            out = talloc_strdup_append(out, p);
            break;
        }
        at += strlen(".vdev:");
        out = talloc_strndup_append(out, p, (size_t)(at - p));
        while (*at >= '0' && *at <= '9')
            at++;
        p = at;
    }
    return out;
}

static const char *const repo_globs[] = {
    "models/*.vdev",
    "examples/*/*.vdev",
    "tests/golden/*.vdev",
    "tests/golden/lang/*.vdev",
    "tests/golden/errors/*.vdev",
    "tests/golden/diag/*.vdev",
    "tests/migration/*.vdev",
    "tests/migration/check/*.vdev",
};

Test(fmt, every_vdev_in_the_repo)
{
    void *ctx = talloc_new(NULL);
    unsigned n = 0, formatted = 0, compiled = 0;
    for (unsigned g = 0; g < sizeof repo_globs / sizeof repo_globs[0]; g++)
        for (char **p = vt_glob(ctx, repo_globs[g]); *p; p++, n++) {
            char *src = vt_read(ctx, *p, NULL);
            int rc;
            char *out = fmt(ctx, src, &rc);
            if (rc != 0)
                continue; /* a syntax error case */
            formatted++;
            char *again = fmt(ctx, out, &rc);
            cr_assert_eq(rc, 0, "%s: fmt output does not parse", *p);
            cr_expect_str_eq(again, out, "%s: not idempotent", *p);
            cr_expect_str_eq(token_text(ctx, out), token_text(ctx, src),
                             "%s: tokens changed", *p);
            bool ok1, ok2;
            char *c1 = c_without_lines(ctx, *p, src, &ok1);
            char *c2 = c_without_lines(ctx, *p, out, &ok2);
            cr_expect_eq(ok1, ok2, "%s", *p);
            if (ok1 && ok2) {
                compiled++;
                cr_expect_null(vt_diff(ctx, c1, c2), "%s: other C", *p);
            }
        }
    cr_expect_geq(n, 80);
    /* The syntax error cases: errors/{lexical,syntax,unterminated},
     * mig/check/bad-syntax.new, diag/{keyword,semicolon,json-semicolon}. */
    cr_expect_eq(formatted, n - 7, "only the syntax error cases refuse");
    cr_expect_geq(compiled, 20);
    talloc_free(ctx);
}

/* Odd inputs that parse: no internal error, a fixed point. */
Test(fmt, fuzz_corpus)
{
    void *ctx = talloc_new(NULL);
    unsigned n = 0;
    for (char **p = vt_glob(ctx, "fuzz/corpus/vdevc/*"); *p; p++) {
        size_t len;
        char *src = vt_read(ctx, *p, &len);
        struct vdevc_diag *d = vdevc_diag_new(ctx, *p, src, len, NULL);
        char *out;
        int rc = vdevc_fmt(ctx, d, src, len, &out);
        cr_expect_neq(rc, -EPROTO, "%s: %s", *p, d->text);
        if (rc != 0)
            continue;
        n++;
        char *again = fmt(ctx, out, &rc);
        cr_expect_str_eq(again, out, "%s: not idempotent", *p);
    }
    cr_expect_geq(n, 10);
    talloc_free(ctx);
}

/* ------------------------------------------------------------ command */

static int
run(void *ctx, char **out, const char *a1, const char *a2, const char *a3)
{
    char *argv[] = {(char *)vt_vdevc(ctx),
                    (char *)"fmt",
                    (char *)a1,
                    (char *)a2,
                    (char *)a3,
                    NULL};
    int st = vt_run(ctx, argv, out, NULL);
    cr_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

Test(fmt, command_check_stdout_in_place)
{
    void *ctx = talloc_new(NULL);
    char dir[] = "/tmp/vdevc-fmt-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *ugly = talloc_asprintf(ctx, "%s/ugly.vdev", dir);
    char *bad = talloc_asprintf(ctx, "%s/bad.vdev", dir);
    FILE *f = fopen(ugly, "w");
    fputs("device d{vendor 1;device 2;}\n", f);
    fclose(f);
    f = fopen(bad, "w");
    fputs("device d{vendor 1 device 2;}\n", f);
    fclose(f);
    const char *pretty = "device d {\n    vendor 1;\n    device 2;\n}\n";
    char *out;

    cr_expect_eq(run(ctx, &out, "--check", ugly, NULL), 1);
    cr_expect_str_eq(out, talloc_asprintf(ctx, "%s\n", ugly));
    cr_expect_eq(run(ctx, &out, "--stdout", ugly, NULL), 0);
    cr_expect_str_eq(out, pretty);
    cr_expect_str_eq(vt_read(ctx, ugly, NULL), "device d{vendor 1;device 2;}\n",
                     "--check and --stdout leave the file alone");
    cr_expect_eq(run(ctx, &out, ugly, NULL, NULL), 0);
    cr_expect_str_eq(vt_read(ctx, ugly, NULL), pretty);
    cr_expect_eq(run(ctx, &out, "--check", ugly, NULL), 0);
    cr_expect_str_eq(out, "");
    cr_expect_eq(run(ctx, &out, "--check", bad, ugly), 1, "syntax error");
    cr_expect_str_eq(vt_read(ctx, bad, NULL), "device d{vendor 1 device 2;}\n");
    cr_expect_eq(run(ctx, &out, "--check", "--stdout", ugly), 2);

    unlink(ugly);
    unlink(bad);
    rmdir(dir);
    talloc_free(ctx);
}
