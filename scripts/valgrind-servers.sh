#!/usr/bin/env bash
# `make valgrind-check`: runs the test suites that drive real model server
# processes with every model server wrapped in valgrind (memcheck, leaks:
# definite and indirect), then fails if any server reported an error; a
# server's valgrind errors (exit 99) also fail the test that stopped it
# (tests/child.h).
# The seccomp suite is left out: valgrind cannot run a filtered process;
# of the hostile suite, the parts that time floods or measure RSS (valgrind
# is slower, and its own memory is in the figure).
set -euo pipefail
build=${VDEV_BUILD:-build}
build=$(cd "$build" && pwd)
filter=${VALGRIND_FILTER:-'@(faults/*|limits/*|model_*/*|vdevctl_migrate/*|hostile/irq_*|hostile/sigterm_*|hostile/dma_*)'}
wrap=$(mktemp -d /tmp/vdev-valgrind-XXXXXX)
trap 'rm -rf "$wrap"' EXIT
mkdir -p "$wrap/bin" "$wrap/logs"
for prog in "$build"/bin/*; do
    name=$(basename "$prog")
    case $name in
    vdev-*)
        # valgrind needs the dynamically linked copy (malloc interception)
        [ -x "$build/bin-dynamic/$name" ] && prog=$build/bin-dynamic/$name
        cat > "$wrap/bin/$name" <<EOS
#!/bin/sh
exec valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \\
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \\
    --log-file=$wrap/logs/$name.%p.log "$prog" "\$@"
EOS
        chmod +x "$wrap/bin/$name" ;;
    *) ln -s "$prog" "$wrap/bin/$name" ;;
    esac
done
rc=0
mkdir -p "$wrap/reports"
VDEV_BUILD=$wrap VDEV_CHILD_LEDGER=$wrap/reports/children \
    "$build/tests/vdev-tests" --filter="$filter" --jobs=2 || rc=$?
"$(dirname "$0")/check-reports.sh" "$wrap/reports" || rc=1
n=$(ls "$wrap/logs" | wc -l)
bad=$(find "$wrap/logs" -type f -size +0 | wc -l)
echo "valgrind: $n server processes, $bad with errors"
if [ "$bad" -ne 0 ]; then
    find "$wrap/logs" -type f -size +0 -exec cat {} +
    exit 1
fi
exit $rc
