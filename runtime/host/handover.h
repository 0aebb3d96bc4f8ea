/* The hand-over record a running server sends its successor (handover.c
 * writes it, handover_recv.c reads it): wire format and limits. Private.
 *
 * Channel: an AF_UNIX SOCK_SEQPACKET pair; the successor inherits one end
 * and is told its number with --handover-fd=N. Packets, in order:
 *
 *   old -> new  HEAD   struct hov_head (magic, version, record length, fds)
 *   old -> new  FDS    struct hov_fds + SCM_RIGHTS, at most HOV_FDS_PER_PKT
 *                      fds each, numbered 0.. in order (the fd table)
 *   old -> new  DATA   the record, in packets of at most HOV_DATA_PKT bytes
 *   new -> old  ACK    struct hov_ack: status 0 once everything is
 *                      installed; the old server then exits, leaving its
 *                      socket files to the successor. Anything else (a
 *                      negative errno, EOF, a timeout) aborts the hand-over
 *                      and the old server keeps serving.
 *
 * The record is a sequence of sections, each a struct hov_sect followed by
 * len bytes and zero padding to 8. Integers are in host order (both ends
 * run on one host). Fds are indexes into the fd table
 * (HOV_NO_FD: none); each table entry is used at most once. A section with
 * HOV_SECT_OPTIONAL may be skipped by a reader that does not know its type;
 * an unknown mandatory section fails the hand-over. */
#ifndef VDEV_HANDOVER_H
#define VDEV_HANDOVER_H

#include <stdint.h>

#include "server/server.h"

#define HOV_MAGIC "VDEVHOV1"
#define HOV_ACK_MAGIC "VDEVHACK"
#define HOV_VERSION 1u

#define HOV_FDS_PER_PKT 250u /* below the kernel's SCM_MAX_FD (253) */
#define HOV_DATA_PKT (32u * 1024u)
#define HOV_MAX_RECORD (256u << 20)
#define HOV_MAX_FDS (VDEV_MAX_DMA_MAPS + 16384u)
/* Unserved input: a buffer never grows past one largest message plus what
 * the initial buffer held. */
#define HOV_MAX_INPUT (VDEV_MAX_MSG_SIZE + 2 * VDEV_RBUF_INIT)
#define HOV_MAX_OUTPUT (4u * VDEV_MAX_MSG_SIZE)
#define HOV_MAX_PATH 108u /* sun_path */
#define HOV_MAX_VECTORS 2048u
#define HOV_TIMEOUT_MS 10000
#define HOV_NO_FD 0xffffffffu

struct hov_head {
    char magic[8];
    uint32_t version;
    uint32_t head_size; /* sizeof(struct hov_head) */
    uint64_t record_len;
    uint32_t nr_fds;
    uint32_t nr_sections;
};

struct hov_fds {
    uint32_t first; /* table index of the first fd in this packet */
    uint32_t count;
};

struct hov_ack {
    char magic[8];
    int32_t status; /* 0 or -errno */
    uint32_t pid;
};

enum hov_sect_type {
    HOV_SECT_SOCKETS = 1, /* struct hov_sockets + socket path + mgmt path */
    HOV_SECT_CONN = 2,    /* struct hov_conn */
    HOV_SECT_INPUT = 3,   /* struct hov_input + unserved bytes */
    HOV_SECT_OUTPUT = 4,  /* unsent reply bytes */
    HOV_SECT_DMA = 5,     /* struct hov_dma + nr_maps struct hov_map */
    HOV_SECT_IRQ = 6,     /* per index: struct hov_irq_index + vectors */
    HOV_SECT_REGIONS = 7, /* uint32 count + struct hov_region each */
    HOV_SECT_STATE = 8,   /* the migration stream (mig_stream.c) */
    HOV_SECT_STATS = 9,   /* struct vdev_stats (optional) */
    HOV_SECT_DIRTY = 10,  /* struct hov_dirty + ranges + bitmaps */
};
#define HOV_SECT_MAX HOV_SECT_DIRTY
#define HOV_SECT_OPTIONAL 1u

struct hov_sect {
    uint32_t type;
    uint32_t flags;
    uint64_t len;
};

struct hov_sockets {
    uint32_t listen_fd; /* the vfio-user listening socket */
    uint32_t mgmt_fd;   /* management listening socket, or HOV_NO_FD */
    uint16_t path_len;  /* bytes of socket path that follow (0: none) */
    uint16_t mgmt_len;  /* bytes of mgmt path after it */
    uint32_t pad;
};

struct hov_conn {
    uint32_t fd;      /* the client's socket */
    uint32_t twin_fd; /* server->client socket, or HOV_NO_FD */
    uint16_t major, minor;
    uint32_t peer_max_msg_fds;
    uint32_t peer_max_data_xfer;
    uint8_t negotiated;
    uint8_t write_multi;
    uint8_t qemu_dma_layout;    /* 1: QEMU's DMA_READ/WRITE layout, 0: spec */
    uint8_t dma_layout_unknown; /* 1: not yet detected (ignore the above) */
    uint16_t next_msg_id;
    uint16_t pad2;
};

struct hov_input {
    uint64_t len;    /* unserved bytes that follow */
    uint64_t skip;   /* bytes still to drop of a rejected message */
    uint32_t nr_fds; /* fds of the partial message at its end */
    uint32_t fds_lost;
    uint64_t fds_msg_end; /* offset in the bytes those fds belong to */
    uint32_t fds[VDEV_MAX_MSG_FDS * 4];
};

struct hov_dma {
    uint32_t nr_maps;
    uint32_t next_id;
};

struct hov_map {
    uint64_t iova, size, offset;
    uint32_t prot;
    uint32_t fd; /* HOV_NO_FD: served by DMA_READ/WRITE messages */
};

struct hov_irq_index {
    uint32_t count; /* vectors that follow */
    uint32_t pad;
};

struct hov_irq_vector {
    uint32_t trigger_fd, mask_fd, unmask_fd;
    uint8_t masked, pending;
    uint16_t pad;
};

/* Dirty logging of the connection's DMA maps, for the migration that
 * started it: then nr_ranges struct vdev_log_range, then for each DMA map
 * in the DMA section's order a uint64 byte count and its bitmap. */
struct hov_dirty {
    uint32_t gen; /* enum vdev_mig_generation that owns it */
    uint32_t nr_ranges;
    uint64_t pgsize;
};

struct hov_region {
    uint32_t index;
    uint32_t fd; /* the region's backing memfd */
    uint64_t size;
};

/* After vdev_run() returned: the server a hand-over that worked (SIGUSR2 or
 * the management command "upgrade") went to, or 0 (the program tells its
 * service manager about the new main process). */
pid_t vdev_handover_successor(const struct vdev_dev *dev);

#endif /* VDEV_HANDOVER_H */
