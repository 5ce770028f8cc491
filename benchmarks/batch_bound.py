"""How much can batching trials gain on this machine? Fits a single run's step time to
overhead + per-neuron cost and compares the bound it implies with a measured batch.

Usage: python benchmarks/batch_bound.py [--ns 250 500 1000 2000 4000] [--n 1000] [--trials 32]
       [--t-ms 1000] [--sample-ms 1000] [--reps 3]
A run of N cells costs a + b N per step: a, the per-step overhead (loop control, kernel
dispatch, the spike search's fixed work), and b, the per-neuron work (noise, membrane update,
synaptic decay). A batch of B trials does B N neurons' work per step with one overhead, so
its speed-up over B sequential runs is at most (a + b N) / (b N + a / B), and less where a
batch's per-neuron cost exceeds b (caches). Prints one JSON line: a_us, b_ns, the bound at
--n, the measured batch speed-up, the batch's per-neuron-step cost, and the cost of one
standard-normal draw of the engine's noise generator (a block of 16 steps x trials x n).
"""
import argparse
import json
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import canonical  # noqa: E402

import jaxfne as jtfne  # noqa: E402
from jaxfne_core.rng import counter_normal  # noqa: E402
from jaxfne_workflows.xla_tuning import use_wide_vectors  # noqa: E402

use_wide_vectors()          # before the first computation: XLA reads its flags then

ap = argparse.ArgumentParser()
ap.add_argument("--ns", type=int, nargs="+", default=[250, 500, 1000, 2000, 4000])
ap.add_argument("--n", type=int, default=1000)
ap.add_argument("--trials", type=int, default=32)
ap.add_argument("--t-ms", type=float, default=1000.0)
ap.add_argument("--sample-ms", type=float, default=1000.0, help="probe sample interval (ms); 0: full raster")
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--bench-dir", default=canonical.DEFAULT_BENCH_DIR)
args = ap.parse_args()
sample = args.sample_ms or None
W = canonical.load_workload(args.bench_dir)
sim = jtfne.simulation(args.t_ms, W.DT, 0)


def best_of(fn, reps):
    fn()                                                    # compile
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


step_us, models = {}, {}
for n in sorted(set(args.ns) | {args.n}):
    model = models[n] = canonical.canonical_model(n, sample_ms=sample, bench_dir=args.bench_dir)
    run_s = best_of(lambda: np.asarray(model.simulate(sim, progress=False)["spikes"]), args.reps)
    step_us[n] = run_s / sim.n_steps * 1e6
ns = np.array(sorted(step_us), float)
b_us, a_us = np.polyfit(ns, [step_us[int(n)] for n in ns], 1)
model = models[args.n]
seeds = range(100, 100 + args.trials)
batch_s = best_of(lambda: np.asarray(model.simulate_batch(sim, seeds=seeds)["spikes"]), args.reps)
batch_step_us = batch_s / sim.n_steps * 1e6
seq = step_us[args.n]
shape = (16, args.trials * args.n)
draw = jax.jit(lambda k: counter_normal(k, shape))
draw_s = best_of(lambda: draw(jax.random.key(0)).block_until_ready(), 10 * args.reps)
print(json.dumps({
    "step_us": {int(n): round(v, 2) for n, v in step_us.items()},
    "a_us": round(float(a_us), 2), "b_ns": round(float(b_us) * 1e3, 2),
    "n": args.n, "trials": args.trials, "sample_ms": sample,
    "bound_speedup": round(float((a_us + b_us * args.n) / (b_us * args.n + a_us / args.trials)), 2),
    "batch_speedup": round(seq * args.trials / batch_step_us, 2),
    "batch_ns_per_neuron_step": round(batch_step_us * 1e3 / (args.trials * args.n), 2),
    "noise_ns_per_draw": round(draw_s / np.prod(shape) * 1e9, 2)}), flush=True)
