#!/usr/bin/python3
"""`make bench`: apical vs Brian2 (C++ standalone) on the Brette 2007 networks.

Runs networks/brette2007_{coba,cuba,cobahh,coba_stdp}.yaml in apical and the same
networks in Brian2 C++ standalone (tests/bench/brian2_brette.py, one subprocess
each) for 1 s and 10 s of simulated time (COBAHH: 1 s, see
--cobahh-durations), same seed, and prints one table:

  sim s     apical: wall_run_s from --stats-json (simulation only, network
            built); Brian2: its own timer around network.run in the binary
  total s   wall time of the whole process (apical: `apical run` incl. file
            parsing, build, HDF5; Brian2: python + codegen + compile + run)
  build s   apical: wall_build_s; Brian2: codegen + compilation
  B2/ap     Brian2 time / apical time (> 1: apical is faster), for sim and total
  rates     mean rates (Hz) exc / inh / all neurons
  syn ev/s  synaptic events (spike x fan-out deliveries) per second of sim time
and, last, the cost of plasticity: sim s of coba_stdp (COBA with STDP on
exc->exc) / sim s of static COBA, in apical and in Brian2 (dt 0.1 ms).

Brian2 runs single-threaded (no OpenMP) at dt 0.1 ms with its default state
updater (reported; COBAHH: exponential Euler, as Brian's example), and COBA and
COBAHH also at dt 0.01 ms (a fairer accuracy match for an error-controlled
solver; see tests/bench/accuracy.py and docs/VALIDATION.md).

Environment: APICAL (path of the apical binary; apical is skipped with a
message if it is missing), PYTHON (interpreter with brian2; default: this one).
Usage: APICAL=build/apical /usr/bin/python3 tests/bench/bench.py
         [--durations 1,10] [--networks coba,cuba,cobahh] [--cobahh-durations 1]
         [--seed 1] [--no-brian2]
         [--no-apical] [--no-fine] [--apical-threads N] [--json OUT.json]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def find_apical():
    a = os.environ.get('APICAL') or 'build/apical'
    for cand in (a, os.path.join(ROOT, a)):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    return None


def run_apical(apical, network, dur_ms, seed, threads, tmp):
    net = os.path.join(ROOT, 'networks', 'brette2007_%s.yaml' % network)
    if not os.path.isfile(net):
        return {'error': 'missing %s' % os.path.relpath(net, ROOT)}
    out = os.path.join(tmp, 'apical_%s_%g.h5' % (network, dur_ms))
    stats = os.path.join(tmp, 'apical_%s_%g.json' % (network, dur_ms))
    cmd = [apical, 'run', net, '-o', out, '--duration', '%g' % dur_ms,
           '--seed', str(seed), '--stats-json', stats, '--quiet']
    if threads is not None:
        cmd += ['--threads', str(threads)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        return {'error': 'apical exited %d: %s' % (r.returncode, (r.stderr or r.stdout).strip()[-500:])}
    try:
        with open(stats) as fh:
            s = json.load(fh)
    except (OSError, ValueError) as e:
        return {'error': 'no usable --stats-json output: %s' % e}
    for f in (out, stats):
        try:
            os.remove(f)
        except OSError:
            pass
    pops = s.get('populations', {})
    n = sum(p.get('n', 0) for p in pops.values())
    spk = sum(p.get('spikes', 0) for p in pops.values())
    d_s = float(s.get('duration_ms', dur_ms)) / 1000.0
    run_s = s.get('wall_run_s')
    tol = s.get('abs_tol'), s.get('rel_tol')
    return {
        'simulator': 'apical',
        # tolerances mean nothing to the window steppers (their step bound
        # is the model's): print the stepper alone
        'method': (s.get('stepper', '?') if s.get('stepper') in ('sweep', 'exact')
                   else '%s %s/%s' % (s.get('stepper', '?'), _g(tol[0]), _g(tol[1]))),
        'sim_s': run_s, 'build_s': s.get('wall_build_s'),
        'total_s': wall, 'apical_total_s': s.get('wall_total_s'),
        'rate_exc': pops.get('exc', {}).get('rate_hz'),
        'rate_inh': pops.get('inh', {}).get('rate_hz'),
        'rate_hz': spk / (n * d_s) if n and d_s else None,
        'synaptic_events': s.get('synaptic_events'),
        'syn_ev_per_s': (s['synaptic_events'] / run_s) if s.get('synaptic_events') and run_s else None,
        'stats': s,
    }


def _g(v):
    return '?' if v is None else '%g' % v


def run_brian2(python, network, dur_ms, dt_ms, seed):
    cmd = [python, os.path.join(HERE, 'brian2_brette.py'), network, '--duration', '%g' % dur_ms,
           '--dt', '%g' % dt_ms, '--seed', str(seed), '--json']
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        return {'error': 'brian2 exited %d: %s' % (r.returncode, r.stderr.strip()[-800:])}
    try:
        b = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {'error': 'brian2: no JSON on stdout: %s' % r.stdout[-300:]}
    return {
        'simulator': 'brian2',
        'method': '%s dt=%g' % (b['method'], dt_ms),
        'sim_s': b['sim_s'], 'build_s': b['build_s'], 'binary_s': b['binary_s'],
        'total_s': wall,
        'rate_exc': b['populations']['exc']['rate_hz'],
        'rate_inh': b['populations']['inh']['rate_hz'],
        'rate_hz': b['rate_hz'],
        'synaptic_events': b['synaptic_events'],
        'syn_ev_per_s': b['synaptic_events_per_s'],
        'brian2': b,
    }


def fnum(v, spec):
    return '-' if v is None else format(v, spec)


def print_plasticity_cost(rows):
    """Cost of plasticity: sim s of COBA with STDP on exc->exc (coba_stdp)
    over sim s of the static COBA network, per simulator and duration (Brian2
    at dt 0.1 ms). The issue's target: apical's ratio <= 2."""
    def sim_s(net, sim, T):
        for r in rows:
            if (r.get('network'), r.get('simulator'), r.get('duration_s')) == (net, sim, T) \
                    and 'error' not in r and (sim == 'apical' or 'dt=0.1' in r.get('method', '')):
                return r.get('sim_s')
        return None
    lines = []
    for T in sorted({r.get('duration_s') for r in rows if r.get('network') == 'coba_stdp'}):
        for sim in ('apical', 'brian2'):
            st, pl = sim_s('coba', sim, T), sim_s('coba_stdp', sim, T)
            if st and pl:
                lines.append('  %-7s T %4g s: static %.3f s, plastic %.3f s, plastic/static %.2f%s'
                             % (sim, T, st, pl, pl / st,
                                ' (issue 10: <= 1.3)' if sim == 'apical' else ''))
    if lines:
        print('cost of plasticity (COBA with STDP on exc->exc vs static COBA, sim s):')
        print('\n'.join(lines))


def bench_dendritic(apical, examples, threads, tmp, stepper=None, net_name='mnist_segregated',
                    partitions=None, tests=0):
    """Speed of the segregated-dendrite networks on MNIST (issue 12):
    networks/mnist_segregated.yaml (784-500-10) or mnist_segregated_deep.yaml
    (784-500-100-10). Training: `examples` examples (a forward + target
    phase and the update each), no test phase: examples / wall_run_s.
    Testing (tests > 0, examples 0): `tests` test presentations of 250 ms,
    no training: tests / wall_run_s. There is no Brian2 version; the
    authors' reference code (Python/numpy, 1 ms steps) manages about 12-20
    examples/s (REFERENCES.md section 3). stepper overrides the file's
    (exact) solver, e.g. rkf45 for the GSL path; partitions (with threads)
    overrides the file's 2 partitions."""
    net = os.path.join(ROOT, 'networks', net_name + '.yaml')
    if not os.path.exists(os.path.join(ROOT, 'data', 'mnist', 'train-images-idx3-ubyte')):
        print('dendritic %s: skipped (no data/mnist: run `make mnist`)' % net_name)
        return None
    stats = os.path.join(tmp, 'dend.json')
    # no --duration: the file gives none, so the run ends with the last
    # example (~105 ms each: 50 ms + Wald(2, 1) per phase on the 1 ms grid)
    cmd = [apical, 'run', net, '-o', os.path.join(tmp, 'dend.h5'), '--quiet',
           '--stats-json', stats]
    if threads is not None:
        cmd += ['--threads', str(threads)]
    # the file's protocol.examples bounds the run: set it, and the test
    # phase's (dropped when not measured), through a copy
    with open(net) as fh:
        text = fh.read().replace('\n  examples: 20\n', '\n  examples: %d\n' % examples)
    if tests:
        text = text.replace('\n    examples: 10\n', '\n    examples: %d\n' % tests)
    else:
        text = re.sub(r'\n  test:\n(    .*\n)+', '\n', text)
    if stepper:
        text = text.replace('solver: {stepper: exact}', 'solver: {stepper: %s}' % stepper)
    if partitions:
        text = text.replace('partitions: 2', 'partitions: %d' % partitions)
    text = text.replace('../data/mnist/', os.path.join(ROOT, 'data', 'mnist') + '/')
    copy = os.path.join(tmp, net_name + '.yaml')
    with open(copy, 'w') as fh:
        fh.write(text)
    cmd[2] = copy
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    total = time.time() - t0
    if r.returncode != 0:
        print('dendritic %s: ERROR: %s' % (net_name, r.stderr.strip()[-300:]))
        return {'error': r.stderr.strip()}
    with open(stats) as fh:
        st = json.load(fh)
    for f in (stats, os.path.join(tmp, 'dend.h5'), copy):
        try:
            os.remove(f)
        except OSError:
            pass
    what = 'test presentations' if tests else 'training examples'
    count = tests if tests else examples
    eps = count / st['wall_run_s'] if st['wall_run_s'] > 0 else float('nan')
    target = '>= 400/s' if tests else '>= 1000/s'
    print('dendritic %s on MNIST, stepper %s, %s partition(s): %d %s in %.2f s (run), '
          '%.2f s (process): %.1f %s/s (target %s); %s'
          % (net_name, stepper or 'exact', partitions or 'file\'s', count, what,
             st['wall_run_s'], total, eps, what, target,
             ', '.join('%s %.0f Hz' % (k, v['rate_hz']) for k, v in st['populations'].items())))
    return {'network': net_name, 'stepper': stepper or 'exact', 'examples': examples,
            'tests': tests, 'partitions': partitions, 'sim_s': st['wall_run_s'],
            'total_s': total, 'per_s': eps,
            ('tests_per_s' if tests else 'examples_per_s'): eps}


def main(argv=None):
    ap = argparse.ArgumentParser(description='apical vs Brian2 on the Brette 2007 networks.')
    ap.add_argument('--durations', default='1,10', help='simulated seconds, comma-separated (default 1,10)')
    ap.add_argument('--networks', default='coba,cuba,cobahh,coba_stdp')
    ap.add_argument('--cobahh-durations', default='1',
                    help='simulated seconds for COBAHH (default 1: Brian2 at dt 0.01 ms '
                         'needs over a minute per simulated second)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--no-brian2', action='store_true')
    ap.add_argument('--no-apical', action='store_true')
    ap.add_argument('--no-fine', action='store_true',
                    help='skip Brian2 COBA and COBAHH at dt 0.01 ms')
    ap.add_argument('--apical-threads', type=int, default=None,
                    help='pass --threads N to apical (default: the network file\'s)')
    ap.add_argument('--json', metavar='FILE', help='also write all results as JSON')
    ap.add_argument('--dendritic-examples', type=int, default=3000,
                    help='MNIST training examples for the dendritic networks (issue 12: 3000, '
                         'no test phase; 0: skip; needs make mnist)')
    ap.add_argument('--dendritic-tests', type=int, default=400,
                    help='MNIST test presentations (250 ms) for the same (0: skip)')
    ap.add_argument('--dendritic-gsl-examples', type=int, default=10,
                    help='the same on the GSL path (rkf45 1e-7), for comparison (0: skip)')
    a = ap.parse_args(argv)
    durations = [float(x) for x in a.durations.split(',') if x.strip()]
    hh_durations = [float(x) for x in a.cobahh_durations.split(',') if x.strip()]
    networks = [x.strip() for x in a.networks.split(',') if x.strip()]
    python = os.environ.get('PYTHON') or sys.executable

    apical = None
    if not a.no_apical:
        apical = find_apical()
        if apical is None:
            print('apical skipped: no executable at APICAL=%s (build it with `make`)'
                  % (os.environ.get('APICAL') or 'build/apical'))
    if not a.no_brian2:
        r = subprocess.run([python, '-c', 'import brian2'], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            print('brian2 skipped: %s cannot import brian2 (set PYTHON=/usr/bin/python3)' % python)
            a.no_brian2 = True

    print('Brette 2007 benchmarks, seed %d, %d cores; apical %s; Brian2 C++ standalone, 1 thread'
          % (a.seed, os.cpu_count() or 0, apical or '(skipped)'))
    rows = []
    tmp = tempfile.mkdtemp(prefix='apical_bench_')
    hdr = ('%-9s %5s %-8s %-27s %8s %8s %8s %7s %7s %7s %7s %7s %9s'
           % ('net', 'T s', 'sim', 'method', 'sim s', 'total s', 'build s', 'B2/ap', 'B2/ap',
              'exc Hz', 'inh Hz', 'all Hz', 'syn ev/s'))
    hdr2 = '%-9s %5s %-8s %-27s %8s %8s %8s %7s %7s' % ('', '', '', '', '', '', '', 'sim', 'total')
    print(hdr)
    print(hdr2)
    print('-' * len(hdr))
    sys.stdout.flush()
    for net in networks:
        for T in (hh_durations if net == 'cobahh' else durations):
            dur_ms = T * 1000.0
            configs = []
            if apical:
                configs.append(('apical', None))
            if not a.no_brian2:
                configs.append(('brian2', 0.1))
                if net in ('coba', 'cobahh') and not a.no_fine:
                    configs.append(('brian2', 0.01))
            base = None
            for sim, dt in configs:
                if sim == 'apical':
                    r = run_apical(apical, net, dur_ms, a.seed, a.apical_threads, tmp)
                else:
                    r = run_brian2(python, net, dur_ms, dt, a.seed)
                r.update(network=net, duration_s=T, simulator=sim)
                rows.append(r)
                if 'error' in r:
                    print('%-6s %5g %-8s ERROR: %s' % (net, T, sim, r['error']))
                    sys.stdout.flush()
                    continue
                if sim == 'apical':
                    base = r
                ratio_sim = ratio_tot = None
                if sim == 'brian2' and base:
                    if base.get('sim_s'):
                        ratio_sim = r['sim_s'] / base['sim_s']
                    if base.get('total_s'):
                        ratio_tot = r['total_s'] / base['total_s']
                    r['ratio_sim'], r['ratio_total'] = ratio_sim, ratio_tot
                print('%-9s %5g %-8s %-27s %8s %8s %8s %7s %7s %7s %7s %7s %9s'
                      % (net, T, sim, r['method'][:27], fnum(r['sim_s'], '.3f'),
                         fnum(r['total_s'], '.2f'), fnum(r.get('build_s'), '.2f'),
                         fnum(ratio_sim, '.2f'), fnum(ratio_tot, '.2f'),
                         fnum(r['rate_exc'], '.2f'), fnum(r['rate_inh'], '.2f'),
                         fnum(r['rate_hz'], '.2f'), fnum(r['syn_ev_per_s'], '.3g')))
                sys.stdout.flush()
    try:
        os.rmdir(tmp)
    except OSError:
        pass
    print('sim s: simulation only (apical wall_run_s; Brian2 network.run inside the binary).'
          ' total s: whole process.')
    print('B2/ap: Brian2 time / apical time (> 1 means apical is faster). published ranges:'
          ' COBA 17-21 Hz, CUBA 5.3-5.9 Hz, COBAHH 33-38 Hz')
    print_plasticity_cost(rows)
    # issue 12's measurement: 784-500-10 on 1 partition (1 thread) and on
    # the file's 2 partitions (2 threads), training and testing; the deep
    # network on the file's partitions
    for net_name in ('mnist_segregated', 'mnist_segregated_deep'):
        for parts in ((1, None) if net_name == 'mnist_segregated' else (None,)):
            thr = 1 if parts == 1 else a.apical_threads
            if apical and a.dendritic_examples > 0:
                d = bench_dendritic(apical, a.dendritic_examples, thr,
                                    tempfile.mkdtemp(prefix='apical_dend_'),
                                    net_name=net_name, partitions=parts)
                if d:
                    rows.append(d)
            if apical and a.dendritic_tests > 0:
                d = bench_dendritic(apical, 0, thr, tempfile.mkdtemp(prefix='apical_dend_'),
                                    net_name=net_name, partitions=parts, tests=a.dendritic_tests)
                if d:
                    rows.append(d)
    if apical and a.dendritic_gsl_examples > 0:
        d = bench_dendritic(apical, a.dendritic_gsl_examples, a.apical_threads,
                            tempfile.mkdtemp(prefix='apical_dend_'), stepper='rkf45')
        if d:
            rows.append(d)
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump({'seed': a.seed, 'rows': rows}, fh, indent=1)
    return 1 if any('error' in r for r in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
