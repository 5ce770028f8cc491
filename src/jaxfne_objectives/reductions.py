"""Reusable metric reductions over a windowed signal ``x`` of shape (..., T, X) (pure JAX)."""
import jax.numpy as jnp


def spike_total(x):
    """Spikes summed over the last two axes, float32. A bool raster is summed as int32: exact
    at any size, and on XLA's CPU backend about 12x faster than converting to float first
    (a vmapped batch's raster comes from the scan transposed, and the float reduction of it
    went to a slow library kernel: 0.33 s against 0.03 s for 16 x 2000 x 400 spikes)."""
    if x.dtype == jnp.bool_:
        return jnp.sum(x, axis=(-2, -1), dtype=jnp.int32).astype(jnp.float32)
    return jnp.sum(x.astype(jnp.float32), axis=(-2, -1))


def rate_hz(x, dt_ms):
    return spike_total(x) / (x.shape[-2] * x.shape[-1]) * (1000.0 / dt_ms)


def count(x, dt_ms):
    return spike_total(x)


def mean(x, dt_ms):
    return jnp.mean(x, axis=(-2, -1))


def abs_mean(x, dt_ms):
    return jnp.mean(jnp.abs(x), axis=(-2, -1))


def band_power(band):
    """Traceable metric function: mean over contacts (and leading axes) of the Hann-windowed
    periodogram averaged over ``band`` Hz; (signal units)^2 / Hz."""
    lo, hi = band

    def fn(x, dt_ms):
        n = x.shape[-2]
        w = jnp.hanning(n).astype(x.dtype)
        xc = (x - x.mean(axis=-2, keepdims=True)) * w[:, None]
        spec = jnp.abs(jnp.fft.rfft(xc, axis=-2)) ** 2
        fs = 1000.0 / dt_ms
        psd = 2.0 * spec / (fs * jnp.sum(w ** 2))
        f = jnp.fft.rfftfreq(n, 1.0 / fs)
        sel = (f >= lo) & (f <= hi)
        return jnp.mean(jnp.sum(psd * sel[:, None], axis=-2) / jnp.maximum(sel.sum(), 1), axis=-1)
    return fn
