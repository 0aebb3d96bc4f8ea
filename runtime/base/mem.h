/* Giving memory back to the system once a large buffer is freed: the
 * bound on a server's memory after any input (runtime/LIMITS.md). */
#ifndef VDEV_BASE_MEM_H
#define VDEV_BASE_MEM_H

#include <stddef.h>

/* Buffers at least this large are given back when freed or shrunk. */
#define VDEV_MEM_LARGE (128u * 1024)

/* Call after freeing (or shrinking) a buffer of `bytes` bytes: from
 * VDEV_MEM_LARGE up, the allocator's free memory goes back to the system.
 * glibc keeps freed heap memory, and once a large mmap'd block is freed
 * it serves the next ones from the heap, where they stay: without this a
 * few large messages would raise the resident set for good. */
void vdev_mem_released(size_t bytes);

#endif /* VDEV_BASE_MEM_H */
