/* Management channel: a device's named values (vdev_register_vars) served on
 * a second UNIX socket with one-line text commands, inside the device loop. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/mgmt_proto.h"
#include "base/unix.h"
#include "server/server.h"
#include "host/mgmt.h"
#include "host/mgmt_state.h"

/* Clients served at once. One more takes the place of the least recently
 * active idle one (between commands), or of one stalled in the middle of
 * a command for MGMT_STALL_MS; a client is never dropped while a command
 * of its is under way. When every client is busy the newcomer is told so
 * and closed. */
#define MGMT_MAX_CLIENTS 16
#define MGMT_STALL_MS 2000
/* Connections a burst may leave waiting to be accepted. */
#define MGMT_BACKLOG 64
/* Replies a client leaves unread past this mean it is not listening. */
#define MGMT_OUT_MAX (64u * 1024u)
/* Work per client per wake-up: one read, at most this many request lines;
 * the rest stays in the socket for the next turn (level-triggered), so
 * neither the vfio-user client nor the other management clients wait on
 * a flood. */
#define MGMT_READ_CHUNK 4096u
#define MGMT_LINES_PER_TURN 8
#define MGMT_MAX_ARGS 4

struct mgmt_client {
    int fd; /* -1: slot free */
    char line[VDEV_MGMT_LINE_MAX + 1];
    size_t line_len;
    bool discarding;     /* skipping the rest of an overlong line */
    bool closing;        /* peer sent EOF: flush replies, then close */
    bool want_out;       /* EPOLLOUT registered */
    bool busy;           /* one of its commands is running */
    bool parked;         /* input unwatched until the loop is back (nested) */
    bool events;         /* subscribed to device events */
    int64_t last_active; /* vdev_now_ms() of its last request bytes */
    char *out;           /* talloc'd, pending reply bytes */
    size_t out_len;
};

struct vdev_mgmt {
    struct vdev_dev *dev;
    struct vdev_var *vars;
    const void **states; /* by var: the state block of a get-less one */
    unsigned nr_vars;
    int listen_fd;
    char *path;
    dev_t sock_dev; /* identity of the socket file we created */
    ino_t sock_ino;
    struct mgmt_client clients[MGMT_MAX_CLIENTS];
};

/* ------------------------------------------------------------ lifetime */

static int
mgmt_destructor(struct vdev_mgmt *m)
{
    struct stat st;

    for (unsigned i = 0; i < MGMT_MAX_CLIENTS; i++)
        if (m->clients[i].fd >= 0)
            close(m->clients[i].fd);
    if (m->listen_fd >= 0)
        close(m->listen_fd);
    /* Only remove the file if it is still ours, not a successor's. */
    if (m->path && stat(m->path, &st) == 0 && st.st_dev == m->sock_dev &&
        st.st_ino == m->sock_ino)
        unlink(m->path);
    return 0;
}

static int mgmt_dispatch(struct vdev_dev *dev, uint32_t tag);
static void mgmt_event_sink(struct vdev_dev *dev, const char *name,
                            uint64_t now);
static void mgmt_resume(struct vdev_dev *dev);

static struct vdev_mgmt *
mgmt_get(struct vdev_dev *dev)
{
    struct vdev_mgmt *m = dev->srv->mgmt;

    if (m)
        return m;
    m = talloc_zero(dev, struct vdev_mgmt);
    if (!m)
        return NULL;
    m->dev = dev;
    m->listen_fd = -1;
    for (unsigned i = 0; i < MGMT_MAX_CLIENTS; i++)
        m->clients[i].fd = -1;
    talloc_set_destructor(m, mgmt_destructor);
    dev->srv->mgmt = m;
    dev->srv->ext_dispatch = mgmt_dispatch;
    dev->srv->ext_resume = mgmt_resume;
    dev->event_sink = mgmt_event_sink;
    return m;
}

/* ------------------------------------------------------------ named values */

static bool
var_name_ok(const char *name)
{
    if (!name || !*name || strlen(name) > VDEV_MGMT_NAME_MAX)
        return false;
    /* ':' and '=' separate fields in list and get replies. */
    for (const char *p = name; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == ':' || *p == '=')
            return false;
    return true;
}

static const struct vdev_var *
var_find(const struct vdev_mgmt *m, const char *name)
{
    for (unsigned i = 0; i < m->nr_vars; i++)
        if (!strcmp(m->vars[i].name, name))
            return &m->vars[i];
    return NULL;
}

/* A get-less var reads bits of a 1, 2, 4 or 8-byte integer in state. */
static bool
var_place_ok(const struct vdev_var *v, const void *state)
{
    return state &&
           (v->size == 1 || v->size == 2 || v->size == 4 || v->size == 8) &&
           v->shift + v->bits <= 8u * v->size;
}

static uint64_t
var_value(const struct vdev_mgmt *m, const struct vdev_var *v)
{
    const uint8_t *p;
    uint64_t val = 0;

    if (v->get)
        return v->get(m->dev);
    p = (const uint8_t *)m->states[v - m->vars] + v->at;
    switch (v->size) {
    case 1:
        val = *p;
        break;
    case 2: {
        uint16_t x;
        memcpy(&x, p, 2);
        val = x;
        break;
    }
    case 4: {
        uint32_t x;
        memcpy(&x, p, 4);
        val = x;
        break;
    }
    default:
        memcpy(&val, p, 8);
        break;
    }
    return val >> v->shift;
}

static int
register_vars(struct vdev_dev *dev, const void *state,
              const struct vdev_var *vars, unsigned nr_vars)
{
    struct vdev_mgmt *m;
    struct vdev_var *all;
    const void **states;

    if (!dev || (nr_vars && !vars))
        return -EINVAL;
    for (unsigned i = 0; i < nr_vars; i++) {
        const struct vdev_var *v = &vars[i];
        if (!var_name_ok(v->name) || v->bits < 1 || v->bits > 64 ||
            (!v->get && !var_place_ok(v, state)) || (v->external && !v->set))
            return -EINVAL;
        for (unsigned j = 0; j < i; j++)
            if (!strcmp(vars[j].name, v->name))
                return -EEXIST;
    }
    m = mgmt_get(dev);
    if (!m)
        return -ENOMEM;
    for (unsigned i = 0; i < nr_vars; i++)
        if (var_find(m, vars[i].name))
            return -EEXIST;
    all = talloc_realloc(m, m->vars, struct vdev_var, m->nr_vars + nr_vars);
    if (!all && m->nr_vars + nr_vars)
        return -ENOMEM;
    m->vars = all;
    states = talloc_realloc(m, m->states, const void *, m->nr_vars + nr_vars);
    if (!states && m->nr_vars + nr_vars)
        return -ENOMEM;
    m->states = states;
    for (unsigned i = 0; i < nr_vars; i++) {
        all[m->nr_vars + i] = vars[i];
        states[m->nr_vars + i] = state;
    }
    m->nr_vars += nr_vars;
    return 0;
}

int
vdev_register_vars(struct vdev_dev *dev, const struct vdev_var *vars,
                   unsigned nr_vars)
{
    return register_vars(dev, NULL, vars, nr_vars);
}

int
vdev_register_state_vars(struct vdev_dev *dev, const void *state,
                         const struct vdev_var *vars, unsigned nr_vars)
{
    return register_vars(dev, state, vars, nr_vars);
}

/* ------------------------------------------------------------ output */

static void client_close(struct vdev_mgmt *m, struct mgmt_client *c);

static void
client_events(struct vdev_mgmt *m, struct mgmt_client *c, bool want_out)
{
    struct epoll_event ev = {
        .events =
            (c->closing || c->parked ? 0 : EPOLLIN) | (want_out ? EPOLLOUT : 0),
        .data.u32 = VDEV_EV_MGMT + 1 + (uint32_t)(c - m->clients),
    };

    if (epoll_ctl(m->dev->srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->want_out = want_out;
}

/* Sends what the socket takes now; the rest waits for EPOLLOUT. Returns
 * false when the client was closed. */
static bool
client_flush(struct vdev_mgmt *m, struct mgmt_client *c)
{
    size_t done = 0;

    while (done < c->out_len) {
        ssize_t n = send(c->fd, c->out + done, c->out_len - done,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            client_close(m, c);
            return false;
        }
        done += (size_t)n;
    }
    memmove(c->out, c->out + done, c->out_len - done);
    c->out_len -= done;
    if (!c->out_len && c->closing) {
        client_close(m, c);
        return false;
    }
    if ((c->out_len > 0) != c->want_out || c->closing)
        client_events(m, c, c->out_len > 0);
    return true;
}

/* Appends formatted text to the client's pending output; every piece is
 * short (names and words are bounded). On overflow the output is dropped
 * and the caller closes the client. */
static void __attribute__((format(printf, 2, 3)))
out_printf(struct mgmt_client *c, const char *fmt, ...)
{
    char piece[2 * VDEV_MGMT_LINE_MAX];
    size_t need, size;
    va_list ap;
    int n;

    if (!c->out)
        return;
    va_start(ap, fmt);
    n = vsnprintf(piece, sizeof(piece), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(piece))
        n = sizeof(piece) - 1;
    need = c->out_len + (size_t)n;
    size = talloc_get_size(c->out);
    if (need > MGMT_OUT_MAX)
        goto drop;
    if (size < need) {
        char *grown = talloc_realloc(NULL, c->out, char,
                                     need > 2 * size ? need : 2 * size);
        if (!grown)
            goto drop;
        c->out = grown;
    }
    memcpy(c->out + c->out_len, piece, (size_t)n);
    c->out_len = need;
    return;
drop:
    talloc_free(c->out);
    c->out = NULL;
    c->out_len = 0;
}

/* ------------------------------------------------------------ commands */

static void
print_value(struct mgmt_client *c, const struct vdev_var *v, uint64_t val)
{
    out_printf(c, "%s=0x%0*llx", v->name, (int)((v->bits + 3) / 4),
               (unsigned long long)val);
}

static uint64_t
var_max(const struct vdev_var *v)
{
    return v->bits >= 64 ? UINT64_MAX : (UINT64_C(1) << v->bits) - 1;
}

/* Accepts 0x-hex, 0b-binary and decimal; nothing else, no sign. */
static bool
parse_value(const char *s, uint64_t *out)
{
    int base = 10;
    char *end;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16, s += 2;
    else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
        base = 2, s += 2;
    if (!*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    errno = 0;
    *out = strtoull(s, &end, base);
    return !errno && !*end;
}

static void
cmd_help(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    out_printf(c, "ok commands: help, info, list, values, get NAME, "
                  "doc NAME, set NAME VALUE, stats, save FILE, load FILE, "
                  "upgrade BINARY, clock, clock advance NS, events\n");
}

static void
cmd_info(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    const struct vdev_pci_ident *id = &m->dev->ident;

    out_printf(c,
               "ok name=%s vendor=0x%04x device=0x%04x vars=%u "
               "connected=%s\n",
               m->dev->name, id->vendor_id, id->device_id, m->nr_vars,
               vdev_connected(m->dev) ? "yes" : "no");
}

static void
cmd_list(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    out_printf(c, "ok");
    for (unsigned i = 0; i < m->nr_vars; i++)
        out_printf(c, " %s:%u:%s", m->vars[i].name, m->vars[i].bits,
                   m->vars[i].external ? "ext" : "ro");
    out_printf(c, "\n");
}

/* Every value in one reply: a consistent snapshot (the loop serves nothing
 * else meanwhile) for vdevctl list and watch. */
static void
cmd_values(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    out_printf(c, "ok");
    for (unsigned i = 0; i < m->nr_vars; i++) {
        const struct vdev_var *v = &m->vars[i];
        out_printf(c, " ");
        print_value(c, v, var_value(m, v) & var_max(v));
    }
    out_printf(c, "\n");
}

/* The value's description on one line: control bytes become spaces, so a
 * multi-line doc string cannot break the protocol's framing. */
static void
cmd_doc(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    const struct vdev_var *v = var_find(m, argv[1]);
    char text[VDEV_MGMT_DOC_MAX + 1];
    size_t n = 0;

    if (!v) {
        out_printf(c, "error: unknown name '%s'\n", argv[1]);
        return;
    }
    for (const char *p = v->doc; p && *p && n < VDEV_MGMT_DOC_MAX; p++)
        text[n++] = (unsigned char)*p < ' ' || *p == 0x7f ? ' ' : *p;
    text[n] = '\0';
    out_printf(c, n ? "ok %s\n" : "ok\n", text);
}

static void
cmd_get(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    const struct vdev_var *v = var_find(m, argv[1]);

    if (!v) {
        out_printf(c, "error: unknown name '%s'\n", argv[1]);
        return;
    }
    out_printf(c, "ok ");
    print_value(c, v, var_value(m, v) & var_max(v));
    out_printf(c, "\n");
}

static void
cmd_set(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    const struct vdev_var *v = var_find(m, argv[1]);
    uint64_t val;
    int rc;

    if (!v) {
        out_printf(c, "error: unknown name '%s'\n", argv[1]);
        return;
    }
    if (!v->external) {
        out_printf(c, "error: %s is read-only (not external)\n", v->name);
        return;
    }
    /* A stopped device must not change (its state may be being saved). */
    if (!m->dev->running) {
        out_printf(c, "error: the device is stopped for migration\n");
        return;
    }
    if (!parse_value(argv[2], &val)) {
        out_printf(c, "error: bad value '%s' (decimal, 0x.. or 0b..)\n",
                   argv[2]);
        return;
    }
    if (val > var_max(v)) {
        out_printf(c, "error: %s out of range for %s (%u bits, max 0x%llx)\n",
                   argv[2], v->name, v->bits, (unsigned long long)var_max(v));
        return;
    }
    rc = v->set(m->dev, val);
    vdev_dev_settle(m->dev); /* a reset the device asked for */
    if (rc < 0) {
        out_printf(c, "error: set %s: %s\n", v->name, strerror(-rc));
        return;
    }
    VDEV_LOG(m->dev, VDEV_LOG_INFO, "mgmt: %s set to 0x%llx", v->name,
             (unsigned long long)val);
    out_printf(c, "ok ");
    print_value(c, v, var_value(m, v) & var_max(v));
    out_printf(c, "\n");
}

static void
cmd_stats(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    struct vdev_stats st;

    vdev_get_stats(m->dev, &st);
    out_printf(
        c,
        "ok messages=%llu errors=%llu bytes_in=%llu bytes_out=%llu "
        "connections=%llu irqs_sent=%llu irqs_dropped=%llu "
        "polled_requests=%llu woken_requests=%llu "
        "cycle_probing_ns=%llu cycle_sleeping_ns=%llu\n",
        (unsigned long long)st.messages, (unsigned long long)st.errors,
        (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out,
        (unsigned long long)st.connections, (unsigned long long)st.irqs_sent,
        (unsigned long long)st.irqs_dropped,
        (unsigned long long)m->dev->srv->poll.hits,
        (unsigned long long)m->dev->srv->poll.misses,
        (unsigned long long)m->dev->srv->poll.avg[1],
        (unsigned long long)m->dev->srv->poll.avg[0]);
}

static const char *
state_error(int rc)
{
    switch (rc) {
    case -ENOTSUP:
        return "the device has no migratable state";
    case -EBUSY:
        return "a VMM migration is in progress";
    case -EPROTO:
    case -EPROTONOSUPPORT:
        return "not a state file of this device";
    case -EINVAL:
        return "invalid state (or not a regular file)";
    default:
        return strerror(-rc);
    }
}

/* Paths are the server's: relative ones are relative to its cwd (the
 * client helpers send absolute paths). */
static void
cmd_save(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    size_t len = 0;
    int rc = vdev_mgmt_save_file(m->dev, argv[1], &len);

    if (rc < 0) {
        out_printf(c, "error: save %s: %s\n", argv[1], state_error(rc));
        return;
    }
    VDEV_LOG(m->dev, VDEV_LOG_INFO, "mgmt: state saved to %s", argv[1]);
    out_printf(c, "ok saved %zu bytes to %s\n", len, argv[1]);
}

static void
cmd_load(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    size_t len = 0;
    int rc = vdev_mgmt_load_file(m->dev, argv[1], &len);

    if (rc < 0) {
        out_printf(c, "error: load %s: %s\n", argv[1], state_error(rc));
        return;
    }
    VDEV_LOG(m->dev, VDEV_LOG_INFO, "mgmt: state loaded from %s", argv[1]);
    out_printf(c, "ok loaded %zu bytes from %s\n", len, argv[1]);
}

/* Seamless upgrade to a new server binary (handover.c). On success this
 * process stops after the reply: the successor answers from now on. */
static void
cmd_upgrade(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    pid_t pid = -1;
    int rc = vdev_upgrade(m->dev, argv[1], &pid);

    if (rc < 0) {
        const char *why = strerror(-rc);
        if (rc == -ENOTSUP)
            why = "the device has no migratable state";
        else if (rc == -EBUSY)
            why = "a migration is in progress";
        else if (rc == -EPIPE || rc == -ECONNRESET)
            why = "the new server exited without taking over";
        else if (rc == -ETIMEDOUT)
            why = "the new server did not answer";
        out_printf(c, "error: upgrade %s: %s; still serving\n", argv[1], why);
        return;
    }
    out_printf(c, "ok handed over to pid %d\n", (int)pid);
}

/* ------------------------------------------------------------ time, events */

static void
cmd_clock(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    struct vdev_dev *dev = m->dev;

    out_printf(c, "ok now=%llu mode=%s running=%s",
               (unsigned long long)vdev_now(dev),
               dev->clock.is_virtual ? "virtual" : "real",
               dev->running ? "yes" : "no");
    for (unsigned i = 0; i < dev->clock.nr_timers; i++) {
        const struct vdev_timer *t = dev->clock.timers[i];
        uint64_t remaining, period;
        bool armed;

        vdev_timer_get_state(t, &armed, &remaining, &period);
        out_printf(c, " %s:%s:%llu:%llu", vdev_timer_name(t),
                   armed ? "on" : "off", (unsigned long long)remaining,
                   (unsigned long long)period);
    }
    out_printf(c, "\n");
}

/* NS: decimal with an optional unit (ns, us, ms, s). */
static bool
parse_duration(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t ns;
    } units[] = {
        {"", 1}, {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
    uint64_t v;
    char *end;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit))
            continue;
        if (v > UINT64_MAX / units[i].ns)
            return false;
        *out = v * units[i].ns;
        return true;
    }
    return false;
}

/* Expiries one request may fire: the loop must come back to the VMM. The
 * reply's left= says how much time is still to advance. */
#define MGMT_ADVANCE_BUDGET 65536u

static void
cmd_clock_advance(struct vdev_mgmt *m, struct mgmt_client *c, char **argv,
                  int argc)
{
    uint64_t ns, left = 0;
    int rc;

    if (strcmp(argv[1], "advance")) {
        out_printf(c, "error: usage: clock [advance NS]\n");
        return;
    }
    if (!parse_duration(argv[2], &ns)) {
        out_printf(c,
                   "error: bad duration '%s' (nanoseconds, or a number "
                   "with ns, us, ms or s)\n",
                   argv[2]);
        return;
    }
    rc = vdev_clock_advance_budget(m->dev, ns, MGMT_ADVANCE_BUDGET, &left);
    if (rc == -EPERM) {
        out_printf(c, "error: the clock is real; start the server with "
                      "--clock=virtual to advance it\n");
        return;
    }
    if (rc < 0) {
        out_printf(c, "error: clock advance: %s\n", strerror(-rc));
        return;
    }
    out_printf(c, "ok now=%llu fired=%d", (unsigned long long)vdev_now(m->dev),
               rc);
    if (left) /* the budget ran out: the client asks again for the rest */
        out_printf(c, " left=%llu", (unsigned long long)left);
    out_printf(c, "\n");
}

/* From now on the client gets "event NAME TIME_NS" lines as events happen,
 * besides the replies to whatever else it asks. */
static void
cmd_events(struct vdev_mgmt *m, struct mgmt_client *c, char **argv, int argc)
{
    c->events = true;
    out_printf(c, "ok subscribed\n");
}

static void
mgmt_event_sink(struct vdev_dev *dev, const char *name, uint64_t now)
{
    struct vdev_mgmt *m = dev->srv->mgmt;

    for (unsigned i = 0; m && i < MGMT_MAX_CLIENTS; i++) {
        struct mgmt_client *c = &m->clients[i];

        if (c->fd < 0 || !c->events || c->closing)
            continue;
        out_printf(c, "event %s %llu\n", name, (unsigned long long)now);
        /* One in the middle of a command (the one that caused the event)
         * is flushed, or dropped, once its command is done. */
        if (c->busy)
            continue;
        if (!c->out) {
            VDEV_LOG(dev, VDEV_LOG_WARN,
                     "mgmt: dropping an event subscriber that does not read");
            client_close(m, c);
            continue;
        }
        client_flush(m, c);
    }
}

typedef void mgmt_cmd_fn(struct vdev_mgmt *m, struct mgmt_client *c,
                         char **argv, int argc);

/* A new command is one more row. `ro`: it changes nothing, so it may run
 * while a handler waits for the vfio-user client (srv->nested); the
 * others wait until the loop is back. */
static const struct mgmt_cmd {
    const char *name;
    const char *usage;
    int argc; /* words including the command */
    bool ro;
    mgmt_cmd_fn *fn;
} mgmt_cmds[] = {
    {"help", "help", 1, true, cmd_help},
    {"info", "info", 1, true, cmd_info},
    {"list", "list", 1, true, cmd_list},
    {"values", "values", 1, true, cmd_values},
    {"get", "get NAME", 2, true, cmd_get},
    {"doc", "doc NAME", 2, true, cmd_doc},
    {"set", "set NAME VALUE", 3, false, cmd_set},
    {"stats", "stats", 1, true, cmd_stats},
    {"save", "save FILE", 2, false, cmd_save},
    {"load", "load FILE", 2, false, cmd_load},
    {"upgrade", "upgrade BINARY", 2, false, cmd_upgrade},
    /* clock advance runs timers: never while a handler waits (nested) */
    {"clock", "clock [advance NS]", 1, false, cmd_clock},
    {"clock", "clock [advance NS]", 3, false, cmd_clock_advance},
    {"events", "events", 1, true, cmd_events},
};

/* Whether a request line may run now: always, unless a handler is
 * waiting for the vfio-user client and the command changes something.
 * Blank lines and unknown commands change nothing. */
static bool
line_may_run(const struct vdev_mgmt *m, const char *line, size_t len)
{
    size_t i = 0, w;

    if (!m->dev->srv->nested)
        return true;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    for (w = i; w < len && line[w] != ' ' && line[w] != '\t' && line[w] != '\r';
         w++)
        ;
    for (size_t k = 0; k < sizeof(mgmt_cmds) / sizeof(mgmt_cmds[0]); k++)
        if (strlen(mgmt_cmds[k].name) == w - i &&
            !memcmp(mgmt_cmds[k].name, line + i, w - i))
            return mgmt_cmds[k].ro;
    return true;
}

static void
run_line(struct vdev_mgmt *m, struct mgmt_client *c, char *line, size_t len)
{
    char *argv[MGMT_MAX_ARGS + 1];
    int argc = 0;
    char *save = NULL;

    if (len && line[len - 1] == '\r') /* socat/telnet line endings */
        line[--len] = '\0';
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        if ((ch < ' ' && ch != '\t') || ch >= 0x7f) {
            out_printf(c, "error: request contains non-printable bytes\n");
            return;
        }
    }
    for (char *w = strtok_r(line, " \t", &save); w;
         w = strtok_r(NULL, " \t", &save)) {
        if (argc == MGMT_MAX_ARGS + 1) {
            out_printf(c, "error: too many words\n");
            return;
        }
        argv[argc++] = w;
    }
    if (!argc)
        return; /* blank line: nothing asked, nothing answered */
    const struct mgmt_cmd *named = NULL;
    for (size_t i = 0; i < sizeof(mgmt_cmds) / sizeof(mgmt_cmds[0]); i++) {
        const struct mgmt_cmd *cmd = &mgmt_cmds[i];
        if (strcmp(argv[0], cmd->name))
            continue;
        named = named ? named : cmd;
        if (argc == cmd->argc) { /* a name may have rows per word count */
            cmd->fn(m, c, argv, argc);
            return;
        }
    }
    if (named)
        out_printf(c, "error: usage: %s\n", named->usage);
    else
        out_printf(c, "error: unknown command '%.32s' (try help)\n", argv[0]);
}

/* ------------------------------------------------------------ clients */

static void
client_close(struct vdev_mgmt *m, struct mgmt_client *c)
{
    if (c->fd < 0)
        return;
    epoll_ctl(m->dev->srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    talloc_free(c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* Runs the complete lines in buf, at most MGMT_LINES_PER_TURN of them.
 * Returns how many bytes it took: up to the last line run, or all of buf
 * when the budget was not reached (a line's head is kept in c->line). */
static size_t
client_input(struct vdev_mgmt *m, struct mgmt_client *c, const char *buf,
             size_t n)
{
    unsigned lines = 0;
    size_t i;

    for (i = 0; i < n && c->out && lines < MGMT_LINES_PER_TURN; i++) {
        char ch = buf[i];
        if (ch == '\0') {
            /* No text line holds a NUL; a vfio-user header always does
             * (its command number is below 256). Say so and hang up: the
             * client reads our words as a header and must see the end. */
            out_printf(c, "error: binary data; this is a vdev management "
                          "socket (text lines, try help), not vfio-user\n");
            c->closing = true;
            return n;
        }
        if (ch == '\n') {
            if (!c->discarding) {
                if (!line_may_run(m, c->line, c->line_len)) {
                    c->parked = true; /* the line waits, its LF unread */
                    return i;
                }
                c->line[c->line_len] = '\0';
                run_line(m, c, c->line, c->line_len);
                lines++;
            }
            c->discarding = false;
            c->line_len = 0;
        } else if (c->discarding) {
            continue;
        } else if (c->line_len == VDEV_MGMT_LINE_MAX) {
            out_printf(c, "error: line too long (max %u bytes)\n",
                       VDEV_MGMT_LINE_MAX);
            c->discarding = true;
            c->line_len = 0;
        } else {
            c->line[c->line_len++] = ch;
        }
    }
    return i;
}

/* Looks at what the client sent without taking it, runs what the turn's
 * budget allows, then takes exactly those bytes. */
static void
client_readable(struct vdev_mgmt *m, struct mgmt_client *c)
{
    char buf[MGMT_READ_CHUNK];
    ssize_t n, k;
    size_t used;

    if (c->closing) {
        client_flush(m, c);
        return;
    }
    /* Its own command is what the loop waits in: its next ones wait too,
     * in order. */
    if (c->busy && m->dev->srv->nested) {
        c->parked = true;
        client_events(m, c, c->want_out);
        return;
    }
    n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        client_flush(m, c);
        return;
    }
    if (n <= 0) {
        if (n < 0 || !c->out_len) {
            client_close(m, c);
            return;
        }
        c->closing = true; /* half-closed (socat): answer, then close */
        client_flush(m, c);
        return;
    }
    c->last_active = vdev_now_ms();
    c->busy = true;
    used = client_input(m, c, buf, (size_t)n);
    c->busy = false;
    do
        k = recv(c->fd, buf, used, MSG_DONTWAIT);
    while (k < 0 && errno == EINTR);
    if (c->parked) /* LT: unwatched, or the rest would wake us at once */
        client_events(m, c, c->want_out);
    if (!c->out) {
        VDEV_LOG(m->dev, VDEV_LOG_WARN,
                 "mgmt: dropping a client that does not read its replies");
        client_close(m, c);
        return;
    }
    client_flush(m, c);
}

/* Between commands: no part of a request line, no reply left to send and
 * no request waiting in its socket. */
static bool
client_idle(const struct mgmt_client *c)
{
    char b;

    return !c->busy && !c->line_len && !c->discarding && !c->out_len &&
           recv(c->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK) <= 0;
}

/* A slot for a new client (see MGMT_MAX_CLIENTS), or NULL when every
 * client is in the middle of a command. */
static struct mgmt_client *
client_slot(struct vdev_mgmt *m)
{
    struct mgmt_client *idle = NULL, *stalled = NULL;
    int64_t now = vdev_now_ms();

    for (unsigned i = 0; i < MGMT_MAX_CLIENTS; i++) {
        struct mgmt_client *c = &m->clients[i];

        if (c->fd < 0)
            return c;
        if (client_idle(c)) {
            if (!idle || c->last_active < idle->last_active)
                idle = c;
        } else if (!c->busy && now - c->last_active >= MGMT_STALL_MS) {
            if (!stalled || c->last_active < stalled->last_active)
                stalled = c;
        }
    }
    if (!idle && !stalled)
        return NULL;
    VDEV_LOG(m->dev, VDEV_LOG_INFO,
             "mgmt: %d clients, dropping the least recently active %s one",
             MGMT_MAX_CLIENTS, idle ? "idle" : "stalled");
    client_close(m, idle ? idle : stalled);
    return idle ? idle : stalled;
}

static void
refuse_busy(struct vdev_mgmt *m, int fd)
{
    char msg[128];
    int n = snprintf(msg, sizeof(msg),
                     "error: busy: %d management clients, each in the middle "
                     "of a command; try again\n",
                     MGMT_MAX_CLIENTS);

    VDEV_LOG(m->dev, VDEV_LOG_INFO, "mgmt: all %d clients busy: refused one",
             MGMT_MAX_CLIENTS);
    if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* it learns from the hang-up */
    }
    close(fd);
}

static void
accept_clients(struct vdev_mgmt *m)
{
    /* A few per event; level-triggered epoll brings us back for more. */
    for (int k = 0; k < 4; k++) {
        struct epoll_event ev = {.events = EPOLLIN};
        struct mgmt_client *c;
        int fd =
            accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0)
            return;
        if (!(c = client_slot(m))) {
            refuse_busy(m, fd);
            continue;
        }
        c->out = talloc_size(m, 256);
        ev.data.u32 = VDEV_EV_MGMT + 1 + (uint32_t)(c - m->clients);
        if (!c->out ||
            epoll_ctl(m->dev->srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            talloc_free(c->out);
            c->out = NULL;
            close(fd);
            return;
        }
        c->fd = fd;
        c->last_active = vdev_now_ms();
    }
}

/* The loop is back from a wait for the vfio-user client: watch the input
 * of clients whose requests were put off (srv->ext_resume). */
static void
mgmt_resume(struct vdev_dev *dev)
{
    struct vdev_mgmt *m = dev->srv->mgmt;

    for (unsigned i = 0; m && i < MGMT_MAX_CLIENTS; i++) {
        struct mgmt_client *c = &m->clients[i];

        if (c->fd >= 0 && c->parked) {
            c->parked = false;
            client_events(m, c, c->want_out);
        }
    }
}

/* The serving loop's handler for our epoll tags (srv->ext_dispatch). */
static int
mgmt_dispatch(struct vdev_dev *dev, uint32_t tag)
{
    struct vdev_mgmt *m = dev->srv->mgmt;
    uint32_t slot;

    if (!m || tag < VDEV_EV_MGMT)
        return -EINVAL;
    slot = tag - VDEV_EV_MGMT;
    if (slot == 0) {
        if (m->listen_fd >= 0)
            accept_clients(m);
        return 0;
    }
    /* A stale event for a slot closed earlier in the same batch is a
     * harmless nonblocking read. */
    if (slot > MGMT_MAX_CLIENTS || m->clients[slot - 1].fd < 0)
        return 0;
    client_readable(m, &m->clients[slot - 1]);
    return 0;
}

/* ------------------------------------------------------------ socket */

int
vdev_mgmt_listen(struct vdev_dev *dev, const char *path)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = VDEV_EV_MGMT};
    struct vdev_mgmt *m;
    struct stat st;
    int fd;

    if (!dev || !path || !*path)
        return -EINVAL;
    if (dev->srv->epoll_fd < 0)
        return -EBADF;
    m = mgmt_get(dev);
    if (!m)
        return -ENOMEM;
    if (m->listen_fd >= 0)
        return -EBUSY;
    fd = vdev_unix_listen(path, MGMT_BACKLOG, &st);
    if (fd < 0)
        return fd;
    m->path = talloc_strdup(m, path);
    if (!m->path || epoll_ctl(dev->srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int rc = m->path ? -errno : -ENOMEM;

        TALLOC_FREE(m->path);
        unlink(path);
        close(fd);
        return rc;
    }
    m->listen_fd = fd;
    m->sock_dev = st.st_dev;
    m->sock_ino = st.st_ino;
    VDEV_LOG(dev, VDEV_LOG_INFO, "mgmt: listening on %s", path);
    return 0;
}

/* ------------------------------------------------------------ hand-over */

int
vdev_mgmt_export(struct vdev_dev *dev, const char **path)
{
    struct vdev_mgmt *m = dev->srv->mgmt;

    *path = m && m->listen_fd >= 0 ? m->path : NULL;
    return m ? m->listen_fd : -1;
}

void
vdev_mgmt_disown(struct vdev_dev *dev)
{
    struct vdev_mgmt *m = dev->srv->mgmt;

    if (!m)
        return;
    TALLOC_FREE(m->path);
    if (m->listen_fd >= 0) {
        epoll_ctl(dev->srv->epoll_fd, EPOLL_CTL_DEL, m->listen_fd, NULL);
        close(m->listen_fd);
        m->listen_fd = -1;
    }
}

int
vdev_mgmt_adopt(struct vdev_dev *dev, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = VDEV_EV_MGMT};
    int on = 0, type = 0;
    socklen_t len = sizeof(int);
    struct vdev_mgmt *m = mgmt_get(dev);

    if (!m)
        return -ENOMEM;
    if (m->listen_fd >= 0)
        return -EBUSY;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return -errno;
    if (!on || type != SOCK_STREAM)
        return -EINVAL;
    if (epoll_ctl(dev->srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    m->listen_fd = fd;
    return 0;
}

void
vdev_mgmt_own_path(struct vdev_dev *dev, const char *path)
{
    struct vdev_mgmt *m = dev->srv->mgmt;
    struct stat st;

    if (!m || m->listen_fd < 0 || stat(path, &st) < 0)
        return;
    m->path = talloc_strdup(m, path);
    m->sock_dev = st.st_dev;
    m->sock_ino = st.st_ino;
}
