/* runtime/KERNEL.md holds one row per decision, each naming the test that
 * asserts it: every named test must exist in tests/test_kernel_*.c. */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Whether some tests/test_kernel_*.c defines Test(suite, name...). */
static bool
test_defined(const char *suite, const char *name)
{
    char want[200];
    glob_t g;
    bool found = false;

    snprintf(want, sizeof(want), "Test(%s, %s", suite, name);
    cr_assert_eq(glob("tests/test_kernel_*.c", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc && !found; i++) {
        char *src = slurp(g.gl_pathv[i]);
        const char *p = src;

        while (!found && (p = strstr(p, want))) {
            p += strlen(want);
            found = *p == ',' || *p == ')';
        }
        free(src);
    }
    globfree(&g);
    return found;
}

Test(kernel_table, every_row_names_a_test)
{
    char *md = slurp("runtime/KERNEL.md");
    char *line = strtok(md, "\n");
    unsigned rows = 0, missing = 0;

    for (; line; line = strtok(NULL, "\n")) {
        char *last, suite[64], name[96];

        /* decision rows: | ID | ... | suite/name | */
        if (line[0] != '|' || !strchr("HIRFQSABMDPX", line[2]) ||
            line[3] < '0' || line[3] > '9')
            continue;
        last = strrchr(line, '|');
        *last = '\0';
        last = strrchr(line, '|');
        cr_assert_not_null(last);
        if (sscanf(last + 1, " %63[a-z_]/%95[a-z0-9_]", suite, name) != 2) {
            fprintf(stderr, "KERNEL.md: no test in: %s\n", line);
            missing++;
            continue;
        }
        rows++;
        if (!test_defined(suite, name)) {
            fprintf(stderr, "KERNEL.md: no Test(%s, %s)\n", suite, name);
            missing++;
        }
    }
    free(md);
    cr_expect_gt(rows, 60);
    cr_expect_eq(missing, 0);
}
