/* edu companion: the factorial unit, a loop the .vdev language has no
 * statement for. */
#include <stdint.h>

#include "edu.h"

uint32_t
factorial(struct vdev_dev *dev, uint32_t n)
{
    uint32_t r = 1;

    (void)dev;
    /* 34! and above are 0 mod 2^32: stop early on huge inputs. */
    for (uint32_t i = 2; i <= n && r != 0; i++)
        r *= i;
    return r;
}
