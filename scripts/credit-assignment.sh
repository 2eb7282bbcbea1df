#!/bin/sh
# Issue 16: feedback alignment (FA), direct feedback alignment (DFA) and
# symmetric feedback on the same 784-500-100-10 spiking network
# (networks/mnist_segregated_deep{,_fa,_symmetric}.yaml: same seed, same
# initial W0..W2, same shuffled images; only the apical feedback differs).
# Each variant trains EPOCHS epochs of 60 000 examples, or EXAMPLES examples
# when set (a fraction of an epoch, for a loaded machine), with a test pass
# on TEST test images every TEST_EVERY examples (default: every epoch) and
# the backprop angle per hidden layer every ANGLE_EVERY examples. Writes
# results/credit_{dfa,fa,symmetric}.h5 and results/credit_assignment.png
# (analysis/credit_assignment.py).
# Usage: [EPOCHS=N | EXAMPLES=K] [TEST=M] [TEST_EVERY=K] [ANGLE_EVERY=K]
#        APICAL=build/apical PYTHON=... scripts/credit-assignment.sh
set -eu
EPOCHS=${EPOCHS:-1}
EXAMPLES=${EXAMPLES:-}
TEST=${TEST:-10000}
TEST_EVERY=${TEST_EVERY:-epoch}
ANGLE_EVERY=${ANGLE_EVERY:-100}
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
mkdir -p results
data=$(cd data/mnist && pwd)
if [ -n "$EXAMPLES" ]; then length="examples: $EXAMPLES"; else length="epochs: $EPOCHS"; fi
for v in dfa: fa:_fa symmetric:_symmetric; do
    tag=${v%%:*}; src=networks/mnist_segregated_deep${v#*:}.yaml
    out=results/credit_$tag
    # the shipped file with: the run's length, a test pass on TEST images
    # every TEST_EVERY examples, angles every ANGLE_EVERY, no recorders
    sed -e "s|\.\./data/mnist|$data|g" \
        -e 's|^  examples: 20$|  '"$length"'|' \
        -e 's|^    examples: 10$|    examples: '"$TEST"'\n    every: '"$TEST_EVERY"'|' \
        -e 's|^  angle: {every: 10}$|  angle: {every: '"$ANGLE_EVERY"'}|' \
        -e '/^recorders:/,$d' "$src" > "$out.yaml"
    echo "== $tag ($out.yaml)"
    "$APICAL" run "$out.yaml" -o "$out.h5" --quiet
done
"$PYTHON" analysis/credit_assignment.py results/credit_dfa.h5 results/credit_fa.h5 \
    results/credit_symmetric.h5 --labels DFA,FA,symmetric -o results/credit_assignment.png
echo "results/credit_assignment.png"
