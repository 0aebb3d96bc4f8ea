/* vdev-edunext: a second build of the edu model from the same generated C
 * (generated/edu.c compiled again without its main), under another name
 * and version: the hand-over tests upgrade vdev-edu to it and back. */
#include <stdlib.h>
#include <string.h>

#include "edu.h"
#include "vdev.h"

int
main(int argc, char **argv)
{
    static const struct vdev_server_info info = {
        .name = "vdev-edunext",
        .description = "edu device, second build (tests/edunext/main.c)",
    };
    return vdev_server_main(argc, argv, &info, edu_create);
}
