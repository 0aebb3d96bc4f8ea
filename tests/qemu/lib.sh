# Host side of the QEMU tier, sourced by the scenario scripts: finds QEMU and
# the guest image, starts servers and QEMU in a private temp dir, answers the
# guest's requests on its second serial port, judges the VDEV-RESULT lines
# of its console, and ends every process it started on any exit.
# shellcheck shell=bash

VT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VT_BUILD=${VDEV_BUILD:-build}
case $VT_BUILD in /*) ;; *) VT_BUILD=$VT_ROOT/$VT_BUILD ;; esac
QEMU=${QEMU:-$VT_ROOT/../shared/qemu/qemu-system-x86_64}
case $QEMU in /*) ;; */*) QEMU=$PWD/$QEMU ;; esac
VT_BIOS=${QEMU_BIOS:-$(dirname "$QEMU")/pc-bios}
VDEVCTL=$VT_BUILD/bin/vdevctl
VT_MEM=256M
# A scenario that is not done by then has hung.
VT_TIMEOUT=${VT_TIMEOUT:-240}

declare -A VT_SOCK VT_PID
VT_PIDS=()
VT_TMP=
VT_QEMU_PID=
VT_MAIN=           # the server the guest's get/set/upgrade requests go to
VT_UPGRADE_BIN=    # what "upgrade" hands the main server over to
VT_SECONDS=0

vt_say() { echo "qemu-check: $*"; }

# True when $QEMU runs and has the vfio-user client.
vt_qemu_ok() {
    [[ -x $QEMU ]] &&
        "$QEMU" -L "$VT_BIOS" -device help 2>/dev/null |
        grep -q '"vfio-user-pci"'
}

vt_cleanup() {
    local pid i
    for ((i = ${#VT_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${VT_PIDS[i]}
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
    done
    wait 2>/dev/null
    [[ -n $VT_TMP && -z ${VT_KEEP:-} ]] && rm -rf "$VT_TMP"
    VT_PIDS=()
}

# vt_init NAME: a temp dir and the exit trap; NAME labels the output.
vt_init() {
    VT_NAME=$1
    VT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vdev-qemu-$1.XXXXXX")
    trap vt_cleanup EXIT
    trap 'exit 130' INT TERM HUP
    VT_SECONDS=$SECONDS
}

# The guest image (built or re-used); sets VT_IMG.
vt_image() {
    VT_IMG=$("$VT_ROOT/tests/qemu/image.sh" "$VT_BUILD") || {
        vt_say "$VT_NAME: FAIL: building the guest image failed"
        return 1
    }
}

# vt_server ID COMMAND...: starts a server; @SOCK@ in COMMAND is its socket
# (under the temp dir). Waits until the socket exists.
vt_server() {
    local id=$1 sock=$VT_TMP/$1.sock pid
    shift
    "${@//@SOCK@/$sock}" >"$VT_TMP/$id.log" 2>&1 &
    pid=$!
    VT_PIDS+=("$pid")
    VT_PID[$id]=$pid
    VT_SOCK[$id]=$sock
    for _ in $(seq 100); do
        [[ -S $sock ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    vt_say "$VT_NAME: FAIL: server $id did not open $sock"
    tail -n 20 "$VT_TMP/$id.log"
    return 1
}

# The -device option that attaches server ID at PCI slot SLOT.
vt_vfio_user() {
    printf '{"driver":"vfio-user-pci","addr":"%s","socket":{"path":"%s","type":"unix"}}' \
        "$2" "${VT_SOCK[$1]}"
}

# vt_qemu MEMFD(0|1) APPEND DEVICE-ARGS...: boots the guest in the
# background, console to console.log, requests on the second serial port.
vt_qemu() {
    local memfd=$1 append=$2 machine=q35
    local -a mem=()
    shift 2
    if ((memfd)); then
        machine+=,memory-backend=mem
        mem=(-object "memory-backend-memfd,id=mem,size=$VT_MEM,share=on")
    fi
    mkfifo "$VT_TMP/ctl.in" "$VT_TMP/ctl.out"
    "$QEMU" -L "$VT_BIOS" -machine "$machine" -accel tcg -m "$VT_MEM" \
        "${mem[@]}" -nodefaults -display none -monitor none -no-reboot \
        -chardev "file,id=con,path=$VT_TMP/console.log" -serial chardev:con \
        -chardev "pipe,id=ctl,path=$VT_TMP/ctl" -serial chardev:ctl \
        -kernel "$VT_IMG/vmlinuz" -initrd "$VT_IMG/initrd.gz" \
        -append "console=ttyS0 panic=-1 quiet $append" "$@" \
        >"$VT_TMP/qemu.out" 2>"$VT_TMP/qemu.err" &
    VT_QEMU_PID=$!
    VT_PIDS+=("$VT_QEMU_PID")
}

vt_mgmt() { "$VDEVCTL" "${VT_SOCK[$VT_MAIN]}.mgmt" "$@" 2>&1; }

# The server process behind BAR memory: its memfd of BAR INDEX.
vt_bar_memfd() {
    local f
    for f in /proc/"${VT_PID[$VT_MAIN]}"/fd/*; do
        [[ $(readlink "$f") == "/memfd:"*"-bar$1 (deleted)" ]] && {
            echo "$f"
            return 0
        }
    done
    return 1
}

# Answers one guest request in VT_REPLY (one line; "error ..." on failure).
vt_answer() {
    local -a w
    local out f
    read -ra w <<<"$1"
    case ${w[0]} in
    get | set)
        if out=$(vt_mgmt "${w[@]}"); then
            VT_REPLY=${out##*=}
        else
            VT_REPLY="error $out"
        fi
        ;;
    upgrade)
        if out=$(vt_mgmt upgrade "$VT_UPGRADE_BIN") &&
            [[ $out =~ pid\ ([0-9]+) ]]; then
            VT_PID[$VT_MAIN]=${BASH_REMATCH[1]}
            VT_PIDS+=("${BASH_REMATCH[1]}")
            VT_REPLY="ok ${BASH_REMATCH[1]}"
        else
            VT_REPLY="error $out"
        fi
        ;;
    shm-write) # OFFSET HEX: bytes into the server's BAR2 memory
        if f=$(vt_bar_memfd 2) &&
            printf "$(sed 's/../\\x&/g' <<<"${w[2]}")" |
            dd of="$f" bs=1 seek=$((w[1])) conv=notrunc status=none; then
            VT_REPLY=ok
        else
            VT_REPLY="error no BAR2 memory in server ${VT_PID[$VT_MAIN]}"
        fi
        ;;
    shm-read) # OFFSET LEN: hex of the server's BAR2 memory
        if f=$(vt_bar_memfd 2); then
            VT_REPLY=$(dd if="$f" bs=1 skip=$((w[1])) count=$((w[2])) \
                status=none | od -An -v -tx1 | tr -d ' \n')
        else
            VT_REPLY="error no BAR2 memory in server ${VT_PID[$VT_MAIN]}"
        fi
        ;;
    *) VT_REPLY="error unknown request '${w[0]}'" ;;
    esac
}

# Serves the guest's requests until QEMU exits or VT_TIMEOUT passes.
# Returns QEMU's exit status (124 on timeout).
vt_serve() {
    local rd wr line chunk buf= rc deadline=$((SECONDS + VT_TIMEOUT))
    exec {rd}<>"$VT_TMP/ctl.out" {wr}<>"$VT_TMP/ctl.in"
    while kill -0 "$VT_QEMU_PID" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            vt_say "$VT_NAME: the guest did not finish in ${VT_TIMEOUT} s"
            kill -KILL "$VT_QEMU_PID"
            wait "$VT_QEMU_PID" 2>/dev/null
            exec {rd}<&- {wr}>&-
            return 124
        fi
        if IFS= read -r -t 1 -u "$rd" chunk; then
            line=${buf}${chunk%$'\r'}
            buf=
            vt_answer "$line"
            echo "$line -> $VT_REPLY" >>"$VT_TMP/requests.log"
            printf '%s\n' "$VT_REPLY" >&"$wr"
        else
            (($? > 128)) && buf+=$chunk
        fi
    done
    wait "$VT_QEMU_PID"
    rc=$?
    exec {rd}<&- {wr}>&-
    return $rc
}

# Prints the tail of every log of this run.
vt_logs() {
    local f
    echo "---- guest console (last 40 lines) ----"
    tail -n 40 "$VT_TMP/console.log" 2>/dev/null | tr -d '\r'
    for f in "$VT_TMP"/qemu.err "$VT_TMP"/*.log; do
        [[ -s $f && $f != */console.log ]] || continue
        echo "---- ${f##*/} (last 15 lines) ----"
        tail -n 15 "$f"
    done
    echo "----"
}

# vt_host_result NAME OK(0|1) DETAIL: a check made on the host side.
vt_host_result() {
    local v=PASS
    (($2)) || v=FAIL
    echo "VDEV-RESULT $1 $v $3" >>"$VT_TMP/host-results"
}

# Differences the tier knows and tolerates (VT_KNOWN: a file of "CHECK
# COUNT WHY" lines, e.g. edu-known.txt): a check listed there must fail
# with exactly COUNT differing observations, and is then reported KNOWN.
vt_known() {
    [[ -n ${VT_KNOWN:-} ]] && awk -v c="$1" '$1 == c { print $2; exit }' \
        "$VT_KNOWN"
}

# Prints one result line; false when it counts as a failure.
vt_judge() {
    local name=${1%% *} rest=${1#* } want
    want=$(vt_known "$name")
    if [[ -z $want ]]; then
        echo "  $1"
        [[ $rest != FAIL* ]]
        return
    fi
    if [[ $rest == "FAIL $want of "* ]]; then
        rest=${rest#FAIL }
        echo "  $name KNOWN ${rest%%:*} (listed in ${VT_KNOWN##*/})"
        return 0
    fi
    echo "  $1"
    echo "  $name: ${VT_KNOWN##*/} expects $want differences here: update it"
    return 1
}

# vt_verdict QEMU_RC: prints the guest's results; 0 when every check
# passed, the guest said VDEV-DONE and QEMU exited cleanly with nothing on
# stderr.
vt_verdict() {
    local qrc=$1 fails=0 done_line= n=0 line
    while IFS= read -r line; do
        line=${line%$'\r'}
        case $line in
        VDEV-RESULT*)
            n=$((n + 1))
            vt_judge "${line#VDEV-RESULT }" || fails=$((fails + 1))
            ;;
        VDEV-NOTE*) [[ -n ${VT_VERBOSE:-} ]] && echo "  note: ${line#VDEV-NOTE }" ;;
        VDEV-DONE*) done_line=$line ;;
        esac
    done < <(cat "$VT_TMP/console.log" "$VT_TMP/host-results" 2>/dev/null |
        tr -d '\r' | grep -a '^VDEV-')
    local why=
    ((fails)) && why="$fails check(s) failed"
    [[ -z $done_line ]] && why="${why:+$why; }the guest did not finish"
    ((n == 0)) && why="${why:+$why; }no results"
    ((qrc != 0)) && why="${why:+$why; }QEMU exited with status $qrc"
    [[ -s $VT_TMP/qemu.err ]] && why="${why:+$why; }QEMU printed errors"
    if [[ -n $why ]]; then
        vt_say "$VT_NAME: FAIL ($why, $((SECONDS - VT_SECONDS)) s)"
        vt_logs
        return 1
    fi
    vt_say "$VT_NAME: ok ($n checks, $((SECONDS - VT_SECONDS)) s)"
}
