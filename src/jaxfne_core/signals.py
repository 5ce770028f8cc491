"""Signals: what a probe recorded, with units and time axis; a JAX pytree.

Recorded arrays are (T, X): T rows of ``dt_ms`` each and X cells (spikes, V_m, sources), synapses (weights) or
contacts (LFP, CSD); ``dipole`` is (T, P + 1, 3): the current dipole moment sum_s i_s r_s of each
population's sources and of all (last), components x, y and depth (um; a dipole pointing to
the pia has a negative depth component); batched runs prepend batch axes. **Row time:** row k covers the interval
(k dt_ms, (k + 1) dt_ms] of simulated time and is stamped at its end, ``(k + 1) * dt_ms`` ms
(``time_ms``). Without ``probe.sample_interval_ms`` a row is one step, the state after that
step; with it, ``dt_ms`` is the interval and a row holds the spike count and the mean of every
continuous signal over the steps of the interval (``Signals.metadata`` says so).
``context`` holds static metadata (cells, contacts, claims, field diagnostics) and is carried
through jit/vmap unchanged.
"""
from __future__ import annotations

import enum
import hashlib
from typing import Any, Mapping

import jax
import numpy as np

from .errors import MissingSignalError

class Mode(str, enum.Enum):
    """The recording modes (the one definition; compare equal to their strings)."""

    SPIKES = "spikes"        # per cell, count per row
    V_M = "V_m"              # per cell, mV
    LFP = "LFP"              # per contact
    CSD = "CSD"              # per contact
    SOURCES = "sources"      # per source point, transmembrane current
    WEIGHTS = "weights"      # per recorded plastic synapse, |weight| (native weight units)
    DIPOLE = "dipole"        # per population + total, x/y/depth: current dipole moment (source units x um)


MODES = tuple(m.value for m in Mode)
CELL_MODES = (Mode.SPIKES.value, Mode.V_M.value, Mode.SOURCES.value)
CONTACT_MODES = (Mode.LFP.value, Mode.CSD.value)
ROW_TIME = "end: row k covers (k dt_ms, (k + 1) dt_ms] and is stamped (k + 1) * dt_ms"


class Signals:
    """Recorded arrays by mode (``spikes``, ``V_m``, ``LFP``, ``CSD``, ``sources``, ``weights``)."""

    def __init__(self, arrays: Mapping[str, Any], dt_ms: float, units: Mapping[str, str],
                 context: Any = None, t0_ms: float = 0.0):
        self.arrays = dict(arrays)
        self.dt_ms = float(dt_ms)
        self.units = dict(units)
        self.context = context
        self.t0_ms = float(t0_ms)          # where the recording starts (a run's warmup_ms)

    # -- access
    def __getitem__(self, mode):
        try:
            return self.arrays[mode]
        except KeyError:
            raise MissingSignalError(
                f"signal {mode!r} was not recorded; recorded: {sorted(self.arrays)}; "
                f"add {mode!r} to the probe's modes") from None

    def __contains__(self, mode):
        return mode in self.arrays

    def __getattr__(self, name):
        arrays = self.__dict__.get("arrays", {})
        if name in arrays:
            return arrays[name]
        raise AttributeError(name)

    @property
    def modes(self) -> tuple:
        return tuple(sorted(self.arrays))

    @property
    def n_steps(self) -> int:
        return int(next(iter(self.arrays.values())).shape[-2])

    @property
    def duration_ms(self) -> float:
        return self.n_steps * self.dt_ms

    @property
    def time_ms(self) -> np.ndarray:
        """(T,) row times in ms: the end of each row's interval, t0_ms + (k + 1) * dt_ms."""
        return self.t0_ms + (np.arange(self.n_steps) + 1) * self.dt_ms

    @property
    def metadata(self) -> dict:
        """How to read the rows: their time stamp and how each mode reduces an interval."""
        return {"row_time": ROW_TIME, "dt_ms": self.dt_ms, "t0_ms": self.t0_ms,
                "reduction": {m: ("count" if m == Mode.SPIKES else "mean") for m in self.arrays}}

    # -- reporting
    def to_numpy(self) -> dict:
        return {k: np.asarray(v) for k, v in self.arrays.items()}

    def digest(self) -> str:
        """SHA-256 over every recorded array's dtype, shape and bytes (bit-identity check)."""
        h = hashlib.sha256()
        for k in sorted(self.arrays):
            a = np.ascontiguousarray(np.asarray(self.arrays[k]))
            h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
            h.update(a.tobytes())
        return h.hexdigest()

    def summary(self) -> dict:
        """JSON-safe shapes, units and simple statistics of every signal."""
        out = {"dt_ms": self.dt_ms, "n_steps": self.n_steps, "duration_ms": self.duration_ms,
               "signals": {}}
        for k in sorted(self.arrays):
            a = np.asarray(self.arrays[k])
            entry = {"shape": list(a.shape), "dtype": a.dtype.name, "units": self.units.get(k, "")}
            if a.dtype == bool or k == "spikes":
                entry["total"] = int(a.sum())
                if k == "spikes":
                    n_cells = a.shape[-1] * int(np.prod(a.shape[:-2]))
                    entry["mean_rate_hz"] = float(a.sum() / max(n_cells, 1) / (self.duration_ms / 1000.0))
            else:
                af = a.astype(np.float64)
                entry.update(mean=float(af.mean()), abs_mean=float(np.abs(af).mean()),
                             min=float(af.min()), max=float(af.max()))
            out["signals"][k] = entry
        return out

    def __repr__(self):
        shapes = ", ".join(f"{k}{tuple(np.shape(v))}" for k, v in sorted(self.arrays.items()))
        return f"Signals(dt_ms={self.dt_ms}, {shapes})"


def _flatten(s: Signals):
    keys = tuple(sorted(s.arrays))
    return [s.arrays[k] for k in keys], (keys, s.dt_ms, tuple(sorted(s.units.items())), s.context, s.t0_ms)


def _unflatten(aux, leaves):
    keys, dt, units, context, t0_ms = aux
    return Signals(dict(zip(keys, leaves)), dt, dict(units), context, t0_ms)


jax.tree_util.register_pytree_node(Signals, _flatten, _unflatten)
