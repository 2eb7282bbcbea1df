#!/bin/sh
# `make validate`, Brunel 2000 part (docs/VALIDATION.md, "E-I balance"):
# 0. The model against the Siegert formula without a network: 1 000
#    unconnected lif_psc_delta neurons driven by independent Poisson jumps
#    with the AI state's input statistics (+0.1 mV at 58.1 kHz, -0.5 mV at
#    9.525 kHz), 2 s: rate within 3% of the Siegert rate for the same mu
#    and sigma, CV within 10% of the first-passage CV (measured -0.8% and
#    -3.5%: the diffusion approximation's error for J = 0.1 mV).
# 1. The four states of his Fig. 8 in the full network
#    (networks/brunel2000.yaml: 12 500 neurons, 12.5 M synapses) through
#    analysis/brunel.py states; SR runs 300 ms (it fires at ~333 Hz, 8x
#    the events of AI), the others 1.2 s; measured from 100 / 200 ms on.
#    Judged:
#    AI (g 5, eta 2)       rate within 5% of the mean field (37.95 Hz) and
#                          asynchronous (chi < 0.2);
#    SR (g 3, eta 2)       regular (CV < 0.3) and synchronous (chi > 0.3);
#    SI fast (g 6, eta 4)  a global oscillation above 100 Hz (f_peak);
#    SI slow (g 4.5, eta 0.9)  a global oscillation below 60 Hz.
#    The CV of the AI state is printed against the mean field's, not
#    judged (docs/VALIDATION.md: the network's inputs are sub-Poisson).
# 2. The (g, eta) map of mean rate, CV and synchrony on the scaled network
#    (networks/brunel2000_small.yaml, 24 runs of 0.7 s).
# Figures and JSON in OUTDIR/brunel (default results/brunel):
# brunel_states.png, brunel_map.png. Environment: APICAL, PYTHON, OUTDIR,
# BRUNEL_THREADS (default 1). Exit 0 pass, 1 fail, 2 failure to run.
# About 20 minutes of CPU (the full network: ~90 s per simulated second
# in the AI state).
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
OUTDIR=${OUTDIR:-results}
THREADS=${BRUNEL_THREADS:-1}
[ -x "$APICAL" ] || { echo "validate_brunel: no apical binary at $APICAL (run make)"; exit 2; }
out="$OUTDIR/brunel"
mkdir -p "$out" || exit 2
export APICAL
status=0

cat > "$out/open_loop.yaml" <<'YAML'
name: brunel_open_loop
simulation: {duration: 2200 ms, seed: 3, solver: {stepper: sweep}}
populations:
  n:
    size: 1000
    model: lif_psc_delta
    parameters: {tau_m: 20 ms, E_L: 0 mV, V_th: 20 mV, V_reset: 10 mV, t_ref: 2 ms}
    initial: {V_m: {uniform: {low: 10 mV, high: 20 mV}}}
  clk: {size: 1, model: parrot}
projections:
  - {source: clk, target: n, connectivity: all_to_all, receptor: exc, weight: 0 mV, delay: 1.5 ms}
inputs:
  - {type: poisson, target: n, rate: 58100 Hz, receptor: exc, weight: 0.1 mV}
  - {type: poisson, target: n, rate: 9525 Hz, receptor: inh, weight: -0.5 mV}
recorders:
  - {type: spikes, population: n}
YAML
"$APICAL" run "$out/open_loop.yaml" -o "$out/open_loop.h5" --quiet || exit 2
"$PYTHON" - "$out/open_loop.h5" <<'PY' || status=1
import sys
import h5py
import numpy as np
sys.path.insert(0, 'analysis')
import brunel_meanfield as mf
f = h5py.File(sys.argv[1], 'r')
t, i = f['spikes/n/timestamps'][()], f['spikes/n/node_ids'][()]
k = t >= 200.0
t, i = t[k], i[k]
rate = t.size / (1000 * 2.0)
cvs = []
for n in range(1000):
    d = np.diff(np.sort(t[i == n]))
    if d.size >= 4:
        cvs.append(d.std() / d.mean())
cv = float(np.mean(cvs))
# the inputs' mean and standard deviation (mV): tau sum(r w), sqrt(tau sum(r w^2))
tau = 20.0
mu = tau * 1e-3 * (58100 * 0.1 - 9525 * 0.5)
sg = (tau * 1e-3 * (58100 * 0.01 + 9525 * 0.25)) ** 0.5
nu, cvt = mf.siegert(mu, sg), mf.cv_isi(mu, sg)
ok_r, ok_c = abs(rate / nu - 1) <= 0.03, abs(cv / cvt - 1) <= 0.10
print('%s open loop: rate %.2f Hz, Siegert %.2f Hz (%+.1f%%)'
      % ('PASS' if ok_r else 'FAIL', rate, nu, 100 * (rate / nu - 1)))
print('%s open loop: CV %.3f, first passage %.3f (%+.1f%%)'
      % ('PASS' if ok_c else 'FAIL', cv, cvt, 100 * (cv / cvt - 1)))
sys.exit(0 if ok_r and ok_c else 1)
PY
rm -f "$out/open_loop.h5"

"$PYTHON" analysis/brunel.py states networks/brunel2000.yaml -o "$out" \
    --duration 300,1200,1200,1200 --tmin 100,200,200,200 --threads "$THREADS" || exit 2
"$PYTHON" analysis/brunel.py map networks/brunel2000_small.yaml -o "$out" \
    --duration 700 --tmin 100 --threads "$THREADS" > "$out/map.log" || exit 2
tail -n 1 "$out/map.log"
"$PYTHON" - "$out/brunel_states.json" <<'PY' || status=1
import json, sys
res = {m['label'].split(': ')[1]: m for m in json.load(open(sys.argv[1]))}
checks = [
    ('AI rate within 5% of the mean field',
     abs(res['AI']['rate'] / res['AI']['mf_rate'] - 1) <= 0.05,
     '%.2f Hz vs %.2f Hz' % (res['AI']['rate'], res['AI']['mf_rate'])),
    ('AI asynchronous (chi < 0.2)', res['AI']['chi'] < 0.2, 'chi %.3f' % res['AI']['chi']),
    ('SR regular (CV < 0.3)', res['SR']['cv'] < 0.3, 'CV %.3f' % res['SR']['cv']),
    ('SR synchronous (chi > 0.3)', res['SR']['chi'] > 0.3, 'chi %.3f' % res['SR']['chi']),
    ('SI fast: global oscillation > 100 Hz', res['SI fast']['f_peak'] > 100,
     'f_peak %.0f Hz' % res['SI fast']['f_peak']),
    ('SI slow: global oscillation < 60 Hz', res['SI slow']['f_peak'] < 60,
     'f_peak %.0f Hz' % res['SI slow']['f_peak']),
]
print('AI CV %.3f (mean field %.3f), not judged' % (res['AI']['cv'], res['AI']['mf_cv']))
bad = 0
for what, ok, got in checks:
    print('%s %s: %s' % ('PASS' if ok else 'FAIL', what, got))
    bad += not ok
sys.exit(1 if bad else 0)
PY
exit $status
