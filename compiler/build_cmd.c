/* `vdevc build`: a .vdev (and companion C) to a server binary in one
 * command, with the flags of the installed libvdev (pkg-config), the way
 * the cc driver runs its passes: vdevc itself writes the C into a
 * temporary folder, then $CC compiles and links it. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "build_cmd.h"

struct build {
    const char *vdev;
    const char *output;
    const char **extra; /* companion .c, .o, .a: given to cc as they are */
    unsigned nr_extra;
    bool is_static;
    bool verbose;
};

static void
build_usage(FILE *f)
{
    fputs("usage: vdevc build [options] FILE.vdev [COMPANION.c|.o|.a]...\n"
          "Compiles FILE.vdev and links it with libvdev into a server "
          "program,\nwith the flags of the installed libvdev "
          "(pkg-config libvdev).\n\n"
          "  -o FILE       the program (default: vdev-NAME for NAME.vdev)\n"
          "  --static      link statically (pkg-config --static; needs "
          "libvdev.a)\n"
          "  -v            print the commands as they run\n"
          "  --help        this text\n"
          "Environment: CC (default cc), CFLAGS, LDFLAGS, PKG_CONFIG, "
          "PKG_CONFIG_PATH.\n"
          "Companion C includes the generated header as \"NAME.h\".\n"
          "Exit status: 0 on success, 1 on errors, 2 for a wrong command "
          "line.\n",
          f);
}

static int
parse_build_args(void *ctx, int argc, char **argv, struct build *b)
{
    enum { OPT_STATIC = 256, OPT_HELP };
    static const struct option longs[] = {
        {"static", no_argument, NULL, OPT_STATIC},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:v", longs, NULL)) != -1) {
        switch (c) {
        case 'o':
            b->output = optarg;
            break;
        case 'v':
            b->verbose = true;
            break;
        case OPT_STATIC:
            b->is_static = true;
            break;
        case OPT_HELP:
            build_usage(stdout);
            return 0;
        default:
            build_usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "vdevc build: no .vdev file given\n");
        build_usage(stderr);
        return 2;
    }
    b->vdev = argv[optind++];
    b->extra = talloc_array(ctx, const char *, argc - optind + 1);
    for (; optind < argc; optind++)
        b->extra[b->nr_extra++] = argv[optind];
    return -1;
}

/* NAME of .../NAME.vdev */
static char *
model_name(void *ctx, const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n = strlen(base);

    if (n > 5 && !strcmp(base + n - 5, ".vdev"))
        n -= 5;
    return talloc_strndup(ctx, base, n);
}

/* Appends the words of s (split at blanks) to the argv being built. */
static const char **
push_words(void *ctx, const char **v, unsigned *n, const char *s)
{
    char *copy = talloc_strdup(ctx, s ? s : "");
    char *save = NULL;

    for (char *w = strtok_r(copy, " \t\n", &save); w;
         w = strtok_r(NULL, " \t\n", &save)) {
        v = talloc_realloc(ctx, v, const char *, *n + 2);
        v[(*n)++] = w;
        v[*n] = NULL;
    }
    return v;
}

static const char **
push(void *ctx, const char **v, unsigned *n, const char *w)
{
    v = talloc_realloc(ctx, v, const char *, *n + 2);
    v[(*n)++] = w;
    v[*n] = NULL;
    return v;
}

static void
print_cmd(const char *const *argv)
{
    for (unsigned i = 0; argv[i]; i++)
        fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
    fputc('\n', stderr);
}

/* Runs argv (PATH searched); with out, its stdout is read into *out.
 * Returns its exit status, or -errno when it could not run. */
static int
run(void *ctx, const char *const *argv, char **out, bool verbose)
{
    int pfd[2] = {-1, -1}, status;
    pid_t pid;

    if (verbose)
        print_cmd(argv);
    if (out && pipe(pfd) < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        if (out) {
            dup2(pfd[1], STDOUT_FILENO);
            close(pfd[0]);
            close(pfd[1]);
        }
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "vdevc build: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    if (out) {
        char buf[4096];
        ssize_t k;

        close(pfd[1]);
        *out = talloc_strdup(ctx, "");
        while ((k = read(pfd[0], buf, sizeof(buf))) > 0 ||
               (k < 0 && errno == EINTR))
            if (k > 0)
                *out = talloc_strndup_append(*out, buf, (size_t)k);
        close(pfd[0]);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* vdevc's own PREFIX/lib/pkgconfig goes after the caller's search path, so
 * an installed vdevc finds its libvdev.pc wherever it was installed. */
static void
add_own_pkgconfig_dir(void *ctx)
{
    char exe[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    const char *old = getenv("PKG_CONFIG_PATH");
    char *dir;
    struct stat st;

    if (n <= 0)
        return;
    exe[n] = '\0';
    if (!(slash = strrchr(exe, '/')))
        return;
    *slash = '\0'; /* PREFIX/bin */
    dir = talloc_asprintf(ctx, "%s/../lib/pkgconfig", exe);
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return;
    setenv("PKG_CONFIG_PATH",
           old && *old ? talloc_asprintf(ctx, "%s:%s", old, dir) : dir, 1);
}

static char *
libvdev_flags(void *ctx, const struct build *b)
{
    const char *pc = getenv("PKG_CONFIG");
    const char **argv = NULL;
    unsigned n = 0;
    char *out = NULL;
    int rc;

    add_own_pkgconfig_dir(ctx);
    argv = push_words(ctx, argv, &n, pc && *pc ? pc : "pkg-config");
    argv = push(ctx, argv, &n, "--cflags");
    argv = push(ctx, argv, &n, "--libs");
    if (b->is_static)
        argv = push(ctx, argv, &n, "--static");
    argv = push(ctx, argv, &n, "libvdev");
    rc = run(ctx, argv, &out, b->verbose);
    if (rc != 0) {
        fprintf(stderr,
                "vdevc build: no libvdev flags from %s (is vdev installed? "
                "'make install' puts libvdev.pc in PREFIX/lib/pkgconfig; "
                "set PKG_CONFIG_PATH to that folder)\n",
                argv[0]);
        return NULL;
    }
    return out;
}

static int
generate(void *ctx, const struct build *b, const char *c, const char *h)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    const char *argv[] = {
        self, "-o", c, talloc_asprintf(ctx, "--header=%s", h), b->vdev, NULL};

    if (n <= 0)
        return -errno;
    self[n] = '\0';
    return run(ctx, argv, NULL, b->verbose);
}

static int
compile_link(void *ctx, const struct build *b, const char *dir, const char *c,
             const char *flags, const char *output)
{
    const char *cc = getenv("CC");
    const char **argv = NULL;
    unsigned n = 0;

    argv = push_words(ctx, argv, &n, cc && *cc ? cc : "cc");
    argv = push_words(ctx, argv, &n, getenv("CFLAGS"));
    argv = push(ctx, argv, &n, talloc_asprintf(ctx, "-I%s", dir));
    argv = push(ctx, argv, &n, "-o");
    argv = push(ctx, argv, &n, output);
    argv = push(ctx, argv, &n, c);
    for (unsigned i = 0; i < b->nr_extra; i++)
        argv = push(ctx, argv, &n, b->extra[i]);
    if (b->is_static)
        argv = push(ctx, argv, &n, "-static");
    argv = push_words(ctx, argv, &n, getenv("LDFLAGS"));
    argv = push_words(ctx, argv, &n, flags);
    return run(ctx, argv, NULL, b->verbose);
}

static int
build(void *ctx, const struct build *b)
{
    const char *tmpdir = getenv("TMPDIR");
    char *name = model_name(ctx, b->vdev);
    char *dir = talloc_asprintf(ctx, "%s/vdevc-build-XXXXXX",
                                tmpdir && *tmpdir ? tmpdir : "/tmp");
    const char *output =
        b->output ? b->output : talloc_asprintf(ctx, "vdev-%s", name);
    char *c, *h, *flags;
    int rc = 1;

    if (access(b->vdev, R_OK) < 0) {
        fprintf(stderr, "vdevc build: %s: %s\n", b->vdev, strerror(errno));
        return 1;
    }
    if (!mkdtemp(dir)) {
        fprintf(stderr, "vdevc build: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    c = talloc_asprintf(ctx, "%s/%s.c", dir, name);
    h = talloc_asprintf(ctx, "%s/%s.h", dir, name);
    if (generate(ctx, b, c, h) != 0)
        goto done; /* vdevc said why */
    if (!(flags = libvdev_flags(ctx, b)))
        goto done;
    if (compile_link(ctx, b, dir, c, flags, output) != 0) {
        fprintf(stderr, "vdevc build: compiling or linking %s failed\n",
                output);
        goto done;
    }
    if (b->verbose)
        fprintf(stderr, "vdevc build: wrote %s\n", output);
    rc = 0;
done:
    unlink(c);
    unlink(h);
    rmdir(dir);
    return rc;
}

int
vdevc_build_main(int argc, char **argv)
{
    void *ctx = talloc_new(NULL);
    struct build b = {0};
    int rc = parse_build_args(ctx, argc, argv, &b);

    if (rc < 0)
        rc = build(ctx, &b);
    talloc_free(ctx);
    return rc;
}
