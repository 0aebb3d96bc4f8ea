/* The device model's private contract (device/): regions, config space,
 * IRQs and the client's DMA maps, the device object that holds them, and
 * the entry points of device.c, region_io.c and pci_config.c. IRQs and
 * DMA have their own headers (irq.h, dma.h). Not installed. */
#ifndef VDEV_DEVICE_DEVICE_H
#define VDEV_DEVICE_DEVICE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <talloc.h>

#include "base/limits.h"
#include "base/log.h"
#include "vdev.h"
#include "vdev_proto.h"

#define VDEV_NR_BARS 6
#define VDEV_ROM_INDEX 6
#define VDEV_CONFIG_INDEX 7
#define VDEV_NR_PCI_REGIONS 9       /* BAR0-5, ROM, config, VGA */
#define VDEV_MAX_REGIONS 16         /* + device-specific regions */
#define VDEV_NR_IRQ_INDEXES 5       /* INTx, MSI, MSI-X, ERR, REQ */
#define VDEV_CONFIG_SIZE 4096       /* PCIe extended config space */
#define VDEV_CONFIG_LEGACY_SIZE 256 /* a conventional device's, to clients */

#define VDEV_LOG(dev, lvl, ...)                                                \
    do {                                                                       \
        if ((lvl) <= (dev)->log.max)                                           \
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
    struct vdev_cfg_window *windows;   /* device registers (pci_window.c) */
    unsigned nr_windows;
};

/* A window of config space the device serves itself (vdev_config_add):
 * sorted by offset, disjoint, clear of the header and the capabilities. */
struct vdev_cfg_window {
    uint16_t offset, size;
    vdev_region_access_fn *access;
    void *opaque;
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
    bool sealed;     /* fd cannot shrink: copies need no SIGBUS guard */
    uint64_t *dirty; /* bitmap, one bit per page, while logging */
};

/* Guest memory the client gave no fd for is read and written through the
 * client (DMA_READ/WRITE messages): the server's function for that
 * (vdev_s2c_dma), registered with the table. Returns 0 or -errno. */
typedef int vdev_dma_msg_fn(void *peer, uint64_t iova, void *buf, uint64_t len,
                            bool is_write);

/* A client's DMA maps (the connection holds the table, the device points
 * at it while the client is connected; dma.h). */
struct vdev_dma {
    struct vdev_dma_map **maps; /* sorted by iova, non-overlapping */
    uint64_t *iovas;            /* maps[i]->iova: searched in cache */
    unsigned nr_maps;
    unsigned cap_maps;
    uint32_t next_id;
    bool logging;
    uint64_t log_pgsize;
    void *mem_ctx; /* talloc parent of the maps */
    vdev_dma_msg_fn *msg;
    void *peer;
};

/* ------------------------------------------------------------ time */

/* The device clock (timer.c): device time runs only while the device runs
 * (dev->running) and is anchored to a host time source, CLOCK_MONOTONIC
 * or the virtual clock that only moves on request. */
struct vdev_clock {
    bool is_virtual;
    bool ticking;       /* follows dev->running (vdev_dev_set_running) */
    uint64_t virt_host; /* the virtual host clock, ns */
    uint64_t dev_base;  /* device time at host_base (frozen: the time) */
    uint64_t host_base;
    bool used; /* the clock travels in the state stream (timers, now) */
    struct vdev_timer **timers; /* registration order, VDEV_MAX_TIMERS */
    unsigned nr_timers;
};

/* One byte stream to the host (stream.c): the device's side. The server
 * (server/stream_io.c) binds it to a host endpoint and moves the bytes. */
struct vdev_stream {
    struct vdev_dev *dev;
    unsigned id;
    char *name;
    struct vdev_stream_ops ops;
    void *opaque;
    bool kicked;   /* the device asked for service */
    void *binding; /* server/stream_io.c's endpoint, NULL: unbound */
};

/* ------------------------------------------------------------ device */

/* Parts of a device that higher layers add: opaque here. */
struct vdev_migration; /* migration/, NULL when the device has none */
struct vdev_server;    /* server/, set by vdev_dev_create */

struct vdev_dev {
    char *name;
    struct vdev_pci_ident ident;
    void *priv;

    struct vdev_log_sink log;

    vdev_reset_fn *reset_fn;
    void *reset_opaque;

    struct vdev_region regions[VDEV_MAX_REGIONS];
    unsigned nr_regions; /* highest index + 1, >= VDEV_NR_PCI_REGIONS */
    struct vdev_config cfg;
    struct vdev_irqs irqs;

    /* false while migration holds the device stopped (STOP, STOP_COPY,
     * RESUMING, ERROR; set by migration.c): register callbacks are
     * refused, IRQs stay pending until it runs again, DMA fails with
     * -EBUSY. */
    bool running;
    struct vdev_dma *dma; /* the client's DMA maps, NULL without one */

    struct vdev_stats stats;
    struct vdev_migration *mig; /* NULL when the device has no migration */
    struct vdev_server *srv;    /* what serves it (vdev_dev_create) */

    /* Issue 11: time, host streams, events, deferred work. */
    struct vdev_clock clock;
    struct vdev_stream **streams; /* VDEV_MAX_STREAMS */
    unsigned nr_streams;
    bool reset_pending; /* vdev_request_reset: at the end of the callback */
    bool in_reset;
    /* Registered by the serving loop: device code wants the loop back
     * (a timer deadline moved, a stream was kicked, a reset requested). */
    void (*loop_wake)(struct vdev_dev *dev);
    /* Registered by the management channel (host/mgmt.c): publishes a
     * device event to subscribers. */
    void (*event_sink)(struct vdev_dev *dev, const char *name, uint64_t now);
};

/* ------------------------------------------------------------ modules */

/* device.c: the device model's part of vdev_dev_create (server/create.c)
 * and of its teardown. */
int vdev_device_init(struct vdev_dev *dev, const char *name,
                     const struct vdev_pci_ident *ident);
void vdev_device_release(struct vdev_dev *dev);
void vdev_region_init(struct vdev_region *r);

/* region_io.c: one region access, shared by READ/WRITE/WRITE_MULTI:
 * bounds, then config space, MSI-X, callback or memory. */
int vdev_region_access(struct vdev_dev *dev, uint32_t index, uint64_t offset,
                       void *buf, uint32_t count, bool is_write);
int vdev_region_access_other(struct vdev_dev *dev, uint32_t index,
                             uint64_t offset, void *buf, uint32_t count,
                             bool is_write);

/* timer.c: the device clock and timers. Sets dev->running (the one way
 * to change it: the clock stops and starts with the device). */
void vdev_dev_set_running(struct vdev_dev *dev, bool running);
/* Host time of the clock source (virtual or CLOCK_MONOTONIC), ns. */
uint64_t vdev_clock_host_now(const struct vdev_dev *dev);
/* Fires due timers (deadline order), at most budget; returns how many. */
unsigned vdev_timers_run(struct vdev_dev *dev, unsigned budget);
/* The earliest armed deadline as a host time (CLOCK_MONOTONIC ns in real
 * mode): false when no timer can expire (none armed, device stopped). */
bool vdev_timers_next(const struct vdev_dev *dev, uint64_t *host_ns);
void vdev_timers_reset(struct vdev_dev *dev);
/* Sets device time (a load) and asks the loop to re-arm. */
void vdev_clock_set_now(struct vdev_dev *dev, uint64_t now);
/* Virtual clock: advances it by at most ns, firing due timers in order,
 * at most budget of them; *left gets what was not advanced. */
int vdev_clock_advance_budget(struct vdev_dev *dev, uint64_t ns,
                              unsigned budget, uint64_t *left);
/* A timer's state for the state stream (migration/mig_clock.c), and its
 * restore relative to the present device time. */
void vdev_timer_get_state(const struct vdev_timer *t, bool *armed,
                          uint64_t *remaining, uint64_t *period);
void vdev_timer_set_state(struct vdev_timer *t, bool armed, uint64_t remaining,
                          uint64_t period);
/* Calls dev->loop_wake when the loop is there. */
void vdev_dev_wake(struct vdev_dev *dev);

/* device.c: runs a reset vdev_request_reset() asked for; every place that
 * calls device code (accesses, timers, streams, management) calls this
 * once the callback returned. */
void vdev_dev_settle(struct vdev_dev *dev);

/* The same for an access its caller has bounded already: region index is
 * present and [offset, offset + count) a non-empty part of it. The common
 * case (a register callback of a running device) costs the direction's
 * flag, the tests for a detour, one call and the test for a reset the
 * device requested. */
static inline int
vdev_region_access_in(struct vdev_dev *dev, uint32_t index, uint64_t offset,
                      void *buf, uint32_t count, bool is_write)
{
    struct vdev_region *r = &dev->regions[index];
    uint32_t need =
        is_write ? VFIO_REGION_INFO_FLAG_WRITE : VFIO_REGION_INFO_FLAG_READ;
    int rc;

    if (!(r->flags & need))
        return -EINVAL;
    /* Only a BAR holding the MSI-X table or PBA, or a device migration
     * has stopped, needs the detour. */
    if (index == VDEV_CONFIG_INDEX || !r->access || !dev->running ||
        (dev->cfg.msix_cap && (index == dev->irqs.msix.table_bar ||
                               index == dev->irqs.msix.pba_bar)))
        rc = vdev_region_access_other(dev, index, offset, buf, count, is_write);
    else
        rc = r->access(dev, r->opaque, offset, buf, count, is_write);
    /* A reset the device asked for runs once its access is done. */
    if (__builtin_expect(dev->reset_pending, 0))
        vdev_dev_settle(dev);
    return rc;
}

/* stream.c */
bool vdev_streams_kicked(const struct vdev_dev *dev);
/* Name rules shared by timers, streams and events: 1..VDEV_NAME_MAX
 * printable bytes without spaces, ':' or '='. */
#define VDEV_NAME_MAX 64u
bool vdev_name_ok(const char *name);

/* pci_window.c: config windows. */
/* The window overlapping [off, off+len), or NULL. */
const struct vdev_cfg_window *vdev_config_window_at(const struct vdev_dev *dev,
                                                    unsigned off, unsigned len);
/* An access that touches a window: split at window edges. */
int vdev_config_window_access(struct vdev_dev *dev, uint64_t offset, void *buf,
                              uint32_t count, bool is_write);

/* pci_config.c */
void vdev_config_init(struct vdev_dev *dev);
void vdev_config_reset(struct vdev_dev *dev);
int vdev_config_access(struct vdev_dev *dev, uint64_t offset, void *buf,
                       uint32_t count, bool is_write);
/* The same for a range that touches no window (checked by the caller). */
int vdev_config_access_plain(struct vdev_dev *dev, uint64_t offset, void *buf,
                             uint32_t count, bool is_write);
void vdev_config_bar_init(struct vdev_dev *dev, unsigned index);

#endif /* VDEV_DEVICE_DEVICE_H */
