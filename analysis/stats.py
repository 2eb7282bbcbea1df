#!/usr/bin/python3
"""Per-population spike statistics of an apical HDF5 output file.

Usage: /usr/bin/python3 analysis/stats.py FILE [--json] [--tmin MS] [--tmax MS]

For each spike population: neurons, spikes, mean rate (Hz, spikes per neuron
per second over [tmin, tmax]), the coefficient of variation of inter-spike
intervals (std/mean of one neuron's ISIs, averaged over the neurons with at
least 3 spikes in the window; the count of those neurons is given), and the
fraction of silent neurons (no spike in the window).

tmax defaults to the run duration: provenance `duration` (attribute on
/provenance or dataset /provenance/duration), else the stop time of a report,
else the last spike. Exit status 2 if the file is missing or incomplete.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5 as ah  # noqa: E402


def isi_cv(times, ids, n):
    """(mean CV over neurons with >= 3 spikes, number of such neurons)."""
    if times.size == 0:
        return None, 0
    order = np.lexsort((times, ids))
    t, i = times[order], ids[order]
    isi = np.diff(t)
    same = i[1:] == i[:-1]
    isi, owner = isi[same], i[1:][same]
    counts = np.bincount(owner, minlength=n).astype(np.float64)  # ISIs per neuron
    ok = counts >= 2                                               # >= 3 spikes
    if not ok.any():
        return None, 0
    s1 = np.bincount(owner, weights=isi, minlength=n)
    mean_all = np.divide(s1, counts, out=np.zeros(n), where=counts > 0)
    dev = isi - mean_all[owner]                                    # two-pass variance
    var = np.bincount(owner, weights=dev * dev, minlength=n)[ok] / counts[ok]
    mean = mean_all[ok]
    with np.errstate(divide='ignore', invalid='ignore'):
        cv = np.where(mean > 0, np.sqrt(var) / mean, 0.0)
    return float(cv.mean()), int(ok.sum())


def compute(path, tmin=0.0, tmax=None):
    with ah.open_complete(path) as f:
        pops = ah.spike_populations(f)
        dur, dur_src = ah.duration(f, pops)
        name = ah.network_name(f)
    t1 = dur if tmax is None else tmax
    t0 = tmin or 0.0
    span = t1 - t0
    res = {'file': path, 'network': name, 'duration_ms': dur,
           'duration_source': dur_src, 'tmin_ms': t0, 'tmax_ms': t1,
           'populations': {}}
    for p in pops:
        sel = (p.times >= t0) & (p.times <= t1)
        t, i = p.times[sel], p.ids[sel]
        bad = (i < 0) | (i >= p.n)
        if bad.any():
            sys.stderr.write('warning: %s: %d spikes with node id outside [0, %d)\n'
                             % (p.name, int(bad.sum()), p.n))
            t, i = t[~bad], i[~bad]
        per = np.bincount(i, minlength=p.n) if p.n else np.zeros(0, int)
        cv, n_cv = isi_cv(t, i, p.n)
        rate = t.size / (p.n * span / 1000.0) if p.n and span > 0 else None
        res['populations'][p.name] = {
            'n': p.n, 'n_source': p.n_source, 'spikes': int(t.size),
            'rate_hz': rate, 'cv_isi': cv, 'cv_neurons': n_cv,
            'silent_fraction': float((per == 0).mean()) if p.n else None,
        }
    return res


def fmt(v, spec):
    return '-' if v is None else format(v, spec)


def main(argv=None):
    ap = argparse.ArgumentParser(description='Per-population spike statistics of an apical output file.')
    ah.add_incomplete_arg(ap)
    ap.add_argument('file')
    ap.add_argument('--json', action='store_true', help='print JSON instead of a table')
    ap.add_argument('--tmin', type=float, default=0.0, help='start of the window, ms (default 0)')
    ap.add_argument('--tmax', type=float, default=None, help='end of the window, ms (default: run duration)')
    a = ap.parse_args(argv)
    ah.use_args(a)
    res = compute(a.file, a.tmin, a.tmax)
    if a.json:
        print(json.dumps(res, indent=1))
        return 0
    title = res['network'] or os.path.basename(a.file)
    print('%s: window %g-%g ms (duration %g ms from %s)'
          % (title, res['tmin_ms'], res['tmax_ms'], res['duration_ms'], res['duration_source']))
    hdr = '%-16s %8s %10s %10s %8s %10s %8s' % ('population', 'neurons', 'spikes', 'rate (Hz)',
                                               'CV ISI', 'CV over', 'silent')
    print(hdr)
    print('-' * len(hdr))
    for name, d in res['populations'].items():
        print('%-16s %8d %10d %10s %8s %10d %7s%%'
              % (name[:16], d['n'], d['spikes'], fmt(d['rate_hz'], '.3f'),
                 fmt(d['cv_isi'], '.3f'), d['cv_neurons'],
                 fmt(None if d['silent_fraction'] is None else 100 * d['silent_fraction'], '.1f')))
    if not res['populations']:
        print('(no spike populations in the file)')
    print('CV over: neurons with >= 3 spikes in the window (CV = std/mean of ISIs, averaged)')
    return 0


if __name__ == '__main__':
    ah.run_tool(main)
