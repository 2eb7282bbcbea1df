#!/bin/sh
# Memcheck on small real runs (leaks included): the COBA network on the sweep
# path with two threads, and, when MNIST is here, two training and two test
# presentations of the segregated-dendrite network (exact path, protocol,
# IDX reader). Any error or leak fails. Usage: scripts/check-valgrind.sh APICAL
set -u
apical=${1:-build/apical}
command -v valgrind >/dev/null 2>&1 || { echo "check-valgrind: valgrind not installed" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
vg() {  # name, then the apical arguments
    name=$1; shift
    if valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
         --error-exitcode=9 "$apical" "$@" --quiet > "$tmp/$name.log" 2>&1; then
        echo "PASS valgrind $name"
    else
        echo "FAIL valgrind $name"; sed 's/^/    /' "$tmp/$name.log" | tail -40; fail=1
    fi
}
fail=0
vg coba run networks/brette2007_coba.yaml -o "$tmp/coba.h5" --duration 20
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    sed 's/^  examples: [0-9]*$/  examples: 2/; s/^    examples: [0-9]*$/    examples: 2/' \
        networks/mnist_segregated.yaml > networks/.valgrind_mnist.yaml
    vg mnist run networks/.valgrind_mnist.yaml -o "$tmp/mnist.h5"
    rm -f networks/.valgrind_mnist.yaml
else
    echo "note: MNIST not fetched (make mnist): the protocol run is skipped"
fi
exit $fail
