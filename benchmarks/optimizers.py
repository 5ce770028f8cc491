"""GSDR, AGSDR and random search at equal evaluation counts on standard problems.

Usage: python benchmarks/optimizers.py [--evals 400] [--seeds 10]
Prints one JSON line per (problem, optimizer): median and quartiles over seeds of the best
true loss found (for the noisy quadratic: the noise-free loss of the returned point).
"""
import argparse
import json

import jax
import numpy as np

from jaxfne_testing import noisy_quadratic_problem, rosenbrock_problem, true_quadratic_loss
from jaxfne_optim import AGSDR, GSDR, AGSDROptions, GSDROptions, RandomSearch, RandomSearchOptions
from jaxfne_workflows.xla_tuning import use_wide_vectors

use_wide_vectors()          # before the first computation: XLA reads its flags then


def optimizers(evals):
    """(name, optimizer, steps) with the same number of evaluations (the start not counted)."""
    return [("random_search", RandomSearch(RandomSearchOptions(population=16)), evals // 16),
            ("random_local", RandomSearch(RandomSearchOptions(population=16, local_fraction=0.5)), evals // 16),
            ("agsdr", AGSDR(AGSDROptions(population=16)), evals // 16),
            ("gsdr", GSDR(GSDROptions()), evals)]


def run(problem_name, evals, seeds):
    rows = {}
    for name, opt, steps in optimizers(evals):
        finals = []
        for seed in range(seeds):
            if problem_name == "rosenbrock2":
                res = opt.minimize(rosenbrock_problem(2), steps, jax.random.key(seed))
                finals.append(res.best_loss)
            elif problem_name == "rosenbrock5":
                res = opt.minimize(rosenbrock_problem(5), steps, jax.random.key(seed))
                finals.append(res.best_loss)
            else:
                res = opt.minimize(noisy_quadratic_problem(5, 0.05, seed), steps, jax.random.key(seed))
                finals.append(true_quadratic_loss(res.best_x))
        q = np.percentile(finals, [25, 50, 75])
        rows[name] = {"problem": problem_name, "optimizer": name, "evaluations": evals,
                      "median": float(q[1]), "q25": float(q[0]), "q75": float(q[2])}
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--evals", type=int, default=400)
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    for problem in ("rosenbrock2", "rosenbrock5", "noisy_quadratic5"):
        for row in run(problem, args.evals, args.seeds).values():
            print(json.dumps(row), flush=True)
