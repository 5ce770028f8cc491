"""Memory estimate before allocation: refuse a run whose recorded signals would not fit."""
from __future__ import annotations

import os

from .errors import InsufficientMemoryError

__all__ = ["FRACTION", "InsufficientMemoryError", "available_bytes", "check_fits", "run_bytes"]


FRACTION = 0.8   # of the available memory a run may take


def available_bytes():
    """Physical memory available now (Linux), or None where it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def run_bytes(model, n_samples: int, batch: int = 1) -> int:
    """Bytes of the recorded signals of ``batch`` runs of ``n_samples`` samples, plus the
    parameters (connectivity, field operator) once."""
    n, c = model.n_cells, model.contact_positions_um.shape[0]
    s = model.source_positions_um.shape[0]
    v_m = model.v_m_cells
    per_sample = {"spikes": n * 4, "V_m": (n if v_m is None else v_m.size) * 4, "sources": s * 4, "LFP": c * 4,
                  "CSD": c * 4, "weights": 4 * (0 if model.weight_synapses is None else model.weight_synapses.size),
                  "dipole": 12 * (len(model.circuit.population_names) + 1)}
    recorded = sum(per_sample[m] for m in model.pipeline.probe.modes) * n_samples * batch
    params = model.parameter_bytes
    return int(recorded + params)


RECORDING_ADVICE = ("record fewer modes, set probe.sample_interval_ms, shorten the run, or run trials in "
                    "smaller chunks (task.chunk_size)")


def check_fits(needed: int, what: str, advice: str = RECORDING_ADVICE) -> None:
    """Refuse, before allocating, ``needed`` bytes for ``what`` where they would not fit."""
    avail = available_bytes()
    if avail is not None and needed > FRACTION * avail:
        raise InsufficientMemoryError(
            f"{what} needs {needed / 2**30:.2f} GiB, but {avail / 2**30:.2f} GiB is available "
            f"(a run may take {FRACTION:.0%}); {advice}")
