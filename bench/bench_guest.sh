#!/usr/bin/env bash
# Guest-visible register latency under QEMU, ours (as shipped, and with
# probing off) against libvfio-user's gpio sample in the same guest and
# the same run (tests/qemu/bench-guest.sh); skipped without the shared
# QEMU or the peer. VDEV_BENCH_GUEST_N / _ROUNDS size it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../tests/qemu/bench-guest.sh" "${VDEV_BENCH_GUEST_N:-4000}" \
    "${VDEV_BENCH_GUEST_ROUNDS:-15}"
