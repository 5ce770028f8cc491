"""Hodgkin-Huxley point-neuron network emitter, in physical units: the squid axon (Hodgkin &
Huxley 1952) and the Wang & Buzsaki (1996) cortical interneuron.

    C dV/dt = -g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L) + I / A
    dx/dt = phi (alpha_x(V) (1 - x) - beta_x(V) x),   x in {m, h, n}

with the squid-axon rates in the modern convention (rest near -65 mV; V in mV, rates in 1/ms):
    alpha_m = exprel((V + 40) / 10),             beta_m = 4 exp(-(V + 65) / 18)
    alpha_h = 0.07 exp(-(V + 65) / 20),          beta_h = 1 / (1 + exp(-(V + 35) / 10))
    alpha_n = 0.1 exprel((V + 55) / 10),         beta_n = 0.125 exp(-(V + 65) / 80)
exprel(x) = x / (1 - exp(-x)) (1 at x = 0, so the rates have no singular point), and
phi = 3^((T - 6.3 C) / 10). Densities: C 1 uF/cm^2, g_Na 120, g_K 36, g_L 0.3 mS/cm^2, E_Na
50, E_K -77, E_L -54.387 mV (Hodgkin & Huxley 1952, as in Dayan & Abbott's Eq. 5.22-5.24).

``variant = "wang_buzsaki"`` (Wang & Buzsaki 1996, J Neurosci 16:6402, Eqs. 1-4): m at its
steady state (instantaneous), phi = 5 for h and n, and
    alpha_m = exprel((V + 35) / 10),             beta_m = 4 exp(-(V + 60) / 18)
    alpha_h = 0.07 exp(-(V + 58) / 20),          beta_h = 1 / (1 + exp(-(V + 28) / 10))
    alpha_n = 0.1 exprel((V + 34) / 10),         beta_n = 0.125 exp(-(V + 44) / 80)
with g_Na 35, g_K 9, g_L 0.1 mS/cm^2, E_Na 55, E_K -90, E_L -65 mV (the conductance and
reversal options override these defaults).
I is in nA and A the membrane area (area_um2), so the emitter's currents are physical and it
claims ``source_calibration = nA``.

Integration: exponential Euler with the state at the step's start: each gate relaxes exactly
toward its steady state x_inf = alpha / (alpha + beta) with tau = 1 / (phi (alpha + beta)),
and V relaxes exactly toward the conductance-weighted reversal potential with the
conductances frozen over the step (first order in dt, stable at the usual 0.01-0.05 ms). A
spike is an upward crossing of ``spike_threshold_mV``; the model resets itself (no cut).
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax.numpy as jnp
import numpy as np

from jaxfne_core.validators import number, one_of, optional

from .point_network import NanoampereEmitter, check_classes, check_fractions, check_per_population


def exprel(x):
    """x / (1 - exp(-x)), continuous at 0 (1 + x / 2 within |x| < 1e-3)."""
    small = jnp.abs(x) < 1e-3
    safe = jnp.where(small, 1.0, x)
    return jnp.where(small, 1.0 + 0.5 * x, safe / (1.0 - jnp.exp(-safe)))


def rates(v, variant: str = "squid"):
    """(alpha, beta) of m, h, n at V (mV), 1/ms (squid: at 6.3 C; Wang-Buzsaki: before phi)."""
    if variant == "wang_buzsaki":
        return ((exprel((v + 35.0) / 10.0), 4.0 * jnp.exp(-(v + 60.0) / 18.0)),
                (0.07 * jnp.exp(-(v + 58.0) / 20.0), 1.0 / (1.0 + jnp.exp(-(v + 28.0) / 10.0))),
                (0.1 * exprel((v + 34.0) / 10.0), 0.125 * jnp.exp(-(v + 44.0) / 80.0)))
    return ((exprel((v + 40.0) / 10.0), 4.0 * jnp.exp(-(v + 65.0) / 18.0)),
            (0.07 * jnp.exp(-(v + 65.0) / 20.0), 1.0 / (1.0 + jnp.exp(-(v + 35.0) / 10.0))),
            (0.1 * exprel((v + 55.0) / 10.0), 0.125 * jnp.exp(-(v + 65.0) / 80.0)))


#: variant -> (g_Na, g_K, g_L mS/cm^2, E_Na, E_K, E_L mV)
VARIANTS = {"squid": (120.0, 36.0, 0.3, 50.0, -77.0, -54.387),
            "wang_buzsaki": (35.0, 9.0, 0.1, 55.0, -90.0, -65.0)}


@attrs.frozen
class HHOptions:
    """variant: ``squid`` (Hodgkin & Huxley 1952) or ``wang_buzsaki`` (Wang & Buzsaki 1996).
    classes: cell class -> 'excitatory' or 'inhibitory'. fractions: share of each class
    without layers. c_uF_per_cm2: membrane capacitance. g_na_mS_per_cm2, g_k_mS_per_cm2,
    g_l_mS_per_cm2: peak sodium, potassium and leak conductances (default: the variant's).
    e_na_mV, e_k_mV, e_l_mV: their reversal potentials (default: the variant's).
    temperature_C: sets phi = 3^((T - 6.3) / 10) (squid; Wang-Buzsaki: phi = 5). area_um2:
    membrane area, which turns input currents (nA) into densities. spike_threshold_mV: upward
    crossings are spikes. drive: tonic current per population (class or ``<layer>_<class>``,
    nA), overriding drive_default_nA. drive_default_nA: tonic current of the others.
    noise_sigma: noise SD at dt = 1 ms (nA); noise_sigma_by_population overrides it per
    population. v_init_mV: initial V (gates at their steady state there). v_init_spread_mV: if
    > 0, each cell starts at v_init_mV + U(-spread, spread), drawn from the network seed."""

    variant: str = attrs.field(default="squid", validator=one_of(*VARIANTS))
    classes: dict[str, str] = attrs.field(factory=lambda: {"E": "excitatory", "I": "inhibitory"},
                                          validator=check_classes)
    fractions: dict[str, float] = attrs.field(factory=lambda: {"E": 0.8, "I": 0.2}, validator=check_fractions())
    c_uF_per_cm2: float = attrs.field(default=1.0, validator=number(0, 100, lo_open=True))
    g_na_mS_per_cm2: Optional[float] = attrs.field(default=None, validator=optional(number(0, 1e4)))
    g_k_mS_per_cm2: Optional[float] = attrs.field(default=None, validator=optional(number(0, 1e4)))
    g_l_mS_per_cm2: Optional[float] = attrs.field(default=None, validator=optional(number(0, 1e3, lo_open=True)))
    e_na_mV: Optional[float] = attrs.field(default=None, validator=optional(number(-150, 150)))
    e_k_mV: Optional[float] = attrs.field(default=None, validator=optional(number(-150, 150)))
    e_l_mV: Optional[float] = attrs.field(default=None, validator=optional(number(-150, 150)))
    temperature_C: float = attrs.field(default=6.3, validator=number(-10, 50))
    area_um2: float = attrs.field(default=20_000.0, validator=number(0, 1e8, lo_open=True))
    spike_threshold_mV: float = attrs.field(default=0.0, validator=number(-100, 100))
    drive: Optional[dict[str, float]] = attrs.field(default=None, validator=check_per_population)
    drive_default_nA: float = attrs.field(default=0.0, validator=number(-100, 100))
    noise_sigma: float = attrs.field(default=0.0, validator=number(0, 100))
    noise_sigma_by_population: Optional[dict[str, float]] = attrs.field(default=None, validator=check_per_population)
    v_init_mV: float = attrs.field(default=-65.0, validator=number(-120, 50))
    v_init_spread_mV: float = attrs.field(default=0.0, validator=number(0, 100))

    @property
    def constants(self) -> tuple:
        """(g_Na, g_K, g_L mS/cm^2, E_Na, E_K, E_L mV, phi): the options over the variant's."""
        given = (self.g_na_mS_per_cm2, self.g_k_mS_per_cm2, self.g_l_mS_per_cm2, self.e_na_mV, self.e_k_mV,
                 self.e_l_mV)
        values = tuple(d if g is None else g for g, d in zip(given, VARIANTS[self.variant]))
        phi = 5.0 if self.variant == "wang_buzsaki" else 3.0 ** ((self.temperature_C - 6.3) / 10.0)
        return values + (phi,)


class HHEmitter(NanoampereEmitter):
    """Hodgkin-Huxley point neurons (squid axon or Wang-Buzsaki interneuron): Na, K and leak
    currents, in nA."""

    name = "hh"
    Options = HHOptions
    SEED_TAG = 0x4848

    def init_state(self, params):
        v = params["v0"]
        gates = {}
        for name, (a, b) in zip("mhn", rates(v, self.options.variant)):
            gates[name] = a / (a + b)
        return {"v": v, **gates, "above": v >= self.options.spike_threshold_mV}

    def step(self, params, state, current, key, dt, *, noise=None):
        o = self.options
        g_na_max, g_k_max, g_l, e_na, e_k, e_l, phi = (np.float32(x) for x in o.constants)
        v = state["v"]
        i_total = self.input_current(params, current, key, dt, noise)
        density = i_total * np.float32(1e5 / o.area_um2)          # nA / um^2 -> uA / cm^2
        (am, bm), hr, nr = rates(v, o.variant)
        m = am / (am + bm) if o.variant == "wang_buzsaki" else state["m"]      # WB: m instantaneous
        h, n = state["h"], state["n"]
        g_na = g_na_max * m ** 3 * h
        g_k = g_k_max * n ** 4
        g = g_na + g_k + g_l
        v_inf = (g_na * e_na + g_k * e_k + g_l * e_l + density) / g
        v_new = v_inf + (v - v_inf) * jnp.exp(-dt * g / np.float32(o.c_uF_per_cm2))
        new = {}
        for name, (a, b), x in (("m", (am, bm), state["m"]), ("h", hr, h), ("n", nr, n)):
            s = a + b
            if name == "m" and o.variant == "wang_buzsaki":
                new[name] = a / s
            else:              # relaxes exactly toward x_inf = a / s with tau = 1 / (phi s)
                new[name] = a / s + (x - a / s) * jnp.exp(-dt * phi * s)
        above = v_new >= o.spike_threshold_mV
        spikes = above & ~state["above"]
        return {"v": v_new, **new, "above": above}, spikes, v_new
