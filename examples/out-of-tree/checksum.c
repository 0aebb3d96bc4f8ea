/* checksum's companion: the CRC-32 (IEEE, reflected) of one little-endian
 * word, a loop the .vdev language has no statement for. */
#include <stdint.h>

#include "checksum.h"

uint32_t
crc32_word(struct vdev_dev *dev, uint32_t crc, uint32_t word)
{
    (void)dev;
    for (int i = 0; i < 32; i++) {
        uint32_t bit = (crc ^ (word >> i)) & 1;

        crc = (crc >> 1) ^ (bit ? 0xedb88320u : 0);
    }
    return crc;
}
