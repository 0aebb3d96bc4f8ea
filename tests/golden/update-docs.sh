#!/usr/bin/env bash
# Regenerates the guest-facing golden outputs from the current vdevc:
#   models/NAME.vdev -> tests/golden/doc/NAME.md (--emit=doc)
#                       tests/golden/guest-h/NAME.h (--emit=guest-h)
# Review the diff before committing it.
set -euo pipefail
VDEVC=${1:-build/bin/vdevc}
cd "$(dirname "$0")/../.."
n=0
for f in models/*.vdev; do
    name=$(basename "$f" .vdev)
    "$VDEVC" --emit=doc -o "tests/golden/doc/$name.md" "$f"
    "$VDEVC" --emit=guest-h -o "tests/golden/guest-h/$name.h" "$f"
    n=$((n + 2))
done
echo "golden docs: $n expectations regenerated"
