#!/bin/sh
# Output paths that must not be clobbered: a device, a FIFO, the network
# file or another file the run reads, a pre-existing OUT.h5.part (symbolic
# link or not). Each is refused before anything is simulated: exit 2, one
# error line naming the path, and nothing written or changed.
set -u
APICAL=${APICAL:-build/apical}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# refused PATTERN -- apical args...: exit 2, one error line matching PATTERN
refused() {
    pat=$1; shift 2
    "$APICAL" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    [ $rc -eq 2 ] || fail "apical $*: exit $rc, expected 2; stderr: $(cat "$tmp/err")"
    grep -Eq -e "$pat" "$tmp/err" || fail "apical $*: stderr does not match '$pat': $(cat "$tmp/err")"
    [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "apical $*: not one line: $(cat "$tmp/err")"
}

net="$tmp/net.yaml"
cat > "$net" <<'YAML'
simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp}}
projections: [{source: a, target: a, connectivity: {rule: bernoulli, p: 0.2}, receptor: exc, weight: 1 nS, delay: 1 ms}]
inputs: [{type: poisson, target: a, rate: 800 Hz, receptor: exc, weight: 5 nS}]
recorders: [{type: spikes, population: a}]
YAML
cp "$net" "$tmp/net.orig"

# A character device (made here, not /dev/null: the old code renamed over it).
if mknod "$tmp/dev" c 1 3 2>/dev/null; then
    refused "'$tmp/dev' exists and is a character device" -- run "$net" -o "$tmp/dev"
    [ -c "$tmp/dev" ] || fail "the device was replaced"
    [ ! -e "$tmp/dev.part" ] || fail "dev.part created"
fi
mkfifo "$tmp/fifo"
refused "'$tmp/fifo' exists and is a FIFO" -- run "$net" -o "$tmp/fifo"
[ -p "$tmp/fifo" ] && [ ! -e "$tmp/fifo.part" ] || fail "the FIFO was replaced or a .part left"

# The network file itself, under its own name and under another (hard link).
refused "is '$net', which this run reads" -- run "$net" -o "$net"
ln "$net" "$tmp/alias.h5"
refused "'$tmp/alias.h5' is '$net', which this run reads" -- run "$net" -o "$tmp/alias.h5"
cmp -s "$net" "$tmp/net.orig" || fail "the network file changed"
[ ! -e "$net.part" ] && [ ! -e "$tmp/alias.h5.part" ] || fail ".part left"

# A pre-existing .part: a symbolic link's target was truncated and
# overwritten; a regular one may be another run's file.
echo precious > "$tmp/victim"
ln -s "$tmp/victim" "$tmp/o.h5.part"
refused "'$tmp/o.h5.part' exists and is a symbolic link" -- run "$net" -o "$tmp/o.h5"
[ "$(cat "$tmp/victim")" = precious ] && [ -L "$tmp/o.h5.part" ] || fail "symlink target written"
[ ! -e "$tmp/o.h5" ] || fail "output written"
rm "$tmp/o.h5.part"
echo stale > "$tmp/o.h5.part"
refused "'$tmp/o.h5.part' exists \\(left by a run that crashed" -- run "$net" -o "$tmp/o.h5"
[ "$(cat "$tmp/o.h5.part")" = stale ] && [ ! -e "$tmp/o.h5" ] || fail "stale .part changed"
rm "$tmp/o.h5.part"

# --stats-json is checked before the run, not after it.
cat > "$tmp/long.yaml" <<'YAML'
simulation: {duration: 100000 ms}
populations: {a: {size: 2000, model: lif_cond_exp}}
inputs: [{type: poisson, target: a, rate: 2000 Hz, receptor: exc, weight: 3 nS}]
recorders: [{type: spikes, population: a}]
YAML
start=$(date +%s)
refused "directory '$tmp/nodir'" -- run "$tmp/long.yaml" -o "$tmp/l.h5" --stats-json "$tmp/nodir/s.json"
[ $(( $(date +%s) - start )) -lt 10 ] || fail "--stats-json checked only after the run"
[ ! -e "$tmp/l.h5" ] && [ ! -e "$tmp/l.h5.part" ] || fail "output left"
refused "--stats-json '$tmp/o.h5' is the HDF5 output" -- run "$net" -o "$tmp/o.h5" --stats-json "$tmp/o.h5"
refused "which this run reads" -- run "$net" -o "$tmp/o.h5" --stats-json "$net"
cmp -s "$net" "$tmp/net.orig" || fail "the network file changed"
[ ! -e "$tmp/o.h5" ] || fail "output written"

# A from_file edges file is an input too.
"$APICAL" run "$net" -o "$tmp/e.h5" --save-edges --quiet || fail "edges run"
cp "$tmp/e.h5" "$tmp/e.orig"
cat > "$tmp/cont.yaml" <<'YAML'
simulation: {duration: 20 ms}
populations: {a: {size: 10, model: lif_cond_exp}}
projections: [{source: a, target: a, connectivity: {rule: from_file, path: e.h5, edges: a->a}, receptor: exc}]
recorders: [{type: spikes, population: a}]
YAML
refused "'$tmp/e.h5' is '$tmp/e.h5', which this run reads" -- run "$tmp/cont.yaml" -o "$tmp/e.h5"
cmp -s "$tmp/e.h5" "$tmp/e.orig" || fail "the edges file changed"

# An existing regular output is replaced (atomically, by rename).
echo old > "$tmp/r.h5"
"$APICAL" run "$net" -o "$tmp/r.h5" --quiet || fail "replacing a regular output"
[ "$(head -c 3 "$tmp/r.h5")" != old ] && [ ! -e "$tmp/r.h5.part" ] || fail "not replaced"
# ... and a symbolic link there is replaced as a link, its target untouched.
ln -s "$tmp/victim" "$tmp/s.h5"
"$APICAL" run "$net" -o "$tmp/s.h5" --quiet || fail "replacing a symbolic link"
[ "$(cat "$tmp/victim")" = precious ] && [ ! -L "$tmp/s.h5" ] || fail "link target written"

# /dev/null itself, only now that the refusal is known to come first.
if [ -c /dev/null ] && [ "${APICAL_PATHS_NO_DEVNULL:-}" = "" ]; then
    refused "'/dev/null' exists and is a character device" -- run "$net" -o /dev/null
    [ -c /dev/null ] && [ ! -e /dev/null.part ] || fail "/dev/null touched"
fi
echo ok
