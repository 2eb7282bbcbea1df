#!/bin/sh
# Install the Debian packages apical needs, if any are missing. Uses apt-get
# when running as root or with passwordless sudo; otherwise prints the exact
# command and fails, so nothing half-built runs.
set -eu
need="libgsl-dev libhdf5-dev hdf5-tools check libfyaml-dev librandom123-dev pkg-config python3-h5py python3-numpy python3-matplotlib python3-yaml groff-base openmpi-bin libopenmpi-dev"
[ "${APICAL_WITH_BRIAN:-0}" = 1 ] && need="$need python3-brian python3-scipy g++"
# the loader's fuzz target (make fuzz) only
[ "${APICAL_WITH_FUZZ:-0}" = 1 ] && need="$need clang libclang-rt-14-dev"
[ "${APICAL_WITH_VALGRIND:-0}" = 1 ] && need="$need valgrind"
# make check-browser only (h5web in headless Chromium; Node.js and npm are the machine's)
[ "${APICAL_WITH_BROWSER:-0}" = 1 ] && need="$need chromium"
missing=""
for p in $need; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "apical: installing missing packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "apical: cannot install packages (not root, no sudo). Run:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
