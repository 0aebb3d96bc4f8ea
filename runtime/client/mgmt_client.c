/* Client side of the management channel: one request line out, one reply
 * line back, with a deadline so a stuck server cannot hang vdevctl. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fdio.h"
#include "base/mgmt_proto.h"
#include "base/unix.h"
#include "vdev_client.h"

/* A reply longer than this is not from a vdev server. */
#define MGMT_REPLY_LIMIT (1u << 20)

int
vdev_mgmt_client_open(const char *path)
{
    return vdev_unix_connect(path);
}

static int
send_line(int fd, const char *line, int64_t deadline)
{
    size_t len = strlen(line), done = 0;
    char buf[VDEV_MGMT_LINE_MAX + 1];
    int rc;

    if (len > VDEV_MGMT_LINE_MAX || strchr(line, '\n'))
        return -EINVAL;
    memcpy(buf, line, len);
    /* trailing spaces are nothing to the server, a header to vfio-user */
    while (len + 1 < VDEV_MGMT_MIN_REQUEST)
        buf[len++] = ' ';
    buf[len++] = '\n';
    while (done < len) {
        ssize_t n =
            send(fd, buf + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return -errno;
        if ((rc = vdev_wait_fd(fd, POLLOUT, deadline, -1)) < 0)
            return rc;
    }
    return 0;
}

/* Whether the first n bytes seen can begin "ok" or "error". */
static bool
reply_may_start(const char *head, size_t n)
{
    if (n > 5)
        n = 5;
    return !strncmp(head, "ok", n < 2 ? n : 2) || !strncmp(head, "error", n);
}

/* Reads exactly one line: peeks to find the newline so bytes of a later
 * reply stay in the socket. */
static int
recv_line(int fd, char *reply, size_t cap, int64_t deadline, bool *is_ok)
{
    size_t total = 0;
    char head[8] = "";
    char buf[4096];
    int rc;

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
        char *nl;
        size_t take;

        if (n == 0)
            return -ECONNRESET;
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                return -errno;
            if ((rc = vdev_wait_fd(fd, POLLIN, deadline, -1)) < 0)
                return rc;
            continue;
        }
        nl = memchr(buf, '\n', (size_t)n);
        take = nl ? (size_t)(nl - buf) + 1 : (size_t)n;
        if (recv(fd, buf, take, MSG_DONTWAIT) != (ssize_t)take)
            return -EIO;
        for (size_t i = 0; i < take - (nl ? 1 : 0); i++, total++) {
            if (total < sizeof(head) - 1)
                head[total] = buf[i];
            if (reply && total + 1 < cap)
                reply[total] = buf[i];
        }
        /* a binary answer (vfio-user) has no newline to wait for */
        if (!reply_may_start(head, total))
            return -EPROTO;
        if (reply && cap)
            reply[total < cap ? total : cap - 1] = '\0';
        if (nl)
            break;
        if (total > MGMT_REPLY_LIMIT)
            return -EMSGSIZE;
    }
    if (!strncmp(head, "ok", 2) && (head[2] == ' ' || head[2] == '\0')) {
        *is_ok = true;
        return 0;
    }
    if (!strncmp(head, "error", 5)) {
        *is_ok = false;
        return 0;
    }
    return -EPROTO;
}

int
vdev_mgmt_client_exchange(int fd, const char *line, char *reply, size_t cap)
{
    int64_t deadline = vdev_now_ms() + VDEV_MGMT_TIMEOUT_S * 1000;
    bool ok = false;
    int rc;

    if (!line)
        return -EINVAL;
    if (reply && cap)
        reply[0] = '\0';
    vdev_logf(VDEV_LOG_DEBUG, "mgmt: > %s", line);
    if ((rc = send_line(fd, line, deadline)) < 0 ||
        (rc = recv_line(fd, reply, cap, deadline, &ok)) < 0) {
        vdev_logf(VDEV_LOG_DEBUG, "mgmt: %s", strerror(-rc));
        return rc;
    }
    vdev_logf(VDEV_LOG_DEBUG, "mgmt: < %s", reply && cap ? reply : "");
    return ok ? 0 : -EREMOTEIO;
}

int
vdev_mgmt_client_command(const char *path, const char *line, char *reply,
                         size_t cap)
{
    int fd = vdev_mgmt_client_open(path);
    int rc;

    if (fd < 0)
        return fd;
    rc = vdev_mgmt_client_exchange(fd, line, reply, cap);
    close(fd);
    return rc;
}

int
vdev_mgmt_client_get(const char *path, const char *name, uint64_t *value)
{
    char line[VDEV_MGMT_LINE_MAX + 1], reply[VDEV_MGMT_LINE_MAX];
    const char *eq;
    char *end;
    int rc;

    if (snprintf(line, sizeof(line), "get %s", name) >= (int)sizeof(line))
        return -EINVAL;
    rc = vdev_mgmt_client_command(path, line, reply, sizeof(reply));
    if (rc < 0)
        return rc;
    /* "ok NAME=0xVALUE" */
    eq = strchr(reply, '=');
    if (!eq)
        return -EPROTO;
    errno = 0;
    *value = strtoull(eq + 1, &end, 0);
    return errno || *end ? -EPROTO : 0;
}

int
vdev_mgmt_client_set(const char *path, const char *name, uint64_t value)
{
    char line[VDEV_MGMT_LINE_MAX + 1];

    if (snprintf(line, sizeof(line), "set %s 0x%" PRIx64, name, value) >=
        (int)sizeof(line))
        return -EINVAL;
    return vdev_mgmt_client_command(path, line, NULL, 0);
}

/* Sends "VERB /absolute/file". */
static int
file_command(const char *path, const char *verb, const char *file, char *reply,
             size_t cap)
{
    char line[VDEV_MGMT_LINE_MAX + 2];
    char *cwd = NULL;
    int n;

    if (!file || !*file)
        return -EINVAL;
    if (file[0] != '/' && !(cwd = getcwd(NULL, 0)))
        return -errno;
    n = cwd ? snprintf(line, sizeof(line), "%s %s/%s", verb, cwd, file)
            : snprintf(line, sizeof(line), "%s %s", verb, file);
    free(cwd);
    if (n < 0 || (size_t)n > VDEV_MGMT_LINE_MAX)
        return -ENAMETOOLONG;
    if (strpbrk(line + strlen(verb) + 1, " \t\r\n"))
        return -EINVAL; /* one word on the wire */
    return vdev_mgmt_client_command(path, line, reply, cap);
}

int
vdev_mgmt_client_save(const char *path, const char *file, char *reply,
                      size_t cap)
{
    return file_command(path, "save", file, reply, cap);
}

int
vdev_mgmt_client_load(const char *path, const char *file, char *reply,
                      size_t cap)
{
    return file_command(path, "load", file, reply, cap);
}
