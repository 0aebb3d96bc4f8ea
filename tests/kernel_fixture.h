/* The fixture of the kernel-behaviour tests (tests/test_kernel_*.c): the
 * test device served in-process, with or without its capabilities (MSI,
 * MSI-X, PCI Express) and optionally an expansion ROM, one raw connection
 * to it, and a call that sends fds and keeps the reply. */
#ifndef KERNEL_FIXTURE_H
#define KERNEL_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rawsock.h"
#include "testdev.h"

#define KFIX_ROM_SIZE 4096u

struct kfix {
    struct testsrv srv;
    int fd;
    uint16_t id;
};

/* Starts the test device (its capabilities when caps, a ROM when rom),
 * connects and negotiates. Asserts on failure. */
void kfix_up(struct kfix *k, bool caps, bool rom);
void kfix_down(struct kfix *k);
/* One message with fds; 0, the reply's -errno, or a transport -errno. The
 * reply stays in r when r is not NULL (free it with raw_reply_free). */
int kfix_call(struct kfix *k, uint16_t cmd, const void *payload, size_t len,
              const int *fds, unsigned nr_fds, struct raw_reply *r);
/* SET_IRQS with data bytes after the fixed part and fds; argsz 0 means the
 * size of what is sent. */
int kfix_set_irqs(struct kfix *k, uint32_t argsz, uint32_t flags,
                  uint32_t index, uint32_t start, uint32_t count,
                  const void *data, size_t dlen, const int *fds,
                  unsigned nr_fds);
/* Region access; the reply's count in *done when not NULL. */
int kfix_read(struct kfix *k, uint32_t region, uint64_t offset, void *buf,
              uint32_t count, uint32_t *done);
int kfix_write(struct kfix *k, uint32_t region, uint64_t offset,
               const void *buf, uint32_t count, uint32_t *done);
/* A new nonblocking eventfd; events counted on it (0 if none), reset. */
int kfix_eventfd(void);
uint64_t kfix_events(int fd);
/* Whether fd is open in this process. */
bool kfix_fd_open(int fd);

#endif /* KERNEL_FIXTURE_H */
