#!/usr/bin/python3
"""Credit assignment compared (issue 16): test error over training and the
angle to backprop per hidden layer, for several runs of the same network
that differ in their feedback (/learning_curve, /backprop_angle), as one
PNG with two panels; prints each run's figures.

Usage: /usr/bin/python3 analysis/credit_assignment.py RUN.h5 [RUN2.h5 ...]
       -o FIG.png [--labels A,B,...] [--smooth N]
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
    ap.add_argument('files', nargs='+')
    ap.add_argument('-o', '--output', required=True, help='figure (PNG)')
    ap.add_argument('--labels', help='comma-separated legend labels, one per file')
    ap.add_argument('--smooth', type=int, default=20, help='running mean of angles over N samples')
    a = ap.parse_args()
    apical_h5.use_args(a)
    labels = a.labels.split(',') if a.labels else [os.path.basename(p) for p in a.files]
    if len(labels) != len(a.files):
        raise apical_h5.Refused('--labels needs one label per file')
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax_e, ax_a) = plt.subplots(1, 2, figsize=(10, 4))
    styles = ['-', '--', ':', '-.']
    for k, (path, lab) in enumerate(zip(a.files, labels)):
        f = apical_h5.open_complete(path)
        for need in ('learning_curve', 'backprop_angle'):
            if need not in f:
                raise apical_h5.Refused('%s: no /%s (the protocol needs test: and angle:)'
                                        % (path, need))
        c = f['learning_curve']
        ex, err = c['examples'][:], 100.0 * c['test_error'][:]
        line, = ax_e.plot(ex, err, 'o-', label=lab)
        print('%s: test error %s %% after %s examples'
              % (lab, ', '.join('%.2f' % e for e in err), ', '.join('%d' % x for x in ex)))
        g = f['backprop_angle']
        aex, lay, ang = g['example'][:], g['layer'][:].astype(int), g['angle'][:]
        for l in sorted(set(lay.tolist())):
            m = lay == l
            x, y = aex[m], ang[m]
            n = max(1, min(a.smooth, len(y)))
            ys = np.convolve(y, np.ones(n) / n, mode='valid')
            ax_a.plot(x[n - 1:], ys, styles[l % len(styles)], color=line.get_color(),
                      label='%s, hidden layer %d' % (lab, l + 1))
            q = max(1, len(y) // 10)
            print('  hidden layer %d: %d angles, mean %.1f deg (sd %.1f), first tenth %.1f, '
                  'last tenth %.1f' % (l + 1, len(y), y.mean(), y.std(), y[:q].mean(),
                                       y[-q:].mean()))
    ax_e.set_xlabel('training examples')
    ax_e.set_ylabel('test error (%)')
    ax_e.legend(fontsize=8)
    ax_a.axhline(90, ls='--', lw=0.8, color='gray')
    ax_a.set_xlabel('training example')
    ax_a.set_ylabel('angle to backprop (degrees, running mean over %d)' % a.smooth)
    ax_a.set_ylim(0, 120)
    ax_a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(a.output, dpi=120)
    return 0


if __name__ == '__main__':
    sys.exit(apical_h5.run_tool(main))
