#!/usr/bin/python3
"""Brette et al. 2007 COBA / CUBA networks in Brian2, C++ standalone mode.

The reference half of `make bench` (tests/bench/bench.py runs this script in a
subprocess per configuration, so that every run gets a fresh Brian2 device and
the whole-process wall time is measured honestly).

Parameters are those of /work/shared/REFERENCES.md section 1, identical to
networks/brette2007_{coba,cuba}.yaml:
  4000 neurons (3200 exc + 800 inh), C_m 200 pF, g_L 10 nS (tau_m 20 ms),
  V_th -50 mV, V_reset -60 mV, refractory 5 ms (V clamped, synaptic variables
  keep decaying), Bernoulli p = 0.02 per pair, autapses allowed, delay 0.1 ms.
  COBA: E_L -60 mV, E_exc 0 mV, E_inh -80 mV, tau 5 / 10 ms, jumps 6 / 67 nS,
        V ~ N(-65, 5) mV, g_exc ~ N(40, 15) nS, g_inh ~ N(200, 120) nS
        (not clipped, as in Brette's Brian script).
  CUBA: E_L -49 mV, current synapses tau 5 / 10 ms, jumps +16.2 pA / -90 pA
        (= +1.62 mV / -9 mV times g_L), V ~ U(-60, -50) mV, I = 0.
No integration method is given, so Brian2 picks its default
('exact', then 'euler', then 'heun'); the chosen one is reported.

Timing:
  build_s     code generation + compilation (device.build(compile=True, run=False))
  binary_s    wall time of the generated binary (network construction, synapse
              creation, the run, writing results)
  sim_s       Brian2's own timer around network.run inside the binary
              (results/last_run_info.txt), i.e. simulation only
  process_s   (measured by the caller: bench.py times the whole subprocess)

Usage:
  /usr/bin/python3 tests/bench/brian2_brette.py coba --duration 1000 [--dt 0.1]
        [--seed 1] [--threads 0] [--keep DIR] [--json]
"""
import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
import warnings

warnings.filterwarnings('ignore', category=FutureWarning)  # pythran vs numpy noise

import numpy as np

N_E, N_I = 3200, 800


class _MethodCatcher(logging.Handler):
    """Catches Brian2's "using method 'x'" log message."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.methods = {}

    def emit(self, record):
        msg = record.getMessage()
        key = "using method '"
        if key in msg and "for group '" in msg:
            group = msg.split("for group '", 1)[1].split("'", 1)[0]
            self.methods[group] = msg.split(key, 1)[1].split("'", 1)[0]


def run(network, duration_ms, dt_ms=0.1, seed_value=1, threads=0,
        directory=None, keep=False):
    t_start = time.perf_counter()
    import brian2 as b2
    from brian2 import ms, mV, nS, pF, pA  # noqa: F401 (used in namespaces)
    t_import = time.perf_counter() - t_start

    catcher = _MethodCatcher()
    blog = logging.getLogger('brian2')
    blog.addHandler(catcher)
    if blog.level == logging.NOTSET or blog.level > logging.INFO:
        blog.setLevel(logging.DEBUG)

    own_dir = directory is None
    if own_dir:
        directory = tempfile.mkdtemp(prefix='apical_b2_%s_' % network)
    b2.set_device('cpp_standalone', directory=directory, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
    b2.BrianLogger.log_level_warn()   # console only; the catcher sees INFO
    b2.defaultclock.dt = dt_ms * ms
    b2.seed(seed_value)

    ns = dict(C_m=200 * pF, g_L=10 * nS, V_th=-50 * mV, V_reset=-60 * mV)
    if network == 'coba':
        ns.update(E_L=-60 * mV, E_exc=0 * mV, E_inh=-80 * mV,
                  tau_exc=5 * ms, tau_inh=10 * ms, w_exc=6 * nS, w_inh=67 * nS)
        eqs = '''
        dv/dt = (g_L*(E_L - v) + g_exc*(E_exc - v) + g_inh*(E_inh - v))/C_m : volt (unless refractory)
        dg_exc/dt = -g_exc/tau_exc : siemens
        dg_inh/dt = -g_inh/tau_inh : siemens
        '''
        on_e, on_i = 'g_exc += w_exc', 'g_inh += w_inh'
    elif network == 'cuba':
        ns.update(E_L=-49 * mV, tau_exc=5 * ms, tau_inh=10 * ms,
                  w_exc=16.2 * pA, w_inh=-90 * pA)
        eqs = '''
        dv/dt = (g_L*(E_L - v) + I_exc + I_inh)/C_m : volt (unless refractory)
        dI_exc/dt = -I_exc/tau_exc : amp
        dI_inh/dt = -I_inh/tau_inh : amp
        '''
        on_e, on_i = 'I_exc += w_exc', 'I_inh += w_inh'
    else:
        raise ValueError('unknown network %r (coba or cuba)' % network)

    P = b2.NeuronGroup(N_E + N_I, eqs, threshold='v > V_th', reset='v = V_reset',
                       refractory=5 * ms, namespace=ns, name='brette')
    Pe, Pi = P[:N_E], P[N_E:]
    if network == 'coba':
        P.v = '-65*mV + 5*mV*randn()'
        P.g_exc = '40*nS + 15*nS*randn()'
        P.g_inh = '200*nS + 120*nS*randn()'
    else:
        P.v = '-60*mV + 10*mV*rand()'
        P.I_exc = 0 * pA
        P.I_inh = 0 * pA
    Ce = b2.Synapses(Pe, P, on_pre=on_e, delay=0.1 * ms, namespace=ns, name='ce')
    Ci = b2.Synapses(Pi, P, on_pre=on_i, delay=0.1 * ms, namespace=ns, name='ci')
    Ce.connect(p=0.02)
    Ci.connect(p=0.02)
    Me = b2.SpikeMonitor(Pe, name='me')
    Mi = b2.SpikeMonitor(Pi, name='mi')
    net = b2.Network(P, Ce, Ci, Me, Mi)
    net.run(duration_ms * ms)

    t0 = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False,
                    with_output=False)
    t1 = time.perf_counter()
    b2.device.run(directory=directory, with_output=False, run_args=[])
    t2 = time.perf_counter()

    ie = np.asarray(Me.i[:])
    ii = np.asarray(Mi.i[:])
    outdeg = (np.bincount(np.asarray(Ce.i[:]), minlength=N_E),
              np.bincount(np.asarray(Ci.i[:]), minlength=N_I))
    syn_events = int(outdeg[0][ie].sum() + outdeg[1][ii].sum())
    n_syn = int(len(Ce) + len(Ci))
    dur_s = duration_ms / 1000.0
    sim_s = float(b2.device._last_run_time)
    res = {
        'simulator': 'brian2',
        'brian2_version': b2.__version__,
        'network': network,
        'duration_ms': duration_ms,
        'dt_ms': dt_ms,
        'seed': seed_value,
        'openmp_threads': threads,
        'method': catcher.methods.get('brette', '?'),
        'import_s': t_import,
        'build_s': t1 - t0,
        'compile_make_s': float(b2.device.timers.get('compile', {}).get('make') or 0.0),
        'binary_s': t2 - t1,
        'sim_s': sim_s,
        'populations': {
            'exc': {'n': N_E, 'spikes': int(len(ie)),
                    'rate_hz': len(ie) / (N_E * dur_s)},
            'inh': {'n': N_I, 'spikes': int(len(ii)),
                    'rate_hz': len(ii) / (N_I * dur_s)},
        },
        'rate_hz': (len(ie) + len(ii)) / ((N_E + N_I) * dur_s),
        'synapses': n_syn,
        'synaptic_events': syn_events,
        'synaptic_events_per_s': syn_events / sim_s if sim_s > 0 else None,
        'directory': directory if (keep or not own_dir) else None,
    }
    if own_dir and not keep:
        shutil.rmtree(directory, ignore_errors=True)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('network', choices=['coba', 'cuba'])
    ap.add_argument('--duration', type=float, default=1000.0, help='ms (default 1000)')
    ap.add_argument('--dt', type=float, default=0.1, help='ms (default 0.1)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=0,
                    help='OpenMP threads of the generated code (0 = none, default)')
    ap.add_argument('--keep', metavar='DIR', help='build in DIR and keep it')
    ap.add_argument('--json', action='store_true', help='print JSON only')
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = run(a.network, a.duration, a.dt, a.seed, a.threads,
              directory=a.keep, keep=bool(a.keep))
    res['process_inner_s'] = time.perf_counter() - t0
    if a.json:
        print(json.dumps(res))
    else:
        print('Brian2 %s C++ standalone, %s, %g ms, dt %g ms, seed %d, method %s'
              % (res['brian2_version'], a.network.upper(), a.duration, a.dt,
                 a.seed, res['method']))
        print('  build (codegen+compile) %.2f s, binary %.2f s, simulation %.3f s'
              % (res['build_s'], res['binary_s'], res['sim_s']))
        for p, d in res['populations'].items():
            print('  %-3s n=%d spikes=%d rate=%.2f Hz' % (p, d['n'], d['spikes'], d['rate_hz']))
        print('  mean rate %.2f Hz, %d synapses, %d synaptic events (%.3g /s)'
              % (res['rate_hz'], res['synapses'], res['synaptic_events'],
                 res['synaptic_events_per_s'] or 0))
    return 0


if __name__ == '__main__':
    sys.exit(main())
