/* Migration tests' device: a hand-written field table (what vdevc would
 * generate) with a validate hook, reset values and a post_load counter. */
#include <errno.h>
#include <string.h>

#include "mig_testdev.h"

uint32_t
mt_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s) {
        h ^= (uint8_t)*s++;
        h *= 16777619u;
    }
    return h;
}

#define F(n, member, since_)                                                   \
    {                                                                          \
        n, 0, since_, offsetof(struct mt_state, member),                       \
            sizeof(((struct mt_state *)0)->member)                             \
    }

static struct vdev_mig_field fields_v2[] = {
    F("ctrl", ctrl, 1),         F("state.counter", counter, 1),
    F("state.mode", mode, 1),   F("state.buf", buf, 1),
    F("state.added", added, 2),
};

static int
mt_validate(struct vdev_dev *dev, const void *candidate)
{
    const struct mt_state *s = candidate;
    return s->mode <= 3 ? 0 : -EINVAL;
}

static void
mt_reset_values(struct vdev_dev *dev, void *block)
{
    struct mt_state *s = block;
    memset(s, 0, sizeof(*s));
    s->added = 0x55;
}

static void
mt_post_load(struct vdev_dev *dev)
{
    struct mt_dev *m = vdev_private(dev);
    m->post_loads++;
}

static void
mt_log(void *opaque, enum vdev_log_level level, const char *msg)
{
    struct mt_dev *m = opaque;
    size_t have = strlen(m->log), len = strlen(msg);
    if (have + len + 2 > sizeof(m->log)) {
        m->log[0] = 0;
        have = 0;
    }
    memcpy(m->log + have, msg, len);
    m->log[have + len] = '\n';
    m->log[have + len + 1] = 0;
}

struct mt_dev *
mt_create(void *ctx, unsigned revision, const char *name)
{
    static const struct vdev_pci_ident ident = {
        .vendor_id = 0x1b36,
        .device_id = 0x1234,
        .class_code = 0xff0000,
    };
    struct mt_dev *m = talloc_zero(ctx, struct mt_dev);
    struct vdev_mig_desc d = {
        .device = name,
        .version = revision,
        .fields = fields_v2,
        .nr_fields = revision >= 2 ? 5 : 4,
        .state = &m->st,
        .state_size = sizeof(m->st),
        .validate = mt_validate,
        .reset_values = mt_reset_values,
        .post_load = mt_post_load,
    };

    for (unsigned i = 0; i < 5; i++)
        fields_v2[i].id = mt_fnv1a(fields_v2[i].name);
    m->dev = vdev_dev_create(m, name, &ident);
    if (!m->dev)
        return NULL;
    vdev_set_private(m->dev, m);
    vdev_set_log(m->dev, mt_log, m, VDEV_LOG_DEBUG);
    mt_reset_values(m->dev, &m->st);
    if (vdev_set_migration(m->dev, &d) < 0)
        return NULL;
    return m;
}

void
mt_fill(struct mt_dev *m, unsigned seed)
{
    m->st.ctrl = 0x11110000u + seed;
    m->st.counter = 0x2222222200000000ull + seed;
    m->st.mode = (uint8_t)(seed % 4);
    for (unsigned i = 0; i < sizeof(m->st.buf); i++)
        m->st.buf[i] = (uint8_t)(seed * 7 + i);
    m->st.added = 0x3300 + seed;
}

uint32_t
mt_crc32c(const uint8_t *p, size_t len)
{
    uint32_t c = ~0u;
    while (len--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
    }
    return ~c;
}

void
mt_fix_crc(uint8_t *buf, size_t len)
{
    uint32_t c = mt_crc32c(buf, len - 4);
    memcpy(buf + len - 4, &c, 4);
}

struct mt_dev *
mt_create_full(void *ctx, unsigned revision, const char *name,
               uint64_t bar2_size)
{
    struct mt_dev *m = mt_create(ctx, revision, name);
    const struct vdev_bar_desc bar0 = {
        .kind = VDEV_BAR_MEM32,
        .size = 4096,
        .backed = true,
    };
    const struct vdev_bar_desc bar2 = {
        .kind = VDEV_BAR_MEM32,
        .size = bar2_size,
        .backed = true,
    };

    if (!m || vdev_bar_add(m->dev, 0, &bar0) < 0 ||
        vdev_cap_msix(m->dev, 0, 4, 0, 0, 0, 0x800) < 0)
        return NULL;
    if (bar2_size && vdev_bar_add(m->dev, 2, &bar2) < 0)
        return NULL;
    return m;
}
