/* libvdev public API: what generated device code, companion C and tools use
 * to build a vfio-user PCI device server. Everything else is private. */
#ifndef VDEV_H
#define VDEV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vdev_log.h"

/* Everything declared here is libvdev.so's interface; the rest of the
 * library is hidden (make abi-check). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

#define VDEV_VERSION_STRING "0.1.0"

struct vdev_dev;

/* ---------------------------------------------------------------- logging */

/* enum vdev_log_level and the program's own log lines: vdev_log.h. */
typedef void vdev_log_fn(void *opaque, enum vdev_log_level level,
                         const char *msg);

/* Default: messages at or below VDEV_LOG_WARN go to stderr as
 * vdev_logf() writes them. */
void vdev_set_log(struct vdev_dev *dev, vdev_log_fn *fn, void *opaque,
                  enum vdev_log_level max_level);
void vdev_log(struct vdev_dev *dev, enum vdev_log_level level, const char *fmt,
              ...) __attribute__((format(printf, 3, 4)));

/* ---------------------------------------------------------------- device */

struct vdev_pci_ident {
    uint16_t vendor_id;
    uint16_t device_id;
    uint16_t subsys_vendor_id;
    uint16_t subsys_id;
    uint32_t class_code; /* base << 16 | sub << 8 | prog-if */
    uint8_t revision;
    uint8_t intx_pin; /* 0: no INTx, 1..4: INTA..INTD */
};

/* mem_ctx is a talloc context (or NULL); freeing it, or the device, tears
 * everything down: sockets, fds, mappings. */
struct vdev_dev *vdev_dev_create(void *mem_ctx, const char *name,
                                 const struct vdev_pci_ident *ident);
const char *vdev_dev_name(const struct vdev_dev *dev);

/* Per-device context pointer for generated code and companions. */
void vdev_set_private(struct vdev_dev *dev, void *priv);
void *vdev_private(const struct vdev_dev *dev);

typedef void vdev_reset_fn(struct vdev_dev *dev, void *opaque);
/* Called on every device reset (VFIO_USER_DEVICE_RESET, PCIe function-level
 * reset, vdev_request_reset, vdev_reset), after the runtime has reset config
 * space and interrupt state and stopped every timer. This is where device
 * code puts its state back to reset values, keeps what is sticky (state
 * that survives a reset is the callback's to leave alone: the runtime keeps
 * none of the device's state) and runs its own "on reset" logic; it may
 * start timers again. A vdev_request_reset() made during a reset is
 * ignored. */
void vdev_set_reset_cb(struct vdev_dev *dev, vdev_reset_fn *fn, void *opaque);
/* Resets the device as DEVICE_RESET would, at once. */
void vdev_reset(struct vdev_dev *dev);
/* The device resets itself: the reset runs when the current callback (a
 * region or config access, a timer, a stream callback, a management set)
 * has returned, before anything else is served; outside any callback, on
 * the loop's next turn. Requests before it runs count once. */
void vdev_request_reset(struct vdev_dev *dev);

/* ---------------------------------------------------------------- regions */

enum vdev_bar_kind {
    VDEV_BAR_MEM32 = 0,
    VDEV_BAR_MEM64 = 1,
    VDEV_BAR_IO = 2,
};

/* Region access from the client. offset + count lie inside the region and
 * count is 1..max_data_xfer_size; buf holds count bytes. Return 0 or
 * -errno (the client gets an error reply with that errno). */
typedef int vdev_region_access_fn(struct vdev_dev *dev, void *opaque,
                                  uint64_t offset, void *buf, uint32_t count,
                                  bool is_write);

struct vdev_mmap_area {
    uint64_t offset;
    uint64_t size;
};

struct vdev_bar_desc {
    enum vdev_bar_kind kind;
    bool prefetchable;
    uint64_t size; /* power of two; >= 16 for memory, >= 4 for I/O */
    /* Registers: called for every access not served by backing memory or
     * by the MSI-X table/PBA. May be NULL when the BAR is all memory. */
    vdev_region_access_fn *access;
    void *opaque;
    /* Backing memory: a memfd of `size` bytes the runtime creates. Accesses
     * with access == NULL are served from it; areas (or the whole BAR when
     * nr_mmap_areas == 0) are offered to the client for mmap. */
    bool backed;
    const struct vdev_mmap_area *mmap_areas;
    unsigned nr_mmap_areas;
};

/* index 0..5 (BAR), 6 (expansion ROM, kind ignored). A 64-bit BAR also
 * takes index + 1. Returns 0 or -errno. */
int vdev_bar_add(struct vdev_dev *dev, unsigned index,
                 const struct vdev_bar_desc *desc);
/* The backing memory of a BAR, or NULL when it has none. */
void *vdev_bar_memory(struct vdev_dev *dev, unsigned index);

/* Device-specific region (index >= 9) with a VFIO_REGION_INFO_CAP_TYPE
 * capability. Returns the region index or -errno. */
int vdev_region_add_typed(struct vdev_dev *dev, uint32_t type, uint32_t subtype,
                          uint64_t size, vdev_region_access_fn *access,
                          void *opaque);

/* ---------------------------------------------------------- config space */

/* Each adds a capability. offset 0 lets the runtime pick the next free
 * dword-aligned spot; otherwise it is used as given (validated). Returns the
 * offset used (> 0) or -errno. Capabilities are chained in the order added. */
int vdev_cap_pm(struct vdev_dev *dev, unsigned offset);
int vdev_cap_msi(struct vdev_dev *dev, unsigned offset, unsigned nr_vectors,
                 bool addr64, bool per_vector_mask);
int vdev_cap_msix(struct vdev_dev *dev, unsigned offset, unsigned nr_vectors,
                  unsigned table_bar, uint32_t table_offset, unsigned pba_bar,
                  uint32_t pba_offset);
enum vdev_pcie_type {
    VDEV_PCIE_ENDPOINT = 0,
    VDEV_PCIE_LEGACY_ENDPOINT = 1,
    VDEV_PCIE_RC_INTEGRATED = 9,
};
/* link_speed: 1 = 2.5 GT/s ... 5 = 32 GT/s; link_width: 1..32 lanes. */
int vdev_cap_pcie(struct vdev_dev *dev, unsigned offset,
                  enum vdev_pcie_type type, unsigned link_speed,
                  unsigned link_width);
/* Vendor-specific capability: body follows the 3-byte header (id, next,
 * length); wmask marks the body bits the guest may write (NULL: none). */
int vdev_cap_vendor(struct vdev_dev *dev, unsigned offset, const uint8_t *body,
                    unsigned len, const uint8_t *wmask);
/* Extended capabilities live at 0x100 and above. */
int vdev_ext_cap_dsn(struct vdev_dev *dev, unsigned offset, uint64_t serial);
int vdev_ext_cap_vendor(struct vdev_dev *dev, unsigned offset, uint16_t vsec_id,
                        uint8_t vsec_rev, const uint8_t *body, unsigned len,
                        const uint8_t *wmask);

/* A window of config space served by device code: guest accesses that
 * touch [offset, offset + size) go to access (any width and alignment; an
 * access across a window edge is split there, the callback sees only its
 * part), with offset the absolute config-space offset. The window must lie
 * in 0x40..0xfff, clear of the header, the capabilities and other windows
 * (-EBUSY otherwise; -EINVAL for an empty window or one past 4 KiB,
 * -ENOSPC past VDEV_MAX_CONFIG_WINDOWS). Capabilities added later with
 * offset 0 are placed around windows; at a fixed offset over one they get
 * -EBUSY. While migration holds the device stopped, window accesses get
 * -EBUSY like BAR register callbacks. The runtime keeps no bytes for a
 * window: its state is the device's (and migrates with it). */
#define VDEV_MAX_CONFIG_WINDOWS 64u
int vdev_config_add(struct vdev_dev *dev, uint16_t offset, uint16_t size,
                    vdev_region_access_fn *access, void *opaque);

/* Direct config-space access for device code (no side effects). */
int vdev_config_read(struct vdev_dev *dev, unsigned offset, void *buf,
                     unsigned len);
int vdev_config_write(struct vdev_dev *dev, unsigned offset, const void *buf,
                      unsigned len);

typedef void vdev_config_hook_fn(struct vdev_dev *dev, void *opaque,
                                 unsigned offset, unsigned len);
/* Called after a client write to config space has been applied. */
void vdev_set_config_hook(struct vdev_dev *dev, vdev_config_hook_fn *fn,
                          void *opaque);

/* ---------------------------------------------------------------- IRQs */

/* INTx line level (level-triggered). Masked by Interrupt Disable and by the
 * client's INTx mask; the Interrupt Status bit follows the level. */
int vdev_irq_intx_set(struct vdev_dev *dev, bool level);
/* Message interrupts. A masked vector becomes pending and is delivered on
 * unmask. Return 0, or -errno (-EINVAL: bad vector; -ENOTCONN: the mode is
 * not enabled by the guest). */
int vdev_irq_msi_send(struct vdev_dev *dev, unsigned vector);
int vdev_irq_msix_send(struct vdev_dev *dev, unsigned vector);
/* Level semantics over whichever mode the guest enabled: MSI-X or MSI send
 * `vector` on a rising edge; otherwise INTx follows the level (the line is
 * the OR of all vectors' levels). */
int vdev_irq_set_level(struct vdev_dev *dev, unsigned vector, bool level);
/* Edge: send `vector` in MSI-X/MSI mode, or pulse INTx. */
int vdev_irq_send(struct vdev_dev *dev, unsigned vector);

/* ---------------------------------------------------------------- DMA */

#define VDEV_DMA_READ 1u
#define VDEV_DMA_WRITE 2u

struct vdev_sg {
    uint64_t iova;
    uint64_t len;
    void *vaddr;   /* host pointer when the map has an fd, else NULL */
    uint32_t prot; /* VDEV_DMA_READ | VDEV_DMA_WRITE as requested */
    uint32_t map_id;
};

/* Translates [iova, iova+len) to at most max_sg entries. Returns the number
 * of entries, or -ENOENT (not mapped), -EACCES (protection), -ENOSPC (more
 * entries needed than max_sg). */
int vdev_dma_to_sg(struct vdev_dev *dev, uint64_t iova, uint64_t len,
                   uint32_t prot, struct vdev_sg *sg, unsigned max_sg);
/* Copies guest memory through mapped fds where possible, falling back to
 * VFIO_USER_DMA_READ/WRITE messages. Writes are marked dirty. */
int vdev_dma_read(struct vdev_dev *dev, uint64_t iova, void *buf, size_t len);
int vdev_dma_write(struct vdev_dev *dev, uint64_t iova, const void *buf,
                   size_t len);
/* For writes through vdev_sg.vaddr: marks the pages dirty. */
int vdev_dma_mark_dirty(struct vdev_dev *dev, uint64_t iova, uint64_t len);

/* ---------------------------------------------------------- time */

/* Device time: nanoseconds the device has been running. It starts at 0
 * when the device is created, stands still while migration holds the
 * device stopped, travels with its state (migration, save/load, upgrade)
 * and is not reset by a device reset. Inside a timer callback it is that
 * timer's deadline exactly in virtual mode, and at least the deadline in
 * real mode. */
uint64_t vdev_now(struct vdev_dev *dev);

/* The host time source the device clock follows. REAL: CLOCK_MONOTONIC.
 * VIRTUAL: a clock that moves only by vdev_clock_advance() (management
 * command "clock advance NS"), for tests that must not sleep. Switching
 * keeps device time and every timer's remaining time. */
enum vdev_clock_kind {
    VDEV_CLOCK_REAL = 0,
    VDEV_CLOCK_VIRTUAL = 1,
};
int vdev_set_clock(struct vdev_dev *dev, enum vdev_clock_kind kind);
enum vdev_clock_kind vdev_clock_kind(const struct vdev_dev *dev);
/* Virtual clock only (-EPERM otherwise): moves it forward by ns; timers
 * that fall due fire in deadline order (ties: creation order), each with
 * vdev_now() equal to its deadline, as if the time had passed. While the
 * device is stopped for migration its time does not move. Returns the
 * number of expiries, or -errno (-EOVERFLOW: device time would wrap). */
int64_t vdev_clock_advance(struct vdev_dev *dev, uint64_t ns);
/* Marks the device clock as part of the device state when device code
 * reads vdev_now() but has no timer (vdev_timer_new implies it): the
 * state stream then carries device time. */
void vdev_clock_use(struct vdev_dev *dev);

/* Timers. A timer belongs to its device (freed with it, or with
 * talloc_free); the serving loop runs it (one timerfd holds the earliest
 * deadline). fn runs on the loop like a register callback: it may raise
 * interrupts, do DMA, start and stop timers (its own too), push stream
 * bytes, emit events and request a reset. A device reset stops every
 * timer; armed timers travel with the device state, remaining time and
 * period, matched by name. */
struct vdev_timer;
typedef void vdev_timer_fn(struct vdev_dev *dev, void *opaque);
#define VDEV_MAX_TIMERS 256u
/* Periods below this run at it (a guest may program a period of 0). */
#define VDEV_TIMER_MIN_PERIOD_NS 1000u
/* name: 1..64 printable bytes, no space, ':' or '=', unique per device.
 * NULL with errno EINVAL (bad name, no fn), EEXIST, ENOSPC, ENOMEM. */
struct vdev_timer *vdev_timer_new(struct vdev_dev *dev, const char *name,
                                  vdev_timer_fn *fn, void *opaque);
/* Arms the timer delay_ns from now, then (period_ns > 0) every period_ns
 * after that deadline (no drift: the next deadline is the last one plus
 * the period). A running timer is re-armed. delay 0 fires on the loop's
 * next turn, never inside this call. Returns 0, -EINVAL (NULL) or
 * -EOVERFLOW (the deadline would pass 2^64 ns). */
int vdev_timer_start(struct vdev_timer *t, uint64_t delay_ns,
                     uint64_t period_ns);
void vdev_timer_stop(struct vdev_timer *t);
bool vdev_timer_running(const struct vdev_timer *t);
/* Nanoseconds to the next expiry (0 when stopped or due). */
uint64_t vdev_timer_remaining(const struct vdev_timer *t);
const char *vdev_timer_name(const struct vdev_timer *t);

/* ---------------------------------------------------------- host streams */

/* A byte stream between the device and the host (a console, a serial
 * line): the device keeps a receive and a transmit FIFO of its own, the
 * runtime moves bytes between them and a host endpoint on the serving loop
 * without ever blocking it. Every callback runs on the loop. */
struct vdev_stream_ops {
    /* Bytes the receive FIFO can take now. 0 holds the host back (its
     * bytes wait in the kernel, and then in the host: back-pressure). */
    size_t (*rx_space)(struct vdev_dev *dev, void *opaque);
    /* Host bytes, at most what rx_space() said; the device queues them
     * (and runs its "on receive" logic). */
    void (*rx)(struct vdev_dev *dev, void *opaque, const uint8_t *buf,
               size_t len);
    /* Copies up to max of the oldest transmit bytes to buf without taking
     * them; returns how many (0: nothing to send). */
    size_t (*tx_peek)(struct vdev_dev *dev, void *opaque, uint8_t *buf,
                      size_t max);
    /* The host took the first n bytes tx_peek returned: drop them. */
    void (*tx_consume)(struct vdev_dev *dev, void *opaque, size_t n);
    /* The transmit FIFO became empty because the runtime drained it (not
     * called for a FIFO that was empty already). May be NULL. */
    void (*tx_empty)(struct vdev_dev *dev, void *opaque);
};
#define VDEV_MAX_STREAMS 16u
/* Adds a stream (name as for timers, unique); returns its id (0, 1, ...
 * in order) or -errno (-EINVAL, -EEXIST, -ENOSPC, -ENOMEM). All five ops
 * but tx_empty are required. Unbound, the stream's transmit bytes are
 * drained and dropped and nothing is received. */
int vdev_stream_add(struct vdev_dev *dev, const char *name,
                    const struct vdev_stream_ops *ops, void *opaque);
/* After the device queued transmit bytes or freed receive space: the
 * runtime serves the stream on the loop's next turn (never inside this
 * call, so it is safe from any callback). */
void vdev_stream_kick(struct vdev_dev *dev, unsigned id);
/* Binds a stream to a host endpoint (what --stream NAME=SPEC does):
 *   unix:PATH  a listening UNIX socket (mode 0600, a stale one replaced)
 *              serving one host client at a time (others wait in the
 *              backlog until it goes)
 *   pty        a new pseudo-terminal in raw mode; its /dev/pts path is in
 *              vdev_stream_where(). The runtime holds the terminal open, so
 *              bytes wait in it while nobody has it open.
 *   file:PATH  transmit bytes appended to PATH (created mode 0600); no
 *              input
 *   stdio      input from stdin, output to stdout
 * While a unix stream has no client, transmit bytes are dropped (a serial
 * line with nothing plugged in); with a client that does not read, they
 * wait: the device sees its transmit FIFO full. Returns 0 or -errno
 * (-ENXIO: no such stream, -EBUSY: bound already, -EINVAL: bad spec,
 * or the socket's / file's error, such as -ENOENT). */
int vdev_stream_bind(struct vdev_dev *dev, const char *name, const char *spec);
/* Where a stream is bound ("unix:PATH", "pty:/dev/pts/N", "file:PATH",
 * "stdio"), or NULL (no such stream, or unbound). */
const char *vdev_stream_where(struct vdev_dev *dev, const char *name);
/* Whether a host client is there (unix: connected; the other kinds: bound). */
bool vdev_stream_connected(struct vdev_dev *dev, unsigned id);

/* ---------------------------------------------------------- events */

/* Publishes a device event (name as for timers) to the management
 * socket's subscribers ("events" command, vdevctl MGMT events): a line
 * "event NAME TIME_NS" with vdev_now(). Also logged at info level.
 * Without subscribers it goes nowhere. */
void vdev_event_emit(struct vdev_dev *dev, const char *name);

/* ---------------------------------------------------------------- serving */

/* Listen on a UNIX socket path (mode 0600; a stale socket file is replaced,
 * a live one refused with -EADDRINUSE) or on an inherited listening fd. */
int vdev_listen(struct vdev_dev *dev, const char *path);
int vdev_listen_fd(struct vdev_dev *dev, int fd);

/* For the caller's own poll loop: an fd that is readable when
 * vdev_dispatch() has work. */
int vdev_fd(const struct vdev_dev *dev);
/* Does whatever is ready without blocking: accepts, reads and serves
 * messages, fires due timers, moves stream bytes, serves the management
 * socket. Returns 0 or -errno for fatal errors (a client's errors are
 * answered and the client dropped, not returned). */
int vdev_dispatch(struct vdev_dev *dev);
/* Blocking loop until vdev_stop(); returns 0 or -errno. */
int vdev_run(struct vdev_dev *dev);
/* Async-signal-safe: makes vdev_run() return. */
void vdev_stop(struct vdev_dev *dev);
bool vdev_connected(const struct vdev_dev *dev);

/* How the server lays out its DMA_READ/DMA_WRITE requests (message-based
 * DMA, for maps without an fd): the spec's (64-bit count, data at offset
 * 16), QEMU 10.1/10.2's (32-bit count, data at 12), or AUTO, the default:
 * found out per client, by a zero-length DMA_WRITE before its first
 * message-based access (QEMU answers it without a payload, a client of
 * the spec's layout with the address and count). */
enum vdev_dma_layout {
    VDEV_DMA_LAYOUT_AUTO = 0,
    VDEV_DMA_LAYOUT_SPEC = 1,
    VDEV_DMA_LAYOUT_QEMU = 2,
};
int vdev_set_dma_layout(struct vdev_dev *dev, enum vdev_dma_layout layout);
/* vdev_set_dma_layout with QEMU's layout (on) or the spec's (off). */
void vdev_set_qemu_dma_layout(struct vdev_dev *dev, bool on);
/* After its replies the loop keeps probing for the client's next request
 * for up to `us` microseconds before sleeping, so a guest driving the
 * device in a loop does not wait for the server's wake-up. Adaptive: it
 * probes unless that measurably slows the client's request cycle, and not
 * while the client is idle. 0 turns probing off; default 200, at most
 * 10000. 0 or -EINVAL. */
int vdev_set_poll_us(struct vdev_dev *dev, unsigned us);
/* Whether VERSION accepts a client's write_multiple offer (default: no).
 * QEMU 10.1 and 10.2 offer it and, once it is accepted, queue every
 * message for their I/O thread (their flag for it, 0x16, includes the one
 * that forces queued sends, 0x4), one more thread hop on every register
 * access; QEMU only batches posted writes into WRITE_MULTI when over a
 * thousand are queued anyway. A client that offered it may send
 * WRITE_MULTI either way. */
void vdev_set_write_multiple(struct vdev_dev *dev, bool on);

struct vdev_stats {
    uint64_t messages;
    uint64_t errors;
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t connections;
    uint64_t irqs_sent;
    /* Interrupt and mask signals the client's eventfd could not take: its
     * counter was full (the edge coalesced with one it has not read) or
     * the signal failed. The server never waits for a client's fd. */
    uint64_t irqs_dropped;
};
void vdev_get_stats(const struct vdev_dev *dev, struct vdev_stats *out);

/* ---------------------------------------------------------- migration */

/* A device's migratable state is one block of memory (generated code keeps
 * registers and declared state in a struct) described by a field table.
 * The runtime writes a self-describing, versioned stream of it (plus its
 * own config-space and interrupt state) and loads such streams back. */
struct vdev_mig_field {
    const char *name; /* qualified name, e.g. "ctrl" or "state.dma_src" */
    uint32_t id;      /* FNV-1a 32 of name: stable across revisions */
    uint32_t since;   /* state version that introduced the field */
    uint32_t offset;  /* in the state block */
    uint32_t size;    /* bytes */
};

struct vdev_mig_desc {
    const char *device; /* written in the stream header, checked on load */
    uint32_t version;   /* state version of this build */
    const struct vdev_mig_field *fields;
    unsigned nr_fields;
    void *state; /* the live state block */
    size_t state_size;
    /* Called with a candidate block after a load filled it (fields missing
     * from an older stream hold their reset values); returns 0 or -EINVAL
     * (e.g. an enum value out of range). The live block is only replaced
     * when this passes. NULL: no checks. */
    int (*validate)(struct vdev_dev *dev, const void *candidate);
    /* Fills a block with reset values (used for fields an older stream
     * lacks). */
    void (*reset_values)(struct vdev_dev *dev, void *block);
    /* After the live block was replaced: re-derive IRQ lines etc. */
    void (*post_load)(struct vdev_dev *dev);
};

int vdev_set_migration(struct vdev_dev *dev, const struct vdev_mig_desc *desc);

/* ---------------------------------------------------------- named values */

/* Registers, fields and state exposed by name to the management channel
 * (vdevctl get/set). external: may be set from outside (input pins, a
 * doorbell peer); others are read-only there. set gets values that fit
 * in `bits`. */
struct vdev_var {
    const char *name;
    unsigned bits; /* 1..64 */
    bool external;
    uint64_t (*get)(struct vdev_dev *dev);
    int (*set)(struct vdev_dev *dev, uint64_t value); /* NULL if !external */
    const char *doc; /* one line for people (vdevctl list), or NULL */
    /* A plain value in a state block (vdev_register_state_vars(), get
     * NULL): bits [shift, shift + bits) of the `size`-byte (1, 2, 4, 8)
     * integer at byte `at`. */
    uint32_t at;
    uint8_t size, shift;
};

int vdev_register_vars(struct vdev_dev *dev, const struct vdev_var *vars,
                       unsigned nr_vars);
/* The same for values read from state (which must outlive dev) where a
 * var has no get function. */
int vdev_register_state_vars(struct vdev_dev *dev, const void *state,
                             const struct vdev_var *vars, unsigned nr_vars);

/* Management channel: a second UNIX socket (mode 0600) with a line-based
 * text protocol (help, info, list, values, get NAME, doc NAME, set NAME
 * VALUE, stats, save FILE, load FILE; one reply line each, "ok ..." or "error:
 * ..."; see runtime/base/mgmt_proto.h). Served by vdev_run() and
 * vdev_dispatch() through vdev_fd(). The socket file is removed when the device
 * is freed. Returns 0 or -errno (-EADDRINUSE: a live server). */
int vdev_mgmt_listen(struct vdev_dev *dev, const char *path);
/* The same on an inherited listening UNIX socket (socket activation); the
 * fd becomes the device's, its socket file is left alone. */
int vdev_mgmt_listen_fd(struct vdev_dev *dev, int fd);

/* ---------------------------------------------------------- upgrade */

/* Seamless upgrade (management command "upgrade PATH"): between messages,
 * starts `binary --handover-fd=N` and hands it the listening sockets, the
 * client with its unserved bytes, DMA maps, IRQ eventfds and the device
 * state (the device needs migration). Once the new process acknowledges,
 * this device lets go of everything without closing anything the client
 * sees or removing socket files, and vdev_run() returns; *pid gets the
 * successor. On error (-ENOTSUP: no migration; -EBUSY: a migration is in
 * progress; the binary missing, failing or refusing) nothing changed and
 * the device keeps serving. */
int vdev_upgrade(struct vdev_dev *dev, const char *binary, pid_t *pid);
/* The successor's side, on a device fresh from its create function: takes
 * everything from the hand-over socket fd (closed), validated as untrusted
 * input, and acknowledges. Returns 0 (serve with vdev_run()) or -errno
 * (the predecessor was told and keeps serving). */
int vdev_handover_receive(struct vdev_dev *dev, int fd);

/* ---------------------------------------------------------- standalone */

struct vdev_server_info {
    const char *name;        /* program name, e.g. "vdev-edu" */
    const char *description; /* one line for --help */
};

typedef struct vdev_dev *vdev_create_fn(void *mem_ctx);

/* A whole server program after QEMU's vhost-user backend conventions:
 * --socket-path=PATH | --fd=N, --help, --version, -v/--log-level, stays in
 * the foreground, exits cleanly on SIGTERM/SIGINT. Returns the exit status. */
int vdev_server_main(int argc, char **argv, const struct vdev_server_info *info,
                     vdev_create_fn *create);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif /* VDEV_H */
