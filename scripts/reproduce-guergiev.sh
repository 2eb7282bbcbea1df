#!/bin/sh
# Train the paper's two MNIST networks (784-500-10, networks/
# mnist_segregated.yaml, and 784-500-100-10, networks/
# mnist_segregated_deep.yaml) for EPOCHS epochs of 60 000 shuffled examples,
# with a test pass on all 10 000 test images after every epoch and a
# checkpoint at every epoch end; then draw the learning curves against the
# paper's values (4.1 % and 3.2 % after 60 epochs). Writes results/
# guergiev_{1,2}hidden.h5, their checkpoints and results/guergiev_curve.png.
# A stopped run continues from its checkpoint: RESUME=1 (bit for bit as if
# it had not stopped); each continuation writes its own file,
# results/guergiev_<net>.rN.h5, and the curves join the parts.
# Usage: EPOCHS=N [RESUME=1] APICAL=build/apical PYTHON=... scripts/reproduce-guergiev.sh
set -eu
EPOCHS=${EPOCHS:-1}
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
RESUME=${RESUME:-0}
mkdir -p results
data=$(cd data/mnist && pwd)
for net in 1hidden:mnist_segregated 2hidden:mnist_segregated_deep; do
    tag=${net%%:*}; src=networks/${net#*:}.yaml
    out=results/guergiev_$tag
    # the shipped file with: epochs instead of examples, shuffling, a test
    # pass per epoch on the whole test set, checkpoints, angles every 100
    sed -e "s|\.\./data/mnist|$data|g" \
        -e 's|^  examples: 20$|  epochs: '"$EPOCHS"'|' \
        -e 's|^    examples: 10$|    examples: 10000\n    every: epoch|' \
        -e 's|^    max_rate: 200 Hz$|    max_rate: 200 Hz\n    shuffle: true|' \
        -e 's|^  angle: {every: 10}$||' \
        -e 's|^  settle: 30 ms$|  settle: 30 ms\n  angle: {every: 100}\n  checkpoint: '"$(pwd)/$out"'.ckpt.h5|' \
        -e '/^recorders:/,$d' "$src" |
        awk '!(/shuffle: true/ && seen++)' > "$out.yaml"
    dest=$out.h5
    if [ "$RESUME" = 1 ] && [ -f "$out.ckpt.h5" ]; then
        echo "  resume: $(pwd)/$out.ckpt.h5" >> "$out.yaml"
        k=1
        while [ -e "$out.r$k.h5" ] || [ -e "$out.r$k.h5.part" ]; do k=$((k + 1)); done
        dest=$out.r$k.h5
    else
        rm -f "$out".r*.h5 "$out".r*.h5.part # a fresh start: no old continuations
    fi
    echo "== $tag: $EPOCHS epochs ($out.yaml -> $dest)"
    "$APICAL" run "$out.yaml" -o "$dest"
done
# a run and its continuations as one curve (PART1+PART2+...); a stopped
# part is an .h5.part file, read up to its last test pass
parts() {
    p=$1.h5 k=1
    while [ -e "$1.r$k.h5" ] || [ -e "$1.r$k.h5.part" ]; do p=$p+$1.r$k.h5; k=$((k + 1)); done
    echo "$p"
}
"$PYTHON" analysis/learning_curve.py --allow-incomplete "$(parts results/guergiev_1hidden)" \
    "$(parts results/guergiev_2hidden)" --labels "784-500-10,784-500-100-10" \
    -o results/guergiev_curve.png
"$PYTHON" analysis/backprop_angle.py --allow-incomplete results/guergiev_2hidden.h5 \
    -o results/guergiev_angle.png
echo "results/guergiev_curve.png, results/guergiev_angle.png"
