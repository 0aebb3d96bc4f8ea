/* libvdev client side: a synchronous vfio-user client used by vdevctl, the
 * tests and the benchmarks. One connection per struct vdev_client. */
#ifndef VDEV_CLIENT_H
#define VDEV_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vdev_log.h"
#include "vdev_proto.h"

#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

struct vdev_client;

struct vdev_client_caps {
    uint32_t max_msg_fds;
    uint32_t max_data_xfer_size;
    uint32_t max_dma_maps;
    uint64_t pgsizes;
    bool twin_socket;
    bool write_multiple;
};

/* Connects to a server socket. mem_ctx is a talloc context (or NULL).
 * Returns 0 or -errno; *out is valid on success. */
int vdev_client_connect(void *mem_ctx, const char *path,
                        struct vdev_client **out);
/* Wraps an already connected socket (ownership passes to the client). */
int vdev_client_from_fd(void *mem_ctx, int fd, struct vdev_client **out);
void vdev_client_close(struct vdev_client *cl);
int vdev_client_fd(const struct vdev_client *cl);
/* The twin socket the server passed in its VERSION reply, or -1; poll it
 * with vdev_client_fd() and call vdev_client_serve() when readable. */
int vdev_client_twin_fd(const struct vdev_client *cl);

/* Bounds every wait for a reply (ms; 0, the default, waits forever). A
 * call that times out returns -ETIMEDOUT; its late reply is discarded. */
void vdev_client_set_timeout(struct vdev_client *cl, unsigned timeout_ms);

/* VERSION handshake. want may be NULL (defaults); the server's answer is
 * stored and available from vdev_client_server_caps(). */
int vdev_client_negotiate(struct vdev_client *cl,
                          const struct vdev_client_caps *want);
const struct vdev_client_caps *
vdev_client_server_caps(const struct vdev_client *cl);

/* Raw message: sends cmd with payload and fds, waits for the reply with the
 * same id. The reply payload (header stripped) is copied to reply (at most
 * reply_cap bytes; *reply_len gets the full length). Returns 0, or the
 * negative errno the server put in an error reply, or a transport -errno.
 * fds received with the reply are stored in rfds (up to *nr_rfds). */
int vdev_client_call(struct vdev_client *cl, uint16_t cmd, const void *req,
                     size_t req_len, const int *fds, unsigned nr_fds,
                     void *reply, size_t reply_cap, size_t *reply_len,
                     int *rfds, unsigned *nr_rfds);
/* Sends bytes as they are (for malformed-message tests). */
int vdev_client_send_raw(struct vdev_client *cl, const void *buf, size_t len,
                         const int *fds, unsigned nr_fds);
/* Receives one whole message (header + payload) into buf. Returns its total
 * size or -errno; a message larger than cap is consumed whole and cut to
 * cap bytes (compare the return value with cap). */
ssize_t vdev_client_recv_raw(struct vdev_client *cl, void *buf, size_t cap,
                             int *rfds, unsigned *nr_rfds);

int vdev_client_device_info(struct vdev_client *cl,
                            struct vfio_device_info *out);
/* Fills out (fixed part) and copies the capability chain into caps (the
 * bytes after the fixed part, up to caps_cap; *caps_len gets its length).
 * *fd gets the region's mmap fd or -1 (caller closes). */
int vdev_client_region_info(struct vdev_client *cl, uint32_t index,
                            struct vfio_region_info *out, void *caps,
                            size_t caps_cap, size_t *caps_len, int *fd);
int vdev_client_irq_info(struct vdev_client *cl, uint32_t index,
                         struct vfio_irq_info *out);
int vdev_client_region_read(struct vdev_client *cl, uint32_t region,
                            uint64_t offset, void *buf, uint32_t count);
int vdev_client_region_write(struct vdev_client *cl, uint32_t region,
                             uint64_t offset, const void *buf, uint32_t count);
int vdev_client_config_read(struct vdev_client *cl, uint32_t offset, void *buf,
                            uint32_t count);
int vdev_client_config_write(struct vdev_client *cl, uint32_t offset,
                             const void *buf, uint32_t count);
/* Reads the whole config space (size bytes: 256 or 4096). */
int vdev_client_config_dump(struct vdev_client *cl, uint8_t *buf, size_t size);
/* DMA map with an fd (mmap-able memory) or fd = -1 (message-based). */
int vdev_client_dma_map(struct vdev_client *cl, uint64_t iova, uint64_t size,
                        int fd, uint64_t offset, uint32_t prot);
int vdev_client_dma_unmap(struct vdev_client *cl, uint64_t iova, uint64_t size,
                          uint32_t flags);
/* SET_IRQS TRIGGER with eventfds for vectors [start, start + nr). nr = 0
 * with fds = NULL disables the index. */
int vdev_client_set_irqs(struct vdev_client *cl, uint32_t index, uint32_t flags,
                         uint32_t start, uint32_t count, const int *fds,
                         const uint8_t *bools);
int vdev_client_reset(struct vdev_client *cl);

/* Message-based DMA: the server sends DMA_READ/DMA_WRITE requests to the
 * client. The client library serves them from memory registered here while
 * it waits for replies (and from the twin socket when negotiated). */
int vdev_client_add_dma_memory(struct vdev_client *cl, uint64_t iova,
                               void *host, uint64_t size);
/* Serves pending server->client requests without blocking; returns the
 * number served or -errno. */
int vdev_client_serve(struct vdev_client *cl);
/* Answers DMA_READ/DMA_WRITE as QEMU 10.1/10.2 do instead of in the spec's
 * layout: a 32-bit count, data at offset 12, replies padded to the spec's
 * size, a DMA_WRITE reply without payload (to test a server against what
 * QEMU sends). Off by default. */
void vdev_client_set_qemu_dma_layout(struct vdev_client *cl, bool on);

/* ------------------------------------------------ migration (v2) */

/* Device state (enum vfio_device_mig_state) through DEVICE_FEATURE
 * MIG_DEVICE_STATE. set: the server takes combined transitions itself. */
int vdev_client_mig_get_state(struct vdev_client *cl, uint32_t *state);
int vdev_client_mig_set_state(struct vdev_client *cl, uint32_t state);
/* Stops the device (STOP_COPY), reads its whole state stream with
 * MIG_DATA_READ and leaves it in STOP. The buffer is a talloc child of
 * mem_ctx. */
int vdev_client_mig_save(struct vdev_client *cl, void *mem_ctx, uint8_t **buf,
                         size_t *len);
int vdev_client_mig_save_file(struct vdev_client *cl, FILE *f);
/* RESUMING, the stream through MIG_DATA_WRITE, then STOP, where the server
 * validates and installs it (or refuses: the device stays RESUMING and
 * unchanged). The device is left in STOP; set RUNNING to start it. */
int vdev_client_mig_load(struct vdev_client *cl, const void *buf, size_t len);
int vdev_client_mig_load_file(struct vdev_client *cl, FILE *f);

/* ------------------------------------------------ management channel */

/* The text socket of vdev_mgmt_listen() (vdevctl MGMT_SOCKET get/set/list/
 * stats). One request line (no newline) gets one reply line, stored with
 * its newline stripped in reply (cut to cap - 1 bytes; reply may be NULL).
 * Return 0 for an "ok ..." reply, -EREMOTEIO for "error: ..." (reply says
 * why), -EINVAL for a line with a newline or too long, or a transport
 * -errno (-ETIMEDOUT: no reply within 5 s). */
int vdev_mgmt_client_command(const char *path, const char *line, char *reply,
                             size_t cap);
/* The same over a connection kept open for several requests. */
int vdev_mgmt_client_open(const char *path); /* fd or -errno */
int vdev_mgmt_client_exchange(int fd, const char *line, char *reply,
                              size_t cap);
/* "get NAME" with the value parsed; "set NAME VALUE". */
int vdev_mgmt_client_get(const char *path, const char *name, uint64_t *value);
int vdev_mgmt_client_set(const char *path, const char *name, uint64_t value);
/* "save FILE" / "load FILE" with FILE made absolute against the caller's
 * working directory (the server's may differ). reply as above. */
int vdev_mgmt_client_save(const char *path, const char *file, char *reply,
                          size_t cap);
int vdev_mgmt_client_load(const char *path, const char *file, char *reply,
                          size_t cap);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif /* VDEV_CLIENT_H */
