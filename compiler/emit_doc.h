/* The generators for guest driver writers: a Markdown register map and a
 * standalone C header of offsets, masks and enum values. */
#ifndef VDEVC_EMIT_DOC_H
#define VDEVC_EMIT_DOC_H

#include "vdevc.h"

/* Both return a string under mem_ctx, or NULL (out of memory). */
char *vdevc_emit_doc(void *mem_ctx, struct vdevc_unit *u);
char *vdevc_emit_guest_h(void *mem_ctx, struct vdevc_unit *u);

/* Shared by the two: a doc string on one line, with what would end a C
 * comment ("*" "/") or a Markdown table cell ("|") made harmless. */
char *vdevc_doc_line(void *ctx, const char *doc, bool markdown);
/* doc_bits.c: the register's bit-field picture, a fenced text block. */
struct vdevc_out;
void vdevc_doc_bits(struct vdevc_out *o, const struct vdevc_reg *r);

#endif /* VDEVC_EMIT_DOC_H */
