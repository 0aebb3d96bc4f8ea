#!/usr/bin/env bash
# Server user-space instructions per BAR read of a plain register on each
# model server as shipped (build/bin/vdev-NAME: statically linked,
# management socket open), under callgrind, driven by bench_rtt's client
# one request at a time: the totals for N and 2N reads, differenced, over N
# (startup cancels out). The probe loop's instructions (the server waiting
# for the client's next read, as long as the client takes) are reported
# apart from those of serving, which the target is for. Default: every shipped model, a 4-byte read
# (pci-serial: its scratch register, one byte, as a UART is read).
#   bench/bench_insn_model.sh [MODEL REGION OFFSET SIZE]...
set -euo pipefail
. "$(dirname "$0")/callgrind_cost.sh"

build=${VDEV_BUILD:-build}
n=${VDEV_BENCH_INSN_N:-20000}
target=500
client=$build/bench/bench_rtt

if [ "$(basename "$build")" = build-san ]; then
    echo "insn_per_bar_read: skipped for the sanitizer build (use make bench)"
    exit 0
fi
if ! command -v valgrind >/dev/null; then
    # Installed like the build's own dependencies (apt, only when missing).
    VDEV_EXTRA_PKGS=valgrind "$(dirname "$0")/../scripts/install-deps.sh" --install ||
        true
fi
command -v valgrind >/dev/null || {
    echo "insn_per_bar_read: valgrind not installed" >&2
    exit 1
}
[ -x "$client" ] || { echo "insn_per_bar_read: no $client" >&2; exit 1; }
[ $# -gt 0 ] || set -- gpio-pci-idio-16 2 4 4 edu 0 4 4 ivshmem 0 0 4 \
    pci-serial 0 7 1 i6300esb 0 8 4

dir=$(mktemp -d /tmp/vdev-insn-model-XXXXXX)
vg_pid=
cleanup() {
    [ -n "$vg_pid" ] && kill "$vg_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

# server_insn MODEL REGION OFFSET SIZE COUNT: the server's total
# instructions and the probe loop's (callgrind_cost).
server_insn() {
    local model=$1 region=$2 off=$3 size=$4 count=$5
    local sock=$dir/$model.$count.sock out=$dir/cg.$model.$count
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        --log-file="$dir/vg.$model.$count.log" \
        "$build/bin/vdev-$model" --socket-path="$sock" >/dev/null 2>&1 &
    vg_pid=$!
    for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
    if ! timeout 300 "$client" --client "$sock" --count "$count" \
        --region "$region" --offset "$off" --size "$size"; then
        echo "insn_per_bar_read: client failed ($model, $count reads)" >&2
        return 1
    fi
    kill -TERM "$vg_pid"
    wait "$vg_pid" || true
    vg_pid=
    callgrind_cost "$out"
}

rc=0
while [ $# -ge 4 ]; do
    model=$1 region=$2 off=$3 size=$4
    shift 4
    r=$(server_insn "$model" "$region" "$off" "$size" "$n") || {
        rc=1
        continue
    }
    read -r a pa <<<"$r"
    r=$(server_insn "$model" "$region" "$off" "$size" $((2 * n))) || {
        rc=1
        continue
    }
    read -r b pb <<<"$r"
    per=$(( (b - pb - a + pa + n / 2) / n ))
    probe=$(( (pb - pa + n / 2) / n ))
    verdict=ok
    [ "$per" -le "$target" ] || verdict=MISSED
    echo "insn_per_bar_read[$model]=$per (callgrind, build/bin/vdev-$model" \
        "as shipped, region $region offset $off, $size bytes, serving;" \
        "target <= $target) $verdict"
    echo "insn_per_bar_read_probing[$model]=$probe (the probe loop's turns" \
        "while the client's next read was on its way; not judged)"
done
exit $rc
