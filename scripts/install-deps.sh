#!/usr/bin/env bash
# vdev's build and test dependencies: checks that they are there and, when
# asked to, installs the missing ones from apt.
#   install-deps.sh [--check | --install] [build | test]
#     --check    (default) only report: what is missing, and the apt
#                command that installs it; exit status 1 if anything is
#     --install  apt-get install what is missing (root, or sudo)
#     build      (default) what `make` and `make install` need
#     test       build plus what `make check` needs (Criterion, lspci for
#                vdevctl's dumps, python3-jsonschema for its --json, groff
#                for the man pages)
# Plain `make` checks the build set; `make check` and `make demo` install
# what they need; `make deps` installs the build set.
# Each package is probed for what vdev uses of it (a command, a pkg-config
# module, a Python module), so libraries built from source count too.
set -euo pipefail

mode=check
set_name=build
for a in "$@"; do
    case $a in
    --check) mode=check ;;
    --install) mode=install ;;
    build | test) set_name=$a ;;
    *)
        echo "usage: $0 [--check | --install] [build | test]" >&2
        exit 2
        ;;
    esac
done

build_pkgs=(gcc make flex bison pkg-config libtalloc-dev libjson-c-dev
    libseccomp-dev)
test_pkgs=(libcriterion-dev pciutils python3-jsonschema groff-base)

# present PACKAGE: is what vdev needs of it there?
present() {
    case $1 in
    gcc) command -v "${CC:-cc}" >/dev/null ;;
    make | flex | bison | pkg-config) command -v "$1" >/dev/null ;;
    libtalloc-dev) pkg-config --exists talloc 2>/dev/null ;;
    libjson-c-dev) pkg-config --exists json-c 2>/dev/null ;;
    libseccomp-dev) pkg-config --exists libseccomp 2>/dev/null ;;
    libcriterion-dev) pkg-config --exists criterion 2>/dev/null ;;
    pciutils) command -v lspci >/dev/null || [ -x /usr/bin/lspci ] ;;
    python3-jsonschema) python3 -c 'import jsonschema' 2>/dev/null ;;
    groff-base) command -v groff >/dev/null ;;
    *) dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
        grep -q 'install ok installed' ;;
    esac
}

pkgs=("${build_pkgs[@]}")
[ "$set_name" = test ] && pkgs+=("${test_pkgs[@]}")
# make fuzz and make bench add theirs (clang, valgrind)
[ -n "${VDEV_EXTRA_PKGS:-}" ] && pkgs+=($VDEV_EXTRA_PKGS)
missing=()
for p in "${pkgs[@]}"; do
    present "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if [ "$mode" = check ]; then
    what="build"
    [ "$set_name" = test ] && what="build and test"
    {
        echo "vdev: missing $what dependencies: ${missing[*]}"
        echo "  install them with:  ${SUDO:+$SUDO }apt-get install ${missing[*]}"
        echo "  (or 'make deps' for the build set; 'make check' and 'make demo'"
        echo "  install what they need themselves)"
    } >&2
    exit 1
fi
echo "vdev: installing missing packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
