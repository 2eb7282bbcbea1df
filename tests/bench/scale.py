#!/usr/bin/python3
"""Build, run and memory scaling, apical and Brian2: COBA-like, fixed in-degree 80.

Generates, for each size N, a network of N lif_cond_exp neurons (80 % exc,
20 % inh, Brette 2007 COBA parameters and initial state) where every neuron
receives exactly 64 exc and 16 inh synapses (rule fixed_indegree, autapses
allowed, constant weights 6 / 67 nS and delay 0.1 ms), runs `apical run` on
it (2 partitions, threads automatic: 2 on a 2-core machine) and the same
network in Brian2 C++ standalone (tests/bench/brian2_scale.py, one
subprocess per size, 1 thread, dt 0.1 ms, Brian2's default method), and
prints one row per size, apical and Brian2 side by side:

  N         neurons
  synapses  N * 80
  build s   apical: wall_build_s from --stats-json (spec to runnable
            simulation: parse, populations, synapse table); Brian2: inside
            the binary, from main() to network.run's return minus Brian2's run
            timer (allocation, initial values, synapse creation, spike queue)
  sim s/s   apical: wall_run_s; Brian2: its run timer; per simulated second
  RSS MB    peak resident memory of the process (apical) or of the generated
            binary (Brian2) (/usr/bin/time -v, else getrusage of the child)
  B/syn     peak RSS / synapses (everything: neurons, synapses, HDF5, libraries)
  B2/ap     Brian2 / apical (> 1: apical faster or smaller)
  rate      mean exc rate (Hz), a check that both run the same dynamics
and Brian2's code generation + compilation (a fixed cost per network, not in
its build s) in a last column.

Default duration 100 ms for every size: sim s/s includes the start-up
transient (every neuron starts from a random state). Timings are wall-clock
on whatever else the machine is doing: repeat (-r) and take the minimum on a
shared machine (Brian2 compiles once per size and runs its binary -r times).

Environment: APICAL (path of the apical binary, default build/apical),
PYTHON (interpreter with brian2; default /usr/bin/python3 if it has it,
else this one).
Usage: tests/bench/scale.py [--sizes 4000,40000,400000] [--duration 100]
         [--stepper sweep] [--tol 1e-4] [--partitions 2] [--threads 0]
         [--repeat 1] [--no-brian2] [--no-apical] [--json OUT.json] [--keep DIR]
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
  solver: {{stepper: {stepper}, abs_tol: {tol}, rel_tol: {tol}}}
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
        err = p.stderr.split('\tCommand being timed:')[0]  # not /usr/bin/time's report
        sys.exit('scale.py: apical failed (%d):\n%s' % (p.returncode, err[-2000:]))
    with open(stats) as f:
        s = json.load(f)
    exc = s.get('populations', {}).get('exc', {})
    return s['wall_build_s'], s['wall_run_s'], rss_kb, exc.get('rate_hz')


def find_python():
    """An interpreter that imports brian2: $PYTHON, /usr/bin/python3, this one."""
    for p in (os.environ.get('PYTHON'), '/usr/bin/python3', sys.executable):
        if p and subprocess.run([p, '-c', 'import brian2'], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL).returncode == 0:
            return p
    return None


def run_brian2(python, n, duration_ms, repeat, keep):
    cmd = [python, os.path.join(HERE, 'brian2_scale.py'), str(n), '--duration', '%g' % duration_ms,
           '--repeat', str(repeat)]
    if keep:
        cmd += ['--keep', os.path.join(keep, 'brian2_%d' % n)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        return {'error': 'brian2_scale.py exited %d: %s' % (p.returncode, p.stderr.strip()[-1500:])}
    try:
        return json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {'error': 'no JSON from brian2_scale.py: %s' % (p.stdout + p.stderr)[-1500:]}


def fmt(x, f):
    return '-' if x is None else f % x


def ratio(b, a):
    return None if a is None or b is None or a <= 0 else b / a


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sizes', default='4000,40000,400000')
    ap.add_argument('--duration', type=float, default=100.0, help='ms, every size (default 100)')
    ap.add_argument('--stepper', default='sweep',
                    help="apical's stepper (default sweep, the COBA networks' shipped one; "
                         "rkf45 for the GSL path)")
    ap.add_argument('--tol', type=float, default=1e-4, help='abs_tol = rel_tol (default 1e-4)')
    ap.add_argument('--partitions', type=int, default=2)
    ap.add_argument('--threads', type=int, default=0, help='apical threads (0: automatic)')
    ap.add_argument('--repeat', '-r', type=int, default=1, help='runs per size; minimum kept')
    ap.add_argument('--no-brian2', action='store_true', help='apical only')
    ap.add_argument('--no-apical', action='store_true', help='Brian2 only')
    ap.add_argument('--json')
    ap.add_argument('--keep', help='write the networks and outputs here instead of a temp dir')
    a = ap.parse_args()
    apical = None if a.no_apical else find_apical()
    python = None
    if not a.no_brian2:
        python = find_python()
        if not python:
            print('scale.py: brian2 skipped: no interpreter imports brian2 '
                  '(PYTHON=/usr/bin/python3 with python3-brian)')
    tmp = a.keep or tempfile.mkdtemp(prefix='apical_scale_')
    os.makedirs(tmp, exist_ok=True)
    rows = []
    print('scale: fixed in-degree 64 exc + 16 inh, %g ms simulated; apical %s %g, %d partitions, '
          'threads %s; Brian2 C++ standalone, 1 thread, dt 0.1 ms; minimum of %d run(s)'
          % (a.duration, a.stepper, a.tol, a.partitions, a.threads or 'auto', a.repeat), flush=True)
    print('%18s | %-38s | %-38s | %-20s | %7s'
          % ('', 'apical', 'Brian2 (1 thread)', 'Brian2 / apical', 'Brian2'))
    print('%8s %9s | %8s %8s %7s %6s %5s | %8s %8s %7s %6s %5s | %6s %6s %6s | %7s'
          % ('N', 'synapses', 'build s', 'sim s/s', 'RSS MB', 'B/syn', 'Hz',
             'build s', 'sim s/s', 'RSS MB', 'B/syn', 'Hz', 'build', 'sim', 'RSS', 'cg+cc s'),
          flush=True)
    try:
        for n in [int(x) for x in a.sizes.split(',')]:
            n_exc = n * 4 // 5
            syn = 80 * n
            row = {'n': n, 'synapses': syn, 'apical': None, 'brian2': None}
            if apical:
                net = os.path.join(tmp, 'scale_%d.yaml' % n)
                with open(net, 'w') as f:
                    f.write(NET.format(n=n, n_exc=n_exc, n_inh=n - n_exc, duration='%g' % a.duration,
                                       partitions=a.partitions, threads=a.threads,
                                       stepper=a.stepper, tol='%g' % a.tol))
                best, runs = None, []
                for _ in range(a.repeat):
                    r = run_once(apical, net, os.path.join(tmp, 'scale_%d.h5' % n),
                                 os.path.join(tmp, 'scale_%d.json' % n))
                    runs.append(r[:3])
                    best = r if best is None else tuple(
                        min(x, y) if x is not None and y is not None else x for x, y in zip(best, r))
                build_s, run_s, rss_kb, rate = best
                row['apical'] = {'build_s': build_s, 'sim_s': run_s,
                                 'sim_s_per_s': run_s / (a.duration * 1e-3),
                                 'rss_mb': rss_kb / 1024.0 if rss_kb else None,
                                 'bytes_per_syn': rss_kb * 1024.0 / syn if rss_kb else None,
                                 'rate_exc_hz': rate,
                                 'runs': [{'build_s': x, 'sim_s': y, 'rss_kb': z} for x, y, z in runs]}
            if python:
                b = run_brian2(python, n, a.duration, a.repeat, a.keep)
                if 'error' in b:
                    print('scale.py: Brian2 at N = %d: %s' % (n, b['error']), file=sys.stderr)
                else:
                    b['sim_s_per_s'] = b['sim_s'] / (a.duration * 1e-3)
                    b['rss_mb'] = b['rss_kb'] / 1024.0 if b.get('rss_kb') else None
                    b['bytes_per_syn'] = b['rss_kb'] * 1024.0 / b['synapses'] if b.get('rss_kb') else None
                    row['brian2'] = b
            rows.append(row)
            ap_, b2 = row['apical'] or {}, row['brian2'] or {}
            print('%8d %9d | %8s %8s %7s %6s %5s | %8s %8s %7s %6s %5s | %6s %6s %6s | %7s' % (
                n, syn,
                fmt(ap_.get('build_s'), '%.3f'), fmt(ap_.get('sim_s_per_s'), '%.2f'),
                fmt(ap_.get('rss_mb'), '%.0f'), fmt(ap_.get('bytes_per_syn'), '%.1f'),
                fmt(ap_.get('rate_exc_hz'), '%.1f'),
                fmt(b2.get('build_s'), '%.3f'), fmt(b2.get('sim_s_per_s'), '%.2f'),
                fmt(b2.get('rss_mb'), '%.0f'), fmt(b2.get('bytes_per_syn'), '%.1f'),
                fmt(b2.get('rate_exc_hz'), '%.1f'),
                fmt(ratio(b2.get('build_s'), ap_.get('build_s')), '%.2f'),
                fmt(ratio(b2.get('sim_s_per_s'), ap_.get('sim_s_per_s')), '%.2f'),
                fmt(ratio(b2.get('rss_mb'), ap_.get('rss_mb')), '%.2f'),
                fmt(b2.get('codegen_compile_s'), '%.1f')), flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if rows and rows[0]['brian2']:
        print('Brian2 method: %s' % rows[0]['brian2'].get('method'))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'duration_ms': a.duration, 'stepper': a.stepper, 'tol': a.tol,
                       'partitions': a.partitions, 'threads': a.threads, 'repeat': a.repeat,
                       'rows': rows}, f, indent=1)


if __name__ == '__main__':
    main()
