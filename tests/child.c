/* Test support: the checks of every process a test starts (see child.h),
 * and the sanitizer settings all of them inherit. */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "child.h"

/* Appends opt to the environment variable unless it sets that flag. */
static void
add_option(const char *var, const char *flag, const char *opt)
{
    const char *old = getenv(var);
    char buf[1024];

    if (old && strstr(old, flag))
        return;
    snprintf(buf, sizeof(buf), "%s%s%s", old ? old : "", old && *old ? ":" : "",
             opt);
    setenv(var, buf, 1);
}

/* Before any test: every process started from here on (and Criterion's
 * workers) reports a sanitizer finding with its own exit code, which
 * nothing else uses. */
__attribute__((constructor)) static void
child_env(void)
{
    add_option("ASAN_OPTIONS", "exitcode=", "exitcode=86");
    add_option("UBSAN_OPTIONS", "exitcode=", "exitcode=86");
    add_option("UBSAN_OPTIONS", "print_stacktrace=", "print_stacktrace=1");
}

/* LeakSanitizer: Criterion's runner keeps 192 bytes of its bookkeeping to
 * the end (calloc'ed inside libcriterion). Suppressed in the runner only;
 * in a test worker (BoxFort marks them with BXFI_MAP) every leak counts,
 * libcriterion frames or not: they are on every test's stack. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

/* The suppression's count is no report: not printed. */
const char *
__lsan_default_options(void)
{
    return "print_suppressions=0";
}

const char *
__lsan_default_suppressions(void)
{
    return getenv("BXFI_MAP") ? "" : "leak:libcriterion.so\n";
}

static void
ledger(const char *what, const char *why)
{
    const char *path = getenv("VDEV_CHILD_LEDGER");
    const struct criterion_test *t = criterion_current_test;
    FILE *f;

    if (!path || !(f = fopen(path, "a")))
        return;
    fprintf(f, "%s::%s: %s: %s\n", t ? t->category : "?", t ? t->name : "?",
            what, why);
    fclose(f);
}

static void
fail(const char *what, const char *why)
{
    ledger(what, why);
    cr_assert_fail("%s: %s", what, why);
}

void
child_check_exit(const char *what, int status, const char *why)
{
    char msg[160];

    child_check(what, status);
    snprintf(msg, sizeof(msg), "%s: 0x%x", why, status);
    fail(what, msg);
}

void
child_check(const char *what, int status)
{
    char why[128] = "";

    if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_SANITIZER_EXIT)
        snprintf(why, sizeof(why),
                 "a sanitizer reported an error (exit %d; the report is in "
                 "its stderr or $VDEV_SAN_DIR)",
                 CHILD_SANITIZER_EXIT);
    else if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_VALGRIND_EXIT)
        snprintf(why, sizeof(why), "valgrind reported errors (exit %d)",
                 CHILD_VALGRIND_EXIT);
    else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM &&
             WTERMSIG(status) != SIGINT && WTERMSIG(status) != SIGKILL)
        snprintf(why, sizeof(why), "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    if (*why)
        fail(what, why);
}

int
child_reap(pid_t pid, const char *what)
{
    int status = 0;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            cr_assert_fail("waitpid %s: %s", what, strerror(errno));
    child_check(what, status);
    return status;
}

int
child_pclose(void *popen_file, const char *what)
{
    int status = pclose(popen_file);

    cr_assert_neq(status, -1, "pclose %s", what);
    child_check(what, status);
    return status;
}
