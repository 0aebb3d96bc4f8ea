/* vdevctl save FILE / load FILE: stops a device and writes its state
 * stream to a file, or loads such a file into a device and runs it, with
 * the v2 migration messages (DEVICE_FEATURE MIG_DEVICE_STATE, MIG_DATA_*). */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vdev_client.h"
#include "vdevctl.h"

static int
file_fail(struct vdevctl *c, const char *what, const char *file, int err)
{
    return vdevctl_fail(c, err == -ENOENT || err == -EACCES ? "io" : "refused",
                        "%s: %s %s: %s", c->sock, what, file, strerror(-err));
}

static void
print_json(const char *file, long bytes, const char *state)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "file", json_object_new_string(file));
    json_object_object_add(o, "bytes", json_object_new_int64(bytes));
    json_object_object_add(o, "device", json_object_new_string(state));
    vdevctl_json_print(o);
}

/* The device is left stopped, as the source of a migration is: its state
 * now lives in the file. */
int
vdevctl_save(struct vdevctl *c, struct vdev_client *cl, const char *file)
{
    FILE *f = fopen(file, "wbx");
    long bytes;
    int rc;

    if (!f && errno == EEXIST)
        return vdevctl_fail(c, "io", "%s exists; not overwriting it", file);
    if (!f)
        return file_fail(c, "save to", file, -errno);
    rc = vdev_client_mig_save_file(cl, f);
    bytes = ftell(f);
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        unlink(file);
        return file_fail(c, "save to", file, rc);
    }
    if (c->json)
        print_json(file, bytes, "stopped");
    else
        printf("saved the device state to %s; the device is stopped\n", file);
    return 0;
}

/* A loaded stream runs; a refused one leaves the device's state as it was
 * but stopped in RESUMING (only a good stream or a reset leaves that). */
int
vdevctl_load(struct vdevctl *c, struct vdev_client *cl, const char *file)
{
    FILE *f = fopen(file, "rb");
    struct stat st;
    int rc;

    if (!f)
        return file_fail(c, "load from", file, -errno);
    rc = fstat(fileno(f), &st) < 0 ? -errno : 0;
    if (rc == 0)
        rc = vdev_client_mig_load_file(cl, f);
    fclose(f);
    if (rc < 0) {
        file_fail(c, "load from", file, rc);
        vdev_logf(VDEV_LOG_WARN, "the device kept its state and waits, "
                                 "stopped, for a good stream (or a reset)");
        return VDEVCTL_EXIT_FAIL;
    }
    rc = vdev_client_mig_set_state(cl, VFIO_DEVICE_STATE_RUNNING);
    if (rc < 0)
        return file_fail(c, "start after loading", file, rc);
    if (c->json)
        print_json(file, (long)st.st_size, "running");
    else
        printf("loaded the device state from %s; the device runs\n", file);
    return 0;
}
