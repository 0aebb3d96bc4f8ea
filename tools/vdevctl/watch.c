/* vdevctl MGMT watch: a live view of a device's values and traffic. On a
 * terminal it redraws in place, values that changed since the last refresh
 * highlighted; otherwise it prints a timestamped line per change (with
 * --json, one object per refresh) for logs and programs. */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <talloc.h>
#include <time.h>
#include <unistd.h>

#include "vdevctl.h"

#define CSI "\033["

struct sample {
    struct vdevctl_value *vals;
    unsigned n;
    uint64_t messages, errors, connections, irqs;
    struct timespec mono, real;
};

struct view {
    struct vdevctl *c;
    bool tty, first;
    struct sample prev, cur;
    bool rates; /* msg_rate / irq_rate are known (from the second on) */
    double msg_rate, irq_rate;
    char last_rates[96]; /* plain lines: the rate line printed last */
};

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
    stop_signal = sig;
}

static uint64_t
stat_field(const char *reply, const char *key)
{
    size_t len = strlen(key);

    for (const char *w = reply; (w = strstr(w, key)); w += len)
        if ((w == reply || w[-1] == ' ') && w[len] == '=')
            return strtoull(w + len + 1, NULL, 10);
    return 0;
}

static int
take_sample(struct vdevctl *c, int fd, void *ctx, struct sample *s)
{
    static char reply[VDEVCTL_REPLY_MAX];
    int rc;

    if ((rc = vdevctl_ask(c, fd, "values", reply, sizeof(reply))) != 0)
        return rc;
    if (vdevctl_parse_values(ctx, reply, &s->vals, &s->n) < 0)
        return vdevctl_fail(c, "protocol", "%s: bad values reply", c->sock);
    if ((rc = vdevctl_ask(c, fd, "stats", reply, sizeof(reply))) != 0)
        return rc;
    s->messages = stat_field(reply, "messages");
    s->errors = stat_field(reply, "errors");
    s->connections = stat_field(reply, "connections");
    s->irqs = stat_field(reply, "irqs_sent");
    clock_gettime(CLOCK_MONOTONIC, &s->mono);
    clock_gettime(CLOCK_REALTIME, &s->real);
    return 0;
}

/* RFC 3339 local time with milliseconds. */
static void
stamp(char *buf, size_t len, const struct timespec *ts)
{
    struct tm tm;
    size_t n;
    long off;

    localtime_r(&ts->tv_sec, &tm);
    n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    off = tm.tm_gmtoff / 60;
    snprintf(buf + n, len - n, ".%03ld%c%02ld:%02ld", ts->tv_nsec / 1000000,
             off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
}

/* The previous value of cur->vals[i], found by name (the set may change
 * when the server is upgraded to another binary). */
static const struct vdevctl_value *
previous(const struct view *v, unsigned i)
{
    const struct vdevctl_value *x = &v->cur.vals[i];

    if (v->first)
        return NULL;
    if (i < v->prev.n && !strcmp(v->prev.vals[i].name, x->name))
        return &v->prev.vals[i];
    for (unsigned j = 0; j < v->prev.n; j++)
        if (!strcmp(v->prev.vals[j].name, x->name))
            return &v->prev.vals[j];
    return NULL;
}

static bool
changed(const struct view *v, unsigned i)
{
    const struct vdevctl_value *p = previous(v, i);

    return !v->first && (!p || p->value != v->cur.vals[i].value);
}

static void
update_rates(struct view *v)
{
    double dt = (double)(v->cur.mono.tv_sec - v->prev.mono.tv_sec) +
                (double)(v->cur.mono.tv_nsec - v->prev.mono.tv_nsec) / 1e9;

    v->rates = !v->first && dt > 0;
    if (!v->rates)
        return;
    v->msg_rate = (double)(v->cur.messages - v->prev.messages) / dt;
    v->irq_rate = (double)(v->cur.irqs - v->prev.irqs) / dt;
}

static void
draw_tty(struct view *v)
{
    struct winsize ws = {0};
    char when[40], rates[96] = "messages/s -  irqs/s -";
    unsigned rows = UINT32_MAX, shown = v->cur.n;

    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 5)
        rows = ws.ws_row;
    if (shown + 5 > rows)
        shown = rows - 5;
    stamp(when, sizeof(when), &v->cur.real);
    if (v->rates)
        snprintf(rates, sizeof(rates), "messages/s %.1f  irqs/s %.1f",
                 v->msg_rate, v->irq_rate);
    printf(CSI "H" CSI "1mvdevctl watch %s" CSI "0m  every %.3g s  %.19s" CSI
               "K\n",
           v->c->sock, v->c->interval_ms / 1000.0, when);
    printf("%s  errors %llu  connections %llu" CSI "K\n" CSI "K\n", rates,
           (unsigned long long)v->cur.errors,
           (unsigned long long)v->cur.connections);
    printf(CSI "4mNAME%*s VALUE" CSI "0m" CSI "K\n", 28, "");
    for (unsigned i = 0; i < shown; i++) {
        const struct vdevctl_value *x = &v->cur.vals[i];
        bool hi = changed(v, i);
        printf("%s%-32s 0x%0*llx%s" CSI "K\n", hi ? CSI "1;7m" : "", x->name,
               (int)x->digits, (unsigned long long)x->value,
               hi ? CSI "0m" : "");
    }
    if (shown < v->cur.n)
        printf("... %u more (a taller terminal shows them)" CSI "K\n",
               v->cur.n - shown);
    printf(CSI "J");
}

static void
print_plain(struct view *v)
{
    char when[40], rates[96];

    stamp(when, sizeof(when), &v->cur.real);
    for (unsigned i = 0; i < v->cur.n; i++) {
        const struct vdevctl_value *x = &v->cur.vals[i];
        const struct vdevctl_value *p = previous(v, i);
        if (v->first)
            printf("%s %s=0x%0*llx\n", when, x->name, (int)x->digits,
                   (unsigned long long)x->value);
        else if (changed(v, i) && p)
            printf("%s %s=0x%0*llx (was 0x%0*llx)\n", when, x->name,
                   (int)x->digits, (unsigned long long)x->value, (int)p->digits,
                   (unsigned long long)p->value);
        else if (changed(v, i))
            printf("%s %s=0x%0*llx (new)\n", when, x->name, (int)x->digits,
                   (unsigned long long)x->value);
    }
    if (!v->rates)
        return;
    snprintf(rates, sizeof(rates), "messages/s=%.1f irqs/s=%.1f", v->msg_rate,
             v->irq_rate);
    if (strcmp(rates, v->last_rates))
        printf("%s %s\n", when, rates);
    snprintf(v->last_rates, sizeof(v->last_rates), "%s", rates);
}

static void
print_json(struct view *v)
{
    struct json_object *o = json_object_new_object();
    struct json_object *a = json_object_new_array();
    struct json_object *st = json_object_new_object();
    char when[40];

    stamp(when, sizeof(when), &v->cur.real);
    json_object_object_add(o, "time", json_object_new_string(when));
    for (unsigned i = 0; i < v->cur.n; i++) {
        const struct vdevctl_value *x = &v->cur.vals[i];
        const struct vdevctl_value *p = previous(v, i);
        if (!v->first && !changed(v, i))
            continue;
        struct json_object *e = json_object_new_object();
        json_object_object_add(e, "name", json_object_new_string(x->name));
        json_object_object_add(e, "value", json_object_new_uint64(x->value));
        json_object_object_add(e, "hex", vdevctl_json_hex(x->value, x->digits));
        json_object_object_add(e, "previous",
                               p ? json_object_new_uint64(p->value) : NULL);
        json_object_array_add(a, e);
    }
    json_object_object_add(o, "changed", a);
    json_object_object_add(o, "messages_per_s",
                           v->rates ? json_object_new_double(v->msg_rate)
                                    : NULL);
    json_object_object_add(
        o, "irqs_per_s", v->rates ? json_object_new_double(v->irq_rate) : NULL);
    json_object_object_add(st, "messages",
                           json_object_new_uint64(v->cur.messages));
    json_object_object_add(st, "errors", json_object_new_uint64(v->cur.errors));
    json_object_object_add(st, "connections",
                           json_object_new_uint64(v->cur.connections));
    json_object_object_add(st, "irqs_sent",
                           json_object_new_uint64(v->cur.irqs));
    json_object_object_add(o, "stats", st);
    puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

/* Sleeps for the interval with SIGINT/SIGTERM let through, so a signal
 * ends the wait at once and never lands between a check and a sleep. */
static void
pause_for(unsigned ms, const sigset_t *open)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000};

    ppoll(NULL, 0, &ts, open);
}

static int
loop(struct view *v, int fd, const sigset_t *open)
{
    void *ctx[2] = {talloc_new(NULL), talloc_new(NULL)};
    int rc = 0;

    for (unsigned long n = 0; !stop_signal; n++) {
        void *now = ctx[n & 1];
        talloc_free_children(now);
        if ((rc = take_sample(v->c, fd, now, &v->cur)) != 0)
            break;
        update_rates(v);
        if (v->tty)
            draw_tty(v);
        else if (v->c->json)
            print_json(v);
        else
            print_plain(v);
        if (fflush(stdout) != 0) {
            rc = vdevctl_fail(v->c, "io", "stdout: %s", strerror(errno));
            break;
        }
        v->prev = v->cur;
        v->first = false;
        if (v->c->count && n + 1 >= v->c->count)
            break;
        pause_for(v->c->interval_ms, open);
    }
    talloc_free(ctx[0]);
    talloc_free(ctx[1]);
    return rc;
}

int
vdevctl_watch(struct vdevctl *c, int fd)
{
    struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART */
    struct view v = {.c = c, .first = true};
    sigset_t stops, open;
    int rc;

    v.tty = !c->json && isatty(STDOUT_FILENO);
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigprocmask(SIG_BLOCK, &stops, &open);
    sigdelset(&open, SIGINT);
    sigdelset(&open, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (v.tty)
        printf(CSI "?25l" CSI "H" CSI "2J"); /* hide the cursor, clear */
    rc = loop(&v, fd, &open);
    if (v.tty) {
        printf(CSI "0m" CSI "?25h"); /* plain text, cursor back */
        fflush(stdout);
    }
    return rc;
}
