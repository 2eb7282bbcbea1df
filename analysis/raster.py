#!/usr/bin/python3
"""Spike raster and population rates of an apical HDF5 output file.

Usage: /usr/bin/python3 analysis/raster.py FILE -o OUT.png [--tmin MS] [--tmax MS]
                                           [--max-neurons N] [--bin MS] [--smooth MS]

A figure for a paper. Top panel: spikes of every population, stacked (first
population at the top), one color per population, each band's height
proportional to its population's size: at most --max-neurons (500) rows in
all, shared in proportion to the sizes (at least 10 rows a population), so a
large population is drawn subsampled (evenly spaced neurons); the y ticks are
neuron indices within each population, and the population names (with how
many neurons are drawn) stand to the right of their bands, not over spikes.
Bottom panel: population rate (Hz per neuron, all neurons of the population)
in bins of --bin ms (default 1 ms for windows up to 2 s, else 5 ms), smoothed
with a Gaussian of --smooth ms (default 2 ms; 0: the raw bins).
Exit status 2 if the file is missing or incomplete.
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


def main(argv=None):
    ap = argparse.ArgumentParser(description='Spike raster and population rates of an apical output file.')
    ah.add_incomplete_arg(ap)
    ap.add_argument('file')
    ap.add_argument('-o', '--output', required=True, help='image file to write (PNG, PDF, SVG)')
    ap.add_argument('--tmin', type=float, default=0.0, help='ms (default 0)')
    ap.add_argument('--tmax', type=float, default=None, help='ms (default: run duration)')
    ap.add_argument('--max-neurons', type=int, default=500,
                    help='at most this many raster rows in all, shared in proportion to the '
                         'population sizes (default 500)')
    ap.add_argument('--smooth', type=float, default=2.0,
                    help='Gaussian smoothing of the rates, SD in ms (default 2; 0: none)')
    ap.add_argument('--bin', type=float, default=None, help='rate bin, ms (default 1 or 5)')
    ap.add_argument('--dpi', type=int, default=120)
    a = ap.parse_args(argv)
    ah.use_args(a)

    with ah.open_complete(a.file) as f:
        pops = ah.spike_populations(f)
        dur, _ = ah.duration(f, pops)
        name = ah.network_name(f)
    t0 = a.tmin
    t1 = a.tmax if a.tmax is not None else dur
    if not t1 > t0:
        t1 = t0 + 1.0
    binw = a.bin if a.bin else (1.0 if t1 - t0 <= 2000.0 else 5.0)
    edges = np.arange(t0, t1 + 0.5 * binw, binw)
    if edges.size < 2:
        edges = np.array([t0, t1])

    fig, (ax_r, ax_h) = plt.subplots(2, 1, sharex=True, figsize=(10, 7),
                                     gridspec_kw={'height_ratios': [3, 1]})
    colors = plt.rcParams['axes.prop_cycle'].by_key()['color']
    # rows per population in proportion to its size, at most max_neurons in all
    total_n = sum(p.n for p in pops)
    budget = max(a.max_neurons, 10 * len(pops))
    share = [min(p.n, max(min(p.n, 10), int(round(budget * p.n / max(total_n, 1)))))
             for p in pops]
    rows_total = sum(share)
    y_top = rows_total
    n_spk_all = 0
    yticks, ylabels = [], []
    msize = 1.5 if rows_total > 200 else 3.0
    for k, p in enumerate(pops):
        c = colors[k % len(colors)]
        sel = (p.times >= t0) & (p.times <= t1) & (p.ids >= 0) & (p.ids < p.n)
        t, ids = p.times[sel], p.ids[sel]
        n_spk_all += t.size
        n_draw = share[k]
        if n_draw < p.n:
            drawn = np.unique(np.round(np.linspace(0, p.n - 1, n_draw)).astype(np.int64))
            n_draw = drawn.size
            row_of = np.full(p.n, -1, dtype=np.int64)
            row_of[drawn] = np.arange(n_draw)
            label = '%s\n%d of %d\nneurons' % (p.name, n_draw, p.n)
        else:
            drawn = np.arange(p.n, dtype=np.int64)
            row_of = np.arange(p.n, dtype=np.int64)
            label = '%s\n%d neurons' % (p.name, p.n)
        rows = row_of[ids] if ids.size else ids
        keep = rows >= 0
        # first population at the top
        y = y_top - 1 - rows[keep]
        ax_r.plot(t[keep], y, linestyle='none', marker='.', markersize=msize,
                  markeredgewidth=0, color=c, label=label, rasterized=True)
        # neuron-index ticks: the band's first drawn neuron and its middle one
        # (not the last, whose label would sit on the next band's first)
        for r in (0, n_draw // 2) if n_draw >= 8 else (0,):
            yticks.append(y_top - 1 - r)
            ylabels.append(str(int(drawn[r])))
        ax_r.text(1.01, (y_top - n_draw / 2.0) / max(rows_total, 1), label, color=c,
                  transform=ax_r.transAxes, va='center', ha='left', fontsize=8)
        if k > 0:
            ax_r.axhline(y_top - 0.5, color='0.7', linewidth=0.5)
        y_top -= n_draw
        counts, _ = np.histogram(t, bins=edges)
        widths = np.diff(edges) / 1000.0
        rate = counts / (max(p.n, 1) * widths)
        if a.smooth > 0 and rate.size > 1:
            sd = a.smooth / binw  # in bins
            half = int(np.ceil(4 * sd))
            kern = np.exp(-0.5 * (np.arange(-half, half + 1) / sd) ** 2)
            kern /= kern.sum()
            # normalised by the kernel mass inside the window, so the edges are not pulled down
            rate = (np.convolve(rate, kern, mode='same') /
                    np.convolve(np.ones_like(rate), kern, mode='same'))
        centres = 0.5 * (edges[:-1] + edges[1:])
        ax_h.plot(centres, rate, color=c, linewidth=0.9,
                  label='%s: mean %.2f Hz' % (p.name, t.size / (max(p.n, 1) * (t1 - t0) / 1000.0)))

    ax_r.set_xlim(t0, t1)
    ax_r.set_ylim(-0.5, max(rows_total, 1) - 0.5)
    ax_r.set_yticks(yticks)
    ax_r.set_yticklabels(ylabels)
    ax_r.set_ylabel('neuron index')
    if not pops:
        ax_r.text(0.5, 0.5, 'no spike populations in this file', ha='center',
                  va='center', transform=ax_r.transAxes)
    ax_h.set_xlabel('time (ms)')
    ax_h.set_ylabel('rate (Hz/neuron)\n%g ms bins%s' % (
        binw, ', %g ms Gaussian' % a.smooth if a.smooth > 0 else ''))
    if pops:
        ax_h.legend(loc='upper right', fontsize=8, framealpha=0.8)
    title = name or os.path.basename(a.file)
    ax_r.set_title('%s  —  %d spikes, %g–%g ms' % (title, n_spk_all, t0, t1))
    fig.tight_layout()
    fig.subplots_adjust(right=0.86)  # room for the band labels
    fig.savefig(a.output, dpi=a.dpi)
    plt.close(fig)
    return 0


if __name__ == '__main__':
    ah.run_tool(main)
