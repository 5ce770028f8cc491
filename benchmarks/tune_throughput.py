"""Candidate evaluations per second: one vmapped batch versus one candidate at a time.

Usage: python benchmarks/tune_throughput.py [--config examples/v1_laminar_column.jcfg.json]
       [--population 16] [--t-ms 200]
Prints one JSON line: evals_per_s for the vmapped generation and for sequential calls of the
same compiled single-candidate function (compile excluded), and their ratio.
"""
import argparse
import json
import time

import jax
import numpy as np

import jaxfne as jtfne
from jaxfne_objectives.objective import Objective
from jaxfne_workflows.xla_tuning import use_wide_vectors

use_wide_vectors()          # before the first computation: XLA reads its flags then

ap = argparse.ArgumentParser()
ap.add_argument("--config", default="examples/v1_laminar_column.jcfg.json")
ap.add_argument("--population", type=int, default=16)
ap.add_argument("--t-ms", type=float, default=200.0)
args = ap.parse_args()

cfg = jtfne.load_config(args.config)
model = jtfne.construct(cfg)
objective = Objective.from_config(cfg.objective)
sim = jtfne.simulation(args.t_ms, cfg.simulation.dt_ms, 0)
full = model.full_run(sim)
params = model.params(sim.dt_ms)
key = jax.random.key(0)


def loss(drive):
    p = model.apply_tunables(params, {"emitter.drive.E": drive})
    return objective.total_loss(model.make_signals(full(p, key)[1], sim), model.registry)


single = jax.jit(loss)
batch = jax.jit(jax.vmap(loss))
drives = np.linspace(3.0, 7.0, args.population).astype(np.float32)
single(drives[0]).block_until_ready()
batch(drives).block_until_ready()
t0 = time.perf_counter()
seq = [float(single(d)) for d in drives]
t_seq = time.perf_counter() - t0
t0 = time.perf_counter()
vec = np.asarray(batch(drives))
t_vec = time.perf_counter() - t0
print(json.dumps({"config": args.config, "n_cells": model.n_cells, "t_ms": args.t_ms,
                  "population": args.population, "vmapped_evals_per_s": round(args.population / t_vec, 2),
                  "sequential_evals_per_s": round(args.population / t_seq, 2),
                  "speedup": round(t_seq / t_vec, 2),
                  # vmap changes XLA's fusion: float32 round-off can move a spike by a step
                  "max_loss_difference": float(np.max(np.abs(np.array(seq) - vec)))}))
