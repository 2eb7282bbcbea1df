#!/usr/bin/python3
"""Confusion matrix of a segregated-dendrite run's last test pass (rows of
/classification with the largest `examples`; all rows for files without
that column), as a PNG.

Usage: /usr/bin/python3 analysis/confusion.py RUN.h5 -o FIG.png [--all]
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
    ap.add_argument('--all', action='store_true', help='every test pass, not only the last')
    a = ap.parse_args()
    apical_h5.use_args(a)
    f = apical_h5.open_complete(a.file)
    if 'classification' not in f:
        raise apical_h5.Refused('%s: no /classification' % a.file)
    g = f['classification']
    lab, pred = g['label'][:].astype(int), g['predicted'][:].astype(int)
    if len(lab) == 0:
        raise apical_h5.Refused('%s: /classification is empty' % a.file)
    if 'examples' in g and not a.all:
        ex = g['examples'][:]
        m = ex == ex.max()
        lab, pred = lab[m], pred[m]
    k = max(int(lab.max()), int(pred.max())) + 1
    conf = np.zeros((k, k), int)
    np.add.at(conf, (lab, pred), 1)
    err = float(np.mean(lab != pred))
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 4.5))
    im = ax.imshow(conf, cmap='viridis')
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(conf[i, j]), ha='center', va='center', fontsize=6, color='w')
    ax.set_xlabel('predicted')
    ax.set_ylabel('label')
    ax.set_title('test error %.2f %% (%d presentations)' % (100 * err, len(lab)), fontsize=9)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(a.output, dpi=120)
    print('test error %.2f %% over %d presentations' % (100 * err, len(lab)))
    return 0


if __name__ == '__main__':
    sys.exit(apical_h5.run_tool(main))
