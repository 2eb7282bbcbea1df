#!/bin/sh
# analysis/learning_curve.py, backprop_angle.py, receptive_fields.py and
# confusion.py on a small two-hidden-layer run (synthetic 4x4 IDX images,
# 2 epochs, a test pass per epoch, angles every 2 examples): each writes
# its PNG. Run from the repository root (exit 0 = pass).
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
exit 0
