"""Stimulus drives: (K, N) spatial targets and (T, K) time courses per condition.

The input current of cell n at step t is sum_k inputs[t, k] * W[k, n] (native units): W marks
the cells a drive targets (by population, layer or cell type), inputs holds each drive's time
course for one condition's events. Omitted events inject nothing; fixation and reward inject
only if a drive lists them.
"""
from __future__ import annotations

import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.stages import population_labels


def drive_matrix(drives, circuit) -> np.ndarray:
    """(K, N) float32: 1 where drive k targets cell n (0 for synaptic drives: they inject
    nothing, their time course is the rate of the source's drive inputs)."""
    labels = [population_labels(p) for p in circuit.population_names]
    allowed = sorted(set().union(*labels)) if labels else []
    w = np.zeros((len(drives), circuit.n_cells), np.float32)
    for k, d in enumerate(drives):
        hit = [i for i, lab in enumerate(labels) if lab & set(d.targets)]
        unknown = [t for t in d.targets if not any(t in lab for lab in labels)]
        if unknown:
            raise ConfigError([(f"$.task.drives[{k}].targets", f"{unknown!r} match no population; "
                                f"allowed: {', '.join(allowed)}")])
        w[k] = np.isin(circuit.population, hit) if d.delivery == "current" else 0.0
    return w


def _shape(drive, tau_since_onset, duration):
    if drive.shape == "box":
        return ((tau_since_onset >= 0) & (tau_since_onset < duration)).astype(np.float64)
    x = np.maximum(tau_since_onset, 0.0) / drive.tau_ms
    return np.where(tau_since_onset >= 0, x * np.exp(1.0 - x), 0.0)


def drive_inputs(drives, condition, paradigm, n_steps: int, dt_ms: float) -> np.ndarray:
    """(n_steps, K) time courses of the drives for one condition (step k at time k * dt)."""
    t = np.arange(n_steps) * dt_ms
    out = np.zeros((n_steps, len(drives)), np.float32)
    names = {e.name for c in paradigm.conditions for e in c.events}
    for k, d in enumerate(drives):
        unknown = [e for e in d.events if e not in names]
        if unknown:
            raise ConfigError([(f"$.task.drives[{k}].events", f"{unknown!r} are not events of "
                                f"{paradigm.name}; allowed: {', '.join(sorted(names))}")])
        course = np.zeros(n_steps)
        for ev in condition.events:
            if ev.name not in d.events or ev.omitted:
                continue
            gain = 1.0 if not d.stimulus_gain or ev.stimulus is None else d.stimulus_gain.get(ev.stimulus, 1.0)
            onset = paradigm.prestim_ms + ev.onset_ms + d.delay_ms
            duration = d.duration_ms if d.duration_ms is not None else ev.duration_ms
            course += gain * _shape(d, t - onset, duration)
        out[:, k] = d.amplitude * course
    return out
