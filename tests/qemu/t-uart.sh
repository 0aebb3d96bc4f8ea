#!/usr/bin/env bash
# QEMU tier, UART: our 16550A (models/pci-serial.vdev, QEMU's pci-serial
# identity) with its byte stream on a unix socket whose other end is the
# host's stream agent. Linux's built-in 8250_pci drives it: data both ways
# through the tty, a shell on it typed into from the host; then the guest
# checks the registers, interrupts, trigger levels and character timeout
# by hand (tests/qemu/guest/vg_uart.c).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
vt_init uart
vt_image || exit 1
vt_server uart "$VT_BUILD/bin/vdev-pci-serial" --socket-path=@SOCK@ \
    --stream "console=unix:$VT_TMP/console.sock" || exit 1
VT_MAIN=uart
vt_stream_agent "$VT_TMP/console.sock" || exit 1
vt_qemu 1 "vdev.test=uart vdev.dev=0000:00:05.0" \
    -device "$(vt_vfio_user uart 5)"
vt_serve
vt_verdict $?
