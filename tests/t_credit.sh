#!/bin/sh
# Issue 16, FA vs DFA vs symmetric feedback: the three shipped variants of
# the 784-500-100-10 network (networks/mnist_segregated_deep{,_fa,_symmetric}
# .yaml) load and run 20 training examples with the backprop angle of every
# hidden layer sampled at each; then, per hidden layer, symmetric feedback's
# mean angle must be at least 10 degrees below both FA's and DFA's, and
# FA's/DFA's bottom layer within 90 +- 10.
# Why this must hold: fixed random feedback is uncorrelated with W^T at the
# start, so the plateau rule's error is orthogonal to backprop's in
# expectation (90 degrees; alignment takes thousands of examples, Lillicrap
# et al. 2016); symmetric feedback propagates the output error through W^T
# (apart from spiking noise and the plateau's sigma'), so it points along
# backprop's (measured here: 59-63 deg bottom, ~40 deg top over 20-200
# examples). Margins: the sample SD of one angle is ~5 deg (bottom) and
# ~20 deg (top) for random feedback, so the mean of 20 has SE ~1 and ~4.5
# deg: 10 deg is >= 2 SE of the difference where the gap is smallest
# (bottom, ~27 deg apart), and the 90 +- 10 band is ~10 SE wide.
# Needs data/mnist (skips with a note otherwise). Run from the repository
# root (exit 0 = pass).
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -f data/mnist/train-images-idx3-ubyte ] || { echo "skip: no data/mnist"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_credit.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
data=$(cd data/mnist && pwd)
for v in dfa: fa:_fa symmetric:_symmetric; do
    tag=${v%%:*}
    sed -e "s|\.\./data/mnist|$data|g" -e 's|^  angle: {every: 10}$|  angle: {every: 1}|' \
        -e 's|^    examples: 10$|    examples: 2|' \
        "networks/mnist_segregated_deep${v#*:}.yaml" > "$tmp/$tag.yaml"
    "$APICAL" run "$tmp/$tag.yaml" -o "$tmp/$tag.h5" --quiet || fail "apical run $tag"
done
"$PYTHON" - "$tmp" <<'PY' || fail "angles"
import sys
import h5py
d = sys.argv[1]
mean = {}
for tag in ('dfa', 'fa', 'symmetric'):
    g = h5py.File('%s/%s.h5' % (d, tag))['backprop_angle']
    lay, ang = g['layer'][:], g['angle'][:]
    for l in (0, 1):
        a = ang[lay == l]
        assert len(a) >= 15, '%s layer %d: %d angles' % (tag, l, len(a))
        mean[tag, l] = a.mean()
print(' '.join('%s/%d %.1f' % (k[0], k[1], v) for k, v in sorted(mean.items())))
for l in (0, 1):
    for other in ('fa', 'dfa'):
        assert mean['symmetric', l] < mean[other, l] - 10, \
            'layer %d: symmetric %.1f not below %s %.1f - 10' % (l, mean['symmetric', l], other,
                                                                 mean[other, l])
    for other in ('fa', 'dfa'):
        if l == 0:
            assert abs(mean[other, 0] - 90) < 10, '%s bottom layer %.1f' % (other, mean[other, 0])
PY
