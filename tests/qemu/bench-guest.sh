#!/usr/bin/env bash
# Guest-visible latency of one BAR register, ours against libvfio-user's:
# one QEMU (TCG) guest with three servers attached, no driver bound: our
# PCI-IDIO-16 server as shipped (slot 5), the same binary with probing
# off (--poll-us=0, slot 6: the wake-up part of the breakdown), and
# libvfio-user's gpio sample (slot 7). The guest times N reads and N
# writes of BAR2 offset 0 (1 byte, an I/O BAR in all three) in rounds that
# alternate between them, and the median round of each is reported, with
# the ratios to theirs. Measures only; judges nothing.
#   tests/qemu/bench-guest.sh [N [ROUNDS]]     (default 4000 15)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
N=${1:-4000}
ROUNDS=${2:-15}
PEER=${VDEV_PEER_GPIO:-$VT_ROOT/../shared/peers/libvfio-user/samples/gpio-pci-idio-16}

if ! vt_qemu_ok; then
    echo "bench-guest: skipped: no QEMU with vfio-user-pci at $QEMU"
    exit 0
fi
if [[ ! -x $PEER ]]; then
    echo "bench-guest: skipped: no libvfio-user gpio sample at $PEER"
    exit 0
fi
vt_init bench
vt_image || exit 1
OURS=$VT_BUILD/bin/vdev-gpio-pci-idio-16
vt_server ours "$OURS" --socket-path=@SOCK@ || exit 1
vt_server nopoll "$OURS" --poll-us=0 --socket-path=@SOCK@ || exit 1
vt_server theirs "$PEER" @SOCK@ || exit 1
VT_MAIN=ours
vt_qemu 1 "vdev.test=bench vdev.targets=ours=0000:00:05.0,nopoll=0000:00:06.0,theirs=0000:00:07.0 vdev.n=$N vdev.rounds=$ROUNDS" \
    -device "$(vt_vfio_user ours 5)" -device "$(vt_vfio_user nopoll 6)" \
    -device "$(vt_vfio_user theirs 7)"
vt_serve
rc=$?
declare -A rd wr
while read -r _ label r w _; do
    rd[$label]=${r#read_ns=}
    wr[$label]=${w#write_ns=}
done < <(tr -d '\r' <"$VT_TMP/console.log" | grep -a '^VDEV-BENCH ')
if ((rc != 0)) || [[ -z ${rd[ours]:-} || -z ${rd[nopoll]:-} || -z ${rd[theirs]:-} ]]; then
    echo "bench-guest: FAIL: no measurement (QEMU status $rc)"
    vt_logs
    exit 1
fi
echo "guest-visible latency of BAR2+0 (1-byte I/O), QEMU TCG, $N accesses x $ROUNDS rounds, median round:"
printf '  %-46s read %7s ns   write %7s ns\n' \
    "ours (vdev-gpio-pci-idio-16, as shipped)" "${rd[ours]}" "${wr[ours]}" \
    "ours with --poll-us=0 (sleeps for each request)" "${rd[nopoll]}" "${wr[nopoll]}" \
    "theirs (libvfio-user samples/gpio-pci-idio-16)" "${rd[theirs]}" "${wr[theirs]}"
# The ratios are the median of each round's ratio: a round measures the
# three servers back to back, so the host's drift between rounds cancels.
tr -d '\r' <"$VT_TMP/console.log" | grep -a '^VDEV-BENCH-ROUND ' | awk '
    function med(a, n,    i, j, t) {
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
                t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
            }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { split($4, r, "="); split($5, w, "="); R[$2, $3] = r[2]; W[$2, $3] = w[2]
      if ($3 + 1 > n) n = $3 + 1 }
    END {
        for (i = 0; i < n; i++) {
            r1[i + 1] = R["ours", i] / R["theirs", i]
            w1[i + 1] = W["ours", i] / W["theirs", i]
            r0[i + 1] = R["nopoll", i] / R["theirs", i]
            w0[i + 1] = W["nopoll", i] / W["theirs", i]
        }
        printf "  %-46s read %7.2f      write %7.2f\n",
            "ratio ours/theirs (median round)", med(r1, n), med(w1, n)
        printf "  %-46s read %7.2f      write %7.2f\n",
            "ratio ours --poll-us=0/theirs", med(r0, n), med(w0, n) }'
