/* Streams saved by earlier builds keep loading: each
 * tests/migration/streams/NAME.stream (made by make.sh there with an older
 * build of vdev-NAME) loads into this build's server, which then reports
 * every named value recorded beside it in NAME.values. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "model_server.h"
#include "vdevc_test.h"

static struct model_server srv;

static void
teardown(void)
{
    model_server_stop(&srv);
}

TestSuite(mig_streams, .fini = teardown, .timeout = 60);

/* Loads NAME.stream into a fresh vdev-NAME and compares NAME.values. */
static void
check_stream(const char *name)
{
    void *ctx = talloc_new(NULL);
    const char *dir = "tests/migration/streams";
    size_t len;
    uint8_t *stream = (uint8_t *)vt_read(
        ctx, talloc_asprintf(ctx, "%s/%s.stream", dir, name), &len);
    char *values =
        vt_read(ctx, talloc_asprintf(ctx, "%s/%s.values", dir, name), NULL);
    cr_assert_not_null(stream, "%s.stream missing", name);
    cr_assert_not_null(values, "%s.values missing", name);

    model_server_start(&srv, name);
    int rc = vdev_client_mig_load(srv.cl, stream, len);
    cr_assert_eq(rc, 0, "%s: load: %s", name, strerror(-rc));
    cr_assert_eq(vdev_client_mig_set_state(srv.cl, VFIO_DEVICE_STATE_RUNNING),
                 0);

    unsigned n = 0;
    for (char *line = strtok(values, "\n"); line; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        cr_assert_not_null(eq, "%s.values: bad line '%s'", name, line);
        *eq = '\0';
        uint64_t want = strtoull(eq + 1, NULL, 16);
        uint64_t got = model_get(&srv, line);
        cr_expect_eq(got, want, "%s: %s is 0x%llx after the load, was 0x%llx",
                     name, line, (unsigned long long)got,
                     (unsigned long long)want);
        n++;
    }
    cr_assert_geq(n, 10, "%s.values names only %u values", name, n);
    talloc_free(ctx);
}

Test(mig_streams, edu)
{
    check_stream("edu");
    /* The loaded state still behaves: irq_ack clears what was raised. */
    model_wr(&srv, VFIO_PCI_BAR0_REGION_INDEX, 0x64, 4, 0x41);
    cr_assert_eq(model_get(&srv, "irq_status"), 0);
}

Test(mig_streams, gpio)
{
    check_stream("gpio-pci-idio-16");
}
