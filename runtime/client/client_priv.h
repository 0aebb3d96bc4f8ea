/* libvdev client internals: the connection structure shared by the client
 * modules (client*.c) and the pieces unit tests exercise directly. */
#ifndef VDEV_CLIENT_PRIV_H
#define VDEV_CLIENT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vdev_client.h"

/* fds the client accepts in one message (its max_msg_fds). */
#define VDEV_CLIENT_MAX_FDS 16u
/* Room for a header and a fixed payload part around the largest data
 * transfer the client accepts. */
#define VDEV_CLIENT_MSG_SLACK 4096u

struct vdev_client_dma_mem {
    uint64_t iova;
    uint64_t size;
    uint8_t *host;
};

struct vdev_client {
    int fd;
    int twin_fd; /* server->client channel, or -1 */
    uint16_t next_id;
    unsigned timeout_ms; /* 0: wait for replies forever */
    bool negotiated;
    bool qemu_dma;                /* answer DMA_READ/WRITE as QEMU 10.1/10.2 */
    struct vdev_client_caps want; /* what we proposed */
    struct vdev_client_caps caps; /* what the server answered */
    struct vdev_client_dma_mem *mem; /* talloc array */
    unsigned nr_mem;
    uint8_t *rbuf; /* one received message */
    size_t rcap;
};

/* A message read off a socket: header and payload in cl->rbuf. */
struct vdev_client_msg {
    struct vfio_user_header hdr;
    uint8_t *body;
    uint32_t body_len;
    int fds[VDEV_CLIENT_MAX_FDS];
    unsigned nr_fds;
};

/* client_io.c: whole-message send and receive on a stream socket. */
int vdev_client_sendv(int fd, const void *hdr, size_t hdr_len, const void *body,
                      size_t body_len, const int *fds, unsigned nr_fds);
/* Reads one message into cl->rbuf. Messages larger than the client accepts
 * are drained and reported as -EMSGSIZE so the stream stays in step. fds
 * beyond VDEV_CLIENT_MAX_FDS are closed. */
int vdev_client_recv_msg(struct vdev_client *cl, int fd,
                         struct vdev_client_msg *m);

/* client_version.c: capability JSON both ways. */
char *vdev_client_caps_to_json(void *mem_ctx,
                               const struct vdev_client_caps *caps);
/* Parses the server's VERSION JSON (NUL-terminated, len bytes including
 * the NUL) strictly against what was proposed. Absent fields take the
 * spec's defaults. *twin_fd_index gets the twin socket fd index or -1.
 * Returns 0 or -EPROTO / -EINVAL. */
int vdev_client_caps_from_json(const char *json, size_t len,
                               const struct vdev_client_caps *proposed,
                               struct vdev_client_caps *out,
                               int *twin_fd_index);
void vdev_client_default_caps(struct vdev_client_caps *caps);

/* client_dma.c: answers a server->client DMA_READ/DMA_WRITE on fd. */
int vdev_client_serve_request(struct vdev_client *cl, int fd,
                              struct vdev_client_msg *m);
/* Error reply (header only) to a server request. */
int vdev_client_send_error(int fd, const struct vfio_user_header *req,
                           uint32_t error_no);

#endif /* VDEV_CLIENT_PRIV_H */
