#!/bin/sh
# Plasticity from the command line: weight reports and final edges in the
# output file (checked by the independent reader tests/h5_readback.py and
# h5dump), a second run that loads the saved edges with the from_file rule
# (weights equal bit for bit), bad edge files (file:line:col, the HDF5 path,
# exit code 2, no output left), a 5 s smoke run of the Song et al. network
# read by analysis/weights.py, and the STDP windows of
# analysis/stdp_window.py against their references (1%).
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_stdp.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

mkdir -p "$tmp/a" "$tmp/b"
cat > "$tmp/a/learn.yaml" <<'YAML'
name: learn
simulation: {duration: 3000 ms, seed: 11, partitions: 2}
populations:
  pre: {size: 80, model: parrot}
  post: {size: 6, model: lif_cond_exp, parameters: {E_L: -70 mV, V_th: -54 mV}}
projections:
  - {source: pre, target: post, connectivity: {rule: bernoulli, p: 0.6}, receptor: exc,
     weight: {uniform: {low: 0 nS, high: 3 nS}}, delay: {uniform: {low: 0.5 ms, high: 2 ms}},
     plasticity: {rule: stdp, lambda: 0.02, alpha: 1.05, mu_plus: 0, mu_minus: 0, W_max: 3 nS}}
  - {name: fixed, source: pre, target: post, connectivity: {rule: fixed_indegree, k: 5},
     receptor: inh, weight: 1 nS, delay: 1 ms}
inputs: [{type: poisson, target: pre, rate: 25 Hz, receptor: relay, weight: 1}]
recorders:
  - {type: spikes, population: post}
  - {type: weights, projection: pre->post, interval: 250 ms}
  - {type: weights, projection: pre->post, interval: 100 ms, sample: 20}
YAML
"$APICAL" run "$tmp/a/learn.yaml" -o "$tmp/a/plastic_only.h5" --quiet || fail "run"
"$APICAL" run "$tmp/a/learn.yaml" -o "$tmp/a/learn.h5" --quiet --save-edges || fail "run --save-edges"
"$PYTHON" tests/h5_readback.py "$tmp/a/learn.h5" --expect-pop post >/dev/null \
    || fail "h5_readback: $("$PYTHON" tests/h5_readback.py "$tmp/a/learn.h5" 2>&1)"
h5dump -H "$tmp/a/learn.h5" >/dev/null || fail "h5dump"
h5dump -d '/edges/pre->post/0/syn_weight' "$tmp/a/learn.h5" >/dev/null || fail "h5dump edges"
"$PYTHON" - "$tmp/a/learn.h5" "$tmp/a/plastic_only.h5" <<'PY' || fail "content of weight reports and edges"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
g = f["report/pre->post"]
assert g.attrs["type"] == "weights" and g.attrs["projection"] == "pre->post", dict(g.attrs)
d = g["data"]
assert d.shape[0] == 12 and d.attrs["units"] == "nS", (d.shape, dict(d.attrs))
assert list(g["mapping/time"][()]) == [0.0, 3000.0, 250.0]
s = f["report/pre->post_2"]
assert s["data"].shape == (30, 20), s["data"].shape
e = f["edges/pre->post"]
n = e["source_node_id"].shape[0]
assert d.shape[1] == n
src, tgt, w = e["source_node_id"][()], e["target_node_id"][()], e["0/syn_weight"][()]
assert e["source_node_id"].attrs["node_population"] == "pre"
assert e["target_node_id"].attrs["node_population"] == "post"
assert np.all((w >= 0) & (w <= 3.0))
# every reported column is a synapse of the projection
pairs = set(zip(src.tolist(), tgt.tolist()))
for m in (g["mapping"], s["mapping"]):
    cols = set(zip(m["source_node_ids"][()].tolist(), m["target_node_ids"][()].tolist()))
    assert cols <= pairs
# weights changed during the run; the first frame holds the initial weights
first, last = d[0], d[-1]
assert np.mean(first != last) > 0.5, np.mean(first != last)
assert np.all(first <= 3.0) and np.all(first >= 0)
assert "fixed" in f["edges"] and f["edges/fixed"].attrs["plasticity"] == "static"
assert f["provenance/plasticity/pre->post/W_max"][()] == 3.0
# without --save-edges only the plastic projection is written
g2 = h5py.File(sys.argv[2], "r")["edges"]
assert list(g2) == ["pre->post"], list(g2)
PY

# Load the saved edges in another directory (path relative to the network
# file), static, one partition; save them again: identical bit for bit.
cat > "$tmp/b/load.yaml" <<'YAML'
simulation: {duration: 1 ms}
populations:
  pre: {size: 80, model: parrot}
  post: {size: 6, model: lif_cond_exp}
projections:
  - {source: pre, target: post, receptor: exc, connectivity: {rule: from_file, path: ../a/learn.h5, edges: pre->post}}
  - {name: fixed, source: pre, target: post, receptor: inh, connectivity: {rule: from_file, path: ../a/learn.h5}}
YAML
"$APICAL" check "$tmp/b/load.yaml" >/dev/null || fail "check from_file"
"$APICAL" run "$tmp/b/load.yaml" -o "$tmp/b/again.h5" --quiet --save-edges || fail "run from_file"
"$PYTHON" - "$tmp/a/learn.h5" "$tmp/b/again.h5" <<'PY' || fail "loaded edges differ from saved ones"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r")["edges"] for p in sys.argv[1:])
for proj in ("pre->post", "fixed"):
    def rows(g):
        cols = [g["source_node_id"][()], g["target_node_id"][()],
                g["0/syn_weight"][()].view(np.uint64), g["0/delay"][()].view(np.uint64)]
        r = np.stack(cols, axis=1)
        return r[np.lexsort(r.T[::-1])]
    ra, rb = rows(a[proj]), rows(b[proj])
    assert ra.shape == rb.shape and np.array_equal(ra, rb), proj
PY

# Bad edge files: one positioned error naming the HDF5 path, exit 2, no output.
expect_bad() { # PATTERN, network text
    printf '%s' "$2" > "$tmp/b/bad.yaml"
    "$APICAL" run "$tmp/b/bad.yaml" -o "$tmp/b/bad.h5" >"$tmp/out" 2>"$tmp/err"; rc=$?
    [ $rc -eq 2 ] || fail "exit $rc for: $(cat "$tmp/err")"
    grep -Eq "^$tmp/b/bad.yaml:[0-9]+:[0-9]+: error: .*($1)" "$tmp/err" || fail "message: $(cat "$tmp/err")"
    [ ! -e "$tmp/b/bad.h5" ] && [ ! -e "$tmp/b/bad.h5.part" ] || fail "output left behind"
}
hdr='simulation: {duration: 1 ms}
populations: {pre: {size: 80, model: parrot}, post: {size: 6, model: lif_cond_exp}}
projections:
'
expect_bad 'missing.h5.*No such file' "$hdr  - {source: pre, target: post, receptor: exc, connectivity: {rule: from_file, path: missing.h5}}"
expect_bad 'no edge population /edges/nope.*pre->post' "$hdr  - {source: pre, target: post, receptor: exc, connectivity: {rule: from_file, path: ../a/learn.h5, edges: nope}}"
expect_bad '/edges/pre->post connects populations of 80 and 6' "simulation: {duration: 1 ms}
populations: {pre: {size: 81, model: parrot}, post: {size: 6, model: lif_cond_exp}}
projections:
  - {source: pre, target: post, receptor: exc, connectivity: {rule: from_file, path: ../a/learn.h5}}"
head -c 3000 "$tmp/a/learn.h5" > "$tmp/b/truncated.h5"
expect_bad 'truncated.h5: not a readable HDF5' "$hdr  - {source: pre, target: post, receptor: exc, connectivity: {rule: from_file, path: truncated.h5}}"
"$PYTHON" - "$tmp/b/short.h5" <<'PY' || fail "could not write short.h5"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    g = f.create_group("edges/e")
    g["source_node_id"] = np.arange(4, dtype=np.uint64)
    g["target_node_id"] = np.zeros(3, dtype=np.uint64)
    g["0/syn_weight"] = np.ones(4)
    g["0/delay"] = np.ones(4)
PY
expect_bad '/edges/e/target_node_id has 3 values, expected 4' "$hdr  - {source: pre, target: post, receptor: exc, connectivity: {rule: from_file, path: short.h5, edges: e}}"

# Song et al. 2000, 5 s smoke run, read by analysis/weights.py.
"$APICAL" run networks/song2000_stdp.yaml --duration 5s -o "$tmp/song.h5" --quiet || fail "song run"
"$PYTHON" analysis/weights.py "$tmp/song.h5" --json > "$tmp/song.json" || fail "weights.py"
"$PYTHON" - "$tmp/song.json" <<'PY' || fail "weights.py numbers: $(cat "$tmp/song.json")"
import sys, json
r = json.load(open(sys.argv[1]))
assert r["n_synapses"] == 1000 and r["n_frames"] == 1 and abs(r["wmax"] - 0.15) < 1e-12, r
assert 0 <= r["bimodal"] <= 1 and r["rate_end"] is not None and r["rate_end"] > 10, r
PY
"$PYTHON" analysis/weights.py "$tmp/song.h5" -o "$tmp/song.png" >/dev/null && [ -s "$tmp/song.png" ] \
    || fail "weights.py figure"

# The pair window and the triplet frequency dependence through the CLI.
"$PYTHON" analysis/stdp_window.py --apical "$APICAL" --check --outdir "$tmp/fig" >"$tmp/win" \
    || fail "stdp_window.py: $(cat "$tmp/win")"
[ -s "$tmp/fig/stdp_window.png" ] && [ -s "$tmp/fig/triplet_frequency.png" ] || fail "window figures"
echo ok
