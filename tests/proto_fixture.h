/* The fixture the protocol suites share: the test device served in-process
 * and one raw connection to it. */
#ifndef PROTO_FIXTURE_H
#define PROTO_FIXTURE_H

#include <stdbool.h>

#include "testdev.h"

/* Starts the test device (with its capabilities when caps) and connects to
 * it; sends VERSION when negotiate. Asserts on failure. */
void proto_fixture_up(struct testsrv *s, int *fd, bool caps, bool negotiate);
/* Closes the connection (if open) and stops and frees the server. */
void proto_fixture_down(struct testsrv *s, int *fd);

#endif /* PROTO_FIXTURE_H */
