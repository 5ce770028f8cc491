"""Signals: what a probe recorded, with units and time axis; a JAX pytree.

Recorded arrays are (T, X) with T time steps of ``dt_ms`` (sample k is the state at the end of
step k, time ``(k + 1) * dt_ms`` ms) and X cells (spikes, V_m, sources) or contacts (LFP, CSD);
batched runs prepend batch axes. ``context`` holds static metadata (cells, contacts, claims,
field diagnostics) and is carried through jit/vmap unchanged.
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

import jax
import numpy as np

from .errors import MissingSignalError

CELL_MODES = ("spikes", "V_m", "sources")
CONTACT_MODES = ("LFP", "CSD")


class Signals:
    """Recorded arrays by mode (``spikes``, ``V_m``, ``LFP``, ``CSD``, ``sources``)."""

    def __init__(self, arrays: Mapping[str, Any], dt_ms: float, units: Mapping[str, str],
                 context: Any = None):
        self.arrays = dict(arrays)
        self.dt_ms = float(dt_ms)
        self.units = dict(units)
        self.context = context

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
        """(T,) sample times in ms."""
        return (np.arange(self.n_steps) + 1) * self.dt_ms

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
    return [s.arrays[k] for k in keys], (keys, s.dt_ms, tuple(sorted(s.units.items())), s.context)


def _unflatten(aux, leaves):
    keys, dt, units, context = aux
    return Signals(dict(zip(keys, leaves)), dt, dict(units), context)


jax.tree_util.register_pytree_node(Signals, _flatten, _unflatten)
