#!/usr/bin/python3
"""Angle between the plateau rule's hidden-layer updates and backprop's over
training, per hidden layer (/backprop_angle; the paper's Fig 7A, whose
curve is a running mean over 100 examples), as a PNG.

Usage: /usr/bin/python3 analysis/backprop_angle.py RUN.h5 -o FIG.png [--smooth N]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    apical_h5.add_incomplete_arg(ap)
    ap.add_argument('file')
    ap.add_argument('-o', '--output', required=True, help='figure (PNG)')
    ap.add_argument('--smooth', type=int, default=10, help='running mean over N samples')
    a = ap.parse_args()
    apical_h5.use_args(a)
    f = apical_h5.open_complete(a.file)
    if 'backprop_angle' not in f:
        raise apical_h5.Refused('%s: no /backprop_angle (the protocol had no angle: section)'
                                % a.file)
    g = f['backprop_angle']
    ex, lay, ang = g['example'][:], g['layer'][:].astype(int), g['angle'][:]
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for l in sorted(set(lay.tolist())):
        m = lay == l
        x, y = ex[m], ang[m]
        ax.plot(x, y, '.', ms=2, alpha=0.3)
        k = max(1, min(a.smooth, len(y)))
        ys = np.convolve(y, np.ones(k) / k, mode='valid')
        ax.plot(x[k - 1:], ys, '-', label='hidden layer %d (mean %.1f°)' % (l, y.mean()))
        print('hidden layer %d: %d samples, mean %.1f deg, last %d: %.1f deg'
              % (l, len(y), y.mean(), k, y[-k:].mean()))
    ax.axhline(90, ls='--', lw=0.8, color='gray')
    ax.set_xlabel('training example')
    ax.set_ylabel('angle to backprop (degrees)')
    ax.set_ylim(0, 180)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.output, dpi=120)
    return 0


if __name__ == '__main__':
    sys.exit(apical_h5.run_tool(main))
