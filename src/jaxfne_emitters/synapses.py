"""Synaptic current sources: exponential kernels that drive the network and place the same
currents in space as charge-conserving transmembrane sources.

Each presynaptic spike adds its edge weight w (native current) to the synaptic-current state
of its channel at the postsynaptic cell; the state decays as exp(-dt / tau) per step, so one
spike delivers a charge of w * dt / (1 - exp(-dt / tau)) ~= w * tau. Dense (C, N, N) matrices
the edge list (``jax.ops.segment_sum``) and event delivery (``event_delivery``: only the
spiking cells' rows) feed the SAME per-(channel, cell) state, so they deliver the same charge
for the same weights (one step of transmission delay in all three).

Space: the synaptic current I_c of channel c enters cell n at a dendritic site ``offset_um[c]``
above the soma (toward the pia; negative = below), a transmembrane current -I_c there (an
inward, depolarizing current is a sink), and leaves through the soma as the return current
+sum_c I_c. Per cell the currents sum to zero. Source points are ordered
[somata (N), channel 0 sites (N), ..., channel C-1 sites (N)].
"""
from __future__ import annotations

import abc
from typing import ClassVar, Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.claims import ChargeConservation, SourceCalibration
from jaxfne_core.errors import ConfigError
from jaxfne_core.memory import InsufficientMemoryError, check_fits
from jaxfne_core.stages import Circuit, ProjectingSource, StepInputs
from jaxfne_core.validators import FieldValueError, number, one_of, optional

from .connectivity import outgoing_table, row_channels
from .event_delivery import deliver, deliver_ring, deliver_weights
from .izhikevich import cell_type_of
from .inputs import InputSpec, build_inputs, driven_spikes, input_spikes
from .kinetics import conductance_scale, delay_steps, kernel_norm, nmda_block
from .pathways import draw_delays, draw_weights
from .plasticity import (PlasticityRule, edge_weights, initial_traces, initial_weights, plasticity_events,
                         plasticity_params, plasticity_plan, plasticity_step, recorded_weights, table_positions)

#: receptor -> (tau decay ms, reversal mV, excitatory?, default dendritic offset um)
RECEPTORS = {
    "AMPA": (2.0, 0.0, True, 150.0),
    "GABA_A": (5.0, -80.0, False, 50.0),
    "NMDA": (100.0, 0.0, True, 150.0),
    "GABA_B": (150.0, -95.0, False, 250.0),
}
DENSE_MAX_BYTES = 2 * 1024**3


@attrs.frozen(kw_only=True)
class CalibrationOptions:
    """calibration_nA_per_native: scale from the emitter's native current to nA for the
    transmembrane sources (the network's own dynamics stay in native units); needs
    calibration_provenance, a sentence saying where the number comes from (it is recorded in
    every receipt). With it the sources claim ``source_calibration = nA``."""

    calibration_nA_per_native: Optional[float] = attrs.field(
        default=None, validator=attrs.validators.optional(number(0, lo_open=True)))
    calibration_provenance: Optional[str] = None

    def __attrs_post_init__(self):
        given = (self.calibration_nA_per_native is not None, bool(self.calibration_provenance))
        if given[0] != given[1]:
            raise FieldValueError("calibration_provenance",
                                  "'calibration_nA_per_native' and a non-empty 'calibration_provenance' "
                                  f"go together; got {self.calibration_nA_per_native!r} and "
                                  f"{self.calibration_provenance!r}")


@attrs.frozen(kw_only=True)
class KineticsOptions(CalibrationOptions):
    """synapse_model: ``current`` (I_c = g_c) or ``conductance`` (I_c = g_c (E_c - V), NMDA with
    the Mg2+ block; see kinetics). weights_at_mV: for conductances, the potential at which an
    edge's |weight| is its current jump (default -65 mV: PSPs at rest as with currents).
    normalisation: of dual-exponential kernels, ``peak`` (peak = weight) or ``charge``
    (charge = weight x tau_decay); the same for kernels without rise. mg_mM: extracellular
    Mg2+ (mM) for the NMDA block. inputs: external inputs (:class:`inputs.InputSpec`: Poisson,
    evoked, rhythmic or given spike trains) delivered through these synapses. plasticity:
    rules (:class:`plasticity.PlasticityRule`: ``stdp``, ``istdp``) on named network pathways;
    their weights evolve during the run (recording mode ``weights``) and plastic synapses are
    delivered from an edge list whatever ``network.connectivity`` says."""

    synapse_model: str = attrs.field(default="current", validator=one_of("current", "conductance"))
    weights_at_mV: float = attrs.field(default=-65.0, validator=number(-150, 50))
    normalisation: str = attrs.field(default="peak", validator=one_of("peak", "charge"))
    mg_mM: float = attrs.field(default=1.0, validator=number(0, 20))
    inputs: Optional[tuple[InputSpec, ...]] = None
    plasticity: Optional[tuple[PlasticityRule, ...]] = None
    #: options that only conductance synapses read: set with current synapses, they are refused
    CONDUCTANCE_ONLY: ClassVar[tuple] = ("weights_at_mV", "mg_mM")

    def __attrs_post_init__(self):
        super().__attrs_post_init__()
        if self.synapse_model == "conductance":
            return
        fields = attrs.fields_dict(type(self))
        unused = [n for n in self.CONDUCTANCE_ONLY if getattr(self, n) != fields[n].default]
        if unused:
            raise FieldValueError(unused[0], f"{unused} only apply to conductance synapses; allowed: "
                                  "synapse_model = 'conductance', or leave them unset")


class _ChannelSource(ProjectingSource):
    """Shared machinery: subclasses say which channels exist and which channel each edge uses.

    Two step paths. Without delays beyond one step, rise times or conductances, the fast
    path (``_advance``): one state per (channel, cell), spikes added in place. Otherwise the
    kinetic path (``_advance_kinetic``): arrivals go to a ring buffer of delayed slots and
    feed decay (and rise) states, read as currents or as conductances (see kinetics)."""

    @property
    def needs_voltage(self) -> bool:
        return self.options.synapse_model == "conductance"

    @abc.abstractmethod
    def input_channels(self, circuit: Circuit, inputs: dict) -> np.ndarray:
        """(E_in,) the channel of each input synapse (``inputs``: :func:`inputs.build_inputs`)."""

    def provides(self, upstream):
        out = {"charge_conservation": ChargeConservation.CONSERVED}
        if self.options.calibration_nA_per_native is not None:
            out["source_calibration"] = SourceCalibration.NANOAMPERE
        return out

    def requires(self):
        # calibration is declared once in the chain: a scale from native units applies only to
        # an emitter whose currents are native (or that says nothing); one already in nA is refused
        if self.options.calibration_nA_per_native is not None:
            return {"source_calibration": (SourceCalibration.NATIVE, None)}
        return {}

    @abc.abstractmethod
    def channels(self, circuit: Circuit):
        """-> (names, tau_ms (C,), excitatory (C,), offset_um (C,), edge_channel (E,))."""

    @abc.abstractmethod
    def kinetics(self, circuit: Circuit):
        """-> (rise_ms (C,) (0: none), reversal_mV (C,) (NaN: none), nmda_block (C,) bool)."""

    def _kinetic_arrays(self, circuit, dt):
        """The kinetic path's settings, or None when the fast path applies."""
        names, tau, exc, _, ch = self.channels(circuit)
        rise, reversal, block = (np.asarray(x) for x in self.kinetics(circuit))
        steps = delay_steps(circuit.delay_ms, circuit.n_edges, dt)
        conductance = self.options.synapse_model == "conductance"
        first = np.zeros(circuit.n_cells, np.int64)
        first[circuit.pre[::-1]] = ch[::-1]
        mixed = bool(np.any(first[circuit.pre] != ch))     # a cell's synapses in several channels
        if not (conductance or mixed or self.options.inputs or self.options.plasticity or np.any(rise > 0)
                or (steps.size and steps.max() > 1)):
            return None
        bad = [(n, float(r), float(t)) for n, r, t in zip(names, rise, tau) if not 0 <= r < t]
        if bad:
            raise ConfigError([("$.source.rise_ms", f"rise times must be >= 0 and below the decay time; got "
                                f"(channel, rise, decay) {bad}")])
        scale = np.ones(len(names), np.float32)
        if conductance:
            missing = [n for n, e in zip(names, reversal) if not np.isfinite(e)]
            if missing:
                raise ConfigError([("$.source.synapse_model", f"'conductance' needs a reversal potential for "
                                    f"channel(s) {missing}; allowed: receptors with reversal_mV")])
            scale = conductance_scale(reversal, exc, self.options.weights_at_mV)
        return {"steps": steps, "rise": rise.astype(np.float32), "reversal": np.nan_to_num(reversal).astype(np.float32),
                "block": block.astype(bool), "scale": scale}

    def positions_um(self, circuit):
        names, _, _, offsets, _ = self.channels(circuit)
        soma = circuit.positions_um
        sites = [soma]
        for off in offsets:
            p = soma.copy()
            p[:, 2] = np.clip(p[:, 2] - off, 0.0, circuit.thickness_um)
            sites.append(p)
        return np.concatenate(sites, axis=0)

    def cell_of_source(self, circuit):
        n_ch = len(self.channels(circuit)[0])
        return np.tile(np.arange(circuit.n_cells), 1 + n_ch)

    def init_params(self, circuit, dt):
        kin = self._kinetic_arrays(circuit, dt)
        if kin is not None:
            return self._init_kinetic(circuit, dt, kin)
        names, tau, exc, _, ch = self.channels(circuit)
        n, c = circuit.n_cells, len(names)
        params = {"decay": jnp.asarray(np.exp(-dt / np.asarray(tau)), jnp.float32),
                  "channel_excitatory": jnp.asarray(exc, bool),
                  "gain_exc": jnp.asarray(1.0, jnp.float32),
                  "gain_inh": jnp.asarray(1.0, jnp.float32),
                  "calibration": jnp.asarray(self.options.calibration_nA_per_native or 1.0, jnp.float32),
                  "dt_ms": jnp.asarray(dt, jnp.float32),
                  "pre_gain": jnp.ones((n,), jnp.float32),
                  "population": jnp.asarray(circuit.population, jnp.int32)}
        if circuit.connectivity == "dense":
            need = 4 * c * n * n
            if need > DENSE_MAX_BYTES:
                raise InsufficientMemoryError(
                    f"dense connectivity for n = {n} with {c} channels needs {need / 2**30:.1f} GiB; "
                    f"allowed up to {DENSE_MAX_BYTES / 2**30:.0f} GiB: use network.connectivity = 'event'")
            w = np.zeros((c, n, n), np.float32)       # (channel, post, pre): a plain matrix-vector
            np.add.at(w, (ch, circuit.post, circuit.pre), circuit.weight)     # product, no transpose
            params["W"] = jnp.asarray(w)
        else:   # edge_list; event keeps these for float (surrogate-gradient) spikes
            params["pre"] = jnp.asarray(circuit.pre, jnp.int32)
            params["segment"] = jnp.asarray(ch * n + circuit.post, jnp.int32)
            params["w"] = jnp.asarray(circuit.weight, jnp.float32)
        if circuit.connectivity == "event":
            kmax = max(int(np.bincount(circuit.pre, minlength=n).max()) if circuit.pre.size else 0, 1)
            check_fits((n + 1) * kmax * 8 * 2 + circuit.pre.size * 12,     # table (+ its build copy), edges
                       f"the event synapse table of {n} cells with up to {kmax} outgoing synapses each")
            tgt, wt = outgoing_table(circuit.pre, ch * n + circuit.post, circuit.weight, n, c * n)
            params["syn_table"] = jnp.asarray(np.stack([tgt, wt.view(np.int32)], axis=-1))
            params["row_channel"] = jnp.asarray(row_channels(circuit.pre, ch, n), jnp.int32)
        pad = params["syn_table"].shape[1] if "syn_table" in params else 0
        params["state0"] = jnp.zeros((c * n + pad,), jnp.float32)
        dense_index = ((ch.astype(np.int64) * n + circuit.post) * n + circuit.pre)
        params.update(self._pathway_arrays(circuit, circuit.pre, circuit.weight, circuit.edge_pathway, n,
                                           ch * n + circuit.post, dense_index, c * n))
        return params

    @staticmethod
    def _pathway_arrays(circuit, pre, weight, which, n_pre, table_target, dense_index, dummy, delivery=None):
        """With pathways declared: the drawn weights and each synapse's pathway (input synapses:
        an extra pathway of gain 1), from which :meth:`apply_tunables` rebuilds the weights
        for per-pathway gains (once per run, O(E))."""
        if circuit.edge_pathway is None or not circuit.pathways:
            return {}
        delivery = delivery or circuit.connectivity
        out = {"pathway_gain": jnp.ones((len(circuit.pathways) + 1,), jnp.float32),
               "w0": jnp.asarray(weight, jnp.float32), "edge_pathway": jnp.asarray(which, jnp.int32)}
        if delivery == "dense":
            out["dense_index"] = jnp.asarray(dense_index, jnp.int32)
        if delivery == "event":
            _, w0 = outgoing_table(pre, table_target, weight, n_pre, dummy)
            _, slot_path = outgoing_table(pre, table_target, which.astype(np.float32), n_pre, dummy)
            out["table_w0"] = jnp.asarray(w0)
            out["table_pathway"] = jnp.asarray(slot_path.astype(np.int32))
        return out

    @staticmethod
    def _scale_pathways(params):
        """Weights = drawn weights x their pathway's gain, in every connectivity array."""
        g = params["pathway_gain"]
        params = dict(params)
        if "w" in params:
            params["w"] = params["w0"] * g[params["edge_pathway"]]
        if "table_w0" in params:
            w = jax.lax.bitcast_convert_type(params["table_w0"] * g[params["table_pathway"]], jnp.int32)
            params["syn_table"] = params["syn_table"].at[:, :, 1].set(w)
        if "dense_index" in params:
            w = params["w0"] * g[params["edge_pathway"]]
            params["W"] = jnp.zeros(params["W"].size, jnp.float32).at[params["dense_index"]].add(w).reshape(params["W"].shape)
        return params

    def _init_kinetic(self, circuit, dt, kin):
        """Params of the kinetic path: per-channel kinetics and the delayed connectivity."""
        names, tau, exc, _, ch = self.channels(circuit)
        n, c = circuit.n_cells, len(names)
        f32 = lambda x: jnp.asarray(x, jnp.float32)
        rise = kin["rise"]
        params = {"decay": f32(np.exp(-dt / np.asarray(tau))), "tau_ms": f32(tau), "rise_ms": f32(rise),
                  "rise_decay": f32(np.where(rise > 0, np.exp(-dt / np.maximum(rise, 1e-30)), 0.0)),
                  "channel_excitatory": jnp.asarray(exc, bool), "reversal_mV": f32(kin["reversal"]),
                  # indices of the Mg2+-blocked channels: its length is static, so none costs nothing
                  "nmda_channels": jnp.asarray(np.nonzero(kin["block"])[0], jnp.int32),
                  "mg_mM": f32(self.options.mg_mM),
                  "conductance_scale": f32(kin["scale"]),
                  "gain_exc": f32(1.0), "gain_inh": f32(1.0),
                  "calibration": f32(self.options.calibration_nA_per_native or 1.0), "dt_ms": f32(dt),
                  "pre_gain": jnp.ones((n,), jnp.float32),
                  "population": jnp.asarray(circuit.population, jnp.int32)}
        e = self._edge_set(circuit, dt, kin, ch)
        pre, post, weight, n_pre = e["pre"], e["post"], e["weight"], e["n_pre"]
        lag = e["steps"].astype(np.int64) - 1               # slots ahead of the one read now
        n_slots = int(lag.max()) + 1 if lag.size else 1
        segment = e["channel"].astype(np.int64) * n + post
        pad = 0
        dense_index = None
        plastic = bool(self.options.plasticity)
        delivery = circuit.connectivity
        if plastic and delivery == "dense":    # changing weights: from the edge list, not a matrix
            delivery = "edge_list"
        if delivery == "dense":
            lags = np.unique(lag) if lag.size else np.zeros(1, np.int64)
            need = 4 * lags.size * c * n * n_pre
            if need > DENSE_MAX_BYTES:
                raise InsufficientMemoryError(
                    f"dense connectivity for n = {n} with {c} channels and {lags.size} distinct delays needs "
                    f"{need / 2**30:.1f} GiB; allowed up to {DENSE_MAX_BYTES / 2**30:.0f} GiB: use "
                    "network.connectivity = 'event'")
            w = np.zeros((lags.size, c, n, n_pre), np.float32)   # (delay, channel, post, pre)
            dense_index = np.ravel_multi_index((np.searchsorted(lags, lag), e["channel"], post, pre), w.shape)
            np.add.at(w.reshape(-1), dense_index, weight)
            params["W"], params["dense_lag"] = jnp.asarray(w), jnp.asarray(lags, jnp.int32)
        else:       # plastic sources keep these: their weights start from params["w"]
            params["pre"] = jnp.asarray(pre, jnp.int32)
            params["lag"] = jnp.asarray(lag, jnp.int32)
            params["segment"] = jnp.asarray(segment, jnp.int32)
            params["w"] = jnp.asarray(weight, jnp.float32)
        if delivery == "event":
            kmax = max(int(np.bincount(pre, minlength=n_pre).max()) if pre.size else 0, 1)
            pad = kmax
            slot_size = c * n + kmax
            check_fits((n_pre + 1) * kmax * 8 * 2 + pre.size * 16 + 4 * n_slots * slot_size,
                       f"the delayed event synapse table of {n} cells ({n_slots} delay slots)")
            tgt, wt = outgoing_table(pre, lag * slot_size + segment, weight, n_pre, c * n)
            # plastic: the weights live in the state in this table's layout, so the table's
            # second column is each slot's own position (unused slots hold weight 0)
            second = (np.arange((n_pre + 1) * kmax, dtype=np.int32).reshape(n_pre + 1, kmax) if plastic
                      else wt.view(np.int32))
            params["syn_table"] = jnp.asarray(np.stack([tgt.astype(np.int32), second], axis=-1))
        else:
            check_fits(4 * n_slots * c * n, f"the delay ring of {n} cells ({n_slots} slots)")
        slot_size = c * n + pad
        params.update(self._pathway_arrays(circuit, pre, weight, e["pathway"], n_pre, lag * slot_size + segment,
                                           dense_index, c * n, "edge_list" if plastic else delivery))
        if plastic:
            plan = plasticity_plan(self.options.plasticity, circuit, dt)
            layout = ({"positions": table_positions(pre, n_pre, pad), "size": (n_pre + 1) * pad}
                      if delivery == "event" else {})
            params["plasticity"] = plasticity_params(self.options.plasticity, plan, circuit, **layout)
        if e["inputs"] is not None:
            inp = e["inputs"]
            params["inputs"] = {k: jnp.asarray(inp[k]) for k in ("poisson_unit", "profile_times", "profile_rates",
                                                                  "timed_unit", "timed_mean_ms", "timed_sd_ms",
                                                                  "driven_unit", "driven_index")
                                if k in inp}
            params["input_gain"] = jnp.ones((len(self.options.inputs),), jnp.float32)
            params["unit_input"] = jnp.asarray(inp["unit_input"], jnp.int32)
        params["state0"] = {"x": jnp.zeros((c * n,), jnp.float32),
                            **({"r": jnp.zeros((c * n,), jnp.float32)} if np.any(rise > 0) else {}),
                            "ring": jnp.zeros((n_slots, c * n + pad), jnp.float32),
                            "cursor": jnp.zeros((), jnp.int32)}
        if e["inputs"] is not None and "driven_unit" in e["inputs"]:     # drive inputs' spikes of the last step
            params["state0"]["pending"] = jnp.zeros((e["inputs"]["n_units"],), bool)
        return params

    def input_arrays(self, circuit):
        """The wired inputs (:func:`inputs.build_inputs`), or None without inputs."""
        return build_inputs(self.options.inputs, circuit, cell_type_of, draw_weights, draw_delays)

    def _edge_set(self, circuit, dt, kin, ch):
        """Network synapses followed by input synapses (presynaptic index N + unit): pre, post,
        signed weight, channel, delay steps, pathway (inputs: the extra pathway), n_pre."""
        inp = self.input_arrays(circuit)
        n = circuit.n_cells
        which = circuit.edge_pathway if circuit.edge_pathway is not None else np.zeros(circuit.n_edges, np.int32)
        out = {"pre": circuit.pre, "post": circuit.post, "weight": circuit.weight, "channel": ch,
               "steps": kin["steps"], "pathway": which, "n_pre": n, "inputs": inp}
        if inp is None:
            return out
        out.update(pre=np.concatenate([circuit.pre, n + inp["pre"]]).astype(np.int32),
                   post=np.concatenate([circuit.post, inp["post"]]).astype(np.int32),
                   weight=np.concatenate([circuit.weight, inp["weight"]]).astype(np.float32),
                   channel=np.concatenate([ch, self.input_channels(circuit, inp)]).astype(np.int32),
                   steps=np.concatenate([kin["steps"], delay_steps(inp["delay_ms"], inp["pre"].size, dt)]),
                   pathway=np.concatenate([which, np.full(inp["pre"].size, len(circuit.pathways))]).astype(np.int32),
                   n_pre=n + inp["n_units"])
        return out

    def init_state(self, params):
        """Fast path: flat (C N + pad,) synaptic currents: channel c of cell j at c N + j; with
        event connectivity, kmax scratch entries (always 0) follow, where padded slots deliver.
        Kinetic path: {"x": decay state (C N,), "r": rise state (C N,) (with rise times),
        "ring": delayed arrivals (D, C N + pad), "cursor": the slot read this step}; with
        plasticity also "w": (E_in,) the signed weights of every synapse (network edges first,
        starting from the params' weights, gains applied) and "traces": per rule the pre and
        post traces (N,)."""
        state = jax.tree.map(jnp.zeros_like, params["state0"])
        if "plasticity" in params:
            state = {**state, "w": initial_weights(params["plasticity"], params["w"]),
                     "traces": initial_traces(params["plasticity"], params["pre_gain"].shape[0])}
        return state

    @property
    def records_weights(self) -> bool:
        """True with plasticity: the ``weights`` recording mode samples the plastic synapses."""
        return bool(self.options.plasticity)

    def recorded_weights(self, params, state):
        """(K,) |w| (native weight units) of the plastic synapses each rule records."""
        return recorded_weights(params["plasticity"], state["w"])

    def recorded_synapses(self, circuit) -> np.ndarray:
        """(K,) circuit edge index of each column of the ``weights`` recording."""
        plan = plasticity_plan(self.options.plasticity, circuit, 1.0)
        return np.concatenate([p["edges"][p["record"]] for p in plan["rules"]]).astype(np.int64)

    def final_weights(self, params, state, n_edges: int) -> jnp.ndarray:
        """(E,) signed weights of the circuit's edges in ``state`` (e.g. at the end of a run)."""
        if "plasticity" in params:
            return edge_weights(params["plasticity"], state["w"], n_edges)
        return params["w"][:n_edges]

    @staticmethod
    def is_kinetic(params) -> bool:
        return isinstance(params["state0"], dict)

    def _advance_kinetic(self, params, state, spikes, v=None, t=None, key=None, drive=None):
        """Deliver this step's spikes into the ring, read the slot due now, update the kernel
        states: -> (state, i_syn (N,), per-channel currents (C, N)). With inputs, the input
        units' spikes of the same emission step (t - 1) follow the cells' (presynaptic index
        N + unit)."""
        ring, cursor = state["ring"], state["cursor"]
        slots, width = ring.shape
        c, n = params["decay"].shape[0], params["pre_gain"].shape[0]
        weights = params.get("w")
        if "plasticity" in params:
            # the weights learn first and the spikes are delivered with the updated ones (as
            # NEST's stdp_synapse sends with the weight after its update); in this order the
            # update is in place (delivering the old weights made XLA copy all of them a step)
            events = "edge_pos" in params["plasticity"] and spikes.dtype == jnp.bool_
            traces, weights = (plasticity_events if events else plasticity_step)(
                self.options.plasticity, params["plasticity"], state["traces"], state["w"], spikes)
        # the slot read last step is cleared now, before delivery: nothing writes the ring after
        # it is read, so XLA updates it in place (clearing after the read copied it each step)
        ring = jax.lax.dynamic_update_slice(ring, jnp.zeros((1, width), ring.dtype), ((cursor - 1) % slots, 0))
        gains = [params["pre_gain"]]
        if "inputs" in params:
            if t is None or key is None:
                raise ValueError("a source with inputs steps as step(params, state, spikes, "
                                 "StepInputs(t=step, key=run_key))")
            units = params["unit_input"].shape[0]
            fired = input_spikes(params["inputs"], units, key, t - 1, params["dt_ms"]) & (t >= 1)
            if "pending" in state:          # drive inputs: generated last step from that step's drive
                need = 1 + max(s.drive_index for s in self.options.inputs if s.kind == "drive")
                if drive is None or drive.shape[0] < need:
                    raise ConfigError([("$.source.inputs", f"a 'drive' input uses task drive {need - 1}, but this "
                                        f"run has {0 if drive is None else drive.shape[0]} drives; allowed: a task "
                                        "run whose task.drives include it (delivery 'synaptic')")])
                fired = fired | state["pending"]
                pending = driven_spikes(params["inputs"], units, key, t, params["dt_ms"], drive)
            spikes = jnp.concatenate([spikes, fired.astype(spikes.dtype)])
            gains.append(params["input_gain"][params["unit_input"]])
        pre_gain = jnp.concatenate(gains) if len(gains) > 1 else gains[0]
        if "syn_table" in params and spikes.dtype == jnp.bool_:
            row_gain = jnp.concatenate([pre_gain, jnp.zeros((1,), jnp.float32)])
            if "plasticity" in params:      # the table names weights in the state
                ring = deliver_weights(params["syn_table"], row_gain, spikes, ring.reshape(-1),
                                       cursor * width, weights).reshape(slots, width)
            else:
                ring = deliver_ring(params["syn_table"], row_gain, spikes, ring.reshape(-1),
                                    cursor * width).reshape(slots, width)
        elif "W" in params:
            s = spikes.astype(jnp.float32) * pre_gain
            inc = jnp.einsum("kcji,i->kcj", params["W"], s).reshape(-1, c * n)
            rows = (cursor + params["dense_lag"]) % slots
            ring = ring.at[rows, :c * n].add(inc)
        else:
            s = spikes.astype(jnp.float32) * pre_gain
            where = ((cursor + params["lag"]) % slots) * width + params["segment"]
            ring = ring.reshape(-1).at[where].add(weights[:where.shape[0]] * s[params["pre"]]).reshape(slots, width)
        gain = jnp.where(params["channel_excitatory"], params["gain_exc"], params["gain_inh"])
        scale = gain * params["conductance_scale"] * kernel_norm(params["tau_ms"], params["rise_ms"],
                                                                 self.options.normalisation)
        per_cell = lambda a: jnp.broadcast_to(a[:, None], (c, n)).reshape(-1)     # (C,) -> (C N,)
        arrived = jax.lax.dynamic_slice(ring, (cursor, 0), (1, c * n))[0] * per_cell(scale)
        x = state["x"] * per_cell(params["decay"]) + arrived           # flat (C N,), channel-major
        new = {"x": x, "ring": ring, "cursor": (cursor + 1) % slots,
               **({"pending": pending} if "pending" in state else {}),
               **({"w": weights, "traces": traces} if "plasticity" in params else {})}
        g = x
        if "r" in state:
            new["r"] = state["r"] * per_cell(params["rise_decay"]) + arrived
            g = x - new["r"]
        # per channel on (N,) slices: the conductance's V term then needs no (C N,) broadcast
        currents = [g[k * n:(k + 1) * n] for k in range(c)]
        if v is not None:
            block = nmda_block(v, params["mg_mM"]) if params["nmda_channels"].shape[0] else None
            for k in range(c):
                currents[k] = currents[k] * (params["reversal_mV"][k] - v)
                if block is not None:        # static: no NMDA channel, no block computed
                    currents[k] = jnp.where(jnp.any(params["nmda_channels"] == k), currents[k] * block, currents[k])
        i_syn = currents[0]
        for cur in currents[1:]:      # adds, not a reduce: keeps the step one fused loop
            i_syn = i_syn + cur
        return new, i_syn, jnp.stack(currents)

    def delivered(self, params, spikes):
        """(C, N) synaptic-current increments from the previous step's spikes (dense and
        edge-list paths, and float spikes)."""
        s = spikes.astype(jnp.float32) * params["pre_gain"]
        if "W" in params:
            return jnp.einsum("cji,i->cj", params["W"], s)
        c = params["decay"].shape[0]
        n = spikes.shape[0]
        inc = jax.ops.segment_sum(params["w"] * s[params["pre"]], params["segment"],
                                  num_segments=c * n)
        return inc.reshape(c, n)

    @staticmethod
    def _row_gain(params, gain):
        """(N + 1,) scale of each presynaptic cell's row (its pre gain x its channel's gain; a
        cell's synapses all use one channel); 0 for the padding row N."""
        return jnp.concatenate([params["pre_gain"] * gain[params["row_channel"]], jnp.zeros((1,), jnp.float32)])

    def _advance(self, params, state, spikes, table=None):
        """Decay and deliver: -> (state, i_syn). ``state`` is the flat synaptic state (C N),
        the event scratch (kmax) and optionally a tail of C x R projected field states
        (channel-major), which decay with their channel; ``table`` (default the synapse
        table) may carry the field entries that feed that tail."""
        c, n = params["decay"].shape[0], params["pre_gain"].shape[0]
        gain = jnp.where(params["channel_excitatory"], params["gain_exc"], params["gain_inh"])
        base = params["state0"].shape[0]
        tail = state.shape[0] - base
        decay = jnp.concatenate([jnp.broadcast_to(params["decay"][:, None], (c, n)).reshape(-1),
                                 jnp.zeros((base - c * n,), jnp.float32)]
                                + ([jnp.repeat(params["decay"], tail // c)] if tail else []))
        if "syn_table" in params and spikes.dtype == jnp.bool_:     # delivered in place
            state = deliver(params["syn_table"] if table is None else table, self._row_gain(params, gain),
                            spikes, state * decay)
        else:
            inc = (gain[:, None] * self.delivered(params, spikes)).reshape(-1)
            state = state * decay + jnp.pad(inc, (0, state.shape[0] - c * n))
        i_syn = state[:n]
        for k in range(1, c):     # adds, not a reduce: keeps the step one fused loop
            i_syn = i_syn + state[k * n:(k + 1) * n]
        return state, i_syn

    def step(self, params, state, spikes, inputs: StepInputs = StepInputs()):
        if self.is_kinetic(params):
            if self.needs_voltage and inputs.v is None:
                raise ValueError("conductance synapses need the membrane potential: step(params, state, spikes, "
                                 "StepInputs(v=...))")
            state, i_syn, per_channel = self._advance_kinetic(params, state, spikes, *inputs)
            return state, i_syn, params["calibration"] * jnp.concatenate([i_syn, -per_channel.reshape(-1)])
        state, i_syn = self._advance(params, state, spikes)
        transmembrane = params["calibration"] * jnp.concatenate([i_syn, -state[:i_syn.shape[0] * params["decay"].shape[0]]])
        return state, i_syn, transmembrane

    def field_projection(self, params, matrix):
        """The field readout as per-presynaptic-cell rows. With sources [somata; channel-c
        sites] and transmembrane = calibration [i_syn; -state_c], the readout is
        calibration sum_c B_c state_c with B_c = M_soma - M_site_c; each channel's projected
        state z_c = B_c state_c obeys the same decay as state_c, and a spike of cell p adds
        its row gain x F[p], F[p] = sum over p's synapses of w B_c[:, target]. A step then
        costs O(spikes x R) instead of O(R x S). The R entries of F[p] are appended to p's row
        of the synapse table, targeting z (kept after the synaptic state), so one gather and
        one scatter deliver synapses and field together. Needs the event tables (else None).
        Returns {"rows": F (N + 1, R) for float spikes, "table": the extended table,
        "state0": zeros for synaptic state, scratch and z}. None on the kinetic path (delays,
        rise times and conductances are not linear in one decaying state per channel), and with
        declared pathways (their gains rescale parts of a cell's row, which F sums over)."""
        if "syn_table" not in params or self.is_kinetic(params) or "pathway_gain" in params:
            return None
        import scipy.sparse
        c, n = params["decay"].shape[0], params["pre_gain"].shape[0]
        r = matrix.shape[0]
        table = np.asarray(params["syn_table"])
        kmax = table.shape[1]
        check_fits(8 * r * ((c + 1) * n + 2 * matrix.shape[1]) + 8 * (n + 1) * (kmax + r),
                   f"the field projection of {n} cells onto {r} readout rows")
        m = np.asarray(matrix, np.float64)
        b = np.concatenate([(m[:, :n] - m[:, (k + 1) * n:(k + 2) * n]).T for k in range(c)]
                           + [np.zeros((kmax, r))])                          # (C N + kmax, R)
        weights = scipy.sparse.csr_matrix(
            (table[:n, :, 1].view(np.float32).ravel().astype(np.float64), table[:n, :, 0].ravel(),
             np.arange(n + 1) * kmax), shape=(n, c * n + kmax))
        rows = np.concatenate([weights @ b, np.zeros((1, r))]).astype(np.float32)     # (N + 1, R)
        base = c * n + kmax
        channel = np.append(np.asarray(params["row_channel"]), 0)
        targets = base + channel[:, None] * r + np.arange(r)[None, :]
        targets[n] = c * n + np.arange(r) % kmax            # the padding row: scratch, weight 0
        field = np.stack([targets.astype(np.int32), rows.view(np.int32)], axis=-1)
        return {"rows": jnp.asarray(rows), "table": jnp.asarray(np.concatenate([table, field], axis=1)),
                "state0": jnp.zeros((base + c * r,), jnp.float32)}

    def step_projected(self, params, projection, state, projected, spikes, inputs: StepInputs = StepInputs()):
        """The step with the field projected: ``projected`` is the whole flat state (synaptic
        state, scratch, z) and ``state`` passes through unused. Only the fast path projects
        (no conductances, no inputs), so ``inputs`` are not read."""
        c, n = params["decay"].shape[0], params["pre_gain"].shape[0]
        base, r = params["state0"].shape[0], projection["rows"].shape[1]
        projected, i_syn = self._advance(params, projected, spikes, projection["table"])
        if not ("syn_table" in params and spikes.dtype == jnp.bool_):  # float spikes: every cell's row
            gain = jnp.where(params["channel_excitatory"], params["gain_exc"], params["gain_inh"])
            s = spikes.astype(jnp.float32) * self._row_gain(params, gain)[:n]
            inc = jax.ops.segment_sum(s[:, None] * projection["rows"][:n], params["row_channel"], num_segments=c)
            projected = projected.at[base:].add(inc.reshape(-1))
        values = projected[base:base + r]
        for k in range(1, c):
            values = values + projected[base + k * r:base + (k + 1) * r]
        return state, projected, i_syn, params["calibration"] * values

    def tunables(self, circuit):
        names, tau = self.channels(circuit)[:2]
        out = {"gain_exc": (1.0, 0.0, 5.0), "gain_inh": (1.0, 0.0, 5.0)}
        out.update({f"gain_from.{p}": (1.0, 0.0, 5.0) for p in circuit.population_names})
        if circuit.edge_pathway is not None:
            out.update({f"gain_pathway.{p.name}": (1.0, 0.0, 5.0) for p in circuit.pathways})
        out.update({f"gain_input.{spec.name}": (1.0, 0.0, 5.0) for spec in self.options.inputs or ()})
        out.update({f"tau_ms.{c}": (float(t), float(t) / 4, float(t) * 4, "log") for c, t in zip(names, tau)})
        scale = self.options.calibration_nA_per_native
        if scale is not None:
            out["calibration_nA_per_native"] = (scale, 0.0, 10.0 * scale)
        return out

    def apply_tunables(self, params, values, circuit):
        params = dict(params)
        for k in ("gain_exc", "gain_inh"):
            if k in values:
                params[k] = jnp.asarray(values[k], jnp.float32)
        for i, pop in enumerate(circuit.population_names):
            if f"gain_from.{pop}" in values:
                params["pre_gain"] = jnp.where(params["population"] == i, values[f"gain_from.{pop}"],
                                               params["pre_gain"])
        for i, ch in enumerate(self.channels(circuit)[0]):
            if f"tau_ms.{ch}" in values:
                params["decay"] = params["decay"].at[i].set(jnp.exp(-params["dt_ms"] / values[f"tau_ms.{ch}"]))
                if "tau_ms" in params:          # the kinetic path's normalisation follows tau
                    params["tau_ms"] = params["tau_ms"].at[i].set(values[f"tau_ms.{ch}"])
        if "calibration_nA_per_native" in values:
            params["calibration"] = jnp.asarray(values["calibration_nA_per_native"], jnp.float32)
        for i, spec in enumerate(self.options.inputs or ()):
            if f"gain_input.{spec.name}" in values:
                params["input_gain"] = params["input_gain"].at[i].set(jnp.asarray(values[f"gain_input.{spec.name}"],
                                                                                  jnp.float32))
        keys = [(i, f"gain_pathway.{p.name}") for i, p in enumerate(circuit.pathways)]
        if "pathway_gain" in params and any(k in values for _, k in keys):
            g = params["pathway_gain"]
            for i, k in keys:
                if k in values:
                    g = g.at[i].set(jnp.asarray(values[k], jnp.float32))
            params = self._scale_pathways({**params, "pathway_gain": g})
        return params


@attrs.frozen
class ExponentialOptions(KineticsOptions):
    """tau_ms: decay of both channels. rise_ms: their rise time (0: the current jumps).
    exc_offset_um / inh_offset_um: height of the excitatory and inhibitory synaptic sites
    above the soma (um; negative = below). exc_reversal_mV / inh_reversal_mV: reversal
    potentials for ``synapse_model = conductance``."""

    tau_ms: float = attrs.field(default=5.0, validator=number(0, lo_open=True))
    rise_ms: float = attrs.field(default=0.0, validator=number(0, 10_000))
    exc_offset_um: float = attrs.field(default=150.0, validator=number(-2000, 2000))
    inh_offset_um: float = attrs.field(default=50.0, validator=number(-2000, 2000))
    exc_reversal_mV: float = attrs.field(default=0.0, validator=number(-150, 100))
    inh_reversal_mV: float = attrs.field(default=-80.0, validator=number(-150, 100))
    CONDUCTANCE_ONLY: ClassVar[tuple] = KineticsOptions.CONDUCTANCE_ONLY + ("exc_reversal_mV", "inh_reversal_mV")


class ExponentialSource(_ChannelSource):
    """Exponential current synapses, one excitatory and one inhibitory channel, same tau."""

    name = "exponential"
    Options = ExponentialOptions

    def channels(self, circuit):
        o = self.options
        named = [p.name for p in circuit.pathways if p.receptor is not None]
        if named:
            raise ConfigError([("$.network.pathways", f"pathway(s) {named} name a receptor, but the 'exponential' "
                                "source has one excitatory and one inhibitory channel; allowed: source kind "
                                "'receptor_exponential' (or pathways without 'receptor')")])
        ch = np.where(circuit.excitatory[circuit.pre], 0, 1).astype(np.int32)
        return (("exc", "inh"), np.array([o.tau_ms, o.tau_ms]), np.array([True, False]),
                np.array([o.exc_offset_um, o.inh_offset_um]), ch)

    def input_channels(self, circuit, inputs):
        named = [spec.name for spec in self.options.inputs if spec.receptor is not None]
        if named:
            raise ConfigError([("$.source.inputs", f"input(s) {named} name a receptor, but the 'exponential' source "
                                "has one excitatory and one inhibitory channel; allowed: source kind "
                                "'receptor_exponential' (or inputs without 'receptor')")])
        return np.array([0 if spec.excitatory else 1 for spec in self.options.inputs], np.int32)[inputs["input"]]

    def kinetics(self, circuit):
        o = self.options
        return (np.array([o.rise_ms, o.rise_ms]), np.array([o.exc_reversal_mV, o.inh_reversal_mV]),
                np.array([False, False]))


def _check_receptor_map(inst, attr, value):
    if value is None:
        return
    known = set(RECEPTORS) | set(inst.custom_receptors or {})
    bad = {k: v for k, v in value.items() if v not in known}
    if bad:
        raise FieldValueError(attr.name, f"'receptor_by_population' entries {bad!r} name unknown receptors; "
                              f"allowed receptors: {sorted(known)} (populations are checked against the "
                              "emitter's when the model is built)")


def _check_receptor_numbers(inst, attr, value):
    if value is None:
        return
    known = set(RECEPTORS) | set(inst.custom_receptors or {})
    bad = [k for k in value if k not in known]
    if bad:
        raise FieldValueError(attr.name, f"unknown receptor(s) {bad!r} in {attr.name!r}; allowed: {sorted(known)}")
    if attr.name == "tau_ms" and any(not 0 < v <= 10_000 for v in value.values()):
        raise FieldValueError(attr.name, f"'tau_ms' must be in (0, 10000] ms, got {value!r}")
    if attr.name == "rise_ms" and any(not 0 <= v <= 10_000 for v in value.values()):
        raise FieldValueError(attr.name, f"'rise_ms' must be in [0, 10000] ms, got {value!r}")
    if attr.name == "reversal_mV" and any(not -150 <= v <= 100 for v in value.values()):
        raise FieldValueError(attr.name, f"'reversal_mV' must be in [-150, 100] mV, got {value!r}")
    if attr.name == "offset_um" and any(not -2000 <= v <= 2000 for v in value.values()):
        raise FieldValueError(attr.name, f"'offset_um' must be in [-2000, 2000] um (a dendritic site within "
                              f"reach of its soma), got {value!r}")


@attrs.frozen
class CustomReceptor:
    """A receptor defined in the configuration: decay (ms), sign, synaptic-site height (um),
    and for conductance synapses its reversal potential (mV), rise time (ms) and whether
    Mg2+ blocks it as NMDA receptors."""

    tau_ms: float = attrs.field(validator=number(0, lo_open=True))
    excitatory: bool
    offset_um: float = attrs.field(default=100.0, validator=number(-2000, 2000))
    reversal_mV: Optional[float] = attrs.field(default=None, validator=optional(number(-150, 100)))
    rise_ms: float = attrs.field(default=0.0, validator=number(0, 10_000))
    nmda_block: bool = False


@attrs.frozen
class ReceptorOptions(KineticsOptions):
    """custom_receptors: extra receptors by name (e.g. a slow dendritic GABA_A).
    receptor_by_population: presynaptic population (type or ``<layer>_<type>``) -> receptor of
    its synapses (default: excitatory -> AMPA, inhibitory -> GABA_A). tau_ms / offset_um /
    rise_ms / reversal_mV: per-receptor overrides of the decay time constant (ms), synaptic-site
    height (um), rise time (ms; default 0) and reversal potential (mV; AMPA 0, NMDA 0, GABA_A
    -80, GABA_B -95)."""

    custom_receptors: Optional[dict[str, CustomReceptor]] = None
    receptor_by_population: Optional[dict[str, str]] = attrs.field(default=None, validator=_check_receptor_map)
    tau_ms: Optional[dict[str, float]] = attrs.field(default=None, validator=_check_receptor_numbers)
    offset_um: Optional[dict[str, float]] = attrs.field(default=None, validator=_check_receptor_numbers)
    rise_ms: Optional[dict[str, float]] = attrs.field(default=None, validator=_check_receptor_numbers)
    reversal_mV: Optional[dict[str, float]] = attrs.field(default=None, validator=_check_receptor_numbers)
    CONDUCTANCE_ONLY: ClassVar[tuple] = KineticsOptions.CONDUCTANCE_ONLY + ("reversal_mV",)


class ReceptorExponentialSource(_ChannelSource):
    """Receptor-specific exponential current synapses (AMPA 2, GABA_A 5, NMDA 100, GABA_B 150 ms)."""

    name = "receptor_exponential"
    Options = ReceptorOptions

    def receptor_table(self) -> dict:
        """name -> (tau ms, reversal or None, excitatory, offset um), built-ins and custom."""
        custom = {k: (v.tau_ms, v.reversal_mV, v.excitatory, v.offset_um)
                  for k, v in (self.options.custom_receptors or {}).items()}
        return {**RECEPTORS, **custom}

    def kinetics(self, circuit):
        o, table = self.options, self.receptor_table()
        custom = o.custom_receptors or {}
        used = self._used_receptors(circuit)
        rise = [(o.rise_ms or {}).get(r, custom[r].rise_ms if r in custom else 0.0) for r in used]
        rev = [(o.reversal_mV or {}).get(r, table[r][1]) for r in used]
        block = [r == "NMDA" or (r in custom and custom[r].nmda_block) for r in used]
        return np.array(rise, float), np.array([np.nan if e is None else e for e in rev], float), np.array(block)

    def receptor_of(self, population_name: str, excitatory: bool) -> str:
        """The receptor of a presynaptic population's synapses: an override by its name or by
        the part after its last '_' (``L4_E`` -> ``E``), else AMPA for an excitatory
        population and GABA_A for an inhibitory one. Whether it is excitatory comes from the
        emitter (``Circuit.excitatory``), so any emitter's population names work."""
        over = self.options.receptor_by_population or {}
        for key in (population_name, cell_type_of(population_name)):
            if key in over:
                return over[key]
        return "AMPA" if excitatory else "GABA_A"

    def _check_overrides(self, circuit, excitatory) -> None:
        over = self.options.receptor_by_population or {}
        names = list(circuit.population_names)
        keys = set(names) | {cell_type_of(n) for n in names}
        unknown = sorted(set(over) - keys)
        if unknown:
            raise ConfigError([("$.source.receptor_by_population", f"{unknown} match no population of the "
                                f"emitter; allowed: {sorted(keys)}")])
        table = self.receptor_table()
        for name, exc in zip(names, excitatory):
            rec = self.receptor_of(name, exc)
            if table[rec][2] != exc:
                raise ConfigError([("$.source.receptor_by_population", f"population {name!r} is "
                                    f"{'excitatory' if exc else 'inhibitory'} (as the emitter declares) but "
                                    f"receptor {rec!r} is not; allowed: "
                                    + ", ".join(r for r, v in table.items() if v[2] == exc))])

    def _receptor_plan(self, circuit):
        """-> (used receptors in table order, (E,) index of each edge's receptor among them):
        a pathway's receptor where it declares one, else the presynaptic population's."""
        table = self.receptor_table()
        excitatory = [bool(circuit.excitatory[circuit.population == i].any())
                      for i in range(len(circuit.population_names))]
        self._check_overrides(circuit, excitatory)
        pop_receptor = [self.receptor_of(n, e) for n, e in zip(circuit.population_names, excitatory)]
        path_receptor = [p.receptor for p in circuit.pathways] + [self._input_receptor(spec)
                                                                  for spec in self.options.inputs or ()]
        for p in circuit.pathways:
            if p.receptor is not None and p.receptor not in table:
                raise ConfigError([("$.network.pathways", f"pathway {p.name!r} names receptor {p.receptor!r}; "
                                    f"allowed: {sorted(table)}")])
        used = [r for r in table if r in pop_receptor or r in path_receptor]
        edge = np.array([used.index(r) for r in pop_receptor], np.int32)[circuit.population[circuit.pre]]
        if circuit.edge_pathway is not None:
            for i, p in enumerate(circuit.pathways):
                if p.receptor is None:
                    continue
                mine = circuit.edge_pathway == i
                wrong = mine & (circuit.excitatory[circuit.pre] != table[p.receptor][2])
                if wrong.any():
                    raise ConfigError([("$.network.pathways", f"pathway {p.name!r} uses receptor {p.receptor!r}, "
                                        f"which is {'' if table[p.receptor][2] else 'not '}excitatory, from "
                                        f"{'excitatory' if circuit.excitatory[circuit.pre[wrong][0]] else 'inhibitory'} "
                                        "cells; allowed: receptors of the presynaptic cells' sign")])
                edge = np.where(mine, used.index(p.receptor), edge).astype(np.int32)
        return used, edge

    def _used_receptors(self, circuit):
        return self._receptor_plan(circuit)[0]

    @staticmethod
    def _input_receptor(spec) -> str:
        return spec.receptor or ("AMPA" if spec.excitatory else "GABA_A")

    def input_channels(self, circuit, inputs):
        table, used = self.receptor_table(), self._used_receptors(circuit)
        for spec in self.options.inputs:
            rec = self._input_receptor(spec)
            if rec not in table:
                raise ConfigError([("$.source.inputs", f"input {spec.name!r} names receptor {rec!r}; allowed: "
                                    f"{sorted(table)}")])
            if table[rec][2] != spec.excitatory:
                raise ConfigError([("$.source.inputs", f"input {spec.name!r} is {'' if spec.excitatory else 'not '}"
                                    f"excitatory but receptor {rec!r} is {'' if table[rec][2] else 'not '}excitatory; "
                                    "allowed: a receptor of the input's sign (or set 'excitatory')")])
        channel = np.array([used.index(self._input_receptor(spec)) for spec in self.options.inputs], np.int32)
        return channel[inputs["input"]]

    def channels(self, circuit):
        table = self.receptor_table()
        used, edge = self._receptor_plan(circuit)
        tau_over, off_over = self.options.tau_ms or {}, self.options.offset_um or {}
        tau = np.array([tau_over.get(r, table[r][0]) for r in used])
        off = np.array([off_over.get(r, table[r][3]) for r in used])
        exc = np.array([table[r][2] for r in used])
        return tuple(used), tau, exc, off, edge
