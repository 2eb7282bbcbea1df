#!/usr/bin/python3
"""Brette et al. 2007 COBA / CUBA / COBAHH networks in Brian2, C++ standalone mode.

The reference half of `make bench` (tests/bench/bench.py runs this script in a
subprocess per configuration, so that every run gets a fresh Brian2 device and
the whole-process wall time is measured honestly).

Parameters are those of /work/shared/REFERENCES.md section 1, identical to
networks/brette2007_{coba,cuba,cobahh}.yaml:
  4000 neurons (3200 exc + 800 inh), C_m 200 pF, g_L 10 nS (tau_m 20 ms),
  V_th -50 mV, V_reset -60 mV, refractory 5 ms (V clamped, synaptic variables
  keep decaying), Bernoulli p = 0.02 per pair, autapses allowed, delay 0.1 ms.
  COBA: E_L -60 mV, E_exc 0 mV, E_inh -80 mV, tau 5 / 10 ms, jumps 6 / 67 nS,
        V ~ N(-65, 5) mV, g_exc ~ N(40, 15) nS, g_inh ~ N(200, 120) nS
        (not clipped, as in Brette's Brian script).
  CUBA: E_L -49 mV, current synapses tau 5 / 10 ms, jumps +16.2 pA / -90 pA
        (= +1.62 mV / -9 mV times g_L), V ~ U(-60, -50) mV, I = 0.
  COBAHH: Brian2's examples/COBAHH.py (R. Brette): Hodgkin-Huxley with
        Traub-Miles kinetics, area 20000 um^2 (C 200 pF, g_L 10 nS, g_Na 20 uS,
        g_K 6 uS), E_L -60 mV, E_Na 50 mV, E_K -90 mV, V_T -63 mV, synapses as
        COBA, threshold v > -20 mV, refractory 3 ms (V not clamped), no reset,
        V ~ -65 + 5 N(0,1) mV, g_exc ~ N(40, 15) nS, g_inh ~ N(200, 120) nS,
        m = h = n = 0; method 'exponential_euler' as in the example. The
        example has no synaptic delay; here 0.1 ms like the other two (and like
        networks/brette2007_cobahh.yaml).
  COBA_STDP: COBA with pair STDP on exc -> exc (networks/brette2007_coba_stdp.yaml;
        see coba_stdp_synapses for the rule and the differences from apical).
For COBA and CUBA no integration method is given, so Brian2 picks its default
('exact', then 'euler', then 'heun'); the chosen one is reported.

Timing:
  build_s     code generation + compilation (device.build(compile=True, run=False))
  binary_s    wall time of the generated binary (network construction, synapse
              creation, the run, writing results)
  sim_s       Brian2's own timer around network.run inside the binary
              (results/last_run_info.txt), i.e. simulation only
  process_s   (measured by the caller: bench.py times the whole subprocess)

Usage:
  /usr/bin/python3 tests/bench/brian2_brette.py coba|cuba|cobahh --duration 1000 [--dt 0.1]
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


def coba_stdp_synapses(b2, Pe, Pi, ns, on_e):
    """COBA's excitatory synapses with STDP on exc -> exc, as
    networks/brette2007_coba_stdp.yaml: pair STDP, all-to-all, multiplicative
    (NEST stdp_synapse with mu_plus = mu_minus = 1), lambda 0.01, alpha 1,
    tau_plus = tau_minus = 20 ms, W_max 12 nS, w0 6 nS. Traces are
    event-driven (updated only at spikes, as in apical). Differences from
    apical: spike times are on the 0.1 ms grid; the 0.1 ms delay is axonal
    (Brian delays the pre pathway; apical's is dendritic, NEST semantics), so
    the same spike pair is seen 0.2 ms apart in the two; the connectivity is
    drawn by Brian's generator (statistically, not pairwise, the same)."""
    from brian2 import ms, nS
    ns = dict(ns, tau_plus=20 * ms, tau_minus=20 * ms, lam=0.01, alpha=1.0, W_max=12 * nS)
    Cee = b2.Synapses(Pe, Pe, model='''w : siemens
                      dKp/dt = -Kp/tau_plus : 1 (event-driven)
                      dKm/dt = -Km/tau_minus : 1 (event-driven)''',
                      on_pre='''w = clip(w - alpha*lam*w*Km, 0*nS, W_max)
                      g_exc_post += w
                      Kp += 1''',
                      on_post='''w = clip(w + lam*(W_max - w)*Kp, 0*nS, W_max)
                      Km += 1''',
                      delay=0.1 * ms, namespace=ns, name='cee')
    Cee.connect(p=0.02)
    Cee.w = 6 * nS
    Cei = b2.Synapses(Pe, Pi, on_pre=on_e, delay=0.1 * ms, namespace=ns, name='cei')
    Cei.connect(p=0.02)
    return (Cee, Cei)


def run(network, duration_ms, dt_ms=0.1, seed_value=1, threads=0,
        directory=None, keep=False, method=None):
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
    if network in ('coba', 'coba_stdp'):
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
    elif network == 'cobahh':
        ns = dict(C_m=200 * pF, g_L=10 * nS, E_L=-60 * mV, E_K=-90 * mV, E_Na=50 * mV,
                  g_Na=20000 * nS, g_K=6000 * nS, V_T=-63 * mV, E_exc=0 * mV,
                  E_inh=-80 * mV, tau_exc=5 * ms, tau_inh=10 * ms, w_exc=6 * nS,
                  w_inh=67 * nS)
        eqs = '''
        dv/dt = (g_L*(E_L - v) + g_exc*(E_exc - v) + g_inh*(E_inh - v)
                 - g_Na*(m*m*m)*h*(v - E_Na) - g_K*(n*n*n*n)*(v - E_K))/C_m : volt
        dm/dt = alpha_m*(1 - m) - beta_m*m : 1
        dn/dt = alpha_n*(1 - n) - beta_n*n : 1
        dh/dt = alpha_h*(1 - h) - beta_h*h : 1
        dg_exc/dt = -g_exc/tau_exc : siemens
        dg_inh/dt = -g_inh/tau_inh : siemens
        alpha_m = 0.32*(mV**-1)*(13*mV - v + V_T)/(exp((13*mV - v + V_T)/(4*mV)) - 1.)/ms : Hz
        beta_m = 0.28*(mV**-1)*(v - V_T - 40*mV)/(exp((v - V_T - 40*mV)/(5*mV)) - 1)/ms : Hz
        alpha_h = 0.128*exp((17*mV - v + V_T)/(18*mV))/ms : Hz
        beta_h = 4./(1 + exp((40*mV - v + V_T)/(5*mV)))/ms : Hz
        alpha_n = 0.032*(mV**-1)*(15*mV - v + V_T)/(exp((15*mV - v + V_T)/(5*mV)) - 1.)/ms : Hz
        beta_n = .5*exp((10*mV - v + V_T)/(40*mV))/ms : Hz
        '''
        on_e, on_i = 'g_exc += w_exc', 'g_inh += w_inh'
    else:
        raise ValueError('unknown network %r (coba, cuba or cobahh)' % network)

    if network == 'cobahh':
        method = method or 'exponential_euler'
        P = b2.NeuronGroup(N_E + N_I, eqs, threshold='v > -20*mV', refractory=3 * ms,
                           method=method, namespace=ns, name='brette')
        catcher.methods['brette'] = method
    else:
        P = b2.NeuronGroup(N_E + N_I, eqs, threshold='v > V_th', reset='v = V_reset',
                           refractory=5 * ms, namespace=ns, name='brette',
                           **({'method': method} if method else {}))
        if method:
            catcher.methods['brette'] = method
    Pe, Pi = P[:N_E], P[N_E:]
    if network == 'cobahh':
        P.v = 'E_L + (randn()*5 - 5)*mV'
        P.g_exc = '(randn()*1.5 + 4)*10*nS'
        P.g_inh = '(randn()*12 + 20)*10*nS'
    elif network in ('coba', 'coba_stdp'):
        P.v = '-65*mV + 5*mV*randn()'
        P.g_exc = '40*nS + 15*nS*randn()'
        P.g_inh = '200*nS + 120*nS*randn()'
    else:
        P.v = '-60*mV + 10*mV*rand()'
        P.I_exc = 0 * pA
        P.I_inh = 0 * pA
    if network == 'coba_stdp':
        Ce = coba_stdp_synapses(b2, Pe, Pi, ns, on_e)
    else:
        Ce = b2.Synapses(Pe, P, on_pre=on_e, delay=0.1 * ms, namespace=ns, name='ce')
        Ce.connect(p=0.02)
    Ci = b2.Synapses(Pi, P, on_pre=on_i, delay=0.1 * ms, namespace=ns, name='ci')
    Ci.connect(p=0.02)
    Me = b2.SpikeMonitor(Pe, name='me')
    Mi = b2.SpikeMonitor(Pi, name='mi')
    net = b2.Network(P, Ci, Me, Mi, *(Ce if isinstance(Ce, tuple) else (Ce,)))
    net.run(duration_ms * ms)

    t0 = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False,
                    with_output=False)
    t1 = time.perf_counter()
    b2.device.run(directory=directory, with_output=False, run_args=[])
    t2 = time.perf_counter()

    ie = np.asarray(Me.i[:])
    ii = np.asarray(Mi.i[:])
    ce_i = np.concatenate([np.asarray(c.i[:]) for c in (Ce if isinstance(Ce, tuple) else (Ce,))])
    outdeg = (np.bincount(ce_i, minlength=N_E),
              np.bincount(np.asarray(Ci.i[:]), minlength=N_I))
    syn_events = int(outdeg[0][ie].sum() + outdeg[1][ii].sum())
    n_syn = int(len(ce_i) + len(Ci))
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
    ap.add_argument('network', choices=['coba', 'cuba', 'cobahh', 'coba_stdp'])
    ap.add_argument('--duration', type=float, default=1000.0, help='ms (default 1000)')
    ap.add_argument('--dt', type=float, default=0.1, help='ms (default 0.1)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=0,
                    help='OpenMP threads of the generated code (0 = none, default)')
    ap.add_argument('--keep', metavar='DIR', help='build in DIR and keep it')
    ap.add_argument('--method', help="Brian2 state updater (default: Brian's choice; "
                                     "COBAHH: exponential_euler, as the example)")
    ap.add_argument('--json', action='store_true', help='print JSON only')
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = run(a.network, a.duration, a.dt, a.seed, a.threads,
              directory=a.keep, keep=bool(a.keep), method=a.method)
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
