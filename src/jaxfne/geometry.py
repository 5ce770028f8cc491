"""The reference's laminar source geometry (v0.0.13): named populations at relative depths.

``construct(cfg, geometry=g)`` places cell i at depth ``z = f_i x thickness_um`` of the column
(0 = pia), f_i spaced linearly (``numpy.linspace``) within its population's [depth_min,
depth_max], populations in order; lateral positions stay the circuit's (cells on the probe's
axis would sit at zero distance from the contacts). The depths act: the field sees the cells
there. Depths are fractions of the column; ``positions_um`` gives them in um.
"""
from __future__ import annotations

import attrs
import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.validators import number

KNOWN_LAYERS = ("L1", "L2/3", "L4", "L5", "L6", "unspecified")


def _nonempty(inst, attribute, value):
    if not value:
        raise ConfigError([(attribute.name, f"{value!r} is not allowed; allowed: a non-empty name")])


@attrs.frozen
class LaminarPopulation:
    """One population: name, cell_type (e.g. ``excitatory``), layer (e.g. ``L4``), its
    relative depth range [depth_min, depth_max] within [0, 1] (0 = pia), n_units cells."""

    name: str = attrs.field(validator=_nonempty)
    cell_type: str = attrs.field(validator=_nonempty)
    layer: str = attrs.field(validator=_nonempty)
    depth_min: float = attrs.field(validator=number(0, 1))
    depth_max: float = attrs.field(validator=number(0, 1))
    n_units: int = attrs.field(validator=number(1))

    def __attrs_post_init__(self):
        if not self.depth_min < self.depth_max:
            raise ConfigError([("depth_min", f"population {self.name!r}: depth_min {self.depth_min} >= depth_max "
                                f"{self.depth_max}; allowed: 0 <= depth_min < depth_max <= 1")])

    def validate(self) -> dict:
        """The reference's report: always valid once built (bad values are refused on
        construction); an unrecognised layer name is a warning."""
        warnings = [] if self.layer in KNOWN_LAYERS else [f"unrecognized_layer:{self.layer}"]
        return {"valid": True, "issues": [], "warnings": warnings}

    def to_dict(self) -> dict:
        return attrs.asdict(self)


@attrs.frozen
class LaminarSourceGeometry:
    """Populations in order; n_units_total cells; depths relative (``position_units``)."""

    populations: tuple
    n_units_total: int
    position_units: str = "relative_depth_of_column"

    def __attrs_post_init__(self):
        total = sum(p.n_units for p in self.populations)
        if total != self.n_units_total:
            raise ConfigError([("n_units_total", f"{self.n_units_total}, but the populations hold {total} cells; "
                                "allowed: their sum (laminar_source_geometry computes it)")])

    def population_slices(self) -> dict:
        """Population name -> slice of cell indices."""
        out, start = {}, 0
        for p in self.populations:
            out[p.name] = slice(start, start + p.n_units)
            start += p.n_units
        return out

    def depth_fractions(self) -> np.ndarray:
        """(n_units_total,) relative depth of each cell, populations in order."""
        return np.concatenate([np.linspace(p.depth_min, p.depth_max, p.n_units) for p in self.populations])

    def positions_um(self, circuit) -> np.ndarray:
        """(N, 3) positions of ``circuit``'s cells with the geometry's depths (um)."""
        if circuit.n_cells != self.n_units_total:
            raise ConfigError([("geometry", f"geometry_n_units_total_mismatch: the geometry holds "
                                f"{self.n_units_total} cells, the network n = {circuit.n_cells}; allowed: equal")])
        pos = np.array(circuit.positions_um, np.float64, copy=True)
        pos[:, 2] = self.depth_fractions() * circuit.thickness_um
        return pos

    def validate(self) -> dict:
        """The reference's report: valid once built (bad values are refused on construction),
        with the populations' warnings (unrecognised layer names)."""
        warnings = [f"{p.name}:{w}" for p in self.populations for w in p.validate()["warnings"]]
        return {"valid": True, "issues": [], "warnings": warnings, "n_populations": len(self.populations)}

    def to_dict(self) -> dict:
        return {"type": "laminar_source_geometry", "n_units_total": self.n_units_total,
                "n_populations": len(self.populations), "position_units": self.position_units,
                "populations": [p.to_dict() for p in self.populations]}


def laminar_source_geometry(populations) -> LaminarSourceGeometry:
    """A geometry of the given :class:`LaminarPopulation` sequence (overlapping depths allowed)."""
    pops = tuple(populations)
    if not pops:
        raise ConfigError([("populations", "empty; allowed: one LaminarPopulation or more")])
    bad = [p for p in pops if not isinstance(p, LaminarPopulation)]
    if bad:
        raise ConfigError([("populations", f"{bad[0]!r} is not a LaminarPopulation")])
    names = [p.name for p in pops]
    if len(set(names)) != len(names):
        raise ConfigError([("populations", f"names repeat: {names}")])
    return LaminarSourceGeometry(pops, sum(p.n_units for p in pops))
