/* vdevc fmt: a .vdev file in the canonical layout (see dsl/README.md,
 * "Formatting"), every token and comment kept. */
#ifndef VDEVC_FMT_H
#define VDEVC_FMT_H

#include <stddef.h>

#include "diag.h"

/* Formats src; syntax errors go to diag and give -EINVAL. The result is
 * checked to scan to the same tokens and comments (-EPROTO, reported, if
 * it did not: a bug in fmt, never a changed file). */
int vdevc_fmt(void *mem_ctx, struct vdevc_diag *diag, const char *src,
              size_t len, char **_out);

#endif /* VDEVC_FMT_H */
