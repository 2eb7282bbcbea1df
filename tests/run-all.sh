#!/bin/sh
# Run every test: the Check suites, then the script tests tests/t_*.sh and
# tests/t_*.py (each one test: exit 0 passes, 77 skips). Prints one closing line
# "N passed, N failed". Usage: tests/run-all.sh BUILD_DIR
set -u
build=${1:-build}
export APICAL="${APICAL:-$build/apical}"
export PYTHON="${PYTHON:-/usr/bin/python3}"
export TMPDIR="${TMPDIR:-/tmp}"
passed=0; failed=0
log=$(mktemp)
# The runner's own exit status, not tee's: a runner that crashes (a segfault,
# an ASan abort under CK_FORK=no) prints no closing summary, and that must fail.
"$build/check_apical" >"$log" 2>&1
rc=$?
cat "$log"
line=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
if [ -n "$line" ]; then
    n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    passed=$((n - f - e)); failed=$((f + e))
else
    echo "FAIL $build/check_apical: no Check summary (exit status $rc)"
    failed=1
fi
if [ $rc -ne 0 ] && [ "$failed" -eq 0 ]; then
    echo "FAIL $build/check_apical: exit status $rc with every check passing"
    failed=1
fi
rm -f "$log"
for t in tests/t_*.sh tests/t_*.py; do
    [ -e "$t" ] || continue
    case "$t" in *.py) cmd="$PYTHON $t";; *) cmd="sh $t";; esac
    # exit 77 (automake's convention): the test could not run here (say, no
    # MNIST data); said as SKIP with its reason, counted neither way
    out=$($cmd 2>&1); rc=$?
    if [ $rc -eq 0 ]; then
        echo "PASS $t"; passed=$((passed + 1))
    elif [ $rc -eq 77 ]; then
        echo "SKIP $t: $(echo "$out" | tail -n 1)"
    else
        echo "FAIL $t"; echo "$out" | sed 's/^/    /'; failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
