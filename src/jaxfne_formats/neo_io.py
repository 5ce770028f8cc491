"""Signals <-> a ``neo.Block`` (``pip install jaxfne[neo]``).

One Segment: LFP, CSD, V_m and sources as ``AnalogSignal`` (time axis from dt; units through
``quantities`` where they are physical: uV, mV, nA; ``dimensionless`` otherwise, with jaxfne's
unit string in the signal's annotations), spikes as one ``SpikeTrain`` per neuron (ms) annotated
with its population and soma position. The block's annotations keep dt, claims and geometry.
"""
from __future__ import annotations

import json

import numpy as np

from jaxfne_core.signals import Signals
from ._context import rebuild_context, receipt_dict, require

PHYSICAL = {"uV": "uV", "mV": "mV", "nA": "nA"}


def to_neo(signals: Signals, receipt=None):
    """One trial's Signals as a ``neo.Block`` with one Segment."""
    neo = require("neo", "neo")
    import quantities as pq
    ctx = signals.context.model
    block = neo.Block(name="jaxfne run", dt_ms=signals.dt_ms, n_steps=signals.n_steps,
                      population_names=json.dumps(list(ctx.population_names)),
                      claims=json.dumps({k: getattr(v, "value", v) for k, v in ctx.claims.items()}),
                      contact_positions_um=json.dumps(np.asarray(ctx.contact_positions_um).tolist()),
                      cell_positions_um=json.dumps(np.asarray(ctx.cell_positions_um).tolist()),
                      cell_population=json.dumps(np.asarray(ctx.population).tolist()),
                      t0_ms=signals.t0_ms,
                      v_m_cells=json.dumps(None if ctx.v_m_cells is None else np.asarray(ctx.v_m_cells).tolist()),
                      receipt=json.dumps(receipt_dict(receipt)))
    seg = neo.Segment(name="trial 0")
    block.segments.append(seg)
    arrays = signals.to_numpy()
    for mode in ("LFP", "CSD", "V_m", "sources"):
        if mode in arrays:
            unit = signals.units.get(mode, "")
            seg.analogsignals.append(neo.AnalogSignal(
                arrays[mode], units=PHYSICAL.get(unit, "dimensionless"), sampling_period=signals.dt_ms * pq.ms,
                t_start=(signals.t0_ms + signals.dt_ms) * pq.ms, name=mode, jaxfne_units=unit))
    if "spikes" in arrays:
        t_stop = signals.t0_ms + (signals.n_steps + 1) * signals.dt_ms
        for i in range(arrays["spikes"].shape[1]):
            times = signals.t0_ms + (np.flatnonzero(arrays["spikes"][:, i]) + 1) * signals.dt_ms
            x, y, z = (float(c) for c in ctx.cell_positions_um[i])
            seg.spiketrains.append(neo.SpikeTrain(times, units="ms", t_stop=t_stop, name=f"neuron {i}",
                                                  population=ctx.population_names[ctx.population[i]],
                                                  x_um=x, y_um=y, depth_um=z))
    return block


def from_neo(block) -> Signals:
    """Signals from a Block made by :func:`to_neo`."""
    ann = block.annotations
    dt, n_steps = float(ann["dt_ms"]), int(ann["n_steps"])
    seg = block.segments[0]
    arrays, units = {}, {}
    for sig in seg.analogsignals:
        arrays[sig.name] = np.asarray(sig.magnitude)
        units[sig.name] = sig.annotations["jaxfne_units"]
    if seg.spiketrains:
        spikes = np.zeros((n_steps, len(seg.spiketrains)), bool)
        for i, train in enumerate(seg.spiketrains):
            spikes[np.rint((train.rescale("ms").magnitude - float(ann.get("t0_ms", 0.0))) / dt).astype(int) - 1, i] = True
        arrays["spikes"] = spikes
        units["spikes"] = "1"
    ctx = rebuild_context(json.loads(ann["population_names"]), json.loads(ann["cell_population"]),
                          json.loads(ann["cell_positions_um"]), json.loads(ann["contact_positions_um"]),
                          json.loads(ann["claims"]), None, None, dt, n_steps,
                          json.loads(ann.get("v_m_cells", "null")), float(ann.get("t0_ms", 0.0)))
    return Signals(arrays, dt, units, ctx, t0_ms=float(ann.get("t0_ms", 0.0)))
