/* vdevctl's management-channel commands: the text socket a device server
 * opens beside its vfio-user socket (get/set values, list, stats, upgrade,
 * and any other line passed through), so a person can drive the device's
 * outside world while a VMM owns the vfio-user socket. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdev_client.h"
#include "vdevctl.h"

#define REPLY_MAX 8192

/* The reply line without its "ok " / "error: " prefix. */
static const char *
reply_text(const char *reply)
{
    if (strncmp(reply, "ok", 2) == 0)
        return reply[2] == ' ' ? reply + 3 : reply + 2;
    if (strncmp(reply, "error: ", 7) == 0)
        return reply + 7;
    return reply;
}

/* Prints the space-separated words of text one per line. */
static void
print_words(FILE *f, const char *text)
{
    while (*text) {
        size_t n = strcspn(text, " ");
        if (n)
            fprintf(f, "%.*s\n", (int)n, text);
        text += n;
        text += strspn(text, " ");
    }
}

int
vdevctl_mgmt(const char *path, int argc, char **argv, FILE *f,
             const char **what, char *err, size_t err_len)
{
    static char line[VDEVCTL_MGMT_LINE_MAX + 1];
    static char reply[REPLY_MAX];
    const char *cmd = argv[0];
    bool raw = strcmp(cmd, "mgmt") == 0;
    size_t len = 0;
    int rc;

    *what = cmd;
    err[0] = '\0';
    /* upgrade BINARY: the server resolves paths from its own cwd */
    static char abs[PATH_MAX];
    static char *words[2];
    if (!raw && strcmp(cmd, "upgrade") == 0 && argc == 2 &&
        realpath(argv[1], abs)) {
        words[0] = argv[0];
        words[1] = abs;
        argv = words;
    }
    /* "mgmt WORD..." sends the words as they are */
    for (int i = raw ? 1 : 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (strpbrk(argv[i], "\r\n") ||
            len + n + (len ? 1 : 0) > VDEVCTL_MGMT_LINE_MAX)
            return -EINVAL;
        if (len)
            line[len++] = ' ';
        memcpy(line + len, argv[i], n);
        len += n;
    }
    line[len] = '\0';
    if (len == 0)
        return -EINVAL;
    rc = vdev_mgmt_client_command(path, line, reply, sizeof(reply));
    if (rc == -EREMOTEIO) {
        snprintf(err, err_len, "%s", reply_text(reply));
        return rc;
    }
    if (rc < 0)
        return rc;
    const char *text = reply_text(reply);
    if (!raw && (strcmp(cmd, "list") == 0 || strcmp(cmd, "stats") == 0))
        print_words(f, text);
    else if (*text)
        fprintf(f, "%s\n", text);
    return 0;
}
