"""Volume-conductor fields: potentials in uV from transmembrane currents in nA.

Every field here solves the extracellular problem -div(sigma grad phi) = q, by its Green's
function (``point_source``, ``line_source``, ``disc``) or by a finite-volume solve
(``laminar_fv``), as a (contacts x sources) matrix built once per geometry. Their CSD output is
either the ``standard`` estimate an experimenter would compute from the contacts' potentials
(-sigma phi'' with Vaknin ends, optional Hamming smoothing) or the ``ground_truth`` source
density binned around the contacts; both in uA/mm^3.

Claims: field_solver = volume_conductor. Amplitudes are uV only when the sources upstream are
calibrated (nA) and conserve charge per cell; over native currents the same numbers are
labelled relative ("uV per nA applied to native units").
"""
from __future__ import annotations

import abc
from typing import Optional

import attrs
import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.claims import Amplitude, ChargeConservation, FieldSolver, SourceCalibration
from jaxfne_core.memory import check_fits
from jaxfne_core.validators import SIGMA_RANGE_S_PER_M, FieldValueError, conductivity, number, one_of, optional

from . import kernels
from .csd import ground_truth_csd_matrix, per_shank, standard_csd_matrix
from .laminar_1d import sigma_profile, solve_neumann_1d
from .linear import StackedOperatorField, net_csd_relative


def _sigma_triplet(inst, attr, value):
    lo, hi = SIGMA_RANGE_S_PER_M
    if value is not None and (len(value) != 3 or any(not lo <= v <= hi for v in value)):
        raise FieldValueError(attr.name, f"{attr.name!r} must be three conductivities in [{lo}, {hi}] S/m, "
                              f"got {value!r}")


def _layers(inst, attr, value):
    if value is None:
        return
    for pair in value:
        if len(pair) != 2 or pair[1] <= 0:
            raise FieldValueError(attr.name, f"'layers' entries must be [top_um, sigma > 0], got {pair!r}")
        lo, hi = SIGMA_RANGE_S_PER_M
        if not lo <= pair[1] <= hi:
            raise FieldValueError(attr.name, f"'layers' sigma {pair[1]!r} S/m is outside the physiological "
                                  f"range; allowed: [{lo}, {hi}] S/m")


@attrs.frozen(kw_only=True)
class VolumeOptions:
    """sigma_S_per_m: tissue conductivity. csd: ``standard`` (estimated from the contacts) or
    ``ground_truth`` (binned sources). csd_smoothing: 3-point Hamming before the standard CSD.
    csd_radius_um: cylinder radius for ground-truth CSD (default: all sources)."""

    sigma_S_per_m: float = attrs.field(default=0.3, validator=conductivity)
    csd: str = attrs.field(default="standard", validator=one_of("standard", "ground_truth"))
    csd_smoothing: bool = False
    csd_radius_um: Optional[float] = attrs.field(default=None, validator=optional(number(0, lo_open=True)))


class VolumeConductorField(StackedOperatorField):
    """Base of the volume-conductor fields: claims, units, CSD rows, diagnostics."""

    def provides(self, upstream):
        physical = (upstream.get("source_calibration") is SourceCalibration.NANOAMPERE
                    and upstream.get("charge_conservation") is ChargeConservation.CONSERVED)
        return {"field_solver": FieldSolver.VOLUME_CONDUCTOR,
                "amplitude": Amplitude.MICROVOLT if physical else Amplitude.RELATIVE}

    def units(self, claims):
        if claims.get("amplitude") is Amplitude.MICROVOLT:
            return {"LFP": "uV", "CSD": "uA/mm^3"}
        return {"LFP": "relative (uV per nA, applied to native currents)",
                "CSD": "relative (uA/mm^3 per nA, applied to native currents)"}

    @abc.abstractmethod
    def potential_matrix(self, source_positions_um, probe, circuit, segments_um=None) -> np.ndarray:
        """(C, S) uV per nA. segments_um: (S, 2, 3) source segments, or None."""

    def csd_conductivity(self, probe, idx):
        """Conductivity used by the standard CSD between consecutive contacts of a shank."""
        return self.options.sigma_S_per_m

    def operator(self, source_positions_um, probe, circuit, *, segments_um=None):
        segments = None if segments_um is None else np.asarray(segments_um, np.float64)
        phi = self.potential_matrix(np.asarray(source_positions_um, np.float64), probe, circuit, segments)
        o = self.options
        if o.csd == "standard":
            csd = per_shank(probe, lambda n, idx: standard_csd_matrix(
                n, probe.spacing_um, self.csd_conductivity(probe, idx), o.csd_smoothing)) @ phi
        else:
            csd = self.ground_truth_csd(source_positions_um, probe)
        return self.stack(phi, csd)

    def ground_truth_csd(self, source_positions_um, probe) -> np.ndarray:
        """(C, S) the binned sources' CSD (uA/mm^3 per nA) in the cylinder of csd_radius_um."""
        return ground_truth_csd_matrix(source_positions_um, probe, self.options.csd_radius_um)

    def tunables(self, circuit):
        """sigma_scale: every conductivity of the medium times this (the potential scales as
        1 / sigma_scale; the CSD, sigma times the potential's curvature, does not change)."""
        return {"sigma_scale": (1.0, 0.1, 10.0, "log")}

    def readout_gains(self, values):
        return {"LFP": 1.0 / values["sigma_scale"]} if "sigma_scale" in values else {}

    def diagnostics(self, lfp, csd):
        out = {"sigma_S_per_m": self.options.sigma_S_per_m, "csd_method": self.options.csd}
        if csd is not None:
            out["net_csd_relative"] = net_csd_relative(csd)
            out["csd_sums_to_zero"] = out["net_csd_relative"] < 1e-4
        return out


@attrs.frozen(kw_only=True)
class PointOptions(VolumeOptions):
    """sigma_xyz_S_per_m: anisotropic (sx, sy, sz) conductivity, overriding sigma_S_per_m
    (the standard CSD then uses sz). r_min_um: distances are clamped to at least this radius."""

    sigma_xyz_S_per_m: Optional[tuple[float, float, float]] = attrs.field(
        default=None, converter=attrs.converters.optional(tuple), validator=_sigma_triplet)
    r_min_um: float = attrs.field(default=5.0, validator=number(0, lo_open=True))


class PointSourceField(VolumeConductorField):
    """Point sources in an infinite homogeneous (optionally anisotropic) medium (uV)."""

    name = "point_source"
    Options = PointOptions

    def _sigma(self):
        o = self.options
        return np.asarray(o.sigma_xyz_S_per_m) if o.sigma_xyz_S_per_m is not None else o.sigma_S_per_m

    def potential_matrix(self, src, probe, circuit, segments=None):
        return kernels.point_source(src, probe.positions_um, self._sigma(), self.options.r_min_um)

    def csd_conductivity(self, probe, idx):
        o = self.options
        return o.sigma_xyz_S_per_m[2] if o.sigma_xyz_S_per_m is not None else o.sigma_S_per_m


@attrs.frozen(kw_only=True)
class LineOptions(VolumeOptions):
    """segment_length_um: each source point spreads its current evenly over a vertical segment
    of this length centred on it (0 = point sources). Sources with segments of their own
    (compartments of detailed cells) use those instead. r_min_um: segment radius (distance clamp)."""

    segment_length_um: float = attrs.field(default=100.0, validator=number(0))
    r_min_um: float = attrs.field(default=1.0, validator=number(0, lo_open=True))


class LineSourceField(VolumeConductorField):
    """Line sources (Holt 1998) along vertical segments in a homogeneous medium (uV)."""

    name = "line_source"
    Options = LineOptions

    def potential_matrix(self, src, probe, circuit, segments=None):
        if segments is not None:
            start, end = segments[:, 0], segments[:, 1]
        else:
            half = np.array([0.0, 0.0, 0.5 * self.options.segment_length_um])
            start, end = src - half, src + half
        return kernels.line_source(start, end, probe.positions_um,
                                   self.options.sigma_S_per_m, self.options.r_min_um)


@attrs.frozen(kw_only=True)
class DiscOptions(VolumeOptions):
    """radius_um: each source point spreads its current over a horizontal disc of this radius
    centred on the shank (Pettersen et al. 2006)."""

    radius_um: float = attrs.field(default=500.0, validator=number(0, lo_open=True))


class _DiscCSD:
    """Fields whose potential spreads every source over a disc of ``radius_um`` around the
    shank: their ground-truth CSD divides by that disc's area (pi R^2 h per slab), for every
    source, so it is the CSD their own potentials imply (delta-iCSD of a disc field's LFP, the
    -sigma phi'' of a 1-D column's, returns it)."""

    def ground_truth_csd(self, source_positions_um, probe):
        o = self.options
        if o.csd_radius_um is not None and o.csd_radius_um != o.radius_um:
            raise ConfigError([("$.field.csd_radius_um", f"{o.csd_radius_um} um, but the {self.name!r} field spreads "
                                f"every source over radius_um = {o.radius_um} um; allowed: unset or equal")])
        return ground_truth_csd_matrix(source_positions_um, probe, o.radius_um, every_source=True)


class DiscField(_DiscCSD, VolumeConductorField):
    """Current discs of finite radius in a homogeneous medium, on the shank axis (uV)."""

    name = "disc"
    Options = DiscOptions

    def potential_matrix(self, src, probe, circuit, segments=None):
        return kernels.disc_source(src[:, 2], probe.positions_um[:, 2], self.options.sigma_S_per_m,
                                   self.options.radius_um)


@attrs.frozen(kw_only=True)
class LaminarFVOptions(VolumeOptions):
    """layers: [top_um, sigma] pairs, sigma holding from each top down (above the first top:
    sigma_S_per_m). dz_um: finite-volume cell size. radius_um: the column's radius; each source
    spreads over a disc of this area (the 1-D model assumes laterally uniform layers)."""

    layers: Optional[tuple[tuple[float, float], ...]] = attrs.field(
        default=None, converter=attrs.converters.optional(lambda v: tuple(tuple(p) for p in v)),
        validator=_layers)
    dz_um: float = attrs.field(default=10.0, validator=number(0.01, 200.0))
    radius_um: float = attrs.field(default=500.0, validator=number(0, lo_open=True))


class LaminarFVField(_DiscCSD, VolumeConductorField):
    """1-D laminar column with depth-dependent conductivity, finite volumes, Neumann ends (uV)."""

    name = "laminar_fv"
    Options = LaminarFVOptions

    def requires(self):
        # the zero-flux Neumann problem has a solution only for sources that sum to zero
        return {"charge_conservation": (ChargeConservation.CONSERVED,)}

    def grid(self, thickness_um):
        n = max(2, int(np.ceil(thickness_um / self.options.dz_um)))
        dz = thickness_um / n
        centres = (np.arange(n) + 0.5) * dz
        return centres, dz, sigma_profile(centres, self.options.sigma_S_per_m, self.options.layers)

    def potential_matrix(self, src, probe, circuit, segments=None):
        centres, dz, sigma = self.grid(circuit.thickness_um)
        n = centres.size
        # the unit-source solves, their potentials and the interpolation: three (n, n) float64
        check_fits(3 * 8 * n * n + 8 * n * (probe.positions_um.shape[0] + src.shape[0]),
                   f"the laminar_fv grid of {n} cells (dz_um = {self.options.dz_um})",
                   "raise field.dz_um")
        area = np.pi * self.options.radius_um**2
        phi_cells, _ = solve_neumann_1d(np.eye(n) / (area * dz), sigma, dz)   # row k: unit nA in cell k
        cell = np.clip((src[:, 2] // dz).astype(int), 0, n - 1)
        interp = np.stack([np.interp(probe.positions_um[:, 2], centres, row) for row in phi_cells], 1)
        return interp[:, cell]                                                # (C, S)

    def csd_conductivity(self, probe, idx):
        z = probe.positions_um[idx, 2]
        return sigma_profile(0.5 * (z[:-1] + z[1:]), self.options.sigma_S_per_m, self.options.layers)
