#!/usr/bin/env bash
# Runs each libFuzzer harness (one job each, in turn, niced) from its
# committed seeds plus a working corpus in $FUZZ_BUILD/corpus, for SECONDS
# each, or for FUZZ_RUNS inputs each when that is set (make fuzz-long), and
# prints "fuzz NAME: execs=N crashes=M time=Ts execs/s=R cpu=Cs". Exits
# non-zero if any harness crashed, leaked or hung (the input is kept in
# $FUZZ_BUILD/artifacts).
#   fuzz/run.sh SECONDS NAME...
#   FUZZ_RUNS=10000000 fuzz/run.sh 0 NAME...
set -uo pipefail
secs=${1:?seconds}
shift
fb=${FUZZ_BUILD:-build-fuzz}
status=0

# Longest input per harness: a session of records (fuzz/msgseq.h; a BIG
# record makes a large message from a short input), a .vdev file (the
# models are under 3 KiB), a migration stream (edu's is about 8 KiB).
# (The server's corpus cut to 1 KiB sessions keeps 99.3 % of its edges,
# to 512 bytes 97.4 %: 2 KiB leaves room for long ones at ~30 % of the
# speed a 1 KiB limit would give.)
# -entropic_scale_per_exec_time: a seed's energy scaled down by its run
# time, so that the few inputs that take milliseconds (a 1 MiB region
# read, a burst of big messages) are mutated less often than the many
# that take tens of microseconds; they stay in the corpus.
# -reload=0: one fuzzer per corpus here; rereading the folder (a stat of
# each of thousands of files, every second) cost 3 % of the run.
max_len() {
    case $1 in
    server) echo 2048 ;;
    vdevc) echo 4096 ;;
    *) echo 16384 ;;
    esac
}

for name in "$@"; do
    work=$fb/corpus/$name
    art=$fb/artifacts/$name
    log=$fb/logs/$name.log
    mkdir -p "$work" "$art" "$(dirname "$log")"
    seeds=fuzz/corpus/$name
    [ -d "$seeds" ] || seeds=
    if [ -n "${FUZZ_RUNS:-}" ]; then
        limit=-runs=$FUZZ_RUNS
    else
        limit=-max_total_time=$secs
    fi
    before=$(ls "$art" | wc -l)
    start=$(date +%s.%N)
    # shellcheck disable=SC2086 # $seeds: none or one folder
    /usr/bin/time -f "%U %S" -o "$log.cpu" \
        nice -n "${FUZZ_NICE:-10}" "$fb/bin/fuzz_$name" "$limit" -timeout=20 \
        -rss_limit_mb=2048 -max_len="$(max_len "$name")" \
        -entropic_scale_per_exec_time=1 -reload=0 \
        -print_final_stats=1 -artifact_prefix="$art/" "$work" $seeds \
        >"$log" 2>&1
    rc=$?
    wall=$(echo "$start $(date +%s.%N)" | awk '{printf "%.0f", $2 - $1}')
    cpu=$(awk 'END {printf "%.1f", $1 + $2}' "$log.cpu" 2>/dev/null)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        # A crash ends the run before the final stats: take the last status.
        execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    fi
    execs=${execs:-0}
    crashes=$(($(ls "$art" | wc -l) - before))
    [ $rc -ne 0 ] && [ $crashes -eq 0 ] && crashes=1
    rate=$(echo "$execs ${wall:-0}" | awk '{printf "%.0f", $2 ? $1 / $2 : 0}')
    echo "fuzz $name: execs=$execs crashes=$crashes time=${wall}s" \
        "execs/s=$rate cpu=${cpu:-?}s"
    if [ $rc -ne 0 ]; then
        status=1
        echo "fuzz $name: failed (exit $rc); log $log, inputs in $art:" >&2
        grep -m5 -E 'ERROR|SUMMARY|fuzz_' "$log" >&2
    fi
done
exit $status
