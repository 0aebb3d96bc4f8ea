/* The fixture the protocol suites share (see proto_fixture.h). */
#include <criterion/criterion.h>
#include <unistd.h>

#include "proto_fixture.h"
#include "rawsock.h"

void
proto_fixture_up(struct testsrv *s, int *fd, bool caps, bool negotiate)
{
    cr_assert_eq(caps ? testsrv_init_caps(s) : testsrv_init(s), 0);
    cr_assert_eq(testsrv_start(s), 0);
    *fd = raw_connect(s->path);
    cr_assert_geq(*fd, 0);
    if (negotiate)
        cr_assert_eq(raw_negotiate(*fd), 0);
}

void
proto_fixture_down(struct testsrv *s, int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
    cr_assert_eq(testsrv_stop(s), 0);
    testsrv_free(s);
}
