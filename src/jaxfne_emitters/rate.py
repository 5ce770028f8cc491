"""Firing-rate network emitter: voltage-based rate neurons (Wilson-Cowan type, in the form of
Ermentrout & Terman 2010, ch. 11), each unit a neuron described by its mean potential and
firing rate.

    tau_m du/dt = -(u - E_L) + I           (u in mV, t in ms, I native: mV of R I, as for LIF)
    r = F(u) = r_max / (1 + exp(-(u - u_half) / slope))      (Hz)

Between steps the input is constant, so u is advanced exactly (u <- u_inf + (u - u_inf)
e^(-dt / tau_m), u_inf = E_L + I), and the step's output is the expected number of spikes
r dt / 1000 of the unit (float32, not a 0/1 spike): the synapses integrate it linearly, so a
network of rate units is the mean-field limit of the same network of neurons firing as
Poisson processes at r, with the same edges, weights and kernels. Units are placed in the
column exactly like point neurons (layers, pathways, delays); their sources are each unit's
synaptic currents at its synaptic sites, so the field is that of the same network of neurons.
``spike_rate_hz`` of these outputs is the mean rate. Nothing is thresholded: gradients are
exact (``differentiability = exact``). The delivery path is dense or the edge list (event
delivery needs 0/1 spikes); plasticity rules see the expected counts, so they apply the mean
drift of their rule for Poisson neurons at these rates, not a spike-timing rule.
I is the synaptic current, the tonic drive of the unit's population and a white-noise current
of per-step SD ``noise_sigma * sqrt(1 ms / dt)``. Native currents: a field in uV needs a
declared source calibration.
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
class RateOptions:
    """classes: cell class -> 'excitatory' or 'inhibitory'. fractions: share of each class
    without layers. tau_m_ms: time constant of the mean potential. e_l_mV: resting potential.
    r_max_hz: the rate function's maximum. u_half_mV: potential of half-maximal rate.
    slope_mV: the sigmoid's slope factor. drive: tonic input per population (class or
    ``<layer>_<class>``, native mV of R I), overriding drive_default. drive_default: tonic input
    of the others. noise_sigma: noise SD at dt = 1 ms (native mV); noise_sigma_by_population
    overrides it per population. v_init_mV: initial u. v_init_spread_mV: if > 0, each unit
    starts at v_init_mV + U(-spread, spread), drawn from the network seed."""

    classes: dict[str, str] = attrs.field(factory=lambda: {"E": "excitatory", "I": "inhibitory"},
                                          validator=check_classes)
    fractions: dict[str, float] = attrs.field(factory=lambda: {"E": 0.8, "I": 0.2}, validator=check_fractions())
    tau_m_ms: float = attrs.field(default=10.0, validator=number(0, 1000, lo_open=True))
    e_l_mV: float = attrs.field(default=-70.0, validator=number(-120, 0))
    r_max_hz: float = attrs.field(default=100.0, validator=number(0, 2000, lo_open=True))
    u_half_mV: float = attrs.field(default=-55.0, validator=number(-120, 50))
    slope_mV: float = attrs.field(default=4.0, validator=number(0, 100, lo_open=True))
    drive: Optional[dict[str, float]] = attrs.field(default=None, validator=check_per_population)
    drive_default: float = attrs.field(default=0.0, validator=number(-1000, 1000))
    noise_sigma: float = attrs.field(default=0.0, validator=number(0, 1000))
    noise_sigma_by_population: Optional[dict[str, float]] = attrs.field(default=None, validator=check_per_population)
    v_init_mV: float = attrs.field(default=-70.0, validator=number(-120, 50))
    v_init_spread_mV: float = attrs.field(default=0.0, validator=number(0, 100))

    def __attrs_post_init__(self):
        unknown = sorted(set(self.fractions) - set(self.classes))
        if unknown:
            raise FieldValueError("fractions", f"classes {unknown} have no entry in 'classes'; allowed: "
                                  f"{sorted(self.classes)}")


def rate_hz(o: RateOptions, u):
    """F(u): the firing rate (Hz) at mean potential ``u`` (mV)."""
    return np.float32(o.r_max_hz) * jnp.reciprocal(1.0 + jnp.exp(-(u - o.u_half_mV) / np.float32(o.slope_mV)))


class RateEmitter(PointNeuronEmitter):
    """Voltage-based rate neurons (Wilson-Cowan type): expected spike counts, exact gradients."""

    name = "rate"
    Options = RateOptions
    SEED_TAG = 0x2A7E
    FLOAT_SPIKES = True

    def provides(self, upstream):
        return {"source_calibration": SourceCalibration.NATIVE}

    @property
    def spike_dtype(self):
        return jnp.float32

    def differentiability(self) -> str:
        return "exact"

    def init_state(self, params):
        return {"v": params["v0"]}

    def step(self, params, state, current, key, dt, *, noise=None):
        o = self.options
        u_inf = o.e_l_mV + self.input_current(params, current, key, dt, noise)
        u = u_inf + (state["v"] - u_inf) * np.float32(np.exp(-dt / o.tau_m_ms))
        expected_spikes = rate_hz(o, u) * np.float32(dt / 1000.0)
        return {"v": u}, expected_spikes, u
