/* vdev-hostdev: the issue-11 test device (hostdev.c) as a standalone
 * server, for the tests that need a whole process: --clock, --stream,
 * the management channel's clock and events, vdevctl, hand-over. */
#include "hostdev.h"

int
main(int argc, char **argv)
{
    static const struct vdev_server_info info = {
        .name = "vdev-hostdev",
        .description = "a test device with timers, a stream, events and "
                       "config windows",
    };

    return vdev_server_main(argc, argv, &info, hostdev_create);
}
