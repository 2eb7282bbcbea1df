#!/usr/bin/python3
"""Build and memory scaling: a COBA-like network with fixed in-degree 80.

Generates, for each size N, a network of N lif_cond_exp neurons (80 % exc,
20 % inh, Brette 2007 COBA parameters and initial state) where every neuron
receives exactly 64 exc and 16 inh synapses (rule fixed_indegree, constant
weights and delay 0.1 ms), runs `apical run` for a short duration and prints
one row per size:

  N         neurons
  synapses  N * 80
  build s   wall_build_s from --stats-json (spec to runnable simulation)
  sim s/s   wall_run_s / simulated seconds (short runs: start-up transient)
  RSS MB    peak resident memory of the process (/usr/bin/time -v, else
            getrusage of the child)
  B/syn     peak RSS / synapses (everything: neurons, synapses, HDF5)

Timings are wall-clock on whatever else the machine is doing: repeat (-r)
and take the minimum on a shared machine.

Environment: APICAL (path of the apical binary, default build/apical).
Usage: tests/bench/scale.py [--sizes 4000,40000,200000,1000000]
         [--duration 1] [--partitions 2] [--threads 0] [--repeat 1]
         [--json OUT.json] [--keep DIR]
"""
import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

NET = """name: scale_{n}
simulation:
  duration: {duration} ms
  seed: 1
  solver: {{stepper: rkf45, abs_tol: 1e-4, rel_tol: 1e-4}}
  partitions: {partitions}
  threads: {threads}
populations:
  exc:
    size: {n_exc}
    model: lif_cond_exp
    parameters: &lif
      C_m: 200 pF
      g_L: 10 nS
      E_L: -60 mV
      V_th: -50 mV
      V_reset: -60 mV
      t_ref: 5 ms
      E_exc: 0 mV
      E_inh: -80 mV
      tau_exc: 5 ms
      tau_inh: 10 ms
    initial: &init
      V_m: {{normal: {{mean: -65 mV, sd: 5 mV}}}}
      g_exc: {{normal: {{mean: 40 nS, sd: 15 nS}}}}
      g_inh: {{normal: {{mean: 200 nS, sd: 120 nS}}}}
  inh:
    size: {n_inh}
    model: lif_cond_exp
    parameters: *lif
    initial: *init
projections:
  - {{source: exc, target: exc, connectivity: {{rule: fixed_indegree, k: 64}}, receptor: exc, weight: 6 nS, delay: 0.1 ms}}
  - {{source: exc, target: inh, connectivity: {{rule: fixed_indegree, k: 64}}, receptor: exc, weight: 6 nS, delay: 0.1 ms}}
  - {{source: inh, target: exc, connectivity: {{rule: fixed_indegree, k: 16}}, receptor: inh, weight: 67 nS, delay: 0.1 ms}}
  - {{source: inh, target: inh, connectivity: {{rule: fixed_indegree, k: 16}}, receptor: inh, weight: 67 nS, delay: 0.1 ms}}
recorders:
  - {{type: spikes, population: exc}}
"""


def find_apical():
    a = os.environ.get('APICAL') or 'build/apical'
    for cand in (a, os.path.join(ROOT, a)):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    sys.exit('scale.py: no apical binary at %s (make build/apical, or set APICAL)' % a)


def run_once(apical, net, out, stats):
    cmd = [apical, 'run', net, '-o', out, '--stats-json', stats, '--quiet']
    timev = shutil.which('time') or ('/usr/bin/time' if os.path.exists('/usr/bin/time') else None)
    if timev:
        p = subprocess.run([timev, '-v'] + cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', p.stderr)
        rss_kb = int(m.group(1)) if m else None
    else:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over children
    if p.returncode != 0:
        sys.exit('scale.py: apical failed (%d):\n%s' % (p.returncode, p.stderr[-2000:]))
    with open(stats) as f:
        s = json.load(f)
    return s['wall_build_s'], s['wall_run_s'], rss_kb


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sizes', default='4000,40000,200000,1000000')
    ap.add_argument('--duration', type=float, default=1.0, help='ms')
    ap.add_argument('--partitions', type=int, default=2)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--repeat', '-r', type=int, default=1, help='runs per size; minimum kept')
    ap.add_argument('--json')
    ap.add_argument('--keep', help='write the networks and outputs here instead of a temp dir')
    a = ap.parse_args()
    apical = find_apical()
    tmp = a.keep or tempfile.mkdtemp(prefix='apical_scale_')
    os.makedirs(tmp, exist_ok=True)
    rows = []
    print('%10s %11s %9s %9s %9s %7s' % ('N', 'synapses', 'build s', 'sim s/s', 'RSS MB', 'B/syn'))
    try:
        for n in [int(x) for x in a.sizes.split(',')]:
            n_exc = n * 4 // 5
            net = os.path.join(tmp, 'scale_%d.yaml' % n)
            with open(net, 'w') as f:
                f.write(NET.format(n=n, n_exc=n_exc, n_inh=n - n_exc, duration='%g' % a.duration,
                                   partitions=a.partitions, threads=a.threads))
            best = None
            for _ in range(a.repeat):
                r = run_once(apical, net, os.path.join(tmp, 'scale_%d.h5' % n),
                             os.path.join(tmp, 'scale_%d.json' % n))
                best = r if best is None else tuple(
                    min(x, y) if x is not None and y is not None else x for x, y in zip(best, r))
            build_s, run_s, rss_kb = best
            syn = 80 * n
            row = {'n': n, 'synapses': syn, 'build_s': build_s,
                   'sim_s_per_s': run_s / (a.duration * 1e-3), 'rss_mb': None, 'bytes_per_syn': None}
            if rss_kb:
                row['rss_mb'] = rss_kb / 1024.0
                row['bytes_per_syn'] = rss_kb * 1024.0 / syn
            rows.append(row)
            print('%10d %11d %9.3f %9.1f %9s %7s' % (
                n, syn, build_s, row['sim_s_per_s'],
                '%.0f' % row['rss_mb'] if rss_kb else '-',
                '%.1f' % row['bytes_per_syn'] if rss_kb else '-'), flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'duration_ms': a.duration, 'partitions': a.partitions, 'rows': rows}, f,
                      indent=1)


if __name__ == '__main__':
    main()
