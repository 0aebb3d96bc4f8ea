#!/usr/bin/env bash
# Regenerates the migration test expectations from the current vdevc:
#   tests/mig/NAME-vN.vdev -> .c and .h beside them (servers of each revision)
#   tests/mig/check/NAME.old.vdev + NAME.new.vdev -> NAME.expect: the exit
#     status and output of `vdevc --check-migration OLD NEW`
# Review the diff before committing it.
set -euo pipefail
VDEVC=${1:-build/bin/vdevc}
cd "$(dirname "$0")/../.."
n=0
for f in tests/mig/*-v*.vdev; do
    "$VDEVC" -o "${f%.vdev}.c" --header="${f%.vdev}.h" "$f"
    n=$((n + 1))
done
for old in tests/mig/check/*.old.vdev; do
    [ -e "$old" ] || continue
    new=${old%.old.vdev}.new.vdev
    out=${old%.old.vdev}.expect
    rc=0
    "$VDEVC" --check-migration "$old" "$new" > "$out.tmp" 2>&1 || rc=$?
    { echo "exit $rc"; cat "$out.tmp"; } > "$out"
    rm -f "$out.tmp"
    n=$((n + 1))
done
echo "mig: $n expectations regenerated"
