/* Management channel wire limits, shared by mgmt.c (server) and
 * mgmt_client.c (vdevctl's side). The protocol, for people with socat too:
 *
 *   request  = WORD *( (SP / HT) WORD ) [CR] LF    printable ASCII only
 *   reply    = "ok" [SP text] LF  /  "error: " text LF
 *
 *   help                 ok commands: ...
 *   info                 ok name=N vendor=0xVVVV device=0xDDDD vars=K
 *                           connected=yes|no
 *   list                 ok NAME:BITS:ext|ro ...   (registration order)
 *   values               ok NAME=0xHEX ...   (every value, one snapshot)
 *   get NAME             ok NAME=0xHEX   (zero-padded to the value's width)
 *   doc NAME             ok TEXT   (its description on one line; may be
 *                        empty)
 *   set NAME VALUE       ok NAME=0xHEX   (read back after the device's set)
 *                        VALUE: decimal, 0x.. or 0b..; only "ext" values,
 *                        at most 2^BITS - 1
 *   stats                ok messages=N errors=N bytes_in=N bytes_out=N
 *                           connections=N irqs_sent=N irqs_dropped=N
 *   save FILE            ok saved N bytes to FILE     (migration stream,
 *   load FILE            ok loaded N bytes from FILE   mode 0600; FILE is
 *                        the server's path, no spaces; load refuses while
 *                        a VMM migration runs and changes nothing when the
 *                        file is not a valid stream for this device)
 *   upgrade BINARY       ok handed over to pid N   (seamless upgrade: BINARY
 *                        --handover-fd=N takes over sockets, client and
 *                        state; this server then exits. On error it goes
 *                        on serving.)
 *
 * One reply per non-blank request, in order; blank lines are ignored. A
 * line longer than VDEV_MGMT_LINE_MAX gets "error: line too long" and is
 * skipped up to its newline. A client that leaves 64 KiB of replies unread
 * is dropped. Of 16 clients, one that is idle (or stalled mid-command for
 * 2 s) makes room for a 17th; when all are mid-command the newcomer gets
 * "error: busy: ..." and is closed. While the server waits for its
 * vfio-user client, only set, save, load and upgrade wait with it; the
 * other commands are answered. A NUL byte (a vfio-user client on the wrong
 * socket) gets "error: binary data; ..." and the connection is closed. Clients
 * pad short requests with spaces to 16 bytes, so a vfio-user server sent one by
 * mistake sees a whole header and answers at once. */
#ifndef VDEV_MGMT_PROTO_H
#define VDEV_MGMT_PROTO_H

/* Longest request line, newline excluded. */
#define VDEV_MGMT_LINE_MAX 512u
/* Longest name of a registered value. */
#define VDEV_MGMT_NAME_MAX 128u
/* Longest description "doc NAME" returns. */
#define VDEV_MGMT_DOC_MAX 400u
/* Requests are padded with spaces to at least this many bytes (a vfio-user
 * header's size). */
#define VDEV_MGMT_MIN_REQUEST 16u
/* Seconds a client waits for a reply before giving up. */
#define VDEV_MGMT_TIMEOUT_S 5

#endif /* VDEV_MGMT_PROTO_H */
