/* The C expression printer against the statement language's meaning:
 * random expressions over variables of many widths (every operator, shift
 * counts past 63, division by zero, stores into narrow variables and
 * fields) are compiled by vdevc, the C by cc with warnings as errors
 * (unused parameters included), run on random inputs, and every result
 * compared with an independent evaluation here. Folding constants and
 * dropping casts, masks and parentheses must never change a value. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "vdevc_test.h"

#define NR_WIDE 48   /* 64-bit results */
#define NR_NARROW 8  /* masked stores into narrow variables */
#define NR_INPUTS 24 /* input sets per program */

static const unsigned var_bits[] = {1, 3, 8, 13, 16, 24, 32, 40, 64};
#define NR_VARS (sizeof(var_bits) / sizeof(var_bits[0]))
static const unsigned narrow_bits[] = {1, 5, 8, 13, 16, 31, 32, 40};

enum { X_NUM, X_VAR, X_VALUE, X_FIELD, X_UNARY, X_BINARY, X_ELEM };

/* q[4] (16 bits) and buf[6] (bytes): reads out of range give 0. */
#define NR_Q 4
#define NR_BUF 6

struct node {
    int kind, op;
    uint64_t num;
    unsigned var;
    struct node *a, *b;
};

struct gen {
    void *ctx;
    uint64_t rng;
};

static uint64_t
rnd(struct gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t
mask(unsigned bits)
{
    return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

static uint64_t
some_const(struct gen *g)
{
    static const uint64_t k[] = {0,
                                 1,
                                 2,
                                 7,
                                 8,
                                 9,
                                 10,
                                 16,
                                 31,
                                 32,
                                 63,
                                 64,
                                 70,
                                 0xff,
                                 0x100,
                                 0xffff,
                                 0x10000,
                                 0xffffffffu,
                                 0x100000000ull,
                                 0xfffffffffffffffeull,
                                 ~0ull};
    return rnd(g) % 4 ? k[rnd(g) % (sizeof k / sizeof k[0])] : rnd(g);
}

static const int binary_ops[] = {'+', '-', '*',    '/',    '%',       '&',
                                 '|', '^', OP_SHL, OP_SHR, OP_EQ,     OP_NE,
                                 '<', '>', OP_LE,  OP_GE,  OP_ANDAND, OP_OROR};

static bool
is_const(const struct node *n)
{
    if (n->kind == X_NUM)
        return true;
    if (n->kind == X_UNARY)
        return is_const(n->a);
    return n->kind == X_BINARY && is_const(n->a) && is_const(n->b);
}

static struct node *
gen_expr(struct gen *g, unsigned depth)
{
    struct node *n = talloc_zero(g->ctx, struct node);
    unsigned pick =
        depth == 0 ? (unsigned)(rnd(g) % 4) : (unsigned)(rnd(g) % 10);
    if (pick == 0) {
        n->kind = X_NUM;
        n->num = some_const(g);
    } else if (pick == 1 || pick == 4) {
        n->kind = X_VAR;
        n->var = (unsigned)(rnd(g) % NR_VARS);
    } else if (pick == 2) {
        n->kind = X_VALUE;
    } else if (pick == 3) {
        n->kind = X_FIELD;
        n->var = (unsigned)(rnd(g) % 3);
    } else if (pick == 5 && depth > 1 && rnd(g) % 2) {
        n->kind = X_ELEM;
        n->var = (unsigned)(rnd(g) % 2); /* q or buf */
        n->a = gen_expr(g, rnd(g) % 2);
        if (is_const(n->a) || rnd(g) % 2) { /* a constant must be in range */
            struct node *m = talloc_zero(g->ctx, struct node);
            m->kind = X_BINARY;
            m->op = '%';
            m->a = n->a;
            m->b = talloc_zero(g->ctx, struct node);
            m->b->num = n->var ? NR_BUF : NR_Q;
            n->a = m;
        }
    } else if (pick == 5) {
        static const int un[] = {'~', '-', '!'};
        n->kind = X_UNARY;
        n->op = un[rnd(g) % 3];
        n->a = gen_expr(g, depth - 1);
    } else {
        n->kind = X_BINARY;
        n->op = binary_ops[rnd(g) % (sizeof binary_ops / sizeof binary_ops[0])];
        n->a = gen_expr(g, depth - 1);
        n->b = gen_expr(g, depth - 1);
        /* A constant division by zero is a compile error, not a test. */
        if ((n->op == '/' || n->op == '%') && is_const(n->a) &&
            is_const(n->b)) {
            n->b->kind = X_VAR;
            n->b->var = 2;
        }
    }
    return n;
}

static const char *const field_names[] = {"fr.lo", "fr.mid", "fr.hi"};
static const unsigned field_lo[] = {0, 8, 20}, field_w[] = {8, 12, 12};

static char *
text(void *ctx, const struct node *n)
{
    switch (n->kind) {
    case X_NUM:
        return talloc_asprintf(ctx, "0x%llx", (unsigned long long)n->num);
    case X_VAR:
        return talloc_asprintf(ctx, "v%u", n->var);
    case X_VALUE:
        return talloc_strdup(ctx, "value");
    case X_FIELD:
        return talloc_strdup(ctx, field_names[n->var]);
    case X_ELEM:
        return talloc_asprintf(ctx, "%s[%s]", n->var ? "buf" : "q",
                               text(ctx, n->a));
    case X_UNARY:
        return talloc_asprintf(ctx, "%c(%s)", n->op, text(ctx, n->a));
    default:
        return talloc_asprintf(ctx, "(%s) %s (%s)", text(ctx, n->a),
                               vdevc_op(n->op)->c, text(ctx, n->b));
    }
}

/* The language's meaning, written out independently of the compiler. */
struct inputs {
    uint64_t vars[NR_VARS], value, fr;
    uint16_t q[NR_Q];
    uint8_t buf[NR_BUF];
};

static uint64_t
eval(const struct node *n, const struct inputs *in)
{
    const uint64_t *vars = in->vars;
    uint64_t value = in->value, fr = in->fr, i;
    uint64_t a, b;
    switch (n->kind) {
    case X_NUM:
        return n->num;
    case X_VAR:
        return vars[n->var];
    case X_VALUE:
        return value;
    case X_FIELD:
        return fr >> field_lo[n->var] & mask(field_w[n->var]);
    case X_ELEM:
        i = eval(n->a, in);
        return n->var ? (i < NR_BUF ? in->buf[i] : 0)
                      : (i < NR_Q ? in->q[i] : 0);
    case X_UNARY:
        a = eval(n->a, in);
        return n->op == '~' ? ~a : n->op == '-' ? 0 - a : a == 0;
    default:
        break;
    }
    a = eval(n->a, in);
    b = eval(n->b, in);
    switch (n->op) {
    case '+':
        return a + b;
    case '-':
        return a - b;
    case '*':
        return a * b;
    case '/':
        return b ? a / b : 0;
    case '%':
        return b ? a % b : 0;
    case '&':
        return a & b;
    case '|':
        return a | b;
    case '^':
        return a ^ b;
    case OP_SHL:
        return b < 64 ? a << b : 0;
    case OP_SHR:
        return b < 64 ? a >> b : 0;
    case OP_EQ:
        return a == b;
    case OP_NE:
        return a != b;
    case '<':
        return a < b;
    case '>':
        return a > b;
    case OP_LE:
        return a <= b;
    case OP_GE:
        return a >= b;
    case OP_ANDAND:
        return a && b;
    default:
        return a || b;
    }
}

struct program {
    struct node *wide[NR_WIDE], *narrow[NR_NARROW], *fields[3];
};

static char *
vdev_source(struct gen *g, struct program *p)
{
    char *s = talloc_strdup(g->ctx, "device ex {\n    vendor 0x1234;\n"
                                    "    device 0x0e0e;\n"
                                    "    buffer buf[6];\n");
    for (unsigned i = 0; i < NR_VARS; i++)
        s = talloc_asprintf_append(s, "    var v%u : %u;\n", i, var_bits[i]);
    for (unsigned i = 0; i < NR_WIDE; i++)
        s = talloc_asprintf_append(s, "    var r%u : 64;\n", i);
    for (unsigned i = 0; i < NR_NARROW; i++)
        s = talloc_asprintf_append(s, "    var n%u : %u;\n", i, narrow_bits[i]);
    s = talloc_strdup_append(s, "    bar 0 mem32 size 256 {\n"
                                "        reg trigger @ 0x0 : 32 rw {\n"
                                "            on write {\n");
    for (unsigned i = 0; i < NR_WIDE; i++) {
        p->wide[i] = gen_expr(g, 1 + i % 4);
        s = talloc_asprintf_append(s, "                r%u = %s;\n", i,
                                   text(g->ctx, p->wide[i]));
    }
    for (unsigned i = 0; i < NR_NARROW; i++) {
        p->narrow[i] = gen_expr(g, 1 + i % 4);
        s = talloc_asprintf_append(s, "                n%u = (%s) & 0x%llx;\n",
                                   i, text(g->ctx, p->narrow[i]),
                                   (unsigned long long)mask(narrow_bits[i]));
    }
    static const char *const outs[] = {"fo.a", "fo.b", "fo.c"};
    static const unsigned out_w[] = {5, 15, 12};
    for (unsigned i = 0; i < 3; i++) {
        p->fields[i] = gen_expr(g, 2 + i);
        s = talloc_asprintf_append(s, "                %s = (%s) & 0x%llx;\n",
                                   outs[i], text(g->ctx, p->fields[i]),
                                   (unsigned long long)mask(out_w[i]));
    }
    return talloc_strdup_append(
        s, "            }\n        }\n"
           "        reg q[4] @ 0x40 : 16 rw;\n"
           "        reg fr @ 0x8 : 32 { field lo [7:0] rw; field mid [19:8] "
           "rw; field hi [31:20] rw; }\n"
           "        reg fo @ 0xc : 32 { field a [4:0] rw; field b [19:5] rw; "
           "field c [31:20] rw; }\n    }\n}\n");
}

/* The program calls the trigger's write hook on each input set and prints
 * every result. */
static char *
driver(void *ctx, const struct inputs *in)
{
    char *s = talloc_strdup(ctx, "#define VDEV_NO_MAIN\n#include <stdio.h>\n"
                                 "#include \"ex.c\"\n\nint\nmain(void)\n{\n"
                                 "    struct vdev_dev *dev = ex_create(NULL);\n"
                                 "    struct ex *d = vdev_private(dev);\n");
    for (unsigned k = 0; k < NR_INPUTS; k++) {
        for (unsigned i = 0; i < NR_VARS; i++)
            s = talloc_asprintf_append(s, "    d->s.v%u = 0x%llxull;\n", i,
                                       (unsigned long long)in[k].vars[i]);
        for (unsigned i = 0; i < NR_Q; i++)
            s = talloc_asprintf_append(s, "    d->s.q[%u] = 0x%x;\n", i,
                                       in[k].q[i]);
        for (unsigned i = 0; i < NR_BUF; i++)
            s = talloc_asprintf_append(s, "    d->s.buf[%u] = 0x%x;\n", i,
                                       in[k].buf[i]);
        s = talloc_asprintf_append(
            s,
            "    d->s.fr = 0x%llxu;\n    d->s.fo = 0;\n"
            "    ex_trigger_on_write(dev, &(struct vdev_reg_access){"
            ".mask = 0xffffffffu, .value = 0x%llxu});\n",
            (unsigned long long)in[k].fr, (unsigned long long)in[k].value);
        for (unsigned i = 0; i < NR_WIDE; i++)
            s = talloc_asprintf_append(
                s, "    printf(\"%%llx\\n\", (unsigned long long)d->s.r%u);\n",
                i);
        for (unsigned i = 0; i < NR_NARROW; i++)
            s = talloc_asprintf_append(
                s, "    printf(\"%%llx\\n\", (unsigned long long)d->s.n%u);\n",
                i);
        s = talloc_strdup_append(
            s, "    printf(\"%llx\\n\", (unsigned long long)d->s.fo);\n");
    }
    return talloc_strdup_append(s, "    talloc_free(dev);\n    return 0;\n}\n");
}

static void
write_file(const char *path, const char *text_)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text_, f);
    cr_assert_eq(fclose(f), 0);
}

static void
run_program(uint64_t seed)
{
    struct gen g = {.ctx = talloc_new(NULL), .rng = seed};
    struct program p;
    const char *src = vdev_source(&g, &p);
    int rc;
    struct vdevc_unit *u = vt_compile(g.ctx, "ex.vdev", src, strlen(src), &rc);
    cr_assert_eq(rc, 0, "seed %llu: vdevc rejects:\n%s\n%s",
                 (unsigned long long)seed, u->diag->text, src);
    u->header_name = "ex.h";
    char dir[] = "/tmp/vdev-expr-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    const char *c = vdevc_emit_c(g.ctx, u), *h = vdevc_emit_h(g.ctx, u);
    write_file(talloc_asprintf(g.ctx, "%s/ex.c", dir), c);
    write_file(talloc_asprintf(g.ctx, "%s/ex.h", dir), h);

    struct inputs in[NR_INPUTS];
    for (unsigned k = 0; k < NR_INPUTS; k++) {
        for (unsigned i = 0; i < NR_VARS; i++)
            in[k].vars[i] =
                (k < 2 ? (k ? ~0ull : 0) : rnd(&g)) & mask(var_bits[i]);
        in[k].value = (k < 2 ? (k ? ~0ull : 0) : rnd(&g)) & 0xffffffffu;
        in[k].fr = (k < 2 ? (k ? ~0ull : 0) : rnd(&g)) & 0xffffffffu;
        for (unsigned i = 0; i < NR_Q; i++)
            in[k].q[i] = (uint16_t)rnd(&g);
        for (unsigned i = 0; i < NR_BUF; i++)
            in[k].buf[i] = (uint8_t)rnd(&g);
    }
    write_file(talloc_asprintf(g.ctx, "%s/main.c", dir), driver(g.ctx, in));

    const char *b = getenv("VDEV_BUILD") ? getenv("VDEV_BUILD") : "build";
    /* The sanitizer build's libvdev needs its runtime. */
    const char *san =
        strstr(b, "build-san")
            ? "-fsanitize=address,undefined -fno-omit-frame-pointer"
            : "";
    char *cmd = talloc_asprintf(
        g.ctx,
        "cc -std=gnu11 -O2 -Wall -Wextra -Wshadow -Wwrite-strings -Werror %s "
        "-I%s -Iinclude/vdev %s/main.c -o %s/prog %s/libvdev.a "
        "$(pkg-config --libs talloc json-c libseccomp) && %s/prog",
        san, dir, dir, dir, b, dir);
    char *argv[] = {(char *)"/bin/sh", (char *)"-c", cmd, NULL};
    char *out, *err;
    int st = vt_run(g.ctx, argv, &out, &err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
              "seed %llu: the C does not build or run:\n%s\n%s",
              (unsigned long long)seed, err, c);

    char *line = out;
    for (unsigned k = 0; k < NR_INPUTS; k++) {
        uint64_t fo = 0;
        for (unsigned i = 0; i < NR_WIDE + NR_NARROW + 1; i++) {
            uint64_t want;
            const struct node *n;
            if (i < NR_WIDE) {
                n = p.wide[i];
                want = eval(n, &in[k]);
            } else if (i < NR_WIDE + NR_NARROW) {
                n = p.narrow[i - NR_WIDE];
                want = eval(n, &in[k]) & mask(narrow_bits[i - NR_WIDE]);
            } else {
                n = NULL;
                fo = (eval(p.fields[0], &in[k]) & 0x1f) |
                     (eval(p.fields[1], &in[k]) & 0x7fff) << 5 |
                     (eval(p.fields[2], &in[k]) & 0xfff) << 20;
                want = fo;
            }
            cr_assert_not_null(line, "seed %llu: output ends early", seed);
            uint64_t got = strtoull(line, &line, 16);
            cr_assert_eq(got, want,
                         "seed %llu, inputs %u, result %u: got 0x%llx, want "
                         "0x%llx for %s",
                         (unsigned long long)seed, k, i,
                         (unsigned long long)got, (unsigned long long)want,
                         n ? text(g.ctx, n) : "fo");
        }
    }
    char *rm[] = {(char *)"/bin/rm", (char *)"-rf", dir, NULL};
    vt_run(g.ctx, rm, NULL, NULL);
    talloc_free(g.ctx);
}

/* VDEV_EXPR_SEEDS=N runs N programs instead of 6 (a deeper search). */
Test(emit_expr, random_programs_keep_their_meaning, .timeout = 600)
{
    const char *env = getenv("VDEV_EXPR_SEEDS");
    uint64_t n = env ? strtoull(env, NULL, 0) : 6;
    for (uint64_t seed = 1; seed <= n; seed++)
        run_program(seed * 0x9e3779b97f4a7c15ull);
}
