"""Jaxley bridge: detailed multi-compartment cells as an emitter (``pip install jaxfne[jaxley]``).

``network.n`` copies of one Jaxley cell template (:mod:`.morphology`) stand with their somata at
``soma_depth_um``, scattered over the column's radius, dendrites towards the pia. Every step is
one Jaxley implicit-Euler step (``jaxley.integrate.build_init_and_step_fn``) inside jaxfne's
``lax.scan``. The emitter's input current (stimulus drives, ``drive_nA``) enters each soma as a
synaptic current in nA. Spikes are upward crossings of ``spike_threshold_mV`` at the soma; V_m is
the soma's voltage. The compartments' transmembrane currents come from the voltages through the
cable equation (:mod:`.cable`), so each cell's sum to zero; the ``compartments`` source hands them
to the field as line sources along the compartments.

The cells are not connected to each other (jaxfne's ``p_connect`` does not apply): detailed
networks with Jaxley synapses are not bridged yet. ``build`` keeps the Jaxley module and its
step function on the stage object (they are static, not arrays), so one stage object serves one
built circuit at a time; ``construct`` makes a stage object per model.
"""
from __future__ import annotations

import importlib.util

import attrs
import jax.numpy as jnp
import numpy as np

from jaxfne_core.errors import ConfigError, MissingExtraError, UsageError
from jaxfne_core.ports import Port
from jaxfne_core.stages import Circuit, Compartments, Emitter
from jaxfne_core.validators import number

from . import cable, morphology


def require_jaxley():
    if importlib.util.find_spec("jaxley") is None:
        raise MissingExtraError("the 'jaxley' emitter needs Jaxley: pip install jaxfne[jaxley]")
    import jaxley
    return jaxley


@attrs.frozen(kw_only=True)
class JaxleyOptions:
    """morphology: ``ball_and_stick``, a path to an ``.swc`` file, or ``package.module:function``
    returning a ``jaxley.Cell`` (channels inserted). The ball-and-stick cell: soma of
    ``soma_length_um`` x ``soma_radius_um``, apical dendrite of ``dendrite_length_um`` x
    ``dendrite_radius_um`` in ``dendrite_compartments`` compartments, HH in the soma (and the
    dendrite when ``active_dendrites``). swc_compartments_per_branch: compartments per SWC branch.
    soma_depth_um: depth of the somata (um below the pia). drive_nA: constant somatic input (nA).
    spike_threshold_mV: upward crossing at the soma that counts as a spike.
    """

    morphology: str = "ball_and_stick"
    soma_length_um: float = attrs.field(default=20.0, validator=number(0, lo_open=True))
    soma_radius_um: float = attrs.field(default=10.0, validator=number(0, lo_open=True))
    dendrite_length_um: float = attrs.field(default=600.0, validator=number(0, lo_open=True))
    dendrite_radius_um: float = attrs.field(default=1.0, validator=number(0, lo_open=True))
    dendrite_compartments: int = attrs.field(default=12, validator=number(1, 1000))
    active_dendrites: bool = False
    swc_compartments_per_branch: int = attrs.field(default=2, validator=number(1, 100))
    soma_depth_um: float = attrs.field(default=900.0, validator=number(0))
    drive_nA: float = 0.0
    spike_threshold_mV: float = 0.0


class JaxleyEmitter(Emitter):
    """Jaxley multi-compartment cells as an emitter (needs jaxfne[jaxley])."""

    name = "jaxley"
    Options = JaxleyOptions
    outputs = Emitter.outputs + (Port("membrane_current", "nA", ("compartment",)),)

    def __init__(self, options=None, built=None):
        require_jaxley()
        super().__init__(options)
        self._built = built          # what build() made, given to the stage bind() returns

    # ---------------------------------------------------------------- build (NumPy, pandas)
    def build(self, network) -> Circuit:
        import jaxley as jx
        from jaxley.integrate import build_init_and_step_fn

        if network.layers is not None:
            raise ConfigError([("$.network.layers", "the 'jaxley' emitter places one population at "
                                "soma_depth_um; allowed: no layers")])
        o = self.options
        if o.soma_depth_um > network.thickness_um:
            raise ConfigError([("$.emitter.soma_depth_um", f"{o.soma_depth_um} um lies below the column "
                                f"(thickness_um = {network.thickness_um}); allowed: 0..thickness_um")])
        template = morphology.load_template(o)
        local = morphology.template_segments(template)
        soma_rows = np.flatnonzero((template.nodes["local_branch_index"].to_numpy() == 0)
                                   & (template.nodes["local_comp_index"].to_numpy() == 0))
        origin = local[soma_rows[0]].mean(axis=0)
        n = network.n
        rng = np.random.default_rng(network.seed)
        r = network.radius_um * np.sqrt(rng.random(n))
        phi = 2 * np.pi * rng.random(n)
        somata = np.stack([r * np.cos(phi), r * np.sin(phi), np.full(n, o.soma_depth_um)], 1)

        module = template if n == 1 else jx.Network([template] * n)
        module.to_jax()
        graph = cable.axial_graph(module)
        per_cell = len(template.nodes)
        cell_of = module.nodes["global_cell_index"].to_numpy().astype(np.int32)
        segments = np.concatenate([morphology.to_column_frame(local, somata[c], origin) for c in range(n)])
        soma_nodes = graph.comp_nodes[np.arange(n) * per_cell + soma_rows[0]]
        init_fn, step_fn = build_init_and_step_fn(module, solver="bwd_euler")
        built = {"module": module, "graph": graph, "init_fn": init_fn, "step_fn": step_fn,
                 "soma_nodes": soma_nodes.astype(np.int32),
                 "channel_params": self._channel_param_names(template)}
        empty = np.zeros(0, np.int32)
        return Circuit(("jaxley",), np.zeros(n, np.int32), somata, np.ones(n, bool), empty, empty,
                       np.zeros(0, np.float32), "edge_list", float(network.thickness_um),
                       compartments=Compartments(segments, cell_of), extra=built)

    def bind(self, circuit: Circuit) -> "JaxleyEmitter":
        """A new stage carrying the Jaxley module and step function ``build`` put in the circuit."""
        if circuit.extra is None:
            raise UsageError("the Jaxley emitter steps a circuit its own build() made (circuit.extra is empty)")
        return JaxleyEmitter(self.options, circuit.extra)

    @staticmethod
    def _channel_param_names(template) -> tuple:
        names = []
        for channel in template.channels:
            names += [k for k in channel.channel_params if k in template.nodes.columns]
        return tuple(names)

    def _require_built(self):
        if self._built is None:
            raise UsageError("the Jaxley emitter is used through bind(build(network)): this stage has "
                             "not been bound to a built circuit")
        return self._built

    # ---------------------------------------------------------------- arrays (JAX)
    def init_params(self, circuit: Circuit) -> dict:
        b = self._require_built()
        # delta_t only seeds the channel currents stored in the initial state; every step
        # recomputes them with the run's own dt
        states, all_params = b["init_fn"](b["module"].get_parameters(), delta_t=0.025)
        f32 = lambda tree: {k: (f32(v) if isinstance(v, dict) else jnp.asarray(v, jnp.float32))
                            for k, v in tree.items()}
        init = f32(states)
        return {"jaxley": f32(all_params), "init": init, "axial": b["graph"].arrays(),
                "soma_nodes": jnp.asarray(b["soma_nodes"], jnp.int32),
                "drive_nA": jnp.float32(self.options.drive_nA)}

    def init_state(self, params):
        v0 = params["init"]["v"][params["soma_nodes"]]
        return {"jaxley": params["init"], "v_soma": v0}

    def step(self, params, state, current, key, dt: float):
        b = self._require_built()
        i_nA = current + params["drive_nA"]
        new = b["step_fn"](state["jaxley"], params["jaxley"], {"i": i_nA}, {"i": params["soma_nodes"]},
                           delta_t=dt)
        v = new["v"][params["soma_nodes"]]
        thr = self.options.spike_threshold_mV
        spikes = (state["v_soma"] < thr) & (v >= thr)
        return {"jaxley": new, "v_soma": v}, spikes, v

    def membrane_currents(self, params, state):
        b = self._require_built()
        return cable.membrane_currents(state["jaxley"]["v"], params["axial"], b["graph"].n_branchpoints)

    # ---------------------------------------------------------------- tuning
    def tunables(self, circuit: Circuit) -> dict:
        b = self._require_built()
        out = {"drive_nA": (self.options.drive_nA, 0.0, 2.0)}
        out.update({f"scale.{k}": (1.0, 0.1, 10.0, "log") for k in b["channel_params"]})
        return out

    def apply_tunables(self, params, values, circuit: Circuit):
        jx_params = dict(params["jaxley"])
        for name, value in values.items():
            if name.startswith("scale."):
                key = name[len("scale."):]
                jx_params[key] = jx_params[key] * value
        out = {**params, "jaxley": jx_params}
        if "drive_nA" in values:
            out["drive_nA"] = jnp.asarray(values["drive_nA"], jnp.float32)
        return out
