/* The golden checks of test_golden.c, called by the one-test-per-file list
 * tests/golden/cases.sh writes at build time. Each asserts (Criterion). */
#ifndef GOLDEN_CHECK_H
#define GOLDEN_CHECK_H

#include <stdbool.h>

/* path compiles to the .c and .h beside it (docs: also .md, .guest.h). */
void golden_check_model(const char *path, bool docs);
/* path fails with the errors its markers (and .err) name. */
void golden_check_error(const char *path);

#endif /* GOLDEN_CHECK_H */
