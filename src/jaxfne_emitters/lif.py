"""Leaky integrate-and-fire network emitter, with a refractory period and optional threshold
adaptation.

    tau_m dV/dt = -(V - E_L) + I            (V in mV, t in ms, I in mV: native, R times a current)
    V >= V_th:  spike, V <- V_reset, held there for t_ref_ms
    tau_th dV_th/dt = -(V_th - V_th0);  on a spike V_th <- V_th + delta_th   (when delta_th > 0)

Between steps the input is constant, so V is advanced exactly: V <- V_inf + (V - V_inf) e^(-dt /
tau_m) with V_inf = E_L + I (no integration error; a spike is registered at the end of the
step in which V crosses V_th). I is the synaptic current, the tonic drive of the cell's
population and a white-noise current of per-step SD ``noise_sigma * sqrt(1 ms / dt)``, as for
the Izhikevich emitter. Currents are native (mV of R I); a field in uV needs a declared source
calibration.
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax.numpy as jnp
import numpy as np

from jaxfne_core.claims import SourceCalibration
from jaxfne_core.validators import FieldValueError, number

from .point_network import PointNeuronEmitter, check_classes, check_fractions, check_per_population


@attrs.frozen
class LIFOptions:
    """classes: cell class -> 'excitatory' or 'inhibitory' (sign of its outgoing weights).
    fractions: share of each class when the network has no layers. tau_m_ms: membrane time
    constant. e_l_mV: resting potential. v_th_mV: threshold. v_reset_mV: reset potential.
    t_ref_ms: refractory period (V held at v_reset_mV). delta_th_mV: threshold increment per
    spike (0: no adaptation). tau_th_ms: decay of the threshold increment. drive: tonic input
    per population (class or ``<layer>_<class>``, native mV of R I), overriding drive_default.
    drive_default: tonic input of every population not in drive. noise_sigma: noise SD at
    dt = 1 ms (native mV); noise_sigma_by_population overrides it per population. v_init_mV:
    initial V. v_init_spread_mV: if > 0, each cell starts at v_init_mV + U(-spread, spread),
    drawn from the network seed (no synchronous start)."""

    classes: dict[str, str] = attrs.field(factory=lambda: {"E": "excitatory", "I": "inhibitory"},
                                          validator=check_classes)
    fractions: dict[str, float] = attrs.field(factory=lambda: {"E": 0.8, "I": 0.2}, validator=check_fractions())
    tau_m_ms: float = attrs.field(default=20.0, validator=number(0, 1000, lo_open=True))
    e_l_mV: float = attrs.field(default=-70.0, validator=number(-120, 0))
    v_th_mV: float = attrs.field(default=-50.0, validator=number(-120, 50))
    v_reset_mV: float = attrs.field(default=-65.0, validator=number(-120, 50))
    t_ref_ms: float = attrs.field(default=2.0, validator=number(0, 100))
    delta_th_mV: float = attrs.field(default=0.0, validator=number(0, 100))
    tau_th_ms: float = attrs.field(default=100.0, validator=number(0, 10_000, lo_open=True))
    drive: Optional[dict[str, float]] = attrs.field(default=None, validator=check_per_population)
    drive_default: float = attrs.field(default=0.0, validator=number(-1000, 1000))
    noise_sigma: float = attrs.field(default=0.0, validator=number(0, 1000))
    noise_sigma_by_population: Optional[dict[str, float]] = attrs.field(default=None, validator=check_per_population)
    v_init_mV: float = attrs.field(default=-70.0, validator=number(-120, 50))
    v_init_spread_mV: float = attrs.field(default=0.0, validator=number(0, 100))

    def __attrs_post_init__(self):
        if not self.v_reset_mV < self.v_th_mV:
            raise FieldValueError("v_reset_mV", f"v_reset_mV {self.v_reset_mV} must be below v_th_mV {self.v_th_mV}")
        unknown = sorted(set(self.fractions) - set(self.classes))
        if unknown:
            raise FieldValueError("fractions", f"classes {unknown} have no entry in 'classes'; allowed: "
                                  f"{sorted(self.classes)}")


class LIFEmitter(PointNeuronEmitter):
    """Leaky integrate-and-fire point neurons (exact exponential update, refractory period,
    optional threshold adaptation; native currents)."""

    name = "lif"
    Options = LIFOptions
    SEED_TAG = 0x11F

    def provides(self, upstream):
        return {"source_calibration": SourceCalibration.NATIVE}

    def init_state(self, params):
        n = params["drive"].shape
        return {"v": params["v0"],
                "refractory": jnp.zeros(n, jnp.int32),      # steps still held at v_reset_mV
                "theta": jnp.zeros(n, jnp.float32)}          # threshold increment above v_th_mV

    def step(self, params, state, current, key, dt, *, noise=None):
        o = self.options
        v = state["v"]
        i_total = self.input_current(params, current, key, dt, noise)
        v_inf = o.e_l_mV + i_total
        decay = np.float32(np.exp(-dt / o.tau_m_ms))
        free = v_inf + (v - v_inf) * decay
        refractory = state["refractory"] > 0
        v_new = jnp.where(refractory, np.float32(o.v_reset_mV), free)
        theta = state["theta"] * np.float32(np.exp(-dt / o.tau_th_ms))
        spikes = (~refractory) & (v_new >= o.v_th_mV + theta)
        v_out = jnp.where(spikes, np.float32(o.v_reset_mV), v_new)
        # a spike holds V at v_reset_mV for the next round(t_ref / dt) steps
        held = np.int32(round(o.t_ref_ms / dt))
        ref = jnp.where(spikes, held, jnp.maximum(state["refractory"] - 1, 0))
        theta = theta + spikes * np.float32(o.delta_th_mV)
        return {"v": v_out, "refractory": ref, "theta": theta}, spikes, v_out
