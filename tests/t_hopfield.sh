#!/bin/sh
# A Hopfield memory (issue 15): networks/hopfield_capacity.yaml at N = 1000.
# 1. alpha = 0.15 (many flips), 60 s, with the weights saved: the energy
#    -1/2 sum w_ij s_i s_j, recomputed from the weights after every flip,
#    never rises; the fields the units hold (recorded h) equal W s.
# 2. The same run on 3 partitions and 2 threads: the same spikes. Delays
#    drawn per synapse (the heap instead of the delivery FIFOs): retrieval,
#    energy never rising.
# 3. Capacity: final overlap ~1 (> 0.95) at alpha = 0.05 and 0.08, < 0.5 at
#    alpha = 0.2 and 0.25 (seed 1; analysis/hopfield.py sweep).
# 4. Patterns and cue from a file (hebbian: {path}, from_file): the weights
#    are sum_k xi_i^k xi_j^k / N to the last bit, and the cue is retrieved.
# 5. Bad input: one file:line:col message, exit code 2.
# 6. T > 0: retrieval at T = 0.2 (overlap > 0.95), none at T = 5 (< 0.2).
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_hopfield.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
net=networks/hopfield_capacity.yaml

# 1. energy at every flip, fields
"$APICAL" run $net -o "$tmp/e.h5" --quiet --save-edges \
    --set 'projections[0].weight={hebbian: {patterns: 150}}' \
    --set 'recorders[1].variables=[s, xi, h]' || fail "run"
"$PYTHON" analysis/hopfield.py check "$tmp/e.h5" --energy --fields || fail "energy or fields"

# 2. partitions and threads change nothing
"$APICAL" run $net -o "$tmp/p.h5" --quiet --set 'projections[0].weight={hebbian: {patterns: 150}}' \
    --set simulation.partitions=3 --set simulation.threads=2 --set simulation.duration=20s \
    || fail "run, 3 partitions"
"$PYTHON" - "$tmp/e.h5" "$tmp/p.h5" <<'PY' || fail "3 partitions differ"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["spikes/memory"] for p in sys.argv[1:])
ta, tb = a["timestamps"][()], b["timestamps"][()]
n = len(tb)
assert n > 1000 and ta[n - 1] <= 20000.0 and (n == len(ta) or ta[n] > 20000.0), (n, len(ta))
assert np.array_equal(ta[:n], tb) and np.array_equal(a["node_ids"][:n], b["node_ids"][()])
PY

# delays drawn per synapse: deliveries go through the heap, which carries the
# multiplicity in its own field
"$APICAL" run $net -o "$tmp/heap.h5" --quiet --save-edges --set simulation.duration=10s \
    --set 'projections[0].delay={uniform: {low: 0.02 ms, high: 0.05 ms}}' \
    --set 'projections[0].weight={hebbian: {patterns: 80}}' || fail "run, drawn delays"
"$PYTHON" analysis/hopfield.py check "$tmp/heap.h5" --energy --min-overlap 0.999 >/dev/null \
    || fail "drawn delays: $("$PYTHON" analysis/hopfield.py check "$tmp/heap.h5" --energy)"
rm -f "$tmp/heap.h5"

# 3. capacity at N = 1000
# (below capacity the cue is cleaned up in 2-3 updates per unit: 20 s)
APICAL="$APICAL" "$PYTHON" analysis/hopfield.py sweep --alphas 0.05 0.08 --seeds 1 --duration 20s \
    --workdir "$tmp/sweep" --below 0.1 --high 0.95 || fail "capacity, below"
APICAL="$APICAL" "$PYTHON" analysis/hopfield.py sweep --alphas 0.2 0.25 --seeds 1 \
    --workdir "$tmp/sweep" --above 0.18 --low 0.5 || fail "capacity, above"

# 4. patterns and cue from a file
"$PYTHON" - "$tmp" <<'PY' || fail "pattern file"
import sys, h5py, numpy as np
rng = np.random.default_rng(7)
xi = rng.choice([-1, 1], size=(30, 1000)).astype(np.int8)
cue = xi[2] * np.where(rng.random(1000) < 0.1, -1, 1)
with h5py.File(sys.argv[1] + "/pat.h5", "w") as f:
    f["patterns"] = xi
    f["cue"] = cue.astype(float)
    f["xi"] = xi[2].astype(float)
PY
"$APICAL" run $net -o "$tmp/f.h5" --quiet --save-edges --set simulation.duration=10s \
    --set "projections[0].weight={hebbian: {path: $tmp/pat.h5}}" \
    --set "populations.memory.initial={s: {from_file: {path: $tmp/pat.h5, dataset: cue}}, xi: {from_file: {path: $tmp/pat.h5, dataset: xi}}}" \
    || fail "run with a pattern file"
"$PYTHON" analysis/hopfield.py check "$tmp/f.h5" --energy --min-overlap 0.999 || fail "file patterns"
"$PYTHON" - "$tmp" <<'PY' || fail "hebbian weights"
import sys, h5py, numpy as np
xi = h5py.File(sys.argv[1] + "/pat.h5", "r")["patterns"][()].astype(float)
e = h5py.File(sys.argv[1] + "/f.h5", "r")["edges/recurrent"]
src, tgt, w = e["source_node_id"][()], e["target_node_id"][()], e["0/syn_weight"][()]
assert len(w) == 1000 * 999 and not np.any(src == tgt), "all to all without autapses"
want = np.einsum("ki,ki->i", xi[:, src], xi[:, tgt]) / 1000.0
assert np.array_equal(w, want), np.abs(w - want).max()
PY

# 6. temperature (Glauber): alpha = 0.05, retrieval at T = 0.2, none above T_c = 1
for spec in "0.2 --min-overlap 0.95" "5 --max-overlap 0.2"; do
    set -- $spec
    "$APICAL" run $net -o "$tmp/T.h5" --quiet --set "populations.memory.parameters.T=$1" \
        --set 'projections[0].weight={hebbian: {patterns: 50}}' --set simulation.duration=20s \
        || fail "run at T = $1"
    shift
    "$PYTHON" analysis/hopfield.py check "$tmp/T.h5" "$@" >/dev/null || fail "overlap at T: $*"
    rm -f "$tmp/T.h5"
done

# 5. errors
cat > "$tmp/bad1.yaml" <<'YAML'
simulation: {duration: 1 s}
populations:
  a: {size: 10, model: hopfield}
  b: {size: 20, model: hopfield}
projections:
  - {source: a, target: b, connectivity: all_to_all, receptor: field,
     weight: {hebbian: {patterns: 3}}, delay: 1 ms}
YAML
"$APICAL" check "$tmp/bad1.yaml" >"$tmp/out" 2>&1
[ $? -eq 2 ] || fail "size mismatch: exit code"
grep -q "bad1.yaml:7:[0-9]*: error: hebbian weights connect a population to one of the same size" \
    "$tmp/out" || fail "size mismatch: $(cat "$tmp/out")"
cat > "$tmp/bad2.yaml" <<'YAML'
simulation: {duration: 1 s}
populations:
  a:
    size: 10
    model: hopfield
    initial: {s: {pattern: {projection: nothing, index: 0}}}
projections:
  - {name: rec, source: a, target: a, connectivity: all_to_all, receptor: field,
     weight: {hebbian: {patterns: 3}}, delay: 1 ms}
YAML
"$APICAL" check "$tmp/bad2.yaml" >"$tmp/out" 2>&1
[ $? -eq 2 ] || fail "unknown cue projection: exit code"
grep -q "bad2.yaml:6:[0-9]*: error: the cue of population 'a' names no projection" "$tmp/out" \
    || fail "unknown cue projection: $(cat "$tmp/out")"
sed 's/projection: nothing, index: 0/projection: rec, index: 3/' "$tmp/bad2.yaml" > "$tmp/bad3.yaml"
"$APICAL" check "$tmp/bad3.yaml" >"$tmp/out" 2>&1
[ $? -eq 2 ] || fail "pattern index: exit code"
grep -q "uses pattern 3, but projection 'rec' stores 3 (0 to 2)" "$tmp/out" \
    || fail "pattern index: $(cat "$tmp/out")"
"$APICAL" check $net --set "projections[0].weight={hebbian: {path: $tmp/pat.h5}}" \
    --set populations.memory.size=500 >"$tmp/out" 2>&1
[ $? -eq 2 ] || fail "patterns of the wrong size: exit code"
grep -q "^apical: error: --set 'projections\[0\].weight=.*pat.h5: dataset 'patterns' holds 30 patterns of 1000 units; population 'memory' has 500 neurons" \
    "$tmp/out" || fail "patterns of the wrong size: $(cat "$tmp/out")"
[ "$(grep -c error "$tmp/out")" -eq 1 ] || fail "one error, not a cascade: $(cat "$tmp/out")"
exit 0
