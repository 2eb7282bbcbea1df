#!/usr/bin/python3
"""Test error over training for one or more segregated-dendrite runs
(/learning_curve: one row per test pass), printed per pass with Wilson 95 %
intervals and drawn as a PNG with the paper's values after 60 epochs marked
(Guergiev et al. 2017, Fig 5: 4.1 % with one hidden layer, 3.2 % with two;
REFERENCES.md §3); with two or more runs, McNemar's paired test between
every pair at every test pass they share (same training examples seen,
same test images: /classification's per-image outcomes).

Usage: /usr/bin/python3 analysis/learning_curve.py RUN.h5 [RUN2.h5 ...]
       [-o FIG.png] [--labels A,B] [--allow-incomplete]

A run stopped and resumed from its checkpoint (protocol.resume) is in
several files, each holding its own part: name it as PART1.h5+PART2.h5[+...]
to read the parts as one run. With --allow-incomplete a run still being
written, or killed (RUN.h5.part, read as an SWMR reader), is read up to its
last test pass.
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5  # noqa: E402

PAPER = [(4.1, 'paper, 1 hidden layer (60 epochs)'), (3.2, 'paper, 2 hidden layers (60 epochs)')]
PAPER_EPOCHS = 60
Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson(k, n, z=Z95):
    """Wilson score interval (lo, hi) for k errors out of n trials: unlike
    the normal (Wald) interval it stays inside [0, 1] and keeps close to
    its nominal coverage for error rates near 0, where these runs end."""
    if n <= 0:
        return float('nan'), float('nan')
    p = k / n
    d = 1.0 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def mcnemar(b, c):
    """McNemar's test on the discordant pairs: b images right only in the
    first run, c right only in the second. Returns (z, p): z = (b - c) /
    sqrt(b + c) (> 0: the first run is better; 0 without discordant pairs)
    and the exact two-sided p = P(min(b, c) or fewer of b + c fair coin
    flips), doubled and capped at 1 (exact integers: no normal approximation
    for the few discordant pairs of nearly equal runs)."""
    n = b + c
    if n == 0:
        return 0.0, 1.0
    z = (b - c) / math.sqrt(n)
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1))
    return z, min(1.0, (2 * tail) / (2 ** n))  # int / int: correctly rounded, any n


def columns(g, names):
    """Columns of an output table, cut to the rows every column has (a
    table being written live may have grown in one column before another)."""
    cols = [g[k][()] for k in names]
    n = min(len(c) for c in cols)
    return [c[:n] for c in cols]


def read_run(path):
    """One run's test passes: a list of dicts (examples, epoch, tests,
    wrong, images: (label, predicted) per image or None), in pass order. A
    pass whose /classification rows are not all there (several passes at
    one example count, or a file being written) keeps its learning-curve
    figures without per-image outcomes; a learning-curve row not written
    yet is not a pass."""
    f = apical_h5.open_complete(path)
    if 'learning_curve' not in f:
        raise apical_h5.Refused('%s: no /learning_curve (the protocol had no test: section)'
                                % path)
    ex, ep, err, tests = columns(f['learning_curve'], ('examples', 'epoch', 'test_error',
                                                       'tests'))
    per = {}
    if 'classification' in f and 'examples' in f['classification']:
        cex, lab, pred = columns(f['classification'], ('examples', 'label', 'predicted'))
        for e in np.unique(cex):
            m = cex == e
            per[float(e)] = (lab[m].astype(int), pred[m].astype(int))
    passes = []
    for i in range(len(ex)):
        n = int(round(tests[i]))
        lp = per.get(float(ex[i]))
        if lp is not None and len(lp[0]) != n:
            lp = None
        passes.append({'examples': float(ex[i]), 'epoch': float(ep[i]), 'tests': n,
                       'wrong': int(round(err[i] * n)), 'images': lp})
    f.close()
    return passes


def read_joined(arg):
    """A run given as PART1.h5+PART2.h5+...: the parts' passes in order. A
    part resumed from an older checkpoint than the last pass before it
    repeats passes: the later part's are kept (it is the run that went
    on)."""
    passes = []
    for path in arg.split('+'):
        part = read_run(path)
        if part:
            passes = [p for p in passes if p['examples'] < part[0]['examples']] + part
    return passes


def print_curve(lab, passes):
    print('%s: %d test passes' % (lab, len(passes)))
    print('  %8s %10s %6s %9s  %s' % ('epoch', 'examples', 'tests', 'error %', 'Wilson 95 %'))
    for p in passes:
        lo, hi = wilson(p['wrong'], p['tests'])
        print('  %8.3f %10d %6d %9.2f  [%.2f, %.2f]' % (
            p['epoch'], p['examples'], p['tests'], 100.0 * p['wrong'] / max(p['tests'], 1),
            100.0 * lo, 100.0 * hi))


def compare(runs):
    """McNemar between every pair of runs at every test pass both have
    (equal training examples seen) with per-image outcomes on the same test
    images (equal label sequences). Returns the rows printed."""
    rows = []
    for a in range(len(runs)):
        for b in range(a + 1, len(runs)):
            (la, pa), (lb, pb) = runs[a], runs[b]
            byex = {p['examples']: p for p in pb}
            print('McNemar, %s vs %s (b: right only in %s, c: right only in %s; z > 0: %s '
                  'better):' % (la, lb, la, lb, la))
            print('  %8s %9s %9s %6s %6s %7s %9s' % ('epoch', '%s %%' % la[:8], '%s %%' % lb[:8],
                                                   'b', 'c', 'z', 'p'))
            for p in pa:
                q = byex.get(p['examples'])
                if q is None:
                    continue
                if p['images'] is None or q['images'] is None:
                    print('  %8.3f  (per-image outcomes incomplete: not compared)' % p['epoch'])
                    continue
                (l1, y1), (l2, y2) = p['images'], q['images']
                if len(l1) != len(l2) or not np.array_equal(l1, l2):
                    print('  %8.3f  (different test images: not paired)' % p['epoch'])
                    continue
                r1, r2 = y1 == l1, y2 == l2
                nb, nc = int(np.sum(r1 & ~r2)), int(np.sum(~r1 & r2))
                z, pv = mcnemar(nb, nc)
                print('  %8.3f %9.2f %9.2f %6d %6d %+7.2f %9.3g' % (
                    p['epoch'], 100.0 * np.mean(~r1), 100.0 * np.mean(~r2), nb, nc, z, pv))
                rows.append((la, lb, p['epoch'], nb, nc, z, pv))
    return rows


def plot(runs, out):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    top = 0.0
    for lab, passes in runs:
        ep = np.array([p['epoch'] for p in passes])
        err = np.array([100.0 * p['wrong'] / max(p['tests'], 1) for p in passes])
        ci = np.array([wilson(p['wrong'], p['tests']) for p in passes]).reshape(-1, 2) * 100.0
        ax.errorbar(ep, err, yerr=[err - ci[:, 0], ci[:, 1] - err], fmt='o-', capsize=2,
                    label=lab + ' (Wilson 95 %)')
        top = max(top, ep.max() if ep.size else 0.0)
    for (y, lab), m in zip(PAPER, ('*', 'P')):
        ax.axhline(y, ls='--', lw=0.8, color='gray')
        ax.plot([PAPER_EPOCHS], [y], m, color='k', ms=8, ls='none', label=lab)
    ax.set_xlim(0, max(top, PAPER_EPOCHS) * 1.05)
    ax.set_xlabel('epochs (training examples / training images)')
    ax.set_ylabel('test error (%)')
    ax.set_yscale('log')
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    apical_h5.add_incomplete_arg(ap)
    ap.add_argument('files', nargs='+')
    ap.add_argument('-o', '--output', help='figure (PNG); without it, only the tables')
    ap.add_argument('--labels', help='comma-separated labels, one per file')
    a = ap.parse_args()
    apical_h5.use_args(a)
    labels = a.labels.split(',') if a.labels else [os.path.basename(p.split('+')[0])
                                                    for p in a.files]
    if len(labels) != len(a.files):
        raise apical_h5.Refused('--labels needs one label per file')
    runs = [(lab, read_joined(arg)) for arg, lab in zip(a.files, labels)]
    for lab, passes in runs:
        print_curve(lab, passes)
    print('paper (Fig 5, after %d epochs): %s' % (
        PAPER_EPOCHS, '; '.join('%s: %.1f %%' % (t, y) for y, t in PAPER)))
    if len(runs) > 1:
        compare(runs)
    if a.output:
        plot(runs, a.output)
    return 0


if __name__ == '__main__':
    sys.exit(apical_h5.run_tool(main))
