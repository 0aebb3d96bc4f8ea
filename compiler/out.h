/* A growable output buffer for the code generators. */
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
void vdevc_out_puts(struct vdevc_out *o, const char *s);
void vdevc_out_printf(struct vdevc_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends each string argument up to a NULL one. */
void vdevc_out_cat(struct vdevc_out *o, ...) __attribute__((sentinel));
/* The text, alive as long as mem_ctx (o moves there; the text is not a
 * talloc block itself); NULL after a failure. */
char *vdevc_out_steal(void *mem_ctx, struct vdevc_out *o);

#endif /* VDEVC_OUT_H */
