#!/usr/bin/env bash
# The runtime's layers, checked (make layering-check). Dependencies point one
# way, down:
#   host -> server -> migration -> device -> base      (libvdev.a)
#   client -> base                                     (libvdev-client.a)
# Fails when
#   - a runtime file includes a header of a higher layer (or of client/ from
#     the server side, or the other way), or a private header by a bare name;
#   - anything but runtime/, tests/, bench/ and fuzz/ includes a private
#     runtime header (generated code, goldens, models, tools, the compiler
#     see include/vdev/ only), or a public header includes a private one;
#   - dsl/ includes a header of compiler/;
#   - code (not comments) uses SCM_RIGHTS outside runtime/base/fdio.c, or
#     sendmsg/recvmsg outside base/fdio.[ch] in the runtime (the raw peers of
#     tests/ and fuzz/ speak the socket on their own, on purpose: a test
#     client that shared the server's helper would share its bugs);
#   - an object of a layer ($VDEV_BUILD/runtime/LAYER/*.o) needs a symbol
#     that only a layer it may not use defines: the proof that no cycle
#     spans two folders.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${VDEV_BUILD:-build}
fail=0

layers=(base device migration server host client)
# Layers each layer may use, itself included.
declare -A may=(
    [base]="base"
    [device]="base device"
    [migration]="base device migration"
    [server]="base device migration server"
    [host]="base device migration server host"
    [client]="base client"
)

bad() {
    echo "layering: $*" >&2
    fail=1
}

allowed() { # allowed LAYER USED
    [[ " ${may[$1]} " == *" $2 "* ]]
}

# Quoted includes of a file, one per line.
includes() {
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"
}

public=" $(cd include/vdev && echo *.h) "
private_re='^(base|device|migration|server|host|client)/'

# ---------------------------------------------------------------- includes
for l in "${layers[@]}"; do
    for f in runtime/"$l"/*.[ch]; do
        while read -r inc; do
            [ -n "$inc" ] || continue
            if [[ $inc =~ $private_re ]]; then
                used=${inc%%/*}
                allowed "$l" "$used" ||
                    bad "$f includes $inc ($l may use: ${may[$l]})"
            elif [[ $public != *" $inc "* ]]; then
                bad "$f includes \"$inc\": private headers go by layer/name.h"
            fi
        done < <(includes "$f")
    done
done

for f in $(git ls-files '*.c' '*.h' '*.y' '*.l'); do
    case $f in
    runtime/*) continue ;;
    tests/golden/* | tests/migration/*) ;; # generated C: public headers only
    tests/* | bench/* | fuzz/*) continue ;;
    esac
    while read -r inc; do
        if [[ $inc =~ $private_re || $inc == *runtime/* ]]; then
            bad "$f includes the private runtime header $inc"
        fi
    done < <(includes "$f")
done

for f in include/vdev/*.h; do
    while read -r inc; do
        [[ $public == *" $inc "* ]] ||
            bad "$f (public) includes \"$inc\", which is not public"
    done < <(includes "$f")
done

compiler_h=" $(cd compiler && echo *.h) "
for f in $(git ls-files 'dsl/*'); do
    while read -r inc; do
        if [[ $compiler_h == *" ${inc##*/} "* || $inc == *compiler/* ]]; then
            bad "$f includes $inc: dsl/ never includes compiler/"
        fi
    done < <(includes "$f")
done

# ---------------------------------------------------------------- fds
# Code lines only: comment lines start with /*, * or //.
code_grep() { # code_grep REGEX PATHSPEC...
    git grep -nE "$@" | grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/\*|\*|//)' || true
}
while IFS=: read -r f _; do
    [ "$f" = runtime/base/fdio.c ] ||
        bad "$f uses SCM_RIGHTS (base/fdio.c's job)"
done < <(code_grep 'SCM_RIGHTS' -- '*.c' '*.h' ':!tests/' ':!fuzz/')
while IFS=: read -r f _; do
    case $f in
    runtime/base/fdio.c | runtime/base/fdio.h) ;;
    *) bad "$f calls sendmsg/recvmsg (base/fdio's job)" ;;
    esac
done < <(code_grep '\b(sendmsg|recvmsg)[[:space:]]*\(' -- 'runtime/')

# ---------------------------------------------------------------- symbols
objs=()
for l in "${layers[@]}"; do
    for o in "$build"/runtime/"$l"/*.o; do
        [ -e "$o" ] || continue
        # Skip stale objects of files that moved or went away.
        [ -e "runtime/$l/$(basename "${o%.o}").c" ] && objs+=("$o")
    done
done
if [ ${#objs[@]} -eq 0 ]; then
    bad "no objects under $build/runtime: build first (make)"
else
    may_list=$(for l in "${layers[@]}"; do echo "$l ${may[$l]}"; done)
    # nm -A: "PATH: [ADDR] TYPE SYMBOL"; the layer is PATH's folder.
    while read -r line; do
        bad "$line"
    done < <({
        echo "$may_list" | sed 's/^/MAY /'
        nm -A --defined-only "${objs[@]}" | sed 's/^/DEF /'
        nm -A -u "${objs[@]}" | sed 's/^/UND /'
    } | awk -v b="$build/" '
        function layer(path,    k, p) { sub(/:.*$/, "", path)
                                         k = split(path, p, "/")
                                         return p[k - 1] }
        $1 == "MAY" { for (i = 3; i <= NF; i++) may[$2 " " $i] = 1; next }
        $1 == "DEF" && $(NF - 1) ~ /^[TDBRV]$/ { owner[$NF] = layer($2); next }
        $1 == "UND" { und[++nund] = $2 " " $NF }
        END {
            for (i = 1; i <= nund; i++) {
                split(und[i], u, " "); o = u[1]; sub(/:.*$/, "", o)
                l = layer(u[1]); d = owner[u[2]]
                if (d != "" && !((l " " d) in may)) {
                    sub("^" b, "", o)
                    print o " (" l ") needs " u[2] ", defined in " d "/"
                }
            }
        }')
fi

if [ $fail -ne 0 ]; then
    exit 1
fi
echo "layering ok (${#objs[@]} objects; includes, fds, symbols)"
