/* Support code for the vdevc tests (see vdevc_test.h). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <talloc.h>
#include <unistd.h>

#include "child.h"
#include "vdevc_test.h"

char *
vt_read(void *ctx, const char *path, size_t *_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = talloc_size(ctx, cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = talloc_realloc_size(ctx, buf, cap);
        }
    }
    fclose(f);
    buf[len] = '\0';
    if (_len != NULL)
        *_len = len;
    return buf;
}

char **
vt_glob(void *ctx, const char *pattern)
{
    glob_t g;
    char **out;
    if (glob(pattern, 0, NULL, &g) != 0) {
        out = talloc_zero_array(ctx, char *, 1);
        return out;
    }
    out = talloc_zero_array(ctx, char *, g.gl_pathc + 1);
    for (size_t i = 0; i < g.gl_pathc; i++)
        out[i] = talloc_strdup(out, g.gl_pathv[i]);
    globfree(&g);
    return out;
}

struct vdevc_unit *
vt_compile(void *ctx, const char *path, const char *src, size_t len, int *_rc)
{
    struct vdevc_unit *u = vdevc_unit_new(ctx, path, src, len, NULL);
    if (u == NULL) {
        *_rc = -ENOMEM;
        return NULL;
    }
    *_rc = vdevc_compile(u);
    if (*_rc != 0)
        vdevc_diag_finish(u->diag);
    return u;
}

char *
vt_diff(void *ctx, const char *expected, const char *got)
{
    if (strcmp(expected, got) == 0)
        return NULL;
    int line = 1;
    const char *a = expected, *b = got;
    while (*a && *a == *b) {
        if (*a == '\n')
            line++;
        a++;
        b++;
    }
    const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
    int la = ea ? (int)(ea - a) : (int)strlen(a);
    int lb = eb ? (int)(eb - b) : (int)strlen(b);
    return talloc_asprintf(ctx,
                           "first difference at line %d:\n"
                           "  expected: ...%.*s\n  got:      ...%.*s",
                           line, la > 100 ? 100 : la, a, lb > 100 ? 100 : lb,
                           b);
}

const char *
vt_vdevc(void *ctx)
{
    const char *b = getenv("VDEV_BUILD");
    return talloc_asprintf(ctx, "%s/bin/vdevc", b && *b ? b : "build");
}

static char *
slurp_fd(void *ctx, int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = talloc_size(ctx, cap);
    ssize_t n;
    while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = talloc_realloc_size(ctx, buf, cap);
        }
    }
    buf[len] = '\0';
    return buf;
}

int
vt_run(void *ctx, char *const argv[], char **_out, char **_err)
{
    char tmpl_out[] = "/tmp/vdevc-out-XXXXXX",
         tmpl_err[] = "/tmp/vdevc-err-XXXXXX";
    int fo = mkstemp(tmpl_out), fe = mkstemp(tmpl_err);
    if (fo < 0 || fe < 0)
        return -1;
    unlink(tmpl_out);
    unlink(tmpl_err);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = child_reap(pid, argv[0]);
    lseek(fo, 0, SEEK_SET);
    lseek(fe, 0, SEEK_SET);
    char *out = slurp_fd(ctx, fo), *err = slurp_fd(ctx, fe);
    close(fo);
    close(fe);
    if (_out != NULL)
        *_out = out;
    if (_err != NULL)
        *_err = err;
    return status;
}
