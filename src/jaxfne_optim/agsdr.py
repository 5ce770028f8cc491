"""AGSDR: the adaptive, population form of GSDR used by the reference's later releases.

Each generation: candidate 0 is the centre, the others ``centre + exploration * span * N(0, I)``
clipped to the bounds, all evaluated in one batched call. Elitist: the best point ever is
kept. The centre moves toward the generation's best by ``alpha``:
``centre <- centre + alpha * (generation_best - centre)``. With ``adapt`` (our extension, on by
default) the exploration grows by ``grow`` after a generation that improved on the best and
shrinks by ``shrink`` after one that did not (a success rule as in evolution strategies),
within [``min_exploration``, 2 x exploration]; ``adapt = False`` is the reference's fixed
exploration.
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
class AGSDROptions:
    """population: candidates per generation (the centre included). alpha: pull of the centre
    toward the generation's best. exploration: initial SD of candidates as a fraction of the
    span. adapt, grow, shrink, min_exploration: the success rule (see the module)."""

    population: int = attrs.field(default=16, validator=number(2, 100_000))
    alpha: float = attrs.field(default=0.65, validator=number(0, 1))
    exploration: float = attrs.field(default=0.18, validator=number(0, lo_open=True))
    adapt: bool = True
    grow: float = attrs.field(default=1.2, validator=number(1))
    shrink: float = attrs.field(default=0.8, validator=number(0, 1, lo_open=True))
    min_exploration: float = attrs.field(default=1e-4, validator=number(0, lo_open=True))


class AGSDR(Optimizer):
    """Adaptive GSDR: elitist population search whose centre moves toward each generation's best."""

    name = "agsdr"
    Options = AGSDROptions

    def minimize(self, problem, steps, key):
        o = self.options
        lo, hi = problem.lower.astype(np.float64), problem.upper.astype(np.float64)
        span = hi - lo
        elite = Elite.start(problem)
        centre = elite.x.astype(np.float64)
        exploration = o.exploration
        for step in range(1, steps + 1):
            noise = np.asarray(jax.random.normal(jax.random.fold_in(key, step),
                                                 (o.population - 1, problem.dim)), np.float64)
            cand = np.concatenate([centre[None], np.clip(centre + exploration * span * noise, lo, hi)])
            cand = cand[:elite.room(problem, len(cand))]
            if not len(cand):
                break
            losses, gates = problem.evaluate(cand.astype(np.float32))
            losses = np.where(np.isfinite(losses), losses, np.inf)
            improved = elite.offer(cand.astype(np.float32), losses, gates)
            i = int(np.argmin(losses))
            if np.isfinite(losses[i]):
                centre = centre + o.alpha * (cand[i] - centre)
            if o.adapt:
                exploration = float(np.clip(exploration * (o.grow if improved else o.shrink),
                                            o.min_exploration, 2 * o.exploration))
            elite.history.append(record(step, cand, losses, elite.loss, improved,
                                        centre=centre.tolist(), exploration=exploration))
            if elite.step_done(problem, step):
                break
        return elite.result()
