#!/usr/bin/env bash
# The first-run demo (`make demo`): builds vdev, starts the ACCES
# PCI-IDIO-16 GPIO server, drives it with vdevctl, saves its state and
# restores it into a second server. Runs without a terminal (CI).
#   VDEV_BUILD=DIR          build directory to use (default: build)
#   VDEV_DEMO_SKIP_BUILD=1  use what is built (the test suite does)
set -euo pipefail

cd "$(dirname "$0")/.."
B=${VDEV_BUILD:-build}
BIN=$PWD/$B/bin
step_no=0
pids=()
tmp=

cleanup() {
    local rc=$?
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    [ -n "$tmp" ] && rm -rf "$tmp"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() {
    step_no=$((step_no + 1))
    printf '\n== Step %d: %s\n' "$step_no" "$*"
}
say() { printf '   %s\n' "$*"; }
run() {
    printf '   $ %s\n' "$*"
    "$@" 2>&1 | sed 's/^/     /'
    return "${PIPESTATUS[0]}"
}
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

if [ -z "${VDEV_DEMO_SKIP_BUILD:-}" ]; then
    step "install the packages vdev needs (only those missing)"
    ./scripts/install-deps.sh --install build
    say "all build dependencies are installed"
    step "build the compiler, the runtime, vdevctl and the device servers"
    log=$(mktemp /tmp/vdev-demo-build.XXXXXX)
    if ! make -j"$(nproc 2>/dev/null || echo 2)" all >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        rm -f "$log"
        die "the build failed (the end of its output is above)"
    fi
    rm -f "$log"
    say "built $BIN/vdevc, $BIN/vdevctl and $(ls "$BIN" | grep -c '^vdev-') device servers"
fi
for f in vdevctl vdev-gpio-pci-idio-16; do
    [ -x "$BIN/$f" ] || die "$BIN/$f is missing: run 'make' first"
done

# Everything happens in a temp dir, removed on exit; short relative names
# keep the commands readable.
tmp=$(mktemp -d /tmp/vdev-demo.XXXXXX)
cd "$tmp"
say "working in $tmp"
A=gpio-a.sock
Bs=gpio-b.sock
vdevctl() { "$BIN/vdevctl" "$@"; }
ctl() { "$BIN/vdevctl" "$@"; }

# Starts a GPIO server on socket $1 and waits until it answers.
start_server() {
    "$BIN/vdev-gpio-pci-idio-16" --socket-path="$1" >"$1.log" 2>&1 </dev/null &
    pids+=($!)
    for _ in $(seq 200); do
        if [ -S "$1.mgmt" ] && ctl "$1.mgmt" stats >/dev/null 2>&1; then
            sed 's/^/     /' "$1.log"
            return 0
        fi
        kill -0 "${pids[-1]}" 2>/dev/null || { cat "$1.log" >&2; die "server exited"; }
        sleep 0.05
    done
    die "server on $1 did not come up"
}

# A register of BAR2 as a number.
rd() { printf '%d' "$(ctl "$1" read bar2 "$2" 1)"; }
hex() { printf '0x%02x' "$1"; }

step "start the GPIO card server (ACCES PCI-IDIO-16) in the background"
say "one UNIX socket for the VMM (vfio-user), one for vdevctl (management)"
start_server "$A"

step "look at the device as a VMM would see it"
run vdevctl "$A" info

step "the guest sets outputs: OUT0-7 = 0xa5 and OUT8-15 = 0x3c"
say "the Linux driver writes BAR2 offsets 0 and 4, then reads them back"
run vdevctl "$A" write bar2 0 1 0xa5
run vdevctl "$A" write bar2 4 1 0x3c
out_lo=$(rd "$A" 0); out_hi=$(rd "$A" 4)
say "read back: OUT0-7 = $(hex "$out_lo"), OUT8-15 = $(hex "$out_hi")"
[ "$out_lo" -eq $((0xa5)) ] && [ "$out_hi" -eq $((0x3c)) ] || die "outputs did not read back"
say "toggle OUT0 off and on again, as gpioset would"
run vdevctl "$A" write bar2 0 1 "$(hex $((out_lo & ~1)))"
say "OUT0-7 = $(hex "$(rd "$A" 0)")"
[ "$(rd "$A" 0)" -eq $((out_lo & ~1)) ] || die "OUT0 did not switch off"
run vdevctl "$A" write bar2 0 1 "$(hex "$out_lo")"
say "OUT0-7 = $(hex "$(rd "$A" 0)")"

step "the outside world drives the inputs through the management socket"
say "the guest enables the card's interrupt: it reads BAR2 offset 2"
ctl "$A" read bar2 2 1 >/dev/null
run vdevctl "$A.mgmt" set state.inputs 0x8001
in_lo=$(rd "$A" 1); in_hi=$(rd "$A" 5); st=$(rd "$A" 6)
say "the guest reads IIN0-7 = $(hex "$in_lo"), IIN8-15 = $(hex "$in_hi")"
say "interrupt status = $(hex "$st"): bit 2 = interrupt, bits 0/1 = which byte changed"
[ "$in_lo" -eq 1 ] && [ "$in_hi" -eq $((0x80)) ] || die "inputs do not match"
[ "$st" -eq 7 ] || die "expected interrupt status 0x07"
say "the guest clears the interrupt (writes BAR2 offset 1)"
run vdevctl "$A" write bar2 1 1 0
say "interrupt status = $(hex "$(rd "$A" 6)")"
say "one more input change (IIN4), left pending for the migration"
run vdevctl "$A.mgmt" set state.inputs 0x8011
in_lo=$(rd "$A" 1); st=$(rd "$A" 6)
say "IIN0-7 = $(hex "$in_lo"), interrupt status = $(hex "$st")"
run vdevctl "$A.mgmt" stats

step "save the device state to a file (the device stops, as a migration source does)"
run vdevctl "$A" save gpio.state
say "wrote $(stat -c %s gpio.state) bytes of versioned, self-describing state;"
say "the first device now stays stopped, as a migrated-away device does"
say "(while a VMM holds the vfio-user socket, the management socket saves"
say " instead, without stopping the device: vdevctl $A.mgmt mgmt save FILE)"

step "start a second GPIO server and load the state into it"
start_server "$Bs"
say "fresh device: OUT0-7 = $(hex "$(rd "$Bs" 0)")"
run vdevctl "$Bs" load gpio.state

step "compare: the second server carries on where the first stopped"
fail=0
for r in "0 OUT0-7 $out_lo" "4 OUT8-15 $out_hi" "1 IIN0-7 $in_lo" \
         "5 IIN8-15 $in_hi" "6 irq-status $st"; do
    set -- $r
    got=$(rd "$Bs" "$1")
    if [ "$got" -eq "$3" ]; then mark=same; else mark=DIFFERENT; fail=1; fi
    say "$(printf '%-10s first %s   second %s   %s' "$2" "$(hex "$3")" "$(hex "$got")" "$mark")"
done
run vdevctl "$Bs.mgmt" get state.inputs
[ "$fail" -eq 0 ] || die "the restored device differs"
say "the interrupt left pending on the first server is pending here too;"
say "the guest on the second server clears it"
run vdevctl "$Bs" write bar2 1 1 0
say "interrupt status = $(hex "$(rd "$Bs" 6)")"

printf '\nDemo finished: the GPIO card ran, was saved and restored in a second server.\n'
printf 'To attach a VM (QEMU 10.1+), start %s --socket-path=PATH\n' "$B/bin/vdev-gpio-pci-idio-16"
printf 'and pass QEMU the -device option it prints.\n'
