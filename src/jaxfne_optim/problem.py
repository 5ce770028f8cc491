"""The optimizer contract: what an optimizer plugin minimises and what it returns (the
optimizer kind and its base class are in :mod:`jaxfne_optim.hookspecs`).

Optimizers see a :class:`TuneProblem` in a normalised search box [0, 1]^d and return an
:class:`OptimResult`; ``record`` builds one history entry. How a model becomes a problem
(bounds, transforms, batched evaluation) is ``jaxfne_optim.tuning``.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import attrs
import numpy as np


@attrs.frozen(eq=False)
class TuneProblem:
    """What an optimizer minimises.

    evaluate(X (P, d)) -> (losses (P,), gates_pass (P,)) as NumPy; non-finite losses are inf.
    value_and_grad(x (d,)) -> (loss, grad (d,)) or None when the model has no gradient path.
    differentiability: ``none`` or ``surrogate`` (what the model offers).
    has_gates: stop once the best candidate passes every gate.
    on_step(step, best_loss): progress callback.
    max_evaluations: stop once this many losses were computed (None: ``steps`` alone bounds
    the run); population optimizers shorten their last generation to fit it exactly.
    names: the parameters' names (for error messages).
    """

    evaluate: Callable
    x0: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    value_and_grad: Optional[Callable] = None
    differentiability: str = "none"
    has_gates: bool = False
    on_step: Optional[Callable] = None
    max_evaluations: Optional[int] = None
    names: tuple = ()

    @property
    def dim(self) -> int:
        return int(self.x0.size)


@attrs.frozen(eq=False)
class OptimResult:
    """best_x in the problem's coordinates; history: one JSON-able dict per step."""

    best_x: np.ndarray
    best_loss: float
    history: list
    n_evaluations: int
    stopped_early: bool = False


def record(step, candidates, losses, best_loss, improved, accepted=None, **extra) -> dict:
    """One history entry (lists of floats, inf kept as inf until the report cleans it)."""
    out = {"step": int(step), "candidates": np.asarray(candidates, np.float64).tolist(),
           "losses": np.asarray(losses, np.float64).tolist(), "best_loss": float(best_loss),
           "improved": bool(improved)}
    if accepted is not None:
        out["accepted"] = np.asarray(accepted, bool).tolist()
    out.update(extra)
    return out


def json_safe(v):
    """``v`` with non-finite floats as None, tuples as lists (nested dicts and lists)."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    return v
