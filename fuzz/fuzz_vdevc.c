/* libFuzzer harness: arbitrary text through vdevc as the driver runs it
 * (parse, check, lay out, every emitter: C, header, JSON, doc, guest header,
 * conformance checker); output is discarded. It must not crash, leak or
 * hang, and a device that compiles must be migration-compatible with
 * itself (vdevc --check-migration against its own source). vdevc fmt
 * never changes a token (-EPROTO) and its output is a fixed point. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "emit_check.h"
#include "fmt.h"
#include "vdevc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Errors shown per input (vdevc's cap is 20): most mutants are syntax
 * errors, and rendering each (source line, caret, hints) cost more than
 * the parse; the code that renders them runs the same for the first. */
#define MAX_ERRORS 3

static FILE *devnull;

static void
emit_all(void *ctx, struct vdevc_unit *u)
{
    u->header_name = "fuzz.h";
    if (!vdevc_emit_c(ctx, u) || !vdevc_emit_h(ctx, u) ||
        !vdevc_emit_json(ctx, u) || !vdevc_emit_doc(ctx, u) ||
        !vdevc_emit_guest_h(ctx, u) || !vdevc_emit_check(ctx, u))
        abort();
    /* The other spelling of the C output. */
    u->line_directives = true;
    if (!vdevc_emit_c(ctx, u))
        abort();
}

static void
check_fmt(void *ctx, const char *src, size_t size)
{
    struct vdevc_diag *d = vdevc_diag_new(ctx, "fuzz.vdev", src, size, NULL);
    char *out, *again;

    d->max_errors = MAX_ERRORS;
    int rc = vdevc_fmt(ctx, d, src, size, &out);
    if (rc == -EPROTO)
        abort(); /* fmt would have changed the tokens */
    if (rc != 0)
        return;
    d = vdevc_diag_new(ctx, "fuzz.vdev", out, strlen(out), NULL);
    if (vdevc_fmt(ctx, d, out, strlen(out), &again) != 0 ||
        strcmp(out, again) != 0)
        abort(); /* not idempotent */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *ctx = talloc_new(NULL);
    struct vdevc_unit *u, *again;
    int rc;

    if (!devnull && !(devnull = fopen("/dev/null", "w")))
        abort();
    u = vdevc_unit_new(ctx, "fuzz.vdev", (const char *)data, size, NULL);
    if (!u)
        abort();
    u->diag->max_errors = MAX_ERRORS;
    rc = vdevc_compile(u);
    /* fmt parses with the compiler's parser (dsl/parser.y): text that does
     * not parse, most mutants, would only fail the same way twice. */
    if (u->dev)
        check_fmt(ctx, (const char *)data, size);
    if (rc != 0) {
        vdevc_diag_finish(u->diag);
        talloc_free(ctx);
        return 0;
    }
    emit_all(ctx, u);
    again = vdevc_unit_new(ctx, "fuzz.vdev", (const char *)data, size, NULL);
    if (!again || vdevc_compile(again) != 0)
        abort(); /* the same text compiled once */
    if (vdevc_check_migration(u, again, devnull) != 0) {
        fprintf(stderr,
                "fuzz_vdevc: a device is not migration-compatible "
                "with itself:\n%s%s",
                u->diag->text ? u->diag->text : "",
                again->diag->text ? again->diag->text : "");
        abort();
    }
    talloc_free(ctx);
    return 0;
}
