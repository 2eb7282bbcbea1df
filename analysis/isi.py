#!/usr/bin/python3
"""Interspike intervals and their coefficient of variation, per population.

Usage: /usr/bin/python3 analysis/isi.py FILE -o OUT.png [--tmin MS] [--bins N]

Left: the ISI histogram of every population (all neurons pooled, log-spaced
bins, ms). Right: the histogram of each neuron's CV (std / mean of its ISIs;
neurons with at least 3 spikes). A Poisson process has CV 1, a regular one 0;
Brunel's asynchronous irregular state has CV around 1. Prints the mean rate,
the median ISI and the mean CV per population. Exit status 2 if the file is
missing or incomplete.
"""
import argparse
import os
import sys

import numpy as np

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5 as ah  # noqa: E402


def isis_and_cvs(times, ids, n):
    order = np.lexsort((times, ids))
    t, i = times[order], ids[order]
    isis, cvs = [], []
    if t.size:
        bounds = np.flatnonzero(np.diff(i)) + 1
        for seg in np.split(np.arange(t.size), bounds):
            d = np.diff(t[seg])
            if d.size:
                isis.append(d)
            if d.size >= 2 and d.mean() > 0:
                cvs.append(d.std() / d.mean())
    return (np.concatenate(isis) if isis else np.empty(0)), np.asarray(cvs)


def main(argv=None):
    ap = argparse.ArgumentParser(description='ISI and CV histograms of an apical output file.')
    ah.add_incomplete_arg(ap)
    ap.add_argument('file')
    ap.add_argument('-o', '--output', required=True, help='image file to write (PNG, PDF, SVG)')
    ap.add_argument('--tmin', type=float, default=0.0, help='ignore spikes before this (ms)')
    ap.add_argument('--bins', type=int, default=40)
    ap.add_argument('--dpi', type=int, default=120)
    a = ap.parse_args(argv)
    ah.use_args(a)
    with ah.open_complete(a.file) as f:
        pops = ah.spike_populations(f)
        dur, _ = ah.duration(f, pops)
        name = ah.network_name(f)
    if not pops:
        raise ah.Refused('%s: no spikes recorded' % a.file)
    fig, (ax_i, ax_c) = plt.subplots(1, 2, figsize=(11, 4))
    span = max(dur - a.tmin, 1e-9)
    print('%-12s %10s %14s %10s %8s' % ('population', 'rate (Hz)', 'median ISI ms', 'mean CV', 'neurons'))
    for p in pops:
        sel = p.times >= a.tmin
        isi, cv = isis_and_cvs(p.times[sel], p.ids[sel], p.n)
        rate = sel.sum() / (p.n * span * 1e-3) if p.n else 0.0
        if isi.size:
            lo, hi = max(isi.min(), 1e-3), isi.max()
            edges = np.logspace(np.log10(lo), np.log10(hi if hi > lo else lo * 10), a.bins)
            ax_i.hist(isi, bins=edges, histtype='step', density=True, label=p.name)
        if cv.size:
            ax_c.hist(cv, bins=np.linspace(0, max(2.0, cv.max()), a.bins), histtype='step',
                      label='%s (%d neurons)' % (p.name, cv.size))
        print('%-12s %10.3f %14s %10s %8d' % (p.name, rate,
              '%.2f' % np.median(isi) if isi.size else '-',
              '%.3f' % cv.mean() if cv.size else '-', cv.size))
    ax_i.set_xscale('log')
    ax_i.set_xlabel('interspike interval (ms)')
    ax_i.set_ylabel('density (per ms)')
    ax_i.set_title('%s: ISI' % name)
    ax_c.axvline(1.0, color='0.6', lw=0.8, ls='--')
    ax_c.set_xlabel('CV of ISI (per neuron)')
    ax_c.set_ylabel('neurons')
    ax_c.set_title('CV (Poisson: 1)')
    for ax in (ax_i, ax_c):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.output, dpi=a.dpi)
    return 0


if __name__ == '__main__':
    ah.run_tool(main)
