/* Test support for the model tests: runs a real model server binary
 * ($VDEV_BUILD/bin/vdev-NAME) on a socket in a fresh temp dir and talks to
 * it with the client library and the management channel. */
#ifndef MODEL_SERVER_H
#define MODEL_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "vdev_client.h"

struct model_server {
    pid_t pid;
    char dir[64];
    char sock[128];
    char mgmt[160];
    struct vdev_client *cl;
};

/* Starts vdev-NAME, waits until it accepts, connects and negotiates.
 * Asserts (Criterion) on failure. */
void model_server_start(struct model_server *s, const char *name);
/* The same for a program at $VDEV_BUILD/REL (e.g. "tests/vdev-counter-v1"). */
void model_server_start_prog(struct model_server *s, const char *rel);
/* The same with the server's stderr discarded (for tests that make it
 * refuse things on purpose). */
void model_server_start_quiet(struct model_server *s, const char *rel);
/* The same with more options (NULL-terminated; "%s" in one is replaced by
 * the server's temp dir). */
void model_server_start_args(struct model_server *s, const char *rel,
                             const char *const *args);
/* Closes the client, SIGTERMs the server, waits for it and removes the
 * temp dir. Safe on a partly started or already stopped server. Returns
 * the server's wait status, or -1 when there was no process. */
int model_server_stop(struct model_server *s);

/* The server serves one vfio-user client at a time: detach lets another
 * (vdevctl) in, attach connects again. */
void model_server_detach(struct model_server *s);
void model_server_attach(struct model_server *s);

/* Region access of 1, 2, 4 or 8 bytes (host byte order); asserts success. */
uint64_t model_rd(struct model_server *s, uint32_t region, uint64_t off,
                  unsigned width);
void model_wr(struct model_server *s, uint32_t region, uint64_t off,
              unsigned width, uint64_t v);

/* Reads until (value & mask) == want, for up to timeout_ms (1 ms apart);
 * the last value read (asserts nothing). For device work that takes
 * time, such as edu's factorial (status bit 0 while computing). */
uint64_t model_poll(struct model_server *s, uint32_t region, uint64_t off,
                    unsigned width, uint64_t mask, uint64_t want,
                    int timeout_ms);

/* Management channel get/set; assert success. */
uint64_t model_get(struct model_server *s, const char *name);
void model_set(struct model_server *s, const char *name, uint64_t v);

/* Offset of the first capability with this id, or 0. */
unsigned model_find_cap(struct model_server *s, uint8_t id);
/* A new nonblocking eventfd. */
int model_eventfd(void);
/* Waits up to timeout_ms for the eventfd to count, and consumes it. */
bool model_fired(int fd, int timeout_ms);

#endif /* MODEL_SERVER_H */
