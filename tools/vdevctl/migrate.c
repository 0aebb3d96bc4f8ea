/* vdevctl save / load: the device's migration stream to and from a file
 * over the vfio-user socket, with the client library's migration calls. A
 * save is a snapshot: the device runs again afterwards, as after a load. */
#include <errno.h>
#include <stdio.h>

#include "vdev_client.h"
#include "vdevctl.h"

int
vdevctl_save(struct vdev_client *cl, const char *file, FILE *out,
             const char **what)
{
    FILE *f;
    long size;
    int rc;

    *what = file;
    f = fopen(file, "wb");
    if (!f)
        return -errno;
    *what = "save";
    rc = vdev_client_mig_save_file(cl, f);
    size = rc == 0 ? ftell(f) : 0;
    if (fclose(f) != 0 && rc == 0) {
        *what = file;
        rc = -errno;
    }
    if (rc < 0)
        remove(file);
    /* running again whether the save worked or not */
    int rrc = vdev_client_mig_set_state(cl, VFIO_DEVICE_STATE_RUNNING);
    if (rc < 0)
        return rc;
    if (rrc < 0) {
        *what = "resume";
        return rrc;
    }
    fprintf(out, "saved %ld bytes of device state to %s\n", size, file);
    return 0;
}

int
vdevctl_load(struct vdev_client *cl, const char *file, FILE *out,
             const char **what)
{
    FILE *f;
    long size;
    int rc;

    *what = file;
    f = fopen(file, "rb");
    if (!f)
        return -errno;
    *what = "load";
    rc = vdev_client_mig_load_file(cl, f);
    size = ftell(f);
    fclose(f);
    if (rc < 0)
        return rc;
    *what = "resume";
    rc = vdev_client_mig_set_state(cl, VFIO_DEVICE_STATE_RUNNING);
    if (rc < 0)
        return rc;
    fprintf(out, "loaded %ld bytes of device state from %s\n", size, file);
    return 0;
}
