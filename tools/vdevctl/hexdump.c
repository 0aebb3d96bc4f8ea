/* vdevctl info -x: config space in lspci -x's layout, the format
 * `lspci -F FILE` reads back (pciutils' dump access method). */
#include <linux/pci_regs.h>

#include "decode.h"

void
vdevctl_print_hex(FILE *f, const uint8_t *cfg, size_t len)
{
    uint32_t class_code = rd32(cfg, PCI_CLASS_REVISION) >> 8;

    fprintf(f, "00:00.0 %s [%04x]: Device %04x:%04x (rev %02x)\n",
            vdevctl_class_name(class_code), class_code >> 8,
            rd16(cfg, PCI_VENDOR_ID), rd16(cfg, PCI_DEVICE_ID),
            cfg[PCI_REVISION_ID]);
    for (size_t i = 0; i < len; i++) {
        if (i % 16 == 0)
            fprintf(f, "%02zx:", i);
        fprintf(f, " %02x", cfg[i]);
        if (i % 16 == 15)
            fputc('\n', f);
    }
    fputc('\n', f);
}
