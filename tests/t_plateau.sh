#!/bin/sh
# The plateau hypothesis through the command line: networks/plateau_ltp_ltd.yaml
# runs, its HDF5 output holds the per-example plateaus and the weights report,
# and analysis/plateau_ltp_ltd.py finds LTP for alpha_t > alpha_f, LTD for
# alpha_t < alpha_f, a monotonic relation and unchanged silent synapses.
# Then the protocol section's bad inputs: one file:line:col message, exit 2.
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$APICAL" run networks/plateau_ltp_ltd.yaml -o "$tmp/p.h5" --quiet || fail "run"
"$PYTHON" analysis/plateau_ltp_ltd.py "$tmp/p.h5" -o "$tmp/p.png" > "$tmp/out" \
    || fail "hypothesis: $(cat "$tmp/out")"
grep -q '^PASS' "$tmp/out" || fail "no PASS line: $(cat "$tmp/out")"
[ -s "$tmp/p.png" ] || fail "no figure"
"$PYTHON" - "$tmp/p.h5" <<'PY' || fail "layout"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
g = f["plateaus/hidden"]
assert g["alpha_f"].shape == (20, 19) and g["alpha_t"].shape == (20, 19), g["alpha_f"].shape
assert abs(g["time"][0] - 100.0) < 1e-9 and abs(g["time"][-1] - 2000.0) < 1e-9, g["time"][:]
assert "basal" in f["edges"], list(f["edges"])
PY

head='simulation: {duration: 200 ms}
populations:
  inputs: {size: 2, model: parrot}
  hidden: {size: 3, model: dendritic_hidden}
  lif: {size: 3, model: lif_cond_exp}
projections:
  - {name: basal, source: inputs, target: hidden, connectivity: all_to_all, receptor: basal, weight: 0.5, delay: 1 ms}
  - {name: apical, source: inputs, target: hidden, connectivity: all_to_all, receptor: apical, weight: 0.5, delay: 1 ms}
'
bad() { # PATTERN, protocol text
    printf '%s%s' "$head" "$2" > "$tmp/bad.yaml"
    "$APICAL" check "$tmp/bad.yaml" > /dev/null 2> "$tmp/err"; rc=$?
    [ $rc -eq 2 ] || fail "exit $rc for: $2"
    grep -Eq "^$tmp/bad.yaml:[0-9]+:[0-9]+: error: .*($1)" "$tmp/err" \
        || fail "message for '$1': $(cat "$tmp/err")"
}
bad "unknown key 'epoch'" 'protocol: {hidden: hidden, epoch: 3, forward: {duration: 50 ms}, target: {duration: 50 ms}}'
bad "give a 'stimulus'" 'protocol: {hidden: hidden, epochs: 3, forward: {duration: 50 ms}, target: {duration: 50 ms}}'
bad 'must use model dendritic_hidden' 'protocol: {hidden: lif, forward: {duration: 50 ms}, target: {duration: 50 ms}}'
bad "missing the required key 'target'" 'protocol: {hidden: hidden, forward: {duration: 50 ms}}'
bad 'settle' 'protocol: {hidden: hidden, settle: 60 ms, forward: {duration: 50 ms}, target: {duration: 50 ms}}'
bad "receptor 'basal'" 'protocol: {hidden: hidden, forward: {duration: 50 ms}, target: {duration: 50 ms}, learning: [{projection: apical, eta: 0.1}]}'
bad 'one value per hidden neuron' 'protocol: {hidden: hidden, forward: {duration: 50 ms}, target: {duration: 50 ms}, plateau: {target: [0.2, 0.3]}}'
bad 'in \(0, 1\)|must be' 'protocol: {hidden: hidden, forward: {duration: 50 ms}, target: {duration: 50 ms}, plateau: {target: 1.5}}'
bad "not defined" 'protocol: {hidden: hidden, forward: {duration: 50 ms}, target: {duration: 50 ms}, learning: [{projection: nope, eta: 0.1}]}'
# the registry answers an unknown type, with the valid ones, at the type
bad "unknown protocol type 'nope'; valid types: segregated_dendrites" 'protocol: {type: nope, hidden: hidden, forward: {duration: 50 ms}, target: {duration: 50 ms}}'

# A missing or corrupt stimulus file: one message at the YAML node, exit 2.
sed 's#../data/mnist/train-images-idx3-ubyte#../data/nope/images#' networks/mnist_segregated.yaml \
    > networks/.t_plateau_$$.yaml
"$APICAL" check networks/.t_plateau_$$.yaml > /dev/null 2> "$tmp/err"; rc=$?
rm -f networks/.t_plateau_$$.yaml
[ $rc -eq 2 ] || fail "missing images: exit $rc"
grep -Eq '^networks/.t_plateau_[0-9]+.yaml:[0-9]+:[0-9]+: error: .*data/nope/images: cannot open' "$tmp/err" \
    || fail "missing images: $(cat "$tmp/err")"
printf 'not an idx file' > "$tmp/bad-labels"
sed "s#../data/mnist/train-labels-idx1-ubyte#$tmp/bad-labels#; s#../data/mnist/train-images-idx3-ubyte#$tmp/bad-labels#" \
    networks/mnist_segregated.yaml > "$tmp/m.yaml"
"$APICAL" check "$tmp/m.yaml" > /dev/null 2> "$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "corrupt images: exit $rc"
grep -Eq "error: .*bad-labels: (truncated|not an IDX)" "$tmp/err" || fail "corrupt: $(cat "$tmp/err")"
echo ok
