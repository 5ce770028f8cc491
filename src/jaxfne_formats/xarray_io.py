"""Signals <-> ``xarray.Dataset`` (``pip install jaxfne[xarray]``).

Dimensions: ``time`` (ms, sample k at t0 + (k + 1) dt), ``neuron`` (spikes, V_m), ``vm_cell`` (V_m
when the probe records a subset, with coordinate ``vm_cell_index``), ``contact`` (LFP,
CSD), ``source`` (transmembrane sources). Coordinates carry positions in um (x, y, depth), the
neurons' population, the sources' cell. Each variable's ``units`` attribute is the pipeline's
unit for it; the Dataset's attributes hold ``dt_ms``, the claims and, when given, the receipt
(JSON) as provenance.
"""
from __future__ import annotations

import json

import numpy as np

from jaxfne_core.signals import Signals
from ._context import rebuild_context, receipt_dict, require
from jaxfne_core.errors import UsageError

DIMS = {"spikes": ("time", "neuron"), "V_m": ("time", "neuron"), "LFP": ("time", "contact"),
        "CSD": ("time", "contact"), "sources": ("time", "source"), "weights": ("time", "synapse"),
        "dipole": ("time", "dipole_population", "component")}


def to_xarray(signals: Signals, receipt=None):
    """One trial's Signals as an ``xarray.Dataset`` (batched Signals: index a trial first)."""
    xr = require("xarray", "xarray")
    ctx = signals.context.model
    data = {}
    for mode, arr in signals.to_numpy().items():
        if arr.ndim != len(DIMS[mode]):
            raise UsageError(f"signal {mode!r} has shape {arr.shape}; to_xarray takes one trial (T, X)")
        dims = ("time", "vm_cell") if mode == "V_m" and ctx.v_m_cells is not None else DIMS[mode]
        data[mode] = xr.Variable(dims, arr, {"units": signals.units.get(mode, "")})
    coords = {"time": ("time", signals.time_ms, {"units": "ms"}),
              "neuron_population": ("neuron", np.array(ctx.population_names)[ctx.population]),
              "contact_depth_um": ("contact", ctx.contact_positions_um[:, 2], {"units": "um"})}
    for axis, name in enumerate("xyz"):
        label = "depth" if name == "z" else name
        coords[f"neuron_{label}_um"] = ("neuron", ctx.cell_positions_um[:, axis], {"units": "um"})
        if label != "depth":
            coords[f"contact_{label}_um"] = ("contact", ctx.contact_positions_um[:, axis], {"units": "um"})
        if "sources" in data and ctx.source_positions_um is not None:
            coords[f"source_{label}_um"] = ("source", ctx.source_positions_um[:, axis], {"units": "um"})
    if "sources" in data and ctx.source_cell is not None:
        coords["source_cell"] = ("source", np.asarray(ctx.source_cell))
    if "dipole" in data:
        coords["dipole_population"] = ("dipole_population", np.array(list(ctx.population_names) + ["total"]))
        coords["component"] = ("component", np.array(["x", "y", "depth"]))
    if ctx.v_m_cells is not None:
        coords["vm_cell_index"] = ("vm_cell", np.asarray(ctx.v_m_cells))
    attrs = {"dt_ms": signals.dt_ms, "t0_ms": signals.t0_ms, "generated_by": "jaxfne",
             "claims_json": json.dumps({k: getattr(v, "value", v) for k, v in ctx.claims.items()}, sort_keys=True),
             "population_names_json": json.dumps(list(ctx.population_names))}
    if receipt is not None:
        attrs["receipt_json"] = json.dumps(receipt_dict(receipt), sort_keys=True)
    return xr.Dataset(data, coords=coords, attrs=attrs)


def from_xarray(ds) -> Signals:
    """Signals from a Dataset written by :func:`to_xarray` (arrays, units, geometry)."""
    names = json.loads(ds.attrs["population_names_json"])
    arrays = {m: ds[m].values for m in DIMS if m in ds}
    units = {m: ds[m].attrs.get("units", "") for m in arrays}
    pos = lambda prefix: np.stack([ds[f"{prefix}_{a}_um"].values for a in ("x", "y", "depth")], 1)
    population = np.array([names.index(p) for p in ds["neuron_population"].values], np.int32)
    has_src = "source_x_um" in ds.coords
    ctx = rebuild_context(names, population, pos("neuron"), pos("contact"), json.loads(ds.attrs["claims_json"]),
                          pos("source") if has_src else None,
                          ds["source_cell"].values if "source_cell" in ds.coords else None,
                          float(ds.attrs["dt_ms"]), ds.sizes["time"],
                          ds["vm_cell_index"].values if "vm_cell_index" in ds.coords else None,
                          float(ds.attrs.get("t0_ms", 0.0)))
    return Signals(arrays, float(ds.attrs["dt_ms"]), units, ctx, t0_ms=float(ds.attrs.get("t0_ms", 0.0)))
