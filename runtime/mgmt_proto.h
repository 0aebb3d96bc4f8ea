/* Management channel wire limits, shared by mgmt.c (server) and
 * mgmt_client.c. The protocol itself: one text line per request, one
 * "ok ..." or "error: ..." line per reply; see vdev_mgmt_listen(). */
#ifndef VDEV_MGMT_PROTO_H
#define VDEV_MGMT_PROTO_H

/* Longest request line, newline excluded; longer ones get an error. */
#define VDEV_MGMT_LINE_MAX 512u
/* Longest name of a registered value. */
#define VDEV_MGMT_NAME_MAX 128u
/* Seconds a client waits for a reply before giving up. */
#define VDEV_MGMT_TIMEOUT_S 5

#endif /* VDEV_MGMT_PROTO_H */
