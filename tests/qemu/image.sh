#!/usr/bin/env bash
# Builds the QEMU tier's Linux guest from Debian packages (apt only) under
# BUILD/qemu/KVER/ and prints that folder. Re-uses what is there: the
# packages are fetched once per kernel version, the guest programs, the
# module and the initramfs are remade by make when their sources change.
#   tests/qemu/image.sh [BUILD]      (BUILD defaults to build)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export DEBIAN_FRONTEND=noninteractive

say() { echo "qemu-image: $*" >&2; }
die() { say "error: $*"; exit 1; }

# The kernel is the one Debian 12's linux-image-amd64 depends on today.
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1
}

pkg=$(kernel_package)
if [[ -z $pkg ]]; then
    say "apt has no linux-image-amd64 yet: apt-get update"
    apt-get update -qq >&2
    pkg=$(kernel_package)
fi
[[ -n $pkg ]] || die "cannot resolve linux-image-amd64 through apt-cache"
KVER=${pkg#linux-image-}
ABI=${KVER%-amd64}          # 6.1.0-57
SERIES=${ABI%%.0-*}         # 6.1
OUT=$BUILD/qemu/$KVER
X=$OUT/x

# Host tools the guest build needs (cc -static needs libc.a, the module
# gcc-12 and make); installed only when missing.
need=()
command -v make >/dev/null || need+=(make)
command -v gcc-12 >/dev/null || need+=(gcc-12)
[[ -e /usr/lib/x86_64-linux-gnu/libc.a ]] || need+=(libc6-dev)
[[ -e /usr/include/linux/gpio.h ]] || need+=(linux-libc-dev)
command -v gzip >/dev/null || need+=(gzip)
# The kernel's objtool (linux-kbuild) runs while the module builds.
ldconfig -p | grep -q 'libelf\.so\.1 ' || need+=(libelf1)
if ((${#need[@]})); then
    say "installing ${need[*]}"
    apt-get install -y -qq "${need[@]}" >&2
fi

if [[ ! -e $X/.done ]]; then
    say "fetching the guest kernel $KVER, its headers and busybox-static (apt-get download)"
    rm -rf "$OUT/debs" "$X"
    mkdir -p "$OUT/debs" "$X"
    (cd "$OUT/debs" &&
        apt-get download -q -o APT::Sandbox::User=root \
            "linux-image-$KVER" "linux-headers-$KVER" \
            "linux-headers-$ABI-common" "linux-kbuild-$SERIES" busybox-static >&2)
    for deb in "$OUT"/debs/*.deb; do
        dpkg-deb -x "$deb" "$X"
    done
    # The headers' Makefile includes the common half by absolute path.
    sed -i "s|^include /usr/src/|include $X/usr/src/|" \
        "$X/usr/src/linux-headers-$KVER/Makefile"
    [[ -e $X/boot/vmlinuz-$KVER && -x $X/bin/busybox ]] ||
        die "the packages did not hold vmlinuz-$KVER and busybox"
    # Of the 400 MB of modules the guest loads these; the rest goes.
    mods=$X/lib/modules/$KVER/kernel/drivers
    mkdir -p "$X/modules"
    for m in gpio/gpio-pci-idio-16 uio/uio uio/uio_pci_generic; do
        cp "$mods/$m.ko" "$X/modules/" || die "no $m.ko in linux-image-$KVER"
    done
    rm -rf "$OUT/debs" "$X/lib/modules" "$X/usr/share"
    touch "$X/.done"
fi

make -s -f "$ROOT/tests/qemu/guest.mk" ROOT="$ROOT" OUT="$OUT" KVER="$KVER" >&2
echo "$OUT"
