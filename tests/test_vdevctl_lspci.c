/* vdevctl info -xxx against each model server writes what `lspci -x`
 * would, and pciutils' own decoder (`lspci -F FILE -vv`) reads it back:
 * the IDs, the BARs firmware assigned, and the capabilities. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "model_server.h"
#include "vdevctl_run.h"

static struct model_server srv;

static void
teardown(void)
{
    model_server_stop(&srv);
}

TestSuite(vdevctl_lspci, .fini = teardown, .timeout = 60);

/* Programs a BAR as firmware would (an unassigned 32-bit memory BAR is all
 * zeroes, which lspci cannot tell from no BAR). */
static void
assign(const char *bar_off, const char *addr)
{
    struct vdevctl_run r;

    vdevctl_run(&r, srv.sock, "write", "config", bar_off, "4", addr, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    vdevctl_run_free(&r);
}

/* Dumps the config space with vdevctl and returns `lspci -F dump -vv`. */
static char *
lspci_of_dump(const char *hex_opt)
{
    struct vdevctl_run r;
    char dump[256], cmd[512];

    vdevctl_run(&r, srv.sock, "info", hex_opt, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(strncmp(r.out, "00:00.0 ", 8), 0, "%s", r.out);
    snprintf(dump, sizeof(dump), "%s/dump", srv.dir);
    FILE *f = fopen(dump, "w");
    cr_assert_not_null(f);
    fputs(r.out, f);
    fclose(f);
    vdevctl_run_free(&r);
    /* stderr holds lspci's complaints about libkmod: not ours */
    snprintf(cmd, sizeof(cmd), "lspci -nn -F %s -vv 2>/dev/null", dump);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char *out = calloc(1, 65536);
    size_t len = 0, n;
    while ((n = fread(out + len, 1, 65535 - len, p)) > 0)
        len += n;
    cr_assert_eq(pclose(p), 0, "lspci failed:\n%s", out);
    return out;
}

#define assert_has(text, needle)                                               \
    cr_expect_not_null(strstr((text), (needle)), "missing \"%s\" in:\n%s",     \
                       (needle), (text))

Test(vdevctl_lspci, edu_ids_bar_and_msi)
{
    model_server_start(&srv, "edu");
    model_server_detach(&srv);
    assign("0x10", "0xfea00000");
    char *t = lspci_of_dump("-xxx");
    /* -nn: the numbers beside whatever names pci.ids has */
    assert_has(t, "00:00.0 Unclassified device [00ff]: ");
    assert_has(t, "[1234:11e8] (rev 10)");
    assert_has(t, "\tRegion 0: Memory at fea00000 (32-bit, "
                  "non-prefetchable)");
    assert_has(t, "\tCapabilities: [40] MSI: Enable- Count=1/1 Maskable- "
                  "64bit+");
    assert_has(t, "\tInterrupt: pin A");
    free(t);
}

Test(vdevctl_lspci, ivshmem_bars_msix_and_express)
{
    model_server_start(&srv, "ivshmem");
    model_server_detach(&srv);
    assign("0x10", "0xfeb00000");
    assign("0x14", "0xfeb01000");
    char *t = lspci_of_dump("-xxxx");
    assert_has(t, "[1af4:1110] (rev 01)");
    assert_has(t, "\tRegion 0: Memory at feb00000 (32-bit, "
                  "non-prefetchable)");
    assert_has(t, "\tRegion 1: Memory at feb01000 (32-bit, "
                  "non-prefetchable)");
    /* a 64-bit prefetchable BAR shows even unassigned */
    assert_has(t, "\tRegion 2: Memory at <unassigned> (64-bit, prefetchable)");
    assert_has(t, "\tCapabilities: [40] MSI-X: Enable- Count=4 Masked-\n"
                  "\t\tVector table: BAR=1 offset=00000000\n"
                  "\t\tPBA: BAR=1 offset=00000800\n");
    assert_has(t, "] Express (v2) Endpoint, MSI 00");
    free(t);
}

Test(vdevctl_lspci, gpio_io_bar)
{
    model_server_start(&srv, "gpio-pci-idio-16");
    model_server_detach(&srv);
    assign("0x18", "0xc001");
    char *t = lspci_of_dump("-xxx");
    assert_has(t, "[494f:0dc8]");
    assert_has(t, "\tRegion 2: I/O ports at c000");
    assert_has(t, "\tInterrupt: pin A");
    free(t);
}

/* -x is lspci's 64-byte header dump: the header decodes, and lspci says
 * the capabilities are out of reach rather than inventing them. */
Test(vdevctl_lspci, short_dump_is_the_header_only)
{
    struct vdevctl_run r;

    model_server_start(&srv, "edu");
    model_server_detach(&srv);
    vdevctl_run(&r, srv.sock, "info", "-x", NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "00:00.0 Unclassified device [00ff]: Device "
                            "1234:11e8 (rev 10)\n"
                            "00: 34 12 e8 11 00 00 10 00 10 00 ff 00 00 00 00 "
                            "00\n"
                            "10: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
                            "00\n"
                            "20: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
                            "00\n"
                            "30: 00 00 00 00 40 00 00 00 00 00 00 00 00 01 00 "
                            "00\n\n");
    vdevctl_run_free(&r);
    char *t = lspci_of_dump("-x");
    assert_has(t, "[1234:11e8]");
    assert_has(t, "Capabilities: <access denied>");
    free(t);
}
