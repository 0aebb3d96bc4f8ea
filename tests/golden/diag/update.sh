#!/usr/bin/env bash
# Regenerates tests/golden/diag/NAME.expect: the exit status and stderr of
# vdevc on NAME.vdev with the options its first line gives ("// vdevc:
# ARGS"; leading NAME=value words go to the environment, NO_COLOR is
# otherwise unset). tests/test_diag.c runs the same.
set -euo pipefail
VDEVC=${1:-build/bin/vdevc}
cd "$(dirname "$0")/../../.."
n=0
for f in tests/golden/diag/*.vdev; do
    envs=() opts=()
    for w in $(sed -n '1s|^// vdevc:||p' "$f"); do
        if [[ ${#opts[@]} -eq 0 && $w =~ ^[A-Z_]+= ]]; then
            envs+=("$w")
        else
            opts+=("$w")
        fi
    done
    rc=0
    err=$(env -u NO_COLOR "${envs[@]}" "$VDEVC" "${opts[@]}" "$f" 2>&1 \
          >/dev/null) || rc=$?
    printf 'exit %d\n-- stderr\n%s\n' "$rc" "$err" > "${f%.vdev}.expect"
    n=$((n + 1))
done
echo "diag: $n expectations regenerated"
