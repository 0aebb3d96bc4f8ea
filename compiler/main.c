/* vdevc driver: read the .vdev, run the passes, write what was asked for.
 * The passes: parse -> check -> lay out -> emit C / header / JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>

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
};

static void
usage(FILE *f)
{
    fputs("usage: vdevc [options] FILE.vdev\n"
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
          "                       every field that breaks it\n"
          "  --help               this text\n"
          "  --version            print the version\n"
          "Exit status: 0 on success, 1 on errors.\n",
          f);
}

static int
parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_EMIT = 256, OPT_LINES, OPT_HELP, OPT_VERSION, OPT_MIG };
    static const struct option longs[] = {
        {"header", required_argument, NULL, 'H'},
        {"emit", required_argument, NULL, OPT_EMIT},
        {"line-directives", no_argument, NULL, OPT_LINES},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {"check-migration", no_argument, NULL, OPT_MIG},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "o:H:M", longs, NULL)) != -1) {
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
        case OPT_LINES:
            o->line_directives = true;
            break;
        case OPT_MIG:
            o->old = "";
            break;
        case OPT_EMIT:
            if (strcmp(optarg, "c") == 0)
                o->emit = EMIT_C;
            else if (strcmp(optarg, "h") == 0)
                o->emit = EMIT_H;
            else if (strcmp(optarg, "json") == 0)
                o->emit = EMIT_JSON;
            else if (strcmp(optarg, "doc") == 0)
                o->emit = EMIT_DOC;
            else if (strcmp(optarg, "guest-h") == 0)
                o->emit = EMIT_GUEST_H;
            else if (strcmp(optarg, "check") == 0)
                o->emit = EMIT_CHECK;
            else {
                fprintf(stderr,
                        "vdevc: --emit takes c, h, json, doc, guest-h or "
                        "check, not '%s'\n",
                        optarg);
                return 1;
            }
            break;
        case OPT_HELP:
            usage(stdout);
            exit(0);
        case OPT_VERSION:
            printf("vdevc %s\n", VDEVC_VERSION);
            exit(0);
        default:
            usage(stderr);
            return 1;
        }
    }
    if (o->old != NULL && optind == argc - 2) {
        o->old = argv[optind];
        o->input = argv[optind + 1];
        return 0;
    }
    if (o->old != NULL || optind != argc - 1) {
        usage(stderr);
        return 1;
    }
    o->input = argv[optind];
    return 0;
}

static char *
read_file(void *ctx, const char *path, size_t *_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "vdevc: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = talloc_size(ctx, cap);
    for (;;) {
        if (len == cap) {
            if (cap > VDEVC_MAX_SOURCE)
                break;
            cap *= 2;
            buf = talloc_realloc_size(ctx, buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "vdevc: %s: read error\n", path);
        return NULL;
    }
    *_len = len;
    return buf;
}

/* Writes through a temporary file so a failed run leaves no half output. */
static int
write_file(void *ctx, const char *path, const char *text)
{
    if (path == NULL || strcmp(path, "-") == 0)
        return fputs(text, stdout) < 0 ? 1 : 0;
    /* Not a regular file (/dev/null, a pipe): write to it, never replace
     * it. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        FILE *f = fopen(path, "wb");
        bool ok = f != NULL && fputs(text, f) >= 0;
        if (f != NULL)
            ok &= fclose(f) == 0;
        if (!ok)
            fprintf(stderr, "vdevc: cannot write %s\n", path);
        return ok ? 0 : 1;
    }
    char *tmp = talloc_asprintf(ctx, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        fprintf(stderr, "vdevc: %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    bool ok = fputs(text, f) >= 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "vdevc: cannot write %s\n", path);
        remove(tmp);
        return 1;
    }
    return 0;
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
    if (o->header != NULL)
        return base_name(o->header);
    if (o->output != NULL && strcmp(o->output, "-") != 0) {
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
emit(void *ctx, struct vdevc_unit *u, const struct options *o)
{
    if (o->deps) {
        const char *target =
            o->output ? o->output : talloc_asprintf(ctx, "%s.c", u->dev->name);
        printf("%s%s%s: %s\n", target, o->header ? " " : "",
               o->header ? o->header : "", o->input);
        return 0;
    }
    char *text = o->emit == EMIT_C       ? vdevc_emit_c(ctx, u)
                 : o->emit == EMIT_H     ? vdevc_emit_h(ctx, u)
                 : o->emit == EMIT_JSON  ? vdevc_emit_json(ctx, u)
                 : o->emit == EMIT_DOC   ? vdevc_emit_doc(ctx, u)
                 : o->emit == EMIT_CHECK ? vdevc_emit_check(ctx, u)
                                         : vdevc_emit_guest_h(ctx, u);
    if (text == NULL) {
        fprintf(stderr, "vdevc: out of memory\n");
        return 1;
    }
    if (write_file(ctx, o->output, text) != 0)
        return 1;
    if (o->header != NULL && o->emit == EMIT_C) {
        char *h = vdevc_emit_h(ctx, u);
        if (h == NULL || write_file(ctx, o->header, h) != 0)
            return 1;
    }
    return 0;
}

static struct vdevc_unit *
load(void *ctx, const char *path, const struct options *o)
{
    size_t len = 0;
    char *src = read_file(ctx, path, &len);
    if (src == NULL)
        return NULL;
    struct vdevc_unit *u = vdevc_unit_new(ctx, path, src, len, stderr);
    if (u == NULL)
        return NULL;
    u->line_directives = o->line_directives;
    if (vdevc_compile(u) != 0) {
        vdevc_diag_finish(u->diag);
        return NULL;
    }
    return u;
}

static int
check_migration(void *ctx, const struct options *o)
{
    struct vdevc_unit *old = load(ctx, o->old, o),
                      *new = load(ctx, o->input, o);
    if (old == NULL || new == NULL)
        return 1;
    if (vdevc_check_migration(old, new, stdout) == 0)
        return 0;
    vdevc_diag_finish(old->diag);
    vdevc_diag_finish(new->diag);
    return 1;
}

int
main(int argc, char **argv)
{
    struct options o = {0};
    if (argc > 1 && strcmp(argv[1], "build") == 0)
        return vdevc_build_main(argc - 1, argv + 1);
    if (parse_args(argc, argv, &o) != 0)
        return 1;
    void *ctx = talloc_new(NULL);
    if (o.old != NULL) {
        int r = check_migration(ctx, &o);
        talloc_free(ctx);
        return r;
    }
    int rc = 1;
    struct vdevc_unit *u = load(ctx, o.input, &o);
    if (u == NULL)
        goto done;
    u->header_name = header_name(u, &o, u->dev->name);
    rc = emit(ctx, u, &o);
#ifndef __SANITIZE_ADDRESS__
    if (rc == 0) {
        /* Exiting frees it all at once; a tree walk over millions of AST
         * blocks would cost a tenth of a 100,000-register run. (Sanitizer
         * builds free it, to check that everything is freeable.) */
        return 0;
    }
#endif
done:
    talloc_free(ctx);
    return rc;
}
