"""GSDR as published: the genetic stochastic delta rule of Nejat, Sherfey & Bastos (2026,
PLOS One 21(8) e0354021), following the authors' code (HNXJ/GSDR, ``gsdr/optimizers.py``) step
for step; ``tests/test_gsdr_published.py`` checks it against an independent NumPy port.

The inner rule is SDR, the stochastic delta rule, on the **true gradient** g (in jaxfne: the
model's surrogate gradient; a model that declares none is refused):

    m     <- momentum * m + g                    (momentum of the raw gradient)
    r     =  smooth(sigma * N(0, I))             (box filter of width floor(sqrt(d)) across params)
    inner =  clip(-learning_rate * sign(m) * r, -1, 1)

The outer (genetic) rule keeps the best parameters x*, loss L*, inner state and mix a*. Per
step, with loss L at the current x:

    new best (L < L*):        x*, L*, a*, inner state* <- current; last change <- this step
    revert (L > C x L*, L NaN, or checkpoint_n steps without a new best):
                              x <- x*, inner state <- inner state*, a <- a*, the clock restarts
    otherwise:                t = steps since the last change, lambda = t^2 (1 - exp(-t / tau))
                              delta = clip(N(0, I) * x [* mcdp_factors], -1, 1)
                              x <- x + lambda * (a * delta + (1 - a) * inner)

so the step is 0 right after a new best and grows as t^2 while none is found. ``a`` is fixed
(the authors' default) or random-walks by U(-0.1, 0.1) with ``a_dynamic``. Random numbers per
step t: ``k = fold_in(key, t)``, ``inner, _, a, noise = split(k, 4)``; the SDR noise uses
``split(inner, 1)[0]``, delta uses ``split(noise, 1)[0]`` (the authors' per-leaf split of a
single-leaf pytree).

jaxfne's only addition: the result is projected onto the problem's bounds after each step.
Coordinates: the problem's own (``model.tune`` uses the normalised box [0, 1]^d, so delta is
proportional to the position in the box). One gradient evaluation per step.
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.errors import ConfigError
from .hookspecs import Optimizer
from jaxfne_core.validators import number

from .common import Elite, check_gradient
from .problem import record


@attrs.frozen
class GSDROptions:
    """a_init: the mix a of the stochastic term (``alpha`` is its reference spelling).
    deselection_threshold: C (revert when the loss exceeds C x best). checkpoint_n: steps
    without a new best before reverting. tau_a_growth: tau of lambda's growth. a_dynamic:
    random-walk a. mcdp_factors: per-parameter factors of delta (None: all 1).
    learning_rate, momentum, sigma: the inner SDR rule. gradient_window_steps: truncated
    backpropagation through windows of this many simulation steps (model.tune; a jaxfne option for
    long spiking runs; None: the whole run)."""

    a_init: float = attrs.field(default=0.5, validator=number(0, 1))
    deselection_threshold: float = attrs.field(default=2.0, validator=number(1))
    checkpoint_n: int = attrs.field(default=10, validator=number(1))
    tau_a_growth: float = attrs.field(default=10.0, validator=number(0, lo_open=True))
    a_dynamic: bool = False
    mcdp_factors: Optional[tuple[float, ...]] = attrs.field(
        default=None, converter=lambda v: None if v is None else tuple(float(x) for x in v))
    learning_rate: float = attrs.field(default=1e-2, validator=number(0, lo_open=True))
    momentum: float = attrs.field(default=0.9, validator=number(0))
    sigma: float = attrs.field(default=0.1, validator=number(0, lo_open=True))
    gradient_window_steps: Optional[int] = attrs.field(default=None, validator=attrs.validators.optional(number(1)))


def box_smooth(x):
    """The authors' smoothing of a 1-D vector: mean over a centred window of floor(sqrt(d))."""
    k = max(1, int(np.sqrt(x.shape[0])))
    return jnp.convolve(x, jnp.ones((k,), x.dtype) / k, mode="same")


def init_state(x, a_init):
    """The GSDR state of start point ``x`` (d,)."""
    zeros = jnp.zeros_like(x)
    return {"m": zeros, "x_opt": x, "m_opt": zeros, "loss_opt": jnp.asarray(jnp.inf, x.dtype),
            "a": jnp.asarray(a_init, x.dtype), "a_opt": jnp.asarray(a_init, x.dtype),
            "step": jnp.int32(0), "unchanged": jnp.int32(0), "last_change": jnp.int32(0)}


def make_update(o: GSDROptions):
    """Pure ``(grad, state, x, loss, key) -> (next x, state, reverted)`` of one step (jittable;
    a reversion returns the best point itself, not x plus a difference, so it is exact)."""
    mcdp = None if o.mcdp_factors is None else jnp.asarray(o.mcdp_factors, jnp.float32)

    def update(g, s, x, loss, key):
        step = s["step"] + 1
        new_opt = loss < s["loss_opt"]
        x_opt = jnp.where(new_opt, x, s["x_opt"])
        loss_opt = jnp.where(new_opt, loss, s["loss_opt"])
        a_opt = jnp.where(new_opt, s["a"], s["a_opt"])
        m_opt = jnp.where(new_opt, s["m"], s["m_opt"])
        unchanged = jnp.where(new_opt, 0, s["unchanged"] + 1)
        last = jnp.where(new_opt, step, s["last_change"])
        finite_best = loss_opt != jnp.inf
        deselect = ((loss > loss_opt * o.deselection_threshold) & finite_best) | jnp.isnan(loss)
        checkpoint = (s["step"] > 0) & (unchanged >= o.checkpoint_n) & finite_best
        revert = deselect | checkpoint

        inner_key, _, a_key, noise_key = jax.random.split(key, 4)
        m = o.momentum * s["m"] + g
        r = box_smooth(o.sigma * jax.random.normal(jax.random.split(inner_key, 1)[0], x.shape, x.dtype))
        inner = jnp.clip(-o.learning_rate * jnp.sign(m) * r, -1.0, 1.0)   # SDR's and GSDR's clamps
        a = s["a"]
        if o.a_dynamic:
            a = jnp.clip(a + jax.random.uniform(a_key, (), x.dtype, -0.1, 0.1), 0.0, 1.0)
        delta = jax.random.normal(jax.random.split(noise_key, 1)[0], x.shape, x.dtype) * x
        if mcdp is not None:
            delta = delta * mcdp
        delta = jnp.clip(delta, -1.0, 1.0)
        t = jnp.maximum(0, step - last).astype(x.dtype)
        lam = t ** 2 * (1.0 - jnp.exp(-t / o.tau_a_growth))
        moved = lam * (a * delta + (1 - a) * inner)

        pick = lambda on_revert, normal: jnp.where(revert, on_revert, normal)
        state = {"m": pick(m_opt, m), "x_opt": x_opt, "m_opt": m_opt, "loss_opt": loss_opt,
                 "a": pick(a_opt, a), "a_opt": a_opt, "step": step,
                 "unchanged": pick(0, unchanged), "last_change": pick(step, last)}
        return pick(x_opt, x + moved), state, revert
    return update


class GSDR(Optimizer):
    """The genetic stochastic delta rule as published (Nejat, Sherfey & Bastos 2026), on the
    model's gradients; one gradient evaluation per step."""

    name = "gsdr"
    Options = GSDROptions

    def check(self, problem):
        if problem.value_and_grad is None:
            raise ConfigError([("optimizer", "'gsdr' (as published) steps along the gradient, and this model "
                                "offers none; give the emitter a surrogate spike derivative (izhikevich: "
                                "surrogate_slope) or use the gradient-free 'gsdr_blackbox' or 'cmaes'")])
        f = self.options.mcdp_factors
        if f is not None and len(f) != problem.dim:
            raise ConfigError([("options.mcdp_factors", f"{len(f)} factors given for {problem.dim} "
                                "tuned parameters; allowed: one per parameter, or null")])

    def minimize(self, problem, steps, key):
        self.check(problem)
        update = jax.jit(make_update(self.options))
        x = jnp.asarray(problem.x0, jnp.float32)
        lo, hi = jnp.asarray(problem.lower, jnp.float32), jnp.asarray(problem.upper, jnp.float32)
        state = init_state(x, self.options.a_init)
        elite = None
        for step in range(1, steps + 1):
            loss, grad = problem.value_and_grad(np.asarray(x))
            loss = float(loss) if np.isfinite(loss) else float("nan")
            if np.isfinite(loss):
                check_gradient(problem, grad, step)
            if elite is None:
                elite = Elite(np.asarray(x, np.float32), loss if np.isfinite(loss) else np.inf, False, 0,
                              [record(0, np.asarray(x)[None], [loss], loss, True)])
            here = np.asarray(x)[None]
            improved = elite.offer(here, np.array([loss]), np.array([False]))
            g = jnp.asarray(np.where(np.isfinite(grad), grad, 0.0), jnp.float32)
            x, state, reverted = update(g, state, x, jnp.float32(loss), jax.random.fold_in(key, step))
            x = jnp.clip(x, lo, hi)
            elite.history.append(record(step, here, [loss], elite.loss, improved,
                                        accepted=[not bool(reverted)], a=float(state["a"])))
            if elite.step_done(problem, step):
                break
        if elite is None:
            elite = Elite.start(problem)
        return elite.result()
