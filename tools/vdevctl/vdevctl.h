/* vdevctl: the commands main.c dispatches to. */
#ifndef VDEVCTL_H
#define VDEVCTL_H

#include <stdio.h>

struct vdev_client;

/* Prints the lspci-style description; on failure *what names the step. */
int vdevctl_info(struct vdev_client *cl, FILE *f, const char **what);

#endif /* VDEVCTL_H */
