/* vdevctl's management commands: the text socket a device server opens
 * beside its vfio-user socket (list with values and descriptions, get,
 * set, stats, upgrade, and any other line passed through), so a person or
 * a program can drive the device's outside world while a VMM owns the
 * vfio-user socket. */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

#include "vdevctl.h"

static char reply[VDEVCTL_REPLY_MAX];

int
vdevctl_parse_values(void *ctx, const char *text, struct vdevctl_value **out,
                     unsigned *nr)
{
    struct vdevctl_value *v = NULL;
    unsigned n = 0;

    while (*text) {
        size_t len = strcspn(text, " ");
        const char *eq = memchr(text, '=', len);
        char *end;
        if (len && eq) {
            v = talloc_realloc(ctx, v, struct vdevctl_value, n + 1);
            if (!v)
                return -ENOMEM;
            v[n].name = talloc_strndup(v, text, (size_t)(eq - text));
            v[n].digits = (unsigned)(len - (size_t)(eq - text) - 3);
            errno = 0;
            v[n].value = strtoull(eq + 1, &end, 16);
            if (!v[n].name || errno || strncmp(eq + 1, "0x", 2) ||
                end != text + len)
                return -EPROTO;
            n++;
        } else if (len) {
            return -EPROTO;
        }
        text += len;
        text += strspn(text, " ");
    }
    *out = v;
    *nr = n;
    return 0;
}

/* One "NAME:BITS:ext|ro" word of a list reply. */
static bool
parse_entry(const char *w, size_t len, char *name, size_t cap, unsigned *bits,
            bool *ext)
{
    const char *c1 = memchr(w, ':', len);
    const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - w)) : 0;

    if (!c2 || (size_t)(c1 - w) >= cap)
        return false;
    memcpy(name, w, (size_t)(c1 - w));
    name[c1 - w] = '\0';
    *bits = (unsigned)strtoul(c1 + 1, NULL, 10);
    *ext = (size_t)(w + len - c2 - 1) == 3 && !strncmp(c2 + 1, "ext", 3);
    return true;
}

struct var {
    char *name, *doc;
    unsigned bits;
    bool external;
    uint64_t value;
};

/* Names, widths and access from list, values from one values snapshot,
 * descriptions from doc NAME each. */
static int
fetch(struct vdevctl *c, int fd, void *ctx, struct var **out, unsigned *nr)
{
    struct vdevctl_value *vals;
    struct var *v = NULL;
    unsigned n = 0, nv;
    int rc;

    if ((rc = vdevctl_ask(c, fd, "list", reply, sizeof(reply))) != 0)
        return rc;
    for (const char *w = reply; *w;) {
        size_t len = strcspn(w, " ");
        char name[VDEVCTL_MGMT_LINE_MAX];
        unsigned bits;
        bool ext;
        if (len && parse_entry(w, len, name, sizeof(name), &bits, &ext)) {
            v = talloc_realloc(ctx, v, struct var, n + 1);
            v[n] = (struct var){
                .name = talloc_strdup(v, name), .bits = bits, .external = ext};
            n++;
        }
        w += len;
        w += strspn(w, " ");
    }
    if ((rc = vdevctl_ask(c, fd, "values", reply, sizeof(reply))) != 0)
        return rc;
    if (vdevctl_parse_values(ctx, reply, &vals, &nv) < 0)
        return vdevctl_fail(c, "protocol", "%s: bad values reply", c->sock);
    for (unsigned i = 0; i < n; i++) {
        char line[VDEVCTL_MGMT_LINE_MAX + 8];
        for (unsigned j = 0; j < nv; j++)
            if (!strcmp(vals[j].name, v[i].name))
                v[i].value = vals[j].value;
        snprintf(line, sizeof(line), "doc %s", v[i].name);
        if ((rc = vdevctl_ask(c, fd, line, reply, sizeof(reply))) != 0)
            return rc;
        v[i].doc = talloc_strdup(v, reply);
    }
    *out = v;
    *nr = n;
    return 0;
}

static void
list_json(const struct var *v, unsigned n)
{
    struct json_object *o = json_object_new_object();
    struct json_object *a = json_object_new_array();

    for (unsigned i = 0; i < n; i++) {
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "name", json_object_new_string(v[i].name));
        json_object_object_add(e, "bits", json_object_new_int((int)v[i].bits));
        json_object_object_add(e, "value", json_object_new_uint64(v[i].value));
        json_object_object_add(
            e, "hex", vdevctl_json_hex(v[i].value, (v[i].bits + 3) / 4));
        json_object_object_add(e, "external",
                               json_object_new_boolean(v[i].external));
        json_object_object_add(e, "description",
                               json_object_new_string(v[i].doc));
        json_object_array_add(a, e);
    }
    json_object_object_add(o, "values", a);
    vdevctl_json_print(o);
}

static void
list_text(const struct var *v, unsigned n)
{
    int wname = 4, wval = 5;

    for (unsigned i = 0; i < n; i++) {
        int l = (int)strlen(v[i].name);
        wname = l > wname ? l : wname;
        wval = (int)(v[i].bits + 3) / 4 + 2 > wval
                   ? (int)(v[i].bits + 3) / 4 + 2
                   : wval;
    }
    printf("%-*s  %4s  %-*s  %-9s  %s\n", wname, "NAME", "BITS", wval, "VALUE",
           "ACCESS", "DESCRIPTION");
    for (unsigned i = 0; i < n; i++) {
        char hex[24], line[2 * VDEVCTL_MGMT_LINE_MAX];
        snprintf(hex, sizeof(hex), "0x%0*llx", (int)(v[i].bits + 3) / 4,
                 (unsigned long long)v[i].value);
        int len = snprintf(line, sizeof(line), "%-*s  %4u  %-*s  %-9s  %s",
                           wname, v[i].name, v[i].bits, wval, hex,
                           v[i].external ? "external" : "read-only", v[i].doc);
        if (len >= (int)sizeof(line))
            len = (int)sizeof(line) - 1;
        while (len > 0 && line[len - 1] == ' ')
            len--; /* no description: no trailing blanks */
        printf("%.*s\n", len, line);
    }
}

int
vdevctl_list(struct vdevctl *c, int fd)
{
    void *ctx = talloc_new(NULL);
    struct var *v = NULL;
    unsigned n = 0;
    int rc = fetch(c, fd, ctx, &v, &n);

    if (rc == 0 && c->json)
        list_json(v, n);
    else if (rc == 0)
        list_text(v, n);
    talloc_free(ctx);
    return rc;
}

/* get and set both answer "NAME=0xHEX". */
static int
print_value(struct vdevctl *c)
{
    struct vdevctl_value *v;
    unsigned n;
    void *ctx = talloc_new(NULL);
    int rc = vdevctl_parse_values(ctx, reply, &v, &n);

    if (rc < 0 || n != 1) {
        talloc_free(ctx);
        return vdevctl_fail(c, "protocol", "%s: %s: bad reply '%s'", c->sock,
                            c->cmd, reply);
    }
    if (c->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(v->name));
        json_object_object_add(o, "value", json_object_new_uint64(v->value));
        json_object_object_add(o, "hex",
                               json_object_new_string(strchr(reply, '=') + 1));
        vdevctl_json_print(o);
    } else {
        printf("%s\n", reply);
    }
    talloc_free(ctx);
    return 0;
}

int
vdevctl_get(struct vdevctl *c, int fd, const char *name)
{
    char line[VDEVCTL_MGMT_LINE_MAX + 8];
    int rc;

    snprintf(line, sizeof(line), "get %s", name);
    if ((rc = vdevctl_ask(c, fd, line, reply, sizeof(reply))) != 0)
        return rc;
    return print_value(c);
}

int
vdevctl_set(struct vdevctl *c, int fd, const char *name, const char *value)
{
    char line[2 * VDEVCTL_MGMT_LINE_MAX];
    int rc;

    snprintf(line, sizeof(line), "set %s %s", name, value);
    if ((rc = vdevctl_ask(c, fd, line, reply, sizeof(reply))) != 0)
        return rc;
    return print_value(c);
}

int
vdevctl_stats(struct vdevctl *c, int fd)
{
    struct json_object *o = json_object_new_object();
    int rc = vdevctl_ask(c, fd, "stats", reply, sizeof(reply));

    for (const char *w = reply; rc == 0 && *w;) {
        size_t len = strcspn(w, " ");
        const char *eq = memchr(w, '=', len);
        if (eq && !c->json)
            printf("%.*s\n", (int)len, w);
        if (eq) {
            char key[64];
            snprintf(key, sizeof(key), "%.*s", (int)(eq - w), w);
            json_object_object_add(
                o, key, json_object_new_uint64(strtoull(eq + 1, NULL, 10)));
        }
        w += len;
        w += strspn(w, " ");
    }
    if (rc == 0 && c->json)
        vdevctl_json_print(o);
    else
        json_object_put(o);
    return rc;
}

int
vdevctl_upgrade(struct vdevctl *c, int fd, const char *binary)
{
    char line[PATH_MAX + 16], abs[PATH_MAX];
    int pid = -1, rc;

    /* the server resolves paths from its own cwd */
    snprintf(line, sizeof(line), "upgrade %s",
             realpath(binary, abs) ? abs : binary);
    if ((rc = vdevctl_ask(c, fd, line, reply, sizeof(reply))) != 0)
        return rc;
    if (!c->json) {
        printf("%s\n", reply);
        return 0;
    }
    struct json_object *o = json_object_new_object();
    sscanf(reply, "handed over to pid %d", &pid);
    json_object_object_add(o, "pid", json_object_new_int(pid));
    vdevctl_json_print(o);
    return 0;
}

int
vdevctl_raw(struct vdevctl *c, int fd, char **words, int nr)
{
    char line[VDEVCTL_MGMT_LINE_MAX + 1];
    size_t len = 0;
    int rc;

    for (int i = 0; i < nr; i++) {
        size_t n = strlen(words[i]);
        if (strpbrk(words[i], "\r\n") ||
            len + n + (len ? 1 : 0) > VDEVCTL_MGMT_LINE_MAX)
            return vdevctl_usage_error(c, "mgmt: request too long or "
                                          "holds a newline");
        if (len)
            line[len++] = ' ';
        memcpy(line + len, words[i], n);
        len += n;
    }
    line[len] = '\0';
    if ((rc = vdevctl_ask(c, fd, line, reply, sizeof(reply))) != 0)
        return rc;
    if (c->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "request", json_object_new_string(line));
        json_object_object_add(o, "reply", json_object_new_string(reply));
        vdevctl_json_print(o);
    } else if (*reply) {
        printf("%s\n", reply);
    }
    return 0;
}
