#!/bin/sh
# `make validate`: Brette 2007 COBA, CUBA and COBAHH in apical, 1 s, seeds
# 1 2 3; mean rates against the published ranges (COBA 17-21 Hz, CUBA
# 5.3-5.9 Hz, COBAHH 33-38 Hz: Brian2 2.5.1 measured 34-37 Hz).
# Pass/fail uses the mean over seeds of the all-neuron rate; single seeds
# outside the range are flagged. Exit 0 pass, 1 outside the range, 2 failure
# to run. Environment: APICAL (binary, default build/apical), PYTHON
# (default /usr/bin/python3), SEEDS (default "1 2 3"), DURATION (ms, 1000).
set -u
APICAL=${APICAL:-build/apical}
PYTHON=${PYTHON:-/usr/bin/python3}
SEEDS=${SEEDS:-"1 2 3"}
DURATION=${DURATION:-1000}
[ -x "$APICAL" ] || { echo "validate: no apical binary at $APICAL (run make)"; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/apical_validate.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

status=0
for spec in "coba 17 21" "cuba 5.3 5.9" "cobahh 33 38"; do
    set -- $spec
    net=$1; lo=$2; hi=$3
    yaml=networks/brette2007_$net.yaml
    [ -f "$yaml" ] || { echo "validate: missing $yaml"; status=2; continue; }
    for s in $SEEDS; do
        if ! "$APICAL" run "$yaml" -o "$tmp/$net-$s.h5" --duration "$DURATION" --seed "$s" \
                --stats-json "$tmp/$net-$s.json" --quiet; then
            echo "validate: apical failed on $yaml seed $s"; status=2
        fi
        rm -f "$tmp/$net-$s.h5"
    done
    "$PYTHON" - "$tmp" "$net" "$lo" "$hi" "$DURATION" $SEEDS <<'EOF'
import json, sys
tmp, net, lo, hi, dur = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
seeds = sys.argv[6:]
alls = []
for s in seeds:
    try:
        d = json.load(open('%s/%s-%s.json' % (tmp, net, s)))
    except (OSError, ValueError):
        print('%-4s seed %-3s no result' % (net.upper(), s)); continue
    pops = d['populations']
    n = sum(p['n'] for p in pops.values()); k = sum(p['spikes'] for p in pops.values())
    r = k / (n * d['duration_ms'] / 1000.0)
    alls.append(r)
    per = '  '.join('%s %.2f' % (p, v['rate_hz']) for p, v in pops.items())
    flag = '' if lo <= r <= hi else '   <- outside %g-%g Hz' % (lo, hi)
    print('%-4s seed %-3s all %.2f Hz  (%s)  run %.2f s  %s%s'
          % (net.upper(), s, r, per, d.get('wall_run_s', float('nan')), d.get('stepper', ''), flag))
if not alls:
    sys.exit(2)
m = sum(alls) / len(alls)
ok = lo <= m <= hi
print('%-4s mean over %d seeds (%s ms): %.2f Hz, published %g-%g Hz: %s'
      % (net.upper(), len(alls), dur, m, lo, hi, 'PASS' if ok else 'FAIL'))
sys.exit(0 if ok and len(alls) == len(seeds) else 1)
EOF
    rc=$?
    [ $rc -ne 0 ] && [ $status -eq 0 ] && status=$rc
done
# Plasticity: STDP windows and Song et al. 2000 (a few minutes).
APICAL="$APICAL" PYTHON="$PYTHON" sh tests/bench/validate_stdp.sh
rc=$?
[ $rc -ne 0 ] && [ $status -eq 0 ] && status=$rc
# Oja's rule: the principal component of a known input covariance (~1 min).
APICAL="$APICAL" PYTHON="$PYTHON" sh tests/bench/validate_oja.sh
rc=$?
[ $rc -ne 0 ] && [ $status -eq 0 ] && status=$rc
# A Hopfield memory: capacity at N = 1000 and 2000, spurious states (~5 min).
APICAL="$APICAL" PYTHON="$PYTHON" sh tests/bench/validate_hopfield.sh
rc=$?
[ $rc -ne 0 ] && [ $status -eq 0 ] && status=$rc
exit $status
