"""FLIP and vFLIP as published: ``FLIPAnalysis.m`` of Mendoza-Halliday, Major et al. (Nat.
Neurosci. 2024; code and data at doi:10.5061/dryad.9w0vt4bnp), rules for rules.

Input: a (C, F) power map, channel 0 the most superficial (absolute or relative power alike:
each window renormalises it). For every window of channels [s, d] with d - s >= m, where m is
the 1-based index of the first contact at least 0.7 mm below the first (m = 8 at 100 um):
1. relative power in the window: each frequency divided by its maximum over the window's
   channels; band profiles: the mean over the band's frequencies (alpha-beta 10-19 Hz, gamma
   75-150 Hz; a band holds the frequencies f with lo <= f <= hi);
2. peak rule: each profile's maximum (the last of tied maxima when they lie on average in the
   window's deeper half, else the first) must be a strict local maximum; at the window's
   first (last) channel it also has to be the probe's first (last) channel;
3. both profiles regressed on channel index with p < 0.05 (F-test); alpha-beta rising with
   depth and gamma falling gives G = +R2_ab R2_gamma (0.04 n + 0.72) (n channels); the
   opposite gives -G (an inverted motif); other windows do not count.
The result is the window of largest |G| (ties: the first in (s, d) order; a positive maximum
wins a tie with a negative one). Peaks are reported on that window; the crossover is the
channel where gamma > alpha-beta turns into alpha-beta > gamma (the nearer of the two channels
to the crossing, or the channel of equality), going down; several: the one maximising the
summed band difference above minus below it. vFLIP repeats this over the published band-edge
grid (alpha-beta edges 1, 10, 20, ..., 70 Hz; gamma edges 30, 40, ..., 150 Hz; a gamma band
starts at or above the alpha-beta band's end) and keeps the largest |G|.

Deviations from the original, kept as options and off by default: ``renormalize_window =
False`` (use the map as given), ``peak_rule = False``, ``crossover = "regression_lines"`` (the
fractional point where the two regression lines cross, required inside the window: jaxfne's
rule before 2026-12) and ``min_window_um`` (a minimum span of its own).

Band edges in Hz select frequencies by value; the original selects frequency columns by index,
so the two agree where column k holds k Hz (the paper's 1 Hz bins from 1 Hz), which is how
``tests/test_flip_published.py`` checks this module against a line-by-line port on random maps.
"""
from __future__ import annotations

from typing import Optional

import attrs
import numpy as np
from scipy.stats import t as student_t

from jaxfne_core.errors import ConfigError

ALPHA_BETA = (10.0, 19.0)
GAMMA = (75.0, 150.0)
P_VALUE = 0.05
VFLIP_LOW_EDGES_HZ = (1, 10, 20, 30, 40, 50, 60, 70)
VFLIP_GAMMA_EDGES_HZ = (30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150)


@attrs.frozen
class FlipResult:
    """found: a window qualified (G is finite); upright: G > 0 (alpha-beta peak deep, gamma
    peak superficial). Channels are 0-based indices (0 most superficial)."""

    found: bool
    window: Optional[tuple] = None            # (first, last) channel, inclusive
    goodness: Optional[float] = None          # signed: negative for an inverted motif
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

    @property
    def upright(self) -> bool:
        return bool(self.found and self.goodness > 0)

    def to_dict(self) -> dict:
        out = attrs.asdict(self, value_serializer=lambda i, a, v: list(v) if isinstance(v, tuple) else v)
        out["upright"] = self.upright
        return out


def _columns(freqs, band):
    sel = np.nonzero((np.asarray(freqs) >= band[0]) & (np.asarray(freqs) <= band[1]))[0]
    if not sel.size:
        raise ConfigError(f"band {band} Hz holds no frequency of the spectrum")
    return sel


def _fit(y):
    """Least squares of y on 1..n: slope, intercept (at x = 1), R^2, F-test p (NaN: flat y)."""
    n = y.size
    x = np.arange(1, n + 1, dtype=np.float64)
    xc, yc = x - x.mean(), y - y.mean()
    sxx, syy, sxy = (xc * xc).sum(), (yc * yc).sum(), (xc * yc).sum()
    slope = sxy / sxx
    if syy <= 0 or n < 3:
        return slope, y.mean() - slope * x.mean() + slope, np.nan, np.nan
    r2 = min(1.0, sxy * sxy / (sxx * syy))
    tval = np.sqrt(r2 * (n - 2) / max(1.0 - r2, 1e-300))
    return slope, y.mean() - slope * (x.mean() - 1.0), r2, 2.0 * student_t.sf(tval, n - 2)


def _peak(profile):
    """The published peak index: the last of tied maxima if they sit on average in the
    deeper half, else the first."""
    where = np.nonzero(profile == profile.max())[0]
    return int(where.max()) if (where + 1).mean() > profile.size / 2 else int(where.min())


def _is_local_max(profile, k, at_top, at_bottom):
    if k == 0:
        return bool(at_top and profile[0] > profile[1])
    if k == profile.size - 1:
        return bool(at_bottom and profile[k] > profile[k - 1])
    return bool(profile[k] > profile[k + 1] and profile[k] > profile[k - 1])


def _bands(power, s, d, ab_cols, g_cols, renormalize):
    window = power[s:d + 1]
    rel = window / window.max(axis=0, keepdims=True) if renormalize else window
    return rel[:, ab_cols].mean(axis=1), rel[:, g_cols].mean(axis=1)


def _crossover(low, high, positive):
    """The published crossover (0-based within the window), or None."""
    diff = high - low
    found = []
    for i in range(low.size - 2):
        a, b = (high[i] > low[i], low[i + 1] > high[i + 1]) if positive else (high[i] < low[i], low[i + 1] < high[i + 1])
        if a and b:
            found.append(i if abs(diff[i]) <= abs(diff[i + 1]) else i + 1)
        elif a and high[i + 1] == low[i + 1] and (low[i + 2] > high[i + 2] if positive else low[i + 2] < high[i + 2]):
            found.append(i + 1)
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    signed = diff if positive else -diff
    ratings = [signed[:c + 1].sum() - signed[c:].sum() for c in found]
    return found[int(np.argmax(ratings))]


def min_window_index(spacing_um: float, n_channels: int, min_window_um: Optional[float] = None) -> int:
    """m: the deepest channel of a window is at least m channels below its first. Published:
    the 1-based index of the first contact 0.7 mm or more below the first (laminar axis 0,
    spacing, ...); with min_window_um, the channels that span it."""
    if min_window_um is not None:
        return max(2, int(np.ceil(min_window_um / spacing_um - 1e-9)))
    axis_mm = np.arange(n_channels) * spacing_um / 1000.0
    if axis_mm.max() < 0.7:
        raise ConfigError([("flip", f"{n_channels} contacts at {spacing_um} um span {axis_mm.max():.3g} mm; "
                            "FLIP needs a probe longer than 0.6 mm")])
    return int(np.argmax(axis_mm >= 0.7 - 1e-12)) + 1


def flip(power_cf, freqs, spacing_um: float = 100.0, min_window_um: Optional[float] = None,
         alpha_beta=ALPHA_BETA, gamma=GAMMA, *, renormalize_window: bool = True, peak_rule: bool = True,
         crossover: str = "published") -> FlipResult:
    """FLIP on a (C, F) power map (module docstring); ``crossover``: ``published`` or
    ``regression_lines``."""
    if crossover not in ("published", "regression_lines"):
        raise ConfigError([("crossover", f"{crossover!r}; allowed: 'published', 'regression_lines'")])
    power = np.asarray(power_cf, np.float64)
    n_ch = power.shape[0]
    ab_cols, g_cols = _columns(freqs, alpha_beta), _columns(freqs, gamma)
    m = min_window_index(spacing_um, n_ch, min_window_um)
    best = None                                          # (G, s, d, fits, crossing)
    for s in range(0, n_ch - m):
        for d in range(s + m, n_ch):
            low, high = _bands(power, s, d, ab_cols, g_cols, renormalize_window)
            if peak_rule and not (_is_local_max(low, _peak(low), s == 0, d == n_ch - 1)
                                  and _is_local_max(high, _peak(high), s == 0, d == n_ch - 1)):
                continue
            fl, fh = _fit(low), _fit(high)
            if not (fl[3] < P_VALUE and fh[3] < P_VALUE):
                continue
            if fl[0] > 0 and fh[0] < 0:
                sign = 1.0
            elif fl[0] < 0 and fh[0] > 0:
                sign = -1.0
            else:
                continue
            crossing = None
            if crossover == "regression_lines":
                crossing = (fh[1] - fl[1]) / (fl[0] - fh[0])          # 0-based where the lines meet
                if not 0.0 < crossing < d - s:
                    continue
            g = sign * fl[2] * fh[2] * (0.04 * (d - s + 1) + 0.72)
            if best is None or abs(g) > abs(best[0]) or (g == -best[0] and g > 0):
                best = (g, s, d, fl, fh, crossing)
    band = {"alpha_beta_band": tuple(alpha_beta), "gamma_band": tuple(gamma)}
    if best is None:
        return FlipResult(False, reason=f"no window of > {m} channels has a peaked, significant (p < {P_VALUE}) "
                                        "pair of opposite alpha-beta and gamma slopes", **band)
    g, s, d, fl, fh, crossing = best
    low, high = _bands(power, s, d, ab_cols, g_cols, renormalize_window)
    if crossover == "published":
        c = _crossover(low, high, g > 0)
        crossing = None if c is None else float(c)
    return FlipResult(True, (s, d), float(g), None if crossing is None else s + crossing, s + _peak(low),
                      s + _peak(high), float(fl[0]), float(fh[0]), float(fl[2]), float(fh[2]), **band)


def vflip(power_cf, freqs, spacing_um: float = 100.0, min_window_um: Optional[float] = None, **options) -> FlipResult:
    """FLIP over the published band-edge grid (module docstring): the largest |G|."""
    best = None
    lows, gammas = VFLIP_LOW_EDGES_HZ, VFLIP_GAMMA_EDGES_HZ
    for i, a_lo in enumerate(lows[:-1]):
        for a_hi in lows[i + 1:]:
            for j, g_lo in enumerate(gammas[:-1]):
                if g_lo < a_hi:
                    continue
                for g_hi in gammas[j + 1:]:
                    r = flip(power_cf, freqs, spacing_um, min_window_um, (float(a_lo), float(a_hi)),
                             (float(g_lo), float(g_hi)), **options)
                    if r.found and (best is None or abs(r.goodness) > abs(best.goodness)):
                        best = r
    return best if best is not None else flip(power_cf, freqs, spacing_um, min_window_um, **options)
