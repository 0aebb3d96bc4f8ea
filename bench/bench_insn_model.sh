#!/usr/bin/env bash
# Server user-space instructions per 4-byte BAR read on a model server as
# shipped (build/bin/vdev-NAME: statically linked, management socket open),
# under callgrind, driven by bench_rtt's client one request at a time: the
# totals for N and 2N reads, differenced, over N (startup cancels out).
#   bench/bench_insn_model.sh [MODEL REGION OFFSET]...
set -euo pipefail

build=${VDEV_BUILD:-build}
n=${VDEV_BENCH_INSN_N:-20000}
target=500
client=$build/bench/bench_rtt

if [ "$(basename "$build")" = build-san ]; then
    echo "insn_per_bar_read: skipped for the sanitizer build (use make bench)"
    exit 0
fi
command -v valgrind >/dev/null || {
    echo "insn_per_bar_read: valgrind not installed" >&2
    exit 1
}
[ $# -gt 0 ] || set -- gpio-pci-idio-16 2 4 edu 0 4 ivshmem 0 0

dir=$(mktemp -d /tmp/vdev-insn-model-XXXXXX)
vg_pid=
cleanup() {
    [ -n "$vg_pid" ] && kill "$vg_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

# server_insn MODEL REGION OFFSET COUNT: the server's callgrind total.
server_insn() {
    local model=$1 region=$2 off=$3 count=$4
    local sock=$dir/$model.$count.sock out=$dir/cg.$model.$count
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        --log-file="$dir/vg.$model.$count.log" \
        "$build/bin/vdev-$model" --socket-path="$sock" >/dev/null 2>&1 &
    vg_pid=$!
    for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
    if ! timeout 300 "$client" --client "$sock" --count "$count" \
        --region "$region" --offset "$off"; then
        echo "insn_per_bar_read: client failed ($model, $count reads)" >&2
        return 1
    fi
    kill -TERM "$vg_pid"
    wait "$vg_pid" || true
    vg_pid=
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

rc=0
while [ $# -ge 3 ]; do
    model=$1 region=$2 off=$3
    shift 3
    a=$(server_insn "$model" "$region" "$off" "$n") || { rc=1; continue; }
    b=$(server_insn "$model" "$region" "$off" $((2 * n))) || { rc=1; continue; }
    per=$(( (b - a + n / 2) / n ))
    verdict=ok
    [ "$per" -le "$target" ] || verdict=MISSED
    echo "insn_per_bar_read[$model]=$per (callgrind, build/bin/vdev-$model" \
        "as shipped, region $region offset $off, 4 bytes; target <= $target) $verdict"
done
exit $rc
