/* Helpers shared by the vdevc tests: files, in-process compiles, a
 * first-difference report, and running the vdevc binary. */
#ifndef VDEVC_TEST_H
#define VDEVC_TEST_H

#include <stdbool.h>
#include <stddef.h>

#include "vdevc.h"

char *vt_read(void *ctx, const char *path, size_t *_len);
/* Paths matching a glob pattern, sorted; NULL-terminated. */
char **vt_glob(void *ctx, const char *pattern);
/* Compiles src as `path`; the unit (with its diagnostics) is returned
 * even on failure; *_rc gets vdevc_compile()'s result. */
struct vdevc_unit *vt_compile(void *ctx, const char *path, const char *src,
                              size_t len, int *_rc);
/* NULL when equal, else a message naming the first differing line. */
char *vt_diff(void *ctx, const char *expected, const char *got);
/* The vdevc binary: $VDEV_BUILD/bin/vdevc (default build/). */
const char *vt_vdevc(void *ctx);
/* Runs argv with stdout/stderr captured; returns the wait status. */
int vt_run(void *ctx, char *const argv[], char **_out, char **_err);

#endif /* VDEVC_TEST_H */
