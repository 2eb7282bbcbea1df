#!/usr/bin/python3
"""Independent check of an apical output file against the SONATA layout.

Usage: h5_readback.py FILE [--expect-pop NAME ...]

Checks spikes, state and weight reports (/report), final edges (/edges) and
provenance.

Written against docs/output-format.md and the SONATA spec, not against
sim/h5out.c, so that the writer and this reader cannot share a mistake.
Exits 0 and prints a one-line summary when the file is valid; exits 1 with
one line per violation otherwise. Run with an interpreter that has h5py and
numpy (/usr/bin/python3 on Debian).
"""
import argparse
import shutil
import subprocess
import sys

import h5py
import numpy as np

SORTING = {"none": 0, "by_id": 1, "by_time": 2}


class Checker:
    def __init__(self):
        self.problems = []

    def fail(self, where, msg):
        self.problems.append(f"{where}: {msg}")

    def require(self, cond, where, msg):
        if not cond:
            self.fail(where, msg)
        return cond


def text(v):
    """An attribute value as str (h5py gives str or bytes, maybe in arrays)."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.shape == ():
        return text(v[()])
    return v if isinstance(v, str) else None


def text_list(v):
    if isinstance(v, (str, bytes)):
        return [text(v)]
    try:
        return [text(x) for x in v]
    except TypeError:
        return None


def dtype_is(ds, want):
    return ds.dtype == np.dtype(want)


def check_attr_dtype(c, obj, name, want, where):
    if name not in obj.attrs:
        c.fail(where, f"attribute {name} missing")
        return None
    dt = obj.attrs.get_id(name).dtype
    c.require(dt == np.dtype(want), where,
              f"attribute {name} has dtype {dt}, want {want}")
    return obj.attrs[name]


def check_root(c, f):
    magic = check_attr_dtype(c, f, "magic", "<u4", "/")
    if magic is not None:
        c.require(int(magic) == 0x0A7A, "/", f"magic is {int(magic):#x}, want 0xa7a")
    version = check_attr_dtype(c, f, "version", "<u4", "/")
    if version is not None:
        c.require(list(np.atleast_1d(version)) == [0, 1], "/",
                  f"version is {version}, want [0, 1]")
    complete = check_attr_dtype(c, f, "complete", "u1", "/")
    if complete is not None:
        c.require(int(complete) == 1, "/",
                  "complete is not 1 (an unfinished run's .part file?)")
    c.require(text(f.attrs.get("apical_version")), "/",
              "apical_version missing or not a string")


def check_spikes(c, f):
    counts = {}
    if "spikes" not in f:
        return counts
    for name, g in f["spikes"].items():
        w = f"/spikes/{name}"
        if not c.require(isinstance(g, h5py.Group), w, "not a group"):
            continue
        sorting = None
        if c.require("sorting" in g.attrs, w, "attribute sorting missing"):
            dt = g.attrs.get_id("sorting").dtype
            mapping = h5py.check_enum_dtype(dt)
            c.require(mapping == SORTING, w,
                      f"sorting enum is {mapping}, want {SORTING}")
            c.require(dt == np.dtype("u1"), w,
                      f"sorting enum base is {dt}, want uint8")
            sorting = int(g.attrs["sorting"])
            c.require(sorting in SORTING.values(), w,
                      f"sorting value {sorting} not in the enum")
        ok = True
        for ds, want in (("timestamps", "<f8"), ("node_ids", "<u8")):
            if not c.require(ds in g and isinstance(g[ds], h5py.Dataset), w,
                             f"dataset {ds} missing"):
                ok = False
                continue
            c.require(g[ds].ndim == 1, f"{w}/{ds}", "not 1-D")
            c.require(dtype_is(g[ds], want), f"{w}/{ds}",
                      f"dtype {g[ds].dtype}, want {want}")
        if not ok:
            continue
        c.require(text(g["timestamps"].attrs.get("units")) == "ms",
                  f"{w}/timestamps", "units attribute is not 'ms'")
        t = g["timestamps"][()]
        n = g["node_ids"][()]
        if not c.require(t.shape == n.shape, w,
                         f"{t.size} timestamps but {n.size} node_ids"):
            continue
        c.require(np.all(np.isfinite(t)), w, "non-finite spike times")
        if sorting == SORTING["by_time"]:
            c.require(np.all(np.diff(t) >= 0), w,
                      "sorting is by_time but timestamps decrease")
        elif sorting == SORTING["by_id"]:
            c.require(np.all(np.diff(n.astype(np.int64)) >= 0), w,
                      "sorting is by_id but node_ids decrease")
        nn = check_attr_dtype(c, g, "n_nodes", "<u8", w)
        if nn is not None and n.size:
            c.require(int(n.max()) < int(nn), w,
                      f"node id {int(n.max())} >= n_nodes {int(nn)}")
        # NeXus attributes for h5web's raster (scatter) view.
        c.require(text(g.attrs.get("NX_class")) == "NXdata", w,
                  "NX_class is not NXdata")
        sig = text(g.attrs.get("signal"))
        c.require(sig in g, w, f"signal '{sig}' does not name a dataset")
        axes = text_list(g.attrs.get("axes", []))
        c.require(axes and "timestamps" in axes, w,
                  f"axes {axes} do not include timestamps")
        for a in axes or []:
            c.require(a in g and g[a].shape == t.shape, w,
                      f"axis '{a}' is not a dataset of the signal's length")
        counts[name] = (t.size, int(nn) if nn is not None else None)
    return counts


def check_report(c, f):
    reports = {}
    if "report" not in f:
        return reports
    for name, g in f["report"].items():
        w = f"/report/{name}"
        if not c.require("data" in g and "mapping" in g, w,
                         "data or mapping missing"):
            continue
        if text(g.attrs.get("type")) == "weights":
            r = check_weights_report(c, f, g, w)
            if r is not None:
                reports[name] = r
            continue
        d, m = g["data"], g["mapping"]
        c.require(dtype_is(d, "<f4"), f"{w}/data", f"dtype {d.dtype}, want float32")
        if not c.require(d.ndim == 2, f"{w}/data", "not 2-D"):
            continue
        n_times, n_vals = d.shape
        units = text(d.attrs.get("units"))
        c.require(units is not None, f"{w}/data", "units attribute missing")
        variables = text_list(d.attrs.get("variables", []))
        vunits = text_list(d.attrs.get("variable_units", []))
        c.require(variables and vunits and len(variables) == len(vunits),
                  f"{w}/data", "variables / variable_units missing or of different lengths")
        if vunits:
            common = vunits[0] if len(set(vunits)) == 1 else "mixed"
            c.require(units == common, f"{w}/data",
                      f"units '{units}', want '{common}' from variable_units {vunits}")
        for ds, want in (("node_ids", "<u8"), ("index_pointers", "<u8"),
                         ("element_ids", "<u4"), ("time", "<f8")):
            c.require(ds in m and dtype_is(m[ds], want), f"{w}/mapping/{ds}",
                      f"missing or not {want}")
        if not all(ds in m for ds in ("node_ids", "index_pointers", "element_ids", "time")):
            continue
        nodes = m["node_ids"][()]
        ptr = m["index_pointers"][()].astype(np.int64)
        elem = m["element_ids"][()]
        tm = m["time"][()]
        c.require(ptr.shape == (nodes.size + 1,), f"{w}/mapping",
                  f"index_pointers has {ptr.size} entries for {nodes.size} nodes")
        if ptr.size:
            c.require(ptr[0] == 0 and np.all(np.diff(ptr) >= 0) and ptr[-1] == n_vals,
                      f"{w}/mapping", "index_pointers not 0..n_values nondecreasing")
        c.require(elem.size == n_vals, f"{w}/mapping",
                  f"{elem.size} element_ids for {n_vals} columns")
        if variables and ptr.size == nodes.size + 1 and elem.size == n_vals:
            nv = len(variables)
            c.require(np.all(np.diff(ptr) == nv), f"{w}/mapping",
                      f"not {nv} values per node")
            c.require(np.array_equal(elem, np.tile(np.arange(nv), nodes.size)),
                      f"{w}/mapping", "element_ids are not the variable indices")
        c.require(text(m["time"].attrs.get("units")) == "ms", f"{w}/mapping/time",
                  "units attribute is not 'ms'")
        if c.require(tm.shape == (3,), f"{w}/mapping/time", "not [start, stop, step]"):
            start, stop, step = (float(x) for x in tm)
            if c.require(step > 0 and stop >= start, f"{w}/mapping/time",
                         f"bad start/stop/step {start}/{stop}/{step}"):
                frames = round((stop - start) / step)
                c.require(frames == n_times, f"{w}/mapping/time",
                          f"(stop - start) / step = {frames} frames, data has {n_times}")
        c.require(text(g.attrs.get("NX_class")) == "NXdata" and
                  text(g.attrs.get("signal")) == "data", w,
                  "NXdata attributes missing")
        reports[name] = (n_times, n_vals)
    return reports


def check_time(c, m, w, n_times):
    tm = m["time"][()]
    c.require(text(m["time"].attrs.get("units")) == "ms", f"{w}/mapping/time",
              "units attribute is not 'ms'")
    if c.require(tm.shape == (3,), f"{w}/mapping/time", "not [start, stop, step]"):
        start, stop, step = (float(x) for x in tm)
        if c.require(step > 0 and stop >= start, f"{w}/mapping/time",
                     f"bad start/stop/step {start}/{stop}/{step}"):
            frames = round((stop - start) / step)
            c.require(frames == n_times, f"{w}/mapping/time",
                      f"(stop - start) / step = {frames} frames, data has {n_times}")


def check_weights_report(c, f, g, w):
    """A weight report: data [n_times, n_synapses] float32, one column per
    synapse source_node_ids[k] -> target_node_ids[k] of one projection."""
    d, m = g["data"], g["mapping"]
    c.require(dtype_is(d, "<f4"), f"{w}/data", f"dtype {d.dtype}, want float32")
    if not c.require(d.ndim == 2, f"{w}/data", "not 2-D"):
        return None
    n_times, n_syn = d.shape
    c.require(text(d.attrs.get("units")) is not None, f"{w}/data", "units attribute missing")
    for a in ("projection", "source_population", "target_population"):
        c.require(text(g.attrs.get(a)), w, f"attribute {a} missing")
    for ds in ("source_node_ids", "target_node_ids"):
        if c.require(ds in m and dtype_is(m[ds], "<u8"), f"{w}/mapping/{ds}",
                     "missing or not uint64"):
            c.require(m[ds].shape == (n_syn,), f"{w}/mapping/{ds}",
                      f"{m[ds].shape[0]} ids for {n_syn} columns")
    if c.require("time" in m and dtype_is(m["time"], "<f8"), f"{w}/mapping/time",
                 "missing or not float64"):
        check_time(c, m, w, n_times)
    if "source_node_ids" in m and "target_node_ids" in m and n_syn:
        pairs = np.stack([m["source_node_ids"][()], m["target_node_ids"][()]], axis=1)
        order = np.lexsort((pairs[:, 1], pairs[:, 0]))
        c.require(np.array_equal(order, np.arange(n_syn)), f"{w}/mapping",
                  "columns are not in (source, target) order")
        data = d[()]
        c.require(np.all(np.isfinite(data)), f"{w}/data", "non-finite weights")
    c.require(text(g.attrs.get("NX_class")) == "NXdata" and
              text(g.attrs.get("signal")) == "data", w, "NXdata attributes missing")
    return (n_times, n_syn)


def check_edges(c, f):
    """SONATA edge populations: /edges/<name> with source/target node ids,
    edge_type_id, edge_group_id, edge_group_index and group 0 holding
    syn_weight and delay."""
    out = {}
    if "edges" not in f:
        return out
    for name, g in f["edges"].items():
        w = f"/edges/{name}"
        want = {"source_node_id": "<u8", "target_node_id": "<u8", "edge_type_id": "<i8",
                "edge_group_id": "<u4", "edge_group_index": "<u8"}
        ok = True
        for ds, dt in want.items():
            ok &= c.require(ds in g and isinstance(g[ds], h5py.Dataset) and g[ds].ndim == 1
                            and dtype_is(g[ds], dt), f"{w}/{ds}", f"missing or not 1-D {dt}")
        ok &= c.require("0" in g and isinstance(g["0"], h5py.Group), f"{w}/0", "group 0 missing")
        if not ok:
            continue
        n = g["source_node_id"].shape[0]
        for ds in want:
            c.require(g[ds].shape == (n,), f"{w}/{ds}", f"length {g[ds].shape[0]}, want {n}")
        for ds in ("syn_weight", "delay"):
            if c.require(ds in g["0"] and dtype_is(g["0"][ds], "<f8"), f"{w}/0/{ds}",
                         "missing or not float64"):
                c.require(g["0"][ds].shape == (n,), f"{w}/0/{ds}",
                          f"length {g['0'][ds].shape[0]}, want {n}")
                c.require(text(g["0"][ds].attrs.get("units")) is not None, f"{w}/0/{ds}",
                          "units attribute missing")
        c.require(text(g["0/delay"].attrs.get("units")) == "ms", f"{w}/0/delay", "units not ms")
        c.require(np.all(g["edge_group_id"][()] == 0), w, "edge_group_id not all 0")
        c.require(np.array_equal(g["edge_group_index"][()], np.arange(n)), w,
                  "edge_group_index is not 0..n-1")
        for ds in ("source_node_id", "target_node_id"):
            pop = text(g[ds].attrs.get("node_population"))
            c.require(pop, f"{w}/{ds}", "attribute node_population missing")
            nn = g[ds].attrs.get("n_nodes")
            ids = g[ds][()]
            if nn is not None and n:
                c.require(int(ids.max()) < int(nn), f"{w}/{ds}",
                          f"node id {int(ids.max())} >= n_nodes {int(nn)}")
        dl = g["0/delay"][()]
        c.require(np.all(np.isfinite(g["0/syn_weight"][()])) and np.all(dl > 0), w,
                  "non-finite weights or delays <= 0")
        out[name] = n
    return out


def run_h5dump(c, path):
    exe = shutil.which("h5dump")
    if exe is None:
        print("warning: h5dump not found, header dump not checked", file=sys.stderr)
        return
    r = subprocess.run([exe, "-H", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    c.require(r.returncode == 0, path,
              f"h5dump -H exited {r.returncode}: {r.stderr.strip()[:200]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--expect-pop", action="append", default=[], metavar="NAME",
                    help="a spike population that must be present (repeatable)")
    args = ap.parse_args()

    c = Checker()
    try:
        f = h5py.File(args.file, "r")
    except OSError as e:
        print(f"{args.file}: cannot open: {e}", file=sys.stderr)
        return 1
    with f:
        check_root(c, f)
        counts = check_spikes(c, f)
        reports = check_report(c, f)
        edges = check_edges(c, f)
        c.require("provenance" not in f or isinstance(f["provenance"], h5py.Group),
                  "/provenance", "not a group")
    for pop in args.expect_pop:
        c.require(pop in counts, f"/spikes/{pop}", "expected population missing")
    run_h5dump(c, args.file)

    if c.problems:
        for p in c.problems:
            print(f"{args.file}: {p}", file=sys.stderr)
        return 1
    spk = ", ".join(f"{k} {n} spikes/{nn} nodes" for k, (n, nn) in counts.items())
    rep = ", ".join(f"{k} {t}x{v}" for k, (t, v) in reports.items())
    edg = ", ".join(f"{k} {n}" for k, n in edges.items())
    print(f"ok {args.file}: spikes [{spk}] reports [{rep}] edges [{edg}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
