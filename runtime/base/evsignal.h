/* Signalling a client's eventfd (an interrupt, a mask notification) so that
 * nothing the client does to it can block the server. */
#ifndef VDEV_BASE_EVSIGNAL_H
#define VDEV_BASE_EVSIGNAL_H

/* Adds one to the counter of eventfd fd (checked with
 * vdev_fd_check_eventfd when it arrived) without ever blocking, whatever
 * its O_NONBLOCK flag or counter, both of which the client may change at
 * any time. Returns 1 when signalled, 0 when the counter was full (the
 * client has an event pending that it has not read: this edge coalesces
 * with it), -errno when the signal was lost. Thread-safe. */
int vdev_eventfd_signal(int fd);

#endif /* VDEV_BASE_EVSIGNAL_H */
