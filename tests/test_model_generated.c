/* generated/ is what vdevc makes of models/ today, and vdevc makes the
 * same bytes every time (the freshness check of `make check-generated`,
 * as a test). */
#include <criterion/criterion.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

static void
same_file(const char *a, const char *b)
{
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);

    cr_assert(la == lb && memcmp(x, y, la) == 0,
              "%s differs from %s: run 'make generated-update'", a, b);
    free(x);
    free(y);
}

/* vdevc MODEL into dir/NAME.{c,h}. */
static void
compile(const char *vdevc, const char *model, const char *dir, const char *name)
{
    char c[PATH_MAX], h[PATH_MAX], hopt[PATH_MAX + 16];

    snprintf(c, sizeof(c), "%s/%s.c", dir, name);
    snprintf(h, sizeof(h), "%s/%s.h", dir, name);
    snprintf(hopt, sizeof(hopt), "--header=%s", h);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        execl(vdevc, vdevc, "-o", c, hopt, model, (char *)NULL);
        _exit(127);
    }
    int status = child_reap(pid, "vdevc");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "vdevc %s failed",
              model);
}

Test(model_generated, fresh_and_deterministic, .timeout = 60)
{
    const char *b = getenv("VDEV_BUILD");
    char vdevc[PATH_MAX], d1[] = "/tmp/vdev-gen-XXXXXX",
                          d2[] = "/tmp/vdev-gen-XXXXXX";
    glob_t g;

    snprintf(vdevc, sizeof(vdevc), "%s/bin/vdevc", b ? b : "build");
    cr_assert_eq(access(vdevc, X_OK), 0, "%s not built", vdevc);
    cr_assert_eq(glob("models/*.vdev", 0, NULL, &g), 0,
                 "no models/*.vdev (run from the top of the tree)");
    cr_assert_geq(g.gl_pathc, 3);
    cr_assert_not_null(mkdtemp(d1));
    cr_assert_not_null(mkdtemp(d2));
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *model = g.gl_pathv[i];
        char name[256], p1[PATH_MAX], p2[PATH_MAX], want[PATH_MAX];
        const char *base = strrchr(model, '/') + 1;

        snprintf(name, sizeof(name), "%.*s", (int)(strlen(base) - 5), base);
        compile(vdevc, model, d1, name);
        compile(vdevc, model, d2, name);
        for (int k = 0; k < 2; k++) {
            const char *ext = k ? "h" : "c";
            snprintf(p1, sizeof(p1), "%s/%s.%s", d1, name, ext);
            snprintf(p2, sizeof(p2), "%s/%s.%s", d2, name, ext);
            snprintf(want, sizeof(want), "generated/%s.%s", name, ext);
            same_file(p1, p2);
            same_file(want, p1);
            unlink(p1);
            unlink(p2);
        }
    }
    globfree(&g);
    rmdir(d1);
    rmdir(d2);
}
