/* Helpers of the generators for guest driver writers (vdevc_emit_doc,
 * vdevc_emit_guest_h in vdevc.h): a Markdown register map and a
 * standalone C header of offsets, masks and enum values. */
#ifndef VDEVC_EMIT_DOC_H
#define VDEVC_EMIT_DOC_H

#include "vdevc.h"

/* Shared by the two: a doc string on one line, with what would end a C
 * comment ("*" "/"), a Markdown table cell ("|") or start HTML ("<") made
 * harmless for where it goes. */
enum vdevc_doc_mode { DOC_C_COMMENT, DOC_MD_TEXT, DOC_MD_CODE };
char *vdevc_doc_line(void *ctx, const char *doc, enum vdevc_doc_mode mode);
/* emit_doc.c: Markdown cell text ("" for NULL), hex with the digits
 * `bits` needs (decimal for one bit), plain hex, an expression without
 * its outer parentheses. */
const char *vdevc_doc_text(void *ctx, const char *doc);
char *vdevc_doc_hexw(void *ctx, uint64_t v, unsigned bits);
char *vdevc_doc_hex(void *ctx, uint64_t v);
const char *vdevc_doc_expr(void *ctx, const struct vdevc_expr *x);

/* doc_device.c: the sections after the registers. */
struct vdevc_emit;
void vdevc_doc_interrupts(struct vdevc_emit *e);
void vdevc_doc_config(struct vdevc_emit *e);
void vdevc_doc_enums(struct vdevc_emit *e);
void vdevc_doc_migration(struct vdevc_emit *e);
/* "reg-NAME": a register's section in the page. */
const char *vdevc_doc_anchor(void *ctx, const struct vdevc_reg *r);
/* What a device reset keeps (sticky state) and whether logic runs. */
void vdevc_doc_reset(struct vdevc_emit *e);
/* doc_host.c: timers, FIFOs, streams, events; the FIFOs' migration rows
 * and what the runtime part carries of time. */
void vdevc_doc_host(struct vdevc_emit *e);
void vdevc_doc_fifo_rows(struct vdevc_emit *e);
void vdevc_doc_clock_note(struct vdevc_emit *e);

/* doc_bits.c: the register's bit-field picture, a fenced text block. */
struct vdevc_out;
void vdevc_doc_bits(struct vdevc_out *o, const struct vdevc_reg *r);

#endif /* VDEVC_EMIT_DOC_H */
