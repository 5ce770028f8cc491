"""The reference's trial batch (v0.0.14): conditions x replicates, each with its seed.

``model.run_trials(batch, sim)`` runs every trial of the batch in one ``vmap`` (not the
reference's sequential loop): trial k gets ``sim`` with its own seed and its condition's
events as a stimulus schedule (see :mod:`jaxfne.stimulus`). A trial whose run diverges fails
with its message (``collect_errors=True``) or raises.
"""
from __future__ import annotations

from typing import Optional

import attrs

from jaxfne_core.errors import ConfigError

SEED_POLICIES = ("paired_by_replicate", "unique_per_trial")


@attrs.frozen
class TrialSpec:
    trial_id: str
    condition: object = None          # a paradigm condition (jaxfne_tasks.paradigm.Condition) or None
    seed: int = 0
    metadata: dict = attrs.Factory(dict)

    def to_dict(self) -> dict:
        return {"trial_id": self.trial_id, "condition": getattr(self.condition, "name", None),
                "seed": self.seed, "metadata": dict(self.metadata)}


@attrs.frozen
class TrialBatch:
    """trials in order; prestim_ms: simulation time of the alignment event (onset 0)."""

    trials: tuple
    batch_id: str = "anonymous_batch"
    metadata: dict = attrs.Factory(dict)
    prestim_ms: float = 0.0
    drive_amplitude: float = 5.0

    def to_dict(self) -> dict:
        return {"batch_id": self.batch_id, "n_trials": len(self.trials), "prestim_ms": self.prestim_ms,
                "drive_amplitude": self.drive_amplitude, "trials": [t.to_dict() for t in self.trials],
                "metadata": dict(self.metadata)}


@attrs.frozen(eq=False)
class TrialResult:
    trial_id: str
    condition_label: Optional[str] = None
    signals: object = None
    success: bool = True
    error_message: Optional[str] = None
    metadata: dict = attrs.Factory(dict)

    def to_dict(self) -> dict:
        """JSON-safe, without the arrays (a summary of the signals instead)."""
        return {"trial_id": self.trial_id, "condition_label": self.condition_label, "success": self.success,
                "error_message": self.error_message,
                "signals": None if self.signals is None else self.signals.summary(), "metadata": dict(self.metadata)}


@attrs.frozen(eq=False)
class TrialBatchResult:
    batch_id: str
    results: tuple
    metadata: dict = attrs.Factory(dict)

    def to_dict(self) -> dict:
        return {"batch_id": self.batch_id, "n_results": len(self.results),
                "n_success": sum(r.success for r in self.results),
                "results": [r.to_dict() for r in self.results], "metadata": dict(self.metadata)}


def trial_batch(conditions, n_reps: int = 1, seed: int = 0, seed_policy: str = "paired_by_replicate",
                batch_id: Optional[str] = None, metadata: Optional[dict] = None, *, prestim_ms: float = 0.0,
                drive_amplitude: float = 5.0) -> TrialBatch:
    """Replicates x conditions in that order, ids ``trial_{index:04d}_{condition}``; seeds
    ``seed + replicate`` (paired_by_replicate: the conditions of a replicate share noise) or
    ``seed + index`` (unique_per_trial)."""
    if seed_policy not in SEED_POLICIES:
        raise ConfigError([("seed_policy", f"{seed_policy!r} is not allowed; allowed: {', '.join(SEED_POLICIES)}")])
    if not isinstance(n_reps, int) or n_reps < 1:
        raise ConfigError([("n_reps", f"{n_reps!r} is not allowed; allowed: an integer >= 1")])
    conditions = list(conditions)
    trials = []
    for r in range(n_reps):
        for cond in conditions:
            i = len(trials)
            trials.append(TrialSpec(f"trial_{i:04d}_{cond.name}", cond,
                                    seed + (i if seed_policy == "unique_per_trial" else r), {"rep": r}))
    return TrialBatch(tuple(trials), batch_id or f"batch_{seed}", dict(metadata or {}), float(prestim_ms),
                      float(drive_amplitude))


def run_trials(model, batch: TrialBatch, sim, *, collect_errors: bool = False) -> TrialBatchResult:
    """``model.run_trials(batch, sim, collect_errors=...)``."""
    return model.run_trials(batch, sim, collect_errors=collect_errors)
