#!/bin/sh
# Print the Python interpreter that has Debian's python3-h5py etc.: `python3`
# on PATH may be a pyenv or venv interpreter without them.
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import h5py, numpy' >/dev/null 2>&1; then
        command -v "$p"; exit 0
    fi
done
# Nothing has h5py yet (install-deps.sh has not run): prefer the system one.
if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else echo python3; fi
