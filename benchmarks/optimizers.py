"""Every built-in optimizer and pycma's CMA-ES at equal evaluation budgets, side by side.

Usage: pip install cma; python benchmarks/optimizers.py [--evals 500 2000] [--seeds 10]
Problems (jaxfne_testing): Rosenbrock-10D in [-2, 2]^10 from (-1.5, 1.5, ...), Rastrigin-10D in
[-5.12, 5.12]^10 from 3.0 (next to a local minimum), a 10-D quadratic with noise SD 0.05 per
evaluation from 1.5. Every optimizer gets exactly the budget (``max_evaluations``, the start
counted); pycma gets the same start, the same sigma0 (cmaes's default, 0.2 x span), the bounds and
``maxfevals``.
Prints one JSON line per (problem, budget, optimizer): median and quartiles over seeds of the
best true loss found (for the noisy quadratic: the noise-free loss of the returned point).
gsdr (as published) follows the analytic gradient (one gradient evaluation per step); it is
left out of the noisy problem, which has none.
"""
import argparse
import json

import attrs
import jax
import numpy as np

from jaxfne_optim import (AGSDR, CMAES, GSDR, AGSDROptions, CMAESOptions, GSDRBlackbox, GSDRBlackboxOptions,
                          GSDROptions, RandomSearch, RandomSearchOptions)
from jaxfne_testing import noisy_quadratic_problem, rastrigin_problem, rosenbrock_problem, true_quadratic_loss

PROBLEMS = {"rosenbrock10": lambda seed: rosenbrock_problem(10),
            "rastrigin10": lambda seed: rastrigin_problem(10),
            "noisy_quadratic10": lambda seed: noisy_quadratic_problem(10, 0.05, seed)}
OPTIMIZERS = {"random_search": RandomSearch(RandomSearchOptions(population=16)),
              "random_local": RandomSearch(RandomSearchOptions(population=16, local_fraction=0.5)),
              "agsdr": AGSDR(AGSDROptions(population=16)),
              "gsdr_blackbox": GSDRBlackbox(GSDRBlackboxOptions()),
              "gsdr": GSDR(GSDROptions()),
              "cmaes": CMAES(CMAESOptions()),
              "cmaes_mirrored": CMAES(CMAESOptions(sampling="mirrored_orthogonal"))}


def true_loss(problem_name, problem, x):
    if problem_name.startswith("noisy"):
        return true_quadratic_loss(x, problem.dim)
    return float(problem.evaluate(np.asarray(x, np.float32)[None])[0][0])


def pycma(problem, evals, seed):
    import cma
    lo, hi = problem.lower.astype(np.float64), problem.upper.astype(np.float64)
    es = cma.CMAEvolutionStrategy(problem.x0.astype(np.float64), CMAESOptions().sigma0 * float(np.mean(hi - lo)),
                                  {"bounds": [lo.tolist(), hi.tolist()], "maxfevals": evals, "seed": seed + 1,
                                   "verbose": -9})
    used = 0
    while not es.stop() and used < evals:
        xs = es.ask()[:evals - used]
        losses = problem.evaluate(np.asarray(xs, np.float32))[0]
        used += len(xs)
        if len(xs) < es.popsize:
            es.best.update(xs, losses.tolist(), used)
            break
        es.tell(xs, losses.tolist())
    return es.best.x


def run(problem_name, evals, seeds, names):
    rows = []
    for name in names:
        finals = []
        for seed in range(seeds):
            problem = PROBLEMS[problem_name](seed)
            if name == "gsdr" and problem.value_and_grad is None:
                break
            if name == "pycma":
                x = pycma(problem, evals, seed)
            else:
                res = OPTIMIZERS[name].minimize(attrs.evolve(problem, max_evaluations=evals), 10 ** 7,
                                                jax.random.key(seed))
                assert res.n_evaluations <= evals, (name, res.n_evaluations)
                x = res.best_x
            finals.append(true_loss(problem_name, problem, x))
        if finals:
            q = np.percentile(finals, [25, 50, 75])
            rows.append({"problem": problem_name, "evaluations": evals, "optimizer": name, "median": float(q[1]),
                         "q25": float(q[0]), "q75": float(q[2])})
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--evals", type=int, nargs="+", default=[500, 2000])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    ap.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS) + ["pycma"])
    args = ap.parse_args()
    for problem in args.problems:
        for evals in args.evals:
            for row in run(problem, evals, args.seeds, args.optimizers):
                print(json.dumps(row), flush=True)
