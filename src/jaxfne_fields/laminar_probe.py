"""Laminar probe: a straight, vertical shank of equally spaced contacts (positions in um)."""
from __future__ import annotations

from typing import Optional

import attrs
import numpy as np

from jaxfne_core.stages import Probe
from jaxfne_core.validators import number, optional, subset_of

MODES = ("spikes", "V_m", "LFP", "CSD", "sources")


@attrs.frozen
class LaminarProbeOptions:
    """name: label. n_contacts, spacing_um: contact count and pitch. top_um: depth of the first
    contact (default: the shank centred in the column). x_um, y_um: lateral shank position.
    modes: what to record; allowed spikes, V_m, LFP, CSD, sources (per-point transmembrane
    currents). A mode not listed is not recorded, and a readout that needs it says so."""

    name: str = "laminar_probe"
    n_contacts: int = attrs.field(default=16, validator=number(1, 4096))
    spacing_um: float = attrs.field(default=100.0, validator=number(0, lo_open=True))
    top_um: Optional[float] = attrs.field(default=None, validator=optional(number()))
    x_um: float = attrs.field(default=0.0, validator=number())
    y_um: float = attrs.field(default=0.0, validator=number())
    modes: tuple[str, ...] = attrs.field(default=("spikes", "V_m", "LFP", "CSD"),
                                         converter=tuple, validator=subset_of(*MODES))


class LaminarProbe(Probe):
    """Linear laminar electrode recording spikes, V_m, LFP and CSD per contact."""

    name = "laminar"
    Options = LaminarProbeOptions
    MODES = MODES

    def contact_positions_um(self, circuit) -> np.ndarray:
        o = self.options
        span = (o.n_contacts - 1) * o.spacing_um
        top = o.top_um if o.top_um is not None else 0.5 * (circuit.thickness_um - span)
        z = top + o.spacing_um * np.arange(o.n_contacts)
        return np.stack([np.full_like(z, o.x_um), np.full_like(z, o.y_um), z], axis=1)
