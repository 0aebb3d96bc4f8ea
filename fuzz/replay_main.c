/* Runs a libFuzzer harness's inputs without libFuzzer, each file once, as
 * the harness would (make check replays tests/fuzz-regressions/server/
 * with build/tests/vdev-fuzz-server, gcc-built, sanitized with SANITIZE=1).
 * A failing input aborts, as under libFuzzer; one that hangs is killed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Optional in a harness, as under libFuzzer. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *
load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    long n;

    if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) < 0 || !(p = malloc((size_t)n + 1)) ||
        fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

int
main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        size_t len;
        uint8_t *p = load(argv[i], &len);

        if (!getenv("REPLAY_QUIET"))
            fprintf(stderr, "replay %s (%zu bytes)\n", argv[i], len);
        alarm(60); /* a hang fails too (SIGALRM), as libFuzzer's -timeout */
        LLVMFuzzerTestOneInput(p, len);
        alarm(0);
        free(p);
    }
    return 0;
}
