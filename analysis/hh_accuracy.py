#!/usr/bin/python3
"""Spike-time accuracy of one COBAHH neuron (hh_cond_exp_traub defaults):
apical at several solver settings and Brian2 (exponential Euler, the COBAHH
example's method) at dt 0.1 and 0.01 ms, against a SciPy reference.

The neuron (Brette 2007 benchmark 3 parameters, E_L = -60 mV: it fires on its
own) starts at V = -65 mV, m = h = n = 0, g = 0, and receives N_EXC = 200
excitatory (6 nS) and N_INH = 50 inhibitory (67 nS) input spikes at fixed
pseudo-random times on the 0.1 ms grid (seed 7) over 1 s, so that Brian
receives them exactly. Spike = upward crossing of -20 mV, none counted within
3 ms of the previous one; V is not reset.

Reference: scipy.integrate.solve_ivp, DOP853, rtol = atol = 1e-12, between
input times, crossings by event location (a second run at 1e-10 checks it).
Spikes are matched in order; if the counts differ, by nearest spike within
+-2 ms, and the unmatched ones are listed.

apical runs at several GSL settings and on stepper sweep (Cash-Karp 5(4)
with per-neuron error control, the COBAHH network's; its tolerance is the
model's own, so that row has none).

Usage: APICAL=build/apical /usr/bin/python3 analysis/hh_accuracy.py [--no-brian2] [--only sweep]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
from scipy.integrate import solve_ivp

warnings.filterwarnings('ignore', category=FutureWarning)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import apical_h5 as ah  # noqa: E402

C, GL, GNA, GK = 200.0, 10.0, 20000.0, 6000.0
EL, ENA, EK, VT, EE, EI = -60.0, 50.0, -90.0, -63.0, 0.0, -80.0
TE, TI, WE, WI = 5.0, 10.0, 6.0, 67.0
T_END, V0 = 1000.0, -65.0


def inputs(n_exc=200, n_inh=50, seed=7):
    rng = np.random.default_rng(seed)
    k = rng.choice(np.arange(1, int(T_END * 10)), size=n_exc + n_inh, replace=False)
    return np.sort(k[:n_exc]) / 10.0, np.sort(k[n_exc:]) / 10.0


def rhs(t, y):
    v, m, h, n, ge, gi = y
    u = v - VT
    am = 0.32 * (13 - u) / np.expm1((13 - u) / 4)
    bm = 0.28 * (u - 40) / np.expm1((u - 40) / 5)
    ah_ = 0.128 * np.exp((17 - u) / 18)
    bh = 4 / (1 + np.exp((40 - u) / 5))
    an = 0.032 * (15 - u) / np.expm1((15 - u) / 5)
    bn = 0.5 * np.exp((10 - u) / 40)
    dv = (GL * (EL - v) - GNA * m ** 3 * h * (v - ENA) - GK * n ** 4 * (v - EK)
          + ge * (EE - v) + gi * (EI - v)) / C
    return [dv, am * (1 - m) - bm * m, ah_ * (1 - h) - bh * h, an * (1 - n) - bn * n,
            -ge / TE, -gi / TI]


def reference(te, ti, tol=1e-12):
    ev = sorted([(t, 0) for t in te] + [(t, 1) for t in ti])
    cross = lambda t, y: y[0] + 20.0  # noqa: E731
    cross.direction = 1.0
    y = np.array([V0, 0, 0, 0, 0, 0], float)
    t, spikes, k = 0.0, [], 0
    while t < T_END:
        t_next = ev[k][0] if k < len(ev) else T_END
        if t_next > t:
            sol = solve_ivp(rhs, (t, t_next), y, method='DOP853', rtol=tol, atol=tol,
                            events=cross)
            if sol.status != 0:
                raise RuntimeError(sol.message)
            for ts in sol.t_events[0]:
                if not spikes or ts - spikes[-1] >= 3.0:
                    spikes.append(float(ts))
            y, t = sol.y[:, -1].copy(), t_next
        while k < len(ev) and ev[k][0] <= t:
            y[4 if ev[k][1] == 0 else 5] += WE if ev[k][1] == 0 else WI
            k += 1
    return np.array(spikes)


def run_apical(apical, te, ti, stepper, tol, tmp):
    times = lambda ts: '[' + ', '.join('%.1f ms' % t for t in ts) + ']'  # noqa: E731
    yaml_text = (
        'simulation: {duration: %g ms, solver: {stepper: %s%s}}\n'
        'populations:\n'
        '  n: {size: 1, model: hh_cond_exp_traub,\n'
        '      initial: {V_m: %g mV, m: 0, h: 0, n: 0, g_exc: 0 nS, g_inh: 0 nS}}\n'
        'inputs:\n'
        '  - {type: spike_times, target: n, receptor: exc, weight: %g nS, times: %s}\n'
        '  - {type: spike_times, target: n, receptor: inh, weight: %g nS, times: %s}\n'
        'recorders: [{type: spikes, population: n}]\n'
        % (T_END, stepper, ', abs_tol: %g, rel_tol: %g' % (tol, tol) if tol else '', V0, WE, times(te), WI, times(ti)))
    net, out = os.path.join(tmp, 'hh.yaml'), os.path.join(tmp, 'hh.h5')
    with open(net, 'w') as fh:
        fh.write(yaml_text)
    r = subprocess.run([apical, 'run', net, '-o', out, '--quiet'], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr)
    with ah.open_complete(out) as f:
        return np.sort(ah.spike_populations(f)[0].times)


def run_brian2(te, ti, dt):
    import brian2 as b2
    from brian2 import ms, mV, nS, pF  # noqa: F401
    b2.BrianLogger.log_level_warn()
    b2.start_scope()
    b2.prefs.codegen.target = 'numpy'
    b2.defaultclock.dt = dt * ms
    ns = dict(Cm=C * pF, gl=GL * nS, El=EL * mV, EK=EK * mV, ENa=ENA * mV, g_na=GNA * nS,
              g_kd=GK * nS, VT=VT * mV, Ee=EE * mV, Ei=EI * mV, taue=TE * ms, taui=TI * ms,
              we=WE * nS, wi=WI * nS)
    eqs = '''
    dv/dt = (gl*(El-v)+ge*(Ee-v)+gi*(Ei-v)-g_na*(m*m*m)*h*(v-ENa)-g_kd*(n*n*n*n)*(v-EK))/Cm : volt
    dm/dt = alpha_m*(1-m)-beta_m*m : 1
    dn/dt = alpha_n*(1-n)-beta_n*n : 1
    dh/dt = alpha_h*(1-h)-beta_h*h : 1
    dge/dt = -ge*(1./taue) : siemens
    dgi/dt = -gi*(1./taui) : siemens
    alpha_m = 0.32*(mV**-1)*(13*mV-v+VT)/(exp((13*mV-v+VT)/(4*mV))-1.)/ms : Hz
    beta_m = 0.28*(mV**-1)*(v-VT-40*mV)/(exp((v-VT-40*mV)/(5*mV))-1)/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*(15*mV-v+VT)/(exp((15*mV-v+VT)/(5*mV))-1.)/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    '''
    G = b2.NeuronGroup(1, eqs, threshold='v > -20*mV', refractory=3 * ms,
                       method='exponential_euler', namespace=ns)
    G.v = V0 * mV
    Se = b2.SpikeGeneratorGroup(1, np.zeros(len(te), int), te * ms)
    Si = b2.SpikeGeneratorGroup(1, np.zeros(len(ti), int), ti * ms)
    Ce = b2.Synapses(Se, G, on_pre='ge += we', namespace=ns)
    Ci = b2.Synapses(Si, G, on_pre='gi += wi', namespace=ns)
    Ce.connect()
    Ci.connect()
    M = b2.SpikeMonitor(G)
    b2.Network(G, Se, Si, Ce, Ci, M).run(T_END * ms, namespace={})
    return np.asarray(M.t / ms)


def compare(ref, got, window=2.0):
    """(count, max and mean |dt| in order, or, if the counts differ, over a
    nearest-spike matching within +-window ms, and the unmatched spikes)."""
    if len(ref) == len(got):
        d = np.abs(got - ref)
        return len(got), d.max(), d.mean(), ''
    used, errs, missing = np.zeros(len(got), bool), [], []
    for t in ref:
        cand = np.where(~used)[0]
        j = cand[np.argmin(np.abs(got[cand] - t))] if cand.size else None
        if j is not None and abs(got[j] - t) <= window:
            used[j] = True
            errs.append(abs(got[j] - t))
        else:
            missing.append(t)
    extra = got[~used]
    note = '  nearest match; missing %s, extra %s' % (
        ', '.join('%.2f' % t for t in missing) or '-', ', '.join('%.2f' % t for t in extra) or '-')
    return len(got), max(errs), float(np.mean(errs)), note


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ah.add_incomplete_arg(ap)
    ap.add_argument('--no-brian2', action='store_true')
    ap.add_argument('--only', help='one apical stepper, e.g. sweep (with its tolerance 0)')
    a = ap.parse_args(argv)
    ah.use_args(a)
    apical = os.environ.get('APICAL') or os.path.join(ROOT, 'build', 'apical')
    te, ti = inputs()
    ref = reference(te, ti)
    ref2 = reference(te, ti, 1e-10)
    print('reference DOP853 1e-12: %d spikes; 1e-10 vs 1e-12: max |dt| %.1e ms'
          % (len(ref), compare(ref, ref2)[1]))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for st, tol in (('rkf45', 1e-3), ('rkf45', 1e-4), ('rkck', 1e-4), ('rk2', 1e-4),
                        ('rkf45', 1e-6), ('rk8pd', 1e-10), ('sweep', 0)):
            if a.only and st != a.only:
                continue
            rows.append(('apical %s %g' % (st, tol) if tol else 'apical %s' % st,
                         run_apical(apical, te, ti, st, tol, tmp)))
    if not a.no_brian2:
        for dt in (0.1, 0.01):
            rows.append(('brian2 exp. Euler dt %g' % dt, run_brian2(te, ti, dt)))
    print('%-28s %6s %12s %12s' % ('', 'spikes', 'max |dt| ms', 'mean |dt| ms'))
    for name, got in rows:
        n, mx, mean, note = compare(ref, got)
        print('%-28s %6d %12.2e %12.2e%s' % (name, n, mx, mean, note))
    return 0


if __name__ == '__main__':
    sys.exit(main())
