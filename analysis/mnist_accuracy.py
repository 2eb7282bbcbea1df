#!/usr/bin/python3
"""Test error of a segregated-dendrite run (a protocol with `test:`): reads
/classification (label, predicted per test presentation) and prints the error
rate with its binomial standard error and the confusion matrix; with -o also
draws the matrix.

Usage: /usr/bin/python3 analysis/mnist_accuracy.py OUT.h5 [-o FIG.png] [--json]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    apical_h5.add_incomplete_arg(ap)
    ap.add_argument('file')
    ap.add_argument('-o', '--output', help='confusion matrix figure (PNG)')
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    apical_h5.use_args(a)
    f = apical_h5.open_complete(a.file)
    if 'classification' not in f:
        raise apical_h5.Refused('%s: no /classification (the protocol had no test: section, '
                                'or the run ended before testing)' % a.file)
    lab = f['classification/label'][:].astype(int)
    pred = f['classification/predicted'][:].astype(int)
    n = len(lab)
    if n == 0:
        raise apical_h5.Refused('%s: /classification is empty' % a.file)
    k = max(int(lab.max()), int(pred.max())) + 1
    conf = np.zeros((k, k), int)
    for l, p in zip(lab, pred):
        conf[l, p] += 1
    err = float(np.mean(lab != pred))
    se = float(np.sqrt(err * (1 - err) / n))
    if a.json:
        print(json.dumps({'tests': n, 'error': err, 'stderr': se, 'confusion': conf.tolist()}))
    else:
        print('%d test presentations: error %.2f%% +- %.2f%% (chance %.0f%%)'
              % (n, 100 * err, 100 * se, 100 * (1 - 1.0 / k)))
        print('confusion (rows: label, columns: predicted):')
        for i in range(k):
            print('  %d: %s' % (i, ' '.join('%4d' % v for v in conf[i])))
    if a.output:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 4.4))
        im = ax.imshow(conf, cmap='Blues')
        ax.set_xlabel('predicted')
        ax.set_ylabel('label')
        ax.set_title('test error %.1f%% (%d presentations)' % (100 * err, n))
        fig.colorbar(im, ax=ax)
        fig.tight_layout()
        fig.savefig(a.output, dpi=120)
    return 0


if __name__ == '__main__':
    sys.exit(apical_h5.run_tool(main))
