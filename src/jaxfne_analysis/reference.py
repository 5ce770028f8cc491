"""Probe references and current dipole moments, from recorded signals.

References (of (..., T, C) contact potentials, channel 0 the most superficial):
- ``infinity``: as recorded (monopolar, against an infinitely distant reference);
- ``contact:K``: minus contact K (K then reads 0);
- ``common_average``: minus the mean over contacts at each sample;
- ``bipolar``: V[k + 1] - V[k], C - 1 channels sitting between the contacts.
A position reference (a point of the tissue) is the field at that point: record it as a
contact of the probe and use ``contact:K``. The standard CSD (a second difference) and the
relative power map do not change under a common reference (a constant across contacts);
spectra of a bipolar derivation are those of the local field gradient.

Current dipole moment of transmembrane sources I_k at positions r_k: p = sum_k I_k r_k (nA um
for currents in nA), per population and in total. For sources that sum to zero per cell it
does not depend on the origin.
"""
from __future__ import annotations

import numpy as np

from jaxfne_core.errors import ConfigError

REFERENCES = ("infinity", "common_average", "bipolar", "contact:K")


def rereference(potentials, reference: str = "infinity"):
    """(..., T, C) -> the same potentials against ``reference`` (module docstring)."""
    v = np.asarray(potentials, np.float64)
    if reference == "infinity":
        return v
    if reference == "common_average":
        return v - v.mean(axis=-1, keepdims=True)
    if reference == "bipolar":
        if v.shape[-1] < 2:
            raise ConfigError([("reference", "a bipolar derivation needs at least 2 contacts")])
        return np.diff(v, axis=-1)
    if reference.startswith("contact:"):
        try:
            k = int(reference.split(":", 1)[1])
        except ValueError:
            k = -1
        if not 0 <= k < v.shape[-1]:
            raise ConfigError([("reference", f"{reference!r}: contact out of range; allowed: contact:0 .. "
                                f"contact:{v.shape[-1] - 1}")])
        return v - v[..., k:k + 1]
    raise ConfigError([("reference", f"{reference!r}; allowed: {', '.join(REFERENCES)}")])


def reference_depths_um(depths_um, reference: str = "infinity"):
    """Depths of the channels of a referenced recording (bipolar: the midpoints)."""
    z = np.asarray(depths_um, np.float64)
    return 0.5 * (z[1:] + z[:-1]) if reference == "bipolar" else z


def dipole_moment(sources, source_positions_um, source_cell, cell_population, n_populations: int):
    """(..., T, S) transmembrane currents at (S, 3) positions -> (..., T, P + 1, 3) current
    dipole moments (signal units x um), per population (by each source's cell) and in total."""
    i = np.asarray(sources, np.float64)
    pos = np.asarray(source_positions_um, np.float64)
    pop_of_source = np.asarray(cell_population)[np.asarray(source_cell)]
    per_pop = [np.einsum("...s,sd->...d", i[..., pop_of_source == p], pos[pop_of_source == p])
               for p in range(n_populations)]
    out = np.stack(per_pop, axis=-2)
    return np.concatenate([out, out.sum(axis=-2, keepdims=True)], axis=-2)


def signals_dipole_moment(signals):
    """Dipole moments (..., T, P + 1, 3) of Signals that recorded ``sources`` (populations in the
    order of ``signals.context.model.population_names``, then the total)."""
    ctx = signals.context.model
    if ctx.source_positions_um is None or ctx.source_cell is None:
        raise ConfigError([("signals", "these signals carry no source geometry; allowed: signals of a model run")])
    return dipole_moment(signals["sources"], ctx.source_positions_um, ctx.source_cell, ctx.population,
                         len(ctx.population_names))
