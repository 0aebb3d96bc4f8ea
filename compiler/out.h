/* The code generators' one way to write output: a growable buffer with
 * printf-style appends and a helper for indented lines. */
#ifndef VDEVC_OUT_H
#define VDEVC_OUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct vdevc_out {
    char *buf;
    size_t len, cap;
    bool failed;
    FILE *sink; /* vdevc_out_drain writes the text there, or NULL */
};

struct vdevc_out *vdevc_out_new(void *mem_ctx);
void vdevc_out_printf(struct vdevc_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One line: `indent` levels of four spaces, the text and a newline. */
void vdevc_out_line(struct vdevc_out *o, int indent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vdevc_out_vprintf(struct vdevc_out *o, const char *fmt, va_list ap);
/* Without a format, for the lines a large device has hundreds of
 * thousands of: n bytes of s; s whole (inline: a literal's length is a
 * constant); v in decimal. */
void vdevc_out_putn(struct vdevc_out *o, const char *s, size_t n);
static inline void
vdevc_out_puts(struct vdevc_out *o, const char *s)
{
    vdevc_out_putn(o, s, strlen(s));
}
void vdevc_out_putu(struct vdevc_out *o, unsigned long long v);
/* The text, alive as long as mem_ctx (o moves there; the text is not a
 * talloc block itself); NULL after a failure. */
char *vdevc_out_steal(void *mem_ctx, struct vdevc_out *o);
/* With a sink: once the text passes `keep` bytes (0: always), it goes to
 * the sink and the buffer starts again, so a large output is never whole
 * in memory. Call between items, never inside a line. false after a
 * write error (o->failed). */
bool vdevc_out_drain(struct vdevc_out *o, size_t keep);

#endif /* VDEVC_OUT_H */
