#!/usr/bin/env bash
# Regenerates the migration test expectations from the current vdevc:
#   tests/migration/NAME-vN.vdev -> .c and .h beside them (servers of each revision)
#   tests/migration/check/NAME.old.vdev + NAME.new.vdev -> NAME.expect: the exit
#     status, stdout and stderr of `vdevc --check-migration OLD NEW`
# Review the diff before committing it.
set -euo pipefail
VDEVC=${1:-build/bin/vdevc}
cd "$(dirname "$0")/../.."
n=0
for f in tests/migration/*-v*.vdev; do
    "$VDEVC" -o "${f%.vdev}.c" --header="${f%.vdev}.h" "$f"
    n=$((n + 1))
done
for old in tests/migration/check/*.old.vdev; do
    [ -e "$old" ] || continue
    new=${old%.old.vdev}.new.vdev
    exp=${old%.old.vdev}.expect
    rc=0
    "$VDEVC" --check-migration "$old" "$new" > "$exp.out" 2> "$exp.err" || rc=$?
    { echo "exit $rc"; echo "-- stdout"; cat "$exp.out";
      echo "-- stderr"; cat "$exp.err"; } > "$exp"
    rm -f "$exp.out" "$exp.err"
    n=$((n + 1))
done
echo "mig: $n expectations regenerated"
