#!/usr/bin/env bash
# `make bench` driver: runs every benchmark program built under
# $VDEV_BUILD/bench/ (bench_*) and every other bench/*.sh script, each
# printing its own lines. Runs them all; exits 1 if any failed.
set -uo pipefail

export VDEV_BUILD=${VDEV_BUILD:-build}
build=$VDEV_BUILD
here=$(cd "$(dirname "$0")" && pwd)
failed=()
ran=0

# run_one LABEL COMMAND...
run_one() {
    local label=$1
    shift
    echo "== $label"
    "$@"
    local rc=$?
    ran=$((ran + 1))
    if [ "$rc" -ne 0 ]; then
        echo "!! $label failed (exit $rc)"
        failed+=("$label")
    fi
}

shopt -s nullglob
for prog in "$build"/bench/bench_*; do
    case $prog in *.o | *.d) continue ;; esac
    [ -f "$prog" ] && [ -x "$prog" ] || continue
    run_one "$(basename "$prog")" "$prog"
done
for script in "$here"/*.sh; do
    [ "$(basename "$script")" = run.sh ] && continue
    run_one "bench/$(basename "$script")" bash "$script"
done

if [ "$ran" -eq 0 ]; then
    echo "bench: nothing to run (no $build/bench/bench_* and no bench/*.sh)"
    exit 0
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "bench: ${#failed[@]} of $ran failed: ${failed[*]}"
    exit 1
fi
echo "bench: $ran benchmark(s) done"
