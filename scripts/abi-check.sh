#!/usr/bin/env bash
# make abi-check: the shared libraries export exactly their public API.
# For libvdev.so and libvdev-client.so, the functions declared in the
# public headers they implement (read with the compiler's -aux-info, so
# the list is the compiler's, not a regex over C) must equal the defined
# dynamic symbols: nothing private leaks out, nothing public is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${VDEV_BUILD:-build}
cc=${CC:-cc}
tmp=$(mktemp -d /tmp/vdev-abi-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

# declared HEADER...: the extern functions the headers declare, sorted.
declared() {
    local src=$tmp/decl.c
    : >"$src"
    for h in "$@"; do echo "#include \"$h\"" >>"$src"; done
    "$cc" -std=gnu11 -D_GNU_SOURCE $(pkg-config --cflags json-c 2>/dev/null) \
        -I"$PWD/include/vdev" -aux-info "$tmp/aux" -c "$src" -o /dev/null
    grep -F "$PWD/include/vdev/" "$tmp/aux" | grep ' extern ' |
        sed -E 's|^/\*[^*]*\*/ extern [^(]*[ *]([A-Za-z_][A-Za-z0-9_]*) \(.*|\1|' |
        sort -u
}

# exported LIB: the symbols it defines for others.
exported() {
    nm -D --defined-only "$1" | awk 'NF == 3 && $2 ~ /^[TDBRVWiu]$/ { print $3 }' |
        grep -vxE '_init|_fini' | sort -u
}

check() { # check LIB HEADER...
    local lib=$1 before=$fail
    fail=0
    shift
    declared "$@" >"$tmp/want"
    exported "$lib" >"$tmp/got"
    while read -r s; do
        echo "abi: $lib exports $s, which no public header declares" >&2
        fail=1
    done < <(comm -13 "$tmp/want" "$tmp/got")
    while read -r s; do
        echo "abi: $lib lacks $s, declared in $*" >&2
        fail=1
    done < <(comm -23 "$tmp/want" "$tmp/got")
    [ $fail -eq 0 ] &&
        echo "abi ok: $(basename "$lib") exports its $(wc -l <"$tmp/got") public functions, nothing else"
    fail=$((fail | before))
}

for lib in libvdev libvdev-client; do
    [ -e "$build/$lib.so" ] || { echo "abi: $build/$lib.so not built" >&2; exit 1; }
done
check "$build/libvdev.so" vdev.h vdev_log.h vdev_proto.h vdev_model.h
check "$build/libvdev-client.so" vdev_client.h vdev_log.h vdev_proto.h vdev_check.h
exit $fail
