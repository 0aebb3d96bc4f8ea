/* save FILE / load FILE for the management channel: a device's migration
 * stream in a regular file, to move state between servers without a VMM. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "host/mgmt_state.h"
#include "migration/migration.h"

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        done += (size_t)n;
    }
    return 0;
}

int
vdev_mgmt_save_file(struct vdev_dev *dev, const char *path, size_t *len)
{
    void *tmp = talloc_new(NULL);
    uint8_t *buf = NULL;
    struct stat st;
    int fd, rc;

    if (!tmp)
        return -ENOMEM;
    rc = vdev_mig_stream_save(dev, tmp, &buf, len);
    if (rc < 0)
        goto out;
    /* State may hold guest data: private like the sockets. O_NONBLOCK: a
     * FIFO at path must not hold the loop until someone reads it (a
     * regular file ignores the flag); anything but a file is refused. */
    fd =
        open(path,
             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
             0600);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        rc = -EINVAL;
        goto out;
    }
    rc = write_all(fd, buf, *len);
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
out:
    talloc_free(tmp);
    return rc;
}

int
vdev_mgmt_load_file(struct vdev_dev *dev, const char *path, size_t *len)
{
    void *tmp;
    uint8_t *buf;
    struct stat st;
    size_t done = 0;
    int fd, rc;

    if (!dev->mig)
        return -ENOTSUP;
    /* Loading under a VMM's own migration would corrupt its session. */
    if (dev->mig->gen != VDEV_MIG_NONE ||
        dev->mig->state != VFIO_DEVICE_STATE_RUNNING)
        return -EBUSY;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    if (st.st_size <= 0 || (uint64_t)st.st_size > VDEV_MGMT_STATE_MAX) {
        close(fd);
        return st.st_size <= 0 ? -EPROTO : -EFBIG;
    }
    tmp = talloc_new(NULL);
    buf = tmp ? talloc_size(tmp, (size_t)st.st_size) : NULL;
    if (!buf) {
        talloc_free(tmp);
        close(fd);
        return -ENOMEM;
    }
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* shrank under us: what we have is validated anyway */
        done += (size_t)n;
    }
    close(fd);
    rc = vdev_mig_stream_load(dev, buf, done);
    talloc_free(tmp);
    vdev_mem_released(done);
    *len = done;
    return rc;
}
