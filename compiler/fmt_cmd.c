/* `vdevc fmt`: rewrites .vdev files in the canonical layout (dsl/fmt.c),
 * checks that they are in it (--check, for CI) or prints the result. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <unistd.h>

#include "fmt.h"
#include "vdevc.h"

static void
fmt_usage(FILE *f)
{
    fputs("usage: vdevc fmt [--check | --stdout] FILE...\n"
          "Lays .vdev files out in the canonical style, in place.\n\n"
          "  --check       change nothing; list the files that are not in\n"
          "                the canonical layout, and exit 1 if there are any\n"
          "  --stdout      print the result instead of rewriting the file\n"
          "                (FILE '-' reads stdin and prints too)\n"
          "  -h, --help    this text\n"
          "Exit status: 0 when all is well, 1 when a file has syntax errors\n"
          "or (--check) would change, 2 on a usage error.\n",
          f);
}

struct fmt_opts {
    bool check, to_stdout;
    struct vdevc_diag_opts diag;
};

/* 0 unchanged, 1 changed (or would be), -1 failed. */
static int
fmt_file(void *ctx, const char *path, const struct fmt_opts *o)
{
    char *src;
    size_t len;
    int rc = vdevc_read_file(ctx, path, &src, &len);
    if (rc != 0) {
        fprintf(stderr, "vdevc fmt: %s: %s\n", path, strerror(-rc));
        return -1;
    }
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    struct vdevc_diag *d = vdevc_diag_new(ctx, name, src, len, stderr);
    d->opts = &o->diag;
    char *out;
    if (vdevc_fmt(ctx, d, src, len, &out) != 0) {
        vdevc_diag_finish(d);
        return -1;
    }
    bool changed = strlen(out) != len || memcmp(out, src, len) != 0;
    if (o->check) {
        if (changed)
            printf("%s\n", name);
        return changed;
    }
    if (o->to_stdout || strcmp(path, "-") == 0)
        return fputs(out, stdout) < 0 ? -1 : changed;
    if (changed && vdevc_write_file(ctx, path, out) != 0)
        return -1;
    return changed;
}

int
vdevc_fmt_main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"check", no_argument, NULL, 'c'},
        {"stdout", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct fmt_opts o = {0};
    vdevc_diag_opts_init(&o.diag);
    const char *nc = getenv("NO_COLOR");
    o.diag.color = isatty(2) && (!nc || *nc == '\0');
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.check = true;
            break;
        case 's':
            o.to_stdout = true;
            break;
        case 'h':
            fmt_usage(stdout);
            return 0;
        default:
            fmt_usage(stderr);
            return 2;
        }
    }
    if (optind == argc || (o.check && o.to_stdout)) {
        fmt_usage(stderr);
        return 2;
    }
    int status = 0;
    for (int i = optind; i < argc; i++) {
        void *ctx = talloc_new(NULL);
        int r = fmt_file(ctx, argv[i], &o);
        talloc_free(ctx);
        if (r < 0 || (r > 0 && o.check))
            status = 1;
    }
    return status;
}
