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
    if (o == NULL)
        return NULL;
    o->cap = 1 << 16;
    o->buf = malloc(o->cap);
    if (o->buf == NULL) {
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
    if (b == NULL) {
        o->failed = true;
        return false;
    }
    o->buf = b;
    o->cap = cap;
    return true;
}

void
vdevc_out_puts(struct vdevc_out *o, const char *s)
{
    size_t n = strlen(s);
    if (!reserve(o, n))
        return;
    memcpy(o->buf + o->len, s, n + 1);
    o->len += n;
}

void
vdevc_out_printf(struct vdevc_out *o, const char *fmt, ...)
{
    if (o->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->failed = true;
        return;
    }
    if ((size_t)n < o->cap - o->len) {
        o->len += (size_t)n;
        return;
    }
    if (!reserve(o, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    o->len += (size_t)n;
}

/* Strings up to a NULL, without a format parse: the hot tables use it. */
void
vdevc_out_cat(struct vdevc_out *o, ...)
{
    va_list ap;
    va_start(ap, o);
    for (const char *s = va_arg(ap, const char *); s != NULL;
         s = va_arg(ap, const char *)) {
        size_t n = strlen(s);
        if (!reserve(o, n))
            break;
        memcpy(o->buf + o->len, s, n + 1);
        o->len += n;
    }
    va_end(ap);
}

char *
vdevc_out_steal(void *mem_ctx, struct vdevc_out *o)
{
    if (o->failed)
        return NULL;
    talloc_steal(mem_ctx, o);
    return o->buf;
}
