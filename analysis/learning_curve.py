#!/usr/bin/python3
"""Test error over training for one or more segregated-dendrite runs
(/learning_curve: one row per test pass), as a PNG, with the paper's values
after 60 epochs marked (Guergiev et al. 2017, Fig 5: 4.1 % with one hidden
layer, 3.2 % with two; REFERENCES.md §3).

Usage: /usr/bin/python3 analysis/learning_curve.py RUN.h5 [RUN2.h5 ...] -o FIG.png
       [--labels A,B]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5  # noqa: E402

PAPER = [(4.1, 'paper, 1 hidden layer (60 epochs)'), (3.2, 'paper, 2 hidden layers (60 epochs)')]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    apical_h5.add_incomplete_arg(ap)
    ap.add_argument('files', nargs='+')
    ap.add_argument('-o', '--output', required=True, help='figure (PNG)')
    ap.add_argument('--labels', help='comma-separated legend labels, one per file')
    a = ap.parse_args()
    apical_h5.use_args(a)
    labels = a.labels.split(',') if a.labels else [os.path.basename(p) for p in a.files]
    if len(labels) != len(a.files):
        raise apical_h5.Refused('--labels needs one label per file')
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for path, lab in zip(a.files, labels):
        f = apical_h5.open_complete(path)
        if 'learning_curve' not in f:
            raise apical_h5.Refused('%s: no /learning_curve (the protocol had no test: section)'
                                    % path)
        g = f['learning_curve']
        ep, err = g['epoch'][:], 100.0 * g['test_error'][:]
        ax.plot(ep, err, 'o-', label=lab)
        print('%s: %d test passes, last: %.2f %% after %.3g epochs'
              % (lab, len(err), err[-1], ep[-1]))
    for y, lab in PAPER:
        ax.axhline(y, ls='--', lw=0.8, color='gray')
        ax.text(ax.get_xlim()[1], y, ' ' + lab, va='center', fontsize=7, color='gray')
    ax.set_xlabel('epochs (training examples / training images)')
    ax.set_ylabel('test error (%)')
    ax.set_yscale('log')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.output, dpi=120)
    return 0


if __name__ == '__main__':
    sys.exit(apical_h5.run_tool(main))
