#!/usr/bin/env python3
"""`make mnist-accuracy`: train networks/mnist_segregated.yaml (784-500-10,
segregated dendrites, stepper exact) on the first TRAIN MNIST training
images, then classify the first TEST test images (250 ms forward phases, as
the reference evaluates), and compare the test error with the reference
implementation's published runs (REFERENCES.md section 3):

    6000 training examples, 1000 test images:   about 20%
    30000 training examples, 10000 test images: 12.8% (seed 0, defaults)

Writes results/mnist_accuracy.h5 (spikes of the output layer, plateaus,
/classification) and results/mnist_confusion.png. Defaults: 30000 / 10000,
about 8 minutes on two cores. Environment: APICAL, PYTHON, TRAIN, TEST, SEED.
Exit 0 when the run completes (the comparison is reported, not judged: the
reference's numbers are single runs without error bars), 2 when it fails."""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE = {6000: (1000, 20.0, 'about 20% (1000 test images)'),
             30000: (10000, 12.8, '12.8% (all 10000 test images, seed 0)')}


def main():
    apical = os.environ.get('APICAL') or os.path.join(ROOT, 'build', 'apical')
    python = os.environ.get('PYTHON') or sys.executable
    train = int(os.environ.get('TRAIN', '30000'))
    test = int(os.environ.get('TEST', '10000'))
    seed = int(os.environ.get('SEED', '1'))
    data = os.path.join(ROOT, 'data', 'mnist')
    if not os.path.exists(os.path.join(data, 'train-images-idx3-ubyte')):
        print('mnist-accuracy: no data/mnist (run `make mnist`)')
        return 2
    with open(os.path.join(ROOT, 'networks', 'mnist_segregated.yaml')) as fh:
        text = fh.read()
    # the shipped file runs 20 training and 10 test examples; scale both (it
    # gives no duration: the run ends with the protocol's last presentation)
    text = re.sub(r'(\n  examples:) 20\n', r'\1 %d\n' % train, text)
    text = re.sub(r'(\n    examples:) 10\n', r'\1 %d\n' % test, text)
    text = text.replace('../data/mnist/', data + '/')
    if ('examples: %d' % train) not in text or ('examples: %d' % test) not in text:
        print('mnist-accuracy: networks/mnist_segregated.yaml changed; update this script')
        return 2
    out = os.path.join(ROOT, 'results')
    os.makedirs(out, exist_ok=True)
    net = os.path.join(out, 'mnist_accuracy.yaml')
    with open(net, 'w') as fh:
        fh.write(text)
    h5 = os.path.join(out, 'mnist_accuracy.h5')
    stats = os.path.join(out, 'mnist_accuracy.json')
    print('mnist-accuracy: %d training examples, %d test images, seed %d' % (train, test, seed))
    r = subprocess.run([apical, 'run', net, '-o', h5, '--seed', str(seed), '--stats-json', stats])
    if r.returncode != 0:
        return 2
    with open(stats) as fh:
        st = json.load(fh)
    png = os.path.join(out, 'mnist_confusion.png')
    r = subprocess.run([python, os.path.join(ROOT, 'analysis', 'mnist_accuracy.py'), h5, '-o', png,
                        '--json'], stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        return 2
    res = json.loads(r.stdout)
    print('test error %.2f%% +- %.2f%% on %d images (train %d examples in %.0f s wall)'
          % (100 * res['error'], 100 * res['stderr'], res['tests'], train, st['wall_run_s']))
    if train in REFERENCE and REFERENCE[train][0] == test:
        print('reference implementation after %d examples: %s' % (train, REFERENCE[train][2]))
    print('figure: %s' % png)
    return 0


if __name__ == '__main__':
    sys.exit(main())
