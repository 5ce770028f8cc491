"""Random search within bounds.

Each step draws ``population`` candidates uniformly in the bounds (plain random search, the
baseline), or with ``local_fraction`` > 0 that share Gaussian around the best point so far
(SD = ``local_scale`` x bound span, clipped); all are evaluated in one batched call; the best
is kept (elitist). The start is evaluated first. Deterministic for a key.
"""
from __future__ import annotations

import attrs
import jax
import numpy as np

from .hookspecs import Optimizer
from jaxfne_core.validators import number

from .common import Elite
from .problem import record


@attrs.frozen
class RandomSearchOptions:
    """population: candidates per step. local_fraction: share drawn around the best point.
    local_scale: SD of local draws as a fraction of each bound's span."""

    population: int = attrs.field(default=16, validator=number(1, 100_000))
    local_fraction: float = attrs.field(default=0.0, validator=number(0, 1))
    local_scale: float = attrs.field(default=0.1, validator=number(0, lo_open=True))


class RandomSearch(Optimizer):
    """Random search within bounds (uniform; optionally plus local Gaussian candidates)."""

    name = "random_search"
    Options = RandomSearchOptions

    def minimize(self, problem, steps, key):
        o = self.options
        lo, hi = problem.lower, problem.upper
        span = hi - lo
        elite = Elite.start(problem)
        n_local = int(round(o.local_fraction * o.population))
        for step in range(1, steps + 1):
            k1, k2 = jax.random.split(jax.random.fold_in(key, step))
            uni = lo + span * np.asarray(jax.random.uniform(k1, (o.population - n_local, problem.dim)))
            loc = elite.x + o.local_scale * span * np.asarray(jax.random.normal(k2, (n_local, problem.dim)))
            cand = np.clip(np.concatenate([loc, uni], axis=0), lo, hi).astype(np.float32)
            cand = cand[:elite.room(problem, len(cand))]
            if not len(cand):
                break
            losses, gates = problem.evaluate(cand)
            improved = elite.offer(cand, losses, gates)
            elite.history.append(record(step, cand, losses, elite.loss, improved))
            if elite.step_done(problem, step):
                break
        return elite.result()
