/* Diagnostics: formats `file:line:col: error: message [code]`, the source
 * line and a caret underline; caps the number of errors per run. */
#include <string.h>
#include <talloc.h>

#include "diag.h"

struct vdevc_diag *
vdevc_diag_new(void *mem_ctx, const char *file, const char *src, size_t len,
               FILE *out)
{
    struct vdevc_diag *d = talloc_zero(mem_ctx, struct vdevc_diag);
    if (d == NULL)
        return NULL;
    d->file = talloc_strdup(d, file);
    d->src = src;
    d->src_len = len;
    d->max_errors = VDEVC_MAX_ERRORS;
    d->out = out;
    d->text = talloc_strdup(d, "");
    return d;
}

static void
index_lines(struct vdevc_diag *d)
{
    unsigned n = 1;
    for (size_t i = 0; i < d->src_len; i++)
        if (d->src[i] == '\n')
            n++;
    d->lines = talloc_array(d, const char *, n);
    d->lines[0] = d->src;
    n = 1;
    for (size_t i = 0; i < d->src_len; i++)
        if (d->src[i] == '\n')
            d->lines[n++] = d->src + i + 1;
    d->nr_lines = n;
}

static void
emit(struct vdevc_diag *d, const char *s)
{
    if (d->out != NULL)
        fputs(s, d->out);
    d->text = talloc_strdup_append(d->text, s);
}

/* The source line, unprintable bytes shown as '?', and a caret underline
 * from first_column to last_column (or one caret for multi-line spans). */
static void
show_line(struct vdevc_diag *d, struct vdevc_loc loc)
{
    if (d->src == NULL)
        return;
    if (d->lines == NULL)
        index_lines(d);
    if (loc.first_line < 1 || (unsigned)loc.first_line > d->nr_lines)
        return;
    const char *p = d->lines[loc.first_line - 1];
    const char *end = d->src + d->src_len;
    size_t len = 0;
    while (p + len < end && p[len] != '\n')
        len++;
    if (len > 200)
        len = 200;
    char *line = talloc_array(d, char, len + 1);
    char *caret = talloc_array(d, char, len + 3);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        line[i] = (c == '\t' || (c >= 0x20 && c < 0x7f)) ? (char)c : '?';
    }
    line[len] = '\0';
    size_t first = loc.first_column > 0 ? (size_t)loc.first_column - 1 : 0;
    size_t last = first + 1;
    if (loc.last_line == loc.first_line && loc.last_column > loc.first_column)
        last = (size_t)loc.last_column - 1;
    if (first > len)
        first = len;
    if (last > len + 1)
        last = len + 1;
    if (last <= first)
        last = first + 1;
    size_t k = 0;
    for (size_t i = 0; i < first; i++)
        caret[k++] = line[i] == '\t' ? '\t' : ' ';
    caret[k++] = '^';
    for (size_t i = first + 1; i < last; i++)
        caret[k++] = '~';
    caret[k] = '\0';
    char *s = talloc_asprintf(d, "%5d | %s\n      | %s\n", loc.first_line, line,
                              caret);
    emit(d, s);
    talloc_free(s);
    talloc_free(line);
    talloc_free(caret);
}

static void
report(struct vdevc_diag *d, struct vdevc_loc loc, const char *kind,
       const char *code, const char *fmt, va_list ap)
{
    char *msg = talloc_vasprintf(d, fmt, ap);
    char *s;
    if (code != NULL)
        s = talloc_asprintf(d, "%s:%d:%d: %s: %s [%s]\n", d->file,
                            loc.first_line, loc.first_column, kind, msg, code);
    else
        s = talloc_asprintf(d, "%s:%d:%d: %s: %s\n", d->file, loc.first_line,
                            loc.first_column, kind, msg);
    emit(d, s);
    show_line(d, loc);
    talloc_free(s);
    talloc_free(msg);
}

void
vdevc_verror(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
             const char *fmt, va_list ap)
{
    d->errors++;
    d->last_suppressed = d->errors > d->max_errors;
    if (d->errors == d->max_errors + 1) {
        char *s = talloc_asprintf(d,
                                  "%s: too many errors (limit %u), "
                                  "stopping\n",
                                  d->file, d->max_errors);
        emit(d, s);
        talloc_free(s);
    }
    if (d->last_suppressed)
        return;
    report(d, loc, "error", code, fmt, ap);
}

void
vdevc_error(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdevc_verror(d, loc, code, fmt, ap);
    va_end(ap);
}

void
vdevc_note(struct vdevc_diag *d, struct vdevc_loc loc, const char *fmt, ...)
{
    if (d->last_suppressed)
        return;
    va_list ap;
    va_start(ap, fmt);
    report(d, loc, "note", NULL, fmt, ap);
    va_end(ap);
}

bool
vdevc_diag_failed(const struct vdevc_diag *d)
{
    return d->errors > 0;
}

void
vdevc_diag_finish(struct vdevc_diag *d)
{
    if (d->errors == 0)
        return;
    char *s = talloc_asprintf(d, "%u error%s generated.\n", d->errors,
                              d->errors == 1 ? "" : "s");
    emit(d, s);
    talloc_free(s);
}
