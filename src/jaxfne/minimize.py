"""``jaxfne.minimize``: any registered optimizer on a plain function within bounds.

    res = jaxfne.minimize(lambda x: ((x - 0.3) ** 2).sum(), [(-2, 2)] * 5, optimizer="cmaes",
                          max_evaluations=2000)
    res.x, res.fun, res.n_evaluations

The search runs in the normalised box [0, 1]^d (as ``Model.tune`` does) and every candidate is
mapped back to ``fn``'s own coordinates. A JAX-traceable ``fn`` is evaluated as one jitted
``vmap`` per generation and differentiated with ``jax.value_and_grad`` for the gradient
optimizers (``gsdr``, ``optax``); any other callable is called once per candidate, and the
gradient optimizers then refuse it (it has no gradient).
"""
from __future__ import annotations

from typing import Callable, Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.config import structure_options
from jaxfne_core.errors import ConfigError
from jaxfne_core.plugins import default_registry
from jaxfne_optim.problem import TuneProblem
from jaxfne_optim.tuning import OptimizerSpec, resolve_spelling


@attrs.frozen(eq=False)
class Minimum:
    """x: the best point (d,) in ``fn``'s coordinates; fun: its value; n_evaluations: calls
    of ``fn`` (gradient evaluations included); history: one dict per step (box coordinates);
    names: the parameters' names (from a dict of bounds) or x[0], x[1], ..."""

    x: np.ndarray
    fun: float
    n_evaluations: int
    history: list
    optimizer: str
    names: tuple


def _bounds(bounds):
    if isinstance(bounds, dict):
        names, pairs = tuple(bounds), list(bounds.values())
    else:
        pairs = list(bounds)
        names = tuple(f"x[{i}]" for i in range(len(pairs)))
    try:
        lo, hi = (np.array(v, np.float64) for v in zip(*pairs))
    except (TypeError, ValueError):
        raise ConfigError([("bounds", f"{bounds!r} is not allowed; allowed: a list of (lower, upper) pairs "
                            "or a dict name -> (lower, upper)")]) from None
    bad = [names[i] for i in np.nonzero(~(np.isfinite(lo) & np.isfinite(hi) & (lo < hi)))[0]]
    if bad or not names:
        raise ConfigError([("bounds", f"{bad or 'none given'}: allowed: finite lower < upper for each parameter")])
    return names, lo, hi


def _batched(fn, d):
    """(evaluate(X (P, d)) -> (P,), value_and_grad or None) of ``fn``."""
    try:
        vmapped = jax.jit(jax.vmap(fn))
        vmapped(jnp.zeros((1, d), jnp.float32)).block_until_ready()
        vg = jax.jit(jax.value_and_grad(lambda x: jnp.asarray(fn(x), jnp.float32)))
    except Exception:            # not traceable by JAX: call it per candidate
        return lambda xs: np.array([float(fn(np.asarray(x, np.float64))) for x in xs]), None

    def value_and_grad(x):
        v, g = vg(jnp.asarray(x, jnp.float32))
        return float(v), np.asarray(g, np.float64)
    return lambda xs: np.asarray(vmapped(jnp.asarray(xs, jnp.float32)), np.float64), value_and_grad


def minimize(fn: Callable, bounds, optimizer="cmaes", *, x0=None, max_evaluations: int = 1000,
             options: Optional[dict] = None, seed: int = 0, registry=None) -> Minimum:
    """Minimise ``fn(x (d,)) -> float`` within ``bounds`` with a registered optimizer.

    bounds: [(lower, upper), ...] or {name: (lower, upper)}. optimizer: a registered name or an
    OptimizerSpec (``jaxfne.gsdr(...)``). x0: the start (default: the centre of the bounds).
    max_evaluations: exactly this many calls of ``fn`` at most, for every optimizer.
    """
    registry = registry if registry is not None else default_registry()
    if isinstance(optimizer, OptimizerSpec):
        if options:
            raise ConfigError([("options", "give options inside the OptimizerSpec or as options=, not both")])
        optimizer, options = optimizer.name, optimizer.options
    optimizer = resolve_spelling(optimizer, registry.names("optimizer"))
    cls = registry.get("optimizer", optimizer).value
    opt = cls(structure_options(cls.Options, dict(options or {}), "options", registry))
    if getattr(opt.options, "gradient_window_steps", None) is not None:
        raise ConfigError([("options.gradient_window_steps", "truncates backpropagation through a simulation "
                            "(model.tune); a plain function has no steps to truncate")])
    if not isinstance(max_evaluations, int) or isinstance(max_evaluations, bool) or max_evaluations < 1:
        raise ConfigError([("max_evaluations", f"{max_evaluations!r} is not allowed; allowed: an integer >= 1")])
    names, lo, hi = _bounds(bounds)
    span = hi - lo
    start = (lo + hi) / 2 if x0 is None else np.asarray(x0, np.float64)
    if start.shape != lo.shape or np.any(start < lo) or np.any(start > hi):
        raise ConfigError([("x0", f"{x0!r} is not allowed; allowed: {lo.size} values within the bounds")])
    evaluate_x, vg_x = _batched(fn, lo.size)

    def evaluate(zs):
        losses = evaluate_x(lo + span * np.asarray(zs, np.float64))
        return np.where(np.isfinite(losses), losses, np.inf), np.zeros(len(losses), bool)

    value_and_grad = None
    if vg_x is not None:
        def value_and_grad(z):
            v, g = vg_x(lo + span * np.asarray(z, np.float64))
            return v, g * span                           # chain rule into box coordinates
    problem = TuneProblem(evaluate, ((start - lo) / span).astype(np.float32), np.zeros(lo.size, np.float32),
                          np.ones(lo.size, np.float32), value_and_grad,
                          "exact" if value_and_grad is not None else "none",
                          max_evaluations=max_evaluations, names=names)
    res = opt.minimize(problem, max_evaluations, jax.random.key(seed))
    best = lo + span * np.asarray(res.best_x, np.float64)
    return Minimum(best, float(res.best_loss), int(res.n_evaluations), res.history, optimizer, names)
