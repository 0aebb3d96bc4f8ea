#!/usr/bin/env bash
# Runs each libFuzzer harness for SECONDS (one job each, in turn) from its
# committed seeds plus a working corpus in $FUZZ_BUILD/corpus, and prints
# "fuzz NAME: execs=N crashes=M". Exits non-zero if any harness crashed,
# leaked or hung (the input is kept in $FUZZ_BUILD/artifacts).
#   fuzz/run.sh SECONDS NAME...
set -uo pipefail
secs=${1:?seconds}
shift
fb=${FUZZ_BUILD:-build-fuzz}
status=0
for name in "$@"; do
    work=$fb/corpus/$name
    art=$fb/artifacts/$name
    log=$fb/logs/$name.log
    mkdir -p "$work" "$art" "$(dirname "$log")"
    seeds=fuzz/corpus/$name
    [ -d "$seeds" ] || seeds=
    before=$(ls "$art" | wc -l)
    "$fb/bin/fuzz_$name" -max_total_time="$secs" -timeout=20 \
        -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
        -artifact_prefix="$art/" "$work" $seeds >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ -z "$execs" ]; then
        # A crash ends the run before the final stats: take the last status.
        execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    fi
    crashes=$(( $(ls "$art" | wc -l) - before ))
    [ $rc -ne 0 ] && [ $crashes -eq 0 ] && crashes=1
    echo "fuzz $name: execs=${execs:-0} crashes=$crashes time=${secs}s"
    if [ $rc -ne 0 ]; then
        status=1
        echo "fuzz $name: failed (exit $rc); log $log, inputs in $art:" >&2
        grep -m5 -E 'ERROR|SUMMARY|fuzz_' "$log" >&2
    fi
done
exit $status
