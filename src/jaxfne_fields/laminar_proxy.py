"""The reference's laminar proxy field, honestly labelled, with its gauge and boundary computed.

Each contact's "potential" is a Gaussian-weighted average of the transmembrane currents of all
source points (weights exp(-dz^2 / 2 w^2) by depth difference dz, normalised per contact);
the mean-zero gauge subtracts the across-contact mean; CSD is minus the second depth
difference of that array over the contact spacing h, with the chosen boundary at the end
contacts: ``mean_zero_neumann`` duplicates the end contacts (Vaknin 1988), so CSD sums to zero
over contacts exactly; ``dirichlet_zero`` takes the potential beyond the ends as zero. Not a
solution of div(-sigma grad phi) = q: amplitudes are relative (source units), never uV.
"""
from __future__ import annotations

from typing import Optional

import attrs
import numpy as np

from jaxfne_core.claims import Amplitude, FieldSolver
from jaxfne_core.validators import number, one_of, optional

from .csd import per_shank, second_difference
from .linear import StackedOperatorField, net_csd_relative


@attrs.frozen
class LaminarProxyOptions:
    """domain: ``laminar_column``. conductivity: ``proxy`` (a conductivity in S/m needs a
    volume-conductor field). boundary: ``mean_zero_neumann`` or ``dirichlet_zero``. gauge:
    ``mean_zero`` or ``none``. width_um: Gaussian width in um (default: width_relative x
    column thickness; the reference used 0.10 of normalised depth)."""

    domain: str = attrs.field(default="laminar_column", validator=one_of("laminar_column"))
    conductivity: str = attrs.field(default="proxy", validator=one_of("proxy"))
    boundary: str = attrs.field(default="mean_zero_neumann",
                                validator=one_of("mean_zero_neumann", "dirichlet_zero"))
    gauge: str = attrs.field(default="mean_zero", validator=one_of("mean_zero", "none"))
    width_um: Optional[float] = attrs.field(default=None, validator=optional(number(0, lo_open=True)))
    width_relative: float = attrs.field(default=0.10, validator=number(0, lo_open=True))


class LaminarProxyField(StackedOperatorField):
    """Reference laminar proxy: Gaussian depth smoothing onto contacts (no field solve)."""

    name = "laminar_proxy"
    Options = LaminarProxyOptions

    def provides(self, upstream):
        return {"field_solver": FieldSolver.PROXY, "amplitude": Amplitude.RELATIVE}

    def units(self, claims):
        cal = getattr(claims.get("source_calibration"), "value", "native")
        return {"LFP": f"relative ({cal} proxy)", "CSD": f"relative ({cal} proxy)/um^2"}

    def width_um(self, thickness_um: float) -> float:
        o = self.options
        return o.width_um if o.width_um is not None else o.width_relative * thickness_um

    def matrices(self, source_positions_um, probe, thickness_um):
        """NumPy float64 (C, S) operators for LFP and CSD; gauge and CSD act along each shank."""
        zc, zs = probe.positions_um[:, 2], source_positions_um[:, 2]
        w = self.width_um(thickness_um)
        g = np.exp(-0.5 * ((zc[:, None] - zs[None, :]) / w) ** 2)
        total = g.sum(axis=1, keepdims=True)
        g = np.divide(g, total, out=np.zeros_like(g), where=total > 0)
        if self.options.gauge == "mean_zero":
            g = per_shank(probe, lambda n: np.eye(n) - 1.0 / n) @ g
        d2 = per_shank(probe, lambda n: second_difference(n, self.options.boundary))
        csd = -d2 @ g / probe.spacing_um**2
        return g, csd

    def operator(self, source_positions_um, probe, circuit, *, segments_um=None):
        lfp, csd = self.matrices(source_positions_um, probe, circuit.thickness_um)
        return self.stack(lfp, csd)

    def diagnostics(self, lfp, csd):
        """Gauge and boundary checks computed on the recorded (..., T, C) arrays."""
        out = {"gauge": self.options.gauge, "boundary": self.options.boundary}
        if lfp is not None:
            lfp = np.asarray(lfp, np.float64)
            scale = max(float(np.abs(lfp).max()), 1e-30)
            out["gauge_residual_relative"] = float(np.abs(lfp.mean(axis=-1)).max() / scale)
            if self.options.gauge == "mean_zero":
                out["gauge_holds"] = out["gauge_residual_relative"] < 1e-4
        if csd is not None:
            out["net_csd_relative"] = net_csd_relative(csd)
            if self.options.boundary == "mean_zero_neumann":
                out["neumann_net_zero_holds"] = out["net_csd_relative"] < 1e-4
        return out
