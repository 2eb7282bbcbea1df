#!/bin/sh
# The command line as a user meets it: help, models, check, a real run read
# back by independent readers (h5py, h5dump), and every kind of bad input:
# one message with file:line:col, exit code 2, and no output that looks
# complete.
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect_bad CODE PATTERN -- apical args...: exit CODE, stderr matches PATTERN
expect_bad() {
    code=$1; pat=$2; shift 3
    "$APICAL" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    [ $rc -eq "$code" ] || fail "apical $*: exit $rc, expected $code; stderr: $(cat "$tmp/err")"
    grep -Eq "$pat" "$tmp/err" || fail "apical $*: stderr does not match '$pat': $(cat "$tmp/err")"
    [ "$(grep -c 'error' "$tmp/err")" -le 2 ] || fail "apical $*: more than one error: $(cat "$tmp/err")"
}

"$APICAL" --help | grep -q 'usage: apical' || fail "--help"
"$APICAL" run --help | grep -q -- '--duration' || fail "run --help"
"$APICAL" check --help >/dev/null || fail "check --help"
"$APICAL" models | grep -q 'lif_cond_exp' || fail "models"
"$APICAL" models lif_curr_exp | grep -q 'tau_exc' || fail "models NAME"
"$APICAL" --version | grep -q '^apical ' || fail "--version"
"$APICAL" run --help | grep -q -- '--save-edges' || fail "run --help: --save-edges"
"$APICAL" models stdp | grep -q 'W_max' || fail "models stdp (plasticity rule)"
expect_bad 2 'unknown command' -- frobnicate
expect_bad 2 'unknown option' -- run --bogus x.yaml
# a usage error is one line and a hint, not the whole help
[ "$(wc -l < "$tmp/err")" -eq 2 ] && grep -q "see 'apical run --help'" "$tmp/err" ||
    fail "usage error: not one line and a hint: $(cat "$tmp/err")"
expect_bad 2 'missing network file' -- check
grep -q "see 'apical check --help'" "$tmp/err" || fail "check usage hint: $(cat "$tmp/err")"
expect_bad 2 'unknown model .nope.*lif_cond_exp' -- models nope
for f in networks/*.yaml; do
    # networks that read MNIST need `make mnist` first (.ci/run does it)
    if grep -q 'data/mnist/' "$f" && [ ! -e data/mnist/train-images-idx3-ubyte ]; then
        echo "note: $f not checked: no data/mnist (make mnist)" >&2
        continue
    fi
    "$APICAL" check "$f" >/dev/null || fail "check $f"
done

# Bad network files.
net="$tmp/net.yaml"
good='simulation: {duration: 20 ms}
populations:
  a: {size: 10, model: lif_cond_exp}
recorders: [{type: spikes, population: a}]
'
printf '%s' "$good" > "$net"
"$APICAL" check "$net" >/dev/null || fail "good file rejected"

bad() { # PATTERN, file text
    printf '%s' "$2" > "$tmp/bad.yaml"
    expect_bad 2 "^$tmp/bad.yaml:[0-9]+:[0-9]+: error: .*($1)" -- check "$tmp/bad.yaml"
    expect_bad 2 "^$tmp/bad.yaml:[0-9]+:[0-9]+: error: .*($1)" -- run "$tmp/bad.yaml" -o "$tmp/bad.h5"
    [ ! -e "$tmp/bad.h5" ] && [ ! -e "$tmp/bad.h5.part" ] || fail "output left behind for bad input"
}
bad '' 'simulation: {duration: 20 ms
populations: [}'
bad 'unknown key' 'simulation: {duration: 20 ms, sede: 1}
populations: {a: {size: 10, model: lif_cond_exp}}'
bad 'unknown model' 'simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_expp}}'
bad 'unit|conductance' 'simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp, parameters: {g_L: 10 mV}}}'
bad 'unit' 'simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp, parameters: {g_L: 10}}}'
bad 'range|must' 'simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp, parameters: {tau_exc: -1 ms}}}'
bad 'not a defined population' 'simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp}}
projections: [{source: a, target: b, connectivity: all_to_all, receptor: exc, weight: 1 nS, delay: 1 ms}]'
bad 'cannot open edges file .*nothere.h5' 'simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp}}
projections: [{source: a, target: a, connectivity: {rule: from_file, path: nothere.h5}, receptor: exc}]'
bad 'unknown plasticity rule' 'simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp}}
projections: [{source: a, target: a, connectivity: all_to_all, receptor: exc, weight: 1 nS, delay: 1 ms, plasticity: {rule: stdpp}}]'
bad 'duplicate' 'simulation: {duration: 20 ms}
simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp}}'

# Limits (include/apical/limits.h): each used to pass `check` and then wrap,
# crash or hang in `run`.
bad 'size must be an integer in \[1, 4294967295\]' 'simulation: {duration: 20 ms}
populations: {a: {size: 18446744073709551615, model: lif_cond_exp}}'
bad 'partitions must be an integer in \[1, 1024\]' 'simulation: {duration: 20 ms, partitions: 65536}
populations: {a: {size: 10, model: lif_cond_exp}}'
limits_net='simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp}}
recorders: [{type: state, population: a, variables: [V_m], interval: INTERVAL}]
inputs: [{type: poisson, target: a, rate: RATE, receptor: exc, weight: 1 nS}]
projections: [{source: a, target: a, connectivity: all_to_all, receptor: exc, weight: 1 nS, delay: DELAY}]'
limits() { echo "$limits_net" | sed "s/INTERVAL/$1/; s/RATE/$2/; s/DELAY/$3/"; }
bad 'delay must be in \[1e-06, 1e\+09\] ms' "$(limits '0.1 ms' '10 Hz' '1e300 ms')"
bad 'delay must be in \[1e-06, 1e\+09\] ms' "$(limits '0.1 ms' '10 Hz' '1e-300 ms')"
bad 'interval must be in \[1e-06, 1e\+09\] ms' "$(limits '1e-300 ms' '10 Hz' '1 ms')"
bad 'rate must be in \[0, 1e\+06\] Hz' "$(limits '0.1 ms' '1e300 Hz' '1 ms')"
# node_perturbation's section (issue 16): each problem one line at its node
np_net() { # PROTOCOL LINES
    printf 'simulation: {duration: 20 ms}\npopulations:\n  px: {size: 4, model: parrot}\n'
    printf '  hid: {size: 3, model: dendritic_hidden}\n  out: {size: 2, model: dendritic_output}\n'
    printf 'protocol:\n  type: node_perturbation\n  output: out\n%s\n' "$1"
}
bad "the protocol's perturbed population must use model" "$(np_net '  perturb: [hid, px]')"
grep -q 'bad.yaml:9:18: error' "$tmp/err" || fail "perturb error not at px: $(cat "$tmp/err")"
bad "'hid' is already perturbed" "$(np_net '  perturb: [hid, hid]')"
bad 'settle .* must be shorter than duration' "$(np_net '  perturb: hid
  duration: 20 ms
  settle: 20 ms')"
bad 'noise must be in' "$(np_net '  perturb: hid
  noise: 0')"
bad 'unknown key' "$(np_net '  perturb: hid
  nosie: 1')"
bad "'stimulus' is missing|missing.*stimulus" "$(np_net '  perturb: hid')"
# a network that cannot fit is refused with the estimate, in check as in run
export APICAL_MEMORY=64G
bad 'needs ~[0-9.]+ GiB, 64 GiB available.*a->a' 'simulation: {duration: 100 ms, partitions: 4}
populations:
  a: {size: 100000, model: lif_cond_exp}
projections:
  - {source: a, target: a, connectivity: all_to_all, receptor: exc, weight: 1 nS, delay: 1 ms}'
grep -q '^.*bad.yaml:5:5: error' "$tmp/err" || fail "memory refusal not at the projection: $(cat "$tmp/err")"
APICAL_MEMORY=lots expect_bad 2 'APICAL_MEMORY must be a number of bytes' -- check "$net"
unset APICAL_MEMORY

expect_bad 2 'missing.yaml.*(No such file|cannot)' -- run "$tmp/missing.yaml" -o "$tmp/x.h5"
[ ! -e "$tmp/x.h5" ] || fail "output for a missing file"
expect_bad 2 'cannot|No such file' -- run "$net" -o "$tmp/no/such/dir/out.h5"
expect_bad 2 'duration' -- run "$net" --duration -5ms -o "$tmp/x.h5"
expect_bad 2 'seed' -- run "$net" --seed abc -o "$tmp/x.h5"

# A solver failure is a runtime error (exit 1) that names the neuron; the
# partial file is removed.
cat > "$tmp/nan.yaml" <<'YAML'
simulation: {duration: 5 ms}
populations:
  bad: {size: 2, model: lif_cond_exp, initial: {V_m: -70 mV, g_exc: 1e308 nS}}
recorders: [{type: spikes, population: bad}]
YAML
expect_bad 1 "population 'bad' neuron 0" -- run "$tmp/nan.yaml" -o "$tmp/nan.h5"
[ ! -e "$tmp/nan.h5" ] && [ ! -e "$tmp/nan.h5.part" ] || fail "output left after a solver failure"

# An interrupted run leaves no file that looks complete: it keeps the
# .part, marked incomplete (tests/t_hostile.sh checks its contents);
# --discard-partial removes it.
cat > "$tmp/long.yaml" <<'YAML'
simulation: {duration: 100000 ms}
populations: {a: {size: 2000, model: lif_cond_exp}}
inputs: [{type: poisson, target: a, rate: 2000 Hz, receptor: exc, weight: 3 nS}]
recorders: [{type: spikes, population: a}]
YAML
"$APICAL" run "$tmp/long.yaml" -o "$tmp/long.h5" --quiet 2>"$tmp/err" &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 1 ] || fail "interrupted run: exit $rc"
grep -q 'interrupted' "$tmp/err" || fail "interrupted run: $(cat "$tmp/err")"
[ ! -e "$tmp/long.h5" ] && [ -e "$tmp/long.h5.part" ] || fail "interrupted: no .part kept, or a final name"
rm -f "$tmp/long.h5.part"
"$APICAL" run "$tmp/long.yaml" -o "$tmp/long.h5" --quiet --discard-partial 2>"$tmp/err" &
pid=$!
sleep 1.5
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 1 ] || fail "interrupted run (--discard-partial): exit $rc"
[ ! -e "$tmp/long.h5" ] && [ ! -e "$tmp/long.h5.part" ] || fail "output left with --discard-partial"

# A real run, read back independently.
cat > "$tmp/small.yaml" <<'YAML'
name: small
simulation: {duration: 200 ms, seed: 4}
populations:
  exc: {size: 80, model: lif_cond_exp, initial: {V_m: {uniform: {low: -60 mV, high: -50 mV}}}}
  inh: {size: 20, model: lif_curr_exp}
projections:
  - {source: exc, target: exc, connectivity: {rule: bernoulli, p: 0.1}, receptor: exc, weight: 4 nS, delay: 1 ms}
  - {source: exc, target: inh, connectivity: {rule: fixed_indegree, k: 10}, receptor: exc, weight: 30 pA, delay: 1.5 ms}
inputs:
  - {type: poisson, target: exc, rate: 900 Hz, receptor: exc, weight: 5 nS}
  - {type: spike_times, target: inh, nodes: [0, 1], times: [5 ms, 6 ms, 7 ms], receptor: exc, weight: 2000 pA}
recorders:
  - {type: spikes, population: exc}
  - {type: spikes, population: inh}
  - {type: state, population: exc, nodes: [0, 5], variables: [V_m, g_exc], interval: 0.5 ms}
YAML
"$APICAL" run "$tmp/small.yaml" -o "$tmp/small.h5" --stats-json "$tmp/stats.json" > "$tmp/summary" \
    || fail "small run failed"
grep -q 'exc' "$tmp/summary" && grep -q 'rate (Hz)' "$tmp/summary" || fail "summary: $(cat "$tmp/summary")"
[ -e "$tmp/small.h5" ] && [ ! -e "$tmp/small.h5.part" ] || fail "output not renamed"
"$PYTHON" tests/h5_readback.py "$tmp/small.h5" --expect-pop exc --expect-pop inh >/dev/null \
    || fail "h5_readback: $("$PYTHON" tests/h5_readback.py "$tmp/small.h5" 2>&1)"
h5dump -H "$tmp/small.h5" >/dev/null || fail "h5dump"
"$PYTHON" - "$tmp/small.h5" "$tmp/stats.json" <<'PY' || fail "content check"
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
st = json.load(open(sys.argv[2]))
for pop in ("exc", "inh"):
    n = len(f[f"spikes/{pop}/timestamps"])
    assert n == st["populations"][pop]["spikes"], (pop, n, st["populations"][pop])
t = f["spikes/inh/timestamps"][:]
ids = f["spikes/inh/node_ids"][:]
# nodes 0 and 1 get 2000 pA kicks at 5 ms: both fire shortly after 5 ms
assert set(ids[(t > 5) & (t < 6)]) >= {0, 1}, (t[:10], ids[:10])
d = f["report/exc/data"]
assert d.shape == (400, 4), d.shape
v = d[:, 0]
assert np.all(v >= -60.5) and np.all(v <= -50.0 + 1e-3), (v.min(), v.max())
assert abs(d[0, 1]) < 1e-6  # g_exc starts at 0
assert f["provenance/seed"][()] == 4
assert b"small" in f["provenance/network_text"][()] if isinstance(f["provenance/network_text"][()], bytes) else "small" in f["provenance/network_text"][()]
PY
# --stats-json - writes the JSON alone to stdout (the summary goes to stderr)
"$APICAL" run "$tmp/small.yaml" -o "$tmp/js.h5" --stats-json - 2>"$tmp/js.err" >"$tmp/js.out" ||
    fail "--stats-json -"
"$PYTHON" -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['wall_run_s'] >= 0" \
    "$tmp/js.out" || fail "--stats-json -: stdout is not the JSON alone: $(head -c 300 "$tmp/js.out")"
grep -q 'population' "$tmp/js.err" || fail "--stats-json -: no summary on stderr"
# The progress bar fits the terminal (a wrapped line scrolls at every
# redraw), and is never drawn when stderr is not a terminal.
if command -v script >/dev/null 2>&1; then
    for cols in 60 80; do
        script -qec "stty cols $cols; '$APICAL' run '$tmp/small.yaml' -o '$tmp/pb$cols.h5'" \
            "$tmp/pb$cols.txt" >/dev/null 2>&1 || fail "run under script (cols $cols)"
        "$PYTHON" - "$tmp/pb$cols.txt" "$cols" <<'PY' || fail "progress bar wider than $cols columns"
import re, sys
raw = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
lines = [re.sub(r'\x1b\[K', '', s).split('\n')[0] for s in raw.split('\r') if ' ms' in s]
assert lines, 'no progress drawn on a terminal'
assert max(map(len, lines)) < int(sys.argv[2]), max(lines, key=len)
PY
    done
fi
"$APICAL" run "$tmp/small.yaml" -o "$tmp/nopb.h5" 2>"$tmp/nopb.err" >/dev/null || fail "run to a file"
! grep -q "$(printf '\r')" "$tmp/nopb.err" || fail "progress bar drawn when stderr is not a terminal"
# grammar, and a warning when nothing is recorded
cat > "$tmp/one.yaml" <<'YAML'
simulation: {duration: 5 ms}
populations:
  only: {size: 1, model: lif_cond_exp}
YAML
"$APICAL" check "$tmp/one.yaml" >"$tmp/one.out" 2>"$tmp/one.err" || fail "check one.yaml"
grep -q 'ok: 1 population (1 neuron), 0 projections, 0 inputs, 0 recorders' "$tmp/one.out" ||
    fail "check summary grammar: $(cat "$tmp/one.out")"
grep -q 'warning: nothing is recorded' "$tmp/one.err" || fail "no warning without recorders"
"$APICAL" run "$tmp/one.yaml" -o "$tmp/one.h5" >/dev/null 2>"$tmp/one.err" || fail "run one.yaml"
grep -q 'warning: .*records nothing' "$tmp/one.err" || fail "run: no warning without recorders"
# same seed, same spikes; the seed override changes them
"$APICAL" run "$tmp/small.yaml" -o "$tmp/again.h5" --quiet || fail "rerun"
"$APICAL" run "$tmp/small.yaml" -o "$tmp/seed5.h5" --seed 5 --quiet || fail "seed run"
"$PYTHON" - "$tmp/small.h5" "$tmp/again.h5" "$tmp/seed5.h5" <<'PY' || fail "determinism"
import sys, h5py, numpy as np
a, b, c = (h5py.File(p, "r") for p in sys.argv[1:])
ta, tb, tc = (x["spikes/exc/timestamps"][:] for x in (a, b, c))
assert np.array_equal(ta, tb)
assert not (len(ta) == len(tc) and np.array_equal(ta, tc))
PY
# --set: a value changed before the file is read, checked as the file's own
"$APICAL" check "$tmp/small.yaml" --set 'populations.exc.size=40' \
    --set 'projections[1].weight=20 pA' --set simulation.partitions=2 >"$tmp/set.out" ||
    fail "check --set"
grep -q '(60 neurons)' "$tmp/set.out" || fail "check --set: $(cat "$tmp/set.out")"
expect_bad 2 "^apical: error: --set 'populations.exc.parameters=\{tau_exc: 5 mV\}': tau_exc: .*a time" \
    -- check "$tmp/small.yaml" --set 'populations.exc.parameters={tau_exc: 5 mV}'
expect_bad 2 "^apical: error: --set 'simulation.duration=5 mV': duration: .*a time" \
    -- run "$tmp/small.yaml" --set 'simulation.duration=5 mV'
expect_bad 2 "populations has no key 'exx'.*its keys: exc, inh" \
    -- run "$tmp/small.yaml" -o "$tmp/x.h5" --set populations.exx.size=3
expect_bad 2 "projections has 2 items .*no item \[7\]" \
    -- check "$tmp/small.yaml" --set 'projections[7].weight=1 nS'
expect_bad 2 "projections is a list: its items are written \\[N\\], as in projections\\[1\\]" \
    -- check "$tmp/small.yaml" --set 'projections.1.weight=1 nS'
expect_bad 2 "[-]-set needs PATH=VALUE" -- check "$tmp/small.yaml" --set seed
[ ! -e "$tmp/x.h5" ] && [ ! -e "$tmp/x.h5.part" ] || fail "--set error left an output"
# repeated: applied in order; recorded in the provenance, network_text is the file
"$APICAL" run "$tmp/small.yaml" -o "$tmp/set.h5" --quiet --set simulation.seed=9 \
    --set simulation.seed=5 --set 'populations.inh.parameters={tau_exc: 3 ms}' ||
    fail "run --set"
"$PYTHON" - "$tmp/set.h5" "$tmp/seed5.h5" <<'PY' || fail "--set provenance"
import sys, h5py, numpy as np
f, g = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
s = f["provenance/set"][()]
s = s.decode() if isinstance(s, bytes) else s
assert s.split("\n")[:3] == ["simulation.seed=9", "simulation.seed=5",
                             "populations.inh.parameters={tau_exc: 3 ms}"], s
assert f["provenance/seed"][()] == 5
t = f["provenance/network_text"][()]
t = t.decode() if isinstance(t, bytes) else t
assert "seed: 4" in t and "tau_exc: 3" not in t
# exc is unchanged by the inh parameters: the same spikes as --seed 5
assert np.array_equal(f["spikes/exc/timestamps"][:], g["spikes/exc/timestamps"][:])
PY
# apical check lists every error, in file order, and counts them
cat > "$tmp/three.yaml" <<'YAML'
simulation: {duration: 20 ms, seed: -1}
populations:
  a: {size: 10, model: lif_cond_exp}
inputs:
  - {type: poisson, target: a, rate: 5 mV, receptor: exc, weight: 1 nS}
recorders:
  - {type: spikes, population: b}
YAML
for cmd in check run; do
    "$APICAL" $cmd "$tmp/three.yaml" >/dev/null 2>"$tmp/three.err"; rc=$?
    [ $rc -eq 2 ] || fail "$cmd three.yaml: exit $rc"
    "$PYTHON" - "$tmp/three.err" "$tmp/three.yaml" <<'PY' || fail "$cmd: three errors: $(cat "$tmp/three.err")"
import sys
lines = open(sys.argv[1]).read().splitlines()
f = sys.argv[2]
assert len(lines) == 4, lines
assert lines[0].startswith(f + ":1:37: error: seed"), lines[0]
assert lines[1].startswith(f + ":5:38: error: rate"), lines[1]
assert lines[2].startswith(f + ":7:32: error: population 'b' is not a defined"), lines[2]
assert lines[3] == "3 errors", lines[3]
PY
done
[ ! -e three.h5 ] || fail "run with errors wrote an output"
# The MNIST protocol restarts the network at the end of every pass through
# the training images: what cannot restart (a sweep population, a plastic
# projection) is refused before the run, not at the first epoch end.
if [ -e data/mnist/train-images-idx3-ubyte ]; then
    d=$(cd data/mnist && pwd)
    mn=$(sed -e "s|\.\./data/mnist|$d|g" -e 's|^  examples: 20$|  epochs: 2|' \
        -e '/^recorders:/,$d' networks/mnist_segregated.yaml)
    extra='  x: {size: 4, model: lif_cond_exp, solver: {stepper: sweep}}'
    bad "stepper 'sweep'.*restart" "$(printf '%s\n' "$mn" | sed "/^populations:/a\\
$extra")"
    extra='  x: {size: 4, model: lif_cond_exp, solver: {stepper: rkf45}}'
    proj='  - {source: x, target: x, connectivity: all_to_all, receptor: exc, weight: 1 nS, delay: 1 ms, plasticity: {rule: stdp}}'
    bad 'plasticity rule.*restart' "$(printf '%s\n' "$mn" | sed -e "/^populations:/a\\
$extra" -e "/^projections:/a\\
$proj")"
    # a run that never wraps the images does not restart: accepted
    printf '%s\n' "$mn" | sed -e 's|^  epochs: 2$|  examples: 20|' -e "/^populations:/a\\
  x: {size: 4, model: lif_cond_exp, solver: {stepper: sweep}}" > "$tmp/wrapless.yaml"
    "$APICAL" check "$tmp/wrapless.yaml" >/dev/null 2>&1 || fail "20 examples with a sweep population refused"
fi
echo ok
