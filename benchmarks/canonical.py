"""The shared canonical Izhikevich workload (../shared/bench/workload.py) through jaxfne's API.

Usage: python benchmarks/canonical.py --n 1000 [--t-ms 1000] [--field none|proxy|volume]
       [--trials 1] [--bench-dir ../shared/bench]
The network is the peers' one: the same explicit edge list (workload.edges), 80% RS / 20% FS in
index blocks, exponential current synapses tau 5 ms (one step of delay), noise SD 5 (E) / 2 (I)
per ms^0.5, dt 0.1 ms. Prints one JSON line: n, t_ms, compile_s, run_s, rate_hz,
syn_events_per_s, peak_rss_mb (and trials_per_s with --trials > 1).
"""
import argparse
import json
import os
import resource
import sys
import time

import jax
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=1000)
ap.add_argument("--t-ms", type=float, default=1000.0)
ap.add_argument("--field", default="none", choices=["none", "proxy", "volume"])
ap.add_argument("--trials", type=int, default=1)
ap.add_argument("--connectivity", default="event", choices=["event", "edge_list", "dense"])
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--bench-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench"))
args = ap.parse_args()

sys.path.insert(0, os.path.abspath(args.bench_dir))
import workload as W  # noqa: E402

import jaxfne as jtfne  # noqa: E402
from jaxfne_core.assemble import assemble  # noqa: E402
from jaxfne_core.model import Model  # noqa: E402


def canonical_model(n, field="none", seed=0, connectivity="event"):
    pre, post, w = W.edges(n, seed)
    n_exc = W.n_exc(n)
    population = np.r_[np.zeros(n_exc, np.int32), np.ones(n - n_exc, np.int32)]
    rng = np.random.default_rng(seed)
    positions = np.stack([rng.uniform(-100, 100, n), rng.uniform(-100, 100, n), rng.uniform(0, 1600, n)], 1)
    modes = ["spikes"] + (["LFP"] if field != "none" else [])
    b = (jtfne.configuration().network(name="canonical", n=n, connectivity=connectivity, p_connect=0.0)
         .emitter(preset="RS_FS", noise_sigma_by_population={"RS": 5.0, "FS": 2.0})
         .source("exponential", tau_ms=W.TAU_SYN)
         .probe(n_contacts=32, spacing_um=50.0, modes=modes))
    if field == "none":
        b = b.no_field()
    elif field == "volume":
        b = b.source("exponential", tau_ms=W.TAU_SYN, calibration_nA_per_native=0.1,
                     calibration_provenance="benchmark scale").field("point_source")
    circuit = jtfne.Circuit(("RS", "FS"), population, positions, population == 0, pre, post, w,
                            connectivity, 1600.0)
    return Model(assemble(b.build()), circuit)


if __name__ == "__main__":
    t0 = time.perf_counter()
    model = canonical_model(args.n, args.field, args.seed, args.connectivity)
    sim = jtfne.simulation(args.t_ms, W.DT, args.seed)
    jax.block_until_ready(model.params(sim.dt_ms))     # connectivity tables, field operator
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    np.asarray(model.simulate(sim, progress=False)["spikes"])
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    spikes = np.asarray(model.simulate(jtfne.simulation(args.t_ms, W.DT, args.seed + 1), progress=False)["spikes"])
    run_s = time.perf_counter() - t0
    total = int(spikes.sum())
    out = {"tool": "jaxfne", "n": args.n, "t_ms": args.t_ms, "field": args.field, "connectivity": args.connectivity,
           "build_s": round(build_s, 3), "compile_s": round(first - run_s, 3), "run_s": round(run_s, 3),
           "rate_hz": round(total / args.n / (args.t_ms / 1000.0), 3),
           "syn_events_per_s": round(total * W.K / run_s),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)}
    if args.trials > 1:
        model.simulate_batch(sim, seeds=range(args.trials))
        t0 = time.perf_counter()
        np.asarray(model.simulate_batch(sim, seeds=range(args.trials))["spikes"])
        out["trials_per_s"] = round(args.trials / (time.perf_counter() - t0), 3)
    print(json.dumps(out), flush=True)
