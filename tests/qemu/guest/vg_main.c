/* vdev-guest SCENARIO ARGS...: runs one of the QEMU tier's guest-side
 * scenarios; the exit status is 0 when every check passed. */
#include <stdio.h>
#include <string.h>

#include "vg.h"

static const struct {
    const char *name;
    const char *usage;
    int (*fn)(int argc, char **argv);
} scenarios[] = {
    {"gpio", "gpio BDF", vg_gpio_main},
    {"edu", "edu REF_BDF OURS_BDF DMA_PHYS", vg_edu_main},
    {"ivshmem", "ivshmem BDF", vg_ivshmem_main},
    {"upgrade", "upgrade BDF COUNT", vg_upgrade_main},
    {"bench", "bench N ROUNDS LABEL=BDF[:BAR:OFFSET:WIDTH]...", vg_bench_main},
};

int
main(int argc, char **argv)
{
    const size_t n = sizeof(scenarios) / sizeof(scenarios[0]);

    for (size_t i = 0; argc > 1 && i < n; i++)
        if (!strcmp(argv[1], scenarios[i].name))
            return scenarios[i].fn(argc - 1, argv + 1) ? 1 : 0;
    fprintf(stderr, "usage:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  vdev-guest %s\n", scenarios[i].usage);
    return 2;
}
