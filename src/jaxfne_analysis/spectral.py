"""Spectral readouts of laminar LFP: power spectra, relative power maps, band profiles, FLIP.

Units: signals sampled every ``dt_ms``; frequencies in Hz; one-sided power spectral density in
(signal units)^2 / Hz, so integrating the PSD over frequency gives the signal's variance.

The relative power map divides each channel's power by the maximum across channels at each
frequency. FLIP and vFLIP, as published, are in :mod:`jaxfne_analysis.flip` (re-exported here).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from jaxfne_core.errors import ConfigError

from .flip import ALPHA_BETA, GAMMA, FlipResult, flip, vflip

__all__ = ["ALPHA_BETA", "GAMMA", "FlipResult", "band_profile", "flip", "laminar_spectrum", "multitaper_psd",
           "relative_power", "vflip", "welch_psd"]


def welch_psd(x, dt_ms: float, segment_ms: float = 500.0, axis: int = -1):
    """Welch PSD (Hann, 50% overlap) along ``axis`` -> (f Hz, P)."""
    from scipy.signal import welch
    fs = 1000.0 / dt_ms
    nper = min(int(round(segment_ms / dt_ms)), np.shape(x)[axis])
    return welch(np.asarray(x, np.float64), fs=fs, nperseg=nper, axis=axis, detrend="constant")


def multitaper_psd(x, dt_ms: float, nw: float = 3.0, k: Optional[int] = None, axis: int = -1):
    """Multitaper PSD with DPSS tapers (time-half-bandwidth nw, k = 2 nw - 1 tapers) -> (f, P)."""
    from scipy.signal.windows import dpss
    x = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    x = x - x.mean(axis=-1, keepdims=True)
    n = x.shape[-1]
    k = k or max(1, int(2 * nw - 1))
    tapers = dpss(n, nw, k)                                       # (k, n), unit energy
    spec = np.fft.rfft(x[..., None, :] * tapers, axis=-1)
    fs = 1000.0 / dt_ms
    p = (np.abs(spec) ** 2).mean(axis=-2) / fs
    p[..., 1:] *= 2.0                                            # one-sided
    if n % 2 == 0:
        p[..., -1] /= 2.0
    return np.fft.rfftfreq(n, 1.0 / fs), np.moveaxis(p, -1, axis)


def relative_power(power_cf):
    """(C, F) power -> each channel divided by the maximum across channels at each frequency."""
    p = np.asarray(power_cf, np.float64)
    return p / np.maximum(p.max(axis=0, keepdims=True), 1e-300)


def band_profile(rel_cf, freqs, band):
    """(C,) mean relative power over ``band`` (Hz, inclusive)."""
    sel = (freqs >= band[0]) & (freqs <= band[1])
    if not sel.any():
        raise ConfigError(f"band {band} Hz holds no frequency of the spectrum ({freqs[1]:.3g} Hz resolution)")
    return np.asarray(rel_cf)[:, sel].mean(axis=1)


def laminar_spectrum(lfp, dt_ms: float, method: str = "welch"):
    """(..., T, C) LFP -> (f, power (C, F)) averaged over leading (trial) axes."""
    x = np.asarray(lfp, np.float64)
    x = x.reshape((-1,) + x.shape[-2:])                           # (trials, T, C)
    fn = welch_psd if method == "welch" else multitaper_psd
    f, p = fn(np.swapaxes(x, -1, -2), dt_ms)                      # (trials, C, F)
    return f, p.mean(axis=0)
