/* Whole files in and out for the vdevc commands: reads capped at
 * VDEVC_MAX_SOURCE, writes through a temporary file so a failed run
 * never leaves half a file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <talloc.h>

#include "vdevc.h"

int
vdevc_read_file(void *ctx, const char *path, char **_buf, size_t *_len)
{
    bool std = strcmp(path, "-") == 0;
    FILE *f = std ? stdin : fopen(path, "rb");
    if (!f)
        return -errno;
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
    if (!std)
        fclose(f);
    if (err) {
        talloc_free(buf);
        return -EIO;
    }
    *_buf = buf;
    *_len = len;
    return 0;
}

static int
put_text(void *arg, FILE *f)
{
    return fputs(arg, f) >= 0 ? 0 : -EIO;
}

static int
write_special(const char *path, int (*write)(void *arg, FILE *f), void *arg)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && write(arg, f) == 0;
    if (f)
        ok &= fclose(f) == 0;
    if (!ok)
        fprintf(stderr, "vdevc: cannot write %s\n", path);
    return ok ? 0 : 1;
}

int
vdevc_write_stream(void *ctx, const char *path,
                   int (*write)(void *arg, FILE *f), void *arg)
{
    if (!path || strcmp(path, "-") == 0)
        return write(arg, stdout) != 0 || fflush(stdout) != 0 ? 1 : 0;
    /* Not a regular file (/dev/null, a pipe): write to it, never replace
     * it. A regular one keeps its permissions. */
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode))
        return write_special(path, write, arg);
    char *tmp = talloc_asprintf(ctx, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "vdevc: %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    bool ok = write(arg, f) == 0;
    ok &= fclose(f) == 0;
    if (ok && exists)
        ok = chmod(tmp, st.st_mode & 07777) == 0;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "vdevc: cannot write %s\n", path);
        remove(tmp);
        return 1;
    }
    return 0;
}

int
vdevc_write_file(void *ctx, const char *path, const char *text)
{
    return vdevc_write_stream(ctx, path, put_text, (void *)text);
}
