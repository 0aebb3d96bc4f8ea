/* vdevctl: the state one run shares (options, socket, command) and the
 * commands main.c dispatches to. */
#ifndef VDEVCTL_H
#define VDEVCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses (vdevctl(1) documents them). */
enum {
    VDEVCTL_EXIT_OK = 0,
    VDEVCTL_EXIT_FAIL = 1,  /* the request failed at run time */
    VDEVCTL_EXIT_USAGE = 2, /* the command line is wrong */
};

/* Longest management request line (runtime/base/mgmt_proto.h says 512). */
#define VDEVCTL_MGMT_LINE_MAX 512
/* Longest management reply vdevctl reads. */
#define VDEVCTL_REPLY_MAX 65536
/* How long a vfio-user request may take before vdevctl gives up. */
#define VDEVCTL_TIMEOUT_MS 10000

struct json_object;
struct vdev_client;

/* One region access: read / write arguments, parsed before connecting. */
struct vdevctl_access {
    uint32_t region;
    uint64_t offset;
    unsigned width;
    uint64_t value;
};

struct vdevctl {
    const char *prog; /* argv[0]: hints name programs beside it */
    const char *sock;
    const char *cmd;
    bool json;
    unsigned hex;         /* -x given this many times (info) */
    unsigned interval_ms; /* watch refresh period */
    unsigned long count;  /* watch: refreshes before stopping; 0: forever */
    struct vdevctl_access acc;
};

/* ------------------------------------------------------------ report.c */

/* Prints a run-time failure: "vdevctl[PID]: error: MESSAGE" on stderr
 * (vdev_logf) and, with
 * --json, {"error": {...}} on stdout. kind is a short word programs can
 * test (no-server, wrong-socket, busy, timeout, refused, io, protocol,
 * permission). Returns VDEVCTL_EXIT_FAIL. */
int vdevctl_fail(struct vdevctl *c, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "SOCKET: WHAT: strerror(-err)" as a failure. */
int vdevctl_fail_errno(struct vdevctl *c, const char *what, int err);
/* A usage error: the message and a pointer to --help; returns
 * VDEVCTL_EXIT_USAGE. */
int vdevctl_usage_error(struct vdevctl *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints a JSON document on stdout and frees it. */
void vdevctl_json_print(struct json_object *o);
/* "0x" and the value in hex, zero-padded to digits. */
struct json_object *vdevctl_json_hex(uint64_t v, unsigned digits);

/* ------------------------------------------------------------ connect.c */

/* Connects to the vfio-user socket and negotiates; on failure reports why
 * (no server, a management socket, a server busy with another client) and
 * returns VDEVCTL_EXIT_FAIL. */
int vdevctl_open_vfio(struct vdevctl *c, struct vdev_client **out);
/* Opens the management socket, refusing fast a path that is a vfio-user
 * socket; returns the fd, or reports and returns -1. */
int vdevctl_open_mgmt(struct vdevctl *c);
/* One management request on fd; reply gets the text after "ok" / "ok ".
 * Reports a refusal ("error: ...") or a wrong socket; returns 0 or
 * VDEVCTL_EXIT_FAIL. */
int vdevctl_ask(struct vdevctl *c, int fd, const char *line, char *reply,
                size_t cap);

/* ------------------------------------------------------------ commands */

int vdevctl_info(struct vdevctl *c, struct vdev_client *cl);
int vdevctl_read(struct vdevctl *c, struct vdev_client *cl);
int vdevctl_write(struct vdevctl *c, struct vdev_client *cl);
int vdevctl_reset(struct vdevctl *c, struct vdev_client *cl);
int vdevctl_save(struct vdevctl *c, struct vdev_client *cl, const char *file);
int vdevctl_load(struct vdevctl *c, struct vdev_client *cl, const char *file);

int vdevctl_list(struct vdevctl *c, int fd);
int vdevctl_get(struct vdevctl *c, int fd, const char *name);
int vdevctl_set(struct vdevctl *c, int fd, const char *name, const char *value);
int vdevctl_stats(struct vdevctl *c, int fd);
int vdevctl_upgrade(struct vdevctl *c, int fd, const char *binary);
/* "mgmt WORD...": the words sent as one request line. */
int vdevctl_raw(struct vdevctl *c, int fd, char **words, int nr);
int vdevctl_watch(struct vdevctl *c, int fd);

/* One NAME=0xHEX word of a values / get / set reply. */
struct vdevctl_value {
    char *name;
    uint64_t value;
    unsigned digits;
};
/* Parses the words of a values reply into a talloc array (child of
 * ctx); -EPROTO for anything else. */
int vdevctl_parse_values(void *ctx, const char *text,
                         struct vdevctl_value **out, unsigned *nr);

/* Region names: bar0..bar5, rom, config or a number. */
bool vdevctl_parse_region(const char *s, uint32_t *out);
const char *vdevctl_region_name(uint32_t index, char *buf, size_t len);
/* Decimal, 0x hex or 0 octal; no sign. */
bool vdevctl_parse_u64(const char *s, uint64_t *out);

#endif /* VDEVCTL_H */
