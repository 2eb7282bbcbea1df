#!/usr/bin/python3
"""Weight change against plateau difference: the plateau hypothesis of the
segregated-dendrite model, from a run of networks/plateau_ltp_ltd.yaml.

Reads /plateaus/<hidden>/alpha_f and alpha_t (per example and neuron) and the
weights report of the learned projection (a frame per example boundary),
and draws the mean weight change per example of each hidden neuron's active
and silent synapses against alpha_t - alpha_f. Prints the table and checks
the hypothesis: active synapses potentiate when the target plateau is
higher, depress when lower, the change is monotonic through zero, and
silent synapses do not change. Exit 1 if a check fails.

Usage: /usr/bin/python3 analysis/plateau_ltp_ltd.py OUT.h5 [-o FIG.png]
         [--hidden hidden] [--projection basal]
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
    ap.add_argument('-o', '--output', help='figure (PNG)')
    ap.add_argument('--hidden', default='hidden')
    ap.add_argument('--projection', default='basal')
    a = ap.parse_args()
    apical_h5.use_args(a)
    f = apical_h5.open_complete(a.file)
    g = f['plateaus/%s' % a.hidden]
    af, at = g['alpha_f'][:], g['alpha_t'][:]
    dalpha = (at - af).mean(axis=0)
    rep = f['report/%s' % a.projection]
    w = rep['data'][:].astype(float)
    src = rep['mapping/source_node_ids'][:]
    tgt = rep['mapping/target_node_ids'][:]
    n_ex = af.shape[0]
    # frames at every example boundary: first = before learning
    dw = (w[n_ex] - w[0]) / n_ex
    active = np.zeros(len(src), bool)
    spikes = f.get('spikes/inputs')
    if spikes is not None:
        fired = set(np.unique(spikes['node_ids'][:]).tolist())
        active = np.array([s in fired for s in src])
    nh = af.shape[1]
    act = np.array([dw[(tgt == i) & active].mean() for i in range(nh)])
    sil = np.array([np.abs(dw[(tgt == i) & ~active]).max() if ((tgt == i) & ~active).any()
                    else 0.0 for i in range(nh)])
    print('%-8s %12s %16s %16s' % ('neuron', 'a_t - a_f', 'dW active/ex', 'max|dW| silent'))
    for i in np.argsort(dalpha):
        print('%-8d %12.4f %16.6g %16.3g' % (i, dalpha[i], act[i], sil[i]))
    order = np.argsort(dalpha)
    ok = True
    for i in range(nh):
        if abs(dalpha[i]) > 1e-9 and np.sign(act[i]) != np.sign(dalpha[i]):
            print('FAIL: neuron %d: dW %g has the wrong sign for a_t - a_f = %g'
                  % (i, act[i], dalpha[i]))
            ok = False
    if not np.all(np.diff(act[order]) > 0):
        print('FAIL: dW is not monotonic in a_t - a_f')
        ok = False
    if sil.max() != 0.0:
        print('FAIL: silent synapses changed (max |dW| %g)' % sil.max())
        ok = False
    print('%s: %d neurons, %d examples: active synapses LTP for a_t > a_f, LTD for '
          'a_t < a_f, monotonic; silent synapses unchanged' % ('PASS' if ok else 'FAIL', nh, n_ex))
    if a.output:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4.2))
        ax.axhline(0, color='0.7', lw=0.8)
        ax.axvline(0, color='0.7', lw=0.8)
        ax.plot(dalpha[order], act[order], 'o-', label='active synapses (20 Hz inputs)')
        ax.plot(dalpha[order], np.zeros(nh), 's', mfc='none',
                label='silent synapses (max |dW| = %g)' % sil.max())
        ax.set_xlabel(r'plateau difference $\alpha^t - \alpha^f$')
        ax.set_ylabel('basal weight change per example')
        ax.set_title('Plateau rule: sign of dW follows the plateau order')
        ax.legend(fontsize=8, loc='upper left')
        fig.tight_layout()
        fig.savefig(a.output, dpi=120)
        print('figure: %s' % a.output)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(apical_h5.run_tool(main))
