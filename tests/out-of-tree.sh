#!/usr/bin/env bash
# The README's out-of-tree example against an installed vdev (make check,
# through `make install-check`): with only what `make install DESTDIR=...`
# put in DESTDIR, the example folder builds with its own three-line
# Makefile (plain `pkg-config --cflags --libs libvdev`) and with `vdevc
# build` (shared and --static), and each server serves the installed
# vdevctl: identity register, a write through the companion C, the sum.
#   VDEV_DESTDIR=DIR   the DESTDIR of an install with PREFIX=/usr (required)
#   SAN_FLAGS=...      sanitizer flags the installed libvdev.so was built with
set -euo pipefail
cd "$(dirname "$0")/.."
D=${VDEV_DESTDIR:?set VDEV_DESTDIR to a make install DESTDIR}
san=${SAN_FLAGS:-}
tmp=$(mktemp -d /tmp/vdev-oot-XXXXXX)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "out-of-tree: $*" >&2
    exit 1
}

# Only the installed tree: no build/, no include/ of the source checkout.
export PATH="$D/usr/bin:$PATH"
export PKG_CONFIG_PATH="$D/usr/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$D"
export LD_LIBRARY_PATH="$D/usr/lib"
unset MAKEFLAGS MFLAGS MAKELEVEL

# The installed libraries: real file, soname link, development link.
[ "$(readlink "$D/usr/lib/libvdev.so")" = libvdev.so.0 ] || fail "libvdev.so link"
[ "$(readlink "$D/usr/lib/libvdev.so.0")" = libvdev.so.0.1.0 ] ||
    fail "libvdev.so.0 link"
readelf -d "$D/usr/lib/libvdev.so.0.1.0" | grep -q 'SONAME.*\[libvdev\.so\.0\]' ||
    fail "libvdev.so.0.1.0 has no soname libvdev.so.0"
readelf -d "$D/usr/lib/libvdev-client.so.0.1.0" |
    grep -q 'SONAME.*\[libvdev-client\.so\.0\]' || fail "client soname"
[ -f "$D/usr/lib/libvdev.a" ] || fail "libvdev.a not installed"

# serve BINARY: runs it, reads and writes registers with vdevctl, stops it.
serve() {
    local bin=$1 sock=$tmp/s.sock out
    "$bin" --socket-path="$sock" >"$tmp/server.out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        [ -S "$sock" ] && break
        sleep 0.05
    done
    [ -S "$sock" ] || fail "$bin did not listen: $(cat "$tmp/server.out")"
    out=$(vdevctl "$sock" read bar0 0 4) || fail "vdevctl read failed"
    [ "$out" = 0xc5c50001 ] || fail "$bin: id reads $out"
    vdevctl "$sock" write bar0 4 4 0x12345678 >/dev/null || fail "write failed"
    # zlib.crc32(b"\x78\x56\x34\x12") = 0xaf6d87d2, here not inverted
    out=$(vdevctl "$sock" read bar0 8 4)
    [ "$out" = 0x5092782d ] || fail "$bin: sum reads $out, want 0x5092782d"
    kill -TERM "$pid"
    wait "$pid" || fail "$bin exited with $?"
    pid=
    [ ! -e "$sock" ] || fail "$bin left its socket behind"
    echo "out-of-tree: $(basename "$bin") serves (id, companion CRC, sum)"
}

# 1. The example's own Makefile: vdevc, then cc with plain pkg-config.
cp -r examples/out-of-tree "$tmp/ex"
make -s -C "$tmp/ex" CFLAGS="$san" >"$tmp/make.out" 2>&1 ||
    fail "the example's Makefile failed: $(cat "$tmp/make.out")"
readelf -d "$tmp/ex/vdev-checksum" | grep -q 'NEEDED.*\[libvdev\.so\.0\]' ||
    fail "vdev-checksum does not use libvdev.so.0"
serve "$tmp/ex/vdev-checksum"

# 2. One command, from another folder.
(cd "$tmp" && CFLAGS="$san" vdevc build -o one ex/checksum.vdev ex/checksum.c) ||
    fail "vdevc build failed"
serve "$tmp/one"

# 3. Statically (pkg-config --static): nothing of libvdev needed at run time.
if [ -z "$san" ]; then
    (cd "$tmp" && vdevc build --static -o static ex/checksum.vdev ex/checksum.c) ||
        fail "vdevc build --static failed"
    readelf -d "$tmp/static" 2>/dev/null | grep -q NEEDED &&
        fail "the --static build has dynamic dependencies"
    LD_LIBRARY_PATH= serve "$tmp/static"
fi
echo "out-of-tree ok"
