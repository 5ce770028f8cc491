"""gsdr_blackbox: a gradient-free search with GSDR's outer rule (jaxfne's own variant, not the
published GSDR: that is ``gsdr``, which follows the gradient; see ``gsdr.py``).

It keeps the published outer rule (best so far, reversion above C x best, on NaN or after
``checkpoint_n`` stale steps, the mix ``a`` of a stochastic and an SDR-like term) and replaces
the rest, so it runs on models without gradients:

- the inner step uses sign(dx * dL), the sign of a finite difference along the last move,
  where the published rule uses the gradient, and the absolute value of smoothed noise
  where it uses signed noise;
- the stochastic term is N(0, 1) times the distance from the lower bound (floored), where
  the published one is N(0, 1) times the parameters;
- the step grows linearly with stale steps (``growth``), where the published lambda is
  t^2 (1 - exp(-t / 10)) and is 0 right after a new best;
- a reversion clears the momentum but keeps ``a``; ``a`` random-walks by default.

Per chain and step (coordinates of the normalised search box):
  inner  = -sign(m) * |s|           the SDR step: momentum m of sign(dx * dL) (the sign of a
                                     finite-difference gradient), scaled by smoothed noise s
  delta  = N(0, 1) * max(|x|, floor) the stochastic (genetic) term, proportional to the params
  step   = scale * clip(a * delta + (1 - a) * inner, -1, 1)
  scale  = step_size * (1 + growth * stale)   grows with steps since the last improvement
The chain keeps its best parameters and loss; it reverts to them when the new loss is NaN or
exceeds C x best, or after ``checkpoint_n`` steps without improvement; ``a`` random-walks by
+-0.1 within [0, 1] when ``adaptive_alpha``. ``chains`` independent chains run side by side
and are evaluated together in one batched call; the result is the best over chains. GSDR is
a trajectory method: at equal evaluations one long chain beats several short ones on our
benchmarks (benchmarks/optimizers.py), so the default is one chain; use more to fill a
vmapped batch on expensive models.
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
class GSDRBlackboxOptions:
    """alpha: initial mix a of the stochastic term. step_size: base step in box units.
    growth: scale growth per stale step. revert_factor: C (revert when loss > C x best).
    checkpoint_n: stale steps before reverting. momentum: beta of the SDR momentum.
    noise_smoothing: EMA factor of the smoothed noise. floor: smallest |x| for the stochastic
    term. adaptive_alpha: random-walk a by +-0.1. chains: parallel chains per step."""

    alpha: float = attrs.field(default=0.5, validator=number(0, 1))
    step_size: float = attrs.field(default=0.1, validator=number(0, lo_open=True))
    growth: float = attrs.field(default=0.1, validator=number(0))
    revert_factor: float = attrs.field(default=2.0, validator=number(1))
    checkpoint_n: int = attrs.field(default=10, validator=number(1))
    momentum: float = attrs.field(default=0.9, validator=number(0, 1, hi_open=True))
    noise_smoothing: float = attrs.field(default=0.5, validator=number(0, 1, hi_open=True))
    floor: float = attrs.field(default=0.05, validator=number(0, lo_open=True))
    adaptive_alpha: bool = True
    chains: int = attrs.field(default=1, validator=number(1, 100_000))


class GSDRBlackbox(Optimizer):
    """Gradient-free search with GSDR's outer rule (jaxfne's variant; see the module), parallel chains."""

    name = "gsdr_blackbox"
    Options = GSDRBlackboxOptions

    def minimize(self, problem, steps, key):
        o = self.options
        lo, hi = problem.lower.astype(np.float64), problem.upper.astype(np.float64)
        span = hi - lo
        c, d = o.chains, problem.dim
        elite = Elite.start(problem)
        x = np.repeat(elite.x[None].astype(np.float64), c, 0)
        loss = np.full(c, elite.loss)
        best_x, best = x.copy(), loss.copy()
        prev_x, prev_loss = x.copy(), loss.copy()
        m = np.zeros((c, d))
        smooth = np.zeros((c, d))
        a = np.full(c, o.alpha)
        stale = np.zeros(c, int)
        for step in range(1, steps + 1):
            k = jax.random.split(jax.random.fold_in(key, step), 4)
            n1, n2 = (np.asarray(jax.random.normal(kk, (c, d)), np.float64) for kk in k[:2])
            walk = np.asarray(jax.random.choice(k[2], np.array([-0.1, 0.1]), (c,)), np.float64)
            dl = np.where(np.isfinite(loss - prev_loss), loss - prev_loss, 0.0)
            m = o.momentum * m + (1 - o.momentum) * np.sign((x - prev_x) * dl[:, None])
            smooth = o.noise_smoothing * smooth + (1 - o.noise_smoothing) * n2
            inner = -np.sign(m) * np.abs(smooth)
            rel = np.maximum(np.abs(x - lo) / span, o.floor)          # |params| in box units
            delta = n1 * rel
            scale = o.step_size * (1 + o.growth * stale)
            move = scale[:, None] * np.clip(a[:, None] * delta + (1 - a[:, None]) * inner, -1, 1) * span
            cand = np.clip(x + move, lo, hi)[:elite.room(problem, c)]
            if not len(cand):
                break
            losses, gates = problem.evaluate(cand.astype(np.float32))
            if len(cand) < c:                    # the budget's last, shortened step: the end
                improved = elite.offer(cand.astype(np.float32), losses, gates)
                elite.history.append(record(step, cand, losses, elite.loss, improved))
                break
            losses = np.where(np.isfinite(losses), losses, np.inf)
            prev_x, prev_loss = x, loss
            x, loss = cand, losses
            better = losses < best
            best_x = np.where(better[:, None], cand, best_x)
            best = np.where(better, losses, best)
            stale = np.where(better, 0, stale + 1)
            revert = ~np.isfinite(losses) | (losses > o.revert_factor * np.maximum(best, 1e-30)) | (stale >= o.checkpoint_n)
            revert &= ~better
            x = np.where(revert[:, None], best_x, x)
            loss = np.where(revert, best, loss)
            m = np.where(revert[:, None], 0.0, m)
            stale = np.where(stale >= o.checkpoint_n, 0, stale)
            if o.adaptive_alpha:
                a = np.clip(a + walk, 0.0, 1.0)
            improved = elite.offer(cand.astype(np.float32), losses, gates)
            elite.history.append(record(step, cand, losses, elite.loss, improved, accepted=~revert,
                                        alpha=a.tolist()))
            if elite.step_done(problem, step):
                break
        return elite.result()
