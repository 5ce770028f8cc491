"""Share of run time spent on the field, for the example column with each field.

Usage: python benchmarks/field_share.py [--config examples/v1_laminar_column.jcfg.json]
       [--n 400 2000] [--fields none laminar_proxy point_source line_source disc laminar_fv]
Prints one JSON line per (n, field): run_s (median of warm runs, compile excluded),
field_share = (run_s - run_s without a field) / run_s.
"""
import argparse
import json
import statistics
import time

import numpy as np

import jaxfne as jtfne
from jaxfne.builder import from_config
from jaxfne_workflows.xla_tuning import use_wide_vectors

use_wide_vectors()          # before the first computation: XLA reads its flags then

ap = argparse.ArgumentParser()
ap.add_argument("--config", default="examples/v1_laminar_column.jcfg.json")
ap.add_argument("--n", type=int, nargs="+", default=[400, 2000])
ap.add_argument("--fields", nargs="+",
                default=["none", "laminar_proxy", "point_source", "line_source", "disc", "laminar_fv"])
ap.add_argument("--t-ms", type=float, default=500.0)
ap.add_argument("--reps", type=int, default=3)
args = ap.parse_args()

base = from_config(jtfne.load_config(args.config)).no_objective()


def timed(builder, n):
    model = jtfne.construct(builder)
    sim = jtfne.simulation(args.t_ms, 0.1, 0)
    np.asarray(model.simulate(sim, progress=False)["spikes"])          # compile
    runs = []
    for r in range(args.reps):
        t0 = time.perf_counter()
        sig = model.simulate(jtfne.simulation(args.t_ms, 0.1, r + 1), progress=False)
        for a in sig.arrays.values():
            np.asarray(a)
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


for n in args.n:
    b = base.network(n=n, p_connect=min(1.0, 20.0 / n))
    ref = timed(b.no_field().probe(modes=["spikes"]), n)
    print(json.dumps({"n": n, "field": "none", "run_s": round(ref, 4), "field_share": 0.0}), flush=True)
    for kind in args.fields:
        if kind == "none":
            continue
        t = timed(b.field(kind).probe(modes=["spikes", "LFP", "CSD"]), n)
        print(json.dumps({"n": n, "field": kind, "run_s": round(t, 4),
                          "field_share": round(max(t - ref, 0.0) / t, 3)}), flush=True)
