"""Built-in objective metrics (spike rate, counts, mean V_m, abs-means of sources/CSD/LFP).

The ``*_mean``/``*_proxy_*`` names are the reference package's objective names, kept as aliases.
"""
import jax.numpy as jnp
import numpy as np

from jaxfne_analysis.spectral import ALPHA_BETA, GAMMA, flip, laminar_spectrum, relative_power
from jaxfne_core.errors import ConfigError

from .metric import Metric
from .reductions import abs_mean, band_power, count, mean, rate_hz


def flip_crossover_depth_um(x, dt_ms, context):
    """Depth (um) of the FLIP crossover of the LFP's relative power map (NaN if no motif)."""
    f, p = laminar_spectrum(np.asarray(x), dt_ms)
    z = context.model.contact_positions_um[:, 2]
    spacing = float(np.mean(np.diff(z))) if z.size > 1 else 1.0
    r = flip(relative_power(p), f, spacing)
    if not r.found or r.crossover_channel is None:
        return float("nan")
    return float(np.interp(r.crossover_channel, np.arange(z.size), z))


def flip_goodness(x, dt_ms, context):
    """FLIP goodness G of the LFP's relative power map, signed (negative: an inverted motif;
    0 if none)."""
    f, p = laminar_spectrum(np.asarray(x), dt_ms)
    z = context.model.contact_positions_um[:, 2]
    r = flip(relative_power(p), f, float(np.mean(np.diff(z))) if z.size > 1 else 1.0)
    return r.goodness if r.found else 0.0


def first_sink_depth_um(x, dt_ms, context):
    """Depth (um) of the contact where a CSD sink appears first: per contact, the first sample
    at or below half the window's most negative CSD (sinks are negative: inward current);
    the earliest of those contacts (ties: the shallower). NaN when the CSD never goes negative.
    Pure JAX (tunable); a contact slice is refused (the depths would not line up)."""
    z = jnp.asarray(np.asarray(context.model.contact_positions_um)[:, 2], jnp.float32)
    if x.shape[-1] != z.shape[0]:
        raise ConfigError([("contacts", "csd_first_sink_depth_um reads every contact; remove the contact slice")])
    low = jnp.min(x, axis=(-2, -1), keepdims=True)
    crossed = x <= 0.5 * low
    onset = jnp.where(jnp.any(crossed, axis=-2), jnp.argmax(crossed, axis=-2), x.shape[-2])
    order = onset * z.shape[0] + jnp.argsort(jnp.argsort(z))          # earliest, then shallowest
    depth = z[jnp.argmin(order, axis=-1)]
    return jnp.where(low[..., 0, 0] < 0, depth, jnp.nan)


BUILTIN_METRICS = (
    Metric("spike_rate_hz", "spikes", "Hz", rate_hz, "mean firing rate over cells and window (Hz)"),
    Metric("spike_count", "spikes", "1", count, "total spike count in the window"),
    Metric("mean_V_m", "V_m", "mV", mean, "mean membrane potential (mV)"),
    Metric("source_abs_mean", "sources", "signal", abs_mean, "mean |transmembrane current|"),
    Metric("csd_abs_mean", "CSD", "signal", abs_mean, "mean |CSD| over contacts and window"),
    Metric("lfp_abs_mean", "LFP", "signal", abs_mean, "mean |LFP| over contacts and window"),
    Metric("lfp_gamma_power", "LFP", "signal^2/Hz", band_power(GAMMA), "mean LFP PSD over 75-150 Hz"),
    Metric("lfp_alpha_beta_power", "LFP", "signal^2/Hz", band_power(ALPHA_BETA), "mean LFP PSD over 10-19 Hz"),
    Metric("csd_first_sink_depth_um", "CSD", "um", first_sink_depth_um,
           "depth of the contact where a CSD sink (below half the minimum) appears first", needs_context=True),
    Metric("flip_crossover_depth_um", "LFP", "um", flip_crossover_depth_um,
           "FLIP crossover depth of the relative power map (NaN: no motif)", traceable=False, needs_context=True),
    Metric("flip_goodness", "LFP", "1", flip_goodness, "FLIP goodness G, signed (0: no motif)",
           traceable=False, needs_context=True),
)
ALIASES = {"spike_rate_hz_mean": "spike_rate_hz", "spike_count_total": "spike_count",
           "source_proxy_abs_mean": "source_abs_mean", "csd_proxy_abs_mean": "csd_abs_mean",
           "lfp_proxy_abs_mean": "lfp_abs_mean"}


def all_metrics():
    by_name = {m.name: m for m in BUILTIN_METRICS}
    out = list(BUILTIN_METRICS)
    for alias, target in ALIASES.items():
        m = by_name[target]
        out.append(Metric(alias, m.mode, m.units, m.fn, f"alias of {target} (reference name)"))
    return out
