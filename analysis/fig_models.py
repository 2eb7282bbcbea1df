#!/usr/bin/python3
"""Figures of the neuron-model validation (docs/VALIDATION.md, "Neuron models").

Runs the apical binary on small generated networks and writes PNGs:

  RESULTS/adex_naud_patterns.png   the eight AdEx firing patterns of Naud et al.
                                   2008 (Table 1 parameters, current step from
                                   rest at t = 0, V_peak = 0 mV): V (cut at
                                   V_peak) and w over 600 ms, with the class
                                   tests/check_validation.c assigns
  RESULTS/hh_fI.png                f-I curve of the benchmark HH neuron
                                   (hh_cond_exp_traub defaults, E_L = -60 mV):
                                   rate vs injected current, and f^2 near the
                                   onset with the saddle-node current I_c of the
                                   steady-state analysis (type I)
  RESULTS/hh_trace.png             one HH neuron under a current step: V, m, h, n

The classification and I_c are recomputed here in Python, independently of the
C tests. Nothing here is needed by `make check`.

Usage: /usr/bin/python3 analysis/fig_models.py [--apical build/apical]
                                               [--results results] [--quick]
(--quick: fewer f-I points, shorter runs; for a smoke test.)
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import apical_h5 as ah  # noqa: E402

# Naud et al. 2008, Table 1: C pF, g_L nS, E_L mV, V_T mV, Delta_T mV, a nS,
# tau_w ms, b pA, V_reset mV, I pA.
NAUD = [
    ('tonic', (200, 10, -70, -50, 2, 2, 30, 0, -58, 500)),
    ('adapting', (200, 12, -70, -50, 2, 2, 300, 60, -58, 500)),
    ('initial burst', (130, 18, -58, -50, 2, 4, 150, 120, -50, 400)),
    ('regular bursting', (200, 10, -58, -50, 2, 2, 120, 100, -46, 210)),
    ('delayed accelerating', (200, 12, -70, -50, 2, -10, 300, 0, -58, 300)),
    ('delayed regular bursting', (100, 10, -65, -50, 2, -10, 90, 30, -47, 110)),
    ('transient', (100, 10, -65, -50, 2, 10, 90, 100, -47, 180)),
    ('irregular', (100, 12, -60, -50, 2, -11, 130, 30, -48, 160)),
]


def run(apical, yaml_text, tmp, name):
    """Run apical on yaml_text; return (spike populations, h5 file path)."""
    net = os.path.join(tmp, name + '.yaml')
    out = os.path.join(tmp, name + '.h5')
    with open(net, 'w') as fh:
        fh.write(yaml_text)
    r = subprocess.run([apical, 'run', net, '-o', out, '--quiet'],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit('apical failed on %s: %s' % (name, r.stderr.strip()))
    return out


def classify(t, T):
    """Same criteria as classify() in tests/check_validation.c."""
    n = len(t)
    if n == 0:
        return 'silent'
    if t[-1] < 0.2 * T:
        return 'transient'
    if n < 4:
        return 'irregular'
    isi = np.diff(t)
    s = np.sort(isi)
    ratios = s[1:] / s[:-1]
    k = int(np.argmax(ratios))
    gap, cut = ratios[k], 0.5 * (s[k] + s[k + 1])
    L = t[0]
    if gap > 3.0:
        long_idx = np.nonzero(isi > cut)[0]
        if len(long_idx) < 2 or not np.any(isi[long_idx[1]:] < cut):
            steady = np.all(np.abs(isi[len(isi) // 2:] / isi[-1] - 1) < 0.01) and \
                np.all(isi[long_idx[0]:] > cut)
            return 'initial burst' if steady and long_idx[0] > 0 else 'irregular'
        sizes, longs, run_ = [], [], 1
        for d in isi[long_idx[0] + 1:]:
            if d < cut:
                run_ += 1
            else:
                sizes.append(run_)
                longs.append(d)
                run_ = 1
        regular = len(long_idx) >= 3 and len(set(sizes)) == 1 and \
            np.all(np.abs(np.array(longs) / longs[0] - 1) < 0.05)
        if not regular or sizes[0] < 2:
            return 'irregular'
        return 'delayed regular bursting' if L > 0.5 * longs[0] else 'regular bursting'
    up = np.all(isi[1:] >= isi[:-1] * (1 - 1e-6))
    down = np.all(isi[1:] <= isi[:-1] * (1 + 1e-6))
    if down and isi[-1] < 0.8 * isi[0] and L > 1.5 * isi[0]:
        return 'delayed accelerating'
    if up and isi[-1] > 2 * isi[0]:
        return 'adapting'
    steady = s[-1] / s[0] <= 1.1 and np.all(np.abs(isi[len(isi) // 2:] / isi[-1] - 1) < 0.01)
    return 'tonic' if steady else 'irregular'


def fig_naud(apical, tmp, results):
    T_plot, T_class = 600.0, 1000.0
    fig, axes = plt.subplots(4, 4, figsize=(14, 10), sharex=True,
                             gridspec_kw={'height_ratios': [2, 1, 2, 1]})
    for i, (pattern, (C, gL, EL, VT, DT, a, tw, b, Vr, I)) in enumerate(NAUD):
        yaml_text = (
            'simulation: {duration: %g ms, solver: {stepper: rkf45, abs_tol: 1e-8, rel_tol: 1e-8}}\n'
            'populations:\n'
            '  n: {size: 1, model: adex_cond_exp, parameters: {C_m: %g pF, g_L: %g nS, E_L: %g mV,\n'
            '      V_T: %g mV, Delta_T: %g mV, a: %g nS, tau_w: %g ms, b: %g pA, V_reset: %g mV,\n'
            '      V_peak: 0 mV, t_ref: 0 ms, I_e: %g pA}, initial: {V_m: %g mV, w: 0 pA}}\n'
            'recorders:\n'
            '  - {type: spikes, population: n}\n'
            '  - {type: state, population: n, variables: [V_m, w], interval: 0.05 ms}\n'
            % (T_class, C, gL, EL, VT, DT, a, tw, b, Vr, I, EL))
        out = run(apical, yaml_text, tmp, 'naud%d' % i)
        with ah.open_complete(out) as f:
            t = ah.spike_populations(f)[0].times
            rep = ah.report(f, 'n')
        label = classify(np.sort(t), T_class)
        keep = rep['times'] <= T_plot
        tt = rep['times'][keep]
        v = np.minimum(rep['data'][keep, 0, 0], 0.0)
        w = rep['data'][keep, 0, 1]
        r, c = 2 * (i // 4), i % 4
        ax = axes[r, c]
        ax.plot(tt, v, lw=0.6, color='k')
        ts = t[t <= T_plot]
        ax.vlines(ts, -5, 0, color='C3', lw=0.8)
        ok = 'ok' if label == pattern else 'MISMATCH'
        ax.set_title('%s\nclassified: %s (%s)' % (pattern, label, ok), fontsize=9)
        ax.set_ylim(-80, 5)
        if c == 0:
            ax.set_ylabel('V (mV)')
        axw = axes[r + 1, c]
        axw.plot(tt, w, lw=0.8, color='C0')
        if c == 0:
            axw.set_ylabel('w (pA)')
        if r + 1 == 3:
            axw.set_xlabel('t (ms)')
    fig.suptitle('AdEx firing patterns (Naud et al. 2008, Table 1), apical adex_cond_exp, '
                 'rkf45 1e-8; V cut at V_peak = 0 mV, spikes in red')
    fig.tight_layout()
    path = os.path.join(results, 'adex_naud_patterns.png')
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def brian_rates(u):
    am = 0.32 * (13 - u) / (np.exp((13 - u) / 4) - 1)
    bm = 0.28 * (u - 40) / (np.exp((u - 40) / 5) - 1)
    ah_ = 0.128 * np.exp((17 - u) / 18)
    bh = 4 / (1 + np.exp((40 - u) / 5))
    an = 0.032 * (15 - u) / (np.exp((15 - u) / 5) - 1)
    bn = 0.5 * np.exp((10 - u) / 40)
    return am, bm, ah_, bh, an, bn


def hh_iss(V, EL=-60.0):
    am, bm, ah_, bh, an, bn = brian_rates(V + 63.0)
    m, h, n = am / (am + bm), ah_ / (ah_ + bh), an / (an + bn)
    return 10 * (EL - V) - 20000 * m ** 3 * h * (V - 50) - 6000 * n ** 4 * (V + 90)


def hh_rates(apical, tmp, currents, T, t_skip, name):
    """Rate (Hz) of one HH neuron per current (one dc device per node)."""
    lines = ['simulation: {duration: %g ms, solver: {stepper: rkf45, abs_tol: 1e-8, rel_tol: 1e-8}}'
             % T,
             'populations: {n: {size: %d, model: hh_cond_exp_traub}}' % len(currents),
             'recorders: [{type: spikes, population: n}]',
             'inputs:']
    for k, I in enumerate(currents):
        lines.append('  - {type: dc, target: n, nodes: [%d], amplitude: %.17g pA}' % (k, I))
    out = run(apical, '\n'.join(lines) + '\n', tmp, name)
    with ah.open_complete(out) as f:
        p = ah.spike_populations(f)[0]
    rates = []
    for k in range(len(currents)):
        t = np.sort(p.times[(p.ids == k) & (p.times >= t_skip)])
        rates.append(1000.0 * (len(t) - 1) / (t[-1] - t[0]) if len(t) >= 2 else 0.0)
    return np.array(rates)


def fig_hh_fi(apical, tmp, results, quick):
    V = np.linspace(-75, -55, 200001)
    Ic = -np.min(hh_iss(V))
    wide = np.linspace(-60, 1000, 12 if quick else 54)
    f_wide = hh_rates(apical, tmp, wide, 1500 if quick else 3000, 500, 'hh_fi_wide')
    near = Ic + np.array([-1.0, -0.25, 0.1, 0.25, 0.5, 1, 2, 3, 4, 6, 8])
    f_near = hh_rates(apical, tmp, near, 4000 if quick else 10000, 1000, 'hh_fi_near')
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    a1.plot(wide, f_wide, 'o-', ms=3)
    a1.axvline(Ic, color='C3', ls='--', lw=0.8, label='I_c = %.2f pA (steady-state analysis)' % Ic)
    a1.set_xlabel('injected current (pA)')
    a1.set_ylabel('rate (Hz)')
    a1.set_title('hh_cond_exp_traub (Brette 2007 COBAHH neuron): f-I')
    a1.legend(fontsize=8)
    x = near - Ic
    a2.plot(x, f_near ** 2, 'o', label='apical')
    fit = (x > 0) & (x <= 4)
    if fit.sum() >= 2:
        p = np.polyfit(x[fit], f_near[fit] ** 2, 1)
        xx = np.linspace(min(0, -p[1] / p[0]), x.max(), 50)
        a2.plot(xx, np.polyval(p, xx), 'k-', lw=0.8,
                label='linear fit on (0, 4] pA: zero at I_c %+.3f pA' % (-p[1] / p[0]))
    a2.axvline(0, color='C3', ls='--', lw=0.8)
    a2.set_xlabel('I - I_c (pA)')
    a2.set_ylabel('rate$^2$ (Hz$^2$)')
    a2.set_title('onset: f$^2$ linear in I, f -> 0 (type I)')
    a2.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(results, 'hh_fI.png')
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path, Ic, wide, f_wide, near, f_near


def fig_hh_trace(apical, tmp, results):
    yaml_text = (
        'simulation: {duration: 120 ms, solver: {stepper: rkf45, abs_tol: 1e-8, rel_tol: 1e-8}}\n'
        'populations: {n: {size: 1, model: hh_cond_exp_traub, parameters: {E_L: -65 mV}}}\n'
        'inputs: [{type: dc, target: n, amplitude: 200 pA, start: 20 ms, stop: 100 ms}]\n'
        'recorders:\n'
        '  - {type: spikes, population: n}\n'
        '  - {type: state, population: n, variables: [V_m, m, h, n], interval: 0.02 ms}\n')
    out = run(apical, yaml_text, tmp, 'hh_trace')
    with ah.open_complete(out) as f:
        rep = ah.report(f, 'n')
        t_sp = ah.spike_populations(f)[0].times
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    a1.plot(rep['times'], rep['data'][:, 0, 0], 'k', lw=0.8)
    a1.plot(t_sp, np.full_like(t_sp, -20.0), 'r|', ms=12, label='spikes (upward crossing of -20 mV)')
    a1.set_ylabel('V (mV)')
    a1.legend(fontsize=8, loc='upper right')
    a1.set_title('hh_cond_exp_traub, E_L = -65 mV, 200 pA from 20 to 100 ms')
    for j, name in enumerate(['m', 'h', 'n']):
        a2.plot(rep['times'], rep['data'][:, 0, j + 1], lw=0.8, label=name)
    a2.set_xlabel('t (ms)')
    a2.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(results, 'hh_trace.png')
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description='Figures of the neuron-model validation.')
    ah.add_incomplete_arg(ap)
    ap.add_argument('--apical', default=os.environ.get('APICAL') or os.path.join(ROOT, 'build', 'apical'))
    ap.add_argument('--results', default=os.path.join(ROOT, 'results'))
    ap.add_argument('--quick', action='store_true')
    a = ap.parse_args(argv)
    ah.use_args(a)
    if not os.access(a.apical, os.X_OK):
        sys.exit('no apical binary at %s (build it with `make`)' % a.apical)
    os.makedirs(a.results, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix='apical_figmodels_') as tmp:
        print(fig_naud(a.apical, tmp, a.results))
        path, Ic, wide, f_wide, near, f_near = fig_hh_fi(a.apical, tmp, a.results, a.quick)
        print(path)
        print('  I_c = %.4f pA; f near onset (I - I_c: Hz): %s' % (
            Ic, ', '.join('%+.2f: %.3f' % (x, f) for x, f in zip(near - Ic, f_near))))
        print('  f at 0 / 100 / 500 / 1000 pA: %s Hz' % ', '.join(
            '%.2f' % np.interp(I, wide, f_wide) for I in (0, 100, 500, 1000)))
        print(fig_hh_trace(a.apical, tmp, a.results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
