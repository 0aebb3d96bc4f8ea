#!/usr/bin/env bash
# make qemu-check: the QEMU tier. Every model's server under QEMU (TCG) with
# a Linux guest built from Debian packages (image.sh, cached in
# BUILD/qemu/), one scenario per script; skips with one line when there is
# no QEMU with vfio-user-pci ($QEMU, default ../shared/qemu/).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
if ! vt_qemu_ok; then
    echo "qemu-check: skipped: no QEMU with vfio-user-pci at $QEMU"
    exit 0
fi
start=$SECONDS
# Built (or found) once, before the scenarios share it.
VT_NAME=image
vt_image || exit 1
failed=()
for t in gpio edu ivshmem upgrade; do
    "$VT_ROOT/tests/qemu/t-$t.sh" || failed+=("$t")
done
if ((${#failed[@]})); then
    echo "qemu-check: FAILED: ${failed[*]} ($((SECONDS - start)) s)"
    exit 1
fi
echo "qemu-check: all scenarios passed ($((SECONDS - start)) s)"
