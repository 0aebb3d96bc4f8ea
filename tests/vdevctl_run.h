/* Test support for the vdevctl tests: runs build/bin/vdevctl with its
 * output captured, and checks JSON against the schemas in
 * tools/vdevctl/schema/ (with Debian's python3-jsonschema). */
#ifndef VDEVCTL_RUN_H
#define VDEVCTL_RUN_H

#include <stdbool.h>
#include <sys/types.h>

struct vdevctl_run {
    int status; /* exit status */
    char *out;  /* stdout, NUL-terminated (caller frees with _free) */
    char *err;  /* stderr */
    long ms;    /* how long it ran */
};

/* Runs $VDEV_BUILD/bin/vdevctl with the arguments up to NULL; asserts it
 * exited rather than died. */
void vdevctl_run(struct vdevctl_run *r, const char *arg, ...)
    __attribute__((sentinel));
void vdevctl_run_free(struct vdevctl_run *r);
/* Starts vdevctl with stdout and stderr on fd; returns its pid. */
pid_t vdevctl_spawn(int fd, const char *const *argv);
/* Reads fd until needle shows up or timeout_ms pass, appending to buf (cap
 * bytes, NUL-terminated); returns whether it showed up. */
bool read_until(int fd, char *buf, size_t cap, const char *needle,
                int timeout_ms);

/* Whether text is a log line of vdevctl, "vdevctl[PID]: LEVEL: ", followed
 * by msg exactly (any rest when msg is NULL). */
bool log_line_is(const char *text, const char *level, const char *msg);

/* Validates text against tools/vdevctl/schema/SCHEMA.json (lines: one
 * document per line). Returns the validator's exit status (0 valid) and
 * its complaints in why (cap bytes). */
int json_schema_check(const char *schema, const char *text, bool lines,
                      char *why, size_t cap);

#endif /* VDEVCTL_RUN_H */
