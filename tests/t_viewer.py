"""Viewer-ready files (issue 13): the NeXus /overview group h5web and silx
open first (docs/output-format.md, "/overview").

A COBA run long enough that every bound applies (2.5 s: 25 000 state frames
subsampled to <= 4096, rates in 2 ms bins, 3200 neurons in <= 512 raster
rows), a short COBA + STDP run for the weight histogram, and an interrupted
run whose kept .part has an overview too. Checks the NeXus chain root
default -> NXentry -> default NXdata, signals, axes (time in ms), shapes
within the bounds, auxiliary_signals, long_name on every signal, titles
(attribute and dataset), state variables shaped [node, time] and
interpreted as spectra (traces), and that the SONATA datasets are unchanged
in what they hold (rates recomputed from /spikes, V_m frames from /report).
Exit 0 passes.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

APICAL = os.environ.get("APICAL", "build/apical")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def texts(v):
    if v is None:
        return []
    if isinstance(v, (str, bytes)):
        return [text(v)]
    return [text(x) for x in v]


def run(net, out, duration, extra=()):
    r = subprocess.run([APICAL, "run", net, "--duration", duration, "-o", out,
                        "--quiet", *extra], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL: apical run {net} exited {r.returncode}: {r.stderr}")
        sys.exit(1)


def check_nxdata(f, path, max_shape=None):
    """Common NXdata checks; returns the signal dataset."""
    g = f[path]
    check(text(g.attrs.get("NX_class", "")) == "NXdata", f"{path}: NX_class is not NXdata")
    sig = text(g.attrs.get("signal", ""))
    check(sig in g, f"{path}: signal '{sig}' missing")
    if sig not in g:
        return None
    s = g[sig]
    check("long_name" in s.attrs, f"{path}/{sig}: no long_name")
    check("units" in s.attrs, f"{path}/{sig}: no units")
    # the title both as silx's attribute and as the NeXus field h5web reads
    title = text(g.attrs.get("title", ""))
    check(title != "", f"{path}: no title attribute")
    check("title" in g and g["title"].shape == () and text(g["title"][()]) == title,
          f"{path}: no title dataset equal to the title attribute")
    axes = texts(g.attrs.get("axes"))
    check(len(axes) == s.ndim, f"{path}: {len(axes)} axes for a {s.ndim}-D signal")
    for k, a in enumerate(axes):
        check(a in g, f"{path}: axis '{a}' missing")
        if a in g:
            check(g[a].shape == (s.shape[k],), f"{path}/{a}: shape {g[a].shape}, "
                  f"signal dim {k} is {s.shape[k]}")
            check("long_name" in g[a].attrs, f"{path}/{a}: no long_name")
            v = g[a][()]
            check(np.all(np.diff(v) > 0), f"{path}/{a}: not increasing")
    check(axes and axes[-1] == "time", f"{path}: last axis is not time")
    if "time" in g:
        check(text(g["time"].attrs.get("units", "")) == "ms", f"{path}/time: units not ms")
    for a in texts(g.attrs.get("auxiliary_signals")):
        check(a in g and g[a].shape == s.shape, f"{path}: auxiliary signal '{a}' "
              "missing or shaped unlike the signal")
        if a in g:
            check("long_name" in g[a].attrs, f"{path}/{a}: no long_name")
    if max_shape:
        check(all(n <= m for n, m in zip(s.shape, max_shape)),
              f"{path}: shape {s.shape} beyond {max_shape}")
    return s


def check_overview(f, where, expect_weights=False):
    check(f.attrs.get("complete") is not None, f"{where}: no complete attribute")
    check(text(f.attrs.get("default", "")) == "overview", f"{where}: root default is "
          f"{f.attrs.get('default')!r}, want 'overview'")
    ov = f["overview"]
    check(text(ov.attrs.get("NX_class", "")) == "NXentry", f"{where}: /overview not NXentry")
    d = text(ov.attrs.get("default", ""))
    check(d == "rates" and d in ov, f"{where}: /overview default {d!r}")
    pops = list(f["spikes"])
    rates = check_nxdata(f, "overview/rates", (2000,))
    g = ov["rates"]
    check(text(g.attrs["signal"]) == pops[0] + "_rate", f"{where}: rates signal")
    check(texts(g.attrs.get("auxiliary_signals")) == [p + "_rate" for p in pops[1:]],
          f"{where}: auxiliary_signals {texts(g.attrs.get('auxiliary_signals'))}")
    check(text(rates.attrs["units"]) == "Hz", f"{where}: rate units")
    check_nxdata(f, "overview/raster", (512, 2000))
    for p in pops[1:]:
        check_nxdata(f, f"overview/raster_{p}", (512, 2000))
    # rates and raster from the SONATA spikes
    t = g["time"][()]
    bin_ms = t[1] - t[0] if len(t) > 1 else 2 * t[0]
    for p in pops:
        ts = f[f"spikes/{p}/timestamps"][()]
        n = int(f[f"spikes/{p}"].attrs["n_nodes"])
        counts = np.bincount(np.minimum((ts // bin_ms).astype(int), len(t) - 1),
                             minlength=len(t))
        check(np.allclose(g[p + "_rate"][()], counts * 1000.0 / (bin_ms * n)),
              f"{where}: {p}_rate differs from /spikes/{p}")
        name = "raster" if p == pops[0] else f"raster_{p}"
        check(int(ov[name]["spike_count"][()].sum()) == len(ts),
              f"{where}: {name} holds {ov[name]['spike_count'][()].sum()} spikes, "
              f"/spikes/{p} {len(ts)}")
    # state variables: [node, time], a copy of /report
    for rname, r in f["report"].items():
        if text(r.attrs.get("type", "")) == "weights":
            continue
        data = r["data"]
        variables = texts(data.attrs["variables"])
        vunits = texts(data.attrs["variable_units"])
        check("long_name" in data.attrs, f"{where}: /report/{rname}/data has no long_name")
        n_nodes = len(r["mapping/node_ids"])
        start, stop, step = r["mapping/time"][()]
        for j, (v, u) in enumerate(zip(variables, vunits)):
            path = f"overview/{rname}_{v}"
            s = check_nxdata(f, path, (1024, 4096))
            if s is None:
                continue
            check(s.dtype == np.float32, f"{path}: not float32")
            check(text(s.attrs.get("interpretation", "")) == "spectrum",
                  f"{path}: interpretation is not 'spectrum' (h5web would open a heat map)")
            check(s.shape[0] == n_nodes, f"{path}: {s.shape[0]} nodes, want {n_nodes}")
            check(text(s.attrs["units"]) == u, f"{path}: units {s.attrs['units']!r}")
            check(text(s.attrs["long_name"]) == (f"{v} ({u})" if u else v),
                  f"{path}: long_name {s.attrs['long_name']!r}")
            tt = ov[f"{rname}_{v}"]["time"][()]
            k = np.rint((tt - start) / step).astype(int)
            want = data[()][k][:, j::len(variables)].T
            check(np.array_equal(s[()], want), f"{path}: differs from /report/{rname}/data")
    if expect_weights:
        names = [k for k in ov if k.endswith("_weights")]
        check(names, f"{where}: no weight histogram")
        for k in names:
            s = check_nxdata(f, f"overview/{k}", (64, 2000))
            if s is not None:
                r = f["report"][k[: -len("_weights")]]
                check(int(s[()].sum()) == r["data"].size, f"{where}: {k} counts")
                check(text(ov[k]["weight"].attrs["units"]) == text(r["data"].attrs["units"]),
                      f"{where}: {k} weight units")
    return ov


with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "coba.h5")
    run("networks/brette2007_coba.yaml", out, "2500 ms")
    with h5py.File(out, "r") as f:
        ov = check_overview(f, "COBA 2.5 s")
        check(ov["rates/time"].shape == (1250,), f"rates: {ov['rates/time'].shape} bins, want 1250 of 2 ms")
        check(ov["raster/spike_count"].shape == (458, 1250), f"raster {ov['raster/spike_count'].shape}")
        check(ov["exc_V_m/V_m"].shape == (4, 3572), f"V_m {ov['exc_V_m/V_m'].shape}")
        check(text(f["spikes/exc/timestamps"].attrs["units"]) == "ms", "timestamps units")

    out = os.path.join(tmp, "stdp.h5")
    run("networks/brette2007_coba_stdp.yaml", out, "100 ms")
    with h5py.File(out, "r") as f:
        check_overview(f, "COBA+STDP 100 ms", expect_weights=True)

    # An interrupted run keeps its .part, with an overview of what was run.
    out = os.path.join(tmp, "int.h5")
    p = subprocess.Popen([APICAL, "run", "networks/brette2007_coba.yaml", "--duration",
                          "600 s", "-o", out, "--quiet"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=60)
    check(p.returncode == 1, f"interrupted run exited {p.returncode}")
    if os.path.exists(out + ".part"):
        with h5py.File(out + ".part", "r") as f:
            check(f.attrs["complete"] == 0, "interrupted: complete != 0")
            check_overview(f, "interrupted")
    else:
        check(False, "interrupted run left no .part")

for m in failures:
    print("FAIL:", m)
sys.exit(1 if failures else 0)
