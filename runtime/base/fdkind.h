/* What kind of file a client's fd is: the check every fd a message carries
 * passes before the runtime keeps it, signals it or maps it. A client's fd
 * is the client's: its kind, its flags and its fullness are whatever the
 * client made them, so the kind is checked, never assumed. */
#ifndef VDEV_BASE_FDKIND_H
#define VDEV_BASE_FDKIND_H

/* 0 if fd is an eventfd (the only kind SET_IRQS takes), -EINVAL if it is
 * anything else (pipe, socket, timerfd, file, ...), -EBADF if it is not
 * open. Exact: /proc/self/fd names the file "anon_inode:[eventfd]"; where
 * /proc cannot be read it is as close as fstatfs gets (an anon-inode
 * file, whose writes, eventfd's aside, never block). */
int vdev_fd_check_eventfd(int fd);

/* 0 if fd is a file the runtime may mmap for DMA: a regular file (memfd,
 * shm, hugetlbfs, tmpfs, a local disk file) outside FUSE, whose page
 * faults a client could serve slowly or never. -EINVAL for any other
 * kind, -EBADF if it is not open. */
int vdev_fd_check_mappable(int fd);

#endif /* VDEV_BASE_FDKIND_H */
