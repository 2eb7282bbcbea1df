#!/usr/bin/python3
"""Spike-time accuracy of one lif_cond_exp neuron (Brette 2007 COBA parameters).

One neuron (C_m 200 pF, g_L 10 nS, E_L -60 mV, V_th -50 mV, V_reset -60 mV,
t_ref 5 ms, E_exc 0 mV, E_inh -80 mV, tau_exc 5 ms, tau_inh 10 ms, V(0) = E_L,
g(0) = 0) driven by a fixed input train: N_EXC excitatory (6 nS) and N_INH
inhibitory (67 nS) spikes at pseudo-random times (fixed seed) on the 0.1 ms
grid over 1 s, so that grid simulators receive them exactly.

Reference: scipy.integrate.solve_ivp (DOP853, rtol = atol = 1e-12) for V
between input times, conductances decaying exactly (closed form), threshold
crossings located by solve_ivp's event location; reset to V_reset and V held
for t_ref (inputs still add to the conductances). A second reference at
1e-10 checks the first.

Compared (skipped with a message when unavailable):
  brian2 dt=0.1 / 0.01 ms  runtime mode, Brian's default method (reported),
                           SpikeGeneratorGroup inputs, delay 0;
  apical                   generated YAML network, stepper/tolerances from
                           --stepper/--abs-tol/--rel-tol (default rkf45 1e-6),
                           plus rk8pd at 1e-12 as a cross-check of the
                           reference (both should agree to ~1e-9 ms).
Spikes are matched in order; if counts differ this is said and the common
prefix is compared.

Usage: APICAL=build/apical /usr/bin/python3 tests/bench/accuracy.py
         [--stepper S] [--abs-tol X] [--rel-tol X] [--window MS] [--no-brian2] [--no-apical]
         [--n-exc 200 --n-inh 50 --seed 7] [--json OUT.json] [--keep DIR]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

warnings.filterwarnings('ignore', category=FutureWarning)  # pythran vs numpy noise

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'analysis'))

# units: ms, mV, nS, pF  ->  nS*mV/pF = mV/ms
P = dict(C_m=200.0, g_L=10.0, E_L=-60.0, V_th=-50.0, V_reset=-60.0, t_ref=5.0,
         E_exc=0.0, E_inh=-80.0, tau_exc=5.0, tau_inh=10.0)
W_EXC, W_INH = 6.0, 67.0
T_END = 1000.0


def make_inputs(n_exc, n_inh, seed):
    """Distinct times on the 0.1 ms grid in (0, T_END): (exc, inh) arrays in ms."""
    rng = np.random.default_rng(seed)
    k = rng.choice(np.arange(1, int(T_END * 10)), size=n_exc + n_inh, replace=False)
    te = np.sort(k[:n_exc]) / 10.0
    ti = np.sort(k[n_exc:]) / 10.0
    return te, ti


def reference(te, ti, tol=1e-12, p=P):
    """Spike times (ms) by DOP853 between inputs with event location."""
    from scipy.integrate import solve_ivp
    ev = sorted([(t, 0) for t in te] + [(t, 1) for t in ti])
    C, gL, EL = p['C_m'], p['g_L'], p['E_L']
    Ee, Ei, te_, ti_ = p['E_exc'], p['E_inh'], p['tau_exc'], p['tau_inh']
    Vth, Vr, tref = p['V_th'], p['V_reset'], p['t_ref']

    t, V, ge, gi = 0.0, EL, 0.0, 0.0
    ref_until = -np.inf
    spikes = []
    k = 0
    n_steps = 0

    def decay(ge, gi, dt):
        return ge * np.exp(-dt / te_), gi * np.exp(-dt / ti_)

    while t < T_END:
        t_in = ev[k][0] if k < len(ev) else T_END
        if ref_until > t:                       # refractory: V clamped
            t_stop = min(ref_until, t_in)
            ge, gi = decay(ge, gi, t_stop - t)
            t, V = t_stop, Vr
        elif t_in > t:
            t0, ge0, gi0 = t, ge, gi

            def f(s, y):
                g1 = ge0 * np.exp(-(s - t0) / te_)
                g2 = gi0 * np.exp(-(s - t0) / ti_)
                return [(gL * (EL - y[0]) + g1 * (Ee - y[0]) + g2 * (Ei - y[0])) / C]

            def cross(s, y):
                return y[0] - Vth
            cross.terminal, cross.direction = True, 1
            sol = solve_ivp(f, (t0, t_in), [V], method='DOP853', rtol=tol, atol=tol,
                            events=cross)
            n_steps += sol.t.size
            if sol.status == 1 and sol.t_events[0].size:
                ts = float(sol.t_events[0][0])
                spikes.append(ts)
                ge, gi = decay(ge0, gi0, ts - t0)
                t, V, ref_until = ts, Vr, ts + tref
                continue
            if sol.status != 0:
                raise RuntimeError('solve_ivp failed: ' + sol.message)
            V = float(sol.y[0, -1])
            ge, gi = decay(ge0, gi0, t_in - t0)
            t = t_in
        while k < len(ev) and ev[k][0] <= t:    # inputs at t
            if ev[k][1] == 0:
                ge += W_EXC
            else:
                gi += W_INH
            k += 1
    return np.array(spikes)


def compare(ref, got, window=2.0):
    """In-order comparison (the figure of merit), plus, when the counts
    differ, a nearest-spike matching within +-window ms to show whether the
    difference is one extra/missing spike or a drift."""
    ref, got = np.asarray(ref, float), np.asarray(got, float)
    n = min(len(ref), len(got))
    d = np.abs(got[:n] - ref[:n])
    res = {'n_ref': int(len(ref)), 'n': int(len(got)), 'matched': int(n),
           'counts_equal': len(ref) == len(got),
           'max_err_ms': float(d.max()) if n else None,
           'mean_err_ms': float(d.mean()) if n else None}
    if len(ref) != len(got):
        used = np.zeros(len(got), bool)
        errs = []
        for t in ref:
            if not len(got):
                break
            cand = np.where(~used)[0]
            if not cand.size:
                break
            j = cand[np.argmin(np.abs(got[cand] - t))]
            if abs(got[j] - t) <= window:
                used[j] = True
                errs.append(abs(got[j] - t))
        res['nearest'] = {'window_ms': window, 'matched': len(errs),
                          'missing': int(len(ref) - len(errs)),
                          'extra': int(len(got) - len(errs)),
                          'max_err_ms': float(max(errs)) if errs else None,
                          'mean_err_ms': float(np.mean(errs)) if errs else None}
    return res


# --- Brian2 ------------------------------------------------------------------

_B2_METHODS = []   # Brian logs its method choice once per equations


def brian2_run(te, ti, dt_ms):
    import logging
    import brian2 as b2
    from brian2 import ms, mV, nS, pF  # noqa: F401
    b2.BrianLogger.log_level_warn()

    class H(logging.Handler):
        def emit(self, r):
            m = r.getMessage()
            if "using method '" in m:
                _B2_METHODS.append(m.split("using method '", 1)[1].split("'", 1)[0])
    if not _B2_METHODS:
        lg = logging.getLogger('brian2')
        lg.addHandler(H(level=logging.DEBUG))
    b2.start_scope()
    b2.defaultclock.dt = dt_ms * ms
    ns = dict(C_m=P['C_m'] * pF, g_L=P['g_L'] * nS, E_L=P['E_L'] * mV,
              V_th=P['V_th'] * mV, V_reset=P['V_reset'] * mV, E_exc=P['E_exc'] * mV,
              E_inh=P['E_inh'] * mV, tau_exc=P['tau_exc'] * ms, tau_inh=P['tau_inh'] * ms,
              w_exc=W_EXC * nS, w_inh=W_INH * nS)
    eqs = '''
    dv/dt = (g_L*(E_L - v) + g_exc*(E_exc - v) + g_inh*(E_inh - v))/C_m : volt (unless refractory)
    dg_exc/dt = -g_exc/tau_exc : siemens
    dg_inh/dt = -g_inh/tau_inh : siemens
    '''
    G = b2.NeuronGroup(1, eqs, threshold='v > V_th', reset='v = V_reset',
                       refractory=P['t_ref'] * ms, namespace=ns, name='neuron')
    G.v = P['E_L'] * mV
    Se = b2.SpikeGeneratorGroup(1, np.zeros(len(te), int), te * ms)
    Si = b2.SpikeGeneratorGroup(1, np.zeros(len(ti), int), ti * ms)
    Ce = b2.Synapses(Se, G, on_pre='g_exc += w_exc', namespace=ns)
    Ci = b2.Synapses(Si, G, on_pre='g_inh += w_inh', namespace=ns)
    Ce.connect()
    Ci.connect()
    M = b2.SpikeMonitor(G)
    net = b2.Network(G, Se, Si, Ce, Ci, M)
    t0 = time.perf_counter()
    net.run(T_END * ms)
    wall = time.perf_counter() - t0
    try:
        target = type(G.state_updater.codeobj).__name__.replace('CodeObject', '').lower()
    except AttributeError:
        target = str(b2.prefs.codegen.target)
    return np.asarray(M.t / ms), {'method': _B2_METHODS[-1] if _B2_METHODS else '?',
                                  'target': target, 'wall_s': wall}


# --- apical ------------------------------------------------------------------

def apical_yaml(te, ti, stepper, abs_tol, rel_tol, window=None):
    """window: also a silent parrot projecting onto the neuron with this
    delay (ms), which makes apical's windows that long (the benchmark
    networks' 0.1 ms); without it the network has no synapses and windows
    are 1 ms. The stepper 'sweep' integrates by windows, so this matters."""
    q = lambda v, u: '%s %s' % (repr(float(v)), u)  # noqa: E731
    clk = '' if window is None else (
        '  clk: {size: 1, model: parrot}\n'
        'projections:\n'
        '  - {source: clk, target: neuron, connectivity: all_to_all, receptor: exc, '
        'weight: 0 nS, delay: %r ms}\n' % float(window))
    times = lambda ts: '[' + ', '.join('%.1f ms' % t for t in ts) + ']'  # noqa: E731
    return '''name: accuracy_lif_cond_exp
simulation:
  duration: {T}
  seed: 1
  solver: {{stepper: {st}, abs_tol: {at!r}, rel_tol: {rt!r}}}
populations:
  neuron:
    size: 1
    model: lif_cond_exp
    parameters:
      C_m: {C_m}
      g_L: {g_L}
      E_L: {E_L}
      V_th: {V_th}
      V_reset: {V_reset}
      t_ref: {t_ref}
      E_exc: {E_exc}
      E_inh: {E_inh}
      tau_exc: {tau_exc}
      tau_inh: {tau_inh}
    initial:
      V_m: {E_L}
      g_exc: 0 nS
      g_inh: 0 nS
{clk}inputs:
  - name: exc_train
    type: spike_times
    target: neuron
    nodes: [0]
    receptor: exc
    weight: {we}
    times: {te}
  - name: inh_train
    type: spike_times
    target: neuron
    nodes: [0]
    receptor: inh
    weight: {wi}
    times: {ti}
recorders:
  - type: spikes
    population: neuron
'''.format(T=q(T_END, 'ms'), st=stepper, at=float(abs_tol), rt=float(rel_tol),
           C_m=q(P['C_m'], 'pF'), g_L=q(P['g_L'], 'nS'), E_L=q(P['E_L'], 'mV'),
           V_th=q(P['V_th'], 'mV'), V_reset=q(P['V_reset'], 'mV'), t_ref=q(P['t_ref'], 'ms'),
           E_exc=q(P['E_exc'], 'mV'), E_inh=q(P['E_inh'], 'mV'),
           tau_exc=q(P['tau_exc'], 'ms'), tau_inh=q(P['tau_inh'], 'ms'),
           we=q(W_EXC, 'nS'), wi=q(W_INH, 'nS'), te=times(te), ti=times(ti), clk=clk)


def apical_run(apical, te, ti, stepper, abs_tol, rel_tol, workdir, window=None):
    import apical_h5 as ah
    tag = '%s_%g_%g_%s' % (stepper, abs_tol, rel_tol, window)
    net = os.path.join(workdir, 'accuracy_%s.yaml' % tag)
    out = os.path.join(workdir, 'accuracy_%s.h5' % tag)
    with open(net, 'w') as fh:
        fh.write(apical_yaml(te, ti, stepper, abs_tol, rel_tol, window))
    t0 = time.perf_counter()
    r = subprocess.run([apical, 'run', net, '-o', out, '--quiet'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError('apical exited %d: %s' % (r.returncode, (r.stderr or r.stdout).strip()[-2000:]))
    with ah.open_complete(out) as f:
        pops = {p.name: p for p in ah.spike_populations(f)}
    if 'neuron' not in pops:
        raise RuntimeError('%s has no /spikes/neuron' % out)
    return np.sort(pops['neuron'].times), {'wall_s': wall, 'network': net}


def find_apical():
    a = os.environ.get('APICAL') or os.path.join(ROOT, 'build', 'apical')
    if not os.path.isabs(a) and os.sep in a:
        a = os.path.join(ROOT, a) if not os.path.exists(a) else os.path.abspath(a)
    return a if os.path.isfile(a) and os.access(a, os.X_OK) else None


def main(argv=None):
    ap = argparse.ArgumentParser(description='Spike-time accuracy of one lif_cond_exp neuron.')
    ap.add_argument('--stepper', default='rkf45')
    ap.add_argument('--abs-tol', type=float, default=1e-6)
    ap.add_argument('--rel-tol', type=float, default=1e-6)
    ap.add_argument('--window', type=float, metavar='MS',
                    help='make apical\'s windows MS long (a silent 0-weight projection with '
                         'that delay; the benchmark networks use 0.1); stepper sweep is run at '
                         'both 1 ms and 0.1 ms windows unless this is given')
    ap.add_argument('--n-exc', type=int, default=200)
    ap.add_argument('--n-inh', type=int, default=50)
    ap.add_argument('--seed', type=int, default=7, help='seed of the input times')
    ap.add_argument('--no-brian2', action='store_true')
    ap.add_argument('--no-apical', action='store_true')
    ap.add_argument('--json', metavar='FILE', help='also write the results as JSON')
    ap.add_argument('--keep', metavar='DIR', help='keep the generated YAML/HDF5 in DIR')
    a = ap.parse_args(argv)

    te, ti = make_inputs(a.n_exc, a.n_inh, a.seed)
    t0 = time.perf_counter()
    ref = reference(te, ti, 1e-12)
    t_ref = time.perf_counter() - t0
    ref10 = reference(te, ti, 1e-10)
    print('Input: %d exc (%g nS) + %d inh (%g nS) spikes on the 0.1 ms grid over %g ms, seed %d'
          % (len(te), W_EXC, len(ti), W_INH, T_END, a.seed))
    print('Reference: scipy DOP853 rtol=atol=1e-12 with event location: %d spikes (%.1f s)'
          % (len(ref), t_ref))
    results = {'input': {'n_exc': len(te), 'n_inh': len(ti), 'seed': a.seed},
               'reference': {'spikes': ref.tolist()}, 'compared': {}}
    rows = [('scipy DOP853 1e-10 (self-check)', compare(ref, ref10), '')]

    if not a.no_brian2:
        try:
            for dt in (0.1, 0.01):
                sp, info = brian2_run(te, ti, dt)
                rows.append(('brian2 dt=%g ms' % dt, compare(ref, sp),
                             'method %s, target %s, %.1f s' % (info['method'], info['target'], info['wall_s'])))
                results['compared']['brian2_dt%g' % dt] = dict(rows[-1][1], **info, spikes=sp.tolist())
        except ImportError as e:
            print('brian2 skipped: %s' % e)

    apical = None if a.no_apical else find_apical()
    if not a.no_apical and apical is None:
        print('apical skipped: no executable at $APICAL (%s); build it with make'
              % (os.environ.get('APICAL') or 'build/apical'))
    if apical:
        workdir = a.keep or tempfile.mkdtemp(prefix='apical_acc_')
        os.makedirs(workdir, exist_ok=True)
        windows = [a.window] if a.window is not None else (
            [None, 0.1] if a.stepper == 'sweep' else [None])
        configs = [(a.stepper, a.abs_tol, a.rel_tol, w) for w in windows]
        if (a.stepper, a.abs_tol, a.rel_tol) != ('rk8pd', 1e-12, 1e-12):
            configs.append(('rk8pd', 1e-12, 1e-12, None))
        for st, at, rt, w in configs:
            # sweep has no tolerances: its step bound is the model's
            label = ('apical sweep' if st == 'sweep' else 'apical %s abs %g rel %g' % (st, at, rt)) + \
                    ('' if w is None else ', windows %g ms' % w) + \
                    (', windows 1 ms' if st == 'sweep' and w is None else '')
            try:
                sp, info = apical_run(apical, te, ti, st, at, rt, workdir, w)
            except Exception as e:  # report and go on
                print('%s: FAILED: %s' % (label, e))
                continue
            rows.append((label, compare(ref, sp), '%.2f s' % info['wall_s']))
            results['compared'][label] = dict(rows[-1][1], wall_s=info['wall_s'], spikes=sp.tolist())
        if not a.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    hdr = '%-34s %7s %7s %12s %12s  %s' % ('simulator', 'spikes', 'ref', 'max |dt| ms',
                                          'mean |dt| ms', 'notes')
    print(hdr)
    print('-' * len(hdr))
    for label, c, note in rows:
        extra = '' if c['counts_equal'] else 'COUNT DIFFERS (first %d compared) ' % c['matched']
        print('%-34s %7d %7d %12s %12s  %s%s'
              % (label, c['n'], c['n_ref'],
                 '-' if c['max_err_ms'] is None else '%.3e' % c['max_err_ms'],
                 '-' if c['mean_err_ms'] is None else '%.3e' % c['mean_err_ms'], extra, note))
        nm = c.get('nearest')
        if nm:
            print('%-34s %7s %7s %12s %12s  nearest match within %g ms: %d matched, %d missing, %d extra'
                  % ('', '', '', '-' if nm['max_err_ms'] is None else '%.3e' % nm['max_err_ms'],
                     '-' if nm['mean_err_ms'] is None else '%.3e' % nm['mean_err_ms'],
                     nm['window_ms'], nm['matched'], nm['missing'], nm['extra']))
    results['reference']['self_check_1e-10'] = rows[0][1]
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
