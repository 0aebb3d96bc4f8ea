#!/usr/bin/env bash
# QEMU tier, ivshmem: the guest maps the shared-memory BAR of our ivshmem
# server (host writes go into the server's BAR memfd), and doorbells rung
# through the management socket arrive as MSI-X interrupts, counted by the
# tier's guest module vdev_ivshmem_irq.ko.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
vt_init ivshmem
vt_image || exit 1
vt_server ivshmem "$VT_BUILD/bin/vdev-ivshmem" --socket-path=@SOCK@ || exit 1
VT_MAIN=ivshmem
vt_qemu 1 "vdev.test=ivshmem vdev.dev=0000:00:05.0" \
    -device "$(vt_vfio_user ivshmem 5)"
vt_serve
vt_verdict $?
