/* libFuzzer harness: arbitrary text through vdevc as the driver runs it
 * (parse, check, lay out, emit C, header and JSON); output is discarded.
 * It must not crash, leak or hang. */
#include <stdint.h>
#include <stdlib.h>
#include <talloc.h>

#include "vdevc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void *ctx = talloc_new(NULL);
    struct vdevc_unit *u;

    u = vdevc_unit_new(ctx, "fuzz.vdev", (const char *)data, size, NULL);
    if (!u)
        abort();
    if (vdevc_compile(u) == 0) {
        u->header_name = "fuzz.h";
        if (!vdevc_emit_c(ctx, u) || !vdevc_emit_h(ctx, u) ||
            !vdevc_emit_json(ctx, u))
            abort();
        /* The other spelling of the C output. */
        u->line_directives = true;
        if (!vdevc_emit_c(ctx, u))
            abort();
    } else {
        vdevc_diag_finish(u->diag);
    }
    talloc_free(ctx);
    return 0;
}
