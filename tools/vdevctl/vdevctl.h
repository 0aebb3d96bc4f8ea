/* vdevctl: the commands main.c dispatches to. */
#ifndef VDEVCTL_H
#define VDEVCTL_H

#include <stddef.h>
#include <stdio.h>

/* Longest management request line (runtime/mgmt_proto.h says 512). */
#define VDEVCTL_MGMT_LINE_MAX 512

struct vdev_client;

/* Prints the lspci-style description; on failure *what names the step. */
int vdevctl_info(struct vdev_client *cl, FILE *f, const char **what);

/* Migration stream to / from a file; the device runs afterwards. */

/* Management channel: argv[0] is get, set, list, stats or "mgmt" (the
 * rest of the words sent as one line). Prints the reply's text to f; on a
 * server "error: ..." reply returns -EREMOTEIO with its text in err. */
int vdevctl_mgmt(const char *path, int argc, char **argv, FILE *f,
                 const char **what, char *err, size_t err_len);

#endif /* VDEVCTL_H */
