#!/usr/bin/python3
"""Evolution of synaptic weights from an apical weight report.

Usage: /usr/bin/python3 analysis/weights.py FILE [-o OUT.png] [--report NAME]
           [--wmax W] [--bins N] [--band 0.1] [--json]

Reads /report/<NAME> (a weights recorder: `{type: weights, projection: P,
interval: 1 s}`; default: the first weight report in the file) and draws
  top:    the weight histogram over time (time x weight, colour = fraction of
          synapses), i.e. how the distribution evolves;
  middle: the final histogram (from /edges/<projection> when the file has it:
          the exact float64 weights at the end of the run), and the initial one;
  bottom: the fraction of weights within `band` (default 10%) of 0 or of W_max
          over time, and the output rate of the target population (1 s bins)
          when its spikes are recorded.
W_max comes from /provenance/plasticity/<projection>/W_max (written by
`apical run` for every plastic projection) unless --wmax is given. Prints the
numbers (fractions near 0 and near W_max, mean weight, output rate over the
last 20% of the run). Exit status 2 if the file is missing or incomplete.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5 as ah  # noqa: E402


def weight_reports(f):
    r = f.get('report')
    if r is None:
        return []
    return [k for k in r if ah.to_str(r[k].attrs.get('type')) == 'weights']


def bimodality(w, wmax, band):
    # float32 report frames: compare at float32 precision of the bounds
    tol = 1e-6 * wmax
    lo = np.mean(w <= band * wmax + tol) if w.size else float('nan')
    hi = np.mean(w >= (1.0 - band) * wmax - tol) if w.size else float('nan')
    return lo, hi


def analyse(f, name, wmax, band):
    g = f['report'][name]
    proj = ah.to_str(g.attrs.get('projection')) or name
    data = np.asarray(g['data'][()], dtype=np.float64)
    start, stop, step = (float(x) for x in g['mapping/time'][()])
    times = start + step * np.arange(data.shape[0])
    unit = ah.to_str(g['data'].attrs.get('units')) or ''
    if wmax is None:
        wmax = ah.to_float(ah.prov_value(f, 'plasticity/%s/W_max' % proj))
    if wmax is None:
        wmax = float(np.max(data)) if data.size else 1.0
        wmax_src = 'largest recorded weight (no --wmax, no provenance)'
    else:
        wmax_src = 'provenance or --wmax'
    final = None
    e = f.get('edges/%s/0/syn_weight' % proj)
    if e is not None:
        final, final_src = np.asarray(e[()], dtype=np.float64), '/edges/%s (end of run)' % proj
    elif data.shape[0]:
        final, final_src = data[-1], 'last report frame (t = %g ms)' % times[-1]
    else:
        final, final_src = np.zeros(0), 'nothing recorded'
    frac_t = np.array([sum(bimodality(row, wmax, band)) for row in data]) if data.size else np.zeros(0)
    lo, hi = bimodality(final, wmax, band)
    # output rate of the target population, if recorded
    tgt = ah.to_str(g.attrs.get('target_population'))
    dur, _ = ah.duration(f)
    rate_t = rate_end = None
    pops = {p.name: p for p in ah.spike_populations(f)}
    if tgt in pops and dur > 0:
        p = pops[tgt]
        edges = np.arange(0.0, dur + 1000.0, 1000.0)
        rate_t = (edges[:-1] / 1000.0, np.histogram(p.times, edges)[0] / max(p.n, 1))
        t0 = 0.8 * dur
        rate_end = np.sum(p.times >= t0) / (max(p.n, 1) * (dur - t0) / 1000.0)
    return dict(report=name, projection=proj, unit=unit, wmax=wmax, wmax_source=wmax_src,
                n_synapses=int(data.shape[1]) if data.ndim == 2 else 0,
                n_frames=int(data.shape[0]), times=times, data=data, final=final,
                final_source=final_src, frac_t=frac_t, near_zero=float(lo), near_max=float(hi),
                bimodal=float(lo + hi), mean=float(np.mean(final)) if final.size else float('nan'),
                band=band, target=tgt, rate_t=rate_t, rate_end=rate_end, duration_ms=dur)


def plot(res, out, bins):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(3, 1, figsize=(8, 9), gridspec_kw={'height_ratios': [2, 1.2, 1]})
    wmax, data, times = res['wmax'], res['data'], res['times'] / 1000.0
    edges = np.linspace(0.0, wmax, bins + 1)
    if data.size:
        h = np.array([np.histogram(np.clip(row, 0, wmax), edges)[0] for row in data], float)
        h /= max(data.shape[1], 1)
        dt = times[1] - times[0] if len(times) > 1 else 1.0
        # colour scale from the bulk of the frames, so that a start with all
        # weights in one bin does not leave the rest of the picture dark
        vmax = max(float(np.quantile(h, 0.995)), 1e-9)
        im = ax[0].imshow(h.T, origin='lower', aspect='auto', cmap='viridis', vmin=0, vmax=vmax,
                          extent=[times[0], times[-1] + dt, 0, 1])
        fig.colorbar(im, ax=ax[0], label='fraction of synapses')
    ax[0].set_ylabel('w / W_max')
    ax[0].set_xlabel('time (s)')
    ax[0].set_title('%s: weight distribution over time (%d synapses)'
                    % (res['projection'], res['n_synapses']))
    if data.size:
        # float32 frames can exceed W_max by a rounding error: clip into the bins
        ax[1].hist(np.clip(data[0] / wmax, 0, 1), bins=edges / wmax, alpha=0.5,
                   label='t = %g s' % times[0])
    ax[1].hist(np.clip(res['final'] / wmax, 0, 1), bins=edges / wmax, alpha=0.7,
               label='end of run')
    ax[1].set_yscale('log')
    ax[1].set_xlabel('w / W_max')
    ax[1].set_ylabel('synapses')
    ax[1].legend()
    ax[1].set_title('within %g%% of 0: %.1f%%, of W_max: %.1f%% (together %.1f%%)'
                    % (100 * res['band'], 100 * res['near_zero'], 100 * res['near_max'],
                       100 * res['bimodal']), fontsize=10)
    if res['frac_t'].size:
        ax[2].plot(times, res['frac_t'], 'k-', label='fraction near 0 or W_max')
    ax[2].set_ylim(0, 1)
    ax[2].set_xlabel('time (s)')
    ax[2].set_ylabel('fraction')
    if res['rate_t'] is not None:
        a2 = ax[2].twinx()
        a2.plot(res['rate_t'][0], res['rate_t'][1], 'r-', lw=0.8, label='output rate')
        a2.set_ylabel('%s rate (Hz)' % res['target'], color='r')
    ax[2].legend(loc='lower right')
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ah.add_incomplete_arg(ap)
    ap.add_argument('file')
    ap.add_argument('-o', '--output', help='PNG to write (default: FILE without .h5 + _weights.png)')
    ap.add_argument('--report', help='report group under /report (default: the first weight report)')
    ap.add_argument('--wmax', type=float, help='W_max in the weight unit (default: from provenance)')
    ap.add_argument('--bins', type=int, default=40)
    ap.add_argument('--band', type=float, default=0.1,
                    help='"near" 0 or W_max means within band * W_max (default 0.1)')
    ap.add_argument('--json', action='store_true', help='print the numbers as JSON, no figure')
    a = ap.parse_args()
    ah.use_args(a)
    with ah.open_complete(a.file) as f:
        names = weight_reports(f)
        if a.report:
            if a.report not in names:
                raise ah.Refused('%s: no weight report /report/%s (weight reports: %s)'
                                 % (a.file, a.report, ', '.join(names) or 'none'))
            names = [a.report]
        if not names:
            raise ah.Refused('%s: no weight report (add a recorder {type: weights, '
                             'projection: P, interval: 1 s})' % a.file)
        res = analyse(f, names[0], a.wmax, a.band)
    keys = ('report', 'projection', 'unit', 'wmax', 'n_synapses', 'n_frames', 'near_zero',
            'near_max', 'bimodal', 'mean', 'band', 'rate_end', 'duration_ms', 'final_source')
    if a.json:
        print(json.dumps({k: res[k] for k in keys}))
        return 0
    print('%s: %d synapses, %d frames, W_max %g %s (%s)'
          % (res['projection'], res['n_synapses'], res['n_frames'], res['wmax'], res['unit'],
             res['wmax_source']))
    print('final weights (%s): %.1f%% within %g%% of 0, %.1f%% within %g%% of W_max, '
          'together %.1f%%; mean w/W_max %.3f'
          % (res['final_source'], 100 * res['near_zero'], 100 * a.band, 100 * res['near_max'],
             100 * a.band, 100 * res['bimodal'], res['mean'] / res['wmax']))
    if res['rate_end'] is not None:
        print('%s rate over the last 20%% of the run: %.2f Hz' % (res['target'], res['rate_end']))
    out = a.output or os.path.splitext(a.file)[0] + '_weights.png'
    plot(res, out, a.bins)
    print('wrote %s' % out)
    return 0


if __name__ == '__main__':
    ah.run_tool(main)
