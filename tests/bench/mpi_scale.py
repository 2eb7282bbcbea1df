#!/usr/bin/python3
"""Strong scaling and per-rank memory of `mpirun -np R apical run` (issue 11).

The network is tests/bench/scale.py's COBA-like one (N lif_cond_exp neurons,
80 % exc, fixed in-degree 64 exc + 16 inh, delay 0.1 ms, stepper sweep),
run for --duration ms with 1 thread per rank and as many partitions as
ranks. For each R in --ranks: `R=1` is a plain run (no mpirun, no MPI);
R > 1 runs under `mpirun --oversubscribe` (beyond the machine's cores the
ranks share cores: the timings then measure oversubscription, say so). Each
rank runs under /usr/bin/time, so its own peak RSS is known.

Prints one row per R: build s and run s (rank 0's, from --stats-json), the
run's speed-up over R = 1, the largest and smallest per-rank peak RSS, and
the spike count (the same for every R, or the row says DIFFERENT).

With --weak, --n is the size per rank (weak scaling: R ranks run R × n
neurons); speed-up is then run s at R = 1 / run s at R (1 = perfect).

Usage: tests/bench/mpi_scale.py [--n 200000] [--duration 100]
         [--ranks 1,2,4] [--weak] [--repeat 1] [--json OUT.json]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import scale  # noqa: E402  (the network generator)


def run(apical, net, ranks, tmp, tag):
    out = os.path.join(tmp, f"{tag}.h5")
    stats = os.path.join(tmp, f"{tag}.json")
    cmd = [apical, "run", net, "-o", out, "--quiet", "--stats-json", stats]
    timed = ["/usr/bin/time", "-f", "RSS_KB %M"] + cmd
    if ranks > 1:
        timed = ["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", str(ranks)] + timed
    p = subprocess.run(timed, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"failed ({ranks} ranks): {p.stderr[-2000:]}")
    rss = [int(x) / 1024 for x in re.findall(r"RSS_KB (\d+)", p.stderr)]
    with open(stats) as f:
        s = json.load(f)
    return s, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--duration", type=float, default=100)
    ap.add_argument("--ranks", default="1,2,4")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--weak", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    apical = os.environ.get("APICAL", os.path.join(ROOT, "build", "apical"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        for r in [int(x) for x in a.ranks.split(",")]:
            n = a.n * r if a.weak else a.n
            n_exc = n * 4 // 5
            net = os.path.join(tmp, f"net{r}.yaml")
            with open(net, "w") as f:
                f.write(scale.NET.format(n=n, duration=a.duration, stepper="sweep", tol=1e-4,
                                         partitions=r, threads=1, n_exc=n_exc,
                                         n_inh=n - n_exc))
            best = None
            for k in range(a.repeat):
                s, rss = run(apical, net, r, tmp, f"r{r}_{k}")
                if best is None or s["wall_run_s"] < best[0]["wall_run_s"]:
                    best = (s, rss)
            s, rss = best
            spikes = s.get("spikes")
            if base is None:
                base = s
            row = {"ranks": r, "neurons": n, "build_s": s["wall_build_s"], "run_s": s["wall_run_s"],
                   "speedup": base["wall_run_s"] / s["wall_run_s"],
                   "rss_max_mb": max(rss), "rss_min_mb": min(rss), "spikes": spikes,
                   "same_spikes": a.weak or spikes == base.get("spikes")}
            rows.append(row)
            print(f"R={r} N={n}: build {row['build_s']:.2f} s, run {row['run_s']:.2f} s "
                  f"(x{row['speedup']:.2f}), RSS per rank {row['rss_min_mb']:.0f}-"
                  f"{row['rss_max_mb']:.0f} MB, spikes {spikes}"
                  f"{'' if row['same_spikes'] else ' DIFFERENT'}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"n": a.n, "weak": a.weak, "duration_ms": a.duration,
                       "cores": os.cpu_count(), "load": os.getloadavg(),
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
