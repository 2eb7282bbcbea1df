#!/bin/sh
# Learning that can fail, on real MNIST (data/mnist, `make mnist`; without
# it this test exits 77 and tests/run-all.sh reports SKIP, not PASS).
#
# A 784-100-10 segregated-dendrite network (networks/mnist_segregated.yaml
# with 100 hidden neurons, its W1 sd scaled by sqrt(500/100)) trains on
# 2000 shuffled training images, then classifies the first 300 test images
# (100 ms presentations, 70 ms window: shorter than the shipped 250/220 ms
# to keep this to seconds). Three runs:
#   learn:   plateau rule on W0 and output rule on W1, eta 0.21 (the paper's)
#   hidden:  the plateau rule alone (W1 fixed, eta 0; symmetric feedback
#            Y = W1^T, so the hidden update is the gradient through the
#            fixed output weights): only the plateau rule can lower the error
#   frozen:  eta 0 everywhere: the untrained network, at chance
# Measured (seed 1, 2026-11-30): learn 42 %, hidden 44 %, frozen 92 %.
#
# Thresholds, for 300 test images and 10 classes (chance: 10 % correct):
# - learning: error < 70 %, i.e. more than 90 correct. At chance the number
#   correct is Binomial(300, 0.1), mean 30, sd 5.2: 90 or more is 11.5 sd
#   out, p < 1e-25, so a network that does not learn cannot pass. At the
#   measured ~43 % the error's sd is 2.9 points: 70 % is 9 sd above it, so
#   another seed or a harmless change does not fail it.
# - frozen: error > 80 %, i.e. fewer than 60 correct: at chance, 60 or more
#   correct is 5.8 sd out (p ~ 4e-9).
# A sign error in the plateau rule or a learning rate two orders of
# magnitude off fails `hidden` (measured: E's sign flipped in
# apical_plateau_error: hidden 91.7 %, learn 45 %, as the output rule still
# learns; hidden eta 21: 77.3 %; eta 0.0021: 92.3 %). Run from the
# repository root (exit 0 = pass, 77 = skipped: no MNIST).
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
data=$(pwd)/data/mnist
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
    t10k-labels-idx1-ubyte; do
    [ -f "$data/$f" ] || { echo "no $data/$f: run make mnist"; exit 77; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_mnist.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

net() { # NAME, eta of W0, eta of W1, extra protocol line
    cat > "$tmp/$1.yaml" <<YAML
simulation: {seed: 1, partitions: 1, threads: 1, solver: {stepper: exact}}
populations:
  pixels: {size: 784, model: parrot}
  hidden: {size: 100, model: dendritic_hidden, initial: {bias: 0.8}}
  output: {size: 10, model: dendritic_output}
projections:
  - {name: W0, source: pixels, target: hidden, connectivity: all_to_all, receptor: basal,
     weight: {normal: {mean: 0.107, sd: 1.7}}, delay: 1 ms}
  - {name: W1, source: hidden, target: output, connectivity: all_to_all, receptor: basal,
     weight: {normal: {mean: 0.07, sd: 1.5}}, delay: 1 ms}
  - {name: Y, source: output, target: hidden, connectivity: all_to_all, receptor: apical,
     weight: {normal: {mean: 0, sd: 2}}, delay: 1 ms}
inputs:
  - {name: images, type: poisson, target: pixels, rate: 0 Hz, receptor: relay, weight: 1}
protocol:
  hidden: hidden
  output: output
  examples: 2000
  forward: {duration: 50 ms, wald: {mean: 2 ms, shape: 1 ms}}
  target: {duration: 50 ms, wald: {mean: 2 ms, shape: 1 ms}}
  settle: 30 ms
  stimulus: {input: images, images: $data/train-images-idx3-ubyte,
             labels: $data/train-labels-idx1-ubyte, max_rate: 200 Hz, shuffle: true}
  learning: [{projection: W0, eta: $2}, {projection: W1, eta: $3}]
  $4
  test: {examples: 300, duration: 100 ms, window: 70 ms,
         images: $data/t10k-images-idx3-ubyte, labels: $data/t10k-labels-idx1-ubyte}
YAML
}
net learn 0.21 0.21 ""
net hidden 0.21 0 "feedback: {projection: Y, symmetric_to: W1}"
net frozen 0 0 ""
# two at a time: the machine's two cores
"$APICAL" run "$tmp/learn.yaml" -o "$tmp/learn.h5" --quiet 2>"$tmp/learn.err" &
a=$!
"$APICAL" run "$tmp/hidden.yaml" -o "$tmp/hidden.h5" --quiet 2>"$tmp/hidden.err" ||
    fail "run hidden: $(cat "$tmp/hidden.err")"
wait $a || fail "run learn: $(cat "$tmp/learn.err")"
"$APICAL" run "$tmp/frozen.yaml" -o "$tmp/frozen.h5" --quiet 2>"$tmp/frozen.err" ||
    fail "run frozen: $(cat "$tmp/frozen.err")"
"$PYTHON" - "$tmp" <<'PY' || fail "test errors (above)"
import sys
import h5py
d = sys.argv[1]
err = {}
for v in ('learn', 'hidden', 'frozen'):
    with h5py.File('%s/%s.h5' % (d, v), 'r') as f:
        e, n = f['learning_curve/test_error'][-1], f['learning_curve/tests'][-1]
    assert n == 300, (v, n)
    err[v] = e
print('test error: ' + ', '.join('%s %.1f %%' % (k, 100 * e) for k, e in err.items()))
ok = err['learn'] < 0.70 and err['hidden'] < 0.70 and err['frozen'] > 0.80
sys.exit(0 if ok else 1)
PY
exit 0
