#!/bin/sh
# `make validate`, Hopfield memory (issue 15; docs/VALIDATION.md, "Hopfield"):
# networks/hopfield_capacity.yaml, cue = pattern 0 with 10% of the bits
# flipped, final overlap against the load alpha = P/N from 0.05 to 0.25:
# N = 1000 and N = 2000, seeds 1 2 3 each. Pass: mean overlap > 0.95
# for alpha < 0.1 and < 0.5 for alpha > 0.18 at both sizes. Then the
# spurious states at alpha = 0.01: cue -xi (it is retrieved: overlap -1) and
# the majority of three patterns (a mixture state: overlap ~0.5 with each).
# Figure: OUTDIR/hopfield_capacity.png. ~5 min on 2 cores.
# Exit 0 pass, 1 fail, 2 failure to run. Environment: APICAL, PYTHON, OUTDIR.
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
OUTDIR=${OUTDIR:-results}
mkdir -p "$OUTDIR" || exit 2
export APICAL
status=0
"$PYTHON" analysis/hopfield.py sweep --sizes 1000 --seeds 1 2 3 --workdir "$OUTDIR/hopfield" \
    --reuse --json "$OUTDIR/hopfield_1000.json" --below 0.1 --above 0.18 || status=1
"$PYTHON" analysis/hopfield.py sweep --sizes 2000 --seeds 1 2 3 --workdir "$OUTDIR/hopfield" \
    --reuse --json "$OUTDIR/hopfield_2000.json" --below 0.1 --above 0.18 || status=1
"$PYTHON" analysis/hopfield.py sweep --sizes 1000 2000 --seeds 1 2 3 --workdir "$OUTDIR/hopfield" \
    --reuse -o "$OUTDIR/hopfield_capacity.png" >/dev/null || status=2
"$PYTHON" analysis/hopfield.py spurious --workdir "$OUTDIR/hopfield" || status=2
exit $status
