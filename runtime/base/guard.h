/* Copies to and from memory a client can take away: a DMA map's file may be
 * truncated by the client after we mapped it, and touching the vanished
 * pages raises SIGBUS. The guarded copy turns that into -EFAULT for the one
 * request instead of the end of the server. */
#ifndef VDEV_BASE_GUARD_H
#define VDEV_BASE_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* True if the file can no longer shrink (F_SEAL_SHRINK, as QEMU's
 * memory-backend-memfd seals by default): its maps need no guard. */
bool vdev_fd_sealed_shrink(int fd);

/* memcpy that returns -EFAULT instead of dying when src or dst is a shared
 * mapping whose backing pages went away; 0 otherwise. The first call
 * installs a SIGBUS handler that only acts inside a guarded copy; any
 * other SIGBUS goes to the handler that was there before (default: the
 * process ends, as it would have). */
int vdev_guarded_copy(void *dst, const void *src, size_t n);

#endif /* VDEV_BASE_GUARD_H */
