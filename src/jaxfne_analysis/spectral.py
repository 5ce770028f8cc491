"""Spectral readouts of laminar LFP: power spectra, relative power maps, band profiles, FLIP.

Units: signals sampled every ``dt_ms``; frequencies in Hz; one-sided power spectral density in
(signal units)^2 / Hz, so integrating the PSD over frequency gives the signal's variance.

FLIP (Mendoza-Halliday, Major et al., Nat. Neurosci. 2024): the relative power map divides each
channel's power by the maximum across channels at each frequency. Over every window of at
least ``min_window_um`` of contacts, band-averaged relative power (alpha-beta 10-19 Hz, gamma
75-150 Hz) is regressed on channel index; a window qualifies when both fits have p < 0.05 and
opposite slopes and the two regression lines cross inside it; its goodness is
G = R2_ab * R2_gamma * (0.04 n + 0.72) with n the window's channel count; the best window is
the one with the largest G. The crossover is where the regression lines cross; the peaks are
the channels of largest band power in the window. vFLIP also searches the band edges.
"""
from __future__ import annotations

from typing import Optional

import attrs
import numpy as np
from jaxfne_core.errors import ConfigError

ALPHA_BETA = (10.0, 19.0)
GAMMA = (75.0, 150.0)


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


@attrs.frozen
class FlipResult:
    found: bool
    window: Optional[tuple] = None            # (first, last) channel, inclusive
    goodness: Optional[float] = None
    crossover_channel: Optional[float] = None
    alpha_beta_peak_channel: Optional[int] = None
    gamma_peak_channel: Optional[int] = None
    alpha_beta_slope: Optional[float] = None
    gamma_slope: Optional[float] = None
    r2_alpha_beta: Optional[float] = None
    r2_gamma: Optional[float] = None
    alpha_beta_band: tuple = ALPHA_BETA
    gamma_band: tuple = GAMMA
    reason: str = ""

    def to_dict(self) -> dict:
        return attrs.asdict(self, value_serializer=lambda i, a, v: list(v) if isinstance(v, tuple) else v)


def _fit(y):
    from scipy.stats import linregress
    r = linregress(np.arange(y.size, dtype=float), y)
    return r.slope, r.intercept, r.rvalue**2, r.pvalue


def flip(rel_cf, freqs, spacing_um: float = 100.0, min_window_um: float = 700.0,
         alpha_beta=ALPHA_BETA, gamma=GAMMA, alpha: float = 0.05) -> FlipResult:
    """FLIP on a (C, F) relative power map (channel 0 most superficial)."""
    ab_all, g_all = band_profile(rel_cf, freqs, alpha_beta), band_profile(rel_cf, freqs, gamma)
    n_ch = ab_all.size
    min_n = max(3, int(np.ceil(min_window_um / spacing_um)) + 1)
    best = None
    for a in range(n_ch):
        for b in range(a + min_n - 1, n_ch):
            ab, g = ab_all[a:b + 1], g_all[a:b + 1]
            s_ab, i_ab, r2_ab, p_ab = _fit(ab)
            s_g, i_g, r2_g, p_g = _fit(g)
            if not (p_ab < alpha and p_g < alpha and np.sign(s_ab) != np.sign(s_g)):
                continue
            cross = (i_g - i_ab) / (s_ab - s_g)                    # where the lines meet (local index)
            if not (0.0 < cross < b - a):
                continue
            n = b - a + 1
            good = r2_ab * r2_g * (0.04 * n + 0.72)
            if best is None or good > best.goodness:
                best = FlipResult(True, (a, b), float(good), float(a + cross), int(a + np.argmax(ab)),
                                  int(a + np.argmax(g)), float(s_ab), float(s_g), float(r2_ab), float(r2_g),
                                  tuple(alpha_beta), tuple(gamma))
    if best is None:
        return FlipResult(False, alpha_beta_band=tuple(alpha_beta), gamma_band=tuple(gamma),
                          reason=f"no window of >= {min_n} channels has significant (p < {alpha}) opposite "
                                 "alpha-beta and gamma slopes crossing inside it")
    return best


def vflip(rel_cf, freqs, spacing_um: float = 100.0, min_window_um: float = 700.0,
          ab_low=(8.0, 10.0, 12.0), ab_high=(15.0, 19.0, 25.0, 30.0),
          g_low=(40.0, 50.0, 60.0, 75.0), g_high=(100.0, 125.0, 150.0)) -> FlipResult:
    """FLIP with a search over band edges: the best goodness over all edge combinations."""
    best = None
    for al in ab_low:
        for ah in ab_high:
            for gl in g_low:
                for gh in g_high:
                    r = flip(rel_cf, freqs, spacing_um, min_window_um, (al, ah), (gl, gh))
                    if r.found and (best is None or r.goodness > best.goodness):
                        best = r
    return best if best is not None else flip(rel_cf, freqs, spacing_um, min_window_um)


def laminar_spectrum(lfp, dt_ms: float, method: str = "welch"):
    """(..., T, C) LFP -> (f, power (C, F)) averaged over leading (trial) axes."""
    x = np.asarray(lfp, np.float64)
    x = x.reshape((-1,) + x.shape[-2:])                           # (trials, T, C)
    fn = welch_psd if method == "welch" else multitaper_psd
    f, p = fn(np.swapaxes(x, -1, -2), dt_ms)                      # (trials, C, F)
    return f, p.mean(axis=0)
