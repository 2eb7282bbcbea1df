#!/bin/sh
# Test of analysis/raster.py and analysis/stats.py on synthetic SONATA files
# (written with h5py, no simulator needed). Run from the repository root:
#   PYTHON=/usr/bin/python3 sh tests/t_analysis.sh      (exit 0 = pass)
set -u
PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/t_analysis.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

# --- synthetic files -------------------------------------------------------
"$PYTHON" - "$tmp" <<'EOF' || fail "could not write the synthetic files"
import sys
import numpy as np
import h5py
d = sys.argv[1]

def write(path, pops, complete=1, duration=None, duration_as='attr', name='synthetic_test'):
    with h5py.File(path, 'w') as f:
        f.attrs['magic'] = np.uint32(0x0A7A)
        f.attrs['version'] = np.array([0, 1], dtype=np.uint32)
        if complete is not None:
            f.attrs['complete'] = np.uint8(complete)
        for pop, (n, t, ids) in pops.items():
            o = np.lexsort((ids, t))
            g = f.create_group('spikes/' + pop)
            g.attrs['n_nodes'] = np.uint64(n)
            g.attrs['sorting'] = np.uint8(2)
            ts = g.create_dataset('timestamps', data=np.asarray(t, np.float64)[o])
            ts.attrs['units'] = 'ms'
            g.create_dataset('node_ids', data=np.asarray(ids, np.uint64)[o])
        p = f.create_group('provenance')
        p.create_dataset('network', data='name: %s\npopulations: {}\n' % name)
        if duration is not None:
            if duration_as == 'attr':
                p.attrs['duration'] = float(duration)
            else:
                p.create_dataset('duration', data=float(duration))

# exc: 100 neurons, 0..49 regular 10 Hz (10 spikes in 1 s, CV 0), 50..99 silent
t_e = np.concatenate([5.0 + 100.0 * np.arange(10) + 0.37 * j for j in range(50)])
i_e = np.repeat(np.arange(50), 10)
# inh: 25 neurons, 9 spikes each, ISIs alternating 10/30 ms (CV 0.5)
isi = np.array([10, 30] * 4, dtype=float)
base = np.concatenate([[0.0], np.cumsum(isi)])
t_i = np.concatenate([100.0 + 20.0 * j + base for j in range(25)])
i_i = np.repeat(np.arange(25), 9)
# big: 2000 neurons, Poisson-like, 12345 spikes (raster subsampling)
rng = np.random.default_rng(1)
t_b = rng.uniform(0, 1000, 12345)
i_b = rng.integers(0, 2000, 12345)
pops = {'exc': (100, t_e, i_e), 'inh': (25, t_i, i_i), 'big': (2000, t_b, i_b)}
write(d + '/ok.h5', pops, duration=1000.0)
write(d + '/ok_ds.h5', pops, duration=2000.0, duration_as='dataset')
write(d + '/nodur.h5', {'exc': (100, t_e, i_e)}, duration=None)
write(d + '/part.h5', pops, complete=0, duration=1000.0)
write(d + '/nocomplete.h5', pops, complete=None, duration=1000.0)
EOF

# --- raster ------------------------------------------------------------------
"$PYTHON" analysis/raster.py "$tmp/ok.h5" -o "$tmp/r.png" || fail "raster.py exited $?"
[ -s "$tmp/r.png" ] || fail "raster.py wrote no PNG"
head -c 8 "$tmp/r.png" | od -c | grep -q 'P   N   G' || fail "r.png is not a PNG"
"$PYTHON" analysis/raster.py "$tmp/ok.h5" -o "$tmp/r2.png" --tmin 200 --tmax 400 \
    || fail "raster.py --tmin/--tmax exited $?"
[ -s "$tmp/r2.png" ] || fail "raster.py --tmin/--tmax wrote no PNG"

# --- stats -------------------------------------------------------------------
"$PYTHON" analysis/stats.py "$tmp/ok.h5" > "$tmp/table.txt" || fail "stats.py exited $?"
grep -q '^exc ' "$tmp/table.txt" || fail "stats table has no exc row: $(cat "$tmp/table.txt")"
for f in ok ok_ds nodur; do
    "$PYTHON" analysis/stats.py "$tmp/$f.h5" --json > "$tmp/$f.json" || fail "stats.py --json $f exited $?"
done
"$PYTHON" analysis/stats.py "$tmp/ok.h5" --json --tmin 500 > "$tmp/tmin.json" || fail "stats.py --tmin exited $?"

"$PYTHON" - "$tmp" <<'EOF' || fail "stats numbers wrong"
import json, sys
d = sys.argv[1]
def load(n): return json.load(open('%s/%s.json' % (d, n)))
def near(a, b, tol=1e-9): return a is not None and abs(a - b) <= tol * max(1.0, abs(b))
errs = []
def check(what, got, want, tol=1e-9):
    if not near(got, want, tol):
        errs.append('%s: got %r, want %r' % (what, got, want))
r = load('ok')
if r['network'] != 'synthetic_test': errs.append('network name %r' % r['network'])
check('duration', r['duration_ms'], 1000.0)
e, i, b = r['populations']['exc'], r['populations']['inh'], r['populations']['big']
check('exc n', e['n'], 100); check('exc spikes', e['spikes'], 500)
check('exc rate', e['rate_hz'], 5.0); check('exc cv', e['cv_isi'], 0.0, 1e-9)
check('exc cv neurons', e['cv_neurons'], 50); check('exc silent', e['silent_fraction'], 0.5)
check('inh n', i['n'], 25); check('inh spikes', i['spikes'], 225)
check('inh rate', i['rate_hz'], 9.0); check('inh cv', i['cv_isi'], 0.5)
check('inh cv neurons', i['cv_neurons'], 25); check('inh silent', i['silent_fraction'], 0.0)
check('big n', b['n'], 2000); check('big rate', b['rate_hz'], 12345 / 2000.0)
r = load('ok_ds')   # duration 2000 ms as a dataset /provenance/duration
check('dataset duration', r['duration_ms'], 2000.0)
check('exc rate (2 s)', r['populations']['exc']['rate_hz'], 2.5)
r = load('nodur')   # no duration: last spike (905 + 0.37*49 ms)
check('fallback duration', r['duration_ms'], 905.0 + 0.37 * 49)
if r['duration_source'] != 'last spike': errs.append('duration source %r' % r['duration_source'])
r = load('tmin')    # window 500-1000 ms: exc spikes at 505..905 -> 5 per neuron
check('tmin exc spikes', r['populations']['exc']['spikes'], 250)
check('tmin exc rate', r['populations']['exc']['rate_hz'], 5.0)
# inh neuron j spikes at 100 + 20 j + (0 10 40 50 80 90 120 130 160): count by hand
base = [0, 10, 40, 50, 80, 90, 120, 130, 160]
late = [[t for t in (100 + 20 * j + x for x in base) if t >= 500] for j in range(25)]
check('tmin inh spikes', r['populations']['inh']['spikes'], sum(len(l) for l in late))
check('tmin inh silent', r['populations']['inh']['silent_fraction'],
      sum(1 for l in late if not l) / 25.0)
if errs:
    print('\n'.join(errs)); sys.exit(1)
EOF

# --- incomplete files are refused with exit code 2 ---------------------------
for f in part nocomplete; do
    for tool in "analysis/stats.py $tmp/$f.h5" "analysis/raster.py $tmp/$f.h5 -o $tmp/$f.png"; do
        "$PYTHON" $tool > "$tmp/out.txt" 2> "$tmp/err.txt"
        rc=$?
        [ $rc -eq 2 ] || fail "$tool: exit $rc on an incomplete file, want 2"
        grep -qi 'incomplete' "$tmp/err.txt" || fail "$tool: no 'incomplete' message: $(cat "$tmp/err.txt")"
    done
    [ -e "$tmp/$f.png" ] && fail "raster.py wrote a figure for an incomplete file"
done
"$PYTHON" analysis/stats.py "$tmp/missing.h5" > /dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "stats.py: exit $rc on a missing file, want 2"

# V traces and ISI/CV histograms on a real run (the commands README shows)
APICAL=${APICAL:-build/apical}
"$APICAL" run networks/brette2007_coba.yaml -o "$tmp/coba.h5" --duration 200 --quiet ||
    fail "apical run for the figures"
"$PYTHON" analysis/traces.py "$tmp/coba.h5" -o "$tmp/traces.png" > "$tmp/tr.txt" ||
    fail "traces.py exited $?"
[ -s "$tmp/traces.png" ] || fail "traces.py wrote no PNG"
grep -q '2000 frames of exc (V_m, g_exc, g_inh) for 4 neurons' "$tmp/tr.txt" ||
    fail "traces.py: $(cat "$tmp/tr.txt")"
"$PYTHON" analysis/traces.py "$tmp/coba.h5" -o "$tmp/t2.png" --variables V_m --nodes 5 \
    > /dev/null 2> "$tmp/err.txt"
[ $? -eq 2 ] && grep -q 'neuron 5 of exc is not recorded' "$tmp/err.txt" ||
    fail "traces.py on an unrecorded neuron: $(cat "$tmp/err.txt")"
"$PYTHON" analysis/isi.py "$tmp/coba.h5" -o "$tmp/isi.png" > "$tmp/isi.txt" || fail "isi.py exited $?"
[ -s "$tmp/isi.png" ] || fail "isi.py wrote no PNG"
"$PYTHON" - "$tmp/isi.txt" <<'PY' || fail "isi.py numbers: $(cat "$tmp/isi.txt")"
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.startswith(('exc', 'inh'))]
assert len(rows) == 2
for r in rows:
    rate, cv = float(r[1]), float(r[3])
    assert 10 < rate < 30 and 0.5 < cv < 1.5, r  # COBA: ~18 Hz, irregular
PY
echo "t_analysis: all checks passed"
exit 0
