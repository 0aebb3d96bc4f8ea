/* Upgrade scenario: a child process hammers our edu's registers (write the
 * liveness register, read back its inverse; now and then a 64-bit DMA
 * register) while the parent has the host replace the server COUNT times
 * (vdevctl upgrade); no access may fail or read back wrong, and the state
 * set before must still be there after. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vg.h"

#define LIVENESS 0x04
#define FACT 0x08
#define STATUS 0x20
#define DMA_SRC 0x80
#define DMA_DST 0x88
#define MARK 0x123456789abcdef0ull

/* Shared between the hammer (child) and the parent. */
struct hammer {
    volatile int stop;
    volatile uint64_t iterations;
    volatile uint64_t mismatches;
    volatile uint64_t first_at, first_want, first_got;
};

static void
hammer_run(const struct vg_bar *bar, struct hammer *h)
{
    for (uint64_t i = 1; !h->stop; i++) {
        uint32_t v = (uint32_t)(i * 2654435761u) | 1;
        uint64_t want = (uint32_t)~v, got;

        vg_write(bar, LIVENESS, 4, v);
        got = vg_read(bar, LIVENESS, 4);
        if (got == want && i % 16 == 0) {
            want = i << 32 | v;
            vg_write(bar, DMA_SRC, 8, want);
            got = vg_read(bar, DMA_SRC, 8);
        }
        if (got != want && !h->mismatches++) {
            h->first_at = i;
            h->first_want = want;
            h->first_got = got;
        }
        h->iterations = i;
    }
}

static void
check_state_before(const struct vg_bar *bar)
{
    vg_write(bar, DMA_DST, 8, MARK);
    vg_write(bar, FACT, 4, 10);
}

static void
check_state_after(const struct vg_bar *bar)
{
    uint64_t dst = vg_read(bar, DMA_DST, 8), fact = vg_read(bar, FACT, 4);

    vg_result("upgrade.state", dst == MARK && fact == 3628800,
              "dma_dst 0x%llx and 10! = %llu set before the upgrades, read "
              "after",
              (unsigned long long)dst, (unsigned long long)fact);
}

int
vg_upgrade_main(int argc, char **argv)
{
    struct vg_bar bar;
    struct hammer *h;
    unsigned count;
    pid_t child;
    int rc;

    if (argc != 3)
        return vg_result("upgrade.usage", false, "upgrade BDF COUNT"), 1;
    count = (unsigned)strtoul(argv[2], NULL, 0);
    rc = vg_pci_enable(argv[1], false);
    if (rc == 0)
        rc = vg_bar_map(argv[1], 0, &bar);
    if (rc < 0)
        return vg_result("upgrade.map", false, "BAR0 of %s: %s", argv[1],
                         strerror(-rc)),
               1;
    h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED)
        return vg_result("upgrade.map", false, "mmap: %s", strerror(errno)), 1;
    check_state_before(&bar);
    child = fork();
    if (child == 0) {
        hammer_run(&bar, h);
        _exit(0);
    }
    vg_sleep_ms(1000);
    for (unsigned i = 1; i <= count; i++) {
        char reply[256], name[32];
        uint64_t before = h->iterations;

        snprintf(name, sizeof(name), "upgrade.handover-%u", i);
        rc = vg_ask(reply, sizeof(reply), "upgrade");
        vg_result(name, rc == 0 && before < h->iterations,
                  "host: %s; %llu accesses by the guest meanwhile", reply,
                  (unsigned long long)(h->iterations - before) * 2);
        vg_sleep_ms(1000);
    }
    h->stop = 1;
    waitpid(child, NULL, 0);
    if (h->mismatches)
        vg_result("upgrade.hammer", false,
                  "%llu of %llu round trips wrong; first at %llu: wrote "
                  "0x%llx, read 0x%llx",
                  (unsigned long long)h->mismatches,
                  (unsigned long long)h->iterations,
                  (unsigned long long)h->first_at,
                  (unsigned long long)h->first_want,
                  (unsigned long long)h->first_got);
    else
        vg_result("upgrade.hammer", h->iterations > 0,
                  "%llu write/read round trips, none wrong",
                  (unsigned long long)h->iterations);
    check_state_after(&bar);
    return vg_failures() ? 1 : 0;
}
