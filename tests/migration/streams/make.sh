#!/usr/bin/env bash
# Makes the committed migration streams: BIN_DIR's model servers (a build of
# an earlier revision: bin/vdev-edu, bin/vdev-gpio-pci-idio-16, bin/vdevctl)
# are driven into a non-reset state, saved to NAME.stream, and every named
# value is recorded in NAME.values (name=0x...). test_mig_streams.c loads
# each stream into the current build and expects the same values: streams
# of earlier builds must keep loading.
#   tests/migration/streams/make.sh BIN_DIR
set -euo pipefail
bin=${1:?usage: make.sh BIN_DIR}
out=$(cd "$(dirname "$0")" && pwd)
V=$bin/vdevctl
dir=$(mktemp -d /tmp/vdev-streams-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

start() {
    "$bin/vdev-$1" --socket-path="$dir/$1.sock" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do [ -S "$dir/$1.sock" ] && return; sleep 0.05; done
    echo "make.sh: vdev-$1 did not start" >&2
    exit 1
}

finish() {
    local s=$dir/$1.sock
    "$V" "$s" save "$out/$1.stream" >/dev/null
    "$V" "$s.mgmt" list | cut -d: -f1 | while read -r name; do
        "$V" "$s.mgmt" get "$name"
    done > "$out/$1.values"
    kill "$pid"
    wait "$pid" || true
    pid=
}

start edu
S=$dir/edu.sock
"$V" "$S" write bar0 0x04 4 0x11223344 >/dev/null   # liveness
"$V" "$S" write bar0 0x20 4 0x80 >/dev/null         # status.irq_fact
"$V" "$S" write bar0 0x08 4 5 >/dev/null            # fact: 5! and irq 0x1
"$V" "$S" write bar0 0x60 4 0x40 >/dev/null         # irq_raise
"$V" "$S" write bar0 0x80 8 0x1000 >/dev/null       # dma_src
"$V" "$S" write bar0 0x88 8 0x40010 >/dev/null      # dma_dst
"$V" "$S" write bar0 0x90 8 0x20 >/dev/null         # dma_count
finish edu

start gpio-pci-idio-16
S=$dir/gpio-pci-idio-16.sock
"$V" "$S" write bar2 0 1 0xa5 >/dev/null            # out0_7
"$V" "$S" write bar2 4 1 0x3c >/dev/null            # out8_15
"$V" "$S" read bar2 2 1 >/dev/null                  # irq_ctl: enable
"$V" "$S.mgmt" set state.inputs 0x1234 >/dev/null   # inputs change: irq
finish gpio-pci-idio-16
echo "streams: edu, gpio-pci-idio-16 saved in $out"
