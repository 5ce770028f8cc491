"""Run receipts: a deterministic id over (canonical configuration, seed, package version, and
the plugin, distribution and version of every stage used).

The id ignores the JAX version, devices, platform and XLA flags; they are recorded as information.
"""
from __future__ import annotations

import hashlib
import os
import platform
import sys

import attrs
import jax
import numpy as np

from .config import canonical_json
from .io import write_json_atomic
from .version import __version__


def receipt_id(config_dict: dict, seed: int, package_version: str = __version__, stages=()) -> str:
    payload = canonical_json({"config": config_dict, "seed": int(seed), "package_version": package_version,
                              "stages": list(stages)})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def environment_info() -> dict:
    return {"jax_version": jax.__version__, "python": sys.version.split()[0],
            "platform": platform.platform(), "devices": [str(d) for d in jax.devices()],
            "x64": bool(jax.config.jax_enable_x64), "xla_flags": os.environ.get("XLA_FLAGS", "")}


RUNAWAY_RATE_HZ = 500.0
"""Mean rate above which a run is reported as runaway: sustained cortical rates stay below
~100 Hz, and a refractory-limited population cannot exceed ~1 kHz."""


def run_warnings(signals) -> tuple:
    """Warnings about one run's outputs: a runaway mean rate over the recorded spikes."""
    if "spikes" not in signals.modes:
        return ()
    counts = np.asarray(signals["spikes"])            # (T, N) or (B, T, N) counts per sample
    n_samples, n_cells = counts.shape[-2], counts.shape[-1]
    n_trials = counts.size // max(1, n_samples * n_cells)
    duration_s = n_samples * signals.dt_ms / 1000.0
    rate = float(counts.sum(dtype=np.float64)) / max(1, n_cells * n_trials) / max(duration_s, 1e-12)
    if rate <= RUNAWAY_RATE_HZ:
        return ()
    return (f"runaway activity: mean rate {rate:.0f} Hz exceeds {RUNAWAY_RATE_HZ:.0f} Hz "
            "(physiological cortex stays below ~100 Hz); check drive, weights and noise",)


@attrs.frozen
class RunReceipt:
    """Immutable, JSON-safe record of one simulation run."""

    receipt_id: str
    package_version: str
    config: dict
    config_sha256: str
    seed: int
    simulation: dict
    signals_summary: dict
    signals_sha256: str
    claims: dict
    truth: dict
    field_diagnostics: dict
    environment: dict
    warnings: tuple = ()         # what the run found questionable (geometry, rates), each with its reason
    stages: tuple = ()           # plugin, distribution and version of every stage (in the id)

    def to_dict(self) -> dict:
        return attrs.asdict(self)


def make_receipt(config_dict, sim, signals, claims_json, truth, diagnostics, warnings=(), stages=()) -> RunReceipt:
    return RunReceipt(
        receipt_id=receipt_id(config_dict, sim.seed, __version__, stages),
        package_version=__version__,
        config=config_dict,
        config_sha256=hashlib.sha256(canonical_json(config_dict).encode()).hexdigest(),
        seed=int(sim.seed),
        simulation=attrs.asdict(sim),
        signals_summary=signals.summary(),
        signals_sha256=signals.digest(),
        claims=claims_json,
        truth=truth,
        field_diagnostics=diagnostics,
        environment=environment_info(),
        warnings=tuple(warnings),
        stages=tuple(stages),
    )


def save_receipt(receipt: RunReceipt, path, *, overwrite: bool = False):
    """Write atomically; an existing file is refused unless ``overwrite``."""
    return write_json_atomic(path, receipt.to_dict(), overwrite=overwrite)
