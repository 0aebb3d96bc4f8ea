/* Giving freed memory back to the system (see mem.h). */
#include <malloc.h>

#include "base/mem.h"

void
vdev_mem_released(size_t bytes)
{
    /* Cheap next to the large message that came before: it walks the
     * free lists and madvises away the whole free pages. */
    if (bytes >= VDEV_MEM_LARGE)
        malloc_trim(0);
}
