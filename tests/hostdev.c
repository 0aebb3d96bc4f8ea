/* hostdev (see hostdev.h): written against the public API only, as
 * generated code is. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <talloc.h>

#include "hostdev.h"

/* ------------------------------------------------------------ FIFOs */

static bool
fifo_push(struct hd_fifo *f, uint8_t b)
{
    if (f->count == HOSTDEV_FIFO)
        return false;
    f->buf[(f->head + f->count++) % HOSTDEV_FIFO] = b;
    return true;
}

static uint8_t
fifo_pop(struct hd_fifo *f)
{
    uint8_t b;

    if (!f->count)
        return 0;
    b = f->buf[f->head];
    f->head = (f->head + 1) % HOSTDEV_FIFO;
    f->count--;
    return b;
}

/* ------------------------------------------------------------ stream */

static size_t
rx_space(struct vdev_dev *dev, void *opaque)
{
    struct hostdev *h = opaque;

    /* Echoing, what arrives goes to the transmit FIFO. */
    if (h->st.echo)
        return HOSTDEV_FIFO - h->st.tx.count;
    return HOSTDEV_FIFO - h->st.rx.count;
}

/* "on receive": with echo on, what arrives goes straight back out. */
static void
rx(struct vdev_dev *dev, void *opaque, const uint8_t *buf, size_t len)
{
    struct hostdev *h = opaque;
    bool pushed = false;

    for (size_t i = 0; i < len; i++) {
        if (h->st.echo)
            pushed |= fifo_push(&h->st.tx, buf[i]);
        else
            fifo_push(&h->st.rx, buf[i]);
    }
    if (pushed || h->st.echo)
        vdev_stream_kick(dev, (unsigned)h->stream); /* tx, and rx space */
}

static size_t
tx_peek(struct vdev_dev *dev, void *opaque, uint8_t *buf, size_t max)
{
    struct hostdev *h = opaque;
    size_t n = h->st.tx.count < max ? h->st.tx.count : max;

    for (size_t i = 0; i < n; i++)
        buf[i] = h->st.tx.buf[(h->st.tx.head + i) % HOSTDEV_FIFO];
    return n;
}

static void
tx_consume(struct vdev_dev *dev, void *opaque, size_t n)
{
    struct hostdev *h = opaque;

    while (n--)
        fifo_pop(&h->st.tx);
}

static void
tx_empty(struct vdev_dev *dev, void *opaque)
{
    ((struct hostdev *)opaque)->st.txempty++;
}

static const struct vdev_stream_ops serial_ops = {
    .rx_space = rx_space,
    .rx = rx,
    .tx_peek = tx_peek,
    .tx_consume = tx_consume,
    .tx_empty = tx_empty,
};

/* ------------------------------------------------------------ timers */

static void
tick_fired(struct vdev_dev *dev, void *opaque)
{
    struct hostdev *h = opaque;

    h->st.ticks++;
    h->st.tick_at = (uint32_t)vdev_now(dev);
    if (h->st.tick_event)
        vdev_event_emit(dev, "tick");
}

/* A watchdog: the host hears of it, and the device resets itself. */
static void
wdog_fired(struct vdev_dev *dev, void *opaque)
{
    vdev_event_emit(dev, "watchdog-expired");
    vdev_request_reset(dev);
}

/* ------------------------------------------------------------ BAR0 */

static uint32_t
status(const struct hostdev *h)
{
    return (h->st.rx.count ? HD_ST_RX : 0) |
           (h->st.tx.count == HOSTDEV_FIFO ? HD_ST_TXFULL : 0) |
           (h->st.tx.count ? 0 : HD_ST_TXEMPTY) | h->st.rx.count << 8 |
           h->st.tx.count << 16;
}

static uint32_t
reg_read(struct hostdev *h, unsigned reg)
{
    struct vdev_dev *dev = h->dev;
    uint8_t b;

    switch (reg) {
    case HD_ID:
        return HOSTDEV_ID;
    case HD_DATA:
        b = fifo_pop(&h->st.rx);
        vdev_stream_kick(dev, (unsigned)h->stream); /* room for more */
        return b;
    case HD_STATUS:
        return status(h);
    case HD_TICKS:
        return h->st.ticks;
    case HD_NOW_LO:
        return (uint32_t)vdev_now(dev);
    case HD_NOW_HI:
        return (uint32_t)(vdev_now(dev) >> 32);
    case HD_STICKY:
        return h->st.sticky;
    case HD_SCRATCH:
        return h->st.scratch;
    case HD_RESETS:
        return h->st.resets;
    case HD_TICK_AT:
        return h->st.tick_at;
    case HD_TXEMPTY:
        return h->st.txempty;
    case HD_ECHO:
        return h->st.echo;
    case HD_SEEN_RESET:
        return h->st.seen_reset;
    case HD_DMA:
        return h->st.dma_word;
    default:
        return 0;
    }
}

static void
reg_write(struct hostdev *h, unsigned reg, uint32_t v)
{
    struct vdev_dev *dev = h->dev;
    uint64_t us = v & ~(HD_PERIODIC | HD_TICK_EVENT);

    switch (reg) {
    case HD_DATA:
        fifo_push(&h->st.tx, (uint8_t)v);
        vdev_stream_kick(dev, (unsigned)h->stream);
        break;
    case HD_TICK:
        h->st.tick_event = !!(v & HD_TICK_EVENT);
        if (!v)
            vdev_timer_stop(h->tick);
        else
            vdev_timer_start(h->tick, us * 1000,
                             v & HD_PERIODIC ? us * 1000 : 0);
        break;
    case HD_RESET:
        if (v & 1) {
            uint32_t before = h->st.resets;
            vdev_request_reset(dev);
            /* Deferred: nothing has been reset yet. */
            h->st.seen_reset = h->st.resets - before;
        }
        break;
    case HD_EVENT:
        vdev_event_emit(dev, "poke");
        break;
    case HD_STICKY:
        h->st.sticky = v;
        break;
    case HD_SCRATCH:
        h->st.scratch = v;
        break;
    case HD_WDOG:
        if (v)
            vdev_timer_start(h->wdog, (uint64_t)v * 1000, 0);
        else
            vdev_timer_stop(h->wdog);
        break;
    case HD_ECHO:
        h->st.echo = v & 1;
        break;
    case HD_DMA:
        if (vdev_dma_read(dev, v, &h->st.dma_word, 4) < 0)
            h->st.dma_word = 0xffffffffu;
        break;
    default:
        break;
    }
}

static int
bar0_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
            uint32_t count, bool is_write)
{
    struct hostdev *h = opaque;
    uint32_t v = 0;

    if (count != 4 || offset % 4)
        return -EINVAL;
    if (is_write) {
        memcpy(&v, buf, 4);
        reg_write(h, (unsigned)offset, v);
    } else {
        v = reg_read(h, (unsigned)offset);
        memcpy(buf, &v, 4);
    }
    return 0;
}

/* ------------------------------------------------------------ config */

/* Byte-wise over 0x60..0x67, so any width works; HD_CFG_WIDTH reads back
 * the size of the previous access (the width a hook would see). */
static int
cfg_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
           uint32_t count, bool is_write)
{
    struct hostdev *h = opaque;
    uint8_t *b = buf;
    uint32_t cmd = 0;

    for (uint32_t i = 0; i < count; i++) {
        unsigned o = (unsigned)offset + i, sh = 8 * (o % 4);

        if (o < HD_CFG_WIDTH && is_write)
            h->st.cfg_reg = (h->st.cfg_reg & ~(0xffu << sh)) | (uint32_t)b[i]
                                                                   << sh;
        else if (o < HD_CFG_WIDTH)
            b[i] = (uint8_t)(h->st.cfg_reg >> sh);
        else if (is_write)
            cmd |= (uint32_t)b[i] << sh;
        else
            b[i] = (uint8_t)(h->st.cfg_width >> sh);
    }
    if (cmd == 0xdead)
        vdev_request_reset(dev);
    h->st.cfg_width = count;
    return 0;
}

static int
cfg2_access(struct vdev_dev *dev, void *opaque, uint64_t offset, void *buf,
            uint32_t count, bool is_write)
{
    struct hostdev *h = opaque;
    uint8_t *b = buf;

    for (uint32_t i = 0; i < count; i++) {
        unsigned sh = 8 * (unsigned)(offset + i - HD_CFG_REG2);
        if (is_write)
            h->st.cfg_reg2 = (uint16_t)((h->st.cfg_reg2 & ~(0xffu << sh)) |
                                        (uint32_t)b[i] << sh);
        else
            b[i] = (uint8_t)(h->st.cfg_reg2 >> sh);
    }
    return 0;
}

/* ------------------------------------------------------------ reset */

/* "on reset": non-sticky state back to reset values, sticky kept. */
static void
hostdev_reset(struct vdev_dev *dev, void *opaque)
{
    struct hostdev *h = opaque;
    uint32_t sticky = h->st.sticky, resets = h->st.resets;

    memset(&h->st, 0, sizeof(h->st));
    h->st.sticky = sticky;
    h->st.resets = resets + 1;
}

static void
reset_values(struct vdev_dev *dev, void *block)
{
    memset(block, 0, sizeof(struct hostdev_state));
}

static int
validate(struct vdev_dev *dev, const void *candidate)
{
    const struct hostdev_state *s = candidate;

    if (s->rx.count > HOSTDEV_FIFO || s->tx.count > HOSTDEV_FIFO ||
        s->rx.head >= HOSTDEV_FIFO || s->tx.head >= HOSTDEV_FIFO || s->echo > 1)
        return -EINVAL;
    return 0;
}

/* After a load the stream may have bytes to send or room to receive. */
static void
post_load(struct vdev_dev *dev)
{
    struct hostdev *h = vdev_private(dev);

    vdev_stream_kick(dev, (unsigned)h->stream);
}

#define F(n, m)                                                                \
    {                                                                          \
        .name = n, .since = 1, .offset = offsetof(struct hostdev_state, m),    \
        .size = sizeof(((struct hostdev_state *)0)->m)                         \
    }

static struct vdev_mig_field fields[] = {
    F("sticky", sticky),
    F("scratch", scratch),
    F("resets", resets),
    F("ticks", ticks),
    F("tick_at", tick_at),
    F("txempty", txempty),
    F("echo", echo),
    F("cfg_reg", cfg_reg),
    F("cfg_width", cfg_width),
    F("seen_reset", seen_reset),
    F("tick_event", tick_event),
    F("dma_word", dma_word),
    F("cfg_reg2", cfg_reg2),
    F("rx", rx),
    F("tx", tx),
};

static uint32_t
fnv1a(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

/* ------------------------------------------------------------ values */

static uint64_t
ticks_get(struct vdev_dev *dev)
{
    return hostdev_of(dev)->st.ticks;
}

static uint64_t
resets_get(struct vdev_dev *dev)
{
    return hostdev_of(dev)->st.resets;
}

static uint64_t
sticky_get(struct vdev_dev *dev)
{
    return hostdev_of(dev)->st.sticky;
}

/* Setting 0xdead asks for a reset from the management channel. */
static int
sticky_set(struct vdev_dev *dev, uint64_t v)
{
    hostdev_of(dev)->st.sticky = (uint32_t)v;
    if (v == 0xdead)
        vdev_request_reset(dev);
    return 0;
}

static const struct vdev_var vars[] = {
    {.name = "ticks", .bits = 32, .get = ticks_get, .doc = "tick expiries"},
    {.name = "resets", .bits = 32, .get = resets_get, .doc = "resets seen"},
    {.name = "sticky",
     .bits = 32,
     .external = true,
     .get = sticky_get,
     .set = sticky_set,
     .doc = "survives resets"},
};

/* ------------------------------------------------------------ create */

struct hostdev *
hostdev_of(struct vdev_dev *dev)
{
    return vdev_private(dev);
}

static int
setup(struct vdev_dev *dev, struct hostdev *h)
{
    const struct vdev_bar_desc bar0 = {
        .kind = VDEV_BAR_MEM32,
        .size = 4096,
        .access = bar0_access,
        .opaque = h,
    };
    struct vdev_mig_desc mig = {
        .device = "hostdev",
        .version = 1,
        .fields = fields,
        .nr_fields = sizeof(fields) / sizeof(fields[0]),
        .state = &h->st,
        .state_size = sizeof(h->st),
        .validate = validate,
        .reset_values = reset_values,
        .post_load = post_load,
    };
    int rc;

    for (unsigned i = 0; i < mig.nr_fields; i++)
        fields[i].id = fnv1a(fields[i].name);
    h->tick = vdev_timer_new(dev, "tick", tick_fired, h);
    h->wdog = vdev_timer_new(dev, "watchdog", wdog_fired, h);
    if (!h->tick || !h->wdog)
        return -errno;
    if ((h->stream = vdev_stream_add(dev, "serial", &serial_ops, h)) < 0)
        return h->stream;
    /* Windows first: the capabilities are placed around them. */
    if ((rc = vdev_config_add(dev, HD_CFG_REG, 8, cfg_access, h)) < 0 ||
        (rc = vdev_config_add(dev, HD_CFG_REG2, 2, cfg2_access, h)) < 0 ||
        (rc = vdev_bar_add(dev, 0, &bar0)) < 0 ||
        (rc = vdev_cap_msi(dev, 0, 1, true, false)) < 0 ||
        (rc = vdev_cap_pcie(dev, 0, VDEV_PCIE_ENDPOINT, 1, 1)) < 0 ||
        (rc = vdev_set_migration(dev, &mig)) < 0 ||
        (rc = vdev_register_vars(dev, vars, 3)) < 0)
        return rc;
    vdev_set_reset_cb(dev, hostdev_reset, h);
    h->inits++; /* "on init" */
    return 0;
}

struct vdev_dev *
hostdev_create(void *mem_ctx)
{
    static const struct vdev_pci_ident id = {
        .vendor_id = HOSTDEV_VENDOR,
        .device_id = HOSTDEV_DEVICE,
        .subsys_vendor_id = HOSTDEV_VENDOR,
        .subsys_id = 1,
        .class_code = 0x070002, /* serial, 16550-compatible */
        .intx_pin = 1,
    };
    struct vdev_dev *dev = vdev_dev_create(mem_ctx, "hostdev", &id);
    struct hostdev *h;

    if (!dev)
        return NULL;
    h = talloc_zero(dev, struct hostdev);
    if (!h) {
        talloc_free(dev);
        return NULL;
    }
    h->dev = dev;
    vdev_set_private(dev, h);
    if (setup(dev, h) < 0) {
        talloc_free(dev);
        return NULL;
    }
    return dev;
}
