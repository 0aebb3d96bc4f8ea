/* The guarded copy of base/guard.h: a thread-local jump target armed for
 * the duration of one memcpy, and a SIGBUS handler that jumps to it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "base/guard.h"

/* volatile, with signal fences around the copy: the compiler must not move
 * the arming past the memcpy it guards. */
static __thread sigjmp_buf *volatile armed;
static struct sigaction previous;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void
on_sigbus(int sig, siginfo_t *si, void *uc)
{
    if (armed)
        siglongjmp(*armed, 1);
    /* Not ours: what would have happened without us. */
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, si, uc);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
        return;
    }
    signal(SIGBUS, SIG_DFL);
    raise(SIGBUS);
}

static void
install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    /* SA_NODEFER: the jump leaves the handler without sigreturn, so
     * SIGBUS must not stay blocked behind it. */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &previous);
}

bool
vdev_fd_sealed_shrink(int fd)
{
    int seals = fcntl(fd, F_GET_SEALS);

    return seals >= 0 && (seals & F_SEAL_SHRINK);
}

int
vdev_guarded_copy(void *dst, const void *src, size_t n)
{
    sigjmp_buf jb;

    pthread_once(&installed, install);
    /* savemask 0: no sigprocmask call per copy; SA_NODEFER keeps the
     * mask as it was. */
    if (sigsetjmp(jb, 0)) {
        armed = NULL;
        return -EFAULT;
    }
    armed = &jb;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    memcpy(dst, src, n);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    armed = NULL;
    return 0;
}
