/* Test support: every process a test starts is checked. Its exit status
 * must not carry a sanitizer's (ASan, LSan, UBSan: exit code 86, set for
 * every child here) or valgrind's (99, scripts/valgrind-servers.sh)
 * report, nor a crash; the test that started it fails otherwise. What a
 * check finds during a suite's .fini (which Criterion does not count) is
 * also written to $VDEV_CHILD_LEDGER, and `make check` fails on it.
 * Sanitizer reports of every process, grandchildren included, go to files
 * under $VDEV_SAN_DIR when it is set (make check; see the Makefile). */
#ifndef CHILD_H
#define CHILD_H

#include <stdbool.h>
#include <sys/types.h>

#define CHILD_SANITIZER_EXIT 86
#define CHILD_VALGRIND_EXIT 99

/* Asserts that a child's wait status shows no sanitizer or valgrind
 * report and no crash (a death by SIGTERM, SIGINT or SIGKILL is a test's
 * own doing). what names the child in the message. */
void child_check(const char *what, int status);
/* Fails (as child_check does) for a status the caller did not expect:
 * why says what was expected. */
void child_check_exit(const char *what, int status, const char *why);
/* waitpid (EINTR retried) and child_check; returns the status. */
int child_reap(pid_t pid, const char *what);
/* pclose and child_check; returns the status. */
int child_pclose(void *popen_file, const char *what);

#endif /* CHILD_H */
