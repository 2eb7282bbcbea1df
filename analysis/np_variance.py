#!/usr/bin/python3
"""Variance of node perturbation's gradient estimate against the number of
perturbed units N, as measured by tests/check_node_perturbation.c
(APICAL_TEST_VERBOSE=1: lines "node perturbation: N = ... var /
mean(grad^2) V ..." from the estimator alone, test_np_variance_scaling, and
"node perturbation (network): ..." through the protocol in a simulation,
test_np_variance_in_network), against the lecture's prediction N + 1
(shared/seeds/001), as a log-log PNG.

Usage: /usr/bin/python3 analysis/np_variance.py LINES.txt -o FIG.png
"""
import argparse
import re
import sys

import numpy as np

LINE = re.compile(r'^node perturbation( \(network\))?: N =\s*(\d+)\s+var / mean\(grad\^2\)\s+'
                  r'([0-9.eE+-]+)')
SERIES = {False: 'estimator alone (2000 draws per N)',
          True: 'protocol in a simulation (300 examples per N)'}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('file')
    ap.add_argument('-o', '--output', required=True, help='figure (PNG)')
    a = ap.parse_args()
    rows = [LINE.search(s) for s in open(a.file)]
    rows = [(m.group(1) is not None, int(m.group(2)), float(m.group(3))) for m in rows if m]
    if len(rows) < 2:
        print('%s: no "node perturbation: N = ... var / mean(grad^2) ..." lines' % a.file,
              file=sys.stderr)
        return 2
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 4))
    for net, label in SERIES.items():
        pts = [(n, v) for is_net, n, v in rows if is_net == net]
        if len(pts) < 2:
            continue
        n, v = np.array(pts).T
        slope = np.polyfit(np.log(n + 1), np.log(v), 1)[0]
        print(label)
        for k in range(len(n)):
            print('  N = %5d  var / mean(grad^2) = %8.2f  predicted N + 1 = %5d  ratio %.3f'
                  % (n[k], v[k], n[k] + 1, v[k] / (n[k] + 1)))
        print('  fitted slope of log var vs log(N + 1): %.3f (predicted 1)' % slope)
        ax.loglog(n, v, 'o' if net else 's', mfc='none' if net else None,
                  label='%s, slope %.3f' % (label, slope))
    n_all = np.array(sorted({n for _, n, _ in rows}), dtype=float)
    ax.loglog(n_all, n_all + 1, '-', lw=0.8, color='gray', label='predicted: N + 1')
    ax.set_xlabel('perturbed units N')
    ax.set_ylabel('var(g_i - grad_i) / mean(grad^2)')
    ax.set_title('node perturbation: variance of the gradient estimate', fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(a.output, dpi=120)
    return 0


if __name__ == '__main__':
    sys.exit(main())
