#!/bin/sh
# analysis/learning_curve.py, backprop_angle.py, receptive_fields.py and
# confusion.py on a small two-hidden-layer run (synthetic 4x4 IDX images,
# 2 epochs, a test pass per epoch, angles every 2 examples): each writes
# its PNG. learning_curve.py's statistics against hand-worked values, its
# McNemar table for two runs, a stopped and resumed run read as one (and
# equal to the straight run), and its reading of a run still being written
# (.h5.part, SWMR). Run from the repository root (exit 0 = pass).
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_deep.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
"$PYTHON" - "$tmp" <<'PY' || fail "could not write the IDX files"
import struct, sys
d = sys.argv[1]
with open(d + '/img', 'wb') as f:
    f.write(struct.pack('>IIII', 0x803, 4, 4, 4))
    for c in range(4):
        f.write(bytes([255 if k // 4 == c else 0 for k in range(16)]))
with open(d + '/lab', 'wb') as f:
    f.write(struct.pack('>II', 0x801, 4))
    f.write(bytes(range(4)))
PY
cat > "$tmp/deep.yaml" <<'YAML'
simulation: {seed: 2, solver: {stepper: exact}}
populations:
  px: {size: 16, model: parrot}
  h1: {size: 9, model: dendritic_hidden, initial: {bias: 0.8}}
  h2: {size: 6, model: dendritic_hidden, initial: {bias: 0.8}}
  out: {size: 4, model: dendritic_output}
projections:
  - {name: W0, source: px, target: h1, connectivity: all_to_all, receptor: basal, weight: {normal: {mean: 0.1, sd: 0.8}}, delay: 1 ms}
  - {name: W1, source: h1, target: h2, connectivity: all_to_all, receptor: basal, weight: {normal: {mean: 0.1, sd: 0.5}}, delay: 1 ms}
  - {name: W2, source: h2, target: out, connectivity: all_to_all, receptor: basal, weight: {normal: {mean: 0.1, sd: 0.6}}, delay: 1 ms}
  - {name: Y1, source: out, target: h1, connectivity: all_to_all, receptor: apical, weight: {normal: {mean: 0, sd: 2}}, delay: 1 ms}
  - {name: Y2, source: out, target: h2, connectivity: all_to_all, receptor: apical, weight: {normal: {mean: 0, sd: 2}}, delay: 1 ms}
inputs: [{name: img, type: poisson, target: px, rate: 0 Hz, receptor: relay, weight: 1}]
protocol:
  hidden: [h1, h2]
  output: out
  epochs: 2
  forward: {duration: 40 ms}
  target: {duration: 40 ms}
  settle: 20 ms
  stimulus: {input: img, images: img, labels: lab, shuffle: true}
  learning: [{projection: W0, eta: 0.21}, {projection: W1, eta: 0.21}, {projection: W2, eta: 0.21}]
  test: {examples: 4, every: epoch, duration: 60 ms, window: 40 ms}
  angle: {every: 2}
  checkpoint: ck.h5
YAML
"$APICAL" run "$tmp/deep.yaml" -o "$tmp/run.h5" --quiet || fail "apical run"
[ -s "$tmp/ck.h5" ] || fail "no checkpoint written"
"$PYTHON" analysis/learning_curve.py "$tmp/run.h5" -o "$tmp/curve.png" >/dev/null || fail learning_curve.py
"$PYTHON" analysis/backprop_angle.py "$tmp/run.h5" -o "$tmp/angle.png" >/dev/null || fail backprop_angle.py
"$PYTHON" analysis/receptive_fields.py "$tmp/run.h5" -o "$tmp/rf.png" --units 4 >/dev/null || fail receptive_fields.py
"$PYTHON" analysis/confusion.py "$tmp/run.h5" -o "$tmp/conf.png" >/dev/null || fail confusion.py
for p in curve angle rf conf; do [ -s "$tmp/$p.png" ] || fail "$p.png missing"; done
"$PYTHON" -c "
import h5py, sys
f = h5py.File(sys.argv[1])
assert len(f['learning_curve/test_error']) == 2, 'one learning-curve row per epoch'
a = f['backprop_angle/angle'][:]
assert ((a >= 0) & (a <= 180)).all()
" "$tmp/run.h5" || fail "tables"

# Wilson and exact McNemar against values worked by hand: 5 of 10 gives
# (5 + 1.92 -+ 1.96 sqrt(2.5 + 0.96)) / 13.84 = [0.2366, 0.7634]; 0 of 10
# gives [0, 3.84 / 13.84]; 10 discordant pairs all one way: p = 2 / 2^10.
"$PYTHON" - <<'PY' || fail "learning_curve.py statistics"
import sys
sys.path.insert(0, 'analysis')
from learning_curve import wilson, mcnemar
lo, hi = wilson(5, 10)
assert abs(lo - 0.236593) < 1e-6 and abs(hi - 0.763407) < 1e-6, (lo, hi)
lo, hi = wilson(0, 10)
assert lo == 0.0 and abs(hi - 3.841459 / 13.841459) < 1e-6, (lo, hi)
z, p = mcnemar(10, 0)
assert p == 2.0 / 1024 and abs(z - 10 ** 0.5) < 1e-12, (z, p)
assert mcnemar(0, 0) == (0.0, 1.0) and mcnemar(7, 7)[1] == 1.0
z, p = mcnemar(3000, 2000)  # 5000 pairs: exact integers, no overflow
assert 0.0 < p < 1e-40 and z > 14, (z, p)
PY

# two runs of other seeds paired at each epoch (same test images)
sed 's/seed: 2/seed: 3/; s/checkpoint: ck.h5//' "$tmp/deep.yaml" > "$tmp/deep3.yaml"
"$APICAL" run "$tmp/deep3.yaml" -o "$tmp/run3.h5" --quiet || fail "apical run, seed 3"
"$PYTHON" analysis/learning_curve.py "$tmp/run.h5" "$tmp/run3.h5" --labels s2,s3 \
    -o "$tmp/curve2.png" > "$tmp/cmp" || fail "learning_curve.py, two runs"
grep -q '^McNemar, s2 vs s3' "$tmp/cmp" || fail "no McNemar table: $(cat "$tmp/cmp")"
[ "$(grep -Ec '^ +[12]\.000 +[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+ +[-+][0-9.]+ ' "$tmp/cmp")" = 2 ] ||
    fail "McNemar rows for epochs 1 and 2: $(cat "$tmp/cmp")"
grep -q 'Wilson 95' "$tmp/cmp" || fail "no Wilson intervals"

# a run stopped and resumed (the 2-epoch run above wrote ck.h5): its two
# files joined with + read as one run, the same bits as a straight 3-epoch
# run (McNemar: no image classified differently at any epoch)
sed 's/epochs: 2/epochs: 3/; s/checkpoint: ck.h5/checkpoint: straight.ck.h5/' "$tmp/deep.yaml" \
    > "$tmp/straight.yaml"
sed 's/epochs: 2/epochs: 3/; s/checkpoint: ck.h5/resume: ck.h5/' "$tmp/deep.yaml" > "$tmp/resumed.yaml"
"$APICAL" run "$tmp/straight.yaml" -o "$tmp/straight.h5" --quiet || fail "apical run, straight"
"$APICAL" run "$tmp/resumed.yaml" -o "$tmp/resumed.h5" --quiet || fail "apical run, resumed"
"$PYTHON" analysis/learning_curve.py "$tmp/run.h5+$tmp/resumed.h5" "$tmp/straight.h5" \
    --labels parts,straight > "$tmp/join" || fail "learning_curve.py, joined parts"
grep -q '^parts: 3 test passes' "$tmp/join" || fail "joined parts: $(cat "$tmp/join")"
[ "$(grep -Ec '^ +[123]\.000 +([0-9.]+) +\1 +0 +0 +\+0\.00 +1$' "$tmp/join")" = 3 ] ||
    fail "resumed run differs from the straight one: $(cat "$tmp/join")"
"$PYTHON" - "$tmp/straight.h5" "$tmp/resumed.h5" <<'PY' || fail "resumed tables differ"
import sys
import h5py
import numpy as np
a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
for t in ('plateaus/h1', 'plateaus/h2', 'backprop_angle', 'classification'):
    for c in a[t]:
        x, y = a[t][c][()], b[t][c][()]
        assert 0 < len(y) < len(x) and np.array_equal(x[len(x) - len(y):], y), (t, c)
PY

# a run being written: read live from OUT.h5.part (SWMR) with
# --allow-incomplete, up to its last test pass; the run is then stopped
sed 's/epochs: 2/epochs: 100000/; s/checkpoint: ck.h5//' "$tmp/deep.yaml" > "$tmp/live.yaml"
"$APICAL" run "$tmp/live.yaml" -o "$tmp/live.h5" --quiet 2>/dev/null &
live=$!
ok=0
for _ in $(seq 1 120); do
    sleep 0.5
    if "$PYTHON" analysis/learning_curve.py "$tmp/live.h5" "$tmp/run.h5" --allow-incomplete \
        > "$tmp/live" 2>/dev/null && grep -q '^McNemar' "$tmp/live"; then
        ok=1; break
    fi
done
kill "$live" 2>/dev/null; wait "$live" 2>/dev/null
[ "$ok" = 1 ] || fail "no test pass read from the live $tmp/live.h5.part"
[ ! -e "$tmp/live.h5" ] || fail "the live run finished before it was read: lengthen it"
"$PYTHON" analysis/learning_curve.py "$tmp/live.h5" > /dev/null 2>&1 &&
    fail "an unfinished run read without --allow-incomplete"
exit 0
