#!/usr/bin/env bash
# After a test run (make check, make valgrind-check): fails when any process
# the tests started left a report behind: sanitizer reports (every process
# writes them to DIR/asan.PID under make check) and the children the tests
# found failing in a suite's teardown, where Criterion does not count an
# assertion (DIR/children, tests/child.c).
set -euo pipefail
dir=${1:?usage: check-reports.sh DIR}
bad=0
for f in "$dir"/*; do
    [ -s "$f" ] || continue
    echo "== $f" >&2
    cat "$f" >&2
    bad=1
done
if [ $bad -ne 0 ]; then
    echo "reports above: a process the tests started failed" >&2
    exit 1
fi
