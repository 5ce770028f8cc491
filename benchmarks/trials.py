"""Trials per second: the task's trials batched (vmap, one chunk) versus one at a time.

Usage: python benchmarks/trials.py [--config examples/omission_column.jcfg.json]
       [--trials 32] [--trial-ms 500]
Prints one JSON line (compile excluded: each path is run once before timing).
"""
import argparse
import json
import time

import attrs

import jaxfne as jtfne
from jaxfne.builder import from_config
from jaxfne_workflows.xla_tuning import use_wide_vectors

use_wide_vectors()          # before the first computation: XLA reads its flags then

ap = argparse.ArgumentParser()
ap.add_argument("--config", default="examples/omission_column.jcfg.json")
ap.add_argument("--trials", type=int, default=32)
ap.add_argument("--trial-ms", type=float, default=500.0)
args = ap.parse_args()

cfg = jtfne.load_config(args.config)
model = jtfne.construct(from_config(cfg).build())
task = attrs.evolve(cfg.task, conditions=("AAAB",), trials_per_condition=args.trials, trial_ms=args.trial_ms)
batched, sequential = attrs.evolve(task, chunk_size=None), attrs.evolve(task, chunk_size=1)
for t in (batched, sequential):
    model.run_trials(attrs.evolve(t, trials_per_condition=min(2, args.trials) if t.chunk_size else 1))
model.run_trials(batched)                                     # compile the full batch shape
t0 = time.perf_counter()
model.run_trials(batched)
t_batch = time.perf_counter() - t0
t0 = time.perf_counter()
model.run_trials(sequential)
t_seq = time.perf_counter() - t0
print(json.dumps({"config": args.config, "n_cells": model.n_cells, "trial_ms": args.trial_ms,
                  "trials": args.trials, "batched_trials_per_s": round(args.trials / t_batch, 2),
                  "sequential_trials_per_s": round(args.trials / t_seq, 2), "speedup": round(t_seq / t_batch, 2)}))
