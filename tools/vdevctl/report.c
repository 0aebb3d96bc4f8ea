/* vdevctl: how failures reach people (one line on stderr) and programs
 * (an {"error": ...} document on stdout with --json), and JSON output. */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vdev_log.h"
#include "vdevctl.h"

static void
json_error(struct vdevctl *c, const char *kind, const char *msg, int status)
{
    struct json_object *e = json_object_new_object();
    struct json_object *o = json_object_new_object();

    json_object_object_add(e, "kind", json_object_new_string(kind));
    json_object_object_add(e, "message", json_object_new_string(msg));
    json_object_object_add(e, "exit_status", json_object_new_int(status));
    if (c->sock)
        json_object_object_add(e, "socket", json_object_new_string(c->sock));
    if (c->cmd)
        json_object_object_add(e, "command", json_object_new_string(c->cmd));
    json_object_object_add(o, "error", e);
    vdevctl_json_print(o);
}

static int
report(struct vdevctl *c, const char *kind, int status, const char *fmt,
       va_list ap)
{
    char msg[1024];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    vdev_logf(VDEV_LOG_ERROR, "%s", msg);
    if (status == VDEVCTL_EXIT_USAGE)
        fprintf(stderr, "Try 'vdevctl --help'.\n");
    if (c->json)
        json_error(c, kind, msg, status);
    return status;
}

int
vdevctl_fail(struct vdevctl *c, const char *kind, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = report(c, kind, VDEVCTL_EXIT_FAIL, fmt, ap);
    va_end(ap);
    return rc;
}

int
vdevctl_fail_errno(struct vdevctl *c, const char *what, int err)
{
    const char *kind = err == -ETIMEDOUT ? "timeout" : "refused";

    return vdevctl_fail(c, kind, "%s: %s: %s", c->sock, what, strerror(-err));
}

int
vdevctl_usage_error(struct vdevctl *c, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = report(c, "usage", VDEVCTL_EXIT_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

void
vdevctl_json_print(struct json_object *o)
{
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

struct json_object *
vdevctl_json_hex(uint64_t v, unsigned digits)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "0x%0*llx", (int)digits, (unsigned long long)v);
    return json_object_new_string(buf);
}
