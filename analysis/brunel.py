#!/usr/bin/python3
"""Brunel 2000's E-I network in apical: the four states of his Fig. 8, a
coarse (g, eta) map, and the comparison with the mean-field rate.

Usage:
  brunel.py stats FILE.h5 [--tmin MS] [--json OUT]
      rate, CV of ISIs, synchrony and the mean-field rate of one run
  brunel.py check FILE.h5 [--tmin MS] [--cv-min 0.8] [--rate-tol 0.1] [--chi-max 0.2]
      exit 1 unless the run is asynchronous irregular near the mean field
  brunel.py states NET.yaml -o DIR [--duration MS[,MS,MS,MS]] [--tmin MS[,...]] [--seed N]
                  [--threads N] [--reuse] [--window T0 T1]
      run SR, SI fast, AI, SI slow (Fig. 8 A-D); DIR/brunel_states.png and
      DIR/brunel_states.json
  brunel.py map NET.yaml -o DIR [--g 3,4,...] [--eta 1,2,...] [--duration MS] ...
      run every (g, eta); DIR/brunel_map.png (mean rate, CV, synchrony) and
      DIR/brunel_map.json
  brunel.py plot-states DIR / plot-map DIR
      redraw from the JSON and HDF5 files of an earlier run

Parameters are read from the run itself (/provenance/network_text with the
--set items of /provenance/set applied): J = the exc->exc weight, g = -(inh
weight)/J, C_E and C_I the in-degrees, nu_ext = Poisson rate / C_E,
nu_thr = theta / (J C_E tau), eta = nu_ext / nu_thr. The states are selected
by --set on the inh->* weights and the Poisson rates (networks/brunel2000.yaml).

Measures over [tmin, end) (default tmin 200 ms, past the start transient):
- rate: spikes / (neurons x time), per population and over all neurons;
- CV: the coefficient of variation of each neuron's interspike intervals
  (neurons with at least 5 spikes), averaged: ~1 for Poisson firing, 0
  for clockwork;
- synchrony chi (Golomb 2007): with spike counts n_i(t) in 1 ms bins and
  A(t) their mean over neurons, chi^2 = Var_t A / mean_i Var_t n_i: 1 when
  all neurons fire together, ~1/sqrt(N) for independent neurons (0.009 for
  the 12 500 of the full network);
- f_peak: the frequency of the largest peak of the population rate's
  power spectrum above 5 Hz (the global oscillation of SR and SI states).
Mean field: analysis/brunel_meanfield.py (Siegert + self-consistency).
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5 as ah  # noqa: E402
import brunel_meanfield as mf  # noqa: E402

# Brunel's Fig. 8, panels A-D: (label, g, eta)
STATES = [('A: SR', 3.0, 2.0), ('B: SI fast', 6.0, 4.0), ('C: AI', 5.0, 2.0),
          ('D: SI slow', 4.5, 0.9)]

_UNITS = {'mV': 1.0, 'V': 1e3, 'uV': 1e-3, 'ms': 1.0, 's': 1e3, 'us': 1e-3,
          'Hz': 1.0, 'kHz': 1e3}


def quantity(v):
    """'0.1 mV' -> 0.1 (mV, ms, Hz)."""
    if isinstance(v, (int, float)):
        return float(v)
    m = re.match(r'^\s*([-+0-9.eE]+)\s*([A-Za-z]*)\s*$', str(v))
    if not m:
        raise ValueError('not a quantity: %r' % (v,))
    return float(m.group(1)) * _UNITS.get(m.group(2), 1.0)


def apply_set(tree, item):
    """One --set PATH=VALUE on a parsed YAML tree (as sim/loader_set.c)."""
    import yaml
    path, value = item.split('=', 1)
    keys = []
    for part in path.split('.'):
        m = re.match(r'^([^\[]*)((\[\d+\])*)$', part)
        if m.group(1):
            keys.append(m.group(1))
        keys += [int(x) for x in re.findall(r'\[(\d+)\]', m.group(2))]
    node = tree
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = yaml.safe_load(value)


def network_params(f):
    """Brunel's parameters of the run in the open HDF5 file f."""
    import yaml
    tree = yaml.safe_load(ah.to_str(ah.prov_value(f, 'network_text')))
    # the --set items, one a line, in the order applied (sim/main.c)
    for s in (ah.to_str(ah.prov_value(f, 'set')) or '').splitlines():
        if s.strip():
            apply_set(tree, s)
    proj = {(p['source'], p['target']): p for p in tree['projections']}
    ee, ie = proj[('exc', 'exc')], proj[('inh', 'exc')]
    J = quantity(ee['weight'])
    CE = float(ee['connectivity']['k'])
    CI = float(ie['connectivity']['k'])
    g = -quantity(ie['weight']) / J
    par = tree['populations']['exc']['parameters']
    tau, theta = quantity(par['tau_m']), quantity(par['V_th'])
    vr, tref = quantity(par['V_reset']), quantity(par['t_ref'])
    rate = [quantity(i['rate']) for i in tree['inputs'] if i['target'] == 'exc'][0]
    nu_ext = rate / CE
    nu_thr = theta / (J * CE * tau * 1e-3)
    return dict(J=J, CE=CE, CI=CI, gamma=CI / CE, g=g, tau=tau, theta=theta, vr=vr, tref=tref,
                nu_ext=nu_ext, nu_thr=nu_thr, eta=nu_ext / nu_thr,
                N_E=int(tree['populations']['exc']['size']),
                N_I=int(tree['populations']['inh']['size']))


def spikes(f, pop):
    g = f['spikes'][pop]
    return g['timestamps'][()], g['node_ids'][()].astype(np.int64)


def measures(f, tmin):
    """Rates, CV, chi and f_peak of the run in f over [tmin, end)."""
    p = network_params(f)
    T = ah.duration(f)[0]
    span = (T - tmin) * 1e-3
    out = dict(params=p, tmin=tmin, duration=T)
    nb = int(round(T - tmin))  # 1 ms bins
    counts_all = []
    cvs_all = []
    total_spk, total_n = 0, 0
    for pop, n in (('exc', p['N_E']), ('inh', p['N_I'])):
        t, i = spikes(f, pop)
        keep = t >= tmin
        t, i = t[keep], i[keep]
        total_spk += t.size
        total_n += n
        out['rate_' + pop] = t.size / (n * span)
        order = np.lexsort((t, i))
        t, i = t[order], i[order]
        cvs = []
        if t.size:
            cuts = np.flatnonzero(np.diff(i)) + 1
            for seg in np.split(t, cuts):
                if seg.size >= 5:
                    d = np.diff(seg)
                    cvs.append(d.std() / d.mean())
        out['cv_' + pop] = float(np.mean(cvs)) if cvs else float('nan')
        out['cv_n_' + pop] = len(cvs)
        cvs_all += cvs
        b = np.minimum(((t - tmin)).astype(np.int64), nb - 1)
        c = np.zeros((n, nb), dtype=np.float32)
        np.add.at(c, (i, b), 1.0)
        counts_all.append(c)
    out['rate'] = total_spk / (total_n * span)
    out['cv'] = float(np.mean(cvs_all)) if cvs_all else float('nan')
    c = np.concatenate(counts_all)
    A = c.mean(axis=0)
    vi = c.var(axis=1).mean()
    out['chi'] = float(np.sqrt(A.var() / vi)) if vi > 0 else float('nan')
    # population rate spectrum (Hz), 1 ms bins
    a = A - A.mean()
    if a.size > 8 and np.any(a):
        P = np.abs(np.fft.rfft(a * np.hanning(a.size))) ** 2
        fr = np.fft.rfftfreq(a.size, d=1e-3)
        sel = fr > 5.0
        out['f_peak'] = float(fr[sel][np.argmax(P[sel])])
    else:
        out['f_peak'] = float('nan')
    nu, (mu, sg) = mf.self_consistent(p['g'], p['eta'], p['J'], p['CE'], p['gamma'], p['tau'],
                                      p['theta'], p['vr'], p['tref'])
    out['mf_rate'], out['mf_mu'], out['mf_sigma'] = nu, mu, sg
    out['mf_cv'] = mf.cv_isi(mu, sg, p['tau'], p['theta'], p['vr'], p['tref'])
    return out


def describe(m):
    p = m['params']
    return ('g %.2f eta %.2f (J %.3g mV, C_E %d, N %d): rate %.2f Hz (exc %.2f, inh %.2f), '
            'mean field %.2f Hz (%+.1f%%); CV %.3f (mean field %.3f); chi %.3f; f_peak %.0f Hz'
            % (p['g'], p['eta'], p['J'], p['CE'], p['N_E'] + p['N_I'], m['rate'], m['rate_exc'],
               m['rate_inh'], m['mf_rate'], 100.0 * (m['rate'] / m['mf_rate'] - 1.0)
               if m['mf_rate'] > 0 else float('nan'), m['cv'], m['mf_cv'], m['chi'], m['f_peak']))


def open_run(path):
    return ah.open_complete(path)


def cmd_stats(a):
    with open_run(a.file) as f:
        m = measures(f, a.tmin)
    print(describe(m))
    if a.json:
        with open(a.json, 'w') as fo:
            json.dump(m, fo, indent=1)
    return 0


def cmd_check(a):
    with open_run(a.file) as f:
        m = measures(f, a.tmin)
    print(describe(m))
    bad = []
    if not m['cv'] > a.cv_min:
        bad.append('CV %.3f not above %g' % (m['cv'], a.cv_min))
    dev = abs(m['rate'] / m['mf_rate'] - 1.0)
    if not dev <= a.rate_tol:
        bad.append('rate %.2f Hz off the mean field %.2f Hz by %.1f%% (> %.0f%%)'
                   % (m['rate'], m['mf_rate'], 100 * dev, 100 * a.rate_tol))
    if not m['chi'] < a.chi_max:
        bad.append('synchrony chi %.3f not below %g' % (m['chi'], a.chi_max))
    for b in bad:
        print('FAIL: ' + b)
    return 1 if bad else 0


def run_apical(net, out, sets, duration, seed, threads):
    apical = os.environ.get('APICAL', 'build/apical')
    cmd = [apical, 'run', net, '-o', out, '--duration', '%g ms' % duration, '--quiet']
    if seed is not None:
        cmd += ['--seed', str(seed)]
    if threads is not None:
        cmd += ['--threads', str(threads)]
    for s in sets:
        cmd += ['--set', s]
    subprocess.run(cmd, check=True)


def state_sets(net, g, eta):
    """--set items selecting (g, eta) in a Brunel network file."""
    import yaml
    with open(net) as fi:
        tree = yaml.safe_load(fi)
    pj = tree['projections']
    ee = [p for p in pj if (p['source'], p['target']) == ('exc', 'exc')][0]
    J = quantity(ee['weight'])
    CE = float(ee['connectivity']['k'])
    par = tree['populations']['exc']['parameters']
    nu_thr = quantity(par['V_th']) / (J * CE * quantity(par['tau_m']) * 1e-3)
    sets = []
    for k, p in enumerate(pj):
        if p['source'] == 'inh':
            sets.append('projections[%d].weight=%.10g mV' % (k, -g * J))
    for k, _ in enumerate(tree['inputs']):
        sets.append('inputs[%d].rate=%.10g Hz' % (k, eta * nu_thr * CE))
    return sets


def per_state(text, what):
    v = [float(x) for x in text.split(',')]
    if len(v) == 1:
        v = v * len(STATES)
    if len(v) != len(STATES):
        raise SystemExit('brunel.py: --%s: one value or %d (A,B,C,D)' % (what, len(STATES)))
    return v


def cmd_states(a):
    os.makedirs(a.o, exist_ok=True)
    res = []
    durs, tmins = per_state(a.duration, 'duration'), per_state(a.tmin, 'tmin')
    for (label, g, eta), dur, tmin in zip(STATES, durs, tmins):
        out = os.path.join(a.o, 'brunel_%s.h5' % label.split(': ')[1].replace(' ', '_'))
        if not (a.reuse and os.path.exists(out)):
            print('running %s (g %g, eta %g, %g ms) -> %s' % (label, g, eta, dur, out), flush=True)
            run_apical(a.net, out, state_sets(a.net, g, eta), dur, a.seed, a.threads)
        with open_run(out) as f:
            m = measures(f, tmin)
        m['label'], m['file'] = label, out
        print('%-11s %s' % (label, describe(m)), flush=True)
        res.append(m)
    with open(os.path.join(a.o, 'brunel_states.json'), 'w') as fo:
        json.dump(res, fo, indent=1)
    plot_states(res, os.path.join(a.o, 'brunel_states.png'), a.window)
    return 0


def plot_states(res, png, window=None):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(2, len(res), figsize=(4.2 * len(res), 5.2),
                           gridspec_kw=dict(height_ratios=[2, 1]), squeeze=False)
    for c, m in enumerate(res):
        with open_run(m['file']) as f:
            t, i = spikes(f, 'exc')
            T = m['duration']
        t0 = T - 100.0 if window is None else window[0]
        t1 = T if window is None else window[1]
        sel = (t >= t0) & (t < t1) & (i < 50)
        ax[0][c].plot(t[sel], i[sel], '|', ms=3, color='k')
        ax[0][c].set_xlim(t0, t1)
        ax[0][c].set_ylim(-1, 50)
        p = m['params']
        ax[0][c].set_title('%s  g=%g, $\\nu_{ext}/\\nu_{thr}$=%g\n%.1f Hz (MF %.1f), CV %.2f, '
                           '$\\chi$ %.2f' % (m['label'], round(p['g'], 2), round(p['eta'], 2),
                                             m['rate'], m['mf_rate'], m['cv'], m['chi']),
                           fontsize=9)
        if c == 0:
            ax[0][c].set_ylabel('neuron (exc 0-49)')
        # population rate of all excitatory neurons, 0.5 ms bins
        bw = 0.5
        sel = (t >= t0) & (t < t1)
        h, e = np.histogram(t[sel], bins=np.arange(t0, t1 + bw / 2, bw))
        ax[1][c].plot(e[:-1], h / (p['N_E'] * bw * 1e-3), color='C0', lw=0.8)
        ax[1][c].set_xlim(t0, t1)
        ax[1][c].set_xlabel('time (ms)')
        if c == 0:
            ax[1][c].set_ylabel('exc rate (Hz)')
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print('wrote ' + png)


def cmd_plot_states(a):
    with open(os.path.join(a.dir, 'brunel_states.json')) as fi:
        res = json.load(fi)
    plot_states(res, os.path.join(a.dir, 'brunel_states.png'), a.window)
    return 0


def cmd_map(a):
    os.makedirs(a.o, exist_ok=True)
    gs = [float(x) for x in a.g.split(',')]
    etas = [float(x) for x in a.eta.split(',')]
    res = []
    for eta in etas:
        for g in gs:
            out = os.path.join(a.o, 'map_g%g_eta%g.h5' % (g, eta))
            if not (a.reuse and os.path.exists(out)):
                print('running g %g eta %g' % (g, eta), flush=True)
                run_apical(a.net, out, state_sets(a.net, g, eta), a.duration, a.seed, a.threads)
            with open_run(out) as f:
                m = measures(f, a.tmin)
            m['file'] = out
            print('  ' + describe(m), flush=True)
            res.append(m)
            if not a.keep:
                os.remove(out)
    with open(os.path.join(a.o, 'brunel_map.json'), 'w') as fo:
        json.dump(dict(g=gs, eta=etas, runs=res), fo, indent=1)
    plot_map(gs, etas, res, os.path.join(a.o, 'brunel_map.png'))
    return 0


def plot_map(gs, etas, res, png):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm
    grid = {k: np.full((len(etas), len(gs)), np.nan) for k in ('rate', 'cv', 'chi', 'mf_rate')}
    for m in res:
        p = m['params']
        r = int(np.argmin([abs(e - p['eta']) for e in etas]))
        c = int(np.argmin([abs(g - p['g']) for g in gs]))
        for k in grid:
            grid[k][r, c] = m[k]
    fig, ax = plt.subplots(1, 3, figsize=(13.5, 4.0))
    panels = [('rate', 'mean rate (Hz)', LogNorm(vmin=max(0.5, np.nanmin(grid['rate'])),
                                                   vmax=np.nanmax(grid['rate'])), 'viridis'),
              ('cv', 'CV of ISIs', None, 'magma'),
              ('chi', r'synchrony $\chi$', LogNorm(vmin=max(1e-3, np.nanmin(grid['chi'])),
                                                    vmax=1.0), 'cividis')]
    for a_, (k, title, norm, cmap) in zip(ax, panels):
        im = a_.imshow(grid[k], origin='lower', aspect='auto', norm=norm, cmap=cmap,
                       vmin=None if norm else 0.0, vmax=None if norm else 1.5)
        a_.set_xticks(range(len(gs)))
        a_.set_xticklabels(['%g' % g for g in gs])
        a_.set_yticks(range(len(etas)))
        a_.set_yticklabels(['%g' % e for e in etas])
        a_.set_xlabel('g (relative inhibition)')
        a_.set_ylabel(r'$\nu_{ext}/\nu_{thr}$')
        a_.set_title(title)
        for r in range(len(etas)):
            for c in range(len(gs)):
                v = grid[k][r, c]
                if np.isfinite(v):
                    s = '%.0f' % v if k == 'rate' and v >= 10 else '%.2f' % v
                    if k == 'rate' and np.isfinite(grid['mf_rate'][r, c]) and gs[c] > 4:
                        s += '\n(%.0f)' % grid['mf_rate'][r, c]
                    a_.text(c, r, s, ha='center', va='center', fontsize=7,
                            color='w' if k != 'cv' or v < 0.9 else 'k')
        fig.colorbar(im, ax=a_)
    p = res[0]['params']
    fig.suptitle('Brunel 2000 model A in apical: N = %d, C_E = %d, J = %g mV, D = 1.5 ms '
                 '(rate panel: simulated, mean field in brackets for g > 4)'
                 % (p['N_E'] + p['N_I'], p['CE'], p['J']), fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    print('wrote ' + png)


def cmd_plot_map(a):
    with open(os.path.join(a.dir, 'brunel_map.json')) as fi:
        d = json.load(fi)
    plot_map(d['g'], d['eta'], d['runs'], os.path.join(a.dir, 'brunel_map.png'))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n', 1)[1])
    sub = ap.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('stats')
    s.add_argument('file')
    s.add_argument('--tmin', type=float, default=200.0)
    s.add_argument('--json')
    s = sub.add_parser('check')
    s.add_argument('file')
    s.add_argument('--tmin', type=float, default=200.0)
    s.add_argument('--cv-min', type=float, default=0.8)
    s.add_argument('--rate-tol', type=float, default=0.1)
    s.add_argument('--chi-max', type=float, default=0.2)
    for name in ('states', 'map'):
        s = sub.add_parser(name)
        s.add_argument('net')
        s.add_argument('-o', required=True, help='output directory')
        if name == 'states':
            # SR fires at ~325 Hz in the full network: 8x the AI state's
            # events, so it runs shorter by default
            s.add_argument('--duration', default='300,1200,1200,1200',
                           help='ms, one value or one per state A,B,C,D')
            s.add_argument('--tmin', default='100,200,200,200',
                           help='ms, one value or one per state A,B,C,D')
        else:
            s.add_argument('--duration', type=float, default=1000.0, help='ms')
            s.add_argument('--tmin', type=float, default=200.0, help='ms')
        s.add_argument('--seed', type=int)
        s.add_argument('--threads', type=int)
        s.add_argument('--reuse', action='store_true', help='keep existing HDF5 files')
        if name == 'states':
            s.add_argument('--window', type=float, nargs=2, help='plotted time window (ms)')
        else:
            s.add_argument('--g', default='3,4,5,6,7,8')
            s.add_argument('--eta', default='1,2,3,4')
            s.add_argument('--keep', action='store_true', help='keep the HDF5 files')
    s = sub.add_parser('plot-states')
    s.add_argument('dir')
    s.add_argument('--window', type=float, nargs=2)
    s = sub.add_parser('plot-map')
    s.add_argument('dir')
    a = ap.parse_args(argv)
    try:
        return {'stats': cmd_stats, 'check': cmd_check, 'states': cmd_states, 'map': cmd_map,
                'plot-states': cmd_plot_states, 'plot-map': cmd_plot_map}[a.cmd](a)
    except ah.Refused as e:
        print('brunel.py: %s' % e, file=sys.stderr)
        return ah.EXIT_REFUSED
    except subprocess.CalledProcessError as e:
        print('brunel.py: apical failed (exit %d): %s' % (e.returncode, ' '.join(e.cmd)),
              file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
