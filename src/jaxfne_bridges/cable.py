"""Transmembrane currents of a compartmental cell, derived from its voltages (cable equation).

At every compartment k, Kirchhoff's current law says that the axial current flowing in from the
neighbours leaves through the membrane:

    I_m,k = sum_j G_kj (V_j - V_k)        (nA, outward positive; G in uS, V in mV)

with G the absolute axial conductances between neighbouring compartments. Branch points are
massless nodes; their voltage is eliminated by Kirchhoff at the node,
``V_bp = sum_k G_k V_k / sum_k G_k``. Because G is symmetric and every branch point conserves
current, the currents of each cell sum to zero to round-off, whatever the voltages. The input
current of the emitter is modelled as a synaptic current crossing the membrane, so it is part of
I_m (summing recorded channel currents plus C dV/dt instead is off by large amounts in spikes).

The conductances are Jaxley's own (its ``compute_axial_conductances`` uses the same half
compartment resistances ``r_a * load``), in absolute units: ``G [uS] = 100 / (r_a [Ohm cm] *
load [1/um])``.
"""
from __future__ import annotations

import attrs
import jax.numpy as jnp
import numpy as np
from jax.ops import segment_sum

OHM_CM_PER_UM_TO_MOHM = 1e-2     # r_a [Ohm cm] * load [1/um] = 1e4 Ohm = 1e-2 MOhm


@attrs.frozen(eq=False)
class AxialGraph:
    """Compartment-to-compartment and compartment-to-branch-point conductances (NumPy).

    comp_nodes: (S,) state index of each compartment (Jaxley's node index).
    pair_a, pair_b, pair_g: (P,) unordered compartment pairs (positions in 0..S-1) and their uS.
    bp_comp, bp_id, bp_g: (B,) compartment (0..S-1), branch point (0..n_bp-1), uS.
    """

    comp_nodes: np.ndarray
    pair_a: np.ndarray
    pair_b: np.ndarray
    pair_g: np.ndarray
    bp_comp: np.ndarray
    bp_id: np.ndarray
    bp_g: np.ndarray
    n_branchpoints: int

    @property
    def n_compartments(self) -> int:
        return int(self.comp_nodes.shape[0])

    def arrays(self) -> dict:
        """JAX arrays for :func:`membrane_currents` (float32 conductances, int32 indices)."""
        i32, f32 = jnp.int32, jnp.float32
        return {"pair_a": jnp.asarray(self.pair_a, i32), "pair_b": jnp.asarray(self.pair_b, i32),
                "pair_g": jnp.asarray(self.pair_g, f32), "bp_comp": jnp.asarray(self.bp_comp, i32),
                "bp_id": jnp.asarray(self.bp_id, i32), "bp_g": jnp.asarray(self.bp_g, f32),
                "comp_nodes": jnp.asarray(self.comp_nodes, i32)}


def axial_graph(module) -> AxialGraph:
    """Conductances of a Jaxley module (Cell or Network) from its ``_comp_edges`` table."""
    nodes = module.nodes
    comp_nodes = nodes.index.to_numpy().astype(np.int64)
    position = {int(n): i for i, n in enumerate(comp_nodes)}
    r_a = nodes["axial_resistivity"].to_numpy(np.float64)
    load_in = nodes["resistive_load_in"].to_numpy(np.float64) * r_a
    load_out = nodes["resistive_load_out"].to_numpy(np.float64) * r_a
    edges = module._comp_edges
    kind = edges["type"].to_numpy()
    src = edges["source"].to_numpy().astype(np.int64)
    snk = edges["sink"].to_numpy().astype(np.int64)
    ordered = edges["ordered"].to_numpy().astype(bool)

    c2c = (kind == 0) & ordered                 # each pair once: source's "out", sink's "in" half
    a = np.array([position[int(n)] for n in src[c2c]], np.int64)
    b = np.array([position[int(n)] for n in snk[c2c]], np.int64)
    pair_g = 1.0 / ((load_out[a] + load_in[b]) * OHM_CM_PER_UM_TO_MOHM)

    bp2c = np.isin(kind, (1, 2))                # branch point -> compartment, the half it faces
    comp = np.array([position[int(n)] for n in snk[bp2c]], np.int64)
    half = np.where(ordered[bp2c], load_in[comp], load_out[comp])
    bp_nodes = src[bp2c]
    uniq, bp_id = np.unique(bp_nodes, return_inverse=True)
    bp_g = 1.0 / (half * OHM_CM_PER_UM_TO_MOHM)
    return AxialGraph(comp_nodes, a, b, pair_g, comp, bp_id.astype(np.int64), bp_g, int(uniq.size))


def membrane_currents(v_nodes, graph: dict, n_branchpoints: int):
    """(S,) transmembrane currents (nA) from the voltages of every node (mV). Pure, jittable.

    v_nodes: Jaxley's ``states["v"]`` (compartments and branch points); only the compartments'
    voltages are read, branch points are eliminated by Kirchhoff.
    """
    v = v_nodes[graph["comp_nodes"]]
    s = v.shape[0]
    flow = graph["pair_g"] * (v[graph["pair_b"]] - v[graph["pair_a"]])     # a -> gains, b -> loses
    i_m = segment_sum(flow, graph["pair_a"], s) - segment_sum(flow, graph["pair_b"], s)
    if n_branchpoints:
        g = graph["bp_g"]
        g_sum = segment_sum(g, graph["bp_id"], n_branchpoints)
        v_bp = segment_sum(g * v[graph["bp_comp"]], graph["bp_id"], n_branchpoints) / g_sum
        i_m = i_m + segment_sum(g * (v_bp[graph["bp_id"]] - v[graph["bp_comp"]]), graph["bp_comp"], s)
    return i_m


def branchpoint_voltages(v_nodes, graph: dict, n_branchpoints: int):
    """(n_bp,) branch-point voltages implied by Kirchhoff (to compare with the solver's)."""
    v = v_nodes[graph["comp_nodes"]]
    g = graph["bp_g"]
    return (segment_sum(g * v[graph["bp_comp"]], graph["bp_id"], n_branchpoints)
            / segment_sum(g, graph["bp_id"], n_branchpoints))
