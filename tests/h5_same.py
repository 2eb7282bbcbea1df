#!/usr/bin/python3
"""Compare two apical output files dataset by dataset, bit for bit.

usage: h5_same.py A.h5 B.h5 [--edges-as-set] [--skip PREFIX]...

Every dataset outside /provenance must exist in both files with the same
shape, dtype and bytes (spike times bit for bit, node ids, recorded state,
weight reports, edges). With --edges-as-set, /edges/<proj> is compared as
the sorted set of (source, target, weight, delay) rows instead: the edges'
order is by partition (docs/output-format.md), and a run on more ranks
than the file's partitions has more partitions. Exit 0 when equal."""
import sys

import h5py
import numpy as np


def datasets(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = np.asarray(obj[()])
        f.visititems(visit)
    return out


def edge_rows(d, proj):
    cols = [d[f"edges/{proj}/source_node_id"], d[f"edges/{proj}/target_node_id"],
            d[f"edges/{proj}/0/syn_weight"].view(np.uint64),
            d[f"edges/{proj}/0/delay"].view(np.uint64)]
    rows = np.stack(cols, axis=1)
    return rows[np.lexsort(rows.T[::-1])]


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    as_set = "--edges-as-set" in argv
    skip = ["provenance/"]
    a, b = datasets(args[0]), datasets(args[1])
    bad = []
    for k in sorted(set(a) | set(b)):
        if any(k.startswith(s) for s in skip):
            continue
        if k not in a or k not in b:
            bad.append(f"{k}: only in {'first' if k in a else 'second'}")
            continue
        if as_set and k.startswith("edges/"):
            continue
        x, y = a[k], b[k]
        if x.shape != y.shape or x.dtype != y.dtype or x.tobytes() != y.tobytes():
            bad.append(f"{k}: differs (shapes {x.shape} {y.shape})")
    if as_set:
        projs = sorted({k.split("/")[1] for k in a if k.startswith("edges/")})
        for p in projs:
            ra, rb = edge_rows(a, p), edge_rows(b, p)
            if ra.shape != rb.shape or not np.array_equal(ra, rb):
                bad.append(f"edges/{p}: different sets of (source, target, weight, delay)")
    n_spikes = sum(v.size for k, v in a.items() if k.startswith("spikes/") and
                   k.endswith("timestamps"))
    n_edges = sum(v.size for k, v in a.items() if k.endswith("syn_weight"))
    if bad:
        print("\n".join(bad))
        return 1
    print(f"same: {len(a)} datasets, {n_spikes} spikes, {n_edges} edges")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
