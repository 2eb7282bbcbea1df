#!/usr/bin/python3
"""Brian2 (C++ standalone) counterpart of tests/bench/scale.py's network.

N neurons, 80 % exc / 20 % inh, COBA (Brette 2007) parameters and initial
state as scale.py's YAML (V ~ N(-65, 5) mV, g_exc ~ N(40, 15) nS,
g_inh ~ N(200, 120) nS, not clipped); every neuron receives exactly 64 exc
and 16 inh synapses: `Synapses(Pe, P).connect(i='k for k in sample(N_pre,
size=64)')`, i.e. per postsynaptic neuron 64 distinct presynaptic neurons
drawn without replacement (Brian2 2.5's generator with a fixed sample size).
Autapses are allowed, as in apical's fixed_indegree without `autapses:
false` (the YAML's default) on exc->exc and inh->inh. Constant weights
6 / 67 nS, delay 0.1 ms, dt 0.1 ms, Brian2's default state updater (reported),
no OpenMP, a SpikeMonitor on exc (apical records exc spikes).

One process per network (run it as a subprocess: a fresh Brian2 device each
time). Timing and memory:
  codegen_compile_s  device.build(compile=True, run=False): code generation
                     and compilation (fixed cost per network, outside the binary)
  build_s            inside the binary: from the top of main() (before
                     brian_start) to the return of network.run, minus Brian2's
                     own run timer; i.e. array allocation, initial values,
                     synapse creation and the spike queue's preparation
                     (code inserted with device.insert_code, CLOCK_MONOTONIC)
  sim_s              Brian2's run timer (results/last_run_info.txt)
  binary_s           wall time of the whole binary (also brian_end, which
                     writes every array, synapses included, to results/)
  rss_kb             peak resident set of the binary (/usr/bin/time -v as
                     prefs.devices.cpp_standalone.run_cmd_unix)

With --repeat R the compiled binary is run R times and the minimum of each
figure kept (separately: build, sim, binary and RSS minima may come from
different runs).

Usage: /usr/bin/python3 tests/bench/brian2_scale.py N --duration 100 [--seed 1]
         [--repeat 1] [--keep DIR]          (prints one JSON object)
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings

warnings.filterwarnings('ignore', category=FutureWarning)  # pythran vs numpy noise

TIMEV = '/usr/bin/time'

TIMER_START = r'''
struct timespec _scale_t0;
clock_gettime(CLOCK_MONOTONIC, &_scale_t0);
'''
TIMER_AFTER_RUN = r'''
{
    struct timespec _scale_t1;
    clock_gettime(CLOCK_MONOTONIC, &_scale_t1);
    std::ofstream _scale_f("results/scale_timing.txt");
    _scale_f.precision(9);
    _scale_f << (_scale_t1.tv_sec - _scale_t0.tv_sec) + 1e-9 * (_scale_t1.tv_nsec - _scale_t0.tv_nsec)
             << std::endl;
}
'''


def run(n, duration_ms, seed_value=1, directory=None, repeat=1):
    import brian2 as b2
    from brian2 import ms, mV, nS, pF
    import logging

    methods = {}

    class Catcher(logging.Handler):
        def emit(self, record):
            msg = record.getMessage()
            if "using method '" in msg and "for group 'scale'" in msg:
                methods['scale'] = msg.split("using method '", 1)[1].split("'", 1)[0]

    blog = logging.getLogger('brian2')
    blog.addHandler(Catcher(level=logging.DEBUG))
    if blog.level == logging.NOTSET or blog.level > logging.INFO:
        blog.setLevel(logging.DEBUG)

    own = directory is None
    if own:
        directory = tempfile.mkdtemp(prefix='apical_b2scale_%d_' % n)
    b2.set_device('cpp_standalone', directory=directory, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    use_timev = os.access(TIMEV, os.X_OK)
    if use_timev:
        b2.prefs.devices.cpp_standalone.run_cmd_unix = [TIMEV, '-v', '-o', 'results/time_v.txt',
                                                        './main']
    b2.BrianLogger.log_level_warn()
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(seed_value)

    n_exc = n * 4 // 5
    ns = dict(C_m=200 * pF, g_L=10 * nS, V_th=-50 * mV, V_reset=-60 * mV, E_L=-60 * mV,
              E_exc=0 * mV, E_inh=-80 * mV, tau_exc=5 * ms, tau_inh=10 * ms,
              w_exc=6 * nS, w_inh=67 * nS)
    eqs = '''
    dv/dt = (g_L*(E_L - v) + g_exc*(E_exc - v) + g_inh*(E_inh - v))/C_m : volt (unless refractory)
    dg_exc/dt = -g_exc/tau_exc : siemens
    dg_inh/dt = -g_inh/tau_inh : siemens
    '''
    b2.device.insert_code('before_start', TIMER_START)
    P = b2.NeuronGroup(n, eqs, threshold='v > V_th', reset='v = V_reset', refractory=5 * ms,
                       namespace=ns, name='scale')
    Pe, Pi = P[:n_exc], P[n_exc:]
    P.v = '-65*mV + 5*mV*randn()'
    P.g_exc = '40*nS + 15*nS*randn()'
    P.g_inh = '200*nS + 120*nS*randn()'
    Ce = b2.Synapses(Pe, P, on_pre='g_exc_post += w_exc', delay=0.1 * ms, namespace=ns,
                     name='ce')
    Ce.connect(i='k for k in sample(N_pre, size=64)')
    Ci = b2.Synapses(Pi, P, on_pre='g_inh_post += w_inh', delay=0.1 * ms, namespace=ns,
                     name='ci')
    Ci.connect(i='k for k in sample(N_pre, size=16)')
    Me = b2.SpikeMonitor(Pe, name='me')
    net = b2.Network(P, Ce, Ci, Me)
    net.run(duration_ms * ms)
    b2.device.insert_code('main', TIMER_AFTER_RUN)

    t0 = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False, with_output=False)
    t1 = time.perf_counter()
    best, runs = None, []
    for _ in range(max(1, repeat)):
        # the same compiled binary again: same seed, same network, same spikes
        t2 = time.perf_counter()
        b2.device.run(directory=directory, with_output=False, run_args=[])
        binary_s = time.perf_counter() - t2
        sim_s = float(b2.device._last_run_time)
        with open(os.path.join(directory, 'results', 'scale_timing.txt')) as f:
            to_after_run = float(f.read().split()[0])
        rss_kb = None
        if use_timev:
            with open(os.path.join(directory, 'results', 'time_v.txt')) as f:
                m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', f.read())
            rss_kb = int(m.group(1)) if m else None
        r = (binary_s, to_after_run - sim_s, sim_s, rss_kb)
        runs.append(dict(zip(('binary_s', 'build_s', 'sim_s', 'rss_kb'), r)))
        best = r if best is None else tuple(
            min(x, y) if x is not None and y is not None else x for x, y in zip(best, r))
    binary_s, build_s, sim_s, rss_kb = best
    n_syn = len(Ce) + len(Ci)
    spikes_exc = int(Me.num_spikes)
    res = {
        'simulator': 'brian2',
        'brian2_version': b2.__version__,
        'n': n,
        'duration_ms': duration_ms,
        'dt_ms': 0.1,
        'seed': seed_value,
        'openmp_threads': 0,
        'method': methods.get('scale', '?'),
        'codegen_compile_s': t1 - t0,
        'binary_s': binary_s,
        'build_s': build_s,
        'repeat': max(1, repeat),
        'sim_s': sim_s,
        'rss_kb': rss_kb,
        'synapses': int(n_syn),
        'rate_exc_hz': spikes_exc / (n_exc * duration_ms * 1e-3),
        'runs': runs,
    }
    if own:
        shutil.rmtree(directory, ignore_errors=True)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('n', type=int)
    ap.add_argument('--duration', type=float, default=100.0, help='ms (default 100)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--keep', metavar='DIR', help='build in DIR and keep it')
    ap.add_argument('--repeat', '-r', type=int, default=1,
                    help='runs of the compiled binary; minimum of each figure kept')
    a = ap.parse_args(argv)
    print(json.dumps(run(a.n, a.duration, a.seed, a.keep, a.repeat)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
