/* Output buffer: plain malloc (talloc caps a block at 256 MiB, and a
 * 100,000-register device's C is larger) with doubling growth, freed by a
 * destructor; emitting stays linear. */
#include <stdio.h>
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

void
vdevc_out_printf(struct vdevc_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out_vprintf(o, fmt, ap);
    va_end(ap);
}

void
vdevc_out_line(struct vdevc_out *o, int indent, const char *fmt, ...)
{
    va_list ap;
    size_t n = 4 * (size_t)(indent > 0 ? indent : 0);
    if (!reserve(o, n + 1))
        return;
    memset(o->buf + o->len, ' ', n);
    o->len += n;
    o->buf[o->len] = '\0';
    va_start(ap, fmt);
    out_vprintf(o, fmt, ap);
    va_end(ap);
    if (reserve(o, 1)) {
        o->buf[o->len++] = '\n';
        o->buf[o->len] = '\0';
    }
}

char *
vdevc_out_steal(void *mem_ctx, struct vdevc_out *o)
{
    if (o->failed)
        return NULL;
    talloc_steal(mem_ctx, o);
    return o->buf;
}
