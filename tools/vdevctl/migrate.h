/* vdevctl save / load: device state to and from a file (migration v2). */
#ifndef VDEVCTL_MIGRATE_H
#define VDEVCTL_MIGRATE_H

#include <stdbool.h>

struct vdev_client;

/* True when argv (argc words, the command first) is save or load. */
bool vdevctl_is_migrate(int argc, char **argv);
/* Runs it; prints errors itself. Returns the exit status. */
int vdevctl_migrate(struct vdev_client *cl, const char *sock, int argc,
                    char **argv);

#endif /* VDEVCTL_MIGRATE_H */
