"""Helpers shared by the format converters: optional imports and rebuilding a Signals context."""
from __future__ import annotations

import importlib

import numpy as np

from jaxfne_core.errors import MissingExtraError


def require(module: str, extra: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"this needs {module}: pip install jaxfne[{extra}]") from None


def receipt_dict(receipt):
    """A RunReceipt or its JSON dict (e.g. read from receipt.json) as a dict; None stays None."""
    if receipt is None or isinstance(receipt, dict):
        return receipt
    return receipt.to_dict()


def rebuild_context(population_names, population, cell_positions_um, contact_positions_um, claims,
                    source_positions_um, source_cell, dt_ms, n_steps, v_m_cells=None, t0_ms=0.0):
    """A RunContext for Signals read back from a file (the simulation is reconstructed from the
    recorded time axis)."""
    from jaxfne_core.config import Simulation
    from jaxfne_core.model import ModelContext, RunContext
    ctx = ModelContext(tuple(population_names), np.asarray(population), np.asarray(cell_positions_um),
                       np.asarray(contact_positions_um), dict(claims),
                       None if source_positions_um is None else np.asarray(source_positions_um),
                       None if source_cell is None else np.asarray(source_cell),
                       None if v_m_cells is None else np.asarray(v_m_cells, np.int64))
    t0_ms = round(float(t0_ms), 9)
    return RunContext(ctx, Simulation(duration_ms=t0_ms + n_steps * dt_ms, dt_ms=dt_ms, warmup_ms=t0_ms))
