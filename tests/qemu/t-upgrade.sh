#!/usr/bin/env bash
# QEMU tier, seamless upgrade under a live guest: while the guest hammers
# our edu's registers, the host replaces the server twice (vdevctl MGMT
# upgrade, asked for by the guest on its control port); no access may go
# wrong, QEMU must print nothing and keep running to the guest's power-off.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
vt_init upgrade
vt_image || exit 1
vt_server edu "$VT_BUILD/bin/vdev-edu" --socket-path=@SOCK@ || exit 1
VT_MAIN=edu
VT_UPGRADE_BIN=$VT_BUILD/bin/vdev-edu
first=${VT_PID[edu]}
vt_qemu 1 "vdev.test=upgrade vdev.dev=0000:00:05.0 vdev.upgrades=2" \
    -device "$(vt_vfio_user edu 5)"
vt_serve
rc=$?
last=${VT_PID[edu]}
n=$(grep -c '^upgrade -> ok' "$VT_TMP/requests.log" 2>/dev/null)
ok=0
[[ $last != "$first" && $n == 2 ]] && kill -0 "$last" 2>/dev/null && ok=1
vt_host_result upgrade.servers $ok \
    "server pid $first, after $n upgrades $last ($( ((ok)) && echo running || echo 'not running'))"
vt_verdict $rc
