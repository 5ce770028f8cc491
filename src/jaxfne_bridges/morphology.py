"""Cell templates for the Jaxley bridge and the geometry of their compartments.

Frames. Jaxley's coordinates are (x, y, z) in um with +y pointing to the pia (SWC convention for
apical dendrites). jaxfne's are (x, y, depth) with depth growing downward from the pia, so a
template point (x, y, z) relative to its soma lands at (x0 + x, y0 + z, depth0 - y) for a soma
at (x0, y0, depth0).
"""
from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from jaxfne_core.errors import ConfigError, NotYetAvailableError


def ball_and_stick(o):
    """Soma (one compartment) plus an apical dendrite of ``o.dendrite_compartments``
    compartments pointing to the pia; Hodgkin-Huxley channels in the soma, and in the dendrite
    too when ``o.active_dendrites`` (else only the HH leak there)."""
    import jaxley as jx
    from jaxley.channels import HH

    comp = jx.Compartment()
    cell = jx.Cell([jx.Branch(comp, ncomp=1), jx.Branch(comp, ncomp=o.dendrite_compartments)],
                   parents=[-1, 0])
    cell.branch(0).set("length", o.soma_length_um)
    cell.branch(0).set("radius", o.soma_radius_um)
    cell.branch(1).set("length", o.dendrite_length_um / o.dendrite_compartments)
    cell.branch(1).set("radius", o.dendrite_radius_um)
    cell.insert(HH())
    if not o.active_dendrites:
        cell.branch(1).set("HH_gNa", 0.0)
        cell.branch(1).set("HH_gK", 0.0)
    half, top = 0.5 * o.soma_length_um, 0.5 * o.soma_length_um + o.dendrite_length_um
    cell.xyzr = [np.array([[0.0, -half, 0.0, o.soma_radius_um], [0.0, half, 0.0, o.soma_radius_um]]),
                 np.array([[0.0, half, 0.0, o.dendrite_radius_um], [0.0, top, 0.0, o.dendrite_radius_um]])]
    return cell


BALL_AND_STICK_OPTIONS = ("soma_length_um", "soma_radius_um", "dendrite_length_um", "dendrite_radius_um",
                          "dendrite_compartments", "active_dendrites")


def load_template(o):
    """The Jaxley Cell named by ``o.morphology``: ``ball_and_stick``, an ``.swc`` file (HH
    channels everywhere) or ``package.module:function`` returning a ``jaxley.Cell``."""
    import jaxley as jx
    spec = o.morphology
    if spec == "ball_and_stick":
        return ball_and_stick(o)
    defaults = type(o)()
    unused = [k for k in BALL_AND_STICK_OPTIONS if getattr(o, k) != getattr(defaults, k)]
    if unused:
        raise ConfigError([(f"$.emitter.{unused[0]}", f"{unused} only shape the ball_and_stick cell; "
                            f"morphology {spec!r} brings its own geometry (allowed: leave them out)")])
    if o.swc_compartments_per_branch != defaults.swc_compartments_per_branch and not spec.endswith(".swc"):
        raise ConfigError([("$.emitter.swc_compartments_per_branch", "applies to .swc morphologies only")])
    if spec.endswith(".swc"):
        path = Path(spec)
        if not path.is_file():
            raise ConfigError([("$.emitter.morphology", f"SWC file {spec!r} does not exist")])
        from jaxley.channels import HH
        cell = jx.read_swc(str(path), ncomp=o.swc_compartments_per_branch)
        cell.insert(HH())
        return cell
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as e:
            raise ConfigError([("$.emitter.morphology", f"cannot import {spec!r}: {e}")]) from None
        cell = factory()
        if isinstance(cell, jx.Network):
            raise NotYetAvailableError(f"{spec!r} returned a jaxley.Network; the bridge replicates "
                                       "one jaxley.Cell template (networks with Jaxley synapses are not bridged yet)")
        if not isinstance(cell, jx.Cell):
            raise ConfigError([("$.emitter.morphology", f"{spec!r} returned {type(cell).__name__}; "
                                "allowed: a jaxley.Cell")])
        return cell
    raise ConfigError([("$.emitter.morphology", f"{spec!r}; allowed: 'ball_and_stick', a path "
                        "ending in .swc, or 'package.module:function' returning a jaxley.Cell")])


def _polyline_point(points, cumlen, s):
    """Point at arc length ``s`` along a polyline."""
    k = int(np.clip(np.searchsorted(cumlen, s, side="right") - 1, 0, len(points) - 2))
    seg = cumlen[k + 1] - cumlen[k]
    f = 0.0 if seg <= 0 else (s - cumlen[k]) / seg
    return points[k] + f * (points[k + 1] - points[k])


def template_segments(cell) -> np.ndarray:
    """(S, 2, 3) start/end of each compartment of a template, in Jaxley's frame, in the order of
    ``cell.nodes``: each branch's traced path split into equal-length pieces. Branches without
    traced coordinates are laid out by Jaxley's ``compute_xyz`` first."""
    if any(np.isnan(np.asarray(xyzr)[:, :3]).any() for xyzr in cell.xyzr):
        cell.compute_xyz()
    nodes = cell.nodes
    out = np.zeros((len(nodes), 2, 3))
    branch = nodes["local_branch_index"].to_numpy()
    local = nodes["local_comp_index"].to_numpy()
    for b, xyzr in enumerate(cell.xyzr):
        pts = np.asarray(xyzr, np.float64)[:, :3]
        cum = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
        rows = np.flatnonzero(branch == b)
        n = rows.size
        for r in rows:
            out[r, 0] = _polyline_point(pts, cum, cum[-1] * local[r] / n)
            out[r, 1] = _polyline_point(pts, cum, cum[-1] * (local[r] + 1) / n)
    return out


def to_column_frame(segments_jaxley: np.ndarray, soma_um: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Map template segments (Jaxley frame, ``origin`` = the template's soma centre) onto a soma
    at ``soma_um`` = (x, y, depth) in jaxfne's frame."""
    rel = segments_jaxley - origin
    return np.stack([soma_um[0] + rel[..., 0], soma_um[1] + rel[..., 2], soma_um[2] - rel[..., 1]], -1)
