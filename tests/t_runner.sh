#!/bin/sh
# tests/run-all.sh must fail when the Check runner crashes, exits non-zero or
# prints no summary, whatever the summary (if any) says. Each case runs the
# real run-all.sh on a stand-in runner in a scratch tree with no script tests.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/b" "$tmp/tests"
fails=0
case_() {  # name, expected status (pass|fail), runner body
    printf '#!/bin/sh\n%s\n' "$3" > "$tmp/b/check_apical"; chmod +x "$tmp/b/check_apical"
    (cd "$tmp" && sh "$here/tests/run-all.sh" b) > "$tmp/out" 2>&1
    rc=$?
    if { [ "$2" = pass ] && [ $rc -ne 0 ]; } || { [ "$2" = fail ] && [ $rc -eq 0 ]; }; then
        echo "run-all.sh on '$1': exit $rc, expected $2"; sed 's/^/    /' "$tmp/out"; fails=$((fails + 1))
    fi
}
case_ "clean pass" pass 'echo "100%: Checks: 3, Failures: 0, Errors: 0"'
case_ "a failing check" fail 'echo "66%: Checks: 3, Failures: 1, Errors: 0"; exit 1'
case_ "segfault before the summary" fail 'echo "Running suite(s): x"; kill -SEGV $$'
case_ "abort after a passing summary" fail 'echo "100%: Checks: 3, Failures: 0, Errors: 0"; kill -ABRT $$'
case_ "no summary, exit 0" fail 'echo "Running suite(s): x"'
case_ "non-zero exit, passing summary" fail 'echo "100%: Checks: 3, Failures: 0, Errors: 0"; exit 3'
[ $fails -eq 0 ]
