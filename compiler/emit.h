/* Shared by the C and header generators: the emitter state and the
 * statement-language translation to C. */
#ifndef VDEVC_EMIT_H
#define VDEVC_EMIT_H

#include "out.h"
#include "vdevc.h"

struct vdevc_emit {
    struct vdevc_unit *u;
    struct vdevc_device *d;
    struct vdevc_out *o;
    void *tmp;        /* scratch strings, freed with the emitter */
    const char *name; /* C prefix: the device name */
    const char *NAME; /* its upper-case form */
    const char *file; /* source as named in comments */
    unsigned temps;   /* unique temporaries in statement expressions */
    unsigned flushes;
};

struct vdevc_emit *vdevc_emit_new(void *mem_ctx, struct vdevc_unit *u);
/* "/ * edu.vdev:42 * /" or "#line 42 "edu.vdev"", on its own line. */
void vdevc_emit_where(struct vdevc_emit *e, int line, const char *what,
                      int indent);
const char *vdevc_ctype(unsigned bits);
/* The storage of a register/field element or variable, as a C lvalue. */
char *vdevc_emit_expr(struct vdevc_emit *e, const struct vdevc_expr *x);
void vdevc_emit_stmt(struct vdevc_emit *e, const struct vdevc_stmt *s,
                     int indent);
/* 0x... with a suffix wide enough for 64 bits. */
char *vdevc_hex(void *ctx, uint64_t v);
/* The same in one of 64 rotating static buffers: for table emitters that
 * print it at once (at most 64 alive). */
const char *vdevc_hex_ring(uint64_t v);

#endif /* VDEVC_EMIT_H */
