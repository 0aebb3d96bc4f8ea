/* The protocol server's private contract (server/): what serves a device
 * (struct vdev_server), a connection, messages and replies as handlers see
 * them, and the entry points of transport.c, s2c.c and the handlers. A
 * connection's bytes and fds are conn.c's (conn.h). Not installed. */
#ifndef VDEV_SERVER_SERVER_H
#define VDEV_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/timerfd.h>

#include "base/fdio.h"
#include "base/limits.h"
#include "device/device.h"
#include "server/poll.h"

/* ------------------------------------------------------------ server */

/* epoll data.u32 tags of srv->epoll_fd. Tags from VDEV_EV_MGMT on belong
 * to sources a higher layer added (the management channel, host/mgmt.c):
 * the loop hands their events to srv->ext_dispatch. */
#define VDEV_EV_LISTEN 0u
#define VDEV_EV_CONN 1u
#define VDEV_EV_STOP 2u
#define VDEV_EV_TICK 3u       /* the timerfd: timers and deferred work */
#define VDEV_EV_STREAM 0x100u /* + 4 * stream id + STREAM_EV_* */
#define VDEV_EV_MGMT 0x10000u

struct vdev_mgmt;  /* host/mgmt.c */
struct vdev_memio; /* server/memconn.c */

/* The serving side of a device (server/): the sockets, the loop's fds and
 * the client. */
struct vdev_server {
    int listen_fd;
    char *socket_path; /* removed on teardown when we created it */
    int epoll_fd;
    int stop_fd; /* eventfd written by vdev_stop() */
    volatile int stopping;
    struct vdev_conn *conn; /* current client, or NULL */
    /* DMA_READ/WRITE layout for new clients (AUTO: detect, s2c.c). */
    enum vdev_dma_layout dma_layout;
    /* Sources of a higher layer in epoll_fd (tags >= VDEV_EV_MGMT): the
     * management channel (host/mgmt.c) registers its dispatcher here. */
    int (*ext_dispatch)(struct vdev_dev *dev, uint32_t tag);
    /* While a handler waits for the client (vdev_conn_wait), nested is set
     * and ext_dispatch runs only requests that change nothing, putting the
     * others off; ext_resume is called once the wait is over. */
    bool nested;
    void (*ext_resume)(struct vdev_dev *dev);
    struct vdev_mgmt *mgmt; /* named values and their socket (host/mgmt.c) */
    pid_t successor;        /* > 0: handed over to it (host/handover.c) */
    /* tick.c: one timerfd for the earliest timer deadline, or at once for
     * deferred work (kicked streams, a requested reset). */
    int tick_fd;
    bool in_tick;           /* re-armed once when the tick is done */
    struct itimerspec tick; /* as armed last */
    int tick_flags;
    struct vdev_poll poll;  /* probing before sleeping (poll.h) */
    bool offer_write_multi; /* VERSION echoes write_multiple */
};

/* ------------------------------------------------------------ connection */

/* Initial receive and send buffers of a connection; they grow for large
 * messages and shrink back once those are served. */
#define VDEV_RBUF_INIT (64u * 1024)
#define VDEV_SBUF_INIT (64u * 1024)

/* Receive side: bytes read but not yet served, and the fds that came with
 * them. */
struct vdev_rx {
    uint8_t *buf;
    size_t cap;
    size_t start;           /* served up to here */
    size_t end;             /* read up to here */
    size_t skip;            /* rest of a rejected oversized message */
    struct vdev_fds_in fdq; /* fds read, not yet given to a message */
    size_t fds_msg_end;     /* they belong to the message ending here */
    int fds[VDEV_MAX_MSG_FDS * 4];
};

/* Send side: replies batched until the input is drained. */
struct vdev_tx {
    uint8_t *buf;
    size_t cap, len;
};

/* Everything that lives as long as one client: freed in one talloc_free()
 * on disconnect; destructors close fds and unmap memory. */
struct vdev_conn {
    struct vdev_dev *dev;
    int fd;
    int twin_fd; /* server->client channel, or -1 */
    bool negotiated;
    uint16_t major, minor;
    uint32_t peer_max_msg_fds;
    uint32_t peer_max_data_xfer;
    bool write_multi;

    struct vdev_rx rx; /* server/conn.c's, like tx */
    struct vdev_tx tx;
    bool rx_hot;      /* pipelining: read again before epoll_wait */
    bool out_blocked; /* socket full: input paused until EPOLLOUT */
    /* -errno once the client failed a server->client request (no answer in
     * time, a stream out of step, a stop): it is dropped once the current
     * message is served, and later requests fail at once. */
    int broken;

    uint16_t next_msg_id; /* server->client requests */
    uint32_t s2c_sent;    /* how many, for telling a late reply (loop.c) */
    /* This client's DMA_READ/WRITE layout: SPEC or QEMU once known, AUTO
     * until s2c.c has asked (see vdev_set_dma_layout). */
    enum vdev_dma_layout dma_layout;
    /* While a region write waits for a DMA reply, the client's next
     * commands are served (s2c.c); never from inside one of those. */
    bool s2c_serve, s2c_nested;
    struct vdev_dma dma;
    /* A memory connection's transport (memconn.c; fd is -1), or NULL. */
    struct vdev_memio *mem;
};

/* A received message as handlers see it. fds not taken by the handler
 * (set to -1) are closed after dispatch. */
struct vdev_msg {
    const struct vfio_user_header *hdr;
    const uint8_t *body;
    uint32_t body_len;
    int *fds;
    unsigned nr_fds;
};

/* Reply under construction; handlers fill payload via vdev_reply_alloc(). */
struct vdev_reply {
    uint8_t *payload;
    uint32_t len;
    int fds[VDEV_MAX_MSG_FDS];
    unsigned nr_fds; /* fds to send (not owned; not closed) */
    bool close_fds;  /* ...unless set: then closed once sent */
};

/* ------------------------------------------------------------ modules */

/* tick.c: the loop's timerfd (see struct vdev_server). init creates it and
 * registers dev->loop_wake; aux_event serves tags VDEV_EV_TICK up to
 * VDEV_EV_MGMT (the tick, stream endpoints). */
int vdev_tick_init(struct vdev_dev *dev);
void vdev_server_aux_event(struct vdev_dev *dev, uint32_t tag, uint32_t events);
/* While a handler waits for the client (vdev_conn_wait): such a tag's
 * event is put off (no device code runs meanwhile, and the fd stops
 * reporting); resume, after the wait, has the loop serve them again. */
void vdev_server_aux_aside(struct vdev_dev *dev, uint32_t tag);
void vdev_server_aux_resume(struct vdev_dev *dev);

/* stream_io.c: host endpoints of the device's streams. */
/* Serves every kicked stream (at most a turn's bytes each). */
void vdev_streams_service(struct vdev_dev *dev);
void vdev_stream_io_event(struct vdev_dev *dev, uint32_t tag, uint32_t events);
void vdev_stream_io_park(struct vdev_dev *dev, uint32_t tag);

/* A bound stream's endpoint as the hand-over carries it (host/). */
enum vdev_stream_kind {
    VDEV_STREAM_UNIX = 1,
    VDEV_STREAM_PTY = 2,
    VDEV_STREAM_FILE = 3,
    VDEV_STREAM_STDIO = 4,
};
struct vdev_stream_ep {
    enum vdev_stream_kind kind;
    int listen_fd, in_fd, out_fd, hold_fd; /* -1: none */
    const char *path;  /* unix socket file this endpoint removes, or NULL */
    const char *where; /* as vdev_stream_where() says */
    bool in_eof;
};
/* -ENOENT when the stream is unbound. Fds stay the endpoint's. */
int vdev_stream_ep_get(struct vdev_dev *dev, unsigned id,
                       struct vdev_stream_ep *ep);
/* Binds a stream to received fds (validated; owned on success, left to
 * the caller on error). ep->path is not taken: a successor that refuses
 * later must not remove the socket file its predecessor still serves. */
int vdev_stream_ep_adopt(struct vdev_dev *dev, unsigned id,
                         const struct vdev_stream_ep *ep);
/* Once the hand-over is acknowledged: the socket file is ours to remove. */
void vdev_stream_own_path(struct vdev_dev *dev, unsigned id, const char *path);
/* The successor owns the endpoints: close ours, keep socket files. */
void vdev_streams_disown(struct vdev_dev *dev);

/* transport.c: listening, accepting, the connection's life. Its bytes
 * and fds are server/conn.c's (server/conn.h). */
int vdev_transport_listen_path(struct vdev_dev *dev, const char *path);
int vdev_transport_accept(struct vdev_dev *dev);
void vdev_conn_close(struct vdev_dev *dev);
/* A connected client socket becomes srv->conn (fd owned, closed on error);
 * accept and the hand-over (handover_recv.c) share it. */
int vdev_conn_adopt(struct vdev_dev *dev, int fd);
/* A new connection over fd (-1: memory) as srv->conn, watched by nobody
 * yet; adopt and memconn.c's adopt share it. */
int vdev_conn_new(struct vdev_dev *dev, int fd, struct vdev_conn **_c);

/* loop.c: serves the client now, as the loop does when epoll reports its
 * socket readable (hup: and hung up); for connections no epoll set
 * watches, memory ones. Returns 0, or the -errno the client was dropped
 * for (srv->conn is then NULL). */
int vdev_conn_serve(struct vdev_dev *dev, bool hup);

/* memconn.c: a connection over memory, for programs that drive the server
 * in one thread without sockets (fuzz/fuzz_dispatch.c, tests). The client
 * side is the caller: it queues what the client sends with vdev_mem_send,
 * has it served with vdev_conn_serve, and gets what the server sends
 * through peer->recv. */
struct vdev_mem_peer {
    /* What the server sends: bytes, and fds riding on their first byte
     * (the caller's only for the call: dup what must live on). Returns
     * how many bytes it took (fds go with the first), fewer than len
     * when its side is full (the server then waits, as for a socket, until
     * vdev_conn_serve), or -errno (-EPIPE: the client is gone). Called
     * from inside a handler too (a request to the client, s2c.c): the
     * client's answer may be queued here, and is read before the handler
     * goes on. */
    ssize_t (*recv)(void *opaque, struct vdev_conn *c, const uint8_t *buf,
                    size_t len, const int *fds, unsigned nr_fds);
    void *opaque;
};
/* Makes a memory connection dev's client (dev must have none). */
int vdev_mem_adopt(struct vdev_dev *dev, const struct vdev_mem_peer *peer);
/* Queues one send of the client: len (> 0) bytes, and nr_fds fds on the
 * first of them that become the connection's whatever the result. */
int vdev_mem_send(struct vdev_conn *c, const void *buf, size_t len, int *fds,
                  unsigned nr_fds);
/* The client shuts down its sending side: reads end in EOF once the
 * queue is empty. */
void vdev_mem_shutdown(struct vdev_conn *c);
/* conn.c's and loop.c's side of it: a stream read of the queue (as
 * vdev_recv_fds; -EAGAIN when empty, 0 at EOF), whether a read would find
 * anything (bytes, or EOF), one
 * non-blocking send to the peer (bytes taken, or -errno), and a send of
 * all of iov (0, -ETIMEDOUT when the peer takes no more, or -errno). */
ssize_t vdev_mem_recv(struct vdev_conn *c, void *buf, size_t len,
                      struct vdev_fds_in *in);
bool vdev_mem_readable(const struct vdev_conn *c);
ssize_t vdev_mem_deliver(struct vdev_conn *c, const void *buf, size_t len,
                         const int *fds, unsigned nr_fds);
int vdev_mem_send_all(struct vdev_conn *c, const struct iovec *iov, int iovcnt,
                      const int *fds, unsigned nr_fds);

/* Server->client request (DMA_READ/WRITE) and its reply, synchronously
 * (s2c.c). req is the payload (the header is built here); the reply's
 * payload is copied to reply. Returns the reply payload length (at most
 * reply_len), or -errno: the client's error, -ETIMEDOUT, -EPROTO for a
 * malformed reply, -ECONNRESET. Client commands that arrive on the main
 * socket meanwhile stay in the input for the dispatcher, unless
 * c->s2c_serve says they may be served at once, in order. */
int vdev_conn_request(struct vdev_conn *c, uint16_t cmd, const void *req,
                      size_t req_len, void *reply, size_t reply_len);
/* loop.c: dispatches the command at the head of the input if it carries
 * no fds, while a handler waits for the client (s2c.c): 1 when one was
 * served (its reply queued), 0 when there is none such, -errno. */
int vdev_serve_nested(struct vdev_conn *c);

/* loop.c: a wait for the client's socket in the middle of serving a
 * message (a vdev_wait_fn; arg: the connection): ends on vdev_stop() with
 * -ECANCELED, and meanwhile the management channel's read-only requests
 * are answered, so a client that does not answer cannot silence it. A
 * memory connection's wait ends at once (-ETIMEDOUT unless its queue has
 * input for a reader). */
int vdev_conn_wait(void *conn, int fd, short events, int64_t deadline);

/* s2c.c: server-to-client channel. Creates the twin socket pair: the server
 * end goes to c->twin_fd (closed with the connection), the client end to
 * *client_end for the VERSION reply; the caller closes it once sent. */
int vdev_twin_setup(struct vdev_conn *c, int *client_end);
/* DMA through the client, for maps without an fd: the connection's
 * vdev_dma_msg_fn (peer: the connection). */
int vdev_s2c_dma(void *peer, uint64_t iova, void *buf, uint64_t len,
                 bool is_write);

/* Message handlers: return 0 (reply built in r) or -errno (error reply). */
typedef int vdev_handler_fn(struct vdev_conn *c, struct vdev_msg *m,
                            struct vdev_reply *r);
vdev_handler_fn vdev_handle_version;
vdev_handler_fn vdev_handle_dma_map;
vdev_handler_fn vdev_handle_dma_unmap;
vdev_handler_fn vdev_handle_device_get_info;
vdev_handler_fn vdev_handle_region_info;
vdev_handler_fn vdev_handle_region_io_fds;
vdev_handler_fn vdev_handle_irq_info;
vdev_handler_fn vdev_handle_set_irqs;
vdev_handler_fn vdev_handle_region_read;
vdev_handler_fn vdev_handle_region_write;
vdev_handler_fn vdev_handle_region_write_multi;
vdev_handler_fn vdev_handle_device_reset;
vdev_handler_fn vdev_handle_dirty_pages;
vdev_handler_fn vdev_handle_device_feature;
vdev_handler_fn vdev_handle_mig_data_read;
vdev_handler_fn vdev_handle_mig_data_write;

#endif /* VDEV_SERVER_SERVER_H */
