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
# Needs root (debootstrap, chroot, mounts) and ~1.5 GB of RAM: the root lives
# on a tmpfs mounted inside a private mount and PID namespace (unshare), so
# dpkg's fsyncs cost nothing, and every mount, process and file of the root
# vanishes with the namespace, even if this script is killed. Nothing is ever
# mounted on the host, and no root is ever removed with rm -rf.
#
# Environment: APICAL_FRESH_CACHE (default /var/cache/apical-fresh),
# APICAL_FRESH_MIRROR (default http://deb.debian.org/debian).
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
in_namespace() { unshare --mount --pid --fork --kill-child "$self" "$@"; }

# ---- inside the namespace (the script calls itself through unshare) --------

# __debootstrap DIR TARBALL: build the bare root on a tmpfs at DIR and store
# it as TARBALL. The tarball is renamed into place only when complete.
if [ "${1:-}" = __debootstrap ]; then
    dir=$2; tarball=$3
    mount -t tmpfs -o size=4g,mode=755 fresh-boot "$dir"
    debootstrap --variant="$variant" --include="$include" "$suite" "$dir" "$mirror"
    rm -f "$dir"/var/cache/apt/archives/*.deb
    tar --numeric-owner -C "$dir" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    exit 0
fi

# __chroot RUN TARBALL SHA: unpack the bare root on a tmpfs at RUN/root,
# clone commit SHA of the host repository into /root/apical, mount what a
# running system has, and run the commands in RUN/commands in ~/apical as root
# with a clean environment and no stdin, as a new user's first session would.
# Lists README's demo outputs that are missing in RUN/missing.
if [ "${1:-}" = __chroot ]; then
    run=$2; tarball=$3; sha=$4
    root=$run/root
    mount -t tmpfs -o size=8g,mode=755 fresh-root "$root"
    tar --numeric-owner -C "$root" -xf "$tarball"
    # The committed tree only: a clone, never a copy of the work tree.
    git clone -q --no-checkout "$repo" "$root/root/apical"
    git -C "$root/root/apical" checkout -q --detach "$sha"
    cp "$run/commands" "$root/root/fresh-commands"
    mount -t proc proc "$root/proc"
    mount -t sysfs -o ro sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    mount --make-rslave "$root/dev"
    mount --bind "$cache/archives" "$root/var/cache/apt/archives"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    status=0
    # shellcheck disable=SC2016  # expanded by the shell inside the root
    chroot "$root" /usr/bin/env -i HOME=/root \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/sh -c 'cd ~/apical || exit 1
            while IFS= read -r cmd; do
                echo "\$ $cmd"; t=$(date +%s)
                sh -c "$cmd" </dev/null || { echo "FAILED: $cmd"; exit 1; }
                echo "($cmd: $(($(date +%s) - t)) s)"
            done < ~/fresh-commands' </dev/null || status=$?
    for f in $demo_outputs; do
        [ -s "$root/root/apical/$f" ] || echo "$f"
    done > "$run/missing"
    exit $status
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
export repo
sha=$(git -C "$repo" rev-parse HEAD)
short=$(git -C "$repo" rev-parse --short=12 HEAD)
self=$(readlink -f "$0")
mkdir -p "$cache/archives"

# One run at a time per cache: the tarball is written once, and apt locks the
# shared archive directory.
exec 9>"$cache/lock"
flock -n 9 || { say "waiting for another check-fresh on $cache"; flock 9; }

# The run directory holds logs and the two empty mount points; the roots are
# tmpfs mounts that exist only inside the namespaces.
run=$(mktemp -d "$cache/run.XXXXXX")
mkdir "$run/root" "$run/boot"
cleanup() {
    rc=$?
    if [ -n "$(findmnt -rn -o TARGET | awk -v p="$run/" 'index($0 "/", p) == 1')" ]; then
        say "something is mounted below $run; not removing it"
        rc=1
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
    in_namespace __debootstrap "$run/boot" "$tarball" > "$run/debootstrap.log" 2>&1 \
        || { tail -n 30 "$run/debootstrap.log" >&2; say "FAIL: debootstrap"; exit 1; }
    say "cached the bare root as $tarball ($(mmss $(($(now) - t0))))"
fi

# README's commands, as the committed README states them: the lines of the
# first code block after "On a fresh Debian machine" (fenced, or indented),
# trailing comments and comment-only lines dropped.
git -C "$repo" show "$sha:README.md" | awk '
    /^On a fresh Debian machine/ { f = 1; next }
    !f { next }
    /^## / { exit }
    /^```/ { if (fence) exit; fence = 1; next }
    fence || /^    / {
        if ($0 ~ /^[ \t]*(#|$)/) next
        sub(/[ \t]+#.*/, ""); sub(/^ +/, ""); print; got = 1; next }
    got { exit }' > "$run/commands"
if [ ! -s "$run/commands" ]; then
    say "FAIL: no commands found under \"On a fresh Debian machine\" in README.md"
    exit 1
fi
cmds=$(paste -sd';' "$run/commands" | sed 's/;/; /g')
say "commit $short in a bare Debian $suite root; running: $cmds"

# Inner output is prefixed so its "N passed, N failed" line is never mistaken
# for the host's by whatever reads the CI log.
debs() { find "$cache/archives" -maxdepth 1 -name '*.deb' | wc -l; }
debs0=$(debs)
status=0
in_namespace __chroot "$run" "$tarball" "$sha" 2>&1 \
    | tee "$run/inner.log" | sed -u 's/^/fresh| /' || status=$?
say "apt downloaded $(($(debs) - debs0)) new .deb files into $cache/archives"

if [ -f "$run/missing" ]; then
    while IFS= read -r f; do
        say "README's $f was not written"; status=1
    done < "$run/missing"
else
    say "the root was not set up (see above)"; status=1
fi
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$run/inner.log" | tail -n 1 || true)
case "$summary" in
    *" passed, 0 failed") ;;
    "") say "no test summary line from the tests"; status=1 ;;
    *) status=1 ;;
esac
tests=$(echo "$summary" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed$/\1 tests passed and \2 failed/')
took=$(mmss $(($(now) - t0)))
if [ "$status" = 0 ]; then
    say "OK: $cmds in a bare Debian $suite root: $tests ($took)"
else
    say "FAIL: $cmds in a bare Debian $suite root: ${tests:-no test summary} ($took)"
    exit 1
fi
