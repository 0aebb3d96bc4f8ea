#!/usr/bin/env bash
# What make install puts there for service and VM managers, and the
# dependency check of plain make (make check, through `make
# install-check`):
# - one vfio-user backend descriptor per model server, valid JSON whose
#   binary is the installed server and whose type is the one the server's
#   --print-capabilities reports;
# - the systemd unit templates, which systemd-analyze verify accepts (when
#   installed);
# - install-deps.sh --check names what is missing and the apt-get command,
#   and runs neither apt-get nor sudo.
#   VDEV_DESTDIR=DIR   the DESTDIR of an install with PREFIX=/usr (required)
set -euo pipefail
cd "$(dirname "$0")/.."
D=${VDEV_DESTDIR:?set VDEV_DESTDIR to a make install DESTDIR}
tmp=$(mktemp -d /tmp/vdev-inst-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() {
    echo "install-check: $*" >&2
    exit 1
}
export LD_LIBRARY_PATH="$D/usr/lib"

# ---------------------------------------------------------- descriptors
n=0
for bin in "$D"/usr/bin/vdev-*; do
    m=${bin##*/vdev-}
    desc=$D/usr/share/vfio-user/50-vdev-$m.json
    [ -f "$desc" ] || fail "no descriptor $desc for $bin"
    caps=$("$bin" --print-capabilities)
    python3 - "$desc" "/usr/bin/vdev-$m" "$caps" <<'PY' || fail "$desc"
import json, sys
d = json.load(open(sys.argv[1]))
caps = json.loads(sys.argv[3])
assert set(d) <= {"description", "type", "binary", "tags"}, d
assert d["binary"] == sys.argv[2], d["binary"]
assert d["type"] == caps["type"], (d["type"], caps["type"])
assert isinstance(d["description"], str) and d["description"], d
assert all(isinstance(t, str) for t in d.get("tags", [])), d
PY
    n=$((n + 1))
done
[ $n -ge 3 ] || fail "only $n model servers installed"
echo "install-check: $n vfio-user descriptors match their servers"

# ---------------------------------------------------------- systemd units
units=$D/usr/lib/systemd/system
for u in vdev@.socket vdev-mgmt@.socket vdev@.service; do
    [ -f "$units/$u" ] || fail "$units/$u not installed"
done
grep -qx 'ExecStart=/usr/bin/vdev-%i $VDEV_OPTS' "$units/vdev@.service" ||
    fail "vdev@.service does not start /usr/bin/vdev-%i"
grep -qx 'FileDescriptorName=mgmt' "$units/vdev-mgmt@.socket" ||
    fail "vdev-mgmt@.socket does not name its socket mgmt"
if command -v systemd-analyze >/dev/null; then
    # The binaries are under DESTDIR here, not yet at their real path.
    mkdir "$tmp/units"
    for u in "$units"/*; do
        sed "s|/usr/bin/|$D/usr/bin/|" "$u" >"$tmp/units/${u##*/}"
    done
    out=$(cd "$tmp/units" && systemd-analyze verify --man=no \
        ./vdev@edu.service ./vdev@edu.socket ./vdev-mgmt@edu.socket 2>&1) ||
        fail "systemd-analyze verify: $out"
    [ -z "$out" ] || fail "systemd-analyze verify: $out"
    echo "install-check: systemd-analyze verify accepts the unit templates"
fi

# ---------------------------------------------------------- dependencies
# A machine without talloc, json-c and libseccomp (no pkg-config modules
# at all), with apt-get and sudo that only record being called.
mkdir "$tmp/bin"
for p in apt-get sudo; do
    printf '#!/bin/sh\ntouch %s/ran-%s\n' "$tmp" "$p" >"$tmp/bin/$p"
    chmod +x "$tmp/bin/$p"
done
set +e
msg=$(PATH="$tmp/bin:$PATH" PKG_CONFIG_LIBDIR=/nonexistent \
    ./scripts/install-deps.sh --check build 2>&1)
rc=$?
set -e
[ $rc -eq 1 ] || fail "install-deps.sh --check exited $rc: $msg"
for want in "missing build dependencies: libtalloc-dev libjson-c-dev libseccomp-dev" \
    "apt-get install libtalloc-dev libjson-c-dev libseccomp-dev"; do
    [[ $msg == *"$want"* ]] || fail "install-deps.sh --check said: $msg"
done
[ ! -e "$tmp/ran-apt-get" ] && [ ! -e "$tmp/ran-sudo" ] ||
    fail "install-deps.sh --check ran apt-get or sudo"
echo "install-check: a missing dependency is named with its apt command, nothing installed"
echo "install-check ok"
