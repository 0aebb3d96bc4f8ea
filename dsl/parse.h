/* Front-end entry point: source text in, AST out; errors go to the
 * diagnostics. Shared by the grammar, the scanner and the driver. */
#ifndef VDEVC_PARSE_H
#define VDEVC_PARSE_H

#include <stddef.h>

#include "ast.h"
#include "diag.h"

#define VDEVC_MAX_NESTING 64

/* State the scanner and parser share (yyextra / parse-param). */
struct vdevc_parse {
    void *ctx; /* AST allocations */
    struct vdevc_diag *diag;
    struct vdevc_device *device;
    int line, column;                         /* scanner position, 1-based */
    struct vdevc_loc open[VDEVC_MAX_NESTING]; /* unclosed '{' */
    unsigned depth;
    struct vdevc_loc comment; /* start of an open block comment */
    const char **strings;     /* interned identifiers (hash set) */
    size_t nr_strings, cap_strings;
};

/* One copy of each identifier per compilation: names repeat a lot. */
const char *vdevc_intern(struct vdevc_parse *p, const char *s, size_t len);

/* Returns 0 and the device (under ctx) or -EINVAL after reporting errors. */
int vdevc_parse(void *ctx, struct vdevc_diag *diag, const char *src, size_t len,
                struct vdevc_device **_device);

#endif /* VDEVC_PARSE_H */
