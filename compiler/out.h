/* The code generators' one way to write output: a growable buffer with
 * printf-style appends and a helper for indented lines. */
#ifndef VDEVC_OUT_H
#define VDEVC_OUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct vdevc_out {
    char *buf;
    size_t len, cap;
    bool failed;
};

struct vdevc_out *vdevc_out_new(void *mem_ctx);
void vdevc_out_printf(struct vdevc_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One line: `indent` levels of four spaces, the text and a newline. */
void vdevc_out_line(struct vdevc_out *o, int indent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The text, alive as long as mem_ctx (o moves there; the text is not a
 * talloc block itself); NULL after a failure. */
char *vdevc_out_steal(void *mem_ctx, struct vdevc_out *o);

#endif /* VDEVC_OUT_H */
