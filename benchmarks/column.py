"""Throughput of the laminar column through the public API.

Usage: python benchmarks/column.py [--n 400 2000 10000] [--t-ms 1000] [--connectivity edge_list]
Prints one JSON line per size: n, t_ms, compile_s (first call minus a warm call),
run_s (median of warm calls), rate_hz, cell_steps_per_s.
"""
import argparse
import json
import statistics
import time

import numpy as np

import jaxfne as jtfne
from jaxfne_workflows.xla_tuning import use_wide_vectors

use_wide_vectors()          # before the first computation: XLA reads its flags then

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, nargs="+", default=[400, 2000, 10000])
ap.add_argument("--t-ms", type=float, default=1000.0)
ap.add_argument("--connectivity", default="edge_list", choices=["dense", "edge_list"])
ap.add_argument("--p-connect", type=float, default=None, help="default: 20 / n (fixed mean in-degree)")
ap.add_argument("--reps", type=int, default=3)
args = ap.parse_args()

for n in args.n:
    p = args.p_connect if args.p_connect is not None else min(1.0, 20.0 / n)
    cfg = (jtfne.configuration().network(name="bench", n=n, p_connect=p, connectivity=args.connectivity)
           .probe(modes=["spikes", "LFP", "CSD"]))
    model = jtfne.construct(cfg)
    sim = jtfne.simulation(args.t_ms, 0.1, 0)
    t0 = time.perf_counter()
    sig = model.simulate(sim, progress=False)
    np.asarray(sig["spikes"])
    first = time.perf_counter() - t0
    runs = []
    for r in range(args.reps):
        t0 = time.perf_counter()
        sig = model.simulate(jtfne.simulation(args.t_ms, 0.1, r + 1), progress=False)
        np.asarray(sig["LFP"])
        runs.append(time.perf_counter() - t0)
    run_s = statistics.median(runs)
    rate = float(np.asarray(sig["spikes"]).sum() / n / (args.t_ms / 1000.0))
    print(json.dumps({"n": n, "t_ms": args.t_ms, "connectivity": args.connectivity, "p_connect": p,
                      "compile_s": round(first - run_s, 3), "run_s": round(run_s, 3),
                      "rate_hz": round(rate, 2),
                      "cell_steps_per_s": round(n * sim.n_steps / run_s)}), flush=True)
