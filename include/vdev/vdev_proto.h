/* vfio-user wire format (QEMU docs/interop/vfio-user.rst): message header,
 * command numbers and the payloads <linux/vfio.h> does not already define.
 * Shared by the server runtime and the client library. */
#ifndef VDEV_PROTO_H
#define VDEV_PROTO_H

#include <linux/vfio.h>
#include <stdint.h>

#define VFIO_USER_MAJOR 0
#define VFIO_USER_MINOR 1

enum vfio_user_command {
    VFIO_USER_VERSION = 1,
    VFIO_USER_DMA_MAP = 2,
    VFIO_USER_DMA_UNMAP = 3,
    VFIO_USER_DEVICE_GET_INFO = 4,
    VFIO_USER_DEVICE_GET_REGION_INFO = 5,
    VFIO_USER_DEVICE_GET_REGION_IO_FDS = 6,
    VFIO_USER_DEVICE_GET_IRQ_INFO = 7,
    VFIO_USER_DEVICE_SET_IRQS = 8,
    VFIO_USER_REGION_READ = 9,
    VFIO_USER_REGION_WRITE = 10,
    VFIO_USER_DMA_READ = 11,
    VFIO_USER_DMA_WRITE = 12,
    VFIO_USER_DEVICE_RESET = 13,
    VFIO_USER_DIRTY_PAGES = 14, /* legacy generation only */
    VFIO_USER_REGION_WRITE_MULTI = 15,
    VFIO_USER_DEVICE_FEATURE = 16,
    VFIO_USER_MIG_DATA_READ = 17,
    VFIO_USER_MIG_DATA_WRITE = 18,
    VFIO_USER_MAX_COMMAND = 19,
};

#define VFIO_USER_F_TYPE_MASK 0xfu
#define VFIO_USER_F_TYPE_COMMAND 0x0u
#define VFIO_USER_F_TYPE_REPLY 0x1u
#define VFIO_USER_F_NO_REPLY (1u << 4)
#define VFIO_USER_F_ERROR (1u << 5)

struct vfio_user_header {
    uint16_t msg_id;
    uint16_t cmd;
    uint32_t msg_size; /* header included */
    uint32_t flags;
    uint32_t error_no;
} __attribute__((packed));

struct vfio_user_version {
    uint16_t major;
    uint16_t minor;
    char data[]; /* JSON, NUL-terminated, optional */
} __attribute__((packed));

/* Defaults and limits from the spec's capability table. */
#define VFIO_USER_DEF_MAX_MSG_FDS 1u
#define VFIO_USER_DEF_MAX_DATA_XFER (1u << 20)
#define VFIO_USER_DEF_MAX_DMA_MAPS 65535u
#define VFIO_USER_DEF_PGSIZES 4096u

#define VFIO_USER_F_DMA_REGION_READ (1u << 0)
#define VFIO_USER_F_DMA_REGION_WRITE (1u << 1)

struct vfio_user_dma_map {
    uint32_t argsz;
    uint32_t flags;
    uint64_t offset;
    uint64_t addr;
    uint64_t size;
} __attribute__((packed));

#define VFIO_USER_F_DMA_UNMAP_GET_DIRTY_BITMAP (1u << 0) /* legacy */
#define VFIO_USER_F_DMA_UNMAP_ALL (1u << 1)

struct vfio_user_dma_unmap {
    uint32_t argsz;
    uint32_t flags;
    uint64_t addr;
    uint64_t size;
} __attribute__((packed));

/* Legacy generation: bitmap descriptor that follows a DMA_UNMAP or a
 * DIRTY_PAGES range. */
struct vfio_user_bitmap {
    uint64_t pgsize;
    uint64_t size;
} __attribute__((packed));

struct vfio_user_region_access {
    uint64_t offset;
    uint32_t region;
    uint32_t count;
    uint8_t data[];
} __attribute__((packed));

struct vfio_user_dma_access {
    uint64_t addr;
    uint64_t count;
    uint8_t data[];
} __attribute__((packed));

/* QEMU 10.1/10.2 client layout of DMA_READ/WRITE (32-bit count). */
struct vfio_user_dma_access_qemu {
    uint64_t addr;
    uint32_t count;
    uint8_t data[];
} __attribute__((packed));

#define VFIO_USER_MULTI_DATA 8
struct vfio_user_write_multi_entry {
    uint64_t offset;
    uint32_t region;
    uint32_t count;
    uint8_t data[VFIO_USER_MULTI_DATA];
} __attribute__((packed));

struct vfio_user_write_multi {
    uint64_t wr_cnt;
    struct vfio_user_write_multi_entry wrs[];
} __attribute__((packed));

#define VFIO_USER_IO_FD_TYPE_IOEVENTFD 0
#define VFIO_USER_IO_FD_TYPE_IOREGIONFD 1

struct vfio_user_region_io_fds_request {
    uint32_t argsz;
    uint32_t flags;
    uint32_t index;
    uint32_t count;
} __attribute__((packed));

struct vfio_user_sub_region_ioeventfd {
    uint64_t offset;
    uint64_t size;
    uint32_t fd_index;
    uint32_t type;
    uint32_t flags;
    uint32_t padding;
    uint64_t datamatch;
} __attribute__((packed));

struct vfio_user_region_io_fds_reply {
    uint32_t argsz;
    uint32_t flags;
    uint32_t index;
    uint32_t count;
    struct vfio_user_sub_region_ioeventfd sub_regions[];
} __attribute__((packed));

struct vfio_user_device_feature {
    uint32_t argsz;
    uint32_t flags; /* VFIO_DEVICE_FEATURE_* from <linux/vfio.h> */
    uint8_t data[];
} __attribute__((packed));

struct vfio_user_mig_data {
    uint32_t argsz;
    uint32_t size;
    uint8_t data[];
} __attribute__((packed));

/* Legacy VFIO_USER_DIRTY_PAGES request (libvfio-user docs at the commit in
 * shared/README.md). */
#define VFIO_USER_DIRTY_PAGES_FLAG_START (1u << 0)
#define VFIO_USER_DIRTY_PAGES_FLAG_STOP (1u << 1)
#define VFIO_USER_DIRTY_PAGES_FLAG_GET_BITMAP (1u << 2)

struct vfio_user_dirty_pages {
    uint32_t argsz;
    uint32_t flags;
} __attribute__((packed));

struct vfio_user_bitmap_range {
    uint64_t iova;
    uint64_t size;
    struct vfio_user_bitmap bitmap;
} __attribute__((packed));

/* Migration v2: PRE_COPY is newer than Debian 12's <linux/vfio.h> (6.1);
 * both constants arrived together in Linux 6.2. */
#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY (1 << 2)
#define VFIO_DEVICE_STATE_PRE_COPY 6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P 7
#endif

/* DMA_LOGGING_START data in vfio-user: the ranges follow inline (the kernel
 * struct carries a pointer there instead). */
struct vfio_user_dma_logging_control {
    uint64_t page_size;
    uint32_t num_ranges;
    uint32_t reserved;
    struct vfio_device_feature_dma_logging_range ranges[];
} __attribute__((packed));

/* DMA_LOGGING_REPORT data; in the reply the bitmap (u64s) follows inline. */
struct vfio_user_dma_logging_report {
    uint64_t iova;
    uint64_t length;
    uint64_t page_size;
    uint64_t bitmap[];
} __attribute__((packed));

_Static_assert(sizeof(struct vfio_user_header) == 16, "header");
_Static_assert(sizeof(struct vfio_user_dma_map) == 32, "dma_map");
_Static_assert(sizeof(struct vfio_user_dma_unmap) == 24, "dma_unmap");
_Static_assert(sizeof(struct vfio_user_region_access) == 16, "region rw");
_Static_assert(sizeof(struct vfio_user_write_multi_entry) == 24, "multi");
_Static_assert(sizeof(struct vfio_user_sub_region_ioeventfd) == 40, "iofd");
_Static_assert(sizeof(struct vfio_user_dma_logging_control) == 16, "logc");
_Static_assert(sizeof(struct vfio_user_dma_logging_report) == 24, "logr");

#pragma GCC visibility push(default)
const char *vfio_user_command_name(unsigned cmd);
#pragma GCC visibility pop

#endif /* VDEV_PROTO_H */
