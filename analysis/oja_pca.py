#!/usr/bin/env python3
"""Oja's rule against the principal component: angle and norm over time.

Reads runs of networks/oja_pca.yaml (or shorter variants): the weight
report of the plastic projection (`oja`) and the loadings of the latent
source that drove the run (`loadings1` or `loadings2`, recorded at t = 0).
From the generator stated in the network file it computes the covariance C
of the filtered input trains the rule sees,

    C = tau_in/(tau_in + tau) (a a' nu_L + s^2 nu_p I) / (2 tau_in) + diag(nu_i) / (2 tau),
    nu_i = rate0 + a_i nu_L + s nu_p,

and plots the angle between w(t) and C's principal eigenvector, and |w(t)|.
The generator's constants are options whose defaults are the network file's.

  analysis/oja_pca.py results/oja_pca.h5 results/oja_pca_2.h5 -o results/oja_pca.png
  analysis/oja_pca.py RUN.h5 --max-angle 5 --norm-tol 0.1   (exit 1 if not met)
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apical_h5 as ah  # noqa: E402


def report(f, name):
    g = f['report'][name]
    start, stop, step = g['mapping/time'][()]
    data = np.asarray(g['data'][()], dtype=float)
    t = start + step * np.arange(data.shape[0])
    order = np.argsort(g['mapping/source_node_ids'][()], kind='stable')
    return t, data[:, order]


def covariance(a, a_args):
    tau, tau_in = a_args.tau / 1e3, a_args.tau_in / 1e3  # s
    nu = a_args.rate0 + a * a_args.nu_latent + a_args.s * a_args.nu_private
    rate = (np.outer(a, a) * a_args.nu_latent
            + a_args.s ** 2 * a_args.nu_private * np.eye(len(a))) / (2 * tau_in)
    return tau_in / (tau_in + tau) * rate + np.diag(nu) / (2 * tau)


def top(c):
    val, vec = np.linalg.eigh(c)
    v = vec[:, -1]
    return v * np.sign(v.sum()), val[::-1]


def angle(w, v):
    c = np.abs(w @ v) / np.maximum(np.linalg.norm(w, axis=-1), 1e-300)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


def analyse(path, latent, args):
    """Angle of w(t) to the principal eigenvector of the covariance made by
    latent source `latent` (1 or 2: the run drives that one), and |w(t)|."""
    with ah.open_complete(path) as f:
        t, w = report(f, args.projection)
        _, a = report(f, 'loadings%d' % latent)
    a = a[0]
    v, ev = top(covariance(a, args))
    ang = angle(w, v)
    norm = np.linalg.norm(w, axis=1)
    sel = t > t[0] + 0.9 * (t[-1] - t[0])  # the last 10%
    first = np.flatnonzero(ang < args.max_angle)[0] if args.max_angle is not None and \
        (ang < args.max_angle).any() else None
    return dict(t=t, w=w, angle=ang, norm=norm, v=v, gap=ev[0] / ev[1],
                load=float(angle(a / np.linalg.norm(a), v)), angle0=float(ang[0]),
                angle_end=float(ang[sel].mean()), norm_end=float(norm[sel].mean()),
                first_below=None if first is None else float(t[first]))


def plot(runs, out):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(3, 1, figsize=(7, 7.5), sharex=True)
    for k, r in enumerate(runs):
        t = r['t'] / 1e3
        lab = 'run %d: latent %d (lambda1/lambda2 = %.1f)' % (k + 1, r['latent'], r['gap'])
        ax[0].plot(t, r['angle'], lw=1, label=lab)
        ax[1].plot(t, r['norm'], lw=1, label=lab)
        ax[2].plot(t, r['w'], lw=0.5, color='C%d' % k, alpha=0.8)
    ax[0].axhline(5, color='k', ls=':', lw=0.8)
    ax[0].set_ylabel('angle to principal\neigenvector (deg)')
    ax[0].set_yscale('log')
    ax[0].legend(fontsize=8)
    ax[1].axhline(1, color='k', ls=':', lw=0.8)
    ax[1].set_ylabel('|w|')
    ax[2].set_ylabel('weights w_i')
    ax[2].set_xlabel('time (s)')
    ax[0].set_title("Oja's rule: w finds the principal component of the input covariance")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('h5', nargs='+', help='runs; the k-th is taken as driven by latent k '
                    '(see --latent)')
    ap.add_argument('-o', '--output', help='figure (PNG)')
    ap.add_argument('--latent', type=int, nargs='+',
                    help='the latent source driving each run (default 1, 2, ...)')
    ap.add_argument('--projection', default='oja')
    ap.add_argument('--tau', type=float, default=300.0, help="out's and the rule's tau (ms)")
    ap.add_argument('--tau-in', type=float, default=100.0, help="inputs' tau (ms)")
    ap.add_argument('--rate0', type=float, default=5.0, help="inputs' rate0 (Hz)")
    ap.add_argument('--nu-latent', type=float, default=50.0, help='latent rate (Hz)')
    ap.add_argument('--nu-private', type=float, default=50.0, help='private rate (Hz)')
    ap.add_argument('--s', type=float, default=0.5, help='private loading')
    ap.add_argument('--max-angle', type=float,
                    help='fail unless the mean angle over the last 10%% is below (deg)')
    ap.add_argument('--norm-tol', type=float,
                    help='fail unless the mean |w| over the last 10%% is within this of 1')
    ah.add_incomplete_arg(ap)
    args = ah.use_args(ap.parse_args())
    latents = args.latent or list(range(1, len(args.h5) + 1))
    if len(latents) != len(args.h5):
        ap.error('one --latent per run')
    runs = []
    try:
        for path, lat in zip(args.h5, latents):
            r = analyse(path, lat, args)
            r['latent'] = lat
            runs.append(r)
    except ah.Refused as e:
        print('oja_pca.py: %s' % e, file=sys.stderr)
        return ah.EXIT_REFUSED
    ok = True
    if len(runs) > 1:
        print('principal eigenvectors of runs 1 and 2: %.1f deg apart'
              % angle(runs[0]['v'], runs[1]['v']))
    for k, r in enumerate(runs, start=1):
        print('run %d (%s, latent %d): lambda1/lambda2 = %.1f, eigenvector %.1f deg from the '
              'loadings; angle %.1f deg at t = 0, %.2f deg at the end (mean of the last 10%%); '
              '|w| %.3f -> %.3f%s'
              % (k, args.h5[k - 1], r['latent'], r['gap'], r['load'], r['angle0'],
                 r['angle_end'], r['norm'][0], r['norm_end'],
                 '' if r['first_below'] is None else
                 '; first below %g deg at %.0f s' % (args.max_angle, r['first_below'] / 1e3)))
        if args.max_angle is not None and not r['angle_end'] < args.max_angle:
            ok = False
        if args.norm_tol is not None and not abs(r['norm_end'] - 1) < args.norm_tol:
            ok = False
    if args.output:
        plot(runs, args.output)
        print('wrote %s' % args.output)
    if not ok:
        print('FAIL: the angle must end below %s deg and |w| within %s of 1'
              % (args.max_angle, args.norm_tol))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
