/* vdevc --emit=check: a conformance checker for the device (emit_check.c)
 * and the fixed engine text it includes (emit_check_rt.c). */
#ifndef VDEVC_EMIT_CHECK_H
#define VDEVC_EMIT_CHECK_H

#include "vdevc.h"

/* The checker program as C, under mem_ctx, or NULL. */
char *vdevc_emit_check(void *mem_ctx, struct vdevc_unit *u);

extern const char vdevc_check_rt_types[];
extern const char vdevc_check_rt_code[];

#endif /* VDEVC_EMIT_CHECK_H */
