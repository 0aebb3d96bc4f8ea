/* The differential harness (see kdiff.h): servers started per sequence,
 * steps recorded, runs compared. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kdiff.h"
#include "rawsock.h"

static const char *const target_names[] = {"ours", "libvfio-user",
                                           "libvfio-user-v1"};

const char *
kd_peers_dir(void)
{
    const char *d = getenv("VDEV_PEERS");

    return d && *d ? d : "../shared/peers";
}

static void
peer_path(enum kd_target t, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s/samples/gpio-pci-idio-16", kd_peers_dir(),
             target_names[t]);
}

bool
kd_peer_present(enum kd_target t)
{
    char p[PATH_MAX];

    peer_path(t, p, sizeof(p));
    return access(p, X_OK) == 0;
}

static void
our_path(char *buf, size_t len)
{
    const char *b = getenv("VDEV_BUILD");

    snprintf(buf, len, "%s/bin/vdev-gpio-pci-idio-16", b ? b : "build");
}

/* ------------------------------------------------------------ servers */

struct server {
    pid_t pid;
    char dir[64];
    char sock[96];
};

static pid_t
spawn(enum kd_target t, const char *sock)
{
    char prog[PATH_MAX], arg[160];
    pid_t pid;

    if (t == KD_OURS)
        our_path(prog, sizeof(prog));
    else
        peer_path(t, prog, sizeof(prog));
    snprintf(arg, sizeof(arg), "--socket-path=%s", sock);
    pid = fork();
    if (pid != 0)
        return pid;
    int null = open("/dev/null", O_WRONLY);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (null >= 0) {
        dup2(null, 1);
        dup2(null, 2);
    }
    if (t == KD_OURS)
        execl(prog, prog, arg, (char *)NULL);
    else
        execl(prog, prog, sock, (char *)NULL);
    _exit(127);
}

static int
server_start(struct server *s, enum kd_target t, int *fd)
{
    struct timeval tv = {.tv_sec = 2};

    strcpy(s->dir, "/tmp/vdev-kdiff-XXXXXX");
    if (!mkdtemp(s->dir))
        return -errno;
    snprintf(s->sock, sizeof(s->sock), "%s/s.sock", s->dir);
    s->pid = spawn(t, s->sock);
    if (s->pid < 0)
        return -errno;
    /* Up to 10 s: a sanitizer build starts slowly on a loaded machine. */
    for (int i = 0; i < 1000; i++) {
        *fd = raw_connect(s->sock);
        if (*fd >= 0) {
            setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            return 0;
        }
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = -1;
            return -ECHILD;
        }
        usleep(10000);
    }
    return -ETIMEDOUT;
}

static void
server_stop(struct server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = -1;
    unlink(s->sock);
    rmdir(s->dir);
}

/* ------------------------------------------------------------ steps */

int
kd_eventfd(void)
{
    return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static uint64_t
drain(int fd)
{
    uint64_t v = 0;

    if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
        return 0;
    return v;
}

static struct kd_obs *
new_obs(struct kd_run *r, const char *step, unsigned cmp)
{
    struct kd_obs *o;

    if (r->nr >= KD_MAX_STEPS) {
        fprintf(stderr, "kdiff: too many steps\n");
        abort();
    }
    o = &r->obs[r->nr++];
    memset(o, 0, sizeof(*o));
    snprintf(o->step, sizeof(o->step), "%s", step);
    o->cmp = cmp;
    return o;
}

/* Receives the reply to id, skipping anything else (server requests). */
static int
recv_reply(struct kd_run *r, uint16_t id, struct raw_reply *rep)
{
    for (;;) {
        int rc = raw_recv(r->fd, rep);

        if (rc < 0) {
            raw_reply_free(rep);
            return rc;
        }
        if ((rep->hdr.flags & VFIO_USER_F_TYPE_MASK) ==
                VFIO_USER_F_TYPE_REPLY &&
            rep->hdr.msg_id == id)
            return 0;
        raw_reply_free(rep);
    }
}

const struct kd_obs *
kd_step(struct kd_run *r, const char *step, unsigned cmp,
        const struct kd_msg *m)
{
    struct kd_obs *o = new_obs(r, step, cmp);
    uint16_t id = r->next_id++;
    struct raw_reply rep;
    int rc;

    if (!r->closed)
        rc = raw_send_msg(r->fd, id, m->cmd, m->flags, m->payload, m->len,
                          m->fds, m->nr_fds);
    else
        rc = -EPIPE;
    for (unsigned i = 0; i < m->nr_fds; i++)
        close(m->fds[i]);
    if (rc == 0)
        rc = recv_reply(r, id, &rep);
    if (rc < 0) {
        r->closed = true;
        o->status = KD_CLOSED;
        return o;
    }
    if (rep.hdr.flags & VFIO_USER_F_ERROR)
        o->status = rep.hdr.error_no ? (int)rep.hdr.error_no : EIO;
    o->len = rep.len;
    memcpy(o->data, rep.payload, rep.len < KD_DATA_MAX ? rep.len : KD_DATA_MAX);
    o->events = drain(m->watch_fd);
    raw_reply_free(&rep);
    return o;
}

const struct kd_obs *
kd_call(struct kd_run *r, const char *step, unsigned cmp, uint16_t cmd,
        const void *payload, size_t len)
{
    struct kd_msg m = {
        .cmd = cmd, .payload = payload, .len = len, .watch_fd = -1};

    return kd_step(r, step, cmp, &m);
}

void
kd_fields(struct kd_run *r, uint8_t off, uint8_t len, uint8_t off2,
          uint8_t len2)
{
    struct kd_obs *o = &r->obs[r->nr - 1];

    o->f_off = off;
    o->f_len = len;
    o->g_off = off2;
    o->g_len = len2;
}

void
kd_send(struct kd_run *r, uint16_t cmd, uint32_t flags, const void *payload,
        size_t len)
{
    if (!r->closed &&
        raw_send_msg(r->fd, r->next_id++, cmd, flags, payload, len, NULL, 0))
        r->closed = true;
}

const struct kd_obs *
kd_version(struct kd_run *r, const char *step, unsigned cmp, uint16_t major,
           uint16_t minor, const char *json)
{
    struct vfio_user_version v = {.major = major, .minor = minor};
    size_t jl = json ? strlen(json) + 1 : 0;
    uint8_t buf[512];

    memcpy(buf, &v, sizeof(v));
    if (jl)
        memcpy(buf + sizeof(v), json, jl);
    return kd_call(r, step, cmp, VFIO_USER_VERSION, buf, sizeof(v) + jl);
}

void
kd_learn_bar2(struct kd_run *r)
{
    struct vfio_region_info ri = {.argsz = sizeof(ri), .index = 2};
    struct raw_reply rep;
    uint16_t id = r->next_id++;

    r->bar2_size = 0;
    if (r->closed ||
        raw_send_msg(r->fd, id, VFIO_USER_DEVICE_GET_REGION_INFO, 0, &ri,
                     sizeof(ri), NULL, 0) ||
        recv_reply(r, id, &rep))
        return;
    if (!(rep.hdr.flags & VFIO_USER_F_ERROR) && rep.len >= sizeof(ri)) {
        memcpy(&ri, rep.payload, sizeof(ri));
        r->bar2_size = ri.size;
    }
    raw_reply_free(&rep);
}

/* ------------------------------------------------------------ runs */

int
kd_run_seq(const struct kd_seq *seq, enum kd_target t, struct kd_run *out)
{
    struct server s = {.pid = -1};
    int rc;

    memset(out, 0, sizeof(*out));
    out->target = t;
    out->next_id = 1;
    rc = server_start(&s, t, &out->fd);
    if (rc < 0) {
        fprintf(stderr, "kdiff: %s: %s did not start: %s\n", seq->name,
                target_names[t], strerror(-rc));
        server_stop(&s);
        return -1;
    }
    if (seq->negotiate)
        kd_version(out, "version", 0, 0, 1,
                   "{\"capabilities\":{\"max_msg_fds\":8}}");
    seq->run(out);
    close(out->fd);
    server_stop(&s);
    return 0;
}

static void
describe(const struct kd_obs *o, char *buf, size_t len)
{
    int n;

    if (o->status == KD_CLOSED)
        n = snprintf(buf, len, "connection closed");
    else if (o->status)
        n = snprintf(buf, len, "error %d (%s)", o->status, strerror(o->status));
    else
        n = snprintf(buf, len, "ok, %u bytes", o->len);
    if (o->cmp & KD_EV)
        n += snprintf(buf + n, len - (size_t)n, ", %llu events",
                      (unsigned long long)o->events);
    for (uint32_t i = 0; i < o->len && i < 32 && n < (int)len - 3; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s%02x", i ? "" : " ",
                      o->data[i]);
}

static bool
range_eq(const struct kd_obs *a, const struct kd_obs *b, unsigned off,
         unsigned len)
{
    if (off + len > KD_DATA_MAX)
        return false;
    if (a->len < off + len || b->len < off + len)
        return a->len < off + len && b->len < off + len;
    return memcmp(a->data + off, b->data + off, len) == 0;
}

static bool
obs_agree(const struct kd_obs *a, const struct kd_obs *b)
{
    unsigned c = a->cmp;

    if ((c & KD_ST) && a->status != b->status)
        return false;
    /* Payload checks mean something only when both succeeded. */
    if (a->status || b->status)
        return !(c & KD_ST) || a->status == b->status;
    if ((c & KD_LEN) && a->len != b->len)
        return false;
    if ((c & KD_EV) && a->events != b->events)
        return false;
    if ((c & KD_F1) && !range_eq(a, b, a->f_off, a->f_len))
        return false;
    if ((c & KD_F2) && !range_eq(a, b, a->g_off, a->g_len))
        return false;
    return true;
}

unsigned
kd_compare(const struct kd_seq *seq, const struct kd_run *ours,
           const struct kd_run *peer, unsigned gen, const struct kd_expect *exp,
           unsigned nr_exp, bool *seen)
{
    unsigned bad = 0;

    if (ours->nr != peer->nr) {
        fprintf(stderr, "kdiff: %s: %u steps against %u\n", seq->name, ours->nr,
                peer->nr);
        return 1;
    }
    for (unsigned i = 0; i < ours->nr; i++) {
        const struct kd_obs *a = &ours->obs[i], *b = &peer->obs[i];
        char what[112], da[200], db[200];
        bool expected = false;

        if (!a->cmp || obs_agree(a, b))
            continue;
        snprintf(what, sizeof(what), "%s/%s", seq->name, a->step);
        for (unsigned k = 0; k < nr_exp; k++) {
            if ((exp[k].gens & gen) && strcmp(exp[k].what, what) == 0) {
                seen[k] = true;
                expected = true;
            }
        }
        if (expected)
            continue;
        describe(a, da, sizeof(da));
        describe(b, db, sizeof(db));
        fprintf(stderr,
                "kdiff: NEW disagreement %s (%s):\n  ours: %s\n  peer: %s\n",
                what, target_names[peer->target], da, db);
        bad++;
    }
    return bad;
}
