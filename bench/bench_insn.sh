#!/usr/bin/env bash
# Server user-space instructions per 4-byte REGION_READ: the benchmark
# server under callgrind for N and for 2N reads (one at a time); the
# difference of the totals, over N, cancels startup and negotiation.
set -euo pipefail
. "$(dirname "$0")/callgrind_cost.sh"

build=${VDEV_BUILD:-build}
bin=$build/bench/bench_rtt
n=${VDEV_BENCH_INSN_N:-20000}
target=500

# Figures come from the normal -O2 build; ASan does not run under valgrind.
if [ "$(basename "$build")" = build-san ]; then
    echo "insn_per_region_read: skipped for the sanitizer build (use make bench)"
    exit 0
fi
if ! command -v valgrind >/dev/null; then
    # Installed like the build's own dependencies (apt, only when missing).
    VDEV_EXTRA_PKGS=valgrind "$(dirname "$0")/../scripts/install-deps.sh" --install ||
        true
fi
if ! command -v valgrind >/dev/null; then
    echo "insn_per_region_read: valgrind not installed" >&2
    exit 1
fi
[ -x "$bin" ] || { echo "insn_per_region_read: no $bin" >&2; exit 1; }

dir=$(mktemp -d /tmp/vdev-insn-XXXXXX)
vg_pid=
cleanup() {
    [ -n "$vg_pid" ] && kill "$vg_pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

# One server run serving $1 reads: its total instructions and the probe
# loop's (callgrind_cost).
server_insn() {
    local count=$1 sock=$dir/s$1 out=$dir/cg.$1 rc=0
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        --log-file="$dir/vg.$count.log" \
        "$bin" --serve "$sock" --count "$count" &
    vg_pid=$!
    if ! timeout 120 "$bin" --client "$sock" --count "$count"; then
        echo "insn_per_region_read: client failed ($count reads)" >&2
        return 1
    fi
    wait "$vg_pid" || rc=$?
    vg_pid=
    if [ "$rc" -ne 0 ]; then
        echo "insn_per_region_read: server exited $rc" >&2
        cat "$dir/vg.$count.log" >&2
        return 1
    fi
    callgrind_cost "$out"
}

read -r a pa <<<"$(server_insn "$n")"
read -r b pb <<<"$(server_insn $((2 * n)))"
if [ -z "$a" ] || [ -z "$b" ] || [ -z "$pa" ] || [ -z "$pb" ]; then
    echo "insn_per_region_read: no callgrind totals" >&2
    exit 1
fi
per=$(( (b - pb - a + pa + n / 2) / n ))
verdict=ok
[ "$per" -le "$target" ] || verdict=MISSED
echo "insn_per_region_read=$per (callgrind, server, serving: ($b - $pb - $a + $pa) / $n;" \
    "target <= $target) $verdict"
echo "insn_per_region_read_probing=$(( (pb - pa + n / 2) / n )) (the probe" \
    "loop's turns while the next read was on its way; not judged)"
