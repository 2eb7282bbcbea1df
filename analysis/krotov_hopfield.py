#!/usr/bin/python3
"""Krotov & Hopfield competing hidden units: receptive fields and numbers.

Reads a run of networks/krotov_hopfield.yaml (the learned weights in
/edges/<projection>, the protocol's tables /krotov_hopfield/unsupervised
and /krotov_hopfield/readout), draws the first --units hidden units'
weights as 28x28 images (the paper's Fig. 3; red positive, blue negative,
each unit scaled to its own largest |W|), and prints, computed here from
the weights:

  converged    fraction of units with | ||W_mu||_p - R | <= 1% of R
  max_dev      largest | ||W_mu||_p - R |
  match        mean over units of the best cosine between the unit's
               weights and --match-images training images: ~0.1 for random
               weights, near 1 for digit-like fields (a unit that is a
               prototype of the digits it wins)
  similarity   mean cosine between distinct units' weights: near 1 when
               every unit learned the same blob (collapse), lower for
               diverse fields
  test_error   the readout's test error after its last epoch (if any)

With --min-converged, --max-dev, --min-match, --max-similarity,
--max-test-error it exits 1 when a number is outside its bound (tests).

Usage: /usr/bin/python3 analysis/krotov_hopfield.py RUN.h5 [-o FIG.png]
       [--images data/mnist/train-images-idx3-ubyte] [--p 3] [--R 1]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5  # noqa: E402


def dense(f, path):
    if path not in f:
        raise apical_h5.Refused('no /%s (the protocol writes the projections it learns there)'
                                % path)
    g = f[path]
    src = g['source_node_id'][:].astype(np.int64)
    tgt = g['target_node_id'][:].astype(np.int64)
    W = np.zeros((int(tgt.max()) + 1, int(src.max()) + 1))
    W[tgt, src] = g['0/syn_weight'][:]
    return W


def read_idx_images(path, n):
    with open(path, 'rb') as fh:
        d = fh.read()
    if int.from_bytes(d[0:4], 'big') != 0x803:
        raise apical_h5.Refused('%s: not an IDX image file' % path)
    count, rows, cols = (int.from_bytes(d[4 * k:4 * k + 4], 'big') for k in (1, 2, 3))
    x = np.frombuffer(d, np.uint8, offset=16, count=count * rows * cols)
    return x.reshape(count, rows * cols)[:n] / 255.0


def table(f, name):
    path = 'krotov_hopfield/' + name
    if path not in f:
        return None
    g = f[path]
    return {k: g[k][:] for k in g.keys()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    apical_h5.add_incomplete_arg(ap)
    ap.add_argument('file')
    ap.add_argument('-o', '--output', help='figure (PNG)')
    ap.add_argument('--projection', default='W')
    ap.add_argument('--units', type=int, default=100, help='units drawn (the first ones)')
    ap.add_argument('--p', type=float, default=3.0, help="the rule's p (network file)")
    ap.add_argument('--R', type=float, default=1.0, help="the rule's R (network file)")
    ap.add_argument('--images', default='data/mnist/train-images-idx3-ubyte')
    ap.add_argument('--match-images', type=int, default=2000)
    ap.add_argument('--min-converged', type=float)
    ap.add_argument('--max-dev', type=float)
    ap.add_argument('--min-match', type=float)
    ap.add_argument('--max-similarity', type=float)
    ap.add_argument('--max-test-error', type=float)
    a = ap.parse_args()
    apical_h5.use_args(a)
    f = apical_h5.open_complete(a.file)
    W = dense(f, 'edges/' + a.projection)
    K, N = W.shape
    norms = (np.abs(W) ** a.p).sum(1) ** (1.0 / a.p)
    dev = np.abs(norms - a.R)
    Wn = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-300)
    X = read_idx_images(a.images, a.match_images)
    if X.shape[1] != N:
        raise apical_h5.Refused('%s: %d pixels, the weights have %d sources'
                                % (a.images, X.shape[1], N))
    Xn = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-300)
    match = (Wn @ Xn.T).max(1).mean()
    G = Wn @ Wn.T
    similarity = (G.sum() - np.trace(G)) / (K * (K - 1)) if K > 1 else 0.0
    res = {'units': K, 'converged': float((dev <= 0.01 * a.R).mean()),
           'max_dev': float(dev.max()), 'norm_mean': float(norms.mean()),
           'match': float(match), 'similarity': float(similarity)}
    ro = table(f, 'readout')
    if ro is not None and len(ro['epoch']):
        res['readout_epochs'] = int(ro['epoch'][-1])
        res['test_error'] = float(ro['test_error'][-1])
        res['train_error'] = float(ro['train_error'][-1])
    un = table(f, 'unsupervised')
    if un is not None and len(un['epoch']):
        res['unsupervised_epochs'] = int(un['epoch'][-1])
    print(' '.join('%s=%.6g' % (k, v) if isinstance(v, float) else '%s=%s' % (k, v)
                   for k, v in res.items()))
    if a.output:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        n = min(a.units, K)
        side = int(round(np.sqrt(N)))
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        fig, axs = plt.subplots(rows, cols, figsize=(0.8 * cols, 0.8 * rows + 0.5),
                                squeeze=False)
        for k, ax in enumerate(axs.flat):
            ax.axis('off')
            if k < n:
                v = np.abs(W[k]).max() or 1.0
                ax.imshow(W[k].reshape(side, side), cmap='bwr', vmin=-v, vmax=v)
        title = '%s: first %d of %d units' % (a.projection, n, K)
        if 'unsupervised_epochs' in res:
            title += ', %d unsupervised epochs' % res['unsupervised_epochs']
        if 'test_error' in res:
            title += ', test error %.2f%%' % (100 * res['test_error'])
        fig.suptitle(title, fontsize=8)
        fig.tight_layout(pad=0.2)
        fig.savefig(a.output, dpi=120)
    bad = []
    for key, bound, lower in (('converged', a.min_converged, True), ('max_dev', a.max_dev, False),
                              ('match', a.min_match, True),
                              ('similarity', a.max_similarity, False),
                              ('test_error', a.max_test_error, False)):
        if bound is None:
            continue
        v = res.get(key)
        if v is None or (v < bound if lower else v > bound):
            bad.append('%s = %s, want %s %g' % (key, v, '>=' if lower else '<=', bound))
    for b in bad:
        print('FAIL: ' + b)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(apical_h5.run_tool(main))
