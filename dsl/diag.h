/* Diagnostics: errors with a stable code, a location, the source line with a
 * caret underline, and notes pointing at related locations. */
#ifndef VDEVC_DIAG_H
#define VDEVC_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ast.h"

#define VDEVC_MAX_ERRORS 20

struct vdevc_diag {
    const char *file; /* as given on the command line */
    const char *src;  /* whole source text */
    size_t src_len;
    const char **lines; /* start of each line, built on demand */
    unsigned nr_lines;
    unsigned errors; /* reported so far (including suppressed) */
    unsigned max_errors;
    FILE *out;            /* NULL: collect only */
    char *text;           /* everything reported, for tests */
    bool last_suppressed; /* notes follow their error */
};

struct vdevc_diag *vdevc_diag_new(void *mem_ctx, const char *file,
                                  const char *src, size_t len, FILE *out);

void vdevc_error(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void vdevc_note(struct vdevc_diag *d, struct vdevc_loc loc, const char *fmt,
                ...) __attribute__((format(printf, 3, 4)));
void vdevc_verror(struct vdevc_diag *d, struct vdevc_loc loc, const char *code,
                  const char *fmt, va_list ap);

bool vdevc_diag_failed(const struct vdevc_diag *d);
/* Prints "N errors generated" style summary if there were errors. */
void vdevc_diag_finish(struct vdevc_diag *d);

#endif /* VDEVC_DIAG_H */
