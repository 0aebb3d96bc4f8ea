#!/usr/bin/env bash
# Line coverage of the server's handlers and loop (runtime/server/) and of
# the layers under them, over fuzz_server's corpus: the committed seeds,
# the working corpus of past runs ($FUZZ_BUILD/corpus/server) and the
# regression inputs, replayed by a clang coverage build of the harness.
# Per file, then per function of the loop (only its dispatch half runs for
# a memory connection: accept, epoll and the run loop are sockets').
# Then migration/ and device/ again with fuzz_migstream's corpus added
# (MIG_BINARY): the loader's parser is that harness's target.
#   fuzz/coverage.sh COV_BINARY [MIG_BINARY]
set -euo pipefail
bin=${1:?coverage binary}
mig=${2:-}
out=$(dirname "$(dirname "$bin")")
prof=$out/profiles
rm -rf "$prof" && mkdir -p "$prof"
corpora="fuzz/corpus/server tests/fuzz-regressions/server"
# COV_CORPUS: more folders (a long run's corpus kept elsewhere).
for d in "${FUZZ_BUILD:-build-fuzz}/corpus/server" ${COV_CORPUS:-}; do
    if [ -d "$d" ]; then corpora="$corpora $d"; fi
done
# shellcheck disable=SC2086 # the folders
n=$(find $corpora -type f | wc -l)
echo "coverage: $n inputs from $corpora" >&2
find $corpora -type f -print0 |
    LLVM_PROFILE_FILE="$prof/%p.profraw" REPLAY_QUIET=1 \
        xargs -0 -n 500 "$bin" 2>/dev/null
llvm-profdata merge -sparse "$prof"/*.profraw -o "$out/server.profdata"
files=$(ls runtime/server/proto_*.c runtime/server/loop.c \
    runtime/server/conn.c runtime/server/s2c.c runtime/server/memconn.c \
    runtime/device/*.c runtime/migration/*.c)
# shellcheck disable=SC2086 # the files
llvm-cov report "$bin" -instr-profile="$out/server.profdata" $files |
    sed "s|$PWD/||"
llvm-cov report "$bin" -instr-profile="$out/server.profdata" \
    -show-functions runtime/server/loop.c |
    awk '
    /^Name/ { print "loop.c, the dispatch half:"; print; next }
    {
        name = $1; sub(/^loop\.c:/, "", name)
        if (name ~ /^(check_and_call|finish_slow|dispatch|rx_process|serve_input|serve_output|tx_blocked|tx_finish|drop_client|vdev_conn_serve)$/) {
            print; lines += $5; miss += $6
        }
    }
    END { printf "dispatch half: %d lines, %d missed, %.2f%%\n", lines, miss, 100 * (lines - miss) / lines }'
[ -n "$mig" ] || exit 0
mcorp=fuzz/corpus/migstream
if [ -d "${FUZZ_BUILD:-build-fuzz}/corpus/migstream" ]; then
    mcorp="$mcorp ${FUZZ_BUILD:-build-fuzz}/corpus/migstream"
fi
# shellcheck disable=SC2086 # the folders
echo "with fuzz_migstream's $(find $mcorp -type f | wc -l) streams too:"
# shellcheck disable=SC2086 # the folders
find $mcorp -type f -print0 |
    LLVM_PROFILE_FILE="$prof/mig-%p.profraw" REPLAY_QUIET=1 \
        xargs -0 -n 500 "$mig" 2>/dev/null
llvm-profdata merge -sparse "$prof"/*.profraw -o "$out/all.profdata"
# shellcheck disable=SC2086 # the files
llvm-cov report "$bin" -object "$mig" -instr-profile="$out/all.profdata" \
    $(ls runtime/device/*.c runtime/migration/*.c) | sed "s|$PWD/||"
