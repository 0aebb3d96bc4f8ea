/* vdevc driver: read the .vdev, run the passes, write what was asked for.
 * The passes: parse -> check -> lay out -> emit C / header / JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>
#include <unistd.h>

#include "build_cmd.h"
#include "emit_check.h"
#include "vdevc.h"

enum emit_kind {
    EMIT_C,
    EMIT_H,
    EMIT_JSON,
    EMIT_DOC,
    EMIT_GUEST_H,
    EMIT_CHECK
};

struct options {
    const char *input;
    const char *old; /* --check-migration OLD NEW */
    const char *output;
    const char *header;
    enum emit_kind emit;
    bool deps;
    bool line_directives;
    const char *color; /* always, never, auto */
    struct vdevc_diag_opts diag;
    /* Every file's diagnostics, for one JSON/SARIF report at the end. */
    struct vdevc_diag *diags[2];
    unsigned nr_diags;
};

static void
usage(FILE *f)
{
    fputs("usage: vdevc [options] FILE.vdev\n"
          "       vdevc --check-migration [options] OLD.vdev NEW.vdev\n"
          "       vdevc fmt [--check | --stdout] FILE...\n"
          "       vdevc build [-o PROGRAM] FILE.vdev [COMPANION.c]...\n"
          "Compiles a .vdev device description to C for libvdev; 'vdevc "
          "build'\nalso compiles and links it into a server program "
          "(vdevc build --help).\n\n"
          "  -o FILE              write the output to FILE (default: stdout)\n"
          "  -H, --header=FILE    also write the C header to FILE\n"
          "  -M                   print a make dependency line and stop\n"
          "  --emit=KIND          what to write: c (C source, default), h\n"
          "                       (its header), json (the device as data),\n"
          "                       doc (Markdown register map), guest-h (a\n"
          "                       C header of offsets and masks for guests),\n"
          "                       check (a conformance checker program)\n"
          "  --line-directives    #line directives instead of comments\n"
          "  --check-migration OLD.vdev NEW.vdev\n"
          "                       can NEW load OLD's migration stream? names\n"
          "                       every field that breaks it (no warnings)\n"
          "Diagnostics:\n"
          "  --color[=WHEN]       colour them: auto (default: when stderr is\n"
          "                       a terminal and NO_COLOR is unset or empty),\n"
          "                       always (also with NO_COLOR), never\n"
          "  --diagnostics-format=text|json|sarif\n"
          "                       json: one document on stderr; sarif: a\n"
          "                       SARIF 2.1.0 log on stderr\n"
          "  -Wall                every warning (the default)\n"
          "  -WNAME, -Wno-NAME    turn warning NAME on or off\n"
          "  -Werror[=NAME]       report (warning NAME) as an error\n"
          "  -w                   no warnings\n"
          "  warnings: ",
          f);
    for (unsigned w = 0; w < VDEVC_NR_WARNINGS; w++)
        fprintf(f, "%s%s", w ? ", " : "", vdevc_warning_name(w));
    fputs("\n\n"
          "  -h, --help           this text\n"
          "  -V, --version        print the version\n"
          "Exit status: 0 on success, 1 on errors (or an incompatible\n"
          "migration), 2 on a usage error.\n",
          f);
}

static int
parse_emit(struct options *o, const char *kind)
{
    static const char *const kinds[] = {
        [EMIT_C] = "c",
        [EMIT_H] = "h",
        [EMIT_JSON] = "json",
        [EMIT_DOC] = "doc",
        [EMIT_GUEST_H] = "guest-h",
        [EMIT_CHECK] = "check",
    };
    for (unsigned k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(kind, kinds[k]) == 0) {
            o->emit = k;
            return 0;
        }
    fprintf(stderr,
            "vdevc: --emit takes c, h, json, doc, guest-h or check, not "
            "'%s'\n",
            kind);
    return 2;
}

static int
parse_format(struct options *o, const char *f)
{
    if (strcmp(f, "text") == 0)
        o->diag.format = VDEVC_DIAG_TEXT;
    else if (strcmp(f, "json") == 0)
        o->diag.format = VDEVC_DIAG_JSON;
    else if (strcmp(f, "sarif") == 0)
        o->diag.format = VDEVC_DIAG_SARIF;
    else {
        fprintf(stderr,
                "vdevc: --diagnostics-format takes text, json or sarif, not "
                "'%s'\n",
                f);
        return 2;
    }
    return 0;
}

/* auto: a terminal, and no NO_COLOR (https://no-color.org) with a value;
 * always wins over NO_COLOR (asked for by name). */
static int
parse_color(struct options *o)
{
    const char *c = o->color, *nc = getenv("NO_COLOR");
    if (strcmp(c, "always") == 0)
        o->diag.color = true;
    else if (strcmp(c, "never") == 0)
        o->diag.color = false;
    else if (strcmp(c, "auto") == 0)
        o->diag.color = isatty(2) && (!nc || *nc == '\0');
    else {
        fprintf(stderr,
                "vdevc: --color takes always, never or auto, not '%s'\n", c);
        return 2;
    }
    return 0;
}

/* 0: go on; 2: usage error (reported); -1: done (help, version). */
static int
parse_args(int argc, char **argv, struct options *o)
{
    enum {
        OPT_EMIT = 256,
        OPT_LINES,
        OPT_MIG,
        OPT_COLOR,
        OPT_FORMAT,
    };
    static const struct option longs[] = {
        {"header", required_argument, NULL, 'H'},
        {"emit", required_argument, NULL, OPT_EMIT},
        {"line-directives", no_argument, NULL, OPT_LINES},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"check-migration", no_argument, NULL, OPT_MIG},
        {"color", optional_argument, NULL, OPT_COLOR},
        {"colour", optional_argument, NULL, OPT_COLOR},
        {"diagnostics-format", required_argument, NULL, OPT_FORMAT},
        {NULL, 0, NULL, 0},
    };
    vdevc_diag_opts_init(&o->diag);
    o->color = "auto";
    int c, rc = 0;
    while (rc == 0 &&
           (c = getopt_long(argc, argv, "o:H:MW:whV", longs, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->output = optarg;
            break;
        case 'H':
            o->header = optarg;
            break;
        case 'M':
            o->deps = true;
            break;
        case 'W':
            if (vdevc_diag_opts_flag(&o->diag, optarg) != 0) {
                fprintf(stderr, "vdevc: unknown warning option '-W%s'\n",
                        optarg);
                rc = 2;
            }
            break;
        case 'w':
            o->diag.enabled = 0;
            break;
        case OPT_LINES:
            o->line_directives = true;
            break;
        case OPT_MIG:
            o->old = "";
            break;
        case OPT_EMIT:
            rc = parse_emit(o, optarg);
            break;
        case OPT_COLOR:
            o->color = optarg ? optarg : "always";
            break;
        case OPT_FORMAT:
            rc = parse_format(o, optarg);
            break;
        case 'h':
            usage(stdout);
            return -1;
        case 'V':
            printf("vdevc %s\n", VDEVC_VERSION);
            return -1;
        default:
            rc = 2;
            break;
        }
    }
    if (rc == 0)
        rc = parse_color(o);
    if (rc == 0 && o->old && optind == argc - 2) {
        o->old = argv[optind];
        o->input = argv[optind + 1];
        /* Only what breaks the migration, or may. */
        o->diag.enabled &= 1u << VDEVC_W_MIG_TIMER_REMOVED;
        return 0;
    }
    if (rc == 0 && !o->old && optind == argc - 1) {
        o->input = argv[optind];
        return 0;
    }
    usage(stderr);
    return 2;
}

static const char *
base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The header the .c includes: --header's name, else -o's with .h. */
static const char *
header_name(void *ctx, const struct options *o, const char *device)
{
    if (o->header)
        return base_name(o->header);
    if (o->output && strcmp(o->output, "-") != 0) {
        char *h = talloc_strdup(ctx, base_name(o->output));
        size_t n = strlen(h);
        if (n > 2 && strcmp(h + n - 2, ".c") == 0)
            h[n - 1] = 'h';
        else
            h = talloc_asprintf(ctx, "%s.h", h);
        return h;
    }
    return talloc_asprintf(ctx, "%s.h", device);
}

static int
write_c(void *u, FILE *f)
{
    return vdevc_emit_c_file(u, f);
}

static int
write_h(void *u, FILE *f)
{
    return vdevc_emit_h_file(u, f);
}

static int
emit(void *ctx, struct vdevc_unit *u, const struct options *o)
{
    if (o->deps) {
        const char *target =
            o->output ? o->output : talloc_asprintf(ctx, "%s.c", u->dev->name);
        printf("%s%s%s: %s\n", target, o->header ? " " : "",
               o->header ? o->header : "", o->input);
        return 0;
    }
    /* C and its header go out as they are made: a large device's text is
     * never whole in memory. */
    if (o->emit == EMIT_C || o->emit == EMIT_H) {
        if (vdevc_write_stream(ctx, o->output,
                               o->emit == EMIT_C ? write_c : write_h, u) != 0)
            return 1;
        if (o->header && o->emit == EMIT_C &&
            vdevc_write_stream(ctx, o->header, write_h, u) != 0)
            return 1;
        return 0;
    }
    char *text = o->emit == EMIT_H       ? vdevc_emit_h(ctx, u)
                 : o->emit == EMIT_JSON  ? vdevc_emit_json(ctx, u)
                 : o->emit == EMIT_DOC   ? vdevc_emit_doc(ctx, u)
                 : o->emit == EMIT_CHECK ? vdevc_emit_check(ctx, u)
                                         : vdevc_emit_guest_h(ctx, u);
    if (!text) {
        fprintf(stderr, "vdevc: out of memory\n");
        return 1;
    }
    if (vdevc_write_file(ctx, o->output, text) != 0)
        return 1;
    return 0;
}

static struct vdevc_diag *
keep(struct options *o, struct vdevc_diag *d)
{
    d->opts = &o->diag;
    o->diags[o->nr_diags++] = d;
    return d;
}

static struct vdevc_unit *
load(void *ctx, const char *path, struct options *o)
{
    size_t len = 0;
    char *src;
    int rc = vdevc_read_file(ctx, path, &src, &len);
    if (rc != 0) {
        struct vdevc_diag *d =
            keep(o, vdevc_diag_new(ctx, path, NULL, 0, stderr));
        struct vdevc_loc none = {0, 0, 0, 0};
        vdevc_error(d, none, "cannot-read", "%s", strerror(-rc));
        return NULL;
    }
    struct vdevc_unit *u = vdevc_unit_new(ctx, path, src, len, stderr);
    if (!u)
        return NULL;
    keep(o, u->diag);
    u->line_directives = o->line_directives;
    return vdevc_compile(u) == 0 ? u : NULL;
}

static int
check_migration(void *ctx, struct options *o)
{
    struct vdevc_unit *old = load(ctx, o->old, o),
                      *new = load(ctx, o->input, o);
    if (!old || !new)
        return 1;
    return vdevc_check_migration(old, new, stdout) == 0 ? 0 : 1;
}

/* Text: the "N errors generated." lines; JSON/SARIF: the one report. */
static void
report(void *ctx, struct options *o)
{
    char *doc = NULL;
    switch (o->diag.format) {
    case VDEVC_DIAG_TEXT:
        for (unsigned i = 0; i < o->nr_diags; i++)
            vdevc_diag_finish(o->diags[i]);
        return;
    case VDEVC_DIAG_JSON:
        doc = vdevc_diag_json(ctx, o->diags, o->nr_diags);
        break;
    case VDEVC_DIAG_SARIF:
        doc = vdevc_diag_sarif(ctx, o->diags, o->nr_diags, VDEVC_VERSION);
        break;
    }
    if (doc)
        fputs(doc, stderr);
}

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "fmt") == 0)
        return vdevc_fmt_main(argc - 1, argv + 1);
    struct options o = {0};
    if (argc > 1 && strcmp(argv[1], "build") == 0)
        return vdevc_build_main(argc - 1, argv + 1);
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    void *ctx = talloc_new(NULL);
    if (o.old) {
        rc = check_migration(ctx, &o);
        report(ctx, &o);
        talloc_free(ctx);
        return rc;
    }
    rc = 1;
    struct vdevc_unit *u = load(ctx, o.input, &o);
    if (u) {
        u->header_name = header_name(u, &o, u->dev->name);
        rc = emit(ctx, u, &o);
    }
    report(ctx, &o);
#ifndef __SANITIZE_ADDRESS__
    if (rc == 0) {
        /* Exiting frees it all at once; a tree walk over millions of AST
         * blocks would cost a tenth of a 100,000-register run. (Sanitizer
         * builds free it, to check that everything is freeable.) */
        return 0;
    }
#endif
    talloc_free(ctx);
    return rc;
}
