/* Limits this server advertises in its VERSION reply and enforces (the
 * whole list a client can hit is runtime/LIMITS.md). */
#ifndef VDEV_BASE_LIMITS_H
#define VDEV_BASE_LIMITS_H

#define VDEV_MAX_MSG_FDS 16u
#define VDEV_MAX_DATA_XFER (1u << 20)
#define VDEV_MAX_DMA_MAPS 65535u
#define VDEV_MAX_MSG_SIZE (VDEV_MAX_DATA_XFER + 4096u)
/* VERSION's JSON: the spec's capabilities take ~300 bytes (QEMU sends
 * ~150); a parser given a megabyte of objects would hold thirty. */
#define VDEV_MAX_VERSION_JSON 4096u
#define VDEV_MAX_JSON_DEPTH 8

#endif /* VDEV_BASE_LIMITS_H */
