#!/usr/bin/env bash
# QEMU tier, edu: one guest program runs the same checks against QEMU's own
# edu (the reference, slot 4) and our edu server (slot 5) and compares every
# value. Twice: with guest RAM in a shared memfd (the server maps it) and
# without (DMA goes through DMA_READ/DMA_WRITE messages). Differences the
# language cannot express yet are listed, with their count, in
# edu-known.txt.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
VT_KNOWN=$VT_ROOT/tests/qemu/edu-known.txt
# 64 KiB of guest RAM below QEMU edu's 28-bit DMA mask, kept from Linux.
DMA=0x8000000
APPEND="vdev.test=edu vdev.ref=0000:00:04.0 vdev.dev=0000:00:05.0"
APPEND+=" vdev.dma=$DMA memmap=64K\$$DMA"

run() { # NAME MEMFD SERVER-ARGS...
    local name=$1 memfd=$2
    shift 2
    vt_init "$name"
    vt_image || return 1
    vt_server edu "$VT_BUILD/bin/vdev-edu" --socket-path=@SOCK@ "$@" ||
        return 1
    VT_MAIN=edu
    vt_qemu "$memfd" "$APPEND" -device edu,addr=4 \
        -device "$(vt_vfio_user edu 5)"
    vt_serve
    vt_verdict $?
}

rc=0
(run edu-memfd 1) || rc=1
# No --dma-layout: the server finds QEMU 10.1/10.2's DMA_READ/WRITE
# layout out by itself (runtime/KERNEL.md, X1).
(run edu-dma-messages 0) || rc=1
exit $rc
