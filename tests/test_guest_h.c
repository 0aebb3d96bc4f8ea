/* The golden guest headers, compiled into the test binary with the
 * project's warnings, against the register maps the models implement:
 * QEMU's docs/specs/edu.rst, Linux's gpio-pci-idio-16 driver and
 * docs/specs/ivshmem-spec.rst. A wrong offset fails the build. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "golden/guest-h/edu.h"
#include "golden/guest-h/gpio-pci-idio-16.h"
#include "golden/guest-h/ivshmem.h"

/* edu.rst: identification 0x00, liveness 0x04, factorial 0x08, status
 * 0x20 (0x01 computing, 0x80 raise interrupt), interrupt status 0x24,
 * raise 0x60, acknowledge 0x64, DMA source 0x80, destination 0x88, count
 * 0x90, command 0x98 (0x01 start, 0x02 direction, 0x04 raise irq). */
_Static_assert(EDU_VENDOR_ID == 0x1234 && EDU_DEVICE_ID == 0x11e8, "edu id");
_Static_assert(EDU_ID_OFFSET == 0x00 && EDU_ID_RESET == 0x010000ed, "id");
_Static_assert(EDU_LIVENESS_OFFSET == 0x04, "liveness");
_Static_assert(EDU_FACT_OFFSET == 0x08, "factorial");
_Static_assert(EDU_STATUS_OFFSET == 0x20, "status");
_Static_assert(EDU_STATUS_COMPUTING_MASK == 0x01, "computing");
_Static_assert(EDU_STATUS_IRQ_FACT_MASK == 0x80, "irq_fact");
_Static_assert(EDU_STATUS_IRQ_FACT_SHIFT == 7, "irq_fact shift");
_Static_assert(EDU_IRQ_STATUS_OFFSET == 0x24, "irq status");
_Static_assert(EDU_IRQ_RAISE_OFFSET == 0x60 && EDU_IRQ_ACK_OFFSET == 0x64,
               "raise/ack");
_Static_assert(EDU_DMA_SRC_OFFSET == 0x80 && EDU_DMA_DST_OFFSET == 0x88 &&
                   EDU_DMA_COUNT_OFFSET == 0x90 && EDU_DMA_CMD_OFFSET == 0x98,
               "dma");
_Static_assert(EDU_DMA_CMD_START_MASK == 1 && EDU_DMA_CMD_DIR_MASK == 2 &&
                   EDU_DMA_CMD_IRQ_MASK == 4,
               "dma command");
_Static_assert(EDU_DIR_FROM_RAM == 0 && EDU_DIR_TO_RAM == 1, "direction");
_Static_assert(EDU_BAR0_SIZE == 0x100000 && EDU_FACT_BAR == 0, "BAR 0");

/* gpio-idio-16: out 0-7 at +0, in 0-7 at +1, IRQ control +2, filter +3,
 * out 8-15 +4, in 8-15 +5, IRQ status +6; all in BAR 2 (I/O). */
_Static_assert(IDIO16_VENDOR_ID == 0x494f && IDIO16_DEVICE_ID == 0x0dc8,
               "idio16 id");
_Static_assert(IDIO16_OUT0_7_BAR == 2 && IDIO16_BAR2_SIZE == 8, "BAR 2");
_Static_assert(IDIO16_OUT0_7_OFFSET == 0 && IDIO16_IN0_7_OFFSET == 1 &&
                   IDIO16_IRQ_CTL_OFFSET == 2 &&
                   IDIO16_FILTER_CTL_OFFSET == 3 &&
                   IDIO16_OUT8_15_OFFSET == 4 && IDIO16_IN8_15_OFFSET == 5 &&
                   IDIO16_IRQ_STATUS_OFFSET == 6,
               "idio16 map");
_Static_assert(IDIO16_INTX_PIN == 1, "INTA");

/* ivshmem-spec.rst: IntrMask 0, IntrStatus 4, IVPosition 8, Doorbell 12;
 * shared memory in BAR 2, MSI-X in BAR 1. */
_Static_assert(IVSHMEM_VENDOR_ID == 0x1af4 && IVSHMEM_DEVICE_ID == 0x1110,
               "ivshmem id");
_Static_assert(IVSHMEM_INTRMASK_OFFSET == 0 && IVSHMEM_INTRSTATUS_OFFSET == 4 &&
                   IVSHMEM_IVPOSITION_OFFSET == 8 && IVSHMEM_DB_OFFSET == 12,
               "ivshmem map");
_Static_assert(IVSHMEM_MSIX_TABLE_BAR == 1 && IVSHMEM_MSIX_PBA_BAR == 1 &&
                   IVSHMEM_MSIX_PBA_OFFSET == 0x800 &&
                   IVSHMEM_MSIX_VECTORS == 4,
               "MSI-X");
_Static_assert(IVSHMEM_BAR2_SIZE == 0x100000, "shared memory");

/* A 64-bit register's masks are 64 bits wide: clearing a field keeps the
 * upper half; 32-bit ones are unsigned int. */
_Static_assert(sizeof(EDU_DMA_CMD_START_MASK) == 8, "64-bit mask");
_Static_assert(sizeof(EDU_STATUS_IRQ_FACT_MASK) == 4, "32-bit mask");

Test(guest_h, masks_work_as_a_driver_uses_them)
{
    volatile uint64_t cmd = UINT64_MAX;
    cmd &= ~EDU_DMA_CMD_START_MASK;
    cr_expect_eq(cmd, UINT64_C(0xfffffffffffffffe));
    volatile uint64_t v = EDU_DIR_TO_RAM;
    cmd = (cmd & ~EDU_DMA_CMD_DIR_MASK) | (v << EDU_DMA_CMD_DIR_SHIFT);
    cr_expect_eq((cmd & EDU_DMA_CMD_DIR_MASK) >> EDU_DMA_CMD_DIR_SHIFT,
                 EDU_DIR_TO_RAM);
    volatile uint32_t status = 0x81;
    cr_expect_eq(
        (status & EDU_STATUS_IRQ_FACT_MASK) >> EDU_STATUS_IRQ_FACT_SHIFT, 1u);
    cr_expect_eq(EDU_STATUS_IRQ_FACT_WIDTH, 1);
    cr_expect_eq(IDIO16_IRQ_STATUS_PENDING_MASK, 0x4u);
}
