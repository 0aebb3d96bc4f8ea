/* A generated conformance checker's program (vdev_check_main): options,
 * a vfio-user connection to the device under test, the checks, and the
 * exit status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vdev_check.h"
#include "vdev_client.h"

static int
io_read(void *opaque, uint32_t bar, uint64_t off, void *buf, uint32_t n)
{
    return vdev_client_region_read(opaque, bar, off, buf, n);
}

static int
io_write(void *opaque, uint32_t bar, uint64_t off, const void *buf, uint32_t n)
{
    return vdev_client_region_write(opaque, bar, off, buf, n);
}

static int
io_reset(void *opaque)
{
    return vdev_client_reset(opaque);
}

/* The server may still be starting: up to 10 s. */
static int
connect_device(const char *dev, const char *path, struct vdev_client **cl)
{
    int rc = -ENOENT;
    for (int t = 0; t < 1000 && rc < 0; t++) {
        rc = vdev_client_connect(NULL, path, cl);
        if (rc < 0)
            usleep(10000);
    }
    if (rc < 0) {
        fprintf(stderr, "conformance %s: cannot connect to %s: %s\n", dev, path,
                strerror(-rc));
        return rc;
    }
    vdev_client_set_timeout(*cl, 10000);
    rc = vdev_client_negotiate(*cl, NULL);
    if (rc < 0)
        fprintf(stderr, "conformance %s: version negotiation: %s\n", dev,
                strerror(-rc));
    return rc;
}

static int
usage(const char *dev)
{
    fprintf(stderr,
            "usage: check-%s [--random N] [--seed S] [--lanes] SOCKET\n"
            "Checks the %s device on the vfio-user SOCKET against the\n"
            "semantics its .vdev declares. Exit status: 0 all checks\n"
            "passed, 1 a check failed, 2 usage or connection error.\n"
            "--lanes: a quarter of the random accesses cover only some\n"
            "byte lanes of their register.\n",
            dev, dev);
    return 2;
}

static bool
number(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 0);
    return errno == 0 && end != s && *end == '\0';
}

int
vdev_check_main(int argc, char **argv, const struct vdev_check_device *d)
{
    struct vdev_check_opts o = {.seed = 1};
    const char *path = NULL;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--random") && a + 1 < argc) {
            if (!number(argv[++a], &o.random))
                return usage(d->name);
        } else if (!strcmp(argv[a], "--seed") && a + 1 < argc) {
            if (!number(argv[++a], &o.seed))
                return usage(d->name);
        } else if (!strcmp(argv[a], "--lanes")) {
            o.lanes = true;
        } else if (argv[a][0] != '-' && !path) {
            path = argv[a];
        } else {
            return usage(d->name);
        }
    }
    if (!path)
        return usage(d->name);

    struct vdev_client *cl = NULL;
    uint64_t checks = 0;
    int rc = connect_device(d->name, path, &cl);
    if (rc == 0) {
        struct vdev_check_io io = {
            .read = io_read,
            .write = io_write,
            .reset = io_reset,
            .opaque = cl,
        };
        rc = vdev_check_run(d, &io, &o, stderr, &checks);
    }
    if (cl)
        vdev_client_close(cl);
    if (rc != 0)
        return rc > 0 ? 1 : 2;
    printf("conformance %s: %llu checks passed\n", d->name,
           (unsigned long long)checks);
    return 0;
}
