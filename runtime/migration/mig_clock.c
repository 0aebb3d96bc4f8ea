/* The state stream's clock section (mig_stream.c frames it): device time
 * and every timer, so a device's time and its armed timers travel with its
 * state. Written only by devices that use their clock (a timer, or
 * vdev_clock_use), so the streams of other devices stay as they were.
 *
 * Body (little-endian):
 *   u64 device time (ns), u32 number of timers, then per timer:
 *   u8 name length, name bytes, u8 armed (0/1), u64 remaining ns,
 *   u64 period ns (0: one-shot; 0 when not armed).
 * Timers are matched by name. An armed timer this device does not have is
 * refused (the stream comes from another revision whose timer would be
 * lost); a stopped one is ignored; a timer of this device the stream lacks
 * stays stopped. A stream without the section stops every timer (its
 * state had none running) and leaves device time as it is. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "migration/migration.h"

#define TIMER_FIXED (1u + 1u + 8u + 8u) /* name length, armed, two u64 */

struct vdev_mig_clock_cand {
    uint64_t now;
    bool *armed; /* per timer of this device */
    uint64_t *remaining, *period;
};

bool
vdev_mig_clock_travels(const struct vdev_dev *dev)
{
    return dev->clock.used || dev->clock.nr_timers;
}

size_t
vdev_mig_clock_size(const struct vdev_dev *dev)
{
    size_t n = 8 + 4;

    for (unsigned i = 0; i < dev->clock.nr_timers; i++)
        n += TIMER_FIXED + strlen(vdev_timer_name(dev->clock.timers[i]));
    return n;
}

static uint8_t *
put64(uint8_t *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
    return p + 8;
}

void
vdev_mig_clock_put(struct vdev_dev *dev, uint8_t *p)
{
    uint32_t n = htole32(dev->clock.nr_timers);

    p = put64(p, vdev_now(dev));
    memcpy(p, &n, 4);
    p += 4;
    for (unsigned i = 0; i < dev->clock.nr_timers; i++) {
        const struct vdev_timer *t = dev->clock.timers[i];
        const char *name = vdev_timer_name(t);
        size_t len = strlen(name);
        uint64_t remaining, period;
        bool armed;

        vdev_timer_get_state(t, &armed, &remaining, &period);
        *p++ = (uint8_t)len;
        memcpy(p, name, len);
        p += len;
        *p++ = armed;
        p = put64(p, remaining);
        p = put64(p, period);
    }
}

static uint64_t
get64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return le64toh(v);
}

static int
find_timer(const struct vdev_dev *dev, const char *name)
{
    for (unsigned i = 0; i < dev->clock.nr_timers; i++)
        if (!strcmp(vdev_timer_name(dev->clock.timers[i]), name))
            return (int)i;
    return -1;
}

/* One timer entry at p (len bytes left); *used gets its size. */
static int
parse_timer(struct vdev_dev *dev, const uint8_t *p, size_t len, size_t *used,
            struct vdev_mig_clock_cand *c, bool *seen)
{
    char name[256];
    size_t nlen;
    int k;

    if (len < 1 || len - 1 < (size_t)p[0] + TIMER_FIXED - 1)
        VDEV_MIG_FAIL(-EPROTO, "truncated timer entry");
    nlen = p[0];
    memcpy(name, p + 1, nlen);
    name[nlen] = '\0';
    if (!vdev_name_ok(name) || strlen(name) != nlen)
        VDEV_MIG_FAIL(-EPROTO, "bad timer name");
    *used = TIMER_FIXED + nlen;
    p += 1 + nlen;
    if (p[0] > 1)
        VDEV_MIG_FAIL(-EINVAL, "timer '%s' armed flag %u", name, p[0]);
    k = find_timer(dev, name);
    if (k < 0) {
        if (p[0])
            VDEV_MIG_FAIL(
                -EPROTONOSUPPORT,
                "timer '%s' is running in the stream but not part of this "
                "device",
                name);
        return 0; /* stopped: nothing of it to keep */
    }
    if (seen[k])
        VDEV_MIG_FAIL(-EPROTO, "timer '%s' appears twice", name);
    seen[k] = true;
    c->armed[k] = p[0];
    c->remaining[k] = get64(p + 1);
    c->period[k] = get64(p + 9);
    if (c->remaining[k] > UINT64_MAX - c->now)
        VDEV_MIG_FAIL(-EINVAL, "timer '%s' deadline past 2^64 ns", name);
    return 0;
}

int
vdev_mig_clock_parse(struct vdev_dev *dev, void *ctx, const uint8_t *p,
                     size_t len, struct vdev_mig_clock_cand **out)
{
    unsigned nr = dev->clock.nr_timers;
    struct vdev_mig_clock_cand *c =
        talloc_zero(ctx, struct vdev_mig_clock_cand);
    bool *seen = talloc_zero_array(ctx, bool, nr + 1);
    size_t off = 12;
    uint32_t count;
    int rc;

    if (!c || !seen || !(c->armed = talloc_zero_array(c, bool, nr + 1)) ||
        !(c->remaining = talloc_zero_array(c, uint64_t, nr + 1)) ||
        !(c->period = talloc_zero_array(c, uint64_t, nr + 1)))
        return -ENOMEM;
    if (len < off)
        VDEV_MIG_FAIL(-EPROTO, "truncated clock section");
    c->now = get64(p);
    memcpy(&count, p + 8, 4);
    count = le32toh(count);
    /* Each entry takes TIMER_FIXED bytes at least: bounded by len. */
    if (count > (len - off) / TIMER_FIXED)
        VDEV_MIG_FAIL(-EPROTO, "%u timers do not fit the clock section", count);
    for (uint32_t i = 0; i < count; i++) {
        size_t used;
        if ((rc = parse_timer(dev, p + off, len - off, &used, c, seen)) < 0)
            return rc;
        off += used;
    }
    if (off != len)
        VDEV_MIG_FAIL(-EPROTO, "%zu stray bytes in the clock section",
                      len - off);
    *out = c;
    return 0;
}

void
vdev_mig_clock_commit(struct vdev_dev *dev, const struct vdev_mig_clock_cand *c)
{
    if (c)
        vdev_clock_set_now(dev, c->now);
    for (unsigned i = 0; i < dev->clock.nr_timers; i++) {
        struct vdev_timer *t = dev->clock.timers[i];

        if (c)
            vdev_timer_set_state(t, c->armed[i], c->remaining[i], c->period[i]);
        else
            vdev_timer_set_state(t, false, 0, 0);
    }
}
