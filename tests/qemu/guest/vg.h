/* vdev-guest: the QEMU tier's test program inside the Linux guest. One
 * static binary, one subcommand per scenario; results go to the console. */
#ifndef VG_H
#define VG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A PCI function's BAR as the guest reaches it: a mapping of
 * /sys/bus/pci/devices/BDF/resourceN (memory) or I/O ports (iopl). */
struct vg_bar {
    volatile uint8_t *mem; /* NULL for an I/O BAR */
    uint16_t port;         /* I/O BAR base */
    uint64_t size;
};

/* One result line, "VDEV-RESULT NAME PASS|FAIL detail"; false on FAIL. */
bool vg_result(const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A line the host shows but does not judge. */
void vg_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Number of FAIL lines printed so far. */
int vg_failures(void);

/* Asks the host (second serial port) and waits for its one-line answer;
 * 0, or -errno with an error line printed. The reply has no newline. */
int vg_ask(char *reply, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* vg_ask for a number ("0x12" or "12"); -errno when the host said "error". */
int vg_ask_u64(uint64_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* sysfs helpers for /sys/bus/pci/devices/BDF/NAME. */
int vg_sysfs_read(const char *bdf, const char *name, char *buf, size_t len);
int vg_sysfs_write(const char *bdf, const char *name, const char *value);
/* Turns on memory/I/O decoding and, with master, bus mastering. */
int vg_pci_enable(const char *bdf, bool master);
int vg_bar_map(const char *bdf, unsigned index, struct vg_bar *bar);
void vg_bar_unmap(struct vg_bar *bar);

/* Accesses of exactly WIDTH bytes (1, 2, 4, 8; I/O: up to 4). */
uint64_t vg_read(const struct vg_bar *bar, uint64_t off, unsigned width);
void vg_write(const struct vg_bar *bar, uint64_t off, unsigned width,
              uint64_t val);

uint64_t vg_now_ns(void);
void vg_sleep_ms(unsigned ms);

int vg_gpio_main(int argc, char **argv);
int vg_edu_main(int argc, char **argv);
int vg_ivshmem_main(int argc, char **argv);
int vg_upgrade_main(int argc, char **argv);
int vg_bench_main(int argc, char **argv);

#endif
