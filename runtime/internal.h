/* libvdev internals: the device and connection structures every runtime
 * module shares, and each module's entry points. Not installed. */
#ifndef VDEV_INTERNAL_H
#define VDEV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "vdev.h"
#include "vdev_proto.h"

#define VDEV_NR_BARS 6
#define VDEV_ROM_INDEX 6
#define VDEV_CONFIG_INDEX 7
#define VDEV_NR_PCI_REGIONS 9 /* BAR0-5, ROM, config, VGA */
#define VDEV_MAX_REGIONS 16   /* + device-specific regions */
#define VDEV_NR_IRQ_INDEXES 5 /* INTx, MSI, MSI-X, ERR, REQ */
#define VDEV_CONFIG_SIZE 4096 /* PCIe extended config space */

/* Limits this server advertises in its VERSION reply and enforces. */
#define VDEV_MAX_MSG_FDS 16u
#define VDEV_MAX_DATA_XFER (1u << 20)
#define VDEV_MAX_DMA_MAPS 65535u
#define VDEV_MAX_MSG_SIZE (VDEV_MAX_DATA_XFER + 4096u)

#define VDEV_LOG(dev, lvl, ...)                                                \
    do {                                                                       \
        if ((lvl) <= (dev)->log_max)                                           \
            vdev_log((dev), (lvl), __VA_ARGS__);                               \
    } while (0)

/* ------------------------------------------------------------ regions */

struct vdev_region {
    bool present;
    uint32_t flags; /* VFIO_REGION_INFO_FLAG_* */
    uint64_t size;
    enum vdev_bar_kind kind; /* BARs only */
    bool prefetchable;
    vdev_region_access_fn *access;
    void *opaque;
    int mem_fd;                   /* memfd of backing memory, or -1 */
    void *mem;                    /* its mapping in this process, or NULL */
    struct vdev_mmap_area *areas; /* client-mmapable areas */
    unsigned nr_areas;
    uint32_t cap_type; /* VFIO_REGION_INFO_CAP_TYPE, 0 if none */
    uint32_t cap_subtype;
};

/* ------------------------------------------------------------ config */

struct vdev_config {
    uint8_t data[VDEV_CONFIG_SIZE];
    uint8_t wmask[VDEV_CONFIG_SIZE];     /* bits the guest may write */
    uint8_t w1cmask[VDEV_CONFIG_SIZE];   /* bits cleared by writing one */
    uint32_t bar_mask[VDEV_NR_BARS + 1]; /* size masks, ROM last */
    uint8_t next_cap;                    /* last capability, for chaining */
    uint16_t last_ext_cap; /* last extended capability, 0 if none */
    uint8_t free_cap;      /* next free offset for auto placement */
    uint16_t free_ext_cap;
    uint8_t msi_cap, msix_cap, pcie_cap, pm_cap; /* offsets, 0 if absent */
    vdev_config_hook_fn *hook;
    void *hook_opaque;
    uint8_t poweron[VDEV_CONFIG_SIZE]; /* reset restores writable bits */
};

/* ------------------------------------------------------------ IRQs */

struct vdev_irq_index {
    unsigned count;
    int *trigger_fd; /* count entries, -1 when unset */
    int *mask_fd;    /* eventfd signalled on guest mask (optional) */
    int *unmask_fd;  /* eventfd signalled on guest unmask (optional) */
    bool *masked;    /* client-side mask (SET_IRQS MASK/UNMASK) */
    bool *pending;   /* raised while masked; delivered on unmask */
};

struct vdev_msix {
    unsigned nr_vectors;
    unsigned table_bar, pba_bar;
    uint32_t table_offset, pba_offset;
    uint8_t *table;  /* nr_vectors * 16 bytes, guest-visible */
    uint64_t *pba;   /* pending bits */
    bool table_used; /* the client writes the table through us */
};

struct vdev_irqs {
    struct vdev_irq_index index[VDEV_NR_IRQ_INDEXES];
    bool intx_level;      /* OR of the device's levels */
    uint32_t levels;      /* per-vector levels for vdev_irq_set_level */
    unsigned msi_vectors; /* from the MSI capability, 0 if none */
    uint32_t msi_pending; /* MSI vectors raised while masked */
    struct vdev_msix msix;
};

/* ------------------------------------------------------------ DMA */

struct vdev_dma_map {
    uint64_t iova;
    uint64_t size;
    uint64_t offset; /* into fd */
    uint32_t prot;   /* VDEV_DMA_READ | VDEV_DMA_WRITE */
    uint32_t id;
    int fd;      /* -1: served by DMA_READ/WRITE messages */
    void *vaddr; /* mmap of fd, or NULL */
    size_t mmap_len;
    uint64_t *dirty; /* bitmap, one bit per page, while logging */
};

struct vdev_dma {
    struct vdev_dma_map **maps; /* sorted by iova, non-overlapping */
    uint64_t *iovas;            /* maps[i]->iova: searched in cache */
    unsigned nr_maps;
    unsigned cap_maps;
    uint32_t next_id;
    bool logging;
    uint64_t log_pgsize;
};

/* ------------------------------------------------------------ connection */

/* epoll data.u32 tags of dev->epoll_fd (management sockets: VDEV_EV_MGMT) */
#define VDEV_EV_LISTEN 0u
#define VDEV_EV_CONN 1u
#define VDEV_EV_STOP 2u

/* Initial receive and send buffers of a connection; they grow for large
 * messages and shrink back once those are served. */
#define VDEV_RBUF_INIT (64u * 1024)
#define VDEV_SBUF_INIT (64u * 1024)

/* Everything that lives as long as one client: freed in one talloc_free()
 * on disconnect; destructors close fds and unmap memory. */
struct vdev_conn {
    struct vdev_dev *dev;
    int fd;
    int twin_fd; /* server->client channel, or -1 */
    bool negotiated;
    uint16_t major, minor;
    uint32_t peer_max_msg_fds;
    uint32_t peer_max_data_xfer;
    bool write_multi;

    /* receive side: bytes read but not yet dispatched */
    uint8_t *rbuf;
    size_t rcap, rstart, rend;
    int rfds[VDEV_MAX_MSG_FDS * 4];
    unsigned nr_rfds;
    size_t rfds_msg_end; /* fds belong to the message ending here */
    bool rfds_lost;      /* some of those fds were cut off (CTRUNC) */
    size_t rwant;        /* most bytes the next recv may take */
    size_t rskip;        /* rest of a rejected oversized message */
    bool rx_hot;         /* pipelining: read again before epoll_wait */

    /* send side: replies batched until the input is drained */
    uint8_t *sbuf;
    size_t scap, slen;
    bool out_blocked; /* socket full: input paused until EPOLLOUT */

    uint16_t next_msg_id; /* server->client requests */
    /* While a region write waits for a DMA reply, the client's next
     * commands are served (s2c.c); never from inside one of those. */
    bool s2c_serve, s2c_nested;
    struct vdev_dma dma;
};

/* A received message as handlers see it. fds not taken by the handler
 * (set to -1) are closed after dispatch. */
struct vdev_msg {
    const struct vfio_user_header *hdr;
    const uint8_t *body;
    uint32_t body_len;
    int *fds;
    unsigned nr_fds;
};

/* Reply under construction; handlers fill payload via vdev_reply_alloc(). */
struct vdev_reply {
    uint8_t *payload;
    uint32_t len;
    int fds[VDEV_MAX_MSG_FDS];
    unsigned nr_fds; /* fds to send (not owned; not closed) */
    bool close_fds;  /* ...unless set: then closed once sent */
};

/* ------------------------------------------------------------ device */

enum vdev_mig_generation {
    VDEV_MIG_NONE = 0,
    VDEV_MIG_V1 = 1, /* legacy migration region */
    VDEV_MIG_V2 = 2, /* DEVICE_FEATURE + MIG_DATA_* */
};

struct vdev_dev {
    char *name;
    struct vdev_pci_ident ident;
    void *priv;

    vdev_log_fn *log_fn;
    void *log_opaque;
    enum vdev_log_level log_max;

    vdev_reset_fn *reset_fn;
    void *reset_opaque;

    struct vdev_region regions[VDEV_MAX_REGIONS];
    unsigned nr_regions; /* highest index + 1, >= VDEV_NR_PCI_REGIONS */
    struct vdev_config cfg;
    struct vdev_irqs irqs;

    int listen_fd;
    char *socket_path; /* removed on teardown when we created it */
    int epoll_fd;
    int stop_fd; /* eventfd written by vdev_stop() */
    volatile int stopping;
    struct vdev_conn *conn; /* current client, or NULL */
    bool qemu_dma_layout;

    struct vdev_stats stats;
    struct vdev_migration *mig; /* NULL when the device has no migration */
    struct vdev_mgmt *mgmt;     /* named values and their socket (mgmt.c) */
};

/* ------------------------------------------------------------ modules */

/* device.c */
void vdev_region_init(struct vdev_region *r);

/* transport.c: sockets and framing. */
int vdev_transport_listen_path(struct vdev_dev *dev, const char *path);
int vdev_transport_accept(struct vdev_dev *dev);
/* Reads what is available; returns bytes read, 0 on EOF, -EAGAIN, -errno. */
ssize_t vdev_transport_recv(struct vdev_conn *c);
int vdev_transport_flush(struct vdev_conn *c);
int vdev_transport_send_fds(struct vdev_conn *c, const void *buf, size_t len,
                            const int *fds, unsigned nr_fds);
void vdev_conn_close(struct vdev_dev *dev);
/* A connected client socket becomes dev->conn (fd owned, closed on error);
 * accept and the hand-over (handover_recv.c) share it. */
int vdev_conn_adopt(struct vdev_dev *dev, int fd);

/* server.c: framing, dispatch, replies. */
int vdev_serve_input(struct vdev_conn *c);
/* Dispatches the complete command at c->rstart (no fds) while a handler
 * waits for the client (s2c.c); its reply is queued in sbuf. */
int vdev_serve_nested(struct vdev_conn *c);
void *vdev_reply_alloc(struct vdev_reply *r, struct vdev_conn *c, uint32_t len);
/* Server->client request (DMA_READ/WRITE) and its reply, synchronously
 * (s2c.c). req is the payload (the header is built here); the reply's
 * payload is copied to reply. Returns the reply payload length (at most
 * reply_len), or -errno: the client's error, -ETIMEDOUT, -EPROTO for a
 * malformed reply, -ECONNRESET. Client commands that arrive on the main
 * socket meanwhile stay in c->rbuf for the dispatcher, unless c->s2c_serve
 * says they may be served at once, in order. */
int vdev_conn_request(struct vdev_conn *c, uint16_t cmd, const void *req,
                      size_t req_len, void *reply, size_t reply_len);

/* Message handlers: return 0 (reply built in r) or -errno (error reply). */
typedef int vdev_handler_fn(struct vdev_conn *c, struct vdev_msg *m,
                            struct vdev_reply *r);
vdev_handler_fn vdev_handle_version;
vdev_handler_fn vdev_handle_dma_map;
vdev_handler_fn vdev_handle_dma_unmap;
vdev_handler_fn vdev_handle_device_get_info;
vdev_handler_fn vdev_handle_region_info;
vdev_handler_fn vdev_handle_region_io_fds;
vdev_handler_fn vdev_handle_irq_info;
vdev_handler_fn vdev_handle_set_irqs;
vdev_handler_fn vdev_handle_region_read;
vdev_handler_fn vdev_handle_region_write;
vdev_handler_fn vdev_handle_region_write_multi;
vdev_handler_fn vdev_handle_device_reset;
vdev_handler_fn vdev_handle_dirty_pages;
vdev_handler_fn vdev_handle_device_feature;
vdev_handler_fn vdev_handle_mig_data_read;
vdev_handler_fn vdev_handle_mig_data_write;

/* region_io.c: one region access, shared by READ/WRITE/WRITE_MULTI. */
int vdev_region_access(struct vdev_dev *dev, uint32_t index, uint64_t offset,
                       void *buf, uint32_t count, bool is_write);

/* pci_config.c */
void vdev_config_init(struct vdev_dev *dev);
void vdev_config_reset(struct vdev_dev *dev);
int vdev_config_access(struct vdev_dev *dev, uint64_t offset, void *buf,
                       uint32_t count, bool is_write);
void vdev_config_bar_init(struct vdev_dev *dev, unsigned index);

/* irq.c */
int vdev_irqs_init(struct vdev_dev *dev);
void vdev_irqs_reset(struct vdev_dev *dev);
/* Closes every eventfd the client gave us (on disconnect). */
void vdev_irqs_drop_fds(struct vdev_dev *dev);
/* MSI-X table/PBA accesses: returns 1 if [offset, offset+count) in BAR
 * `bar` was served, 0 if it is not MSI-X space, -errno on error. */
int vdev_msix_access(struct vdev_dev *dev, unsigned bar, uint64_t offset,
                     void *buf, uint32_t count, bool is_write);
/* Re-evaluates INTx after command/mask changes. */
void vdev_irq_intx_update(struct vdev_dev *dev);
/* Delivers MSI/MSI-X pending vectors after the guest unmasked them. */
void vdev_irq_msi_update(struct vdev_dev *dev);

/* dma.c */
int vdev_dma_add(struct vdev_conn *c, uint64_t iova, uint64_t size, int fd,
                 uint64_t offset, uint32_t prot);
int vdev_dma_remove(struct vdev_conn *c, uint64_t iova, uint64_t size);
void vdev_dma_remove_all(struct vdev_conn *c);
struct vdev_dma_map *vdev_dma_lookup(struct vdev_dma *dma, uint64_t iova);
/* Index of the first map that ends at or after iova (nr_maps if none). */
unsigned vdev_dma_index_from(const struct vdev_dma *dma, uint64_t iova);

/* dirty.c: dirty-page logging over the DMA maps (DMA_LOGGING_*, legacy
 * DIRTY_PAGES and DMA_UNMAP with a bitmap). Bit i of a report is the page
 * at iova + i * pgsize, least significant bit first. */
/* pgsize: a power of two >= 4096. -EBUSY if already logging. */
int vdev_dirty_start(struct vdev_conn *c, uint64_t pgsize);
void vdev_dirty_stop(struct vdev_conn *c);
/* Bytes of bitmap for size bytes at pgsize (one bit per page, rounded). */
uint64_t vdev_dirty_bitmap_bytes(uint64_t size, uint64_t pgsize);
/* Copies the bits of [iova, iova+size) into bitmap and clears them. pgsize
 * must be the logging page size and iova aligned to it; bitmap_len at least
 * vdev_dirty_bitmap_bytes() (the rest is zeroed). Pages no map covers read
 * as clean. -EINVAL if logging is off or the arguments do not fit. */
int vdev_dirty_report(struct vdev_conn *c, uint64_t iova, uint64_t size,
                      uint64_t pgsize, void *bitmap, uint64_t bitmap_len);
/* Used by dma.c: a map added while logging, and device writes. */
int vdev_dirty_map_alloc(struct vdev_conn *c, struct vdev_dma_map *m);
void vdev_dirty_mark(struct vdev_conn *c, struct vdev_dma_map *m, uint64_t iova,
                     uint64_t len);

/* s2c.c: server-to-client channel. Creates the twin socket pair: the server
 * end goes to c->twin_fd (closed with the connection), the client end to
 * *client_end for the VERSION reply; the caller closes it once sent. */
int vdev_twin_setup(struct vdev_conn *c, int *client_end);

/* migration.c (NULL-safe: devices without migration) */
struct vdev_migration;
void vdev_migration_reset(struct vdev_dev *dev);
/* false while the migration state machine holds the device stopped (STOP,
 * STOP_COPY, RESUMING, ERROR): device register callbacks must not run, IRQs
 * stay pending until it runs again, DMA helpers refuse with -EBUSY. */
bool vdev_migration_device_runs(const struct vdev_dev *dev);
/* The client disconnected: ends its data transfer (see migration.c). */
void vdev_migration_conn_gone(struct vdev_dev *dev);

/* mgmt.c: the management channel. Its sockets sit in dev->epoll_fd with
 * epoll data.u32 >= VDEV_EV_MGMT; the loop in server.c hands every such
 * event here. Never blocks; a client's misbehaviour only drops that client. */
#define VDEV_EV_MGMT 0x10000u
struct vdev_mgmt;
int vdev_mgmt_dispatch(struct vdev_dev *dev, uint32_t tag);
/* Hand-over (handover*.c): the listening fd and path (-1 and NULL if
 * none); disown closes the fd and forgets the path without removing the
 * file, now a successor's; adopt takes a received listening fd (owned on
 * success), own_path makes the file ours to remove. */
int vdev_mgmt_export(struct vdev_dev *dev, const char **path);
void vdev_mgmt_disown(struct vdev_dev *dev);
int vdev_mgmt_adopt(struct vdev_dev *dev, int fd);
void vdev_mgmt_own_path(struct vdev_dev *dev, const char *path);

#endif /* VDEV_INTERNAL_H */
