#!/usr/bin/env bash
# `make fmt`: vdevc fmt over the given .vdev files, keeping dsl/README.md's
# examples verbatim copies of tests/golden/lang/*.vdev (the golden tests
# check they are). Run `make golden-update` after it: line numbers moved.
#   scripts/fmt-vdev.sh VDEVC FILE...
set -euo pipefail
VDEVC=$1
shift
cd "$(dirname "$0")/.."
readme=dsl/README.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each ```vdev block of the README, and the lang file it quotes.
awk -v dir="$tmp" '
    /^```vdev$/ { n++; f = dir "/block" n; inblk = 1; printf "" > f; next }
    /^```/ && inblk { inblk = 0; close(f); next }
    inblk { print > f }
' "$readme"
: > "$tmp/map"
for b in "$tmp"/block*; do
    [ -e "$b" ] || continue
    for l in tests/golden/lang/*.vdev; do
        if cmp -s "$b" "$l"; then
            echo "$(basename "$b") $l" >> "$tmp/map"
            break
        fi
    done
done

"$VDEVC" fmt "$@"

# The same blocks again, from the files as they are now.
awk -v map="$tmp/map" '
    BEGIN { while ((getline line < map) > 0) {
                split(line, kv, " "); src[kv[1]] = kv[2] } }
    /^```vdev$/ {
        n++; print; inblk = 1; skip = ("block" n) in src
        if (skip) {
            while ((getline l < src["block" n]) > 0) print l
            close(src["block" n])
        }
        next
    }
    /^```/ && inblk { inblk = 0; print; next }
    inblk && skip { next }
    { print }
' "$readme" > "$tmp/readme"
cmp -s "$tmp/readme" "$readme" || cp "$tmp/readme" "$readme"
