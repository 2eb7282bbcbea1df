#!/bin/sh
# Oja's rule (issue 15): the first run of networks/oja_pca.yaml, 2000 s
# (~5 s of CPU): the weight vector's angle to the principal eigenvector of
# the input covariance, averaged over the last 10% of the run, is below 5
# degrees, and its norm within 0.1 of 1 (analysis/oja_pca.py computes C from
# the generator and the loadings the run records). Also: the rule refuses
# W_min >= W_max at the offending line, exit code 2.
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_oja.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

"$APICAL" run networks/oja_pca.yaml -o "$tmp/oja.h5" --quiet --set simulation.duration=2000s \
    --set 'recorders[0].interval=4s' || fail "run"
"$PYTHON" analysis/oja_pca.py "$tmp/oja.h5" --max-angle 5 --norm-tol 0.1 || fail "angle or norm"

"$APICAL" check networks/oja_pca.yaml --set 'projections[3].plasticity.W_min=20' \
    >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "W_min > W_max: exit $rc, want 2"
grep -q "W_min (20) must be below W_max (10)" "$tmp/out" || fail "message: $(cat "$tmp/out")"
exit 0
