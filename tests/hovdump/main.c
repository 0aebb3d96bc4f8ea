/* vdev-hovdump: a stand-in successor for the hand-over tests. It takes
 * --handover-fd=N like a server, receives the record and its fds, writes
 * them next to the server's socket (DIR/record: the record bytes;
 * DIR/fds: one line per fd, L listening socket, S other socket, M SIZE
 * memory file, E anything else) and refuses the hand-over, so the old
 * server goes on. The tests replay mutated copies to a real successor. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/handover.h"

static int
recv_fds(int sock, void *buf, size_t len, int *fds, unsigned max)
{
    char ctl[CMSG_SPACE(sizeof(int) * HOV_FDS_PER_PKT)];
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr mh = {.msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = ctl,
                        .msg_controllen = sizeof(ctl)};
    ssize_t n = recvmsg(sock, &mh, 0);
    unsigned k = 0;

    if (n <= 0)
        return -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
         cm = CMSG_NXTHDR(&mh, cm)) {
        size_t nr = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nr && k < max; i++)
            memcpy(&fds[k++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
    }
    return (int)k;
}

static void
describe(FILE *f, int fd)
{
    int on = 0;
    socklen_t len = sizeof(on);
    struct stat st;

    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0)
        fprintf(f, on ? "L\n" : "S\n");
    else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        fprintf(f, "M %lld\n", (long long)st.st_size);
    else
        fprintf(f, "E\n");
}

/* The socket path from the sockets section: where to write. */
static char *
socket_dir(const uint8_t *rec, uint64_t len)
{
    uint64_t off = 0;

    while (len - off >= sizeof(struct hov_sect)) {
        struct hov_sect s;
        memcpy(&s, rec + off, sizeof(s));
        off += sizeof(s);
        if (s.len > len - off)
            return NULL;
        if (s.type == HOV_SECT_SOCKETS && s.len >= sizeof(struct hov_sockets)) {
            struct hov_sockets so;
            memcpy(&so, rec + off, sizeof(so));
            if (so.path_len == 0 || sizeof(so) + so.path_len > s.len)
                return NULL;
            return dirname(
                strndup((const char *)rec + off + sizeof(so), so.path_len));
        }
        off += (s.len + 7) & ~(uint64_t)7;
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    struct hov_head h;
    struct hov_ack a = {.status = -ECANCELED, .pid = (uint32_t)getpid()};
    int sock, *fds;
    uint8_t *rec;
    uint64_t got = 0;
    unsigned nr = 0;
    char *dir, path[4200];
    FILE *f;

    if (argc < 2 || sscanf(argv[1], "--handover-fd=%d", &sock) != 1)
        return 2;
    if (recv(sock, &h, sizeof(h), 0) != sizeof(h) || h.nr_fds > HOV_MAX_FDS ||
        h.record_len > HOV_MAX_RECORD)
        return 1;
    fds = calloc(h.nr_fds + 1, sizeof(int));
    rec = malloc(h.record_len + 1);
    if (!fds || !rec)
        return 1;
    while (nr < h.nr_fds) {
        struct hov_fds pk;
        int k = recv_fds(sock, &pk, sizeof(pk), fds + nr, h.nr_fds - nr);
        if (k <= 0)
            return 1;
        nr += (unsigned)k;
    }
    while (got < h.record_len) {
        ssize_t n = recv(sock, rec + got, h.record_len - got, 0);
        if (n <= 0)
            return 1;
        got += (uint64_t)n;
    }
    dir = socket_dir(rec, h.record_len);
    if (!dir)
        return 1;
    snprintf(path, sizeof(path), "%s/record", dir);
    f = fopen(path, "w");
    if (!f || fwrite(rec, 1, h.record_len, f) != h.record_len || fclose(f))
        return 1;
    snprintf(path, sizeof(path), "%s/fds", dir);
    f = fopen(path, "w");
    if (!f)
        return 1;
    for (unsigned i = 0; i < nr; i++)
        describe(f, fds[i]);
    if (fclose(f))
        return 1;
    memcpy(a.magic, HOV_ACK_MAGIC, sizeof(a.magic));
    send(sock, &a, sizeof(a), MSG_NOSIGNAL);
    for (unsigned i = 0; i < nr; i++)
        close(fds[i]);
    free(fds);
    free(rec);
    free(dir);
    return 0;
}
