#!/usr/bin/python3
"""Measured STDP rules against their references, through the command line.

Usage: /usr/bin/python3 analysis/stdp_window.py [--apical build/apical]
           [--outdir results] [--check] [--json]

1. Pair STDP window (rule `stdp`, NEST stdp_synapse semantics). 201
   pre/post pairs of parrot neurons; pair k sees one pairing with
   dt = t_post - t_pre from -100 to +100 ms in 1 ms steps (pre at 100 ms,
   post at 100 + dt ms), then a flush presynaptic spike at 1100 ms that
   applies the pending (lazy) facilitation. The plastic projections target the
   post parrots' `ignore` receptor, so the weights never make them fire.
   Delay d = 0.5 ms, all dendritic: the synapse sees dt_eff = dt + d. Additive
   (mu = 0) and multiplicative (mu = 1) weight dependence, lambda = 0.01,
   alpha = 1.05, tau_plus = tau_minus = 20 ms, W_max = 1, w0 = 0.5. The
   reference is the closed form (docs/plasticity.md)
     dw = +lambda (1 - w0)^mu exp(-dt_eff / tau_plus)            dt_eff > 0
     dw = -alpha lambda w0^mu exp(dt_eff / tau_minus)            dt_eff < 0
   (plus the flush spike's depression, e^-50 of a step, kept for exactness).
2. Triplet STDP (rule `stdp_triplet`, preset visual_cortex, Pfister &
   Gerstner 2006): 60 pairings at 1, 2, 5, 10, 20, 30, 40, 50 Hz with
   dt = +10 ms (pre before post) and dt = -10 ms (post before pre), the
   Sjostrom et al. 2001 protocol; W_max = 1 (so the amplitudes are the
   paper's), w0 = 0.35. The reference is an independent event-by-event
   evaluation of the trace equations in this script.

Weights are read from the run's final edges (/edges/<projection>, float64).
Writes OUTDIR/stdp_window.png and OUTDIR/triplet_frequency.png and prints the
numbers; with --check exits 1 if any measured change differs from its
reference by more than 1% of the largest change (the issue's tolerance).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PAIR = dict(tau_plus=20.0, tau_minus=20.0, lam=0.01, alpha=1.05, w0=0.5, d=0.5)
TRIPLET = dict(tau_plus=16.8, tau_x=101.0, tau_minus=33.7, tau_y=125.0, A2p=5e-10, A3p=6.2e-3,
               A2m=7e-3, A3m=2.3e-4)
FREQS = [1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0]
# The rule works on u = w / W_max in [0, 1]; with W_max = 1 its amplitudes
# are Pfister & Gerstner's. Their changes after 60 pairings span about
# -0.35 to +0.74, more than [0, 1] holds, so w0 = 0.35: only the 50 Hz
# pairings (and 20 Hz post-pre by 0.002) reach a bound, in apical and in the
# reference alike.
TRIPLET_W0 = 0.35


def find_apical(given):
    for cand in (given, os.environ.get('APICAL'), os.path.join(ROOT, 'build', 'apical')):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    sys.exit('stdp_window.py: no apical binary (build it with make, or pass --apical)')


def run(apical, yaml_text, tmp, name):
    net = os.path.join(tmp, name + '.yaml')
    out = os.path.join(tmp, name + '.h5')
    with open(net, 'w') as fh:
        fh.write(yaml_text)
    r = subprocess.run([apical, 'run', net, '-o', out, '--quiet'], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit('apical failed on %s: %s' % (net, r.stderr.strip()))
    return out


def final_weights(path, proj, n):
    import h5py
    with h5py.File(path, 'r') as f:
        g = f['edges'][proj]
        tgt = g['target_node_id'][()]
        w = g['0/syn_weight'][()]
    out = np.full(n, np.nan)
    out[tgt] = w
    return out


# --- pair window ----------------------------------------------------------

def pair_yaml(dts):
    p = PAIR
    n = len(dts)
    lines = ['simulation: {duration: 1200 ms}',
             'populations:',
             '  pre: {size: %d, model: parrot}' % n,
             '  post: {size: %d, model: parrot}' % n,
             'projections:']
    for mu, name in ((0, 'additive'), (1, 'multiplicative')):
        lines.append('  - {name: %s, source: pre, target: post, connectivity: one_to_one, '
                     'receptor: ignore, weight: %r, delay: %r ms,' % (name, p['w0'], p['d']))
        lines.append('     plasticity: {rule: stdp, tau_plus: %r ms, tau_minus: %r ms, lambda: %r, '
                     'alpha: %r, mu_plus: %d, mu_minus: %d, W_max: 1}}'
                     % (p['tau_plus'], p['tau_minus'], p['lam'], p['alpha'], mu, mu))
    lines.append('inputs:')
    lines.append('  - {type: spike_times, target: pre, receptor: relay, weight: 1, '
                 'times: [100 ms, 1100 ms]}')
    for k, dt in enumerate(dts):
        lines.append('  - {type: spike_times, target: post, nodes: [%d], receptor: relay, '
                     'weight: 1, times: [%r ms]}' % (k, 100.0 + dt))
    return '\n'.join(lines) + '\n'


def pair_reference(dts, mu):
    p = PAIR
    out = []
    for dt in dts:
        dte = dt + p['d']
        w = p['w0']
        if dte > 0:
            w += p['lam'] * (1 - p['w0']) ** mu * math.exp(-dte / p['tau_plus'])
        elif dte < 0:
            w -= p['alpha'] * p['lam'] * p['w0'] ** mu * math.exp(dte / p['tau_minus'])
        # the flush spike at 1100 ms: depression by the decayed post trace
        t_post = 100.0 + dt
        w -= p['alpha'] * p['lam'] * w ** mu * math.exp((t_post - (1100.0 - p['d'])) / p['tau_minus'])
        out.append(w - p['w0'])
    return np.array(out)


# --- triplet frequency dependence ------------------------------------------

def triplet_protocol(freq, dt, d=0.1, t0=50.0, n=60):
    """Pre and post spike times (post shifted by -d so the synapse sees dt)."""
    period = 1000.0 / freq
    pre = [t0 + k * period + 20.0 for k in range(n)]
    post = [t + dt - d for t in pre]
    pre.append(t0 + n * period + 2000.0)   # flush
    return pre, post


def triplet_yaml(cases, d=0.1):
    n = len(cases)
    dur = max(triplet_protocol(f, dt)[0][-1] for f, dt in cases) + 100.0
    lines = ['simulation: {duration: %r ms}' % dur,
             'populations:',
             '  pre: {size: %d, model: parrot}' % n,
             '  post: {size: %d, model: parrot}' % n,
             'projections:',
             '  - {name: triplet, source: pre, target: post, connectivity: one_to_one, '
             'receptor: ignore, weight: %r, delay: %r ms,' % (TRIPLET_W0, d),
             '     plasticity: {rule: stdp_triplet, preset: visual_cortex, W_max: 1}}',
             'inputs:']
    for k, (f, dt) in enumerate(cases):
        pre, post = triplet_protocol(f, dt, d)
        for pop, times in (('pre', pre), ('post', post)):
            lines.append('  - {type: spike_times, target: %s, nodes: [%d], receptor: relay, '
                         'weight: 1, times: [%s]}'
                         % (pop, k, ', '.join('%r ms' % t for t in times)))
    return '\n'.join(lines) + '\n'


def triplet_reference(freq, dt, d=0.1, w0=TRIPLET_W0):
    """All-to-all triplet rule evaluated event by event at the synapse: pre
    spikes at t_pre, post spikes at t_post + d (whole delay dendritic)."""
    q = TRIPLET
    pre, post = triplet_protocol(freq, dt, d)
    ev = sorted([(t, 0) for t in pre] + [(t + d, 1) for t in post], key=lambda e: (e[0], -e[1]))
    # post before pre at equal times: a post spike reaching the synapse at a
    # presynaptic spike time pairs with earlier pre spikes only, as in NEST
    r1 = r2 = o1 = o2 = 0.0
    t_last = None
    w = w0
    for t, kind in ev:
        if t_last is not None:
            h = t - t_last
            r1 *= math.exp(-h / q['tau_plus'])
            r2 *= math.exp(-h / q['tau_x'])
            o1 *= math.exp(-h / q['tau_minus'])
            o2 *= math.exp(-h / q['tau_y'])
        t_last = t
        if kind == 0:
            w -= o1 * (q['A2m'] + q['A3m'] * r2)
            w = min(max(w, 0.0), 1.0)
            r1 += 1.0
            r2 += 1.0
        else:
            w += r1 * (q['A2p'] + q['A3p'] * o2)
            w = min(max(w, 0.0), 1.0)
            o1 += 1.0
            o2 += 1.0
    return w - w0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--apical', help='apical binary (default: $APICAL or build/apical)')
    ap.add_argument('--outdir', default=os.path.join(ROOT, 'results'))
    ap.add_argument('--check', action='store_true',
                    help='exit 1 unless every change is within 1%% of its reference')
    ap.add_argument('--json', action='store_true', help='print the numbers as JSON, no figures')
    ap.add_argument('--no-plot', action='store_true')
    a = ap.parse_args()
    apical = find_apical(a.apical)
    res = {}
    with tempfile.TemporaryDirectory(prefix='apical_stdp_') as tmp:
        dts = np.arange(-100, 101, 1.0)
        out = run(apical, pair_yaml(dts), tmp, 'pair')
        for mu, name in ((0, 'additive'), (1, 'multiplicative')):
            w = final_weights(out, name, len(dts))
            meas = w - PAIR['w0']
            ref = pair_reference(dts, mu)
            err = np.max(np.abs(meas - ref)) / np.max(np.abs(ref))
            res[name] = dict(dt=dts.tolist(), dw=meas.tolist(), ref=ref.tolist(),
                             max_err_rel=float(err),
                             dw_plus1=float(meas[dts == 1][0]), dw_minus1=float(meas[dts == -1][0]),
                             area=float(np.sum(meas)))
        cases = [(f, dt) for dt in (10.0, -10.0) for f in FREQS]
        out = run(apical, triplet_yaml(cases), tmp, 'triplet')
        w = final_weights(out, 'triplet', len(cases))
        meas = w - TRIPLET_W0
        ref = np.array([triplet_reference(f, dt) for f, dt in cases])
        err = np.max(np.abs(meas - ref)) / np.max(np.abs(ref))
        tri = dict(freq=FREQS, plus10=meas[:len(FREQS)].tolist(), minus10=meas[len(FREQS):].tolist(),
                   ref_plus10=ref[:len(FREQS)].tolist(), ref_minus10=ref[len(FREQS):].tolist(),
                   max_err_rel=float(err))
        m = np.array(tri['minus10'])
        cross = None
        for i in range(len(FREQS) - 1):
            if m[i] < 0 <= m[i + 1]:
                f0, f1 = FREQS[i], FREQS[i + 1]
                cross = f0 + (f1 - f0) * (-m[i]) / (m[i + 1] - m[i])
        tri['sign_change_hz'] = cross
        res['triplet'] = tri
    ok = all(res[k]['max_err_rel'] <= 0.01 for k in ('additive', 'multiplicative', 'triplet'))
    ok = ok and tri['minus10'][0] < 0 < tri['minus10'][-1]
    if a.json:
        print(json.dumps(res))
        return 0 if (ok or not a.check) else 1
    for name in ('additive', 'multiplicative'):
        r = res[name]
        print('pair window, %-14s: max |measured - analytic| = %.2e of the largest change; '
              'dw(+1 ms) = %+.6f, dw(-1 ms) = %+.6f (W_max = 1, w0 = 0.5)'
              % (name, r['max_err_rel'], r['dw_plus1'], r['dw_minus1']))
    print('triplet (visual_cortex, 60 pairings, w0 = %g, W_max = 1): max |measured - reference| '
          '= %.2e of the largest change' % (TRIPLET_W0, tri['max_err_rel']))
    print('  %6s %12s %12s' % ('f (Hz)', 'dw(+10 ms)', 'dw(-10 ms)'))
    for i, f in enumerate(FREQS):
        print('  %6g %+12.5f %+12.5f' % (f, tri['plus10'][i], tri['minus10'][i]))
    print('  post-pre (-10 ms) changes sign from depression to potentiation at %s'
          % ('%.1f Hz' % cross if cross else 'no frequency in 1-50 Hz'))
    if not a.no_plot:
        plot(res, a.outdir)
    print('within 1%%: %s' % ('yes' if ok else 'NO'))
    return 0 if (ok or not a.check) else 1


def plot(res, outdir):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    os.makedirs(outdir, exist_ok=True)
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    fine = np.linspace(-100, 100, 2001)
    fine = fine[np.abs(fine + PAIR['d']) > 1e-9]
    for i, (name, mu) in enumerate((('additive', 0), ('multiplicative', 1))):
        r = res[name]
        ax[i].plot(fine, pair_reference(fine, mu), 'k-', lw=1, label='analytic')
        ax[i].plot(r['dt'], r['dw'], 'o', ms=3, mfc='none', label='apical (final edges)')
        ax[i].axhline(0, color='grey', lw=0.5)
        ax[i].axvline(0, color='grey', lw=0.5)
        ax[i].set_xlabel('dt = t_post - t_pre (ms)')
        ax[i].set_ylabel('dw / W_max')
        ax[i].set_title('%s pair STDP (mu = %d), d = %g ms\nmax error %.1e of max |dw|'
                        % (name, mu, PAIR['d'], r['max_err_rel']), fontsize=10)
        ax[i].legend(fontsize=8)
    fig.tight_layout()
    p1 = os.path.join(outdir, 'stdp_window.png')
    fig.savefig(p1, dpi=110)
    plt.close(fig)
    tri = res['triplet']
    fig, ax = plt.subplots(figsize=(6, 4))
    f = np.array(tri['freq'])
    ax.plot(f, tri['ref_plus10'], 'k-', lw=0.8)
    ax.plot(f, tri['ref_minus10'], 'k--', lw=0.8, label='reference (trace equations)')
    ax.plot(f, tri['plus10'], 'o', color='C3', label='apical, pre-post +10 ms')
    ax.plot(f, tri['minus10'], 's', color='C0', label='apical, post-pre -10 ms')
    ax.axhline(0, color='grey', lw=0.5)
    ax.set_xlabel('pairing frequency (Hz)')
    ax.set_ylabel('dw after 60 pairings (W_max = 1, w0 = %g)' % TRIPLET_W0)
    ax.set_title('triplet STDP, visual cortex all-to-all (Pfister & Gerstner 2006)', fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    p2 = os.path.join(outdir, 'triplet_frequency.png')
    fig.savefig(p2, dpi=110)
    plt.close(fig)
    print('wrote %s and %s' % (p1, p2))


if __name__ == '__main__':
    sys.exit(main())
