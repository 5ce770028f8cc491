"""Tuning: named bounded scalars of an assembled model, searched by a registered optimizer.

Candidates of a step are evaluated together: one jitted ``vmap`` over candidates of the whole
simulate-and-score function, with common random numbers (every candidate sees the same noise,
the tuning seed), so differences between candidates come from their parameters.
"""
from __future__ import annotations

import math
from typing import Optional

import attrs
import numpy as np


@attrs.frozen(eq=False)
class OptimResult:
    best_x: np.ndarray
    best_loss: float
    history: list
    n_evaluations: int


def _finite_or_none(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


@attrs.frozen(eq=False)
class TuneReport:
    """What a tuning run did: parameters searched, start and best values, the full history."""

    optimizer: str
    options: dict
    steps: int
    seed: int
    parameters: tuple
    lower: tuple
    upper: tuple
    initial: dict
    best: dict
    initial_loss: float
    best_loss: float
    n_evaluations: int
    history: list
    truth: dict

    @property
    def improved(self) -> bool:
        return self.best_loss < self.initial_loss

    def to_dict(self) -> dict:
        hist = [{k: ([_finite_or_none(float(x)) for x in v] if isinstance(v, list) else _finite_or_none(v))
                 for k, v in h.items()} for h in self.history]
        return {"tuning_status": "tuned", "optimizer": self.optimizer, "options": self.options,
                "steps": self.steps, "seed": self.seed,
                "parameters": list(self.parameters), "lower": list(self.lower), "upper": list(self.upper),
                "initial": self.initial, "best": self.best,
                "initial_loss": _finite_or_none(self.initial_loss), "best_loss": _finite_or_none(self.best_loss),
                "improved": self.improved, "same_model_unchanged": True,
                "n_evaluations": self.n_evaluations, "history": hist, **self.truth}

    def __getitem__(self, key):
        return self.to_dict()[key]


def select_tunables(available: dict, names: Optional[list], bounds: Optional[dict]):
    """-> (names, x0, lower, upper) after checking names and bounds."""
    from .errors import ConfigError
    names = list(available) if names is None else list(names)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ConfigError([("tunables", f"unknown tunable(s) {unknown!r}; allowed: {sorted(available)}")])
    bounds = dict(bounds or {})
    extra = [n for n in bounds if n not in names]
    if extra:
        raise ConfigError([("bounds", f"bounds given for {extra!r}, which are not tuned; tuned: {names}")])
    x0, lo, hi = [], [], []
    for n in names:
        d, l, h = available[n]
        l, h = bounds.get(n, (l, h))
        if not (l < h):
            raise ConfigError([(f"bounds.{n}", f"({l}, {h}) is empty; allowed: lower < upper")])
        x0.append(min(max(d, l), h))
        lo.append(l)
        hi.append(h)
    return names, np.array(x0, np.float32), np.array(lo, np.float32), np.array(hi, np.float32)
