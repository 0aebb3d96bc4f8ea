/* Conformance checking of a device against what its .vdev declares
 * (vdevc --emit=check writes the tables and a main() calling
 * vdev_check_main()): access kinds, reserved and const bits, reset values,
 * driven over vfio-user and compared with a model of each register; with
 * --random it is a fuzz oracle. */
#ifndef VDEV_CHECK_H
#define VDEV_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Access kinds of the .vdev language (dsl/README.md). */
enum vdev_check_acc {
    VDEV_CHK_RW = 1,
    VDEV_CHK_RO,
    VDEV_CHK_WO,
    VDEV_CHK_W1C,
    VDEV_CHK_W1S,
    VDEV_CHK_RC,
    VDEV_CHK_RS,
    VDEV_CHK_CONST,
    VDEV_CHK_RESERVED,
};

/* A field of a register: its bits and access kind (for reports). */
struct vdev_check_field {
    const char *name;
    uint64_t mask;
    enum vdev_check_acc acc;
};

/* A register (or array) and what the .vdev makes certain about it. rself
 * / wself: a hook of a read / write may assign the register itself, so
 * its value afterwards is not certain; rall / wall: such a hook calls C
 * (may change anything); the taint lists name the other registers (by
 * index in the device's table) a hook of the access may assign. */
struct vdev_check_reg {
    const char *name;
    uint32_t bar;
    uint64_t offset;
    uint32_t size;   /* bytes */
    uint32_t count;  /* elements (0: a plain register) */
    uint32_t stride; /* bytes between elements */
    uint64_t rmask, rw, w1c, w1s, rc, rs;
    uint64_t cnst; /* bits that always read their reset value */
    uint64_t reset;
    bool rself, wself, rall, wall;
    const struct vdev_check_field *fields;
    unsigned nr_fields;
    const uint32_t *rtaint, *wtaint;
    unsigned nr_rtaint, nr_wtaint;
};

struct vdev_check_device {
    const char *name;
    const struct vdev_check_reg *regs;
    unsigned nr_regs;
};

/* How the checker reaches the device: vfio-user (vdev_check_main), or a
 * test's fake. Each returns 0 or -errno. */
struct vdev_check_io {
    int (*read)(void *opaque, uint32_t bar, uint64_t off, void *buf,
                uint32_t n);
    int (*write)(void *opaque, uint32_t bar, uint64_t off, const void *buf,
                 uint32_t n);
    int (*reset)(void *opaque);
    void *opaque;
};

struct vdev_check_opts {
    uint64_t random; /* random accesses after the directed checks */
    uint64_t seed;   /* of the random accesses (0 counts as 1) */
    bool lanes;      /* a quarter of them cover only some byte lanes */
};

#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* DEVICE_RESET and the reset values, write patterns on every register,
 * the random accesses, a final reset. Returns 0 (all passed; *checks
 * counts them), 1 (a violation, reported on err naming the register,
 * fields and the broken invariant), or -errno from the device. */
int vdev_check_run(const struct vdev_check_device *d,
                   const struct vdev_check_io *io,
                   const struct vdev_check_opts *o, FILE *err,
                   uint64_t *checks);

/* A checker program: [--random N] [--seed S] [--lanes] SOCKET. Exit
 * status 0 all checks passed, 1 a check failed, 2 usage or connection
 * error. */
int vdev_check_main(int argc, char **argv, const struct vdev_check_device *d);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif /* VDEV_CHECK_H */
