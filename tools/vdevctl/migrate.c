/* vdevctl save FILE / load FILE: stops a device and writes its state
 * stream to a file, or loads such a file into a device and runs it, with
 * the v2 migration messages (DEVICE_FEATURE MIG_DEVICE_STATE, MIG_DATA_*). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vdev_client.h"
#include "migrate.h"

bool
vdevctl_is_migrate(int argc, char **argv)
{
    return argc == 2 &&
           (strcmp(argv[0], "save") == 0 || strcmp(argv[0], "load") == 0);
}

static int
fail(const char *sock, const char *what, const char *file, int err)
{
    fprintf(stderr, "vdevctl: %s: %s %s: %s\n", sock, what, file,
            strerror(-err));
    return 1;
}

/* The device is left stopped, as the source of a migration is: its state
 * now lives in the file. */
static int
save(struct vdev_client *cl, const char *sock, const char *file)
{
    FILE *f = fopen(file, "wbx");
    int rc;

    if (!f && errno == EEXIST) {
        fprintf(stderr, "vdevctl: %s exists; not overwriting it\n", file);
        return 1;
    }
    if (!f)
        return fail(sock, "save to", file, -errno);
    rc = vdev_client_mig_save_file(cl, f);
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        unlink(file);
        return fail(sock, "save to", file, rc);
    }
    printf("saved the device state to %s; the device is stopped\n", file);
    return 0;
}

/* A loaded stream runs; a refused one leaves the device's state as it was
 * but stopped in RESUMING (only a good stream or a reset leaves that). */
static int
load(struct vdev_client *cl, const char *sock, const char *file)
{
    FILE *f = fopen(file, "rb");
    int rc;

    if (!f)
        return fail(sock, "load from", file, -errno);
    rc = vdev_client_mig_load_file(cl, f);
    fclose(f);
    if (rc < 0) {
        fail(sock, "load from", file, rc);
        fprintf(stderr, "vdevctl: the device kept its state and waits, "
                        "stopped, for a good stream (or a reset)\n");
        return 1;
    }
    rc = vdev_client_mig_set_state(cl, VFIO_DEVICE_STATE_RUNNING);
    if (rc < 0)
        return fail(sock, "start after loading", file, rc);
    printf("loaded the device state from %s; the device runs\n", file);
    return 0;
}

int
vdevctl_migrate(struct vdev_client *cl, const char *sock, int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[0], "save") == 0)
        return save(cl, sock, argv[1]);
    return load(cl, sock, argv[1]);
}
