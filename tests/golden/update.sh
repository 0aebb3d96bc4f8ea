#!/usr/bin/env bash
# Regenerates the golden expectations from the current vdevc:
#   tests/golden/*.vdev, tests/golden/lang/*.vdev -> .c and .h beside them
#   tests/golden/*.vdev -> also .md (--emit=doc), .guest.h (--emit=guest-h)
#   tests/golden/errors/*.vdev -> .err beside them, where one exists
# Review the diff before committing it.
set -euo pipefail
VDEVC=${1:-build/bin/vdevc}
cd "$(dirname "$0")/../.."
n=0
for f in tests/golden/*.vdev tests/golden/lang/*.vdev; do
    "$VDEVC" -o "${f%.vdev}.c" --header="${f%.vdev}.h" "$f"
    n=$((n + 1))
done
for f in tests/golden/*.vdev; do
    "$VDEVC" --emit=doc -o "${f%.vdev}.md" "$f"
    "$VDEVC" --emit=guest-h -o "${f%.vdev}.guest.h" "$f"
done
for f in tests/golden/errors/*.vdev; do
    err=${f%.vdev}.err
    [ -f "$err" ] || continue
    if "$VDEVC" --emit=json -o - "$f" > /dev/null 2> "$err"; then
        echo "$f: compiled, but it is an error case" >&2
        exit 1
    fi
    n=$((n + 1))
done
echo "golden: $n expectations regenerated"
