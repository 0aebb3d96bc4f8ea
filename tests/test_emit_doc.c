/* The guest-facing generators: --emit=doc and --emit=guest-h of every model
 * match tests/golden/{doc,guest-h} (`make golden-update`), through the
 * library and the vdevc binary alike, run after run; the bit-field picture
 * and the masks of a small device are exactly as designed; every guest
 * header compiles standalone with -Wall -Wextra -Werror and holds the
 * offsets and masks the compiler computed. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "emit_doc.h"
#include "vdevc_test.h"

static const char *
stem(void *ctx, const char *path)
{
    const char *s = strrchr(path, '/');
    s = s ? s + 1 : path;
    return talloc_strndup(ctx, s, strlen(s) - strlen(".vdev"));
}

static struct vdevc_unit *
compile_file(void *ctx, const char *path)
{
    size_t len;
    char *src = vt_read(ctx, path, &len);
    cr_assert_not_null(src, "%s: cannot read", path);
    int rc;
    struct vdevc_unit *u = vt_compile(ctx, path, src, len, &rc);
    cr_assert_eq(rc, 0, "%s does not compile:\n%s", path, u->diag->text);
    return u;
}

static struct vdevc_unit *
compile_text(void *ctx, const char *src)
{
    int rc;
    struct vdevc_unit *u = vt_compile(ctx, "pic.vdev", src, strlen(src), &rc);
    cr_assert_eq(rc, 0, "test device does not compile:\n%s", u->diag->text);
    return u;
}

static void
expect_golden(void *ctx, const char *file, const char *got)
{
    cr_assert_not_null(got, "no output for %s", file);
    char *want = vt_read(ctx, file, NULL);
    cr_assert_not_null(want, "%s: missing (make golden-update)", file);
    char *d = vt_diff(ctx, want, got);
    cr_expect_null(d, "%s differs from vdevc output: %s", file, d);
}

Test(emit_doc, models_match_golden)
{
    void *ctx = talloc_new(NULL);
    char **paths = vt_glob(ctx, "models/*.vdev");
    unsigned n = 0;
    for (; paths[n] != NULL; n++) {
        struct vdevc_unit *u = compile_file(ctx, paths[n]);
        const char *name = stem(ctx, paths[n]);
        expect_golden(ctx, talloc_asprintf(ctx, "tests/golden/doc/%s.md", name),
                      vdevc_emit_doc(ctx, u));
        expect_golden(ctx,
                      talloc_asprintf(ctx, "tests/golden/guest-h/%s.h", name),
                      vdevc_emit_guest_h(ctx, u));
    }
    cr_expect_geq(n, 3, "expected the three models under models/");
    talloc_free(ctx);
}

/* The binary, run twice per output, gives the golden bytes both times. */
Test(emit_doc, cli_deterministic)
{
    void *ctx = talloc_new(NULL);
    char **paths = vt_glob(ctx, "models/*.vdev");
    static const char *const emits[][2] = {{"--emit=doc", "doc/%s.md"},
                                           {"--emit=guest-h", "guest-h/%s.h"}};
    for (unsigned i = 0; paths[i] != NULL; i++) {
        for (unsigned k = 0; k < 2; k++) {
            char *argv[] = {(char *)vt_vdevc(ctx), (char *)emits[k][0],
                            paths[i], NULL};
            char *out[2], *err;
            for (int run = 0; run < 2; run++) {
                int st = vt_run(ctx, argv, &out[run], &err);
                cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                          "vdevc %s %s failed: %s", emits[k][0], paths[i], err);
                cr_expect_eq(strlen(err), 0, "%s", err);
            }
            cr_expect_str_eq(out[0], out[1], "%s %s differs between runs",
                             emits[k][0], paths[i]);
            char *g = talloc_asprintf(ctx, emits[k][1], stem(ctx, paths[i]));
            expect_golden(ctx, talloc_asprintf(ctx, "tests/golden/%s", g),
                          out[0]);
        }
    }
    talloc_free(ctx);
}

static const char pic_src[] =
    "device pic {\n"
    "    vendor 0x1234;\n"
    "    device 0x0001;\n"
    "    bar 0 mem32 size 256 {\n"
    "        reg ctrl @ 0x0 : 16 \"a | b */ c\" {\n"
    "            field enable [0] rw;\n"
    "            field mode [3:1] rw = 2 \"operating mode\";\n"
    "            field ver [15:8] const = 0x21;\n"
    "        }\n"
    "        reg wide @ 0x8 : 64 {\n"
    "            field lo [15:0] rw;\n"
    "            field span [47:16] rw;\n"
    "            field f [63] w1c;\n"
    "        }\n"
    "        reg ring[4] @ 0x20 stride 8 : 32 rw;\n"
    "    }\n"
    "}\n";

static void
expect_has(const char *text, const char *want)
{
    cr_expect(strstr(text, want) != NULL, "missing:\n%s\n--- in:\n%s", want,
              text);
}

/* Exact pictures: labels centred in their boxes, a field too narrow for
 * its name gets a key, "reserved" shrinks to fit, a field across the two
 * rows of a 64-bit register names its part. */
Test(emit_doc, bit_field_picture)
{
    void *ctx = talloc_new(NULL);
    struct vdevc_unit *u = compile_text(ctx, pic_src);
    char *doc = vdevc_emit_doc(ctx, u);
    cr_assert_not_null(doc);
    expect_has(doc, "```text\n"
                    " 1 1 1 1 1 1\n"
                    " 5 4 3 2 1 0 9 8 7 6 5 4 3 2 1 0\n"
                    "+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+\n"
                    "|      ver      |  res  |mode |A|\n"
                    "+---------------+-------+-----+-+\n"
                    "A = enable [0]\n"
                    "```\n");
    expect_has(doc, "|f|          reserved           |"
                    "          span[47:32]          |\n"
                    "+-+-----------------------------+"
                    "-------------------------------+\n");
    expect_has(doc, "|          span[31:16]          |"
                    "              lo               |\n");
    /* Field table: MSB first, reserved runs included, reset per field. */
    expect_has(doc, "| 15:8 | ver | const | `0x21` |");
    expect_has(doc, "| 7:4 | - | reserved | `0` |");
    expect_has(doc, "| 3:1 | mode | rw | `0x2` |  | operating mode |");
    expect_has(doc, "| 63 | f | w1c | `0` |");
    /* A doc string cannot break the table. */
    expect_has(doc, "a \\| b */ c");
    expect_has(doc, "- Array of 4: element *n* at `0x20 + 0x8 * n`");
    talloc_free(ctx);
}

Test(emit_doc, guest_header_values)
{
    void *ctx = talloc_new(NULL);
    struct vdevc_unit *u = compile_text(ctx, pic_src);
    char *h = vdevc_emit_guest_h(ctx, u);
    cr_assert_not_null(h);
    expect_has(h, "#ifndef PIC_GUEST_H\n#define PIC_GUEST_H\n");
    expect_has(h, "#define PIC_CTRL_OFFSET 0x00u\n");
    expect_has(h, "#define PIC_CTRL_RESET 0x2104u\n");
    expect_has(h, "#define PIC_CTRL_MODE_SHIFT 1\n");
    expect_has(h, "#define PIC_CTRL_MODE_WIDTH 3\n");
    expect_has(h, "#define PIC_CTRL_MODE_MASK 0x000eu\n");
    expect_has(h, "#define PIC_WIDE_SPAN_MASK UINT64_C(0x0000ffffffff0000)\n");
    expect_has(h, "#define PIC_WIDE_LO_MASK UINT64_C(0x000000000000ffff)\n");
    expect_has(h, "#define PIC_RING_COUNT 4u\n#define PIC_RING_STRIDE 8u\n");
    /* The doc string cannot end the comment early. */
    expect_has(h, "/* ctrl: 16-bit, a | b * / c */\n");
    cr_expect(strstr(h, "#error") == NULL);
    talloc_free(ctx);
}

/* Register a + field b_c and register a_b + field c both make X_A_B_C_*:
 * the header says so instead of redefining a macro. */
Test(emit_doc, guest_header_name_clash)
{
    void *ctx = talloc_new(NULL);
    struct vdevc_unit *u =
        compile_text(ctx, "device x {\n vendor 1;\n device 2;\n"
                          " bar 0 mem32 size 256 {\n"
                          "  reg a @ 0x0 : 32 { field b_c [1:0] rw; }\n"
                          "  reg a_b @ 0x4 : 32 { field c [3:2] rw; }\n"
                          " }\n}\n");
    char *h = vdevc_emit_guest_h(ctx, u);
    expect_has(h, "#error \"vdevc: X_A_B_C_MASK is defined twice");
    talloc_free(ctx);
}

static const char *
find_cc(void)
{
    static const char *const ccs[] = {"/usr/bin/cc", "/usr/bin/gcc",
                                      "/usr/bin/clang"};
    for (unsigned i = 0; i < 3; i++)
        if (access(ccs[i], X_OK) == 0)
            return ccs[i];
    return NULL;
}

static void
put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* A C file that static-asserts every offset, shift and mask of u against
 * the header, and that 64-bit registers' masks are 64 bits wide. */
static char *
assert_file(void *ctx, struct vdevc_unit *u, const char *header)
{
    const char *N = vdevc_upper(ctx, u->dev->name);
    char *c = talloc_asprintf(ctx, "#include \"%s\"\n", header);
    c = talloc_asprintf_append(
        c, "_Static_assert(%s_VENDOR_ID == 0x%" PRIx64 "u, \"vendor\");\n", N,
        u->dev->vendor);
    for (unsigned i = 0; i < u->dev->regs.n; i++) {
        const struct vdevc_reg *r = u->dev->regs.v[i];
        const char *R = vdevc_upper(ctx, r->cname);
        c = talloc_asprintf_append(
            c, "_Static_assert(%s_%s_OFFSET == 0x%" PRIx64 "u, \"%s\");\n", N,
            R, r->off, R);
        for (unsigned k = 0; k < r->fields.n; k++) {
            const struct vdevc_field *f = r->fields.v[k];
            if (f->implicit)
                continue;
            const char *F = vdevc_upper(ctx, f->name);
            uint64_t m = vdevc_mask(f->hi_v - f->lo_v + 1) << f->lo_v;
            c = talloc_asprintf_append(
                c,
                "_Static_assert(%s_%s_%s_MASK == 0x%" PRIx64 "ull && "
                "%s_%s_%s_SHIFT == %u && sizeof(%s_%s_%s_MASK) == %u, "
                "\"%s.%s\");\n",
                N, R, F, m, N, R, F, f->lo_v, N, R, F, r->width == 64 ? 8 : 4,
                R, F);
        }
    }
    return talloc_asprintf_append(c, "int guest_h_used(void);\n"
                                     "int guest_h_used(void) { return 0; }\n");
}

static void
compile_header(void *ctx, const char *dir, const char *cc, struct vdevc_unit *u,
               const char *text, const char *what)
{
    char *h = talloc_asprintf(ctx, "%s/%s.h", dir, u->dev->name);
    char *src = talloc_asprintf(ctx, "%s/use_%s.c", dir, u->dev->name);
    char *obj = talloc_asprintf(ctx, "%s/use_%s.o", dir, u->dev->name);
    put_file(h, text);
    put_file(src, assert_file(ctx, u, h));
    char *argv[] = {(char *)cc,
                    (char *)"-std=c11",
                    (char *)"-Wall",
                    (char *)"-Wextra",
                    (char *)"-Wpedantic",
                    (char *)"-Werror",
                    (char *)"-c",
                    src,
                    (char *)"-o",
                    obj,
                    NULL};
    char *err;
    int st = vt_run(ctx, argv, NULL, &err);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "guest header of %s does not compile:\n%s", what, err);
    unlink(h);
    unlink(src);
    unlink(obj);
}

Test(emit_doc, guest_headers_compile_standalone, .timeout = 120)
{
    const char *cc = find_cc();
    cr_assert_not_null(cc, "no C compiler to check the headers with");
    void *ctx = talloc_new(NULL);
    char dir[] = "/tmp/vdev-guest-h-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char **models = vt_glob(ctx, "models/*.vdev");
    char **lang = vt_glob(ctx, "tests/golden/lang/*.vdev");
    unsigned n = 0;
    for (char **set[] = {models, lang}, ***s = set; s < set + 2; s++)
        for (char **p = *s; *p != NULL; p++, n++) {
            struct vdevc_unit *u = compile_file(ctx, *p);
            compile_header(ctx, dir, cc, u, vdevc_emit_guest_h(ctx, u), *p);
        }
    compile_header(ctx, dir, cc, compile_text(ctx, pic_src),
                   vdevc_emit_guest_h(ctx, compile_text(ctx, pic_src)), "pic");
    cr_expect_geq(n, 13, "models and language examples");
    rmdir(dir);
    talloc_free(ctx);
}

/* Every picture's box lines are as wide as its bit ruler, in every
 * example of the language and every golden device: labels never push a
 * box out of line. */
static unsigned
check_pictures(const char *doc, const char *what)
{
    unsigned pictures = 0;
    const char *p = doc;
    while ((p = strstr(p, "```text\n")) != NULL) {
        p += 8;
        const char *end = strstr(p, "```\n");
        cr_assert_not_null(end, "%s: unterminated picture", what);
        size_t ruler = 0;
        for (const char *l = p; l < end;) {
            const char *nl = strchr(l, '\n');
            size_t len = (size_t)(nl - l);
            if (strncmp(l, "+-+", 3) == 0)
                ruler = len;
            else if ((l[0] == '|' || l[0] == '+') && ruler != 0)
                cr_expect_eq(len, ruler, "%s: box line '%.*s' is not %zu wide",
                             what, (int)len, l, ruler);
            l = nl + 1;
        }
        cr_expect(ruler == 17 || ruler == 33 || ruler == 65,
                  "%s: ruler of %zu columns", what, ruler);
        pictures++;
        p = end + 4;
    }
    return pictures;
}

Test(emit_doc, every_example_documents_every_register)
{
    void *ctx = talloc_new(NULL);
    static const char *const sets[] = {"tests/golden/lang/*.vdev",
                                       "tests/golden/*.vdev", "models/*.vdev"};
    unsigned devices = 0;
    for (unsigned s = 0; s < 3; s++) {
        char **paths = vt_glob(ctx, sets[s]);
        for (char **p = paths; *p != NULL; p++, devices++) {
            struct vdevc_unit *u = compile_file(ctx, *p);
            char *doc = vdevc_emit_doc(ctx, u);
            cr_assert_not_null(doc);
            unsigned regs = 0;
            for (unsigned i = 0; i < u->dev->regs.n; i++) {
                const struct vdevc_reg *r = u->dev->regs.v[i];
                char *h =
                    r->n > 1
                        ? talloc_asprintf(ctx, "\n### %s[%u]\n", r->qname, r->n)
                        : talloc_asprintf(ctx, "\n### %s\n", r->qname);
                cr_expect(strstr(doc, h) != NULL, "%s: no section for %s", *p,
                          r->qname);
                regs++;
            }
            cr_expect_eq(check_pictures(doc, *p), regs,
                         "%s: one picture per register", *p);
            cr_expect_str_eq(doc, vdevc_emit_doc(ctx, u), "%s: not stable", *p);
        }
    }
    cr_expect_geq(devices, 16);
    talloc_free(ctx);
}
