#!/bin/sh
# Issue 16, node perturbation (models/node_perturbation.c):
# 1. the variance of its gradient estimate against the true gradient for
#    N = 10 ... 1000 perturbed units (tests/check_node_perturbation.c,
#    test_np_variance_scaling, run verbose) -> results/np_variance.png;
# 2. its learning curve on MNIST against the plateau rule's at equal
#    examples: networks/mnist_node_perturbation.yaml and
#    networks/mnist_segregated.yaml (same seed, initial weights, images in
#    file order, test images), EXAMPLES training examples each with a test
#    pass on TEST test images every TEST_EVERY examples ->
#    results/np_{perturbation,plateau}.h5, results/np_curve.png.
# Usage: [EXAMPLES=K] [TEST=M] [TEST_EVERY=K] APICAL=build/apical
#        CHECK=build/check_apical PYTHON=... scripts/node-perturbation.sh
set -eu
EXAMPLES=${EXAMPLES:-5000}
TEST=${TEST:-1000}
TEST_EVERY=${TEST_EVERY:-1000}
APICAL=${APICAL:-build/apical}
CHECK=${CHECK:-build/check_apical}
PYTHON=${PYTHON:-/usr/bin/python3}
mkdir -p results
APICAL_TEST_VERBOSE=1 CK_RUN_SUITE=node_perturbation CK_FORK=no "$CHECK" |
    grep '^node perturbation' > results/np_variance.txt
"$PYTHON" analysis/np_variance.py results/np_variance.txt -o results/np_variance.png
data=$(cd data/mnist && pwd)
for v in perturbation:mnist_node_perturbation plateau:mnist_segregated; do
    tag=${v%%:*}; out=results/np_$tag
    # the shipped file with: EXAMPLES examples, a test pass on TEST images
    # every TEST_EVERY examples, no recorders
    sed -e "s|\.\./data/mnist|$data|g" \
        -e 's|^  examples: 20$|  examples: '"$EXAMPLES"'|' \
        -e 's|^    examples: 10$|    examples: '"$TEST"'\n    every: '"$TEST_EVERY"'|' \
        -e '/^recorders:/,$d' "networks/${v#*:}.yaml" > "$out.yaml"
    echo "== $tag ($out.yaml)"
    "$APICAL" run "$out.yaml" -o "$out.h5" --quiet
done
"$PYTHON" analysis/learning_curve.py results/np_perturbation.h5 results/np_plateau.h5 \
    --labels "node perturbation,plateau rule (segregated dendrites)" -o results/np_curve.png
echo "results/np_variance.png, results/np_curve.png"
