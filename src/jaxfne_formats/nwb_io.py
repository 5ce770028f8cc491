"""Signals <-> NWB files (``pip install jaxfne[nwb]``: pynwb).

Layout. LFP in uV: an ``ElectricalSeries`` inside ``processing/ecephys/LFP`` (volts through
``conversion = 1e-6``; the stored numbers are the simulated uV exactly). LFP that is only
relative is not volts, so it is a ``TimeSeries`` in ``processing/jaxfne`` with its own unit,
like CSD (uA/mm^3), transmembrane sources (nA or native) and V_m (mV, ``conversion = 1e-3``).
Spikes: the ``Units`` table, one row per neuron, with its population and soma position (um).
The electrodes table holds each contact's position (um) and shank. Provenance: the receipt (and
the claims, units and source geometry) as JSON in ``notes``; ``was_generated_by`` names jaxfne.
Sample k sits at (k + 1) dt: ``starting_time = dt``, ``rate = 1000 / dt_ms`` Hz.
"""
from __future__ import annotations

import datetime
import json

import numpy as np

from jaxfne_core.io import atomic_path
from jaxfne_core.signals import Signals
from jaxfne_core.version import __version__
from ._context import rebuild_context, receipt_dict, require
from jaxfne_core.errors import UsageError

MICROVOLT = "uV"


def _notes(signals, receipt) -> str:
    ctx = signals.context.model
    return json.dumps({
        "receipt": receipt_dict(receipt),
        "claims": {k: getattr(v, "value", v) for k, v in ctx.claims.items()},
        "units": signals.units, "dt_ms": signals.dt_ms, "n_steps": signals.n_steps,
        "population_names": list(ctx.population_names),
        "cell_population": np.asarray(ctx.population).tolist(),
        "cell_positions_um": np.asarray(ctx.cell_positions_um).tolist(),
        "source_positions_um": None if ctx.source_positions_um is None else np.asarray(ctx.source_positions_um).tolist(),
        "source_cell": None if ctx.source_cell is None else np.asarray(ctx.source_cell).tolist(),
        "v_m_cells": None if ctx.v_m_cells is None else np.asarray(ctx.v_m_cells).tolist(), "t0_ms": signals.t0_ms,
    }, sort_keys=True)


def write_nwb(signals: Signals, path, receipt=None, *, session_start_time=None, overwrite=False):
    """Write one trial's Signals to an NWB file at ``path`` (atomically). Returns the path.

    receipt: a RunReceipt or its dict (provenance; its id becomes the file's identifier)."""
    pynwb = require("pynwb", "nwb")
    from pynwb.ecephys import LFP
    ctx = signals.context.model
    arrays = signals.to_numpy()
    for mode, a in arrays.items():
        if a.ndim != 2:
            raise UsageError(f"signal {mode!r} has shape {a.shape}; write_nwb takes one trial (T, X)")
    receipt = receipt_dict(receipt)
    ident = receipt["receipt_id"] if receipt is not None else signals.digest()[:16]
    start = session_start_time or datetime.datetime.now(datetime.timezone.utc)
    nwb = pynwb.NWBFile(session_description="jaxfne simulation of a laminar cortical column",
                        identifier=f"jaxfne-{ident}", session_start_time=start,
                        notes=_notes(signals, receipt), was_generated_by=[["jaxfne", __version__]])
    dt_s = signals.dt_ms / 1000.0
    timing = {"starting_time": signals.t0_ms / 1000.0 + dt_s, "rate": 1.0 / dt_s}
    device = nwb.create_device(name="jaxfne_probe", description="simulated laminar probe")
    group = nwb.create_electrode_group(name="probe", description="simulated contacts", location="cortical column",
                                       device=device)
    nwb.add_electrode_column(name="depth_um", description="depth below the pia (um)")
    for x, y, z in ctx.contact_positions_um:
        nwb.add_electrode(group=group, location="cortical column", rel_x=float(x), rel_y=float(y), rel_z=float(z),
                          depth_um=float(z))
    box = nwb.create_processing_module(name="jaxfne", description="simulated signals that are not volts")
    if "LFP" in arrays:
        unit = signals.units.get("LFP", "")
        if unit == MICROVOLT:
            container = LFP(name="LFP")
            nwb.create_processing_module(name="ecephys", description="LFP").add(container)
            region = nwb.create_electrode_table_region(list(range(len(ctx.contact_positions_um))), "all contacts")
            container.create_electrical_series(name="LFP", data=arrays["LFP"], electrodes=region, conversion=1e-6,
                                               description="simulated LFP, stored in uV", **timing)
        else:
            box.add(pynwb.TimeSeries(name="LFP", data=arrays["LFP"], unit=unit,
                                     description="LFP in relative units (not volts)", **timing))
    if "CSD" in arrays:
        box.add(pynwb.TimeSeries(name="CSD", data=arrays["CSD"], unit=signals.units.get("CSD", ""),
                                 description="current source density at the contacts", **timing))
    if "sources" in arrays:
        box.add(pynwb.TimeSeries(name="sources", data=arrays["sources"], unit=signals.units.get("sources", ""),
                                 description="transmembrane source currents (outward positive)", **timing))
    if "V_m" in arrays:
        box.add(pynwb.TimeSeries(name="V_m", data=arrays["V_m"], unit="volts", conversion=1e-3,
                                 description="membrane potential per neuron, stored in mV", **timing))
    if "spikes" in arrays:
        nwb.add_unit_column(name="population", description="population name")
        for axis in ("x_um", "y_um", "depth_um"):
            nwb.add_unit_column(name=axis, description=f"soma {axis[:-3]} (um)")
        spikes = arrays["spikes"]
        for i in range(spikes.shape[1]):
            times = signals.t0_ms / 1000.0 + (np.flatnonzero(spikes[:, i]) + 1) * dt_s
            x, y, z = ctx.cell_positions_um[i]
            nwb.add_unit(spike_times=times, population=ctx.population_names[ctx.population[i]],
                         x_um=float(x), y_um=float(y), depth_um=float(z))
    with atomic_path(path, overwrite=overwrite) as tmp:
        with pynwb.NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
    return path


def validate_nwb(path) -> list:
    """Schema errors of an NWB file (empty list: valid)."""
    pynwb = require("pynwb", "nwb")
    return list(pynwb.validate(path=str(path)))


def read_nwb(path) -> Signals:
    """Signals from an NWB file written by :func:`write_nwb` (arrays, units, geometry)."""
    pynwb = require("pynwb", "nwb")
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        meta = json.loads(nwb.notes)
        dt = float(meta["dt_ms"])
        units = dict(meta["units"])
        arrays = {}
        box = nwb.processing["jaxfne"]
        for mode in ("LFP", "CSD", "sources", "V_m"):
            if mode in box.data_interfaces:
                arrays[mode] = np.asarray(box[mode].data[:])
        if "ecephys" in nwb.processing:
            arrays["LFP"] = np.asarray(nwb.processing["ecephys"]["LFP"]["LFP"].data[:])
        el = nwb.electrodes.to_dataframe()
        contacts = el[["rel_x", "rel_y", "rel_z"]].to_numpy(np.float64)
        names, n_steps = meta["population_names"], int(meta["n_steps"])
        if nwb.units is not None:
            table = nwb.units.to_dataframe()
            spikes = np.zeros((n_steps, len(table)), bool)
            for i, times in enumerate(table["spike_times"]):
                spikes[np.rint((np.asarray(times) * 1000.0 - meta.get("t0_ms", 0.0)) / dt).astype(int) - 1, i] = True
            arrays["spikes"] = spikes
    ctx = rebuild_context(names, meta["cell_population"], meta["cell_positions_um"], contacts, meta["claims"], meta["source_positions_um"],
                          meta["source_cell"], dt, n_steps, meta.get("v_m_cells"), meta.get("t0_ms", 0.0))
    return Signals(arrays, dt, units, ctx, t0_ms=meta.get("t0_ms", 0.0))
