#!/bin/bash
# Prove README's "fresh Debian machine" promise: in a bare Debian 12 root
# (debootstrap minbase plus make, gcc, git: what a new user plausibly has),
# clone the committed tree and run README's commands exactly as README states
# them. A package missing from scripts/install-deps.sh fails here, not for a
# user.
#
# The bare root is cached as a tarball keyed by everything debootstrap was
# given; apt's downloaded .debs are cached in a directory bind-mounted over the
# root's /var/cache/apt/archives. So each run still installs the project's
# dependencies inside the root (apt-get update, dpkg unpack and configure),
# only the downloads are not repeated. The cached root never holds them.
#
# Needs root (debootstrap, chroot, mounts). Every mount is made inside a
# private mount and PID namespace (unshare), so none can outlive the run or
# leak to the host even if this script is killed; the run directory is removed
# only after findmnt shows nothing mounted below it.
#
# Environment: APICAL_FRESH_CACHE (default /var/cache/apical-fresh),
# APICAL_FRESH_MIRROR (default http://deb.debian.org/debian),
# APICAL_FRESH_KEEP=1 keeps the run directory for inspection.
set -eu
set -o pipefail

suite=bookworm
variant=minbase
include=make,gcc,git,ca-certificates
mirror=${APICAL_FRESH_MIRROR:-http://deb.debian.org/debian}
cache=${APICAL_FRESH_CACHE:-/var/cache/apical-fresh}
# What README says `make demo` writes (checked after the commands ran).
demo_outputs="results/brette2007_coba.h5 results/brette2007_coba.png"

say() { echo "check-fresh: $*" >&2; }
now() { date +%s; }
mmss() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# Mounts below a directory, deepest first (for unmounting in order).
mounts_below() {
    findmnt -rn -o TARGET | awk -v p="$1/" 'index($0 "/", p) == 1' | sort -r
}

# ---- inside the namespaces (the script calls itself through unshare) -------

# __debootstrap DIR: build the bare root. debootstrap mounts /proc and /sys in
# the target while it works; in this namespace a failure cannot strand them.
if [ "${1:-}" = __debootstrap ]; then
    debootstrap --variant="$variant" --include="$include" "$suite" "$2" "$mirror"
    exit 0
fi

# __chroot ROOT: mount what a running system has, run README's commands (one
# per line in ROOT/root/fresh-commands) in ~/apical as root with a clean
# environment and no stdin, as a new user's first session would.
if [ "${1:-}" = __chroot ]; then
    root=$2
    unmount_all() {
        for m in $(mounts_below "$root"); do umount -l "$m" || true; done
    }
    trap unmount_all EXIT
    mount -t proc proc "$root/proc"
    mount -t sysfs -o ro sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    mount --make-rslave "$root/dev"
    mount --bind "$cache/archives" "$root/var/cache/apt/archives"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # shellcheck disable=SC2016  # expanded by the shell inside the root
    chroot "$root" /usr/bin/env -i HOME=/root \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/sh -c 'cd ~/apical || exit 1
            while IFS= read -r cmd; do
                echo "\$ $cmd"; t=$(date +%s)
                sh -c "$cmd" </dev/null || { echo "FAILED: $cmd"; exit 1; }
                echo "($cmd: $(($(date +%s) - t)) s)"
            done < ~/fresh-commands' </dev/null
    exit $?
fi

# ---- on the host -----------------------------------------------------------

t0=$(now)
if [ "$(id -u)" != 0 ]; then
    say "needs root (debootstrap, chroot and mounts); run it as root or with sudo"
    exit 1
fi
for tool in git tar unshare chroot findmnt flock; do
    command -v "$tool" >/dev/null || { say "$tool not found"; exit 1; }
done
if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap on the host"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        debootstrap >&2
fi

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
sha=$(git -C "$repo" rev-parse HEAD)
short=$(git -C "$repo" rev-parse --short=12 HEAD)
self=$(readlink -f "$0")
mkdir -p "$cache/archives"

# One run at a time per cache: the tarball is written once, and apt locks the
# shared archive directory.
exec 9>"$cache/lock"
flock -n 9 || { say "waiting for another check-fresh on $cache"; flock 9; }

run=$(mktemp -d "$cache/run.XXXXXX")
cleanup() {
    rc=$?
    left=$(mounts_below "$run")
    if [ -n "$left" ]; then
        # Cannot happen with the namespaces, but rm -rf through a bind mount
        # of /dev or of the archive cache would be a disaster: leave it.
        say "still mounted below $run, not removing it:"; echo "$left" >&2
        rc=1
    elif [ "${APICAL_FRESH_KEEP:-0}" = 1 ]; then
        say "kept $run"
    else
        rm -rf "$run"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

key=$(printf '%s\n' "$suite" "$variant" "$include" "$mirror" "$(uname -m)" \
    | sha256sum | cut -c1-12)
tarball=$cache/$suite-$variant-$key.tar
if [ ! -f "$tarball" ]; then
    say "no cached bare root; debootstrap $suite ($variant + $include)"
    unshare --mount --pid --fork --kill-child "$self" __debootstrap "$run/boot" \
        > "$run/debootstrap.log" 2>&1 \
        || { tail -n 30 "$run/debootstrap.log" >&2; say "FAIL: debootstrap"; exit 1; }
    rm -rf "$run/boot/var/cache/apt/archives/"*.deb
    tar --numeric-owner -C "$run/boot" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    if [ -z "$(mounts_below "$run/boot")" ]; then rm -rf "${run:?}/boot"; fi
    say "cached the bare root as $tarball ($(mmss $(($(now) - t0))))"
fi

root=$run/root
mkdir "$root"
tar --numeric-owner -C "$root" -xf "$tarball"
# The committed tree only: a clone of HEAD, never the work tree.
git clone -q --no-checkout "$repo" "$root/root/apical"
git -C "$root/root/apical" checkout -q --detach "$sha"
# README's commands, as README states them: the indented lines after
# "On a fresh Debian machine", trailing comments dropped.
awk '/^On a fresh Debian machine/ { f = 1; next }
     f && /^## / { exit }
     f && /^    [^ #]/ { sub(/[ \t]+#.*/, ""); sub(/^ +/, ""); print }' \
    "$root/root/apical/README.md" > "$root/root/fresh-commands"
if [ ! -s "$root/root/fresh-commands" ]; then
    say "FAIL: no commands found under \"On a fresh Debian machine\" in README.md"
    exit 1
fi
cmds=$(paste -sd';' "$root/root/fresh-commands" | sed 's/;/; /g')
say "commit $short, bare root ready ($(mmss $(($(now) - t0)))); running: $cmds"

# Inner output is prefixed so its "N passed, N failed" line is never mistaken
# for the host's by whatever reads the CI log.
debs() { find "$cache/archives" -maxdepth 1 -name '*.deb' | wc -l; }
debs0=$(debs)
t1=$(now)
status=0
unshare --mount --pid --fork --kill-child "$self" __chroot "$root" 2>&1 \
    | tee "$run/inner.log" | sed -u 's/^/fresh| /' || status=$?
inner=$(mmss $(($(now) - t1)))
say "apt downloaded $(($(debs) - debs0)) new .deb files into $cache/archives"

summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$run/inner.log" | tail -n 1 || true)
for f in $demo_outputs; do
    [ -s "$root/root/apical/$f" ] || { say "README's $f was not written"; status=1; }
done
case "$summary" in
    *" passed, 0 failed") ;;
    "") say "no test summary line from the tests"; status=1 ;;
    *) status=1 ;;
esac
tests=$(echo "$summary" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1 tests passed and \2 failed/')
if [ "$status" = 0 ]; then
    say "OK: $cmds in a bare Debian $suite root: ${tests:-no tests}; commands $inner, total $(mmss $(($(now) - t0)))"
else
    say "FAIL: $cmds in a bare Debian $suite root (${tests:-no test summary}); commands $inner, total $(mmss $(($(now) - t0)))"
    exit 1
fi
