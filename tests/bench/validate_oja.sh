#!/bin/sh
# `make validate`, Oja's rule (issue 15; docs/VALIDATION.md, "Oja's rule"):
# networks/oja_pca.yaml twice, 4000 s each (~10 s of CPU each): run 1 driven
# by latent source 1, run 2 by latent source 2 (a principal eigenvector 36
# degrees away), from the same initial weights. Pass: in each run the mean
# angle of w to C's principal eigenvector over the last 10% is below 5
# degrees and the mean |w| there within 0.05 of 1. Figure: OUTDIR/oja_pca.png
# (analysis/oja_pca.py). Exit 0 pass, 1 fail, 2 failure to run.
# Environment: APICAL, PYTHON, OUTDIR (default results/).
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
OUTDIR=${OUTDIR:-results}
mkdir -p "$OUTDIR" || exit 2
"$APICAL" run networks/oja_pca.yaml -o "$OUTDIR/oja_pca.h5" --quiet || exit 2
"$APICAL" run networks/oja_pca.yaml -o "$OUTDIR/oja_pca_2.h5" --quiet \
    --set 'inputs[0].rate=0 Hz' --set 'inputs[1].rate=50 Hz' || exit 2
"$PYTHON" analysis/oja_pca.py "$OUTDIR/oja_pca.h5" "$OUTDIR/oja_pca_2.h5" \
    -o "$OUTDIR/oja_pca.png" --max-angle 5 --norm-tol 0.05
