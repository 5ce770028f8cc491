"""The ``objective`` section of a configuration: named loss, regularizer and gate terms over
registered metrics. Registered as a configuration section by this package; the assembler
calls the section's ``requires()``, ``label``, ``problems(stages, registry)`` and ``uses()``."""
from __future__ import annotations

import math
from typing import Any, Optional

import attrs

from jaxfne_core.claims import Amplitude
from jaxfne_core.errors import UnknownStageError
from jaxfne_core.validators import FieldValueError, is_number, number, one_of


@attrs.frozen
class TermConfig:
    """One objective term. role: loss | regularizer | gate. For gates, ``criterion`` is one of
    below, above, equal, in_range and ``threshold`` is a number (a [lo, hi] pair for in_range).
    units: the target's units; ``uV`` requires the pipeline to deliver physical amplitudes.
    population: restrict a cell metric (spikes, V_m) to one population, layer or cell class
    (``L4_E``, ``L4``, ``E``)."""

    role: str = attrs.field(validator=one_of("loss", "regularizer", "gate"))
    name: str
    metric: str
    target: Optional[float] = None
    weight: float = attrs.field(default=1.0, validator=number(0))
    threshold: Optional[Any] = attrs.field(default=None, converter=lambda t: tuple(t) if isinstance(t, list) else t)
    criterion: Optional[str] = attrs.field(
        default=None, validator=attrs.validators.optional(one_of("below", "above", "equal", "in_range")))
    tolerance: float = attrs.field(default=1e-6, validator=number(0))
    units: Optional[str] = None
    time_window_ms: Optional[tuple[float, float]] = None
    contacts: Optional[tuple[int, int]] = None
    population: Optional[str] = None

    def __attrs_post_init__(self):
        if self.role == "gate":
            if self.criterion is None or self.threshold is None:
                raise FieldValueError("threshold", f"gate {self.name!r} needs 'criterion' and 'threshold'")
            pair = self.criterion == "in_range"
            values = self.threshold if isinstance(self.threshold, (tuple, list)) else (self.threshold,)
            if (pair != isinstance(self.threshold, (tuple, list)) or len(values) != (2 if pair else 1)
                    or not all(is_number(v) and math.isfinite(v) for v in values)):
                raise FieldValueError("threshold", f"gate {self.name!r}: threshold {self.threshold!r} must be "
                                      + ("a [lo, hi] pair of finite numbers" if pair else "a finite number")
                                      + f" for criterion {self.criterion!r}")
            if pair and not values[0] <= values[1]:
                raise FieldValueError("threshold", f"gate {self.name!r}: threshold {list(values)!r} has lo > hi; "
                                      "allowed: [lo, hi] with lo <= hi")
        elif not is_number(self.target) or not math.isfinite(self.target):
            raise FieldValueError("target", f"{self.role} {self.name!r} needs a finite number 'target', "
                                  f"got {self.target!r}")
        if self.time_window_ms is not None:
            w = tuple(self.time_window_ms)
            if len(w) != 2 or not all(is_number(v) and math.isfinite(v) for v in w) or not 0 <= w[0] < w[1]:
                raise FieldValueError("time_window_ms", f"{self.name!r}: time_window_ms {list(w)!r}; allowed: "
                                      "[start_ms, end_ms] with 0 <= start_ms < end_ms")
        if self.contacts is not None:
            c = tuple(self.contacts)
            if (len(c) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in c)
                    or not 0 <= c[0] < c[1]):
                raise FieldValueError("contacts", f"{self.name!r}: contacts {list(c)!r}; allowed: [first, stop) "
                                      "integer contact indices with 0 <= first < stop")


@attrs.frozen
class ObjectiveConfig:
    """An objective: named losses, regularizers and gates over registered metrics.

    name: the objective's name in reports. terms: the list of :class:`TermConfig`, in order.
    Its claim: a term in ``uV`` needs a pipeline that delivers physical amplitudes (checked at
    assembly)."""

    name: str = "objective"
    terms: tuple[TermConfig, ...] = ()

    def requires(self) -> dict:
        if any(t.units == "uV" for t in self.terms):
            return {"amplitude": (Amplitude.MICROVOLT,)}
        return {}

    @property
    def label(self) -> str:
        return f"objective {self.name!r}"

    def problems(self, stages: dict, registry) -> list:
        """What the assembled ``stages`` cannot deliver: a term whose metric is not registered,
        or needs a probe mode the probe does not record."""
        out, probe = [], stages["probe"]
        for t in self.terms:
            try:
                metric = registry.get("objective", t.metric).value
            except UnknownStageError as e:
                out.append(f"{self.label} term {t.name!r}: {e}")
                continue
            if metric.mode not in probe.modes:
                out.append(f"{self.label} term {t.name!r} (metric {t.metric!r}) needs probe mode "
                           f"{metric.mode!r}, which {probe.label} does not record (modes: {list(probe.modes)})")
        return out

    def uses(self) -> list:
        """The registered metrics the terms use, (kind, name) once each: they enter the receipt."""
        return sorted({("objective", t.metric) for t in self.terms})
