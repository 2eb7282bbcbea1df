#!/usr/bin/python3
"""Song-type STDP network in apical and in Brian2 with the same parameters
(Brian2's STDP example, networks/song2000_brian_example.yaml), 100 s: the
fraction of weights within 10% of 0 or g_max and the output rate over the
second half, from both simulators. Brian2 runs in runtime mode (numpy), which
takes a few minutes.

Usage: APICAL=build/apical /usr/bin/python3 tests/bench/song_crosscheck.py [--seconds 100]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def apical_run(seconds):
    import h5py
    apical = os.environ.get('APICAL') or os.path.join(ROOT, 'build', 'apical')
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, 'song.h5')
        subprocess.run([apical, 'run', os.path.join(ROOT, 'networks', 'song2000_brian_example.yaml'),
                        '-o', out, '--quiet', '--duration', '%g s' % seconds], check=True)
        with h5py.File(out, 'r') as f:
            w = f['edges/plastic/0/syn_weight'][:] / 0.2
            t = f['spikes/neuron/timestamps'][:]
    return w, t


def brian2_run(seconds):
    warnings.filterwarnings('ignore')
    from brian2 import (NeuronGroup, PoissonGroup, SpikeMonitor, Synapses, Hz, ms, mV, prefs,
                        run, second, seed)
    prefs.codegen.target = 'numpy'
    seed(1)
    taum, taupre, taupost = 10 * ms, 20 * ms, 20 * ms
    Ee, vt, vr, El, taue = 0 * mV, -54 * mV, -60 * mV, -74 * mV, 5 * ms
    gmax, dApre = .01, .01
    dApost = -dApre * taupre / taupost * 1.05 * gmax
    dApre *= gmax
    inp = PoissonGroup(1000, rates=15 * Hz)
    n = NeuronGroup(1, '''dv/dt = (ge * (Ee-v) + El - v) / taum : volt
                          dge/dt = -ge / taue : 1''',
                    threshold='v>vt', reset='v = vr', method='euler',
                    namespace=dict(Ee=Ee, El=El, taum=taum, taue=taue, vt=vt, vr=vr))
    n.v = vr
    S = Synapses(inp, n, '''w : 1
                            dApre/dt = -Apre / taupre : 1 (event-driven)
                            dApost/dt = -Apost / taupost : 1 (event-driven)''',
                 on_pre='''ge += w
                           Apre += dApre
                           w = clip(w + Apost, 0, gmax)''',
                 on_post='''Apost += dApost
                            w = clip(w + Apre, 0, gmax)''',
                 namespace=dict(taupre=taupre, taupost=taupost, dApre=dApre, dApost=dApost,
                                gmax=gmax))
    S.connect()
    S.w = 'rand() * gmax'
    sm = SpikeMonitor(n)
    run(seconds * second)
    return np.array(S.w) / gmax, np.array(sm.t / ms)


def summary(name, w, t, seconds):
    near = 100 * np.mean((w < 0.1) | (w > 0.9))
    rate = np.sum(t > seconds * 500.0) / (seconds / 2.0)
    print('%-8s weights within 10%% of 0 or g_max: %5.1f%%   output rate (2nd half): %6.2f Hz'
          % (name, near, rate))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seconds', type=float, default=100.0)
    a = ap.parse_args()
    summary('apical', *apical_run(a.seconds), a.seconds)
    summary('brian2', *brian2_run(a.seconds), a.seconds)
    return 0


if __name__ == '__main__':
    sys.exit(main())
