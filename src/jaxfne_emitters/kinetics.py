"""Synaptic kinetics beyond one-step exponential currents: transmission delays, rise times
(dual-exponential kernels) and conductance synapses with receptor reversal potentials and
the NMDA Mg2+ block.

Delays. Each edge carries a delay of d whole steps (d >= 1; ``Circuit.delay_ms`` rounded to
the nearest step). Arrivals are summed into a ring buffer of D = max d slots of the
per-(channel, cell) state: a spike emitted at step t is delivered at step t + 1 into the slot
that is read at step t + d, so it changes the synaptic state at step t + d exactly, in the
event, edge-list and dense paths alike. Memory: D x (C N + scratch) floats, O(N x max delay)
per channel, independent of the number of edges.

Kernels. A unit arrival at step k gives the conductance (or current)
    g(t) = w A (exp(-t / tau_decay) - exp(-t / tau_rise)),  t = (step - k) dt,
held as two exponentially decaying states (a single one when tau_rise = 0, where g jumps).
The normalisation A is stated by ``normalisation``: ``peak`` -> max_t g = w; ``charge`` ->
integral g dt = w tau_decay (the charge of the plain exponential kernel of the same decay,
so a rise time delays the charge without changing it). Both give A = 1 when tau_rise = 0.

Conductance synapses. I_c = g_c (E_c - V) B_c(V) per channel c, with V the postsynaptic
membrane potential at the start of the step and B the Jahr & Stevens (1990) block for NMDA
channels, B(V) = 1 / (1 + [Mg2+] / 3.57 mM exp(-0.062 V / mV)), 1 elsewhere. An edge's
weight keeps the meaning it has for current synapses: |w| is the current its arrival drives
at V = ``weights_at_mV`` (the conductance jump is |w| / |E_c - weights_at_mV|), so switching
a network to conductances leaves its PSPs at rest unchanged.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxfne_core.errors import ConfigError

MG_HALF_BLOCK_MM = 3.57      # Jahr & Stevens (1990): [Mg2+] scale (mM)
MG_SLOPE_PER_MV = 0.062      # Jahr & Stevens (1990): voltage dependence (1/mV)
MAX_DELAY_STEPS = 100_000


def delay_steps(delay_ms, n_edges: int, dt: float) -> np.ndarray:
    """(E,) int32 delays in whole steps of ``dt`` ms (nearest step; 1 where ``delay_ms`` is
    None or NaN, the default). Raises ConfigError for a delay below half a step, infinite or
    too long."""
    if delay_ms is None:
        return np.ones(n_edges, np.int32)
    d = np.asarray(delay_ms, np.float64)
    if d.shape != (n_edges,):
        raise ConfigError([("$.network.delay_ms", f"has shape {d.shape}; allowed: one delay per edge ({n_edges},)")])
    d = np.where(np.isnan(d), dt, d)
    if d.size and (not np.all(np.isfinite(d)) or d.min() < 0.5 * dt):
        raise ConfigError([("$.network.delay_ms", f"delays must be finite and at least one step (dt = {dt} ms); "
                            f"got a minimum of {float(np.nanmin(d)) if d.size else 0.0} ms")])
    steps = np.rint(d / dt).astype(np.int64)
    if steps.size and steps.max() > MAX_DELAY_STEPS:
        raise ConfigError([("$.network.delay_ms", f"the longest delay is {steps.max()} steps of {dt} ms; "
                            f"allowed: up to {MAX_DELAY_STEPS} steps")])
    return steps.astype(np.int32)


def kernel_norm(tau_ms, rise_ms, normalisation: str):
    """(C,) the factor A of the dual-exponential kernel (module docstring), jnp or NumPy;
    rise_ms = 0 gives 1. tau_ms > rise_ms >= 0 (checked where the options are read)."""
    xp = jnp if any(isinstance(x, jnp.ndarray) for x in (tau_ms, rise_ms)) else np
    tau, rise = xp.asarray(tau_ms, xp.float32), xp.asarray(rise_ms, xp.float32)
    has_rise = rise > 0
    safe_rise = xp.where(has_rise, rise, 0.5 * tau)            # any value below tau where unused
    if normalisation == "charge":
        return xp.where(has_rise, tau / (tau - safe_rise), 1.0)
    t_peak = safe_rise * tau / (tau - safe_rise) * xp.log(tau / safe_rise)
    peak = xp.exp(-t_peak / tau) - xp.exp(-t_peak / safe_rise)
    return xp.where(has_rise, 1.0 / peak, 1.0)


def nmda_block(v_mV, mg_mM):
    """Jahr & Stevens (1990) fraction of NMDA conductance not blocked by Mg2+ at V (mV)."""
    return 1.0 / (1.0 + (mg_mM / MG_HALF_BLOCK_MM) * jnp.exp(-MG_SLOPE_PER_MV * v_mV))


def conductance_scale(reversal_mV, excitatory, weights_at_mV: float) -> np.ndarray:
    """(C,) conductance jump per unit of signed weight: sign / |E_c - weights_at_mV|, the sign
    turning inhibitory (negative) weights into positive conductances."""
    reversal = np.asarray(reversal_mV, np.float64)
    gap = np.abs(reversal - weights_at_mV)
    if np.any(gap < 1e-3):
        raise ConfigError([("$.source.weights_at_mV", f"{weights_at_mV} mV equals a reversal potential "
                            f"({reversal.tolist()} mV); allowed: a potential where every synapse drives current")])
    return (np.where(excitatory, 1.0, -1.0) / gap).astype(np.float32)
