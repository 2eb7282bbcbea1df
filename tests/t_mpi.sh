#!/bin/sh
# Open MPI (issue 11): `mpirun -np 2` and `-np 3` give the same output file
# as one process. Compared by tests/h5_same.py, dataset by dataset, bit for
# bit: spike times and ids, recorded state (nodes on every rank), weight
# reports, the final edges (plastic weights) and the MNIST protocol's tables
# (when data/mnist is here). Then errors: bad input, a rank-0-only failure,
# a solver failure on the last rank alone and a refused checkpoint each end
# every rank with one message and the exit code of a one-process run,
# never a hang (each run under `timeout`: 600 s, a hang guard far above
# a loaded machine's minute, not a speed limit).
# Skipped, saying so, when mpirun is absent or apical was built without MPI.
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
if ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIP t_mpi: no mpirun (scripts/install-deps.sh installs openmpi-bin)"
    exit 0
fi
if ! ldd "$APICAL" 2>/dev/null | grep -q libmpi; then
    echo "SKIP t_mpi: $APICAL was built without MPI (no mpicc when it was built)"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_mpi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
# Open MPI's own allocations outlive MPI_Finalize: not apical's leaks
# (make check-asan runs this test too). Their plugins are unloaded by then,
# so only a full unwind (not the frame-pointer one) reaches a frame in
# libopen-pal or libmpi that the suppressions can name.
export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan-openmpi.supp:print_suppressions=0:fast_unwind_on_malloc=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
# ranks wait for each other once per window: on a busy machine (2 cores
# shared) a waiting rank gives its core up rather than spin
export OMPI_MCA_mpi_yield_when_idle=1
mpi() { np=$1; shift; timeout 600 mpirun --oversubscribe --allow-run-as-root -np "$np" "$APICAL" "$@"; }
same() { "$PYTHON" tests/h5_same.py "$@" >"$tmp/same" 2>&1 || fail "$(cat "$tmp/same")"; }

# COBA, 100 ms: state recorded on neurons of every rank
coba=networks/brette2007_coba.yaml
rec='recorders[2].nodes=[0, 1500, 2500, 3199]'
"$APICAL" run $coba --duration 100 --set "$rec" -o "$tmp/coba1.h5" --quiet || fail "coba, one process"
for np in 2 3; do
    mpi $np run $coba --duration 100 --set "$rec" -o "$tmp/coba$np.h5" --quiet || fail "coba, -np $np"
    same "$tmp/coba1.h5" "$tmp/coba$np.h5"
done

# COBA with STDP, 150 ms: spikes, state, the weight report (a sample over
# all ranks' synapses) and every projection's final edges
stdp=networks/brette2007_coba_stdp.yaml
"$APICAL" run $stdp --duration 150 --set "$rec" --save-edges -o "$tmp/stdp1.h5" --quiet ||
    fail "coba_stdp, one process"
mpi 2 run $stdp --duration 150 --set "$rec" --save-edges -o "$tmp/stdp2.h5" --quiet ||
    fail "coba_stdp, -np 2"
same "$tmp/stdp1.h5" "$tmp/stdp2.h5"
# 3 ranks, 2 partitions in the file: the run has 3 partitions, so the edges
# come in 3 partitions' order (docs/output-format.md): the same set as one
# process, and the same order as one process with 3 partitions
mpi 3 run $stdp --duration 150 --set "$rec" --save-edges -o "$tmp/stdp3.h5" --quiet ||
    fail "coba_stdp, -np 3"
same "$tmp/stdp1.h5" "$tmp/stdp3.h5" --edges-as-set
"$APICAL" run $stdp --duration 150 --set "$rec" --set simulation.partitions=3 --save-edges \
    -o "$tmp/stdp1p3.h5" --quiet || fail "coba_stdp, one process, 3 partitions"
same "$tmp/stdp1p3.h5" "$tmp/stdp3.h5"

# Inputs (Poisson through relay neurons), drawn delays (heap deliveries),
# STDP with a weight report, a GSL population: 3 ranks
cat > "$tmp/learn.yaml" <<'YAML'
name: learn
simulation: {duration: 500 ms, seed: 11, partitions: 1}
populations:
  pre: {size: 80, model: parrot}
  post: {size: 7, model: lif_cond_exp, parameters: {E_L: -70 mV, V_th: -54 mV}}
projections:
  - {source: pre, target: post, connectivity: {rule: bernoulli, p: 0.6}, receptor: exc,
     weight: {uniform: {low: 0 nS, high: 3 nS}}, delay: {uniform: {low: 0.5 ms, high: 2 ms}},
     plasticity: {rule: stdp, lambda: 0.02, alpha: 1.05, mu_plus: 0, mu_minus: 0, W_max: 3 nS}}
  - {name: fixed, source: pre, target: post, connectivity: {rule: fixed_indegree, k: 5},
     receptor: inh, weight: 1 nS, delay: 1 ms}
inputs: [{type: poisson, target: pre, rate: 25 Hz, receptor: relay, weight: 1}]
recorders:
  - {type: spikes, population: post}
  - {type: spikes, population: pre}
  - {type: state, population: post, variables: [V_m], interval: 1 ms}
  - {type: weights, projection: pre->post, interval: 100 ms, sample: 30}
YAML
"$APICAL" run "$tmp/learn.yaml" --save-edges -o "$tmp/learn1.h5" --quiet || fail "learn, one process"
"$APICAL" run "$tmp/learn.yaml" --save-edges --set simulation.partitions=3 \
    -o "$tmp/learn1p3.h5" --quiet || fail "learn, one process, 3 partitions"
mpi 3 run "$tmp/learn.yaml" --save-edges -o "$tmp/learn3.h5" --quiet || fail "learn, -np 3"
same "$tmp/learn1.h5" "$tmp/learn3.h5" --edges-as-set
same "$tmp/learn1p3.h5" "$tmp/learn3.h5"

# Synchronous bursts: 300 relay neurons firing at one time, more spikes per
# rank and window than the fixed-size exchange holds (the second exchange,
# and the slot growing; shrinking after 256 quiet windows, at 128 ms, and
# growing again at 270 ms), equal times ordered by id across ranks
cat > "$tmp/burst.yaml" <<'YAML'
name: burst
simulation: {duration: 300 ms, seed: 3}
populations:
  src: {size: 300, model: parrot}
  post: {size: 40, model: lif_cond_exp}
projections:
  - {source: src, target: post, connectivity: {rule: fixed_indegree, k: 30}, receptor: exc,
     weight: 3 nS, delay: 0.5 ms}
  - {source: post, target: post, connectivity: {rule: bernoulli, p: 0.3}, receptor: inh,
     weight: 5 nS, delay: 0.7 ms}
inputs:
  - {type: spike_times, target: src, times: [1 ms, 1.05 ms, 5 ms, 20 ms, 40 ms, 270 ms], receptor: relay, weight: 1}
  - {type: poisson, target: src, rate: 300 Hz, receptor: relay, weight: 1}
recorders:
  - {type: spikes, population: src}
  - {type: spikes, population: post}
  - {type: state, population: post, variables: [V_m, g_exc], interval: 0.5 ms}
YAML
"$APICAL" run "$tmp/burst.yaml" -o "$tmp/burst1.h5" --quiet || fail "burst, one process"
for np in 2 3; do
    mpi $np run "$tmp/burst.yaml" -o "$tmp/burst$np.h5" --quiet || fail "burst, -np $np"
    same "$tmp/burst1.h5" "$tmp/burst$np.h5"
done

# A protocol: its between-window steps read state through collective
# engine calls and combine dense weights, so plateaus, classification,
# learning curve, spikes and learned edges match. The MNIST network (20
# training, 10 test examples) when MNIST is here (make mnist)
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    "$APICAL" run networks/mnist_segregated.yaml --save-edges -o "$tmp/mn1.h5" --quiet ||
        fail "mnist, one process"
    mpi 2 run networks/mnist_segregated.yaml --save-edges -o "$tmp/mn2.h5" --quiet ||
        fail "mnist, -np 2"
    same "$tmp/mn1.h5" "$tmp/mn2.h5"
    mpi 3 run networks/mnist_segregated.yaml --save-edges -o "$tmp/mn3.h5" --quiet ||
        fail "mnist, -np 3"
    same "$tmp/mn1.h5" "$tmp/mn3.h5" --edges-as-set
else
    echo "note: t_mpi: MNIST not fetched (make mnist): the MNIST comparison is skipped" >&2
fi

# Per-rank memory falls as ranks are added: a 40 000-neuron COBA-like
# network (3.2 M synapses, tests/bench/scale.py's), peak RSS of each rank.
# Its weights drawn (a narrow uniform around 6 and 67 nS), so that every
# synapse keeps its own (12 bytes): with scale.py's constant weights the
# table is 4 bytes per synapse (sim/build.c's shares_weight) and the
# libraries' and MPI's fixed share of each rank hides the difference.
"$PYTHON" -c "import sys; sys.path.insert(0, 'tests/bench'); import scale
print(scale.NET.format(n=40000, duration=2, stepper='sweep', tol=1e-4, partitions=1, threads=1,
                       n_exc=32000, n_inh=8000)
      .replace('weight: 6 nS', 'weight: {uniform: {low: 5.9 nS, high: 6.1 nS}}')
      .replace('weight: 67 nS', 'weight: {uniform: {low: 66 nS, high: 68 nS}}'))" \
    > "$tmp/big.yaml" || fail "generate big.yaml"
# each rank's figure into its own file (RSS_FILE.RANK): ranks sharing one
# stderr interleave their lines
rss='import os, resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
with open("%s.%s" % (sys.argv[1], os.environ.get("OMPI_COMM_WORLD_RANK", "0")), "w") as f:
    print("RSS_KB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=f)
sys.exit(rc)'
"$PYTHON" -c "$rss" "$tmp/rss1" "$APICAL" run "$tmp/big.yaml" -o "$tmp/big1.h5" --quiet \
    2>"$tmp/err1" || fail "big, one process: $(cat "$tmp/err1")"
timeout 600 mpirun --oversubscribe --allow-run-as-root -np 2 "$PYTHON" -c "$rss" "$tmp/rss2" \
    "$APICAL" run "$tmp/big.yaml" -o "$tmp/big2.h5" --quiet 2>"$tmp/err2" ||
    fail "big, -np 2: $(cat "$tmp/err2")"
same "$tmp/big1.h5" "$tmp/big2.h5"
one=$(sed -n 's/^RSS_KB //p' "$tmp/rss1.0")
two=$(cat "$tmp"/rss2.* 2>/dev/null | sed -n 's/^RSS_KB //p' | sort -n | tail -1)
[ "$(ls "$tmp"/rss2.* 2>/dev/null | wc -l)" -eq 2 ] || fail "not one RSS figure per rank"
echo "per-rank peak RSS: one process $one kB, 2 ranks at most $two kB" >&2
[ -n "$one" ] && [ -n "$two" ] || fail "no RSS: $(cat "$tmp"/rss1.* "$tmp"/rss2.*)"
# ASan's shadow memory and quarantine hide the difference: checked without it
if ! ldd "$APICAL" | grep -q libasan; then
    [ "$two" -lt $((one * 85 / 100)) ] ||
        fail "per-rank peak RSS does not fall: one process $one kB, 2 ranks at most $two kB"
fi

# --- errors: every rank stops, one message, one-process exit codes --------------------
# bad input: found by every rank's parse, before anything runs
printf 'simulation: {duration: 5 ms, bogus: 1}\npopulations: {a: {size: 4, model: lif_cond_exp}}\n' \
    > "$tmp/bad.yaml"
mpi 2 run "$tmp/bad.yaml" -o "$tmp/bad.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad input: exit $rc: $(cat "$tmp/err")"
[ "$(grep -c 'bad.yaml:1:.*error' "$tmp/err")" -eq 1 ] || fail "bad input: not one message: $(cat "$tmp/err")"
[ ! -e "$tmp/bad.h5" ] && [ ! -e "$tmp/bad.h5.part" ] || fail "bad input: output left"
# an output only rank 0 checks and writes
mpi 2 run $coba --duration 5 -o "$tmp/no/such/dir/x.h5" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || fail "bad output path: exit $rc: $(cat "$tmp/err")"
[ "$(grep -c '^apical.*error\|: error' "$tmp/err")" -eq 1 ] || fail "bad output path: not one message: $(cat "$tmp/err")"
# a solver failure on the last rank only (neuron 5 of 6 on 3 ranks)
cat > "$tmp/gmax.yaml" <<'YAML'
simulation: {duration: 20 ms, solver: {stepper: sweep}}
populations:
  n: {size: 6, model: lif_cond_exp}
inputs:
  - {type: spike_times, target: n, nodes: [5], times: [5 ms], receptor: inh, weight: 1e9 nS}
recorders:
  - {type: spikes, population: n}
YAML
mpi 3 run "$tmp/gmax.yaml" -o "$tmp/gmax.h5" --quiet 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || fail "solver failure on rank 2: exit $rc: $(cat "$tmp/err")"
[ "$(grep -c "population 'n' neuron 5 failed to integrate" "$tmp/err")" -eq 1 ] ||
    fail "solver failure on rank 2: not one message: $(cat "$tmp/err")"
[ ! -e "$tmp/gmax.h5" ] || fail "solver failure: a complete-looking output"
# Ctrl-C: mpirun passes SIGTERM to every rank, each sees it in the same
# window's exchange: rank 0 keeps the .part marked incomplete, exit 1
mpirun --oversubscribe --allow-run-as-root -np 2 "$APICAL" run $coba --duration 100000 \
    -o "$tmp/int.h5" --quiet --flush-every 0.2 2>"$tmp/err" &
mp=$!
# simulating once the live file has grown past its empty datasets (~23 kB;
# it is created before the build, which may be slow on a busy machine)
k=0
while [ "$(stat -c %s "$tmp/int.h5.part" 2>/dev/null || echo 0)" -lt 100000 ] && [ $k -lt 900 ]; do
    sleep 0.1; k=$((k + 1))
done
[ $k -lt 900 ] || { kill -KILL $mp; fail "interrupt: not running after 90 s: $(cat "$tmp/err")"; }
kill -INT $mp
( sleep 60; kill -KILL $mp 2>/dev/null ) &
watchdog=$!
wait $mp; rc=$?
kill $watchdog 2>/dev/null
[ $rc -eq 1 ] || fail "interrupt: exit $rc: $(cat "$tmp/err")"
[ "$(grep -c 'interrupted at t = .*kept in' "$tmp/err")" -eq 1 ] ||
    fail "interrupt: not one message (exit $rc): '$(cat "$tmp/err")'; $(ls -l "$tmp"/int.h5*)"
"$PYTHON" -c "import h5py, sys; sys.exit(int(h5py.File(sys.argv[1], 'r').attrs['complete'] != 0))" \
    "$tmp/int.h5.part" || fail "interrupt: .part not readable or not marked incomplete"

# a checkpoint (written from one rank's synapses): refused before anything runs
if [ -f data/mnist/train-images-idx3-ubyte ]; then
    mpi 2 run networks/mnist_segregated.yaml --set "protocol.checkpoint=$tmp/ck.h5" \
        -o "$tmp/ck_out.h5" 2>"$tmp/err"; rc=$?
    [ $rc -eq 2 ] || fail "checkpoint: exit $rc: $(cat "$tmp/err")"
    [ "$(grep -c 'checkpoints are written by runs in one process only' "$tmp/err")" -eq 1 ] ||
        fail "checkpoint: not one message: $(cat "$tmp/err")"
fi
exit 0
