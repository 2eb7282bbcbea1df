#!/bin/sh
# The simulation core's calls run one way (docs/ARCHITECTURE.md, "Data
# flow"): build → engine → steppers → spike sink. Read from the compiled
# objects, not the sources: an object of a layer may call an apical_ symbol
# that an object of a layer below it defines, never one that an object of
# its own layer (another file) or of a layer above defines. A call back up
# is what made build.c, engine.c, exact.c and sweep.c one circle (issue 12).
#
# The objects come from the build directory of $APICAL (make check builds
# them). Exit 0 when every call runs down.
set -u
APICAL=${APICAL:-build/apical}
obj=$(dirname "$APICAL")/sim
# top first; the files of one line are one layer
layers='build restart
engine
exact sweep
spike_sink'

for f in $layers; do
    [ -f "$obj/$f.o" ] || { echo "no $obj/$f.o: build first (make)"; exit 77; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# "rank file" rows, rank 1 the top
n=0
echo "$layers" | while read -r line; do
    n=$((n + 1))
    for f in $line; do echo "$n $f"; done
done >"$tmp/rank"

while read -r rf f; do
    nm -u "$obj/$f.o" | awk '{ print $NF }' | grep '^apical_' | sort -u >"$tmp/calls"
    while read -r rg g; do
        [ "$g" = "$f" ] && continue
        [ "$rg" -gt "$rf" ] && continue # a layer below: allowed
        nm -g --defined-only "$obj/$g.o" | awk 'NF == 3 && $2 ~ /[TDBR]/ { print $3 }' |
            sort -u >"$tmp/defs"
        up=$(comm -12 "$tmp/calls" "$tmp/defs" | tr '\n' ' ')
        if [ -n "$up" ]; then
            echo "FAIL: sim/$f.c (layer $rf) calls sim/$g.c (layer $rg): $up"
        fi
    done <"$tmp/rank"
done <"$tmp/rank" >"$tmp/out"
cat "$tmp/out"
! grep -q '^FAIL' "$tmp/out"
