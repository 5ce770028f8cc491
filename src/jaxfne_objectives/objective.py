"""Objectives: losses, regularizers and gates over metrics; ``evaluate`` -> ObjectiveReport.

A loss or regularizer contributes ``weight * (value - target)^2``; the total is their sum.
A gate passes when its metric is below/above/equal (within tolerance)/in_range its threshold.
Gate outcomes are computational diagnostics, not validation. Terms whose ``units`` are ``uV``
require a pipeline that delivers physical amplitudes (checked at assembly).
"""
from __future__ import annotations

import math

import attrs
import jax.numpy as jnp
import numpy as np

from jaxfne_core.errors import ConfigError, UsageError

from .objective_config import ObjectiveConfig, TermConfig


class Objective:
    """Fluent, immutable objective builder: ``objective().loss(...).gate(...)``."""

    def __init__(self, name="objective", terms=()):
        self.config = ObjectiveConfig(name, tuple(terms))

    @classmethod
    def from_config(cls, cfg: ObjectiveConfig) -> "Objective":
        return cls(cfg.name, cfg.terms)

    @property
    def name(self):
        return self.config.name

    @property
    def terms(self):
        return self.config.terms

    @property
    def losses(self) -> list:
        """The loss terms as dicts (the reference's ``Objective.losses``)."""
        return [attrs.asdict(t) for t in self.terms if t.role == "loss"]

    @property
    def regularizers(self) -> list:
        return [attrs.asdict(t) for t in self.terms if t.role == "regularizer"]

    @property
    def gates(self) -> list:
        return [attrs.asdict(t) for t in self.terms if t.role == "gate"]

    def _with(self, term):
        if any(t.name == term.name for t in self.terms):
            raise ConfigError(f"objective term name {term.name!r} is used twice")
        return Objective(self.name, self.terms + (term,))

    def loss(self, name, target, weight=1.0, metric=None, *, units=None, time_window_ms=None, contacts=None,
             population=None):
        return self._with(TermConfig("loss", name, metric or name, float(target), float(weight),
                                     units=units, time_window_ms=_tup(time_window_ms), contacts=_tup(contacts),
                                     population=population))

    def regularizer(self, name, target, weight=1.0, metric=None, *, units=None, time_window_ms=None, contacts=None,
                    population=None):
        return self._with(TermConfig("regularizer", name, metric or name, float(target), float(weight),
                                     units=units, time_window_ms=_tup(time_window_ms), contacts=_tup(contacts),
                                     population=population))

    def gate(self, name, threshold, criterion="below", metric=None, *, tolerance=1e-6, units=None,
             time_window_ms=None, contacts=None, population=None):
        thr = tuple(float(t) for t in threshold) if isinstance(threshold, (tuple, list)) else float(threshold)
        return self._with(TermConfig("gate", name, metric or name, threshold=thr, criterion=criterion,
                                     tolerance=float(tolerance), units=units,
                                     time_window_ms=_tup(time_window_ms), contacts=_tup(contacts),
                                     population=population))

    # -- claims (declared by the configuration it wraps)
    def requires(self):
        return self.config.requires()

    @property
    def label(self):
        return self.config.label

    # -- computation (pure JAX; usable under jit/vmap)
    def values(self, signals, registry):
        return {t.name: registry.get("objective", t.metric).value(signals, t.time_window_ms, t.contacts, t.population)
                for t in self.terms}

    def gates_pass(self, signals, registry):
        """Traced boolean: every gate passes (True when there are no gates)."""
        vals = self.values(signals, registry)
        ok = jnp.asarray(True)
        for t in self.terms:
            if t.role == "gate":
                ok = ok & gate_passes_jnp(t, vals[t.name])
        return ok

    def total_loss(self, signals, registry):
        vals = self.values(signals, registry)
        total = jnp.asarray(0.0, jnp.float32)
        for t in self.terms:
            if t.role != "gate":
                total = total + t.weight * (vals[t.name] - t.target) ** 2
        return total


def _tup(x):
    return None if x is None else tuple(x)


def objective(name="objective") -> Objective:
    return Objective(name)


def as_objective(objective) -> Objective:
    """An :class:`Objective` from an Objective or an ObjectiveConfig (such as ``cfg.objective``)."""
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, ObjectiveConfig):
        return Objective.from_config(objective)
    raise UsageError(f"an objective is a jaxfne.objective()... or a config's objective section, "
                     f"got {type(objective).__name__}")


def gate_passes_jnp(term, value):
    thr = term.threshold
    if term.criterion == "below":
        ok = value < thr
    elif term.criterion == "above":
        ok = value > thr
    elif term.criterion == "equal":
        ok = jnp.abs(value - thr) <= term.tolerance
    else:
        ok = (value >= thr[0]) & (value <= thr[1])
    return ok & jnp.isfinite(value)


def gate_passes(term, value) -> bool:
    if not math.isfinite(value):
        return False
    thr = term.threshold
    if term.criterion == "below":
        return value < thr
    if term.criterion == "above":
        return value > thr
    if term.criterion == "equal":
        return abs(value - thr) <= term.tolerance
    lo, hi = thr
    return lo <= value <= hi


@attrs.frozen
class ObjectiveReport:
    """Structured, JSON-safe result of evaluating an objective (dict-style access supported)."""

    objective: str
    values: dict
    units: dict
    losses: dict
    regularizers: dict
    gates: dict
    total_loss: float
    all_gates_pass: bool
    truth: dict
    readouts: dict = attrs.Factory(dict)
    evaluation_status: str = "computed"      # or "non_finite": see ``problems``
    problems: tuple = ()                     # each non-finite term: name, metric, value, window

    def to_dict(self) -> dict:
        clean = lambda d: {k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in d.items()}
        return {"objective": self.objective, "evaluation_status": self.evaluation_status,
                "problems": list(self.problems),
                "values": clean(self.values), "units": dict(self.units), "losses": clean(self.losses),
                "regularizers": clean(self.regularizers), "gates": dict(self.gates),
                "total_loss": self.total_loss if math.isfinite(self.total_loss) else None,
                "all_gates_pass": self.all_gates_pass, "readouts": dict(self.readouts),
                **self.truth}

    def __getitem__(self, key):
        return self.to_dict()[key]


def evaluate(obj, signals, registry, truth: dict, readouts=None) -> ObjectiveReport:
    """``obj`` (an Objective or ObjectiveConfig) on ``signals`` -> :class:`ObjectiveReport`;
    ``truth``: the pipeline's claim labels; ``readouts``: a computed Readout to attach."""
    obj = as_objective(obj)
    vals = {k: float(np.asarray(v)) for k, v in obj.values(signals, registry).items()}
    units = {t.name: registry.get("objective", t.metric).value.result_units(signals) for t in obj.terms}
    losses, regs, gates = {}, {}, {}
    for t in obj.terms:
        if t.role == "gate":
            gates[t.name] = {"metric": t.metric, "value": vals[t.name] if math.isfinite(vals[t.name]) else None,
                             "criterion": t.criterion,
                             "threshold": list(t.threshold) if isinstance(t.threshold, tuple) else t.threshold,
                             "passed": gate_passes(t, vals[t.name])}
        else:
            (losses if t.role == "loss" else regs)[t.name] = t.weight * (vals[t.name] - t.target) ** 2
    total = float(sum(losses.values()) + sum(regs.values()))
    problems = tuple(f"objective term {t.name!r} ({t.role}, metric {t.metric!r}"
                     + (f", window {list(t.time_window_ms)} ms" if t.time_window_ms else "")
                     + (f", contacts {list(t.contacts)}" if t.contacts else "")
                     + (f", population {t.population}" if t.population else "")
                     + f") is {vals[t.name]!r}: the signal it reads holds NaN/inf or is empty there"
                     for t in obj.terms if not math.isfinite(vals[t.name]))
    return ObjectiveReport(obj.name, vals, units, losses, regs, gates, total,
                           all(g["passed"] for g in gates.values()), dict(truth),
                           readouts=(readouts.to_dict() if readouts is not None else {}),
                           evaluation_status="non_finite" if problems else "computed", problems=problems)
