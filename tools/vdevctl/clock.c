/* vdevctl MGMT clock [advance DURATION] and vdevctl MGMT events: a device's
 * time and timers (and moving a virtual clock on), and the events it
 * publishes, one line each as they happen. */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdev_client.h"
#include "vdevctl.h"

static char reply[VDEVCTL_REPLY_MAX];

bool
vdevctl_parse_duration(const char *s)
{
    static const char *const units[] = {"", "ns", "us", "ms", "s"};
    size_t digits = strspn(s, "0123456789");

    if (!digits || digits > 20)
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (!strcmp(s + digits, units[i]))
            return true;
    return false;
}

/* The words of a clock reply: key=value, then NAME:on|off:REM:PERIOD. */
struct clock_state {
    unsigned long long now;
    char mode[16];
    bool running;
    struct json_object *timers; /* array */
};

static int
parse_clock(struct vdevctl *c, const char *text, struct clock_state *st)
{
    char running[8] = "";

    st->timers = json_object_new_array();
    if (sscanf(text, "now=%llu mode=%15s running=%7s", &st->now, st->mode,
               running) != 3)
        goto bad;
    st->running = !strcmp(running, "yes");
    for (const char *w = strchr(text, ' '); w && *w;) {
        char name[VDEVCTL_MGMT_LINE_MAX], state[4];
        unsigned long long rem, period;
        size_t len;

        w += strspn(w, " ");
        len = strcspn(w, " ");
        if (len && !memchr(w, '=', len)) {
            if (len >= sizeof(name) || sscanf(w, "%[^:]:%3[^:]:%llu:%llu", name,
                                              state, &rem, &period) != 4)
                goto bad;
            struct json_object *t = json_object_new_object();
            json_object_object_add(t, "name", json_object_new_string(name));
            json_object_object_add(
                t, "running", json_object_new_boolean(!strcmp(state, "on")));
            json_object_object_add(t, "remaining_ns",
                                   json_object_new_uint64(rem));
            json_object_object_add(t, "period_ns",
                                   json_object_new_uint64(period));
            json_object_array_add(st->timers, t);
        }
        w += len;
    }
    return 0;
bad:
    json_object_put(st->timers);
    return vdevctl_fail(c, "protocol", "%s: bad clock reply '%s'", c->sock,
                        text);
}

static void
print_clock(struct vdevctl *c, struct clock_state *st, long long fired)
{
    if (c->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "now_ns", json_object_new_uint64(st->now));
        json_object_object_add(o, "mode", json_object_new_string(st->mode));
        json_object_object_add(o, "running",
                               json_object_new_boolean(st->running));
        json_object_object_add(o, "timers", st->timers);
        if (fired >= 0)
            json_object_object_add(o, "fired", json_object_new_int64(fired));
        vdevctl_json_print(o);
        return;
    }
    if (fired >= 0)
        printf("fired %lld timer expir%s\n", fired, fired == 1 ? "y" : "ies");
    printf("now %llu ns (%s clock, device %s)\n", st->now, st->mode,
           st->running ? "running" : "stopped for migration");
    for (size_t i = 0; i < json_object_array_length(st->timers); i++) {
        struct json_object *t = json_object_array_get_idx(st->timers, i), *v;
        const char *name = "";
        uint64_t rem = 0, period = 0;
        bool on = false;

        if (json_object_object_get_ex(t, "name", &v))
            name = json_object_get_string(v);
        if (json_object_object_get_ex(t, "running", &v))
            on = json_object_get_boolean(v);
        if (json_object_object_get_ex(t, "remaining_ns", &v))
            rem = json_object_get_uint64(v);
        if (json_object_object_get_ex(t, "period_ns", &v))
            period = json_object_get_uint64(v);
        if (!on)
            printf("timer %s: stopped\n", name);
        else if (period)
            printf("timer %s: next in %llu ns, every %llu ns\n", name,
                   (unsigned long long)rem, (unsigned long long)period);
        else
            printf("timer %s: fires in %llu ns\n", name,
                   (unsigned long long)rem);
    }
    json_object_put(st->timers);
}

/* A server fires a bounded number of expiries per request and says how
 * much time is left: ask again until none is. */
static int
advance(struct vdevctl *c, int fd, const char *duration, long long *fired)
{
    char line[VDEVCTL_MGMT_LINE_MAX];
    int rc;

    snprintf(line, sizeof(line), "clock advance %s", duration);
    *fired = 0;
    for (;;) {
        const char *left;
        int n = 0;

        if ((rc = vdevctl_ask(c, fd, line, reply, sizeof(reply))) != 0)
            return rc;
        if (!(left = strstr(reply, "fired=")) ||
            sscanf(left, "fired=%d", &n) != 1)
            return vdevctl_fail(c, "protocol", "%s: bad reply '%s'", c->sock,
                                reply);
        *fired += n;
        left = strstr(reply, " left=");
        if (!left)
            return 0;
        snprintf(line, sizeof(line), "clock advance %s", left + 6);
    }
}

int
vdevctl_clock(struct vdevctl *c, int fd, char **args, int nr)
{
    struct clock_state st;
    long long fired = -1;
    int rc;

    if (nr == 2 && (rc = advance(c, fd, args[1], &fired)) != 0)
        return rc;
    if ((rc = vdevctl_ask(c, fd, "clock", reply, sizeof(reply))) != 0 ||
        (rc = parse_clock(c, reply, &st)) != 0)
        return rc;
    print_clock(c, &st, fired);
    return 0;
}

/* ------------------------------------------------------------ events */

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
    stop_signal = sig;
}

static int
print_event(struct vdevctl *c, const char *line)
{
    char name[VDEVCTL_MGMT_LINE_MAX];
    unsigned long long t;

    if (strlen(line) >= sizeof(name) ||
        sscanf(line, "event %511s %llu", name, &t) != 2)
        return 0; /* a reply or something newer: not an event */
    if (c->json) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "event", json_object_new_string(name));
        json_object_object_add(o, "time_ns", json_object_new_uint64(t));
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
    } else {
        printf("event %s %llu\n", name, t);
    }
    fflush(stdout);
    return 1;
}

int
vdevctl_events(struct vdevctl *c, int fd)
{
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART */
    sigset_t stops, open;
    unsigned long seen = 0;
    int rc;

    if ((rc = vdevctl_ask(c, fd, "events", reply, sizeof(reply))) != 0)
        return rc;
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigprocmask(SIG_BLOCK, &stops, &open);
    sigdelset(&open, SIGINT);
    sigdelset(&open, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_signal && (!c->count || seen < c->count)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char line[VDEVCTL_MGMT_LINE_MAX * 2];

        /* Signals get through only while waiting here. */
        if (ppoll(&p, 1, NULL, &open) < 0)
            continue;
        rc = vdev_mgmt_client_next_line(fd, line, sizeof(line),
                                        VDEVCTL_TIMEOUT_MS);
        if (rc == -ECONNRESET)
            return vdevctl_fail(c, "io", "%s: the server closed the connection",
                                c->sock);
        if (rc < 0)
            return vdevctl_fail_errno(c, "events", rc);
        seen += (unsigned long)print_event(c, line);
    }
    return 0;
}
