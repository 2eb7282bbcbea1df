#!/bin/sh
# `make install DESTDIR=... PREFIX=/usr/local` into a scratch root, then:
# the layout (binary, shared library with soname and links, static library,
# exactly the headers docs/embedding.md calls installed, pkg-config file,
# man page, networks); every installed header compiles on its own; the
# shared library exports only API functions; docs/embedding.md's program,
# extracted from the page, builds with the page's own cc lines through
# `pkg-config` (PKG_CONFIG_SYSROOT_DIR = the scratch root), shared and
# static, and counts the spikes `apical run` counts; the man page renders
# without warnings and names every command and option; `make uninstall`
# leaves no file behind.
#
# The library comes from the build directory of $APICAL (make check builds
# it, `make lib`); under a sanitizer build the program is built with the
# sanitizers too.
set -u
APICAL=${APICAL:-build/apical}
build=$(dirname "$APICAL")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

root="$tmp/root"
pfx="$root/usr/local"
make -s --no-print-directory install BUILD="$build" DESTDIR="$root" PREFIX=/usr/local \
    >"$tmp/make.log" 2>&1 || fail "make install: $(cat "$tmp/make.log")"

# --- layout
version=$("$APICAL" --version | sed 's/^apical //')
for f in bin/apical lib/libapical.a "lib/libapical.so.$version" lib/pkgconfig/apical.pc \
         share/man/man1/apical.1 share/doc/apical/embedding.md; do
    [ -f "$pfx/$f" ] || fail "not installed: $f"
done
[ -x "$pfx/bin/apical" ] || fail "bin/apical is not executable"
[ "$(readlink "$pfx/lib/libapical.so.0")" = "libapical.so.$version" ] || fail "libapical.so.0 link"
[ "$(readlink "$pfx/lib/libapical.so")" = "libapical.so.0" ] || fail "libapical.so link"
n_net=$(ls networks/*.yaml | wc -l)
[ "$(ls "$pfx"/share/apical/networks/*.yaml | wc -l)" -eq "$n_net" ] || fail "networks not all installed"
# the installed headers are the ones the page names as apical/NAME.h
grep -o 'apical/[a-z0-9_]*\.h' docs/embedding.md | sed 's|apical/||' | sort -u >"$tmp/doc.h"
(cd "$pfx/include/apical" && ls) | sort >"$tmp/inst.h"
cmp -s "$tmp/doc.h" "$tmp/inst.h" ||
    fail "installed headers differ from docs/embedding.md: $(diff "$tmp/doc.h" "$tmp/inst.h" | grep '^[<>]' | tr '\n' ' ')"

# --- pkg-config against the scratch root. The sysroot prefixes every path,
# the dependencies' too (-I/usr/include/hdf5/serial, -L.../hdf5/serial), so
# the root gets the system's /usr/include and /usr/lib as links, as a real
# sysroot has them.
ln -s /usr/include "$root/usr/include"
ln -s /usr/lib "$root/usr/lib"
export PKG_CONFIG_PATH="$pfx/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root"
pkg-config --exists apical || fail "pkg-config does not find apical"
[ "$(pkg-config --modversion apical)" = "$version" ] || fail "apical.pc version is not $version"
cflags=$(pkg-config --cflags apical) || fail "pkg-config --cflags"
case "$(pkg-config --libs apical)" in
    *"-L$pfx/lib"*-lapical*) ;;
    *) fail "pkg-config --libs apical: $(pkg-config --libs apical)" ;;
esac

san=
if nm "$build/libapical.a" 2>/dev/null | grep -q __asan_; then
    san="-fsanitize=address,undefined"
fi

# --- every installed header on its own
for h in "$pfx"/include/apical/*.h; do
    printf '#include <apical/%s>\n' "${h##*/}" >"$tmp/h.c"
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror $cflags -fsyntax-only "$tmp/h.c" \
        >"$tmp/cc.log" 2>&1 || fail "apical/${h##*/} does not compile alone: $(cat "$tmp/cc.log")"
done

# --- the shared library: soname, and only API functions exported
lib="$pfx/lib/libapical.so.$version"
readelf -d "$lib" | grep -q 'SONAME.*\[libapical\.so\.0\]' || fail "soname is not libapical.so.0"
nm -D --defined-only "$lib" | awk '{ print $NF }' >"$tmp/syms"
grep -v '^apical_' "$tmp/syms" | grep . && fail "exports symbols outside apical_*"
for s in apical_spec_load apical_sim_new apical_sim_run apical_engine_state apical_h5_create; do
    grep -qx "$s" "$tmp/syms" || fail "$s not exported"
done
for s in apical_queue_push apical_ld_fail apical_connect_pairs; do
    grep -qx "$s" "$tmp/syms" && fail "internal $s exported"
done

# --- the page's program, built with the page's cc lines
awk '/<!-- embedding-example: count_spikes.c -->/ { f = 1; next }
     f == 1 && /^```c/ { f = 2; next }
     f == 2 && /^```/ { exit }
     f == 2' docs/embedding.md >"$tmp/count_spikes.c"
[ -s "$tmp/count_spikes.c" ] || fail "no count_spikes.c block in docs/embedding.md"
awk '/tests\/t_install.sh runs these cc lines/ { f = 1; next }
     f == 1 && /^```sh/ { f = 2; next }
     f == 2 && /^```/ { exit }
     f == 2 && /^cc / { print }' docs/embedding.md >"$tmp/cc.sh"
[ "$(wc -l <"$tmp/cc.sh")" -eq 2 ] || fail "expected two cc lines in docs/embedding.md's build block"
sed -i "s|^cc |cc -Wall -Wextra -Werror $san |" "$tmp/cc.sh"
(cd "$tmp" && sh -e cc.sh) >"$tmp/cc.log" 2>&1 || fail "building count_spikes: $(cat "$tmp/cc.log")"
readelf -d "$tmp/count_spikes" | grep -q 'NEEDED.*libapical\.so\.0' || fail "count_spikes does not link libapical.so.0"
readelf -d "$tmp/count_spikes_static" | grep -q 'NEEDED.*libapical' && fail "count_spikes_static needs libapical.so"

net="$pfx/share/apical/networks/brette2007_coba.yaml"
LD_LIBRARY_PATH="$pfx/lib" "$tmp/count_spikes" "$net" '100 ms' >"$tmp/shared.out" 2>&1 ||
    fail "count_spikes: $(cat "$tmp/shared.out")"
"$tmp/count_spikes_static" "$net" '100 ms' >"$tmp/static.out" 2>&1 ||
    fail "count_spikes_static: $(cat "$tmp/static.out")"
cmp -s "$tmp/shared.out" "$tmp/static.out" || fail "shared and static outputs differ"
grep -Eq '^brette2007_coba: 100\.0 ms simulated, ([0-9]+) spikes \(engine: \1\)$' "$tmp/shared.out" ||
    fail "observer and engine counts differ: $(head -n 1 "$tmp/shared.out")"
grep -Eq '^  exc: V_m of neuron 0 = -?[0-9.]+ mV, population mean -?[0-9.]+ mV$' "$tmp/shared.out" ||
    fail "no state line: $(cat "$tmp/shared.out")"
# the same counts as the installed apical
"$pfx/bin/apical" run "$net" --duration '100 ms' --no-progress -o "$tmp/coba.h5" >"$tmp/cli.out" 2>&1 ||
    fail "apical run: $(cat "$tmp/cli.out")"
for pop in exc inh; do
    a=$(awk -v p="$pop" '$1 == p && $3 == "neurons" { print $2, $4 }' "$tmp/shared.out")
    b=$(awk -v p="$pop" '$1 == p && NF == 4 { print $2, $3 }' "$tmp/cli.out")
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "$pop: count_spikes '$a', apical run '$b'"
done

# --- the man page
man1="$pfx/share/man/man1/apical.1"
grep -q "^\.TH APICAL 1 .*\"apical $version\"" "$man1" || fail "apical.1 is not for version $version"
if command -v groff >/dev/null 2>&1; then
    groff -man -Tutf8 -ww -z "$man1" >"$tmp/groff.log" 2>&1
    [ ! -s "$tmp/groff.log" ] || fail "groff warnings: $(cat "$tmp/groff.log")"
else
    echo "skip: groff not installed, apical.1 not rendered"
fi
# every command and option of the help texts, as the page spells it (\-)
for opt in $( { "$APICAL" --help; "$APICAL" run --help; } |
               grep -oE '(^|[][ (,|])--?[a-z][a-z-]*' | sed 's/^[][ (,|]//' | sort -u); do
    grep -q -- "$(echo "$opt" | sed 's/-/\\\\-/g')" "$man1" || fail "apical.1 does not mention $opt"
done
# the commands `apical --help` lists: in the synopsis, and an entry (.TP)
cmds=$("$APICAL" --help | awk '/^commands:/ { f = 1; next } f && !NF { exit } f && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || fail "no commands in apical --help"
for cmd in $cmds; do
    grep -q "^\.B apical $cmd\$" "$man1" || fail "apical.1's synopsis has no '$cmd'"
    awk -v c="$cmd" 'p == ".TP" && $1 ~ /^\.B/ && $2 == c { ok = 1 } { p = $1 } END { exit !ok }' \
        "$man1" || fail "apical.1 has no entry for command '$cmd'"
done

# --- uninstall leaves no file
rm "$root/usr/include" "$root/usr/lib"
make -s --no-print-directory uninstall BUILD="$build" DESTDIR="$root" PREFIX=/usr/local \
    >"$tmp/make.log" 2>&1 || fail "make uninstall: $(cat "$tmp/make.log")"
left=$(find "$root" ! -type d)
[ -z "$left" ] || fail "left after uninstall: $left"
exit 0
