/* Robustness: truncated, byte-flipped, random and deeply nested inputs
 * never crash vdevc: each compile either succeeds or reports errors and
 * fails cleanly (under SANITIZE=1 this also means no ASan/UBSan report). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "vdevc_test.h"

#define SEED_FILE "tests/golden/full.vdev"

/* One compile of an arbitrary buffer: ok or clean failure, never more. */
static void
compile_any(const char *src, size_t len, const char *what)
{
    void *ctx = talloc_new(NULL);
    int rc;
    struct vdevc_unit *u = vt_compile(ctx, "fuzz.vdev", src, len, &rc);
    cr_assert_not_null(u);
    if (rc == 0) {
        u->header_name = "fuzz.h";
        cr_assert_not_null(vdevc_emit_c(ctx, u), "%s: emit_c failed", what);
        cr_assert_not_null(vdevc_emit_h(ctx, u), "%s: emit_h failed", what);
        cr_assert_not_null(vdevc_emit_json(ctx, u), "%s: json failed", what);
        cr_assert_not_null(vdevc_emit_doc(ctx, u), "%s: doc failed", what);
        cr_assert_not_null(vdevc_emit_guest_h(ctx, u), "%s: guest-h", what);
    } else {
        cr_assert_eq(rc, -EINVAL, "%s: rc %d", what, rc);
        cr_assert_gt(u->diag->errors, 0, "%s: failed without a diagnostic",
                     what);
        cr_assert(strstr(u->diag->text, "error") != NULL);
    }
    talloc_free(ctx);
}

static char *
seed(void *ctx, size_t *len)
{
    char *s = vt_read(ctx, SEED_FILE, len);
    cr_assert_not_null(s, "cannot read " SEED_FILE);
    return s;
}

Test(vdevc_robust, truncated_at_every_byte)
{
    void *ctx = talloc_new(NULL);
    size_t len;
    char *src = seed(ctx, &len);
    for (size_t n = 0; n < len; n++)
        compile_any(src, n, "truncation");
    talloc_free(ctx);
}

Test(vdevc_robust, byte_flips)
{
    static const unsigned char repl[] = {0x00, 0xff, '{', '}', ';', '[',
                                         '0',  'x',  '"', '/', '@', '\n'};
    void *ctx = talloc_new(NULL);
    size_t len;
    char *src = seed(ctx, &len);
    char *buf = talloc_size(ctx, len);
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof repl; k++) {
            memcpy(buf, src, len);
            buf[i] = (char)(repl[k] == 0xff ? ~src[i] : repl[k]);
            compile_any(buf, len, "byte flip");
        }
    }
    talloc_free(ctx);
}

Test(vdevc_robust, random_bytes)
{
    unsigned state = 12345;
    char buf[2048];
    for (int iter = 0; iter < 500; iter++) {
        size_t len = (size_t)(rand_r(&state) % sizeof buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)rand_r(&state);
        compile_any(buf, len, "random bytes");
    }
}

/* Random sequences of real tokens reach much deeper than random bytes. */
Test(vdevc_robust, random_tokens)
{
    static const char *const toks[] = {
        "device", "d",      "{",       "}",          "vendor",    "0x1234",
        ";",      "bar",    "0",       "mem32",      "size",      "4K",
        "reg",    "r",      "@",       ":",          "32",        "rw",
        "field",  "f",      "[",       "]",          "7",         "on",
        "write",  "read",   "value",   "=",          "+",         "<<",
        "if",     "(",      ")",       "else",       "interrupt", "intx",
        "A",      "msi",    "var",     "buffer",     "b",         "dma",
        "raise",  "notify", "let",     "x",          ".",         ",",
        "block",  "use",    "as",      "capability", "msix",      "table",
        "pba",    "1",      "enum",    "e",          "extern",    "u32",
        "memory", "mmap",   "stride",  "w1c",        "const",     "\"doc\"",
        "since",  "2",      "version", "external",
    };
    unsigned state = 777;
    void *ctx = talloc_new(NULL);
    for (int iter = 0; iter < 3000; iter++) {
        char *s = talloc_strdup(ctx, "device d { vendor 1; device 2; ");
        int n = rand_r(&state) % 60;
        for (int i = 0; i < n; i++)
            s = talloc_asprintf_append(
                s, "%s ", toks[rand_r(&state) % (sizeof toks / sizeof *toks)]);
        s = talloc_strdup_append(s, rand_r(&state) % 2 ? "}" : "");
        compile_any(s, strlen(s), "random tokens");
        talloc_free(s);
    }
    talloc_free(ctx);
}

Test(vdevc_robust, deep_nesting)
{
    void *ctx = talloc_new(NULL);
    size_t depth = 200000;
    char *s = talloc_asprintf(ctx, "device d { vendor ");
    char *open = talloc_size(ctx, depth + 1),
         *close = talloc_size(ctx, depth + 1);
    memset(open, '(', depth);
    memset(close, ')', depth);
    open[depth] = close[depth] = '\0';
    s = talloc_asprintf_append(s, "%s1%s; }", open, close);
    compile_any(s, strlen(s), "nested parentheses");
    char *braces = talloc_size(ctx, depth + 64);
    strcpy(braces, "device d { bar 0 mem32 size 4K { reg r @ 0 { on write ");
    size_t k = strlen(braces);
    memset(braces + k, '{', depth / 4);
    braces[k + depth / 4] = '\0';
    compile_any(braces, strlen(braces), "nested braces");
    /* Left-recursive operators build deep trees without deep parser
     * stacks: refused before any pass recurses over them. */
    char *sum = talloc_strdup(ctx, "device d { vendor 1; device 2; bar 0 "
                                   "mem32 size 16 { reg r @ 0 : 32 rw = 1");
    for (int i = 0; i < 100000; i++)
        sum = talloc_strdup_append_buffer(sum, "+1");
    sum = talloc_strdup_append_buffer(sum, "; } }");
    int rc;
    struct vdevc_unit *u = vt_compile(ctx, "deep.vdev", sum, strlen(sum), &rc);
    cr_assert_neq(rc, 0);
    cr_assert(strstr(u->diag->text, "[too-deep]") != NULL, "%s", u->diag->text);
    /* A chain of 100 blocks, each using the next. */
    char *chain = talloc_strdup(ctx, "device d { vendor 1; device 2; ");
    for (int i = 0; i < 100; i++)
        chain = talloc_asprintf_append_buffer(
            chain, "block b%d() { use b%d() @ 0 as x; } ", i, i + 1);
    chain = talloc_strdup_append_buffer(
        chain, "block b100() { reg r @ 0 : 32 rw; } bar 0 mem32 size 16 { "
               "use b0() @ 0 as top; } }");
    compile_any(chain, strlen(chain), "block chain");
    talloc_free(ctx);
}

/* The binary too: every exit is 0 or 1, never a signal or a sanitizer
 * report. */
Test(vdevc_robust, binary_exits_cleanly)
{
    void *ctx = talloc_new(NULL);
    char dir[] = "/tmp/vdevc-robust-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    size_t len;
    char *src = seed(ctx, &len);
    unsigned state = 99;
    for (int iter = 0; iter < 40; iter++) {
        char *buf = talloc_memdup(ctx, src, len);
        size_t n = iter < 20 ? (len * (size_t)iter) / 20 : len;
        for (int f = 0; iter >= 20 && f < 8; f++)
            buf[rand_r(&state) % len] = (char)rand_r(&state);
        char *path = talloc_asprintf(ctx, "%s/in.vdev", dir);
        FILE *fp = fopen(path, "wb");
        fwrite(buf, 1, n, fp);
        fclose(fp);
        char *out = talloc_asprintf(ctx, "%s/out.c", dir);
        char *argv[] = {(char *)vt_vdevc(ctx), (char *)"-o", out, path, NULL};
        char *err;
        int st = vt_run(ctx, argv, NULL, &err);
        cr_assert(WIFEXITED(st), "vdevc died on input %d: %s", iter, err);
        int code = WEXITSTATUS(st);
        cr_assert(code == 0 || code == 1, "exit %d: %s", code, err);
        cr_assert(strstr(err, "Sanitizer") == NULL, "%s", err);
        if (code == 1)
            cr_assert(strstr(err, "error") != NULL);
        unlink(out);
        unlink(path);
    }
    rmdir(dir);
    talloc_free(ctx);
}
