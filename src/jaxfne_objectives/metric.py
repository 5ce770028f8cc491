"""The metric contract: a named scalar feature of Signals, registered by plugins through
``jaxfne_register_objectives`` (the ``objective`` kind this package declares), and the public
helpers that select its window, contacts and population. The built-in metrics are in
:mod:`jaxfne_objectives.metrics`."""
from __future__ import annotations

from typing import Callable, Optional

import attrs
import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.signals import CONTACT_MODES
from jaxfne_core.stages import population_labels


@attrs.frozen
class Metric:
    """A scalar feature of one recorded signal.

    fn(x, dt_ms) -> scalar, where x is the signal sliced to the window: (..., T, X).
    units: units of the result; ``"signal"`` means the units of the signal it reads.
    """

    name: str
    mode: str
    units: str
    fn: Callable = attrs.field(eq=False)
    summary: str = ""
    traceable: bool = True        # pure JAX: usable inside jit/vmap/grad (tuning)
    needs_context: bool = False   # fn(x, dt_ms, context) with the model's static context

    def __call__(self, signals, time_window_ms: Optional[tuple] = None, contacts: Optional[tuple] = None,
                 population: Optional[str] = None):
        x = signals[self.mode]
        x = slice_signal(x, signals.dt_ms, self.mode, time_window_ms, contacts, getattr(signals, "t0_ms", 0.0))
        if population is not None:
            x = x[..., population_columns(signals, self.mode, population)]
        if self.needs_context:
            return self.fn(x, signals.dt_ms, signals.context)
        return self.fn(x, signals.dt_ms)

    def result_units(self, signals) -> str:
        return signals.units.get(self.mode, "") if self.units == "signal" else self.units


def window_indices(n_steps: int, dt_ms: float, window, t0_ms: float = 0.0) -> tuple[int, int]:
    """[start, end) ms from the run start -> sample indices; sample k sits at t0 + (k + 1) dt
    (t0: the unrecorded warmup)."""
    if window is None:
        return 0, n_steps
    start, end = (float(w) for w in window)
    stop = t0_ms + n_steps * dt_ms
    if not (t0_ms - 1e-9 <= start < end <= stop + 1e-9):
        raise ConfigError([("time_window_ms", f"{[start, end]!r} is outside the recorded run; allowed: "
                            f"{t0_ms} <= start < end <= {stop} ms")])
    return int(round((start - t0_ms) / dt_ms)), int(round((end - t0_ms) / dt_ms))


def slice_signal(x, dt_ms, mode, window, contacts, t0_ms: float = 0.0):
    t0, t1 = window_indices(x.shape[-2], dt_ms, window, t0_ms)
    x = x[..., t0:t1, :]
    if contacts is not None:
        if mode not in CONTACT_MODES:
            raise ConfigError([("contacts", f"a contact slice applies to {CONTACT_MODES}, "
                                f"not to {mode!r}")])
        c0, c1 = (int(c) for c in contacts)
        if not (0 <= c0 < c1 <= x.shape[-1]):
            raise ConfigError([("contacts", f"{[c0, c1]!r} outside 0..{x.shape[-1]}; allowed: "
                                f"0 <= start < end <= {x.shape[-1]}")])
        x = x[..., c0:c1]
    return x


def population_columns(signals, mode: str, population: str) -> np.ndarray:
    """Columns of a cell signal (spikes, V_m) that belong to ``population`` (a population name,
    a layer or a cell class: ``L4_E``, ``L4``, ``E``); refuses other modes and unknown names."""
    if mode not in ("spikes", "V_m"):
        raise ConfigError([("population", f"a population selects cells of 'spikes' or 'V_m', not {mode!r}")])
    model = getattr(signals.context, "model", None)
    if model is None:
        raise ConfigError([("population", "these signals carry no model context (cells unknown)")])
    names = model.population_names
    hit = [i for i, n in enumerate(names) if population in population_labels(n)]
    if not hit:
        allowed = sorted(set().union(*(population_labels(n) for n in names)))
        raise ConfigError([("population", f"{population!r} matches no population; allowed: {', '.join(allowed)}")])
    cells = np.asarray(model.population)
    if mode == "V_m" and model.v_m_cells is not None:
        cells = cells[np.asarray(model.v_m_cells)]
    cols = np.nonzero(np.isin(cells, hit))[0]
    if cols.size == 0:
        raise ConfigError([("population", f"{population!r}: none of its cells is recorded in {mode!r}")])
    return cols
