#!/usr/bin/env bash
# QEMU tier, GPIO: Linux's gpio-pci-idio-16 binds to our PCI-IDIO-16 server;
# outputs, inputs and the input-change interrupt are checked from the guest
# against the server's registers (management socket).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
vt_init gpio
vt_image || exit 1
vt_server gpio "$VT_BUILD/bin/vdev-gpio-pci-idio-16" --socket-path=@SOCK@ ||
    exit 1
VT_MAIN=gpio
vt_qemu 1 "vdev.test=gpio vdev.dev=0000:00:05.0" \
    -device "$(vt_vfio_user gpio 5)"
vt_serve
vt_verdict $?
