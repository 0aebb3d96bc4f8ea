/* Output buffer: plain malloc (talloc caps a block at 256 MiB, and a
 * 100,000-register device's C is larger) with doubling growth, freed by a
 * destructor; emitting stays linear. */
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "out.h"

static int
out_free(struct vdevc_out *o)
{
    free(o->buf);
    return 0;
}

struct vdevc_out *
vdevc_out_new(void *mem_ctx)
{
    struct vdevc_out *o = talloc_zero(mem_ctx, struct vdevc_out);
    if (!o)
        return NULL;
    o->cap = 1 << 16;
    o->buf = malloc(o->cap);
    if (!o->buf) {
        talloc_free(o);
        return NULL;
    }
    o->buf[0] = '\0';
    talloc_set_destructor(o, out_free);
    return o;
}

static bool
reserve(struct vdevc_out *o, size_t more)
{
    if (o->failed)
        return false;
    if (o->len + more + 1 <= o->cap)
        return true;
    size_t cap = o->cap;
    while (o->len + more + 1 > cap)
        cap *= 2;
    char *b = realloc(o->buf, cap);
    if (!b) {
        o->failed = true;
        return false;
    }
    o->buf = b;
    o->cap = cap;
    return true;
}

/* Formats straight into the buffer; a second pass only when it grew. */
static void
out_vprintf(struct vdevc_out *o, const char *fmt, va_list ap)
{
    va_list again;
    if (o->failed)
        return;
    va_copy(again, ap);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    if (n < 0) {
        o->failed = true;
    } else if ((size_t)n < o->cap - o->len) {
        o->len += (size_t)n;
    } else if (reserve(o, (size_t)n)) {
        vsnprintf(o->buf + o->len, o->cap - o->len, fmt, again);
        o->len += (size_t)n;
    }
    va_end(again);
}

static inline void
append(struct vdevc_out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap && !reserve(o, n))
        return;
    char *d = o->buf + o->len;
    /* Most pieces are short: two overlapping fixed-size moves (each one
     * instruction) instead of a call or a loop. */
    if (n >= 8 && n <= 16) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n >= 2 && n < 4) {
        memcpy(d, s, 2);
        memcpy(d + n - 2, s + n - 2, 2);
    } else if (n == 1) {
        *d = *s;
    } else if (n > 16) {
        memcpy(d, s, n);
    }
    o->len += n;
    o->buf[o->len] = '\0';
}

static void
append_fill(struct vdevc_out *o, char c, size_t n)
{
    if (o->len + n + 1 > o->cap && !reserve(o, n))
        return;
    memset(o->buf + o->len, c, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/* A number in base 10 or 16, at least `width` characters (padded with
 * zeros or spaces). */
static void
append_num(struct vdevc_out *o, unsigned long long v, bool neg, unsigned base,
           unsigned width, bool zero)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof tmp - ++n] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    if (neg)
        tmp[sizeof tmp - ++n] = '-';
    if (n < width)
        append_fill(o, zero ? '0' : ' ', (width < 64 ? width : 64) - n);
    append(o, tmp + sizeof tmp - n, n);
}

/* The conversions the generators use most (%s %c %d %u %x, a 0 flag, a
 * width, an l, ll or z length) are appended without stdio, which took
 * most of vdevc's time on large devices; at any other conversion the rest
 * of the format goes to vsnprintf. */
static void
out_vformat(struct vdevc_out *o, const char *fmt, va_list ap)
{
    for (const char *p = fmt;;) {
        const char *pct = strchrnul(p, '%');
        append(o, p, (size_t)(pct - p));
        if (*pct == '\0' || o->failed)
            return;
        const char *q = pct + 1;
        bool zero = *q == '0';
        unsigned width = 0, len = 0;
        q += zero;
        while (*q >= '0' && *q <= '9')
            width = width * 10 + (unsigned)(*q++ - '0');
        if (*q == 'l')
            len = q[1] == 'l' ? (q += 2, 2) : (q++, 1);
        else if (*q == 'z')
            len = (q++, 3);
        unsigned long long u;
        switch (*q) {
        case '%':
            if (q != pct + 1)
                goto fallback;
            append(o, "%", 1);
            break;
        case 's': {
            if (len || zero)
                goto fallback;
            const char *s = va_arg(ap, const char *);
            size_t n = strlen(s ? s : "(null)");
            if (n < width)
                append_fill(o, ' ', width - n);
            append(o, s ? s : "(null)", n);
            break;
        }
        case 'c': {
            if (len || width)
                goto fallback;
            char c = (char)va_arg(ap, int);
            append(o, &c, 1);
            break;
        }
        case 'd': {
            long long v = len == 2   ? va_arg(ap, long long)
                          : len == 1 ? va_arg(ap, long)
                          : len == 3 ? (long long)va_arg(ap, ssize_t)
                                     : va_arg(ap, int);
            append_num(o,
                       v < 0 ? -(unsigned long long)v : (unsigned long long)v,
                       v < 0, 10, width, zero);
            break;
        }
        case 'u':
        case 'x':
            u = len == 2   ? va_arg(ap, unsigned long long)
                : len == 1 ? va_arg(ap, unsigned long)
                : len == 3 ? va_arg(ap, size_t)
                           : va_arg(ap, unsigned);
            append_num(o, u, false, *q == 'x' ? 16 : 10, width, zero);
            break;
        default:
            goto fallback;
        }
        p = q + 1;
        continue;
    fallback:
        out_vprintf(o, pct, ap);
        return;
    }
}

void
vdevc_out_vprintf(struct vdevc_out *o, const char *fmt, va_list ap)
{
    out_vformat(o, fmt, ap);
}

void
vdevc_out_putn(struct vdevc_out *o, const char *s, size_t n)
{
    append(o, s, n);
}

void
vdevc_out_putu(struct vdevc_out *o, unsigned long long v)
{
    append_num(o, v, false, 10, 0, false);
}

void
vdevc_out_printf(struct vdevc_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out_vformat(o, fmt, ap);
    va_end(ap);
}

void
vdevc_out_line(struct vdevc_out *o, int indent, const char *fmt, ...)
{
    va_list ap;
    append_fill(o, ' ', 4 * (size_t)(indent > 0 ? indent : 0));
    va_start(ap, fmt);
    out_vformat(o, fmt, ap);
    va_end(ap);
    append(o, "\n", 1);
}

char *
vdevc_out_steal(void *mem_ctx, struct vdevc_out *o)
{
    if (o->failed)
        return NULL;
    talloc_steal(mem_ctx, o);
    return o->buf;
}

bool
vdevc_out_drain(struct vdevc_out *o, size_t keep)
{
    if (!o->sink || o->failed || o->len <= keep)
        return !o->failed;
    if (fwrite(o->buf, 1, o->len, o->sink) != o->len) {
        o->failed = true;
        return false;
    }
    o->len = 0;
    o->buf[0] = '\0';
    return true;
}
