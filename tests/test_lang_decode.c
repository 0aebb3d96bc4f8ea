/* The language reference's decoding example (tests/golden/lang/
 * 40-decode.vdev) run as a server: `access 4 .. 8`, `exact` and `fill
 * 0xff` on BAR 0, as QEMU's edu decodes; `fill 0xee` with byte lanes on
 * BAR 1. */
#include <criterion/criterion.h>

#include "model_server.h"

#define BAR0 VFIO_PCI_BAR0_REGION_INDEX
#define BAR1 VFIO_PCI_BAR1_REGION_INDEX

static struct model_server srv;

static void
start(void)
{
    model_server_start_prog(&srv, "tests/vdev-lang-40-decode");
}

static void
stop(void)
{
    model_server_stop(&srv);
}

TestSuite(lang_decode, .init = start, .fini = stop, .timeout = 30);

static uint64_t
rd(uint64_t off, unsigned width)
{
    return model_rd(&srv, BAR0, off, width);
}

static void
wr(uint64_t off, unsigned width, uint64_t v)
{
    model_wr(&srv, BAR0, off, width, v);
}

/* Registers at their own offset and width; everything else all-ones. */
Test(lang_decode, exact_offsets)
{
    cr_assert_eq(rd(0x00, 4), 0x00190001);
    cr_assert_eq(rd(0x00, 8), ~0ull, "wider than id: undecoded");
    cr_assert_eq(rd(0x18, 4), 0xffffffffu, "a gap");
    cr_assert_eq(rd(0xffc, 4), 0xffffffffu, "the BAR's end");
    wr(0x04, 4, 0x12345678);
    cr_assert_eq(rd(0x04, 4), 0x12345678);
    wr(0x00, 8, 0);
    cr_assert_eq(rd(0x04, 4), 0x12345678,
                 "an 8-byte write at id is "
                 "undecoded, ctrl keeps its value");
}

/* A 4-byte access to the 64-bit register: at its offset a read gives
 * the low half and a write sets all of it; at +4 neither is decoded. */
Test(lang_decode, narrower_writes_zero_extend)
{
    wr(0x08, 8, 0x0123456789abcdefull);
    cr_assert_eq(rd(0x08, 8), 0x0123456789abcdefull);
    cr_assert_eq(rd(0x08, 4), 0x89abcdef);
    cr_assert_eq(rd(0x0c, 4), 0xffffffffu, "the upper half is not a place");
    wr(0x08, 4, 0x11223344);
    cr_assert_eq(rd(0x08, 8), 0x11223344, "zero-extended");
    wr(0x0c, 4, 0x55667788);
    cr_assert_eq(rd(0x08, 8), 0x11223344, "a write at +4 is dropped");
}

/* 1- and 2-byte and misaligned accesses are outside `access 4 .. 8`:
 * they read 0 (not the fill) and change nothing. */
Test(lang_decode, access_sizes)
{
    wr(0x04, 4, 0xa5a5a5a5);
    cr_assert_eq(rd(0x04, 1), 0);
    cr_assert_eq(rd(0x04, 2), 0);
    cr_assert_eq(rd(0x18, 2), 0, "not even a gap's fill");
    cr_assert_eq(rd(0x02, 4), 0, "misaligned");
    cr_assert_eq(rd(0x04, 8), 0, "misaligned for 8 bytes");
    wr(0x04, 1, 0);
    wr(0x04, 2, 0);
    wr(0x02, 4, 0);
    cr_assert_eq(rd(0x04, 4), 0xa5a5a5a5);
}

/* A write-only register takes its writes (the hook counts them) but no
 * reads: they read the fill, not 0. */
Test(lang_decode, write_only_reads_fill)
{
    cr_assert_eq(rd(0x10, 4), 0xffffffffu);
    wr(0x10, 4, 1);
    wr(0x10, 4, 2);
    cr_assert_eq(rd(0x14, 4), 2);
    cr_assert_eq(rd(0x10, 8), ~0ull, "wider than kick");
}

/* BAR 1 keeps byte lanes; only its gaps read 0xee. */
Test(lang_decode, lanes_with_fill)
{
    model_wr(&srv, BAR1, 0x0, 4, 0x11223344);
    cr_assert_eq(model_rd(&srv, BAR1, 0x0, 2), 0x3344);
    cr_assert_eq(model_rd(&srv, BAR1, 0x2, 1), 0x22);
    cr_assert_eq(model_rd(&srv, BAR1, 0x4, 4), 0xeeeeeeeeu);
    cr_assert_eq(model_rd(&srv, BAR1, 0x0, 8), 0xeeeeeeee11223344ull);
    model_wr(&srv, BAR1, 0x1, 1, 0xaa);
    cr_assert_eq(model_rd(&srv, BAR1, 0x0, 4), 0x1122aa44);
}
