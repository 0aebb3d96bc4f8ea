/* The server's confinement after setup: dropping to an unprivileged user and
 * a libseccomp allow-list of what serving needs (see sandbox.h). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "host/sandbox.h"

/* From /etc/passwd and /etc/group directly: the servers are linked
 * statically, where glibc's NSS lookups (getpwnam, initgroups) would need
 * the shared libraries at run time. */
static int
find_user(const char *name, uid_t *uid, gid_t *gid, gid_t *groups,
          int *nr_groups)
{
    FILE *f = fopen("/etc/passwd", "re");
    struct passwd *pw;
    struct group *gr;
    int n = 0, rc = -ENOENT;

    if (!f)
        return -errno;
    while ((pw = fgetpwent(f)))
        if (!strcmp(pw->pw_name, name)) {
            *uid = pw->pw_uid;
            *gid = pw->pw_gid;
            rc = 0;
            break;
        }
    fclose(f);
    if (rc < 0)
        return rc;
    groups[n++] = *gid;
    if ((f = fopen("/etc/group", "re"))) {
        while ((gr = fgetgrent(f)) && n < *nr_groups)
            for (char **m = gr->gr_mem; m && *m; m++)
                if (!strcmp(*m, name) && gr->gr_gid != *gid) {
                    groups[n++] = gr->gr_gid;
                    break;
                }
        fclose(f);
    }
    *nr_groups = n;
    return 0;
}

int
vdev_sandbox_user(const char *name)
{
    gid_t groups[64], gid = 0;
    int nr = 64, rc;
    uid_t uid = 0;

    if (!name || !*name)
        return -EINVAL;
    if ((rc = find_user(name, &uid, &gid, groups, &nr)) < 0)
        return rc;
    /* Groups first: once the uid changes we may not touch them. */
    if (setgroups((size_t)nr, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
        return -errno;
    /* No way back (a saved root uid would allow one). */
    if (uid != 0 && setuid(0) == 0)
        return -EPERM;
    return 0;
}

/* What the loop and its handlers call (transport, server, s2c, dma, mgmt,
 * mgmt save/load), what malloc and stdio call under them, and what the
 * exit path calls (closing sockets, removing their files, restoring the
 * signal handlers). */
static const int allowed[] = {
    /* I/O on the sockets, eventfds and state files */
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvfrom),
    SCMP_SYS(sendto),
    SCMP_SYS(accept4),
    SCMP_SYS(accept),
    SCMP_SYS(close),
    SCMP_SYS(shutdown),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(getsockname),
    SCMP_SYS(socketpair),
    SCMP_SYS(fcntl),
    SCMP_SYS(lseek),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    /* what kind a client's fd is (base/fdkind.c) */
    SCMP_SYS(fstatfs),
    SCMP_SYS(readlink),
    SCMP_SYS(readlinkat),
    /* interrupts: eventfd signals that never block (base/evsignal.c) */
    SCMP_SYS(io_setup),
    SCMP_SYS(io_submit),
    SCMP_SYS(io_getevents),
    SCMP_SYS(openat),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    /* waiting */
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(sched_yield),     /* probing for the next request (poll.h) */
    SCMP_SYS(timerfd_settime), /* the loop's tick: device timers */
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(nanosleep),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(restart_syscall),
    /* memory: DMA maps, buffers */
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    SCMP_SYS(futex),
    SCMP_SYS(getrandom),
    /* signals and exit */
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
};

int
vdev_sandbox_seccomp(void)
{
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
    int rc = 0;

    if (!f)
        return -ENOMEM;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !rc; i++)
        rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
    /* stdio asks whether stdout is a terminal, and nothing else. */
    if (!rc)
        rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                              SCMP_A1(SCMP_CMP_EQ, TCGETS));
    /* No new privileges: also what lets an unprivileged process load it. */
    if (!rc)
        rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 1);
    if (!rc)
        rc = seccomp_load(f);
    seccomp_release(f);
    return rc < 0 ? rc : 0;
}
