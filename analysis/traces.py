#!/usr/bin/python3
"""State traces (V_m and any other recorded variable) from an apical state report.

Usage: /usr/bin/python3 analysis/traces.py FILE -o OUT.png [--population POP]
           [--variables V_m,g_exc] [--nodes 0,1] [--tmin MS] [--tmax MS]

Reads /report/<POP> (a state recorder; default: the first population with
one) and draws one panel per variable (its unit on the y axis), one line per
recorded neuron (at most 8 unless --nodes says which), time in ms, with the
neuron's spikes marked on the V_m panel when they are recorded. Exit status 2
if the file is missing, incomplete or has no such report.
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
    ap = argparse.ArgumentParser(description='State traces from an apical output file.')
    ah.add_incomplete_arg(ap)
    ap.add_argument('file')
    ap.add_argument('-o', '--output', required=True, help='image file to write (PNG, PDF, SVG)')
    ap.add_argument('--population', help='default: the first population with a state report')
    ap.add_argument('--variables', help='comma-separated (default: all recorded)')
    ap.add_argument('--nodes', help='comma-separated neuron ids (default: the first 8 recorded)')
    ap.add_argument('--tmin', type=float, default=None, help='ms')
    ap.add_argument('--tmax', type=float, default=None, help='ms')
    ap.add_argument('--dpi', type=int, default=120)
    a = ap.parse_args(argv)
    ah.use_args(a)
    with ah.open_complete(a.file) as f:
        pops = list(f['report']) if 'report' in f else []
        pop = a.population or next((p for p in pops if ah.report(f, p) is not None), None)
        rep = ah.report(f, pop) if pop else None
        if rep is None:
            raise ah.Refused('%s: no state report%s (add a recorder {type: state, population: '
                             'P, variables: [V_m]})' % (a.file, ' for %s' % pop if pop else ''))
        spikes = {p.name: p for p in ah.spike_populations(f)}
        reached = ah.reached(f)
        name = ah.network_name(f)
    times, ids, data = rep['times'], rep['node_ids'], rep['data']
    if reached is not None:  # an incomplete file: frames past t_reached may be unwritten
        keep = times <= reached
        times, data = times[keep], data[keep]
    names = rep['variables'] or ['var%d' % k for k in range(data.shape[2])]
    units = rep['variable_units'] or [''] * len(names)
    want = a.variables.split(',') if a.variables else names
    for v in want:
        if v not in names:
            raise ah.Refused('%s: variable %s is not recorded for %s (recorded: %s)'
                             % (a.file, v, pop, ', '.join(names)))
    if a.nodes:
        nodes = [int(x) for x in a.nodes.split(',')]
        for n in nodes:
            if n not in ids:
                raise ah.Refused('%s: neuron %d of %s is not recorded (recorded: %s)'
                                 % (a.file, n, pop, ', '.join(map(str, ids[:20]))))
    else:
        nodes = list(ids[:8])
    t0 = a.tmin if a.tmin is not None else (times[0] if times.size else 0.0)
    t1 = a.tmax if a.tmax is not None else (times[-1] if times.size else 1.0)
    sel = (times >= t0) & (times <= t1)
    fig, axes = plt.subplots(len(want), 1, sharex=True, figsize=(10, 2.4 * len(want) + 0.6),
                             squeeze=False)
    for row, v in enumerate(want):
        ax, k = axes[row][0], names.index(v)
        for n in nodes:
            col = int(np.flatnonzero(ids == n)[0])
            ax.plot(times[sel], data[sel, col, k], lw=0.8, label='neuron %d' % n)
            sp = spikes.get(pop)
            if v == 'V_m' and sp is not None:
                st = sp.times[(sp.ids == n) & (sp.times >= t0) & (sp.times <= t1)]
                ax.plot(st, np.full(st.shape, np.nanmax(data[sel, col, k]) if sel.any() else 0),
                        'v', ms=4, color=ax.lines[-1].get_color())
        ax.set_ylabel('%s (%s)' % (v, units[k]) if units[k] else v)
    axes[-1][0].set_xlabel('time (ms)')
    axes[0][0].legend(loc='upper right', fontsize=7, ncol=min(4, len(nodes)))
    axes[0][0].set_title('%s: %s, %d neuron%s' % (name, pop, len(nodes), '' if len(nodes) == 1 else 's'))
    fig.tight_layout()
    fig.savefig(a.output, dpi=a.dpi)
    print('%s: %d frames of %s (%s) for %d neurons, %g to %g ms' % (
        a.output, int(sel.sum()), pop, ', '.join(want), len(nodes), t0, t1))
    return 0


if __name__ == '__main__':
    ah.run_tool(main)
