/* Minimal raw vfio-user client for the protocol tests: sends bytes and fds
 * exactly as given and receives one reply, so malformed input can be
 * built by hand. */
#ifndef RAWSOCK_H
#define RAWSOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vdev_proto.h"

#define RAW_MAX_FDS 8        /* kept from a reply */
#define RAW_SEND_MAX_FDS 128 /* sent with one message */

struct raw_reply {
    struct vfio_user_header hdr;
    uint8_t *payload; /* malloc'ed, hdr.msg_size - 16 bytes */
    uint32_t len;
    int fds[RAW_MAX_FDS];
    unsigned nr_fds;
};

/* Blocking connect with a 5 s receive timeout; fd or -errno. */
int raw_connect(const char *path);
/* Sends all of buf with fds on its first byte; 0 or -errno. */
int raw_send(int fd, const void *buf, size_t len, const int *fds,
             unsigned nr_fds);
/* Builds and sends one message. */
int raw_send_msg(int fd, uint16_t id, uint16_t cmd, uint32_t flags,
                 const void *payload, size_t len, const int *fds,
                 unsigned nr_fds);
/* Receives one whole message; 0 or -errno (-ETIMEDOUT after 5 s). */
int raw_recv(int fd, struct raw_reply *r);
void raw_reply_free(struct raw_reply *r);
/* Sends a message and receives one reply; returns 0 when the reply is OK,
 * the reply's -error_no when it has the Error flag, or a transport -errno.
 * The reply is left in r (free it) when r is not NULL. */
int raw_call(int fd, uint16_t id, uint16_t cmd, const void *payload, size_t len,
             struct raw_reply *r);
/* VERSION with the given JSON (NULL: none); returns as raw_call. */
int raw_version(int fd, const char *json, struct raw_reply *r);
int raw_negotiate(int fd);

int raw_region_read(int fd, uint32_t region, uint64_t offset, void *buf,
                    uint32_t count);
int raw_region_write(int fd, uint32_t region, uint64_t offset, const void *buf,
                     uint32_t count);
/* Number of open fds of this process. */
int raw_count_fds(void);

#endif /* RAWSOCK_H */
