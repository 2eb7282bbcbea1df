#!/usr/bin/python3
"""First-layer receptive fields: the final weights (/edges/<projection>,
written for every learned projection) from the pixels to sampled hidden
neurons, each drawn as a square image (28x28 for MNIST), as a PNG.

Usage: /usr/bin/python3 analysis/receptive_fields.py RUN.h5 -o FIG.png
       [--projection W0] [--units 25] [--seed 0]
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
    ap.add_argument('--projection', default='W0')
    ap.add_argument('--units', type=int, default=25)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    apical_h5.use_args(a)
    f = apical_h5.open_complete(a.file)
    path = 'edges/' + a.projection
    if path not in f:
        raise apical_h5.Refused('%s: no /%s (projections learned by the protocol are written '
                                'there)' % (a.file, path))
    g = f[path]
    src, tgt = g['source_node_id'][:], g['target_node_id'][:]
    w = g['0/syn_weight'][:]
    n_src, n_tgt = int(src.max()) + 1, int(tgt.max()) + 1
    side = int(round(np.sqrt(n_src)))
    if side * side != n_src:
        raise apical_h5.Refused('%s: %d sources are not a square image' % (path, n_src))
    W = np.zeros((n_tgt, n_src))
    W[tgt, src] = w
    rng = np.random.default_rng(a.seed)
    units = np.sort(rng.choice(n_tgt, size=min(a.units, n_tgt), replace=False))
    cols = int(np.ceil(np.sqrt(len(units))))
    rows = int(np.ceil(len(units) / cols))
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axs = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.3 * rows), squeeze=False)
    for k, ax in enumerate(axs.flat):
        ax.axis('off')
        if k < len(units):
            im = W[units[k]].reshape(side, side)
            v = np.abs(im).max() or 1.0
            ax.imshow(im, cmap='RdBu_r', vmin=-v, vmax=v)
            ax.set_title('%d' % units[k], fontsize=6)
    fig.suptitle('%s: weights of %d sampled units' % (a.projection, len(units)), fontsize=8)
    fig.tight_layout()
    fig.savefig(a.output, dpi=120)
    print('%s: %d of %d units drawn, %dx%d' % (a.projection, len(units), n_tgt, side, side))
    return 0


if __name__ == '__main__':
    sys.exit(apical_h5.run_tool(main))
