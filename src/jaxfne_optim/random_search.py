"""Random search within bounds: the first real optimizer.

Each step draws ``population`` candidates: a ``local_fraction`` of them Gaussian around the best
point so far (SD = ``local_scale`` x bound span, clipped to bounds), the rest uniform in the
bounds; all are evaluated in one batched call; the best is kept (elitist). The starting point
is evaluated first. Deterministic for a key.
"""
from __future__ import annotations

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.stages import Optimizer
from jaxfne_core.tuning import OptimResult
from jaxfne_core.validators import number


@attrs.frozen
class RandomSearchOptions:
    """population: candidates per step. local_fraction: share drawn around the best point.
    local_scale: SD of local draws as a fraction of each bound's span."""

    population: int = attrs.field(default=16, validator=number(1, 100_000))
    local_fraction: float = attrs.field(default=0.5, validator=number(0, 1))
    local_scale: float = attrs.field(default=0.1, validator=number(0, lo_open=True))


class RandomSearch(Optimizer):
    """Elitist random search (uniform plus local Gaussian candidates) within bounds."""

    name = "random_search"
    Options = RandomSearchOptions

    def minimize(self, loss_batch, x0, lower, upper, steps, key):
        o = self.options
        x0, lo, hi = (np.asarray(a, np.float32) for a in (x0, lower, upper))
        span = hi - lo
        best_x = x0
        best = float(np.asarray(loss_batch(jnp.asarray(x0[None]))[0]))
        best = best if np.isfinite(best) else np.inf
        history = [{"step": 0, "losses": [best], "best_loss": best, "improved": True}]
        n_local = int(round(o.local_fraction * o.population))
        for step in range(1, steps + 1):
            k1, k2 = jax.random.split(jax.random.fold_in(key, step))
            uni = lo + span * np.asarray(jax.random.uniform(k1, (o.population - n_local, x0.size)))
            loc = best_x + o.local_scale * span * np.asarray(jax.random.normal(k2, (n_local, x0.size)))
            cand = np.clip(np.concatenate([loc, uni], axis=0), lo, hi).astype(np.float32)
            losses = np.asarray(loss_batch(jnp.asarray(cand)), np.float64)
            losses = np.where(np.isfinite(losses), losses, np.inf)
            i = int(np.argmin(losses))
            improved = bool(losses[i] < best)
            if improved:
                best, best_x = float(losses[i]), cand[i]
            history.append({"step": step, "losses": losses.tolist(), "best_loss": best,
                            "improved": improved})
        return OptimResult(best_x=best_x, best_loss=best, history=history,
                           n_evaluations=1 + steps * o.population)
