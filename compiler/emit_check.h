/* vdevc --emit=check: the tables of a conformance checker for the device,
 * run by libvdev's vdev_check_main() (vdev_check.h). */
#ifndef VDEVC_EMIT_CHECK_H
#define VDEVC_EMIT_CHECK_H

#include "vdevc.h"

/* The checker program as C, under mem_ctx, or NULL. */
char *vdevc_emit_check(void *mem_ctx, struct vdevc_unit *u);

#endif /* VDEVC_EMIT_CHECK_H */
