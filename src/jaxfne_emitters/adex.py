"""Adaptive exponential integrate-and-fire network emitter (Brette & Gerstner 2005), in
physical units.

    C dV/dt = -g_L (V - E_L) + g_L Delta_T exp((V - V_T) / Delta_T) - w + I
    tau_w dw/dt = a (V - E_L) - w
    V >= V_peak:  spike, V <- V_r, w <- w + b

C in pF, conductances in nS, V in mV, w and I in nA, t in ms (nS x mV = pA = 1e-3 nA). The
defaults are the paper's standard set (C 281 pF, g_L 30 nS, E_L -70.6 mV, V_T -50.4 mV,
Delta_T 2 mV, tau_w 144 ms, a 4 nS, b 0.0805 nA, V_r -70.6 mV); V_peak defaults to
V_T + 5 Delta_T = -40.4 mV, the cut of Brian2's AdEx example (the exponential term makes V
diverge within a fraction of a millisecond past it, so the spike time hardly depends on it).
Integration: forward Euler (the exponent is evaluated at min(V, V_peak), so it cannot
overflow), first order in dt; at dt = 0.01 ms spike times match a tight-tolerance ODE solution
to the tolerances in ``tests/test_neuron_models.py``. I is the synaptic current (nA), the tonic
drive of the cell's population and white noise of per-step SD ``noise_sigma * sqrt(1 ms /
dt)`` nA. The currents are physical, so this emitter claims ``source_calibration = nA``: its
sources need no declared scale.
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax.numpy as jnp
import numpy as np

from jaxfne_core.validators import FieldValueError, number, optional

from .point_network import NanoampereEmitter, check_classes, check_fractions, check_per_population


@attrs.frozen
class AdExOptions:
    """classes: cell class -> 'excitatory' or 'inhibitory'. fractions: share of each class
    without layers. c_pF: membrane capacitance. g_l_nS: leak conductance. e_l_mV: leak reversal.
    v_t_mV: threshold slope voltage. delta_t_mV: slope factor. tau_w_ms: adaptation time
    constant. a_nS: subthreshold adaptation. b_nA: spike-triggered adaptation. v_r_mV: reset.
    v_peak_mV: spike cut (default v_t_mV + 5 delta_t_mV). t_ref_ms: refractory period (0 in
    the paper). drive: tonic current per population (class or ``<layer>_<class>``, nA),
    overriding drive_default_nA. drive_default_nA: tonic current of the others. noise_sigma:
    noise SD at dt = 1 ms (nA); noise_sigma_by_population overrides it per population.
    v_init_mV: initial V (w starts at 0). v_init_spread_mV: if > 0, each cell starts at
    v_init_mV + U(-spread, spread), drawn from the network seed (no synchronous start)."""

    classes: dict[str, str] = attrs.field(factory=lambda: {"E": "excitatory", "I": "inhibitory"},
                                          validator=check_classes)
    fractions: dict[str, float] = attrs.field(factory=lambda: {"E": 0.8, "I": 0.2}, validator=check_fractions())
    c_pF: float = attrs.field(default=281.0, validator=number(0, 1e5, lo_open=True))
    g_l_nS: float = attrs.field(default=30.0, validator=number(0, 1e4, lo_open=True))
    e_l_mV: float = attrs.field(default=-70.6, validator=number(-120, 0))
    v_t_mV: float = attrs.field(default=-50.4, validator=number(-120, 50))
    delta_t_mV: float = attrs.field(default=2.0, validator=number(0, 50, lo_open=True))
    tau_w_ms: float = attrs.field(default=144.0, validator=number(0, 1e5, lo_open=True))
    a_nS: float = attrs.field(default=4.0, validator=number(-1e3, 1e4))
    b_nA: float = attrs.field(default=0.0805, validator=number(-100, 100))
    v_r_mV: float = attrs.field(default=-70.6, validator=number(-120, 50))
    v_peak_mV: Optional[float] = attrs.field(default=None, validator=optional(number(-120, 100)))
    t_ref_ms: float = attrs.field(default=0.0, validator=number(0, 100))
    drive: Optional[dict[str, float]] = attrs.field(default=None, validator=check_per_population)
    drive_default_nA: float = attrs.field(default=0.0, validator=number(-100, 100))
    noise_sigma: float = attrs.field(default=0.0, validator=number(0, 100))
    noise_sigma_by_population: Optional[dict[str, float]] = attrs.field(default=None, validator=check_per_population)
    v_init_mV: float = attrs.field(default=-70.6, validator=number(-120, 50))
    v_init_spread_mV: float = attrs.field(default=0.0, validator=number(0, 100))

    @property
    def peak_mV(self) -> float:
        return self.v_peak_mV if self.v_peak_mV is not None else self.v_t_mV + 5.0 * self.delta_t_mV

    def __attrs_post_init__(self):
        if not self.v_r_mV < self.peak_mV:
            raise FieldValueError("v_r_mV", f"v_r_mV {self.v_r_mV} must be below the spike cut {self.peak_mV}")
        if not self.v_t_mV < self.peak_mV:
            raise FieldValueError("v_peak_mV", f"the spike cut {self.peak_mV} must lie above v_t_mV {self.v_t_mV}")


class AdExEmitter(NanoampereEmitter):
    """Adaptive exponential integrate-and-fire neurons (Brette & Gerstner 2005; currents in nA)."""

    name = "adex"
    Options = AdExOptions
    SEED_TAG = 0xADE

    def init_state(self, params):
        n = params["drive"].shape
        return {"v": params["v0"], "w": jnp.zeros(n, jnp.float32),
                "refractory": jnp.zeros(n, jnp.int32)}

    def step(self, params, state, current, key, dt, *, noise=None):
        o = self.options
        v, w = state["v"], state["w"]
        i_total = self.input_current(params, current, key, dt, noise)
        g_l, c_nf, a = np.float32(o.g_l_nS * 1e-3), np.float32(o.c_pF * 1e-3), np.float32(o.a_nS * 1e-3)  # uS, nF
        peak = np.float32(o.peak_mV)
        spike_current = g_l * o.delta_t_mV * jnp.exp((jnp.minimum(v, peak) - o.v_t_mV) / np.float32(o.delta_t_mV))
        dv = (-g_l * (v - o.e_l_mV) + spike_current - w + i_total) / c_nf
        dw = (a * (v - o.e_l_mV) - w) / np.float32(o.tau_w_ms)
        refractory = state["refractory"] > 0
        v_new = jnp.where(refractory, np.float32(o.v_r_mV), v + dt * dv)
        w_new = w + dt * dw
        spikes = (~refractory) & (v_new >= peak)
        v_out = jnp.where(spikes, np.float32(o.v_r_mV), v_new)
        w_out = w_new + spikes * np.float32(o.b_nA)
        held = np.int32(round(o.t_ref_ms / dt))
        ref = jnp.where(spikes, held, jnp.maximum(state["refractory"] - 1, 0))
        return {"v": v_out, "w": w_out, "refractory": ref}, spikes, v_out
