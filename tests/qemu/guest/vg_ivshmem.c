/* ivshmem scenario: the guest maps the shared-memory BAR and sees what the
 * host writes into the server's memory (and the host sees the guest's
 * writes); a doorbell rung from the host (management socket) arrives as
 * the MSI-X interrupt of that vector, counted by vdev_ivshmem_irq.ko. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vg.h"

#define DRIVER "vdev_ivshmem_irq"
#define NVEC 4
#define IVPOSITION 0x08
#define DOORBELL 0x0c
#define IRQ_TIMEOUT_MS 5000

static int
read_counts(const char *bdf, unsigned counts[NVEC])
{
    char buf[128];
    int rc = vg_sysfs_read(bdf, "irq_counts", buf, sizeof(buf));

    if (rc < 0)
        return rc;
    return sscanf(buf, "%u %u %u %u", &counts[0], &counts[1], &counts[2],
                  &counts[3]) == NVEC
               ? 0
               : -EPROTO;
}

static bool
check_bound(const char *bdf)
{
    char path[256], link[256];
    unsigned counts[NVEC];
    const char *base;
    ssize_t n;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
    n = readlink(path, link, sizeof(link) - 1);
    if (n < 0)
        return vg_result("ivshmem.bind", false, "%s has no driver", bdf);
    link[n] = '\0';
    base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
    if (strcmp(base, DRIVER))
        return vg_result("ivshmem.bind", false, "driver '%s', want %s", base,
                         DRIVER);
    if (read_counts(bdf, counts) < 0) {
        char buf[128] = "";

        vg_sysfs_read(bdf, "irq_counts", buf, sizeof(buf));
        return vg_result("ivshmem.bind", false,
                         "%s bound, but irq_counts is '%s' (want %d vectors)",
                         DRIVER, strtok(buf, "\n") ? buf : "", NVEC);
    }
    return vg_result("ivshmem.bind", true, "%s bound, %d MSI-X vectors", DRIVER,
                     NVEC);
}

static void
hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

static void
check_shared_memory(const struct vg_bar *shm)
{
    const uint64_t offs[] = {0, 0x1000, 0x7ff80, shm->size - 32};
    bool ok = true;

    for (size_t i = 0; ok && i < sizeof(offs) / sizeof(offs[0]); i++) {
        uint8_t pat[32], got[32];
        char hex[65], reply[128];

        for (unsigned j = 0; j < sizeof(pat); j++)
            pat[j] = (uint8_t)(0x11 * (i + 1) + 7 * j);
        hex_of(pat, sizeof(pat), hex);
        /* host -> guest */
        if (vg_ask(reply, sizeof(reply), "shm-write %llu %s",
                   (unsigned long long)offs[i], hex) < 0)
            return;
        memcpy(got, (const void *)(shm->mem + offs[i]), sizeof(got));
        if (memcmp(got, pat, sizeof(pat))) {
            ok = vg_result("ivshmem.shm", false,
                           "host wrote 32 bytes at 0x%llx, the guest reads "
                           "other bytes",
                           (unsigned long long)offs[i]);
            break;
        }
        /* guest -> host */
        for (unsigned j = 0; j < sizeof(pat); j++)
            pat[j] = (uint8_t)~pat[j];
        memcpy((void *)(shm->mem + offs[i]), pat, sizeof(pat));
        hex_of(pat, sizeof(pat), hex);
        if (vg_ask(reply, sizeof(reply), "shm-read %llu 32",
                   (unsigned long long)offs[i]) < 0)
            return;
        if (strcmp(reply, hex))
            ok = vg_result("ivshmem.shm", false,
                           "guest wrote %s at 0x%llx, the host reads %s", hex,
                           (unsigned long long)offs[i], reply);
    }
    if (ok)
        vg_result("ivshmem.shm", true,
                  "both ways at 4 offsets of the %llu KiB shared BAR",
                  (unsigned long long)shm->size / 1024);
}

/* Waits until vector v counted one more than before[v]. */
static bool
wait_vector(const char *bdf, const unsigned before[NVEC], unsigned v,
            unsigned now[NVEC])
{
    uint64_t end = vg_now_ns() + (uint64_t)IRQ_TIMEOUT_MS * 1000000;

    do {
        if (read_counts(bdf, now) == 0 && now[v] > before[v])
            return true;
        vg_sleep_ms(2);
    } while (vg_now_ns() < end);
    return false;
}

static void
check_host_doorbells(const char *bdf)
{
    unsigned before[NVEC], now[NVEC];
    uint64_t echo;

    for (unsigned v = 0; v < NVEC; v++) {
        uint64_t t0 = vg_now_ns();

        if (read_counts(bdf, before) < 0 ||
            vg_ask_u64(&echo, "set state.ring %u", v) < 0)
            return;
        if (!wait_vector(bdf, before, v, now)) {
            vg_result("ivshmem.irq", false,
                      "host rang vector %u: no MSI-X interrupt within %d ms", v,
                      IRQ_TIMEOUT_MS);
            return;
        }
        for (unsigned o = 0; o < NVEC; o++)
            if (o != v && now[o] != before[o]) {
                vg_result("ivshmem.irq", false,
                          "host rang vector %u, vector %u fired too", v, o);
                return;
            }
        vg_note("ivshmem.irq: vector %u after %llu us", v,
                (unsigned long long)(vg_now_ns() - t0) / 1000);
    }
    vg_result("ivshmem.irq", true,
              "doorbells rung from the host on vectors 0-3 arrived as their "
              "MSI-X interrupts");
}

static void
check_guest_doorbells(const char *bdf, const struct vg_bar *regs)
{
    unsigned before[NVEC], now[NVEC];
    uint64_t pos = 0, last = 0, seen0 = 0, seen = 0, echo;

    if (vg_ask_u64(&echo, "set state.position 7") < 0 ||
        vg_ask_u64(&seen0, "get state.doorbells") < 0)
        return;
    pos = vg_read(regs, IVPOSITION, 4);
    /* To peer 3: recorded, no interrupt here. */
    read_counts(bdf, before);
    vg_write(regs, DOORBELL, 4, 3u << 16 | 1);
    /* To ourselves (IVPosition 7): our own vector 2. */
    vg_write(regs, DOORBELL, 4, 7u << 16 | 2);
    if (!wait_vector(bdf, before, 2, now)) {
        vg_result("ivshmem.doorbell", false,
                  "a doorbell to our own ID did not fire vector 2");
        return;
    }
    if (vg_ask_u64(&last, "get state.doorbell") < 0 ||
        vg_ask_u64(&seen, "get state.doorbells") < 0)
        return;
    vg_result("ivshmem.doorbell",
              pos == 7 && now[1] == before[1] && last == (7u << 16 | 2) &&
                  seen == seen0 + 2,
              "IVPosition %llu (host set 7); doorbells seen by the server "
              "+%llu, last 0x%llx; own vector 2 fired, peer 3's vector 1 "
              "%s",
              (unsigned long long)pos, (unsigned long long)(seen - seen0),
              (unsigned long long)last,
              now[1] == before[1] ? "did not" : "DID");
}

int
vg_ivshmem_main(int argc, char **argv)
{
    struct vg_bar regs, shm;
    int rc;

    if (argc != 2)
        return vg_result("ivshmem.usage", false, "ivshmem BDF"), 1;
    if (!check_bound(argv[1]))
        return 1;
    rc = vg_bar_map(argv[1], 0, &regs);
    if (rc == 0)
        rc = vg_bar_map(argv[1], 2, &shm);
    if (rc < 0)
        return vg_result("ivshmem.map", false, "mapping BAR0/BAR2: %s",
                         strerror(-rc)),
               1;
    check_shared_memory(&shm);
    check_host_doorbells(argv[1]);
    check_guest_doorbells(argv[1], &regs);
    return vg_failures() ? 1 : 0;
}
