"""Physical sanity of a built model and of a run: refusals for what cannot be meant, warnings
(recorded in the receipt, each with its reason) for what is legal but questionable."""
from __future__ import annotations

import numpy as np

from .errors import ConfigError

RUNAWAY_RATE_HZ = 500.0
"""Mean rate above which a run is reported as runaway: sustained cortical rates stay below
~100 Hz, and a refractory-limited population cannot exceed ~1 kHz."""

MIN_CSD_CONTACTS = 3
"""The second spatial difference behind every CSD estimate needs three contacts per shank."""


def check_geometry(pipeline, circuit, probe_geometry) -> tuple:
    """Refuse probes that cannot record the column; return warnings for odd placements."""
    modes = set(pipeline.probe.modes)
    z = probe_geometry.positions_um[:, 2]
    depth = float(circuit.thickness_um)
    warnings = []
    if "CSD" in modes:
        short = [len(s) for s in probe_geometry.shanks if len(s) < MIN_CSD_CONTACTS]
        if short:
            raise ConfigError([("$.probe.n_contacts", f"CSD needs at least {MIN_CSD_CONTACTS} contacts per shank "
                                f"(a second spatial difference), got {min(short)}; allowed: n_contacts >= "
                                f"{MIN_CSD_CONTACTS}, or drop 'CSD' from probe.modes")])
    if {"LFP", "CSD"} & modes:
        inside = (z >= 0) & (z <= depth)
        if not inside.any():
            raise ConfigError([("$.probe.top_um", f"every contact lies outside the column (depths {z.min():.0f} to "
                                f"{z.max():.0f} um; the column spans 0 to {depth:.0f} um); allowed: contacts "
                                "that reach the column")])
        if not inside.all():
            warnings.append(f"{int((~inside).sum())} of {z.size} contacts lie outside the column's depth "
                            f"(0 to {depth:.0f} um): they record the field beyond the tissue the model has")
        # the cells' lateral extent (what the emitter built, whatever its network section holds)
        radius = float(np.hypot(circuit.positions_um[:, 0], circuit.positions_um[:, 1]).max(initial=0.0))
        far = np.hypot(probe_geometry.positions_um[:, 0], probe_geometry.positions_um[:, 1]) > radius + 500.0
        if far.any():
            warnings.append(f"{int(far.sum())} contacts lie more than 500 um beyond the farthest cell from the "
                            f"column's axis ({radius:.0f} um): expect small signals")
    return tuple(warnings)


def run_warnings(model, signals) -> tuple:
    """Warnings about one run's outputs (a runaway mean rate)."""
    out = []
    if "spikes" in signals.modes:
        counts = np.asarray(signals["spikes"])            # (T, N) or (B, T, N) counts per sample
        n_samples, n_cells = counts.shape[-2], counts.shape[-1]
        n_trials = counts.size // max(1, n_samples * n_cells)
        duration_s = n_samples * signals.dt_ms / 1000.0
        rate = float(counts.sum(dtype=np.float64)) / max(1, n_cells * n_trials) / max(duration_s, 1e-12)
        if rate > RUNAWAY_RATE_HZ:
            out.append(f"runaway activity: mean rate {rate:.0f} Hz exceeds {RUNAWAY_RATE_HZ:.0f} Hz "
                       "(physiological cortex stays below ~100 Hz); check drive, weights and noise")
    return tuple(out)
