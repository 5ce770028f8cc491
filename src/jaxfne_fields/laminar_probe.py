"""Laminar probes: straight shanks of equally spaced contacts (positions in um).

``laminar``: one shank, vertical or tilted by ``tilt_deg`` from the column axis toward +x
(contact k sits at distance k * spacing along the shank). ``multi_shank``: several parallel
vertical shanks at given lateral positions, contacts ordered shank by shank.
"""
from __future__ import annotations

from typing import Optional

import attrs
import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.signals import MODES as SIGNAL_MODES
from jaxfne_core.stages import Probe, ProbeGeometry, population_labels
from jaxfne_core.validators import FieldValueError, nonempty, number, optional, subset_of

MODES = SIGNAL_MODES          # the recording modes (jaxfne_core.signals.Mode)


def _check_cell_selection(inst, attr, value):
    bad = [v for v in value if isinstance(v, bool) or not isinstance(v, (str, int))]
    if bad or not value:
        raise FieldValueError(attr.name, f"{attr.name!r} lists population, class or layer names and cell "
                              f"indices; got {value!r}")


def _check_reference(inst, attr, value):
    ok = value in ("infinity", "common_average")
    if isinstance(value, str) and value.startswith("contact:"):
        ok = value.split(":", 1)[1].isdigit()
    if value == "bipolar":
        raise FieldValueError("reference", "'bipolar' changes the channels (C - 1, between the contacts); record "
                              "monopolar and derive it: jaxfne_analysis.reference.rereference(lfp, 'bipolar')")
    if not ok:
        raise FieldValueError("reference", f"{value!r} is not allowed; allowed: 'infinity', 'common_average', "
                              "'contact:K' (K a contact index)")


def select_cells(selection, circuit) -> np.ndarray:
    """Sorted unique indices of the cells ``selection`` names: population names, classes (the
    part after the last ``_``), layers (the part before the first ``_``), or indices."""
    names = circuit.population_names
    chosen = []
    for item in selection:
        if isinstance(item, int):
            if not 0 <= item < circuit.n_cells:
                raise ConfigError([("$.probe.v_m_cells", f"cell index {item} is out of range; allowed: 0 .. "
                                    f"{circuit.n_cells - 1}")])
            chosen.append(np.array([item]))
            continue
        pops = [i for i, n in enumerate(names) if item in population_labels(n)]
        if not pops:
            allowed = sorted(set().union(*(population_labels(n) for n in names)))
            raise ConfigError([("$.probe.v_m_cells", f"{item!r} names no population, class or layer; allowed: "
                                f"{allowed} or cell indices")])
        chosen.append(np.nonzero(np.isin(circuit.population, pops))[0])
    return np.unique(np.concatenate(chosen)).astype(np.int64)


MIN_CSD_CONTACTS = 3
"""The second spatial difference behind every CSD estimate needs three contacts per shank."""

FAR_CONTACT_UM = 500.0
"""Contacts farther than this beyond the farthest cell from the column's axis get a warning."""


def check_placement(modes, circuit, geometry) -> tuple:
    """:meth:`Probe.check` of the shank probes: refuse CSD on shanks of fewer than
    :data:`MIN_CSD_CONTACTS` contacts and a field recording from contacts that all lie outside
    the column's depth (0 to ``circuit.thickness_um``); warn about contacts outside that depth
    and about contacts more than :data:`FAR_CONTACT_UM` beyond the cells' lateral extent."""
    modes = set(modes)
    z = geometry.positions_um[:, 2]
    depth = float(circuit.thickness_um)
    warnings = []
    if "CSD" in modes:
        short = [len(s) for s in geometry.shanks if len(s) < MIN_CSD_CONTACTS]
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
        far = np.hypot(geometry.positions_um[:, 0], geometry.positions_um[:, 1]) > radius + FAR_CONTACT_UM
        if far.any():
            warnings.append(f"{int(far.sum())} contacts lie more than {FAR_CONTACT_UM:.0f} um beyond the farthest "
                            f"cell from the column's axis ({radius:.0f} um): expect small signals")
    return tuple(warnings)


def _top(top_um, n, spacing, thickness, cos_tilt=1.0):
    span = (n - 1) * spacing * cos_tilt
    return top_um if top_um is not None else 0.5 * (thickness - span)


@attrs.frozen(kw_only=True)
class ShankOptions:
    """n_contacts, spacing_um: contacts per shank and their pitch. top_um: depth of the first
    contact (default: the shank centred in the column). modes: what to record; allowed
    spikes, V_m, LFP, CSD, sources (per-point transmembrane currents), weights (the plastic
    synapses' |weight|, with a plastic source). sample_interval_ms:
    record one sample per interval (a whole number of steps): the mean of continuous signals
    and the spike count over it (default: every step). v_m_cells: record V_m of these cells
    only: population names (``L4_E``), classes (``E``), layers (``L4``) or cell indices
    (default: every cell). reference: the LFP's reference: ``infinity`` (monopolar, against an
    infinitely distant reference), ``common_average`` (minus the mean over all contacts) or
    ``contact:K`` (minus contact K; a reference at a tissue position is a contact placed
    there). The receipt records it with the probe's options. The standard CSD and the
    relative power map do not change under these; a bipolar derivation (C - 1 channels
    between the contacts) is an analysis of the recorded LFP:
    ``jaxfne_analysis.reference.rereference(lfp, "bipolar")``."""

    n_contacts: int = attrs.field(default=16, validator=number(1, 4096))
    spacing_um: float = attrs.field(default=100.0, validator=number(0, lo_open=True))
    top_um: Optional[float] = attrs.field(default=None, validator=optional(number()))
    sample_interval_ms: Optional[float] = attrs.field(default=None, validator=optional(number(0, lo_open=True)))
    modes: tuple[str, ...] = attrs.field(default=("spikes", "V_m", "LFP", "CSD"),
                                         converter=tuple, validator=[nonempty, subset_of(*MODES)])
    v_m_cells: Optional[tuple] = attrs.field(default=None, converter=lambda v: tuple(v) if isinstance(v, list) else v,
                                             validator=optional(_check_cell_selection))
    reference: str = attrs.field(default="infinity", validator=_check_reference)

    def lfp_reference(self, n_contacts):
        """The reference weights of :meth:`Probe.lfp_reference` for ``reference``."""
        if self.reference == "infinity":
            return None
        if self.reference == "common_average":
            return np.full(n_contacts, 1.0 / n_contacts)
        k = int(self.reference.split(":", 1)[1])
        if k >= n_contacts:
            raise ConfigError([("$.probe.reference", f"{self.reference!r}: the probe has {n_contacts} contacts; "
                                f"allowed: contact:0 .. contact:{n_contacts - 1}")])
        w = np.zeros(n_contacts)
        w[k] = 1.0
        return w

    def recorded_cells(self, circuit, mode):
        """The probe's cell selection for ``mode`` (see :class:`ShankOptions`), or None."""
        if mode != "V_m" or self.v_m_cells is None:
            return None
        return select_cells(self.v_m_cells, circuit)


@attrs.frozen(kw_only=True)
class LaminarProbeOptions(ShankOptions):
    """name: label. x_um, y_um: lateral position of the first contact. tilt_deg: angle from the
    column axis toward +x. Plus the shank options."""

    name: str = "laminar_probe"
    x_um: float = attrs.field(default=0.0, validator=number())
    y_um: float = attrs.field(default=0.0, validator=number())
    tilt_deg: float = attrs.field(default=0.0, validator=number(-89.0, 89.0))


class ShankProbe(Probe):
    """What the shank probes share: cell selection, LFP reference and placement checks from
    :class:`ShankOptions`."""

    MODES = MODES

    def recorded_cells(self, circuit, mode):
        return self.options.recorded_cells(circuit, mode)

    def lfp_reference(self, n_contacts):
        return self.options.lfp_reference(n_contacts)

    def check(self, circuit, geometry) -> tuple:
        return check_placement(self.modes, circuit, geometry)


class LaminarProbe(ShankProbe):
    """Linear laminar electrode (one shank, optionally tilted) recording spikes, V_m, LFP, CSD."""

    name = "laminar"
    Options = LaminarProbeOptions

    def geometry(self, circuit) -> ProbeGeometry:
        o = self.options
        t = np.deg2rad(o.tilt_deg)
        s = o.spacing_um * np.arange(o.n_contacts)
        top = _top(o.top_um, o.n_contacts, o.spacing_um, circuit.thickness_um, np.cos(t))
        pos = np.stack([o.x_um + s * np.sin(t), np.full_like(s, o.y_um), top + s * np.cos(t)], axis=1)
        return ProbeGeometry.single_shank(pos, o.spacing_um)


def _check_shanks(inst, attr, value):
    if len(value) < 1 or any(len(p) != 2 for p in value):
        raise FieldValueError(attr.name, f"'shanks' must be a non-empty list of [x_um, y_um] pairs, got {value!r}")


@attrs.frozen(kw_only=True)
class MultiShankOptions(ShankOptions):
    """name: label. shanks: lateral [x_um, y_um] of each vertical shank. Plus the shank options."""

    name: str = "multi_shank_probe"
    shanks: tuple[tuple[float, float], ...] = attrs.field(
        default=((-100.0, 0.0), (100.0, 0.0)), converter=lambda v: tuple(tuple(p) for p in v),
        validator=_check_shanks)


class MultiShankProbe(ShankProbe):
    """Parallel vertical shanks at given lateral positions (contacts ordered shank by shank)."""

    name = "multi_shank"
    Options = MultiShankOptions

    def geometry(self, circuit) -> ProbeGeometry:
        o = self.options
        z = _top(o.top_um, o.n_contacts, o.spacing_um, circuit.thickness_um) + o.spacing_um * np.arange(o.n_contacts)
        pos = np.concatenate([np.stack([np.full_like(z, x), np.full_like(z, y), z], 1) for x, y in o.shanks])
        shanks = tuple(np.arange(k * o.n_contacts, (k + 1) * o.n_contacts) for k in range(len(o.shanks)))
        return ProbeGeometry(pos, shanks, o.spacing_um)
