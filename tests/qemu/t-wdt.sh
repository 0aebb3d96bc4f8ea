#!/usr/bin/env bash
# QEMU tier, watchdog: our Intel 6300ESB (models/i6300esb.vdev) checked by
# hand, then driven by Linux's i6300esb through /dev/watchdog0: enabled,
# pinged, left to expire. Each expiry reaches the host as management
# events ("expired", "reset_requested"), which the guest counts through
# its control port (tests/qemu/guest/vg_wdt.c); the host then checks the
# event stream as a whole.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
vt_init wdt
vt_image || exit 1
vt_server wdt "$VT_BUILD/bin/vdev-i6300esb" --socket-path=@SOCK@ || exit 1
VT_MAIN=wdt
vt_events wdt
vt_qemu 1 "vdev.test=wdt vdev.dev=0000:00:05.0" \
    -device "$(vt_vfio_user wdt 5)"
vt_serve
rc=$?
# Two expiries (by hand, then under the driver), each asking for a reset,
# in device time order.
seq=$(awk '$1 == "event" { printf "%s ", $2 }' "$VT_TMP/events.log")
ordered=$(awk '$1 == "event" { if ($3 < last) bad = 1; last = $3 } END { print !bad }' \
    "$VT_TMP/events.log")
want="expired reset_requested expired reset_requested "
ok=0
[[ $seq == "$want" && $ordered == 1 ]] && ok=1
vt_host_result wdt.events $ok "management events: ${seq:-none}(want: $want)"
vt_verdict $rc
