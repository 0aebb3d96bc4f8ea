/* vdevctl: reaching a server, and saying what to do when that fails: no
 * server at the path, the wrong one of a server's two sockets, or a server
 * busy with another vfio-user client (a VMM). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vdev_client.h"
#include "vdevctl.h"

/* How long a first answer may take before vdevctl looks into why. */
#define PROBE_MS 1000

static bool
is_socket(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* A server started with --socket-path=PATH listens for management on
 * PATH.mgmt: when that exists, PATH is its vfio-user socket. */
static bool
mgmt_sibling(const char *path, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s.mgmt", path);

    return n > 0 && (size_t)n < len && is_socket(buf);
}

/* The hint for starting a server: the model servers sit beside vdevctl
 * (build/bin/ or PREFIX/bin/) when it was run by path. */
static int
no_server(struct vdevctl *c)
{
    const char *slash = strrchr(c->prog, '/');
    size_t base_len = strlen(c->sock);

    if (base_len > 5 && !strcmp(c->sock + base_len - 5, ".mgmt"))
        base_len -= 5;
    return vdevctl_fail(c, "no-server",
                        "no server at %s — is it running? (start one with "
                        "%.*svdev-NAME --socket-path=%.*s)",
                        c->sock, slash ? (int)(slash - c->prog + 1) : 0,
                        c->prog, (int)base_len, c->sock);
}

static int
connect_failed(struct vdevctl *c, int err)
{
    struct stat st;

    if (stat(c->sock, &st) == 0 && !S_ISSOCK(st.st_mode))
        return vdevctl_fail(c, "not-a-socket", "%s is not a socket", c->sock);
    if (err == -ENOENT || err == -ECONNREFUSED)
        return no_server(c);
    if (err == -EACCES || err == -EPERM)
        return vdevctl_fail(c, "permission",
                            "%s: permission denied (run vdevctl as the user "
                            "the server runs as)",
                            c->sock);
    return vdevctl_fail_errno(c, "connect", err);
}

/* Whether path answers a management request ("info"). */
static bool
speaks_mgmt(const char *path, char *reply, size_t cap)
{
    return vdev_mgmt_client_command(path, "info", reply, cap) == 0;
}

/* Whether path answers a vfio-user VERSION within PROBE_MS. */
static bool
speaks_vfio_user(const char *path)
{
    struct vdev_client *cl;
    int rc = vdev_client_connect(NULL, path, &cl);

    if (rc < 0)
        return false;
    vdev_client_set_timeout(cl, PROBE_MS);
    rc = vdev_client_negotiate(cl, NULL);
    vdev_client_close(cl);
    return rc == 0;
}

static int
vfio_user_socket(struct vdevctl *c)
{
    char sib[PATH_MAX];

    if (mgmt_sibling(c->sock, sib, sizeof(sib)))
        return vdevctl_fail(c, "wrong-socket",
                            "%s is a vfio-user socket; management commands "
                            "go to %s",
                            c->sock, sib);
    return vdevctl_fail(c, "wrong-socket",
                        "%s is a vfio-user socket; management commands go "
                        "to the server's management socket (--mgmt-socket)",
                        c->sock);
}

/* Whether the server behind the management socket mgmt has a vfio-user
 * client for longer than PROBE_MS: one that just left (its EOF not yet
 * served) does not count. */
static bool
busy_with_a_client(const char *mgmt)
{
    char reply[512];

    for (int waited = 0; waited < PROBE_MS; waited += 20) {
        if (!speaks_mgmt(mgmt, reply, sizeof(reply)) ||
            !strstr(reply, " connected=yes"))
            return false;
        usleep(20 * 1000);
    }
    return true;
}

int
vdevctl_open_vfio(struct vdevctl *c, struct vdev_client **out)
{
    char sib[PATH_MAX], reply[512];
    struct vdev_client *cl;
    int rc;

    /* A server busy with a VMM would leave us in its backlog until the
     * timeout: its management socket says so first, before we connect
     * (after, the client it reports could be us). */
    if (mgmt_sibling(c->sock, sib, sizeof(sib)) && busy_with_a_client(sib))
        return vdevctl_fail(c, "busy",
                            "%s serves another client (a VMM?) and takes one "
                            "at a time; management commands still work: "
                            "vdevctl %s list",
                            c->sock, sib);
    rc = vdev_client_connect(NULL, c->sock, &cl);
    if (rc < 0)
        return connect_failed(c, rc);
    vdev_client_set_timeout(cl, VDEVCTL_TIMEOUT_MS);
    rc = vdev_client_negotiate(cl, NULL);
    if (rc == 0) {
        const struct vdev_client_caps *caps = vdev_client_server_caps(cl);

        vdev_logf(VDEV_LOG_INFO,
                  "connected to %s: vfio-user %u.%u, transfers up to %u "
                  "bytes, %u fds per message",
                  c->sock, VFIO_USER_MAJOR, VFIO_USER_MINOR,
                  caps->max_data_xfer_size, caps->max_msg_fds);
        *out = cl;
        return 0;
    }
    vdev_client_close(cl);
    if (rc == -ETIMEDOUT)
        return vdevctl_fail(c, "timeout",
                            "%s: no answer within %d s (a server serves one "
                            "vfio-user client at a time: is a VMM attached?)",
                            c->sock, VDEVCTL_TIMEOUT_MS / 1000);
    if (speaks_mgmt(c->sock, reply, sizeof(reply)))
        return vdevctl_fail(c, "wrong-socket",
                            "%s is a management socket; try: vdevctl %s list",
                            c->sock, c->sock);
    return vdevctl_fail_errno(c, "version negotiation", rc);
}

int
vdevctl_open_mgmt(struct vdevctl *c)
{
    char sib[PATH_MAX];
    int fd;

    if (is_socket(c->sock) && mgmt_sibling(c->sock, sib, sizeof(sib))) {
        vfio_user_socket(c);
        return -1;
    }
    fd = vdev_mgmt_client_open(c->sock);
    if (fd < 0) {
        connect_failed(c, fd);
        return -1;
    }
    vdev_logf(VDEV_LOG_INFO, "connected to the management socket %s", c->sock);
    return fd;
}

int
vdevctl_ask(struct vdevctl *c, int fd, const char *line, char *reply,
            size_t cap)
{
    static char buf[VDEVCTL_REPLY_MAX];
    int rc = vdev_mgmt_client_exchange(fd, line, buf, sizeof(buf));

    if (rc == -EREMOTEIO)
        return vdevctl_fail(c, "refused", "%s: %s: %s", c->sock, c->cmd,
                            strncmp(buf, "error: ", 7) ? buf : buf + 7);
    if (rc == -EPROTO || rc == -ECONNRESET || rc == -EPIPE) {
        /* let the server go before asking it the other protocol */
        shutdown(fd, SHUT_RDWR);
        if (speaks_vfio_user(c->sock))
            return vfio_user_socket(c);
        return vdevctl_fail(c, "protocol",
                            "%s: %s: not a vdev management socket (%s)",
                            c->sock, c->cmd, strerror(-rc));
    }
    if (rc == -ETIMEDOUT)
        return vdevctl_fail(c, "timeout",
                            "%s: no answer within 5 s (a vfio-user socket in "
                            "use? management commands go to the server's "
                            ".mgmt socket)",
                            c->sock);
    if (rc < 0)
        return vdevctl_fail_errno(c, c->cmd, rc);
    const char *text = buf + 2; /* "ok" */
    snprintf(reply, cap, "%s", *text == ' ' ? text + 1 : text);
    return 0;
}
