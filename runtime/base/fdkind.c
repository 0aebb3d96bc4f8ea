/* Kind checks for fds a client sends (see fdkind.h): an fstat, and for
 * eventfds the name /proc gives the file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/fdkind.h"

#define ANON_INODE_FS_MAGIC 0x09041934
#define FUSE_SUPER_MAGIC 0x65735546

int
vdev_fd_check_eventfd(int fd)
{
    static const char want[] = "anon_inode:[eventfd]";
    char path[32], name[sizeof(want) + 1];
    struct statfs sf;
    struct stat st;
    ssize_t n;

    if (fd < 0 || fstat(fd, &st) < 0)
        return -EBADF;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    n = readlink(path, name, sizeof(name));
    if (n >= 0)
        return (size_t)n == sizeof(want) - 1 && !memcmp(name, want, (size_t)n)
                   ? 0
                   : -EINVAL;
    /* No /proc here (a bare chroot): every anon-inode file shares one
     * file system, and the others' writes fail at once. */
    if (fstatfs(fd, &sf) < 0)
        return -EBADF;
    return sf.f_type == ANON_INODE_FS_MAGIC ? 0 : -EINVAL;
}

int
vdev_fd_check_mappable(int fd)
{
    struct statfs sf;
    struct stat st;

    if (fd < 0 || fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0)
        return -EBADF;
    if (!S_ISREG(st.st_mode) || sf.f_type == FUSE_SUPER_MAGIC)
        return -EINVAL;
    return 0;
}
