#!/usr/bin/env bash
# make vm MODEL=NAME: a throwaway Linux guest (the QEMU tier's image) with
# build/bin/vdev-NAME attached at 0000:00:05.0 and its Linux driver loaded
# where there is one; the guest's shell is on this terminal (serial
# console). The management socket is printed before the boot; leaving the
# shell powers the VM off, and the server and its temp dir go with it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
MODEL=${1:-}
models=$(cd "$VT_ROOT/models" && ls ./*.vdev | sed 's|^\./||; s|\.vdev$||' | tr '\n' ' ' | sed 's/ $//')
if [[ -z $MODEL || ! -e $VT_ROOT/models/$MODEL.vdev ]]; then
    echo "usage: make vm MODEL=NAME    (NAME: $models)" >&2
    exit 2
fi
if ! vt_qemu_ok; then
    echo "vm: no QEMU with vfio-user-pci at $QEMU (set QEMU=...)" >&2
    exit 1
fi
vt_init "vm-$MODEL"
vt_image || exit 1
vt_server dev "$VT_BUILD/bin/vdev-$MODEL" --socket-path=@SOCK@ || exit 1
cat <<MSG
vm: $MODEL server pid ${VT_PID[dev]}, log $VT_TMP/dev.log
vm: management socket ${VT_SOCK[dev]}.mgmt
vm:   e.g. $VDEVCTL ${VT_SOCK[dev]}.mgmt list
vm: booting (TCG, 5-10 s); the guest's device is 0000:00:05.0
MSG
"$QEMU" -L "$VT_BIOS" -machine q35,memory-backend=mem -accel tcg -m "$VT_MEM" \
    -object "memory-backend-memfd,id=mem,size=$VT_MEM,share=on" \
    -nodefaults -display none -monitor none -no-reboot -serial stdio \
    -kernel "$VT_IMG/vmlinuz" -initrd "$VT_IMG/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet vdev.test=shell vdev.model=$MODEL vdev.dev=0000:00:05.0" \
    -device "$(vt_vfio_user dev 5)"
echo "vm: powered off; stopping the $MODEL server"
