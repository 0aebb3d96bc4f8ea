/* The state stream's clock section (migration/mig_clock.c): device time
 * and every timer travel with a device's state, remaining time and period;
 * streams without the section (older builds, devices without a clock)
 * still load and stop the timers; the section is checked as hostile
 * input; devices that do not use their clock write streams as before. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <talloc.h>

#include "device/device.h"
#include "hostdev.h"
#include "mig_testdev.h"
#include "migration/migration.h"

#define MS 1000000ull

static void
quiet(void *opaque, enum vdev_log_level level, const char *msg)
{
}

static struct vdev_dev *
vdev(void)
{
    struct vdev_dev *dev = hostdev_create(NULL);

    cr_assert_not_null(dev);
    vdev_set_log(dev, quiet, NULL, VDEV_LOG_DEBUG);
    cr_assert_eq(vdev_set_clock(dev, VDEV_CLOCK_VIRTUAL), 0);
    return dev;
}

static uint8_t *
save(struct vdev_dev *dev, size_t *len)
{
    uint8_t *buf = NULL;

    cr_assert_eq(vdev_mig_stream_save(dev, dev, &buf, len), 0);
    cr_assert_eq(*len, vdev_mig_stream_bound(dev));
    return buf;
}

static uint16_t
flags_of(const uint8_t *s)
{
    return (uint16_t)(s[6] | s[7] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void
put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Offset of section `want` (its id field), walking from the header. */
static size_t
section(const uint8_t *s, size_t len, uint32_t want)
{
    size_t off = 18 + (size_t)(s[12] | s[13] << 8);

    while (off + 8 <= len - 4) {
        if (le32(s + off) == want)
            return off;
        off += 8 + le32(s + off + 4);
    }
    cr_assert_fail("no section %u", want);
    return 0;
}

/* Offset of the entry of timer `name` in the clock section. */
static size_t
timer_entry(const uint8_t *s, size_t len, const char *name)
{
    size_t off = section(s, len, 3) + 8 + 12;
    uint32_t n = le32(s + section(s, len, 3) + 8 + 8);

    for (uint32_t i = 0; i < n; i++) {
        if (s[off] == strlen(name) && !memcmp(s + off + 1, name, s[off]))
            return off;
        off += 1 + s[off] + 1 + 16;
    }
    cr_assert_fail("no timer %s", name);
    return 0;
}

Test(mig_clock, time_and_timers_travel)
{
    struct vdev_dev *src = vdev(), *dst = vdev();
    struct hostdev *hs = hostdev_of(src), *hd = hostdev_of(dst);
    uint8_t *s;
    size_t len;

    hostdev_write(src, HD_TICK, HD_PERIODIC | 1000); /* every 1 ms */
    hostdev_write(src, HD_WDOG, 7000);
    vdev_clock_advance(src, 2 * MS + MS / 2);
    cr_assert_eq(hs->st.ticks, 2);
    vdev_clock_advance(dst, 100 * MS); /* its own time is not the source's */
    s = save(src, &len);
    cr_assert_eq(flags_of(s), 1, "clock section flagged");
    cr_assert_eq(vdev_mig_stream_load(dst, s, len), 0);
    cr_assert_eq(vdev_now(dst), vdev_now(src));
    cr_assert_eq(hd->st.ticks, 2);
    cr_assert(vdev_timer_running(hd->tick));
    cr_assert_eq(vdev_timer_remaining(hd->tick), MS / 2);
    cr_assert_eq(vdev_timer_remaining(hd->wdog), 7 * MS - 2 * MS - MS / 2);
    /* the period came along: 0.5 ms, then every 1 ms */
    cr_assert_eq(vdev_clock_advance(dst, MS / 2), 1);
    cr_assert_eq(vdev_clock_advance(dst, 3 * MS), 3);
    cr_assert_eq(hd->st.ticks, 6);
    cr_assert_eq(hd->st.tick_at, (uint32_t)(vdev_now(src) + 3 * MS + MS / 2));
    talloc_free(src);
    talloc_free(dst);
}

/* A stream of a build or device without the section: accepted, every
 * timer stopped (its state had none), device time as it was. */
Test(mig_clock, stream_without_clock_section_loads)
{
    struct vdev_dev *src = vdev(), *dst = vdev();
    struct hostdev *hd = hostdev_of(dst);
    uint8_t *s;
    size_t len, sec;
    uint64_t before;

    hostdev_write(src, HD_STICKY, 0x77);
    s = save(src, &len);
    sec = section(s, len, 3);
    /* cut the section out: flags 0, length shorter, checksum again */
    memmove(s + sec, s + len - 4, 4);
    len = sec + 4;
    s[6] = s[7] = 0;
    put32(s + 8, (uint32_t)len);
    mt_fix_crc(s, len);
    hostdev_write(dst, HD_TICK, 1000);
    vdev_clock_advance(dst, MS / 4);
    before = vdev_now(dst);
    cr_assert_eq(vdev_mig_stream_load(dst, s, len), 0);
    cr_assert_eq(hd->st.sticky, 0x77);
    cr_assert_not(vdev_timer_running(hd->tick));
    cr_assert_eq(vdev_now(dst), before);
    talloc_free(src);
    talloc_free(dst);
}

Test(mig_clock, timers_matched_by_name)
{
    struct vdev_dev *src = vdev(), *dst = vdev();
    struct hostdev *hd = hostdev_of(dst);
    uint8_t *s;
    size_t len, t;

    /* a running timer this device does not have: refused, nothing changes */
    hostdev_write(src, HD_TICK, 1000);
    hostdev_write(src, HD_STICKY, 1);
    s = save(src, &len);
    t = timer_entry(s, len, "tick");
    memcpy(s + t + 1, "tock", 4);
    mt_fix_crc(s, len);
    cr_assert_eq(vdev_mig_stream_load(dst, s, len), -EPROTONOSUPPORT);
    cr_assert_eq(hd->st.sticky, 0);
    /* a stopped one is nothing to lose: ignored; "tick" stays stopped */
    hostdev_write(src, HD_TICK, 0);
    s = save(src, &len);
    t = timer_entry(s, len, "tick");
    memcpy(s + t + 1, "tock", 4);
    mt_fix_crc(s, len);
    hostdev_write(dst, HD_TICK, 1000);
    cr_assert_eq(vdev_mig_stream_load(dst, s, len), 0);
    cr_assert_eq(hd->st.sticky, 1);
    cr_assert_not(vdev_timer_running(hd->tick));
    talloc_free(src);
    talloc_free(dst);
}

/* Hostile sections: each refused, the device unchanged. */
Test(mig_clock, bad_sections_refused)
{
    struct vdev_dev *src = vdev(), *dst = vdev();
    struct hostdev *hd = hostdev_of(dst);
    uint8_t *good, *s;
    size_t len, sec, t;

    hostdev_write(src, HD_TICK, 1000);
    hostdev_write(src, HD_STICKY, 9);
    good = save(src, &len);
    sec = section(good, len, 3);
    t = timer_entry(good, len, "tick");
    s = talloc_memdup(src, good, len);
#define TRY(mutate, err)                                                       \
    do {                                                                       \
        memcpy(s, good, len);                                                  \
        mutate;                                                                \
        mt_fix_crc(s, len);                                                    \
        cr_assert_eq(vdev_mig_stream_load(dst, s, len), err, #mutate);         \
        cr_assert_eq(hd->st.sticky, 0);                                        \
    } while (0)
    TRY(s[t + 1 + 4] = 2, -EINVAL);                   /* armed flag */
    TRY(put32(s + sec + 8 + 8, 1000), -EPROTO);       /* timer count */
    TRY(put32(s + sec + 8 + 8, 1), -EPROTO);          /* stray bytes */
    TRY(s[t] = 60, -EPROTO);                          /* name length */
    TRY(s[t + 1] = ' ', -EPROTO);                     /* name bytes */
    TRY(s[6] = 3, -EPROTO);                           /* unknown flag */
    TRY(s[6] = 0, -EPROTO);                           /* section unflagged */
    TRY(put32(s + sec, 4), -EPROTO);                  /* section id */
    TRY(memset(s + t + 1 + 4 + 1, 0xff, 8), -EINVAL); /* deadline past 2^64 */
#undef TRY
    /* the same timer twice: "watchdog" renamed "tick" (4 bytes shorter) */
    size_t e = timer_entry(good, len, "watchdog");
    memcpy(s, good, len);
    s[e] = 4;
    memcpy(s + e + 1, "tick", 4);
    memmove(s + e + 5, s + e + 9, len - (e + 9));
    put32(s + sec + 4, le32(s + sec + 4) - 4);
    put32(s + 8, (uint32_t)(len - 4));
    mt_fix_crc(s, len - 4);
    cr_assert_eq(vdev_mig_stream_load(dst, s, len - 4), -EPROTO);
    cr_assert_eq(hd->st.sticky, 0);
    cr_assert_eq(vdev_mig_stream_load(dst, good, len), 0);
    cr_assert_eq(hd->st.sticky, 9);
    talloc_free(src);
    talloc_free(dst);
}

/* Devices without timers keep writing the streams they always did. */
Test(mig_clock, devices_without_a_clock_write_no_section)
{
    struct mt_dev *m = mt_create(NULL, 1, "mt");
    uint8_t *s = NULL;
    size_t len;

    cr_assert_eq(vdev_mig_stream_save(m->dev, m, &s, &len), 0);
    cr_assert_eq(flags_of(s), 0);
    vdev_clock_use(m->dev);
    cr_assert_eq(vdev_mig_stream_save(m->dev, m, &s, &len), 0);
    cr_assert_eq(flags_of(s), 1);
    cr_assert_eq(len, vdev_mig_stream_bound(m->dev));
    cr_assert_eq(vdev_mig_stream_load(m->dev, s, len), 0);
    talloc_free(m);
}
