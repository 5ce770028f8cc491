"""Leaky integrate-and-fire point neurons (native currents: mV of drive per unit input).

tau_m dv/dt = -(v - v_rest) + I, integrated exactly over each step for piecewise-constant I:
v <- v_rest + (v - v_rest) e^(-dt/tau) + I (1 - e^(-dt/tau)); a spike when v >= v_thresh, then
v = v_reset. Cells are excitatory with probability ``excitatory_fraction`` (populations E, I),
placed and connected by jaxfne's own layout helpers.
"""
from __future__ import annotations

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.claims import SourceCalibration
from jaxfne_core.stages import Circuit, Emitter
from jaxfne_core.validators import number
from jaxfne_emitters.connectivity import random_edges, resolve_connectivity
from jaxfne_emitters.layout import interleaved_cells, population_counts


@attrs.frozen(kw_only=True)
class LIFOptions:
    """tau_m_ms: membrane time constant. v_rest/v_thresh/v_reset_mV: potentials (mV).
    drive: tonic input (mV). noise_sigma: input noise SD at dt = 1 ms (mV).
    excitatory_fraction: share of E cells."""

    tau_m_ms: float = attrs.field(default=20.0, validator=number(0, lo_open=True))
    v_rest_mV: float = -70.0
    v_thresh_mV: float = -50.0
    v_reset_mV: float = -65.0
    drive: float = 25.0
    noise_sigma: float = attrs.field(default=2.0, validator=number(0))
    excitatory_fraction: float = attrs.field(default=0.8, validator=number(0, 1))

    def __attrs_post_init__(self):
        if not self.v_reset_mV < self.v_thresh_mV:
            from jaxfne_core.validators import FieldValueError
            raise FieldValueError("v_reset_mV", f"v_reset_mV = {self.v_reset_mV} must be below "
                                  f"v_thresh_mV = {self.v_thresh_mV}")


class LIFEmitter(Emitter):
    """Leaky integrate-and-fire network (template plugin)."""

    name = "template_lif"
    Options = LIFOptions

    def provides(self, upstream):
        return {"source_calibration": SourceCalibration.NATIVE}

    def build(self, network) -> Circuit:
        rng = np.random.default_rng([network.seed, 0x11F])
        fe = self.options.excitatory_fraction
        counts = population_counts({"E": fe, "I": 1.0 - fe}, network.n)
        counts = {k: v for k, v in counts.items() if v > 0}
        pop, pos = interleaved_cells(counts, network.thickness_um, network.radius_um, rng)
        names = tuple(counts)
        exc = np.array([names[i] == "E" for i in pop], bool)
        pre, post, w = random_edges(exc, network.p_connect, network.weight_exc, network.weight_inh, rng)
        return Circuit(names, pop, pos, exc, pre, post, w,
                       resolve_connectivity(network.connectivity, network.n, pre.size), network.thickness_um)

    def init_params(self, circuit):
        o = self.options
        n = circuit.n_cells
        return {"drive": jnp.full((n,), o.drive, jnp.float32),
                "noise_sigma": jnp.float32(o.noise_sigma), "tau_m_ms": jnp.float32(o.tau_m_ms)}

    def init_state(self, params):
        return {"v": jnp.full_like(params["drive"], self.options.v_rest_mV)}

    def step(self, params, state, current, key, dt):
        o = self.options
        decay = jnp.exp(-dt / params["tau_m_ms"])
        noise = params["noise_sigma"] * np.float32(np.sqrt(1.0 / dt)) * jax.random.normal(key, state["v"].shape)
        i = current + params["drive"] + noise
        v = o.v_rest_mV + (state["v"] - o.v_rest_mV) * decay + i * (1.0 - decay)
        spikes = v >= o.v_thresh_mV
        v = jnp.where(spikes, o.v_reset_mV, v)
        return {"v": v}, spikes, v

    def tunables(self, circuit):
        return {"drive": (self.options.drive, 0.0, 60.0), "tau_m_ms": (self.options.tau_m_ms, 2.0, 100.0, "log")}

    def apply_tunables(self, params, values, circuit):
        params = dict(params)
        if "drive" in values:
            params["drive"] = jnp.full_like(params["drive"], values["drive"])
        if "tau_m_ms" in values:
            params["tau_m_ms"] = jnp.asarray(values["tau_m_ms"], jnp.float32)
        return params
