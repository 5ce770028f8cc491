"""A built network as a file (``network.npz``): cells, positions, the edge list with weights,
delays and pathways, so a run's exact network can be loaded and simulated again.

``save_circuit(path, circuit)`` writes atomically; ``load_circuit(path)`` returns a Circuit
equal array for array (bit-identical weights, delays, positions). Emitter build products
(``Circuit.extra``) are kept when they are a dict of arrays (as the point-neuron emitters'
initial potentials are); an emitter whose products are not arrays (a compiled detailed-cell
model) cannot be saved this way and is refused.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from jaxfne_core.errors import ConfigError, UsageError
from jaxfne_core.io import write_npz_atomic
from jaxfne_core.stages import Circuit, Pathway

FORMAT = "jaxfne.network/1"
ARRAYS = ("population", "positions_um", "excitatory", "pre", "post", "weight")


def circuit_arrays(circuit: Circuit) -> dict:
    """The arrays of ``network.npz`` for ``circuit``."""
    if circuit.compartments is not None:
        raise UsageError("circuits with compartments (detailed cells) are not saved as network.npz")
    extra = circuit.extra or {}
    if not (isinstance(extra, dict) and all(isinstance(v, np.ndarray) for v in extra.values())):
        raise UsageError(f"this circuit's emitter products (Circuit.extra, {type(circuit.extra).__name__}) are not "
                         "arrays; only circuits of point-neuron emitters are saved as network.npz")
    meta = {"format": FORMAT, "population_names": list(circuit.population_names),
            "connectivity": circuit.connectivity, "thickness_um": float(circuit.thickness_um),
            "pathways": [[p.name, p.receptor] for p in circuit.pathways], "extra": sorted(extra)}
    out = {k: np.asarray(getattr(circuit, k)) for k in ARRAYS}
    out["meta"] = np.array(json.dumps(meta))
    if circuit.delay_ms is not None:
        out["delay_ms"] = np.asarray(circuit.delay_ms, np.float64)
    if circuit.edge_pathway is not None:
        out["edge_pathway"] = np.asarray(circuit.edge_pathway, np.int32)
    out.update({f"extra.{k}": v for k, v in extra.items()})
    return out


def save_circuit(path, circuit: Circuit, *, overwrite: bool = False) -> Path:
    """Write ``circuit`` to ``path`` (``.npz``), atomically."""
    return write_npz_atomic(path, circuit_arrays(circuit), overwrite=overwrite)


def load_circuit(path) -> Circuit:
    """The Circuit saved at ``path`` (a ``network.npz`` or a run folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "network.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError([("network", f"{str(path)!r} is not a network.npz jaxfne wrote ({e}); allowed: the "
                            "network.npz of a jaxfne run or of save_circuit")]) from None
    if meta.get("format") != FORMAT:
        raise ConfigError([("network", f"{str(path)!r} has format {meta.get('format')!r}; allowed: {FORMAT!r}")])
    extra = {k: data[f"extra.{k}"] for k in meta["extra"]}
    return Circuit(tuple(meta["population_names"]), data["population"], data["positions_um"], data["excitatory"],
                   data["pre"], data["post"], data["weight"], meta["connectivity"], meta["thickness_um"],
                   extra=extra or None, delay_ms=data.get("delay_ms"),
                   pathways=tuple(Pathway(n, r) for n, r in meta["pathways"]), edge_pathway=data.get("edge_pathway"))
