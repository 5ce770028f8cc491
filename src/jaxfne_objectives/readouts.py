"""Declarative readouts: named scalar features of Signals (``ReadoutSpec`` -> ``ReadoutResult``)."""
from __future__ import annotations

import math
from typing import Optional

import attrs
import numpy as np
from jaxfne_core.errors import UsageError


@attrs.frozen
class ReadoutSpec:
    """name: label of the result. metric: a registered metric (``jaxfne plugins``).
    time_window_ms: [start, end) in ms from the run start. contacts: [start, end) contact slice
    (LFP/CSD metrics only). population: the cells of one population, layer or class (spikes
    and V_m metrics only; e.g. ``L4_E``, ``L4``, ``E``)."""

    name: str
    metric: str
    time_window_ms: Optional[tuple[float, float]] = attrs.field(default=None, converter=attrs.converters.optional(tuple))
    contacts: Optional[tuple[int, int]] = attrs.field(default=None, converter=attrs.converters.optional(tuple))
    population: Optional[str] = None


def readout_spec(name, metric, time_window_ms=None, contacts=None, n_contacts_slice=None, *,
                 population=None) -> ReadoutSpec:
    """Factory with the reference's spelling (``n_contacts_slice`` is an alias of ``contacts``)."""
    if contacts is not None and n_contacts_slice is not None:
        raise UsageError("give 'contacts' or its alias 'n_contacts_slice', not both")
    return ReadoutSpec(name, metric, time_window_ms, contacts if contacts is not None else n_contacts_slice,
                       population)


@attrs.frozen
class ReadoutResult:
    name: str
    metric: str
    value: object  # float, or a (nested) list of floats for batched signals
    units: str
    time_window_ms: Optional[tuple] = None
    contacts: Optional[tuple] = None

    def to_dict(self):
        return {"name": self.name, "metric": self.metric,
                "value": _finite(self.value),
                "units": self.units,
                "time_window_ms": list(self.time_window_ms) if self.time_window_ms else None,
                "contacts": list(self.contacts) if self.contacts else None}


def _finite(v):
    if isinstance(v, list):
        return [_finite(x) for x in v]
    return v if math.isfinite(v) else None


class Readout(dict):
    """name -> ReadoutResult, in the order requested; ``as_values()`` gives name -> float."""

    def as_values(self) -> dict:
        return {k: r.value for k, r in self.items()}

    def to_dict(self):
        return {k: r.to_dict() for k, r in self.items()}


def compute_readout(signals, specs, registry) -> Readout:
    """Evaluate each spec on ``signals`` (unknown metric -> error listing the registered ones)."""
    out = Readout()
    for spec in specs:
        if isinstance(spec, (tuple, list)):
            spec = readout_spec(*spec)
        metric = registry.get("objective", spec.metric).value
        raw = np.asarray(metric(signals, spec.time_window_ms, spec.contacts, spec.population), np.float64)
        value = float(raw) if raw.ndim == 0 else raw.tolist()   # batched signals: one per trial
        out[spec.name] = ReadoutResult(spec.name, spec.metric, value, metric.result_units(signals),
                                       spec.time_window_ms, spec.contacts)
    return out


