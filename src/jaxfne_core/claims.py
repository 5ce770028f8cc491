"""Claims: what each stage honestly provides, as enums, and the labels derived from them.

Stages declare ``provides`` (claims they add to the chain) and ``requires`` (claims an
upstream stage must have provided). :func:`check_chain` checks every edge and returns every
incompatibility at once; :func:`truth_labels` derives the reference's human-readable labels
from the assembled claims (they are never typed in as constants).
"""
from __future__ import annotations

import enum
from typing import Mapping

import attrs
from .errors import PluginError


class SourceCalibration(str, enum.Enum):
    """Units of the currents an emitter/source delivers."""

    NATIVE = "native"          # Izhikevich model units, uncalibrated
    NANOAMPERE = "nA"          # calibrated mapping or biophysical emitter


class ChargeConservation(str, enum.Enum):
    """Whether each cell's transmembrane currents sum to zero at every time step."""

    CONSERVED = "per_cell_sum_zero"
    NOT_CONSERVED = "not_conserved"


class FieldSolver(str, enum.Enum):
    """How a field turns sources into potentials."""

    PROXY = "proxy"                        # smoothing onto contacts, no physics
    VOLUME_CONDUCTOR = "volume_conductor"  # solves -div(sigma grad phi) = q or its Green's function


class Amplitude(str, enum.Enum):
    """Units in which potentials are delivered."""

    RELATIVE = "relative"
    MICROVOLT = "uV"


CLAIM_TYPES = {
    "source_calibration": SourceCalibration,
    "charge_conservation": ChargeConservation,
    "field_solver": FieldSolver,
    "amplitude": Amplitude,
}


@attrs.frozen
class Incompatibility:
    """One broken edge: ``consumer`` requires ``claim`` in ``allowed`` but ``provider`` gives ``got``."""

    claim: str
    consumer: str
    provider: str
    got: object
    allowed: tuple

    def __str__(self):
        allowed = " or ".join(repr(getattr(a, "value", a)) for a in self.allowed)
        got = getattr(self.got, "value", self.got)
        return (f"{self.consumer} requires {self.claim} = {allowed}, "
                f"but {self.provider} provides {self.claim} = {got!r}")


def check_chain(stages) -> tuple[dict, list]:
    """Walk stages in order; return (claims so far, every incompatibility).

    ``stages`` is a sequence of ``(label, provides, requires)`` where label is like
    ``"field 'laminar_proxy'"``, requires maps claim names to a tuple of allowed values, and
    provides maps claim names to enum values, or is a callable taking the claims so far.
    """
    claims: dict = {}
    owner: dict = {}
    problems: list[Incompatibility] = []
    for label, provides, requires in stages:
        for claim, allowed in requires.items():
            got = claims.get(claim)
            if got not in allowed:
                problems.append(Incompatibility(claim, label, owner.get(claim, "no upstream stage"),
                                                got, tuple(allowed)))
        if callable(provides):
            provides = provides(dict(claims))
        for claim, value in provides.items():
            if claim not in CLAIM_TYPES or not isinstance(value, CLAIM_TYPES[claim]):
                raise PluginError(f"{label}: claim {claim!r} must be a {CLAIM_TYPES.get(claim)}, got {value!r}")
            claims[claim] = value
            owner[claim] = label
    return claims, problems


def physical_amplitude_allowed(claims: Mapping) -> bool:
    """A physical amplitude needs calibrated, charge-conserving sources and a volume conductor."""
    return (claims.get("source_calibration") is SourceCalibration.NANOAMPERE
            and claims.get("charge_conservation") is ChargeConservation.CONSERVED
            and claims.get("field_solver") is FieldSolver.VOLUME_CONDUCTOR
            and claims.get("amplitude") is Amplitude.MICROVOLT)


def truth_labels(claims: Mapping) -> dict:
    """The reference's truth labels, derived from the assembled claims (JSON-safe strings)."""
    calibrated = claims.get("source_calibration") is SourceCalibration.NANOAMPERE
    solver = claims.get("field_solver")
    physical = physical_amplitude_allowed(claims)
    if solver is FieldSolver.VOLUME_CONDUCTOR:
        field_status, projection, field_level = ("volume_conductor_solved", "volume_conductor_field",
                                                 "physical_field" if physical else "relative_field")
    elif solver is FieldSolver.PROXY:
        field_status, projection, field_level = ("laminar_proxy_no_pde", "proxy_no_field_solve",
                                                 "proxy_readout_only")
    else:
        field_status, projection, field_level = ("no_field", "no_projection", "no_field_readout")
    return {
        "truth_mode": "truth_safe_unverified",
        "claim_level": "computational_model",
        "source_calibration_status": ("calibrated_nA" if calibrated
                                      else "uncalibrated_izhikevich_native_current"),
        "charge_conservation_status": getattr(claims.get("charge_conservation"), "value", "unknown"),
        "source_projection_mode": projection,
        "field_solver_status": field_status,
        "field_claim_level": field_level,
        "physical_amplitude_claim_allowed": physical,
        "empirical_validation_status": "not_empirically_validated",
        "mechanism_claim_status": "not_claimed",
    }


def claims_to_json(claims: Mapping) -> dict:
    return {k: v.value for k, v in sorted(claims.items())}
