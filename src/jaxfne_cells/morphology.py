"""Cell morphologies as trees of cylindrical sections (um), with passive membrane constants.

Built-ins (``MORPHOLOGIES``):

- ``l23_pyramidal`` and ``l5_pyramidal``: the reduced pyramidal cells of hnn-core (Jones et
  al. 2009; hnn-core ``cells_default.py`` and ``params_default.py``, read 2026-12-02): each
  section's length and diameter (``L2Pyr_*_L`` / ``_diam``, ``L5Pyr_*``), the tree
  (``cell_tree``), the sections' directions (from ``end_pts``; hnn-core lets ``L`` rescale the
  3-D points, as here), cm (0.6195 / 0.85 uF/cm^2), Ra 200 Ohm cm and the leak of its hh2
  mechanism (gl 4.26e-5 S/cm^2) taken as the passive membrane; ``proximal`` = apical oblique
  and basal 2-3 and ``distal`` = apical tuft as hnn-core's ``sect_loc``.
- ``stellate``: a spiny stellate cell of our own: a 15 um soma and six 150 um dendrites
  (diameter 1.5 um) along +-x, +-y and +-depth, with the L2/3 cell's passive constants. Its
  symmetry makes it a nearly closed field for somatic and uniform dendritic input.
- ``point``: one 20 x 20 um compartment, a closed field (its currents sum to zero in place):
  interneurons whose field is neglected.

Directions are (x, y, up) unit vectors, up toward the pia; the soma is centred on the cell's
position. ``from_swc`` reads SWC files (soma, axon, basal, apical by the standard types).
"""
from __future__ import annotations

import attrs
import numpy as np

from jaxfne_core.errors import ConfigError

UP, DOWN = (0.0, 0.0, 1.0), (0.0, 0.0, -1.0)
DIAGONAL = 1.0 / np.sqrt(2.0)


@attrs.frozen(eq=False)
class Morphology:
    """A tree of cylindrical sections.

    names: section names. parent: (n,) index of each section's parent (-1: the root, the
    soma). attach_end: (n,) 1 if a section starts at its parent's end, 0 at its start.
    length_um, diam_um: (n,). direction: (n, 3) unit vectors (x, y, up). cm_uF_per_cm2,
    ra_ohm_cm, g_leak_S_per_cm2: (n,) passive constants. groups: group name -> section names
    (every morphology has ``soma`` and ``all``). endpoints: (n, 2, 3) explicit section ends
    (x, y, up; um, the soma centred on 0), for morphologies read from points (SWC); None:
    grown from the soma along the directions."""

    name: str
    names: tuple
    parent: np.ndarray
    attach_end: np.ndarray
    length_um: np.ndarray
    diam_um: np.ndarray
    direction: np.ndarray
    cm_uF_per_cm2: np.ndarray
    ra_ohm_cm: np.ndarray
    g_leak_S_per_cm2: np.ndarray
    groups: dict
    endpoints: "np.ndarray | None" = None

    @property
    def n_sections(self) -> int:
        return len(self.names)

    def section_endpoints(self) -> np.ndarray:
        """(n, 2, 3) start and end of each section (x, y, up; um), the soma centred on 0."""
        if self.endpoints is not None:
            return np.array(self.endpoints, float)
        ends = np.zeros((self.n_sections, 2, 3))
        for i in range(self.n_sections):
            if self.parent[i] < 0:
                ends[i, 0] = -0.5 * self.length_um[i] * self.direction[i]
            else:
                ends[i, 0] = ends[self.parent[i], int(self.attach_end[i])]
            ends[i, 1] = ends[i, 0] + self.length_um[i] * self.direction[i]
        return ends


def _build(name, sections, cm, ra, gl, groups):
    """sections: (name, parent name or None, attach_end, L um, diam um, direction)."""
    names = tuple(s[0] for s in sections)
    parent = np.array([-1 if s[1] is None else names.index(s[1]) for s in sections])
    direction = np.array([np.asarray(s[5], float) / np.linalg.norm(s[5]) for s in sections])
    n = len(sections)
    groups = {**groups, "soma": ("soma",), "all": names}
    return Morphology(name, names, parent, np.array([s[2] for s in sections]), np.array([s[3] for s in sections], float),
                      np.array([s[4] for s in sections], float), direction, np.full(n, float(cm)),
                      np.full(n, float(ra)), np.full(n, float(gl)), groups)


def _pyramidal_groups(names):
    apical = tuple(n for n in names if n.startswith("apical"))
    basal = tuple(n for n in names if n.startswith("basal"))
    return {"proximal": ("apical_oblique", "basal_2", "basal_3"), "distal": ("apical_tuft",),
            "apical": apical, "basal": basal, "perisomatic": ("soma", "basal_1", "apical_trunk")}


def l23_pyramidal() -> Morphology:
    """hnn-core's L2/3 pyramidal cell (``_cell_L2Pyr``; ``get_L2Pyr_params_default``)."""
    left, b2, b3 = (-1.0, 0.0, 0.0), (-DIAGONAL, 0.0, -DIAGONAL), (DIAGONAL, 0.0, -DIAGONAL)
    sections = [("soma", None, 0, 22.1, 23.4, UP),
                ("apical_trunk", "soma", 1, 59.5, 4.25, UP),
                ("apical_1", "apical_trunk", 1, 306.0, 4.08, UP),
                ("apical_tuft", "apical_1", 1, 238.0, 3.4, UP),
                ("apical_oblique", "apical_trunk", 1, 340.0, 3.91, left),
                ("basal_1", "soma", 0, 85.0, 4.25, DOWN),
                ("basal_2", "basal_1", 1, 255.0, 2.72, b2),
                ("basal_3", "basal_1", 1, 255.0, 2.72, b3)]
    names = tuple(s[0] for s in sections)
    return _build("l23_pyramidal", sections, 0.6195, 200.0, 4.26e-5, _pyramidal_groups(names))


def l5_pyramidal() -> Morphology:
    """hnn-core's L5 pyramidal cell (``_cell_L5Pyr``; ``get_L5Pyr_params_default``)."""
    left, b2, b3 = (-1.0, 0.0, 0.0), (-DIAGONAL, 0.0, -DIAGONAL), (DIAGONAL, 0.0, -DIAGONAL)
    sections = [("soma", None, 0, 39.0, 28.9, UP),
                ("apical_trunk", "soma", 1, 102.0, 10.2, UP),
                ("apical_1", "apical_trunk", 1, 680.0, 7.48, UP),
                ("apical_2", "apical_1", 1, 680.0, 4.93, UP),
                ("apical_tuft", "apical_2", 1, 425.0, 3.4, UP),
                ("apical_oblique", "apical_trunk", 1, 255.0, 5.1, left),
                ("basal_1", "soma", 0, 85.0, 6.8, DOWN),
                ("basal_2", "basal_1", 1, 255.0, 8.5, b2),
                ("basal_3", "basal_1", 1, 255.0, 8.5, b3)]
    names = tuple(s[0] for s in sections)
    return _build("l5_pyramidal", sections, 0.85, 200.0, 4.26e-5, _pyramidal_groups(names))


def stellate() -> Morphology:
    """A spiny stellate cell: soma and six radial dendrites (see the module docstring)."""
    dirs = {"dend_x+": (1, 0, 0), "dend_x-": (-1, 0, 0), "dend_y+": (0, 1, 0), "dend_y-": (0, -1, 0),
            "dend_up": UP, "dend_down": DOWN}
    sections = [("soma", None, 0, 15.0, 15.0, UP)] + [(k, "soma", 1 if k == "dend_up" else 0, 150.0, 1.5, d)
                                                      for k, d in dirs.items()]
    dend = tuple(dirs)
    return _build("stellate", sections, 0.6195, 200.0, 4.26e-5,
                  {"basal": dend, "proximal": dend, "distal": dend, "apical": ("dend_up",), "perisomatic": ("soma",)})


def point() -> Morphology:
    """One compartment: its transmembrane currents sum to zero where they flow (no field)."""
    return _build("point", [("soma", None, 0, 20.0, 20.0, UP)], 1.0, 200.0, 4.26e-5, {})


def apical_reach_um(morph: Morphology) -> float:
    """How far above the soma's centre the apical tree reaches (um, along up)."""
    ends = morph.section_endpoints()
    apical = [morph.names.index(n) for n in morph.groups.get("apical", ())]
    if not apical:
        return 0.0
    return float(ends[apical][:, :, 2].max())


def with_apical_reach(morph: Morphology, reach_um: float) -> Morphology:
    """The same cell with its apical sections' lengths scaled by one factor so that the
    apical tree reaches ``reach_um`` above the soma's centre (diameters and membrane kept:
    a pyramidal cell fitted to its layer's distance from the pia, as hybridLFPy fits its
    reconstructed cells to the column). Morphologies without apical sections are refused."""
    names = morph.groups.get("apical", ())
    if morph.endpoints is not None:
        raise ConfigError([("$.source.tuft_depth_um", f"morphology {morph.name!r} comes from points (SWC); "
                            "allowed: the built-in pyramidal cells")])
    now = apical_reach_um(morph)
    if not names or now <= 0:
        raise ConfigError([("$.source.tuft_depth_um", f"morphology {morph.name!r} has no apical tree to scale; "
                            "allowed: pyramidal morphologies (an 'apical' group reaching up)")])
    ends = morph.section_endpoints()
    soma_top = float(ends[0, :, 2].max())
    if not reach_um > soma_top:
        raise ConfigError([("$.source.tuft_depth_um", f"{reach_um:g} um for {morph.name!r} does not clear its soma "
                            f"(top {soma_top:.3g} um above the centre); allowed: > {soma_top:.3g} um")])
    factor = (reach_um - soma_top) / (now - soma_top)
    mine = np.isin(np.asarray(morph.names), list(names))
    return attrs.evolve(morph, length_um=np.where(mine, morph.length_um * factor, morph.length_um))


MORPHOLOGIES = {"l23_pyramidal": l23_pyramidal, "l5_pyramidal": l5_pyramidal, "stellate": stellate, "point": point}
SWC_TYPES = {1: "soma", 2: "axon", 3: "basal", 4: "apical"}


def from_swc(path, name: str, cm_uF_per_cm2=1.0, ra_ohm_cm=150.0, g_leak_S_per_cm2=5e-5) -> Morphology:
    """A morphology from an SWC file (columns id type x y z radius parent; um, z toward the
    pia): one section per sample from its parent's point (from the root for the soma's
    children), the soma (type 1 samples) one vertical cylinder of the root's diameter and the
    summed length of the soma samples (at least its diameter), centred on the root. Groups: soma, axon, basal, apical (by SWC type), all; ``proximal``/``distal``:
    the basal and apical samples nearer/farther than half the largest path distance."""
    try:
        rows = [line.split() for line in open(path, encoding="utf-8") if line.strip() and not line.startswith("#")]
        data = np.array([[float(x) for x in r[:7]] for r in rows])
    except (OSError, ValueError, IndexError) as e:
        raise ConfigError([("$.source.swc_files", f"{path!r} is not a readable SWC file ({e}); allowed: lines of "
                            "'id type x y z radius parent'")]) from None
    if data.ndim != 2 or data.shape[0] < 2:
        raise ConfigError([("$.source.swc_files", f"{path!r} holds {data.shape[0] if data.ndim == 2 else 0} samples; "
                            "allowed: a soma and at least one more sample")])
    ids = {int(i): k for k, i in enumerate(data[:, 0])}
    parent_row = np.array([ids.get(int(p), -1) for p in data[:, 6]])
    if int(np.sum(parent_row < 0)) != 1 or int(data[parent_row < 0][0, 1]) != 1:
        raise ConfigError([("$.source.swc_files", f"{path!r} must have one root sample of type 1 (soma)")])
    root = int(np.flatnonzero(parent_row < 0)[0])
    xyz, radius, kind = data[:, 2:5], data[:, 5], data[:, 1].astype(int)
    soma_rows = [k for k in range(len(data)) if kind[k] == 1]
    soma_len = max(2 * radius[root], sum(np.linalg.norm(xyz[k] - xyz[parent_row[k]]) for k in soma_rows if k != root))
    centre = xyz[root]
    half_soma = 0.5 * soma_len * np.array(UP)
    names, parents, lengths, diams, dirs, types = ["soma"], [None], [soma_len], [2 * radius[root]], [UP], ["soma"]
    ends, section_of = [np.stack([-half_soma, half_soma])], {k: 0 for k in soma_rows}
    for k in range(len(data)):
        if kind[k] == 1:
            continue
        p = parent_row[k]
        if p not in section_of:
            raise ConfigError([("$.source.swc_files", f"{path!r}: sample {int(data[k, 0])} comes before its parent "
                                f"{int(data[k, 6])}; allowed: parents listed first")])
        start = centre if kind[p] == 1 else xyz[p]
        vec = xyz[k] - start
        length = float(np.linalg.norm(vec))
        if length <= 0:
            raise ConfigError([("$.source.swc_files", f"{path!r}: sample {int(data[k, 0])} sits on its parent; "
                                "allowed: samples apart from their parents")])
        section_of[k] = len(names)
        names.append(f"{SWC_TYPES.get(kind[k], 'other')}_{int(data[k, 0])}")
        parents.append(names[section_of[p]])
        lengths.append(length)
        diams.append(max(2 * radius[k], 0.1))
        dirs.append(tuple(vec / length))
        types.append(SWC_TYPES.get(kind[k], "other"))
        ends.append(np.stack([start - centre, xyz[k] - centre]))
    sections = [(names[i], parents[i], 1, lengths[i], diams[i], dirs[i]) for i in range(len(names))]
    morph = _build(name, sections, cm_uF_per_cm2, ra_ohm_cm, g_leak_S_per_cm2, {})
    distance = np.zeros(len(names))
    for i in range(1, len(names)):
        distance[i] = distance[morph.parent[i]] + lengths[i]
    dend = [i for i, t in enumerate(types) if t in ("basal", "apical")]
    half = 0.5 * (distance[dend].max() if dend else 0.0)
    groups = {t: tuple(names[i] for i, ty in enumerate(types) if ty == t) for t in ("axon", "basal", "apical")}
    groups["proximal"] = tuple(names[i] for i in dend if distance[i] <= half)
    groups["distal"] = tuple(names[i] for i in dend if distance[i] > half)
    groups["perisomatic"] = ("soma",)
    return attrs.evolve(morph, groups={**groups, "soma": ("soma",), "all": tuple(names)}, endpoints=np.array(ends))
