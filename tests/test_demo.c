/* The first-run demo (scripts/demo.sh, `make demo`) runs as CI runs it: no
 * terminal, no stdin, and exits 0. It uses the binaries already built. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"

#define SCRIPT "scripts/demo.sh"

Test(demo, runs_without_a_terminal, .timeout = 60)
{
    int out[2];
    static char buf[64 * 1024];
    size_t len = 0;
    ssize_t n;
    int status;

    cr_assert_eq(access(SCRIPT, X_OK), 0,
                 "run the tests from the top of the tree");
    cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 ||
            dup2(out[1], 2) < 0)
            _exit(127);
        setsid(); /* no controlling terminal */
        setenv("CI", "true", 1);
        setenv("VDEV_DEMO_SKIP_BUILD", "1", 1);
        if (!getenv("VDEV_BUILD"))
            setenv("VDEV_BUILD", "build", 1);
        execl(SCRIPT, SCRIPT, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    while (len + 1 < sizeof(buf) &&
           (n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(out[0]);
    status = child_reap(pid, "demo.sh");
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "demo failed (status 0x%x):\n%s", status, buf);
    cr_assert_not_null(strstr(buf, "Demo finished"), "%s", buf);
    cr_assert_not_null(
        strstr(buf, "IIN0-7     first 0x11   second 0x11   same"), "%s", buf);
}
